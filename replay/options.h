/* options.h - replay's one option table: parsing and --help for every subcommand */
#ifndef RP_OPTIONS_H
#define RP_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dump.h"
#include "gen.h"
#include "run.h"
#include "send.h"

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
    bool shm_set;     /* --shm-mode, --shm-replace or --unlink was given */
    bool readers_set; /* --readers was given */
    /* --book */
    bool book;
    rp_book_opts booko; /* --book-orders, --book-on-empty, --book-alloc, --book-depth, --symbol */
    const char *bbo;    /* --bbo FILE */
    int bbo_format;    /* --bbo-format: 0 by FILE's extension (.json/.jsonl: JSON), 1 csv, 2 json */
    bool book_opt_set; /* a --book-* option, --bbo, --bbo-format or --symbol was given */
    /* replay --send (options_net.c) */
    rp_send_opts send;
    bool mbps_set, net_set; /* --mbps; an option that needs --send */
    /* gen */
    rp_gen_opts gen;
    /* info */
    bool dump;
    rp_dump_opts dumpo; /* --dump-format, --type, --symbol, --ts, --px, --limit */
    /* convert */
    bool to_itch; /* --to itch */
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

/* The parsers of the --book rows of the table (options_book.c): each stores its value in *o and
 * notes that a book option was given. @return 0, or -1 for a bad value. */
int rp_opt_book(rp_opts *o, const char *a);
int rp_opt_book_orders(rp_opts *o, const char *a);
int rp_opt_book_depth(rp_opts *o, const char *a);
int rp_opt_book_on_empty(rp_opts *o, const char *a);
int rp_opt_book_alloc(rp_opts *o, const char *a);
int rp_opt_bbo(rp_opts *o, const char *a);
int rp_opt_bbo_format(rp_opts *o, const char *a);
int rp_opt_book_symbol(rp_opts *o, const char *a);

#define RP_HELP_COL 26 /* where the help text of an option starts */

/* rp_help_row() : one option's lines of a --help: "  -s, --name ARG" and its help text (each
 * '\n' starts a continuation line) from column RP_HELP_COL; shortc 0 for none, arg NULL for a
 * flag. Also used by the ringcat and ringstat tools. */
void rp_help_row(FILE *f, int shortc, const char *name, const char *arg, const char *help);

/* rp_usage_error() : prints "<prog>: <what> '<value>'" (or without the value) and the hint to
 * try --help on stderr. @return RP_OPTS_USAGE. */
int rp_usage_error(const char *prog, const char *what, const char *value);

/* ---- a getopt_long driver over an option table (replay's, and the ringcat and ringstat tools')
 */

#define RP_GETOPT_MAX 128

/* The getopt_long tables built from the rows of a command's option table, one rp_getopt_add()
 * per row; zero-initialise it first. */
typedef struct rp_getopt {
    struct option longopts[RP_GETOPT_MAX + 1];
    char shorts[2 * RP_GETOPT_MAX + 2];
    int shortc[RP_GETOPT_MAX];
    size_t n, nshorts;
    bool started;
} rp_getopt;

enum { RP_GETOPT_END = -1, RP_GETOPT_USAGE = -2 };

/* rp_getopt_add() : the next row: its long name, short letter (0 for none), whether it takes a
 * value. Rows beyond RP_GETOPT_MAX are ignored. */
void rp_getopt_add(rp_getopt *g, const char *name, int shortc, bool has_arg);

/* rp_getopt_next() : the next option of argv (getopt_long; the value is in optarg, the operands
 * start at optind at the end).
 * @return the index of its row (in the order added), RP_GETOPT_END, or RP_GETOPT_USAGE when
 *         an option is unknown or misses its value (the message, naming it, printed on stderr as
 *         by rp_usage_error()). */
int rp_getopt_next(rp_getopt *g, const char *prog, int argc, char **argv);

/* rp_usage_bad_value() : the usage error of a bad value: "<prog>: bad --NAME (HINT) 'VALUE'"
 * (without the hint when NULL). @return RP_OPTS_USAGE. */
int rp_usage_bad_value(const char *prog, const char *name, const char *hint, const char *value);

/* ---- the shared-ring options of replay (options_shm.c): value parsers of the table's rows */

int rp_opt_shm(rp_opts *o, const char *a);         /* --shm NAME */
int rp_opt_shm_dir(rp_opts *o, const char *a);     /* --shm-dir DIR */
int rp_opt_shm_mode(rp_opts *o, const char *a);    /* --shm-mode OCTAL */
int rp_opt_shm_replace(rp_opts *o, const char *a); /* --shm-replace */
int rp_opt_unlink(rp_opts *o, const char *a);      /* --unlink */

/* ---- the network options of replay (options_net.c): value parsers of the table's rows, and
 * the checks of their combinations */

int rp_opt_send(rp_opts *o, const char *a);         /* --send udp://HOST:PORT (repeatable) */
int rp_opt_ttl(rp_opts *o, const char *a);          /* --ttl 0..255 */
int rp_opt_iface(rp_opts *o, const char *a);        /* --iface NAME|ADDR */
int rp_opt_mcast_loop(rp_opts *o, const char *a);   /* --mcast-loop */
int rp_opt_port_map(rp_opts *o, const char *a);     /* --port-map ORIG:NEW (repeatable) */
int rp_opt_packet_bytes(rp_opts *o, const char *a); /* --packet-bytes N */
int rp_opt_session(rp_opts *o, const char *a);      /* --session NAME (1..10 characters) */
int rp_opt_mbps(rp_opts *o, const char *a);         /* --mbps N */
int rp_opt_duration(rp_opts *o, const char *a);     /* --duration S */
int rp_opt_drop(rp_opts *o, const char *a);         /* --drop P (0..1) */
int rp_opt_drop_seed(rp_opts *o, const char *a);    /* --seed S */
int rp_opt_drop_list(rp_opts *o, const char *a);    /* --drop-list FILE */

/* rp_options_check_net() : the combinations replay refuses among the network options (they need
 * --send; --mbps excludes --speed and --pps; --drop-list needs --drop), and sets the pacing mode
 * of --mbps. @return NULL, or the message of the usage error. */
const char *rp_options_check_net(rp_opts *o);

#endif /* RP_OPTIONS_H */
