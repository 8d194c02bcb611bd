/* main.c - ringcat: read a shared ring (ring_shm.h) from another process, print or count its
 * messages
 *
 * Design: the option table below is the whole command line (tools/common/cli.c generates
 * --help from it); cat.c reads and reports; tools/common/attach.c waits for the ring to appear.
 * Exit codes (RC__EXIT_*), as --help states them: 0 end of stream (the writer closed the ring);
 * 1 usage error, no ring NAME within --wait, or the ring cannot be attached or registered;
 * 2 the ring holds impossible data, or stdout failed; 3 the writer died without closing the ring
 * (after what it committed was read); 130 interrupted (SIGINT, SIGTERM: the report is printed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/ringalloc.h"
#include "attach.h"
#include "cat.h"
#include "cli.h"
#include "util.h"

#define RC__EXIT_OK        0
#define RC__EXIT_ATTACH    1
#define RC__EXIT_ERROR     2
#define RC__EXIT_DEAD      3
#define RC__EXIT_INTERRUPT 130

static int rc__from(void *ctx, const char *a)
{
    rc_opts *o = ctx;
    if (strcmp(a, "oldest") == 0)
        o->from = RA_START_OLDEST;
    else if (strcmp(a, "newest") == 0)
        o->from = RA_START_NEWEST;
    else if (strcmp(a, "next") == 0)
        o->from = RA_START_NEXT;
    else
        return -1;
    return 0;
}
static int rc__register(void *ctx, const char *a)
{
    (void)a;
    ((rc_opts *)ctx)->reg = true;
    return 0;
}
static int rc__wait(void *ctx, const char *a)
{
    return tl_parse_seconds(a, 0, 86400, &((rc_opts *)ctx)->wait_ns);
}
static int rc__count(void *ctx, const char *a)
{
    (void)a;
    ((rc_opts *)ctx)->output = RC_COUNT;
    return 0;
}
static int rc__json(void *ctx, const char *a)
{
    (void)a;
    ((rc_opts *)ctx)->output = RC_JSON;
    return 0;
}

static const tl_opt rc__opts[] = {
    {"from", 0, "WHERE", rc__from, "oldest, newest, next",
     "oldest (default) | newest | next: start at the oldest message still\n"
     "in the ring, at the last one committed, or with the next one"},
    {"register", 0, NULL, rc__register, NULL,
     "take a slot in the ring's registry of readers, so that ringstat\n"
     "shows this reader (its position, lag, read, lost, laps)"},
    {"wait", 0, "S", rc__wait, "seconds, 0..86400",
     "wait up to S seconds (decimals allowed, default 2, 0: one try) for\n"
     "NAME to appear and its writer to finish creating it"},
    {"count", 0, NULL, rc__count, NULL, "print no messages, only the summary (on stdout)"},
    {"json", 0, NULL, rc__json, NULL,
     "print no messages: stdout is one JSON object {\"read\", \"lost\",\n"
     "\"laps\", \"closed\", \"writer_dead\", \"latency_ns\": {\"p50\", \"p99\",\n"
     "\"p999\", \"max\"}}"},
    {"help", 'h', NULL, NULL, NULL, "this help"},
    {"version", 'V', NULL, NULL, NULL, "the version"},
};

static const tl_cli rc__cli = {
    .prog = "ringcat",
    .usage = "ringcat [OPTIONS] NAME",
    .intro =
        "Reads the shared ring NAME (/dev/shm/NAME, or a path with a '/'; written by e.g.\n"
        "`replay --shm NAME`) from this process until its writer closes it, and prints each\n"
        "message as a line \"D 0 SEQ TS_NS TYPE LEN HEX\" (as `replay info --dump`), followed by\n"
        "\"itch T HH:MM:SS.NNNNNNNNN\" for a well-formed ITCH 5.0 message. Waits without spinning\n"
        "when the ring is idle. Latency is the CLOCK_REALTIME time of delivery minus the record's\n"
        "ts_ns (when the ring declares that clock). SIGINT and SIGTERM end it with the summary.\n",
    .outro = "The summary goes to stderr (stdout with --count).\n"
             "\n"
             "Exit status: 0 end of stream (the writer closed the ring); 1 usage error, no ring\n"
             "NAME within --wait, or it cannot be attached or registered; 2 the ring holds\n"
             "impossible data, or stdout failed; 3 the writer died without closing the ring\n"
             "(reported after everything it committed was read); 130 interrupted (summary\n"
             "printed). See docs/tools.md.\n",
    .opts = rc__opts,
    .nopts = sizeof(rc__opts) / sizeof(rc__opts[0]),
};

/* Attaches to o->name, waiting as --wait says. @return the ring, or NULL (message printed). */
static ra_ring *rc__attach(const rc_opts *o)
{
    ra_ring *r = NULL;
    int st = tl_attach(&r, o->name, o->wait_ns, true);
    if (st == RA_OK) return r;
    char path[512];
    tl_ring_path(path, sizeof(path), o->name);
    if (st == RA_ENOENT || st == RA_ENOTREADY)
        fprintf(stderr, "ringcat: %s: %s after waiting %.3g s (%s)\n", o->name,
                st == RA_ENOENT ? "no such ring" : "the ring is still not ready",
                (double)o->wait_ns / 1e9, path);
    else
        fprintf(stderr, "ringcat: %s: cannot attach to %s: %s\n", o->name, path, ra_strerror(st));
    return NULL;
}

