/* cli.h - the command line of the shared-ring tools (ringcat, ringstat): one option table per
 * tool, parsed with getopt_long, and the --help generated from it */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One option: a row of a tool's table. */
typedef struct tl_opt {
    const char *name;                      /* long name */
    int shortc;                            /* short letter, or 0 */
    const char *arg;                       /* the value's name in the help, NULL for a flag */
    int (*parse)(void *ctx, const char *); /* @return 0, or -1 for a bad value; NULL for --help
                                              and --version */
    const char *hint;                      /* what a good value looks like, or NULL */
    const char *help;                      /* help text; '\n' starts a continuation line */
} tl_opt;

/* A tool's command line. */
typedef struct tl_cli {
    const char *prog;  /* "ringcat": the prefix of every message */
    const char *usage; /* "ringcat [OPTIONS] NAME" */
    const char *intro; /* text before the options */
    const char *outro; /* text after them (exit status, ...) */
    const tl_opt *opts;
    size_t nopts;
} tl_cli;

enum {
    TL_CLI_GO = 0,    /* parsed: run */
    TL_CLI_DONE = -1, /* --help or --version printed: exit 0 */
    TL_CLI_USAGE = 1, /* a usage error printed on stderr: exit 1 */
};

/* tl_cli_parse() : parses argv with cli's table into ctx (each row's parse gets it); the
 * operands are argv[*first..argc).
 * @return TL_CLI_GO with *first set, TL_CLI_DONE (help or version on stdout) or TL_CLI_USAGE
 *         (the message, naming the option, on stderr). */
int tl_cli_parse(const tl_cli *cli, int argc, char **argv, void *ctx, int *first);

/* tl_cli_usage() : prints "<prog>: <what> '<value>'" (or without the value) and the hint to try
 * --help on stderr, as replay words usage errors. @return TL_CLI_USAGE. */
int tl_cli_usage(const tl_cli *cli, const char *what, const char *value);

/* tl_cli_help() : the --help text of cli on f. */
void tl_cli_help(const tl_cli *cli, FILE *f);

/* tl_parse_seconds() : a duration in seconds, a decimal from lo to hi (lo may be 0).
 * @return 0 with *ns set to nanoseconds, or -1. */
int tl_parse_seconds(const char *a, double lo, double hi, uint64_t *ns);

#endif /* TL_CLI_H */
