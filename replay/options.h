/* options.h - replay's one option table: parsing and --help for every subcommand */
#ifndef RP_OPTIONS_H
#define RP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dump.h"
#include "gen.h"
#include "run.h"

/* The subcommands, as bits: an option lists the ones that take it. */
typedef enum rp_cmd {
    RP_CMD_REPLAY = 1u << 0,
    RP_CMD_GEN = 1u << 1,
    RP_CMD_INFO = 1u << 2,
    RP_CMD_CONVERT = 1u << 3,
} rp_cmd;

/* Everything the command line can say, for any subcommand (each uses its part). */
typedef struct rp_opts {
    rp_cmd cmd;
    const char *prog; /* "replay", "replay gen", ...: the prefix of every message */
    /* inputs (replay, info, convert) */
    rp_source_opts src;
    bool strict;
    char **files; /* the operands */
    int nfiles;
    /* output */
    bool json, quiet;
    const char *output;    /* -o (gen, convert) */
    bool force;            /* -f: outputs may replace existing files (never an input) */
    const char *stats_csv; /* --stats-csv FILE (replay) */
    /* replay */
    rp_run_config run;
    bool speed_set, pps_set;
    /* gen */
    rp_gen_opts gen;
    /* info */
    bool dump;
    rp_dump_opts dumpo; /* --dump-format, --type, --symbol, --ts, --px, --limit */
    /* convert */
    bool zstd, level_set;
    int level, workers;
    uint64_t frame_size;
} rp_opts;

enum {
    RP_OPTS_GO = 0,    /* parsed and checked: run the subcommand */
    RP_OPTS_DONE = -1, /* --help or --version was printed: exit 0 */
    RP_OPTS_USAGE = 1, /* a usage error was printed on stderr: exit 1 */
};

/* rp_options_parse() : parses argv (argv[0] is the program or subcommand name) for cmd into *o,
 * starting from the subcommand's defaults, and checks every value and combination (including
 * that a BPF filter compiles and that the input list is usable), so that nothing runs on a bad
 * command line.
 * @return RP_OPTS_GO, RP_OPTS_DONE (help or version printed on stdout) or RP_OPTS_USAGE (the
 *         message, naming the option, printed on stderr). */
int rp_options_parse(rp_cmd cmd, int argc, char **argv, rp_opts *o);

/* rp_options_help() : the --help text of cmd, generated from the option table: only the
 * options cmd takes. */
void rp_options_help(rp_cmd cmd, FILE *f);

/* rp_usage_error() : prints "<prog>: <what> '<value>'" (or without the value) and the hint to
 * try --help on stderr. @return RP_OPTS_USAGE. */
int rp_usage_error(const char *prog, const char *what, const char *value);

#endif /* RP_OPTIONS_H */
