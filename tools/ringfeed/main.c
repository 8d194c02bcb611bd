/* main.c - ringfeed: a feed handler that receives UDP market data (unicast, multicast, A/B
 * lines) into a shared or in-process tick ring
 *
 * Design: the option table below is the whole command line (tools/common/cli.c generates
 * --help from it); handler.c receives, frames, arbitrates and writes; summary.c reports. Exit
 * codes (RF__EXIT_*): 0 stopped by a signal or --idle-exit; 1 usage error; 2 a socket or the ring
 * could not be set up, or a receive failed; 3 the report could not be written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "handler.h"
#include "util.h"

#define RF__EXIT_OK     0
#define RF__EXIT_USAGE  1
#define RF__EXIT_SETUP  2
#define RF__EXIT_OUTPUT 3

#define RF__WINDOW_NS  5000000u /* --arb-window default: 5 ms */
#define RF__MAX_PACKET 65507u   /* the largest UDP payload over IPv4 */

static int rf__shm(void *ctx, const char *a)
{
    if (!*a || strchr(a, '/') || strlen(a) > 200) return -1;
    ((rf_opts *)ctx)->shm = a;
    return 0;
}
static int rf__shm_dir(void *ctx, const char *a)
{
    if (!*a) return -1;
    ((rf_opts *)ctx)->shm_dir = a;
    return 0;
}
static int rf__shm_replace(void *ctx, const char *a)
{
    (void)a;
    ((rf_opts *)ctx)->shm_replace = true;
    return 0;
}
static int rf__unlink(void *ctx, const char *a)
{
    (void)a;
    ((rf_opts *)ctx)->shm_unlink = true;
    return 0;
}
static int rf__ring_size(void *ctx, const char *a)
{
    uint64_t v;
    if (rp_parse_size(a, &v) != 0 || v < 4096 || (v & (v - 1)) != 0 || v > (1ull << 40)) return -1;
    ((rf_opts *)ctx)->capacity = v;
    return 0;
}
static int rf__framing(void *ctx, const char *a)
{
    return rp_framing_parse(a, &((rf_opts *)ctx)->framing);
}
static int rf__write_opt(void *ctx, const char *a)
{
    rf_opts *o = ctx;
    if (strcmp(a, "packets") == 0)
        o->write = RF_WRITE_PACKETS;
    else if (strcmp(a, "messages") == 0)
        o->write = RF_WRITE_MESSAGES;
    else
        return -1;
    return 0;
}
static int rf__arbitrate(void *ctx, const char *a)
{
    (void)a;
    ((rf_opts *)ctx)->arbitrate = true;
    return 0;
}
static int rf__arb_window(void *ctx, const char *a)
{
    return tl_parse_seconds(a, 0, 60, &((rf_opts *)ctx)->arb_window_ns);
}
static int rf__readers(void *ctx, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v > 64) return -1;
    ((rf_opts *)ctx)->readers = (unsigned)v;
    return 0;
}
static int rf__idle_exit(void *ctx, const char *a)
{
    return tl_parse_seconds(a, 0.001, 86400, &((rf_opts *)ctx)->idle_exit_ns);
}
static int rf__iface(void *ctx, const char *a)
{
    if (!*a) return -1;
    ((rf_opts *)ctx)->sock.iface = a;
    return 0;
}
static int rf__rcvbuf(void *ctx, const char *a)
{
    uint64_t v;
    if (rp_parse_size(a, &v) != 0 || v == 0 || v > (1u << 30)) return -1;
    ((rf_opts *)ctx)->sock.rcvbuf = (int)v;
    return 0;
}
static int rf__max_packet(void *ctx, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v < 64 || v > 65535) return -1;
    ((rf_opts *)ctx)->max_packet = (uint32_t)v;
    return 0;
}
static int rf__batch(void *ctx, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v == 0 || v > RF_RX_MAX) return -1;
    ((rf_opts *)ctx)->batch = (unsigned)v;
    return 0;
}
static int rf__json(void *ctx, const char *a)
{
    (void)a;
    ((rf_opts *)ctx)->json = true;
    return 0;
}
static int rf__quiet(void *ctx, const char *a)
{
    (void)a;
    ((rf_opts *)ctx)->quiet = true;
    return 0;
}

