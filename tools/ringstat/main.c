/* main.c - ringstat: every shared ring on the machine (or the named ones), its writer and its
 * registered readers, once or refreshed
 *
 * Design: the option table below is the whole command line (tools/common/cli.c generates
 * --help from it); sample.c finds, attaches and samples the rings; output.c formats them. Each
 * refresh samples every ring; rates need two samples, so the first output comes one --interval
 * after the start. Exit codes (RS__EXIT_*): 0 done; 1 usage error, or a NAME that is not a ring;
 * 2 an output could not be written (stdout, the --prometheus file), or /dev/shm cannot be read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/ringalloc.h"
#include "cli.h"
#include "outfile.h"
#include "output.h"
#include "sample.h"
#include "util.h"

#define RS__EXIT_OK     0
#define RS__EXIT_USAGE  1
#define RS__EXIT_OUTPUT 2

typedef struct rs_opts {
    uint64_t interval_ns;
    uint64_t count; /* refreshes, 0: until interrupted */
    bool once, json, csv, quiet;
    const char *prometheus;
} rs_opts;

static int rs__interval(void *ctx, const char *a)
{
    uint64_t ns;
    if (tl_parse_seconds(a, 0.01, 86400, &ns) != 0) return -1;
    ((rs_opts *)ctx)->interval_ns = ns;
    return 0;
}
static int rs__count(void *ctx, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v == 0) return -1;
    ((rs_opts *)ctx)->count = v;
    return 0;
}
static int rs__once(void *ctx, const char *a)
{
    (void)a;
    ((rs_opts *)ctx)->once = true;
    return 0;
}
static int rs__json(void *ctx, const char *a)
{
    (void)a;
    ((rs_opts *)ctx)->json = true;
    return 0;
}
static int rs__csv(void *ctx, const char *a)
{
    (void)a;
    ((rs_opts *)ctx)->csv = true;
    return 0;
}
static int rs__quiet(void *ctx, const char *a)
{
    (void)a;
    ((rs_opts *)ctx)->quiet = true;
    return 0;
}
static int rs__prometheus(void *ctx, const char *a)
{
    if (!*a || strcmp(a, "-") == 0) return -1;
    ((rs_opts *)ctx)->prometheus = a;
    return 0;
}

static const tl_opt rs__opts[] = {
    {"interval", 0, "S", rs__interval, "seconds, 0.01..86400",
     "seconds between refreshes, and between the two samples that give\n"
     "the rates (decimals allowed; default 1)"},
    {"once", 0, NULL, rs__once, NULL, "one refresh, then exit (after one --interval)"},
    {"count", 0, "N", rs__count, ">= 1", "stop after N refreshes"},
    {"json", 0, NULL, rs__json, NULL,
     "one JSON object {\"rings\": [...]} on stdout, then exit (as --once)"},
    {"csv", 0, NULL, rs__csv, NULL,
     "CSV on stdout: one header line, then one row per ring per refresh"},
    {"prometheus", 0, "FILE", rs__prometheus, "a file name, not -",
     "write node_exporter textfile metrics to FILE at every refresh\n"
     "(through a temporary file renamed over it)"},
    {"quiet", 'q', NULL, rs__quiet, NULL, "print nothing on stdout (with --prometheus)"},
    {"help", 'h', NULL, NULL, NULL, "this help"},
    {"version", 'V', NULL, NULL, NULL, "the version"},
};

static const tl_cli rs__cli = {
    .prog = "ringstat",
    .usage = "ringstat [OPTIONS] [NAME...]",
    .intro =
        "Shows every shared ring on the machine (the files of /dev/shm that are rings), or the\n"
        "rings NAME... (a name in /dev/shm, or a path with a '/'): messages published, msgs/s and\n"
        "MB/s (from two samples), overwritten, bytes used, capacity; the writer's pid, whether it\n"
        "is alive and the age of its heartbeat; each registered reader (ringcat --register): pid,\n"
        "position, lag in messages, read, lost, laps. The lag in bytes is not shown: a reader's\n"
        "registry slot holds its sequence number, not its byte position. Slots of dead readers\n"
        "are reclaimed when the ring lets ringstat write its registry. On a terminal the view is\n"
        "refreshed every --interval until SIGINT; otherwise it is printed once (as --once),\n"
        "except with --csv or --prometheus, which go on until SIGINT or --count.\n",
    .outro = "Exit status: 0 done; 1 usage error, or a NAME that is not a ring (the others are\n"
             "still shown); 2 stdout or the --prometheus file could not be written, or /dev/shm\n"
             "cannot be read. See docs/tools.md for the JSON keys, CSV columns and metrics.\n",
    .opts = rs__opts,
    .nopts = sizeof(rs__opts) / sizeof(rs__opts[0]),
};

