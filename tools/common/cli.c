/* cli.c - the command line of the shared-ring tools (ringcat, ringstat): one option table per
 * tool, parsed with getopt_long, and the --help generated from it
 *
 * Design: as replay's options.c, what a tool accepts and what its --help says come from the same
 * rows, so they cannot drift apart. The help rows and usage messages are replay's own
 * (rp_help_row, rp_usage_error), so every tool of the project words them alike.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/status.h"
#include "options.h"
#include "util.h"

void tl_cli_help(const tl_cli *cli, FILE *f)
{
    fprintf(f, "usage: %s\n\n%s\nOptions:\n", cli->usage, cli->intro);
    for (size_t i = 0; i < cli->nopts; i++) {
        const tl_opt *p = &cli->opts[i];
        rp_help_row(f, p->shortc, p->name, p->arg, p->help);
    }
    fprintf(f, "\n%s", cli->outro);
}

int tl_cli_usage(const tl_cli *cli, const char *what, const char *value)
{
    return rp_usage_error(cli->prog, what, value);
}

int tl_cli_parse(const tl_cli *cli, int argc, char **argv, void *ctx, int *first)
{
    rp_getopt g = {.n = 0};
    for (size_t i = 0; i < cli->nopts; i++)
        rp_getopt_add(&g, cli->opts[i].name, cli->opts[i].shortc, cli->opts[i].arg != NULL);
    int i;
    while ((i = rp_getopt_next(&g, cli->prog, argc, argv)) >= 0) {
        const tl_opt *p = &cli->opts[i];
        if (p->shortc == 'h') {
            tl_cli_help(cli, stdout);
            return TL_CLI_DONE;
        }
        if (p->shortc == 'V') {
            printf("%s (ringalloc) %s\n", cli->prog, ra_version_string());
            return TL_CLI_DONE;
        }
        if (p->parse(ctx, optarg) != 0)
            return rp_usage_bad_value(cli->prog, p->name, p->hint, optarg);
    }
    if (i == RP_GETOPT_USAGE) return TL_CLI_USAGE;
    *first = optind;
    return TL_CLI_GO;
}

int tl_parse_seconds(const char *a, double lo, double hi, uint64_t *ns)
{
    double d = 0;
    bool zero = strcmp(a, "0") == 0;
    if (!zero && rp_parse_positive(a, &d) != 0) return -1;
    if (d < lo || d > hi || !isfinite(d)) return -1;
    *ns = (uint64_t)llround(d * 1e9);
    return 0;
}