static const tl_opt rf__opts[] = {
    {"shm", 0, "NAME", rf__shm, "a file name of 1..200 bytes without '/'",
     "write into the shared ring /dev/shm/NAME, which other processes read\n"
     "(ringcat, ringstat, ra_ring_attach); without it the ring is in-process\n"
     "and --readers threads read it"},
    {"shm-dir", 0, "DIR", rf__shm_dir, "a directory",
     "put the shared ring's file in DIR instead of /dev/shm: a hugetlbfs\n"
     "mount puts the ring on huge pages (readers then attach by its path,\n"
     "DIR/NAME)"},
    {"shm-replace", 0, NULL, rf__shm_replace, NULL, "replace an existing ring of that name"},
    {"unlink", 0, NULL, rf__unlink, NULL,
     "remove the ring's name at exit (by default the closed ring stays, so\n"
     "late readers can drain it)"},
    {"ring-size", 0, "BYTES", rf__ring_size, "a power of two >= 4096, K/M/G suffixes",
     "ring capacity (default 64M)"},
    {"readers", 'r', "N", rf__readers, "0..64",
     "in-process reader threads that read and check every record (default\n"
     "1 without --shm, 0 with it)"},
    {"framing", 0, "F", rf__framing, "auto, moldudp64, iextp or udp",
     "UDP payload framing (default auto: per endpoint, from its first payload)"},
    {"write", 'w', "WHAT", rf__write_opt, "packets or messages",
     "what a ring record holds: messages (default: one record per message,\n"
     "type = its type byte) or packets (one record per UDP payload, received\n"
     "straight into the ring)"},
    {"arbitrate", 'a', NULL, rf__arbitrate, NULL,
     "A/B arbitration: the endpoints carry the same feed; first arrival wins,\n"
     "duplicates are dropped, a gap is what every line missed"},
    {"arb-window", 0, "S", rf__arb_window, "seconds, 0..60",
     "with --arbitrate: declare a hole a gap after S seconds even when a\n"
     "line has not moved past it (default 0.005)"},
    {"iface", 0, "NAME", rf__iface, "an interface name", "interface for multicast joins"},
    {"rcvbuf", 0, "BYTES", rf__rcvbuf, "1..1G, K/M/G suffixes",
     "socket receive buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF; a\n"
     "warning when the kernel gives less)"},
    {"max-packet", 0, "BYTES", rf__max_packet, "64..65535",
     "largest datagram taken whole (default 65507); longer ones are cut and\n"
     "counted as truncated"},
    {"batch", 0, "N", rf__batch, "1..64", "datagrams per recvmmsg call (default 32)"},
    {"idle-exit", 0, "S", rf__idle_exit, "seconds, 0.001..86400",
     "stop after S seconds without a packet (counted from the first packet)"},
    {"json", 0, NULL, rf__json, NULL, "print the final report as JSON on stdout"},
    {"quiet", 'q', NULL, rf__quiet, NULL, "no report and no warnings (errors still print)"},
    {"help", 'h', NULL, NULL, NULL, "this help"},
    {"version", 'V', NULL, NULL, NULL, "the version"},
};

static const tl_cli rf__cli = {
    .prog = "ringfeed",
    .usage = "ringfeed [OPTIONS] udp://ADDR:PORT...",
    .intro =
        "Receives UDP market data into a tick ring: each endpoint is udp://ADDR:PORT (unicast:\n"
        "a local address or 0.0.0.0; multicast: a group, joined on --iface) or\n"
        "udp://SRC@GROUP:PORT (source-specific multicast), IPv4. Datagrams are taken with\n"
        "recvmmsg; their kernel receive times (CLOCK_REALTIME) become the records' timestamps.\n"
        "Framing (MoldUDP64, IEX-TP, plain UDP) and the counts of messages, gaps, missing and\n"
        "backward are replay's; the first packet of a stream is its start. Runs until SIGINT,\n"
        "SIGTERM or --idle-exit, then closes the ring (readers get end of stream) and prints the\n"
        "report (replay's input, feed, ring and readers, plus network).\n",
    .outro = "Exit status: 0 stopped by a signal or --idle-exit; 1 usage error; 2 an endpoint or\n"
             "the ring could not be set up, or receiving failed; 3 the report could not be\n"
             "written. See docs/ringfeed.md for the counts and the topologies.\n",
    .opts = rf__opts,
    .nopts = sizeof(rf__opts) / sizeof(rf__opts[0]),
};

/* The operands: one endpoint each. @return 0, or the usage error's exit code. */
static int rf__endpoints(rf_opts *o, int argc, char **argv, int first)
{
    if (first >= argc) return tl_cli_usage(&rf__cli, "no endpoint (udp://ADDR:PORT)", NULL);
    for (int i = first; i < argc; i++) {
        char why[128], what[160];
        if (o->nep == RF_LINES_MAX) return tl_cli_usage(&rf__cli, "too many endpoints", argv[i]);
        if (rf_endpoint_parse(argv[i], &o->ep[o->nep], why, sizeof(why)) != 0) {
            snprintf(what, sizeof(what), "bad endpoint (%s)", why);
            return tl_cli_usage(&rf__cli, what, argv[i]);
        }
        o->nep++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static rf_opts o;
    static rf_result res;
    o.arb_window_ns = RF__WINDOW_NS;
    o.max_packet = RF__MAX_PACKET;
    o.batch = 32;
    o.readers = UINT32_MAX;
    int first = 0;
    int rc = tl_cli_parse(&rf__cli, argc, argv, &o, &first);
    if (rc != TL_CLI_GO) return rc == TL_CLI_DONE ? RF__EXIT_OK : RF__EXIT_USAGE;
    if (rf__endpoints(&o, argc, argv, first) != 0) return RF__EXIT_USAGE;
    if ((o.shm_replace || o.shm_unlink || o.shm_dir) && !o.shm)
        return tl_cli_usage(&rf__cli, "--shm-dir, --shm-replace and --unlink need --shm NAME",
                            NULL);
    if (o.readers == UINT32_MAX) o.readers = o.shm ? 0 : 1;
    rp_stop_install();
    char err[512];
    if (rf_run(&o, &res, err, sizeof(err)) != 0) {
        fprintf(stderr, "ringfeed: %s\n", err);
        return RF__EXIT_SETUP;
    }
    if (o.json) {
        if (rf_report_json(stdout, &o, &res) != 0) return RF__EXIT_OUTPUT;
    } else if (!o.quiet) {
        rf_report_human(stdout, &o, &res);
        if (fflush(stdout) != 0) return RF__EXIT_OUTPUT;
    }
    return RF__EXIT_OK;
}