/* Sleeps ns, or less when a stop is requested (SIGINT, SIGTERM). */
static void rs__nap(uint64_t ns)
{
    const uint64_t slice = 50000000u;
    for (uint64_t slept = 0; slept < ns && !rp_stop_requested(); slept += slice)
        rp_sleep_ns(ns - slept < slice ? ns - slept : slice);
}

/* Writes the --prometheus file. @return 0, or -1 (message printed). */
static int rs__prom_file(const char *path, const rs_set *set)
{
    rp_outfile out = {0};
    char err[1024];
    if (rp_outfile_open(&out, path, true, err, sizeof(err)) == 0) {
        rs_print_prometheus(out.f, set);
        if (rp_outfile_commit(&out, err, sizeof(err)) == 0) return 0;
    }
    rp_outfile_abort(&out);
    fprintf(stderr, "ringstat: %s\n", err);
    return -1;
}

/* Prints one refresh. @return 0, or -1 when an output failed (message printed). */
static int rs__show(const rs_opts *o, const rs_set *set, bool tty, bool first)
{
    if (o->prometheus && rs__prom_file(o->prometheus, set) != 0) return -1;
    if (o->quiet) return 0;
    if (o->json) {
        if (rs_print_json(stdout, set) == 0) return 0;
        fprintf(stderr, "ringstat: cannot write the JSON report\n");
        return -1;
    }
    if (o->csv) {
        if (first) rs_print_csv_header(stdout);
        rs_print_csv(stdout, set, rp_realtime_ns());
    } else {
        if (tty && !o->once)
            fputs("\033[H\033[2J", stdout);
        else if (!first)
            fputc('\n', stdout);
        rs_print_human(stdout, set);
    }
    if (fflush(stdout) == 0) return 0;
    fprintf(stderr, "ringstat: cannot write stdout\n");
    return -1;
}

/* The refresh loop. @return the exit code. */
static int rs__run(const rs_opts *o, const char *const *names, size_t nnames)
{
    bool tty = isatty(STDOUT_FILENO);
    bool repeat = !o->once && !o->json && (tty || o->csv || o->prometheus);
    uint64_t limit = repeat ? o->count : 1;
    rs_set set = {0};
    int code = RS__EXIT_OK, missing = 0;
    for (uint64_t shown = 0; !limit || shown < limit; shown++) {
        missing = rs_set_update(&set, names, nnames, stderr);
        if (missing < 0 || rs_set_sample(&set, stderr) != 0) {
            code = RS__EXIT_OUTPUT;
            break;
        }
        rs__nap(o->interval_ns); /* the second sample gives the rates */
        if (rp_stop_requested()) break;
        if (rs_set_update(&set, names, nnames, stderr) < 0 || rs_set_sample(&set, stderr) != 0 ||
            rs__show(o, &set, tty, shown == 0) != 0) {
            code = RS__EXIT_OUTPUT;
            break;
        }
        if (rp_stop_requested()) break;
    }
    rs_set_free(&set);
    if (code == RS__EXIT_OK && missing > 0) code = RS__EXIT_USAGE;
    return code;
}

int main(int argc, char **argv)
{
    rs_opts o = {.interval_ns = 1000000000u};
    int first = 0;
    int rc = tl_cli_parse(&rs__cli, argc, argv, &o, &first);
    if (rc != TL_CLI_GO) return rc == TL_CLI_DONE ? RS__EXIT_OK : RS__EXIT_USAGE;
    if (o.json && o.csv) return tl_cli_usage(&rs__cli, "--json and --csv cannot be combined", NULL);
    rp_stop_install();
    return rs__run(&o, (const char *const *)argv + first, (size_t)(argc - first));
}