/* The exit code of a finished read, with its messages. */
static int rc__finish(const rc_opts *o, const rc_result *res, int rc)
{
    if (rc != 0 && (res->error == RA_EFULL || res->error == RA_EINVAL)) {
        fprintf(stderr, "ringcat: %s: cannot %s: %s\n", o->name,
                o->reg ? "register or start the reader" : "start the reader",
                ra_strerror(res->error));
        return RC__EXIT_ATTACH;
    }
    if (o->output == RC_JSON && rc_report_json(stdout, res) != 0) {
        fprintf(stderr, "ringcat: cannot write the JSON report\n");
        return RC__EXIT_ERROR;
    }
    rc_report_human(o->output == RC_COUNT ? stdout : stderr, o, res);
    if (rc != 0) {
        fprintf(stderr, "ringcat: %s: stopped by an error: %s\n", o->name,
                res->error == RA_EIO ? "cannot write stdout" : ra_strerror(res->error));
        return RC__EXIT_ERROR;
    }
    if (res->writer_dead) {
        fprintf(stderr, "ringcat: %s: the writer (pid %" PRId32 ") died without closing the ring\n",
                o->name, res->writer_pid);
        return RC__EXIT_DEAD;
    }
    return res->interrupted ? RC__EXIT_INTERRUPT : RC__EXIT_OK;
}

int main(int argc, char **argv)
{
    rc_opts o = {.from = RA_START_OLDEST, .wait_ns = 2000000000u, .output = RC_PRINT};
    int first = 0;
    int rc = tl_cli_parse(&rc__cli, argc, argv, &o, &first);
    if (rc != TL_CLI_GO) return rc == TL_CLI_DONE ? RC__EXIT_OK : RC__EXIT_ATTACH;
    if (argc - first != 1)
        return tl_cli_usage(&rc__cli, argc - first ? "one ring NAME expected, not" : "no NAME",
                            argc - first ? argv[first + 1] : NULL);
    o.name = argv[first];
    rp_stop_install();
    ra_ring *r = rc__attach(&o);
    if (!r) return RC__EXIT_ATTACH;
    rc_result *res = malloc(sizeof(*res));
    if (!res) {
        fprintf(stderr, "ringcat: out of memory\n");
        ra_ring_destroy(r);
        return RC__EXIT_ERROR;
    }
    rc = rc__finish(&o, res, rc_cat_run(r, &o, res));
    free(res);
    ra_ring_destroy(r);
    return rc;
}
