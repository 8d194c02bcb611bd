/* main.c - the replay command line: option parsing, help, and subcommand dispatch
 *
 * Design: `replay [OPTIONS] FILE...` replays; `replay gen ...` synthesizes a capture; `replay
 * info FILE...` describes inputs (input layer only: no ring, no threads); `replay convert IN...
 * -o OUT` writes a native tick file. A first argument naming a subcommand is always the
 * subcommand: a file called "gen" is replayed as ./gen.
 * Exit codes: 0 done; 1 usage error; 2 input error (or gen's / convert's output error); 3 the
 * ring or a thread could not be set up, or the continuity check failed; 130 interrupted (after
 * the report; convert removes its unfinished output).
 * Every value is validated before anything runs, with a message naming the option.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "ringalloc/ringalloc.h"
#include "convert.h"
#include "gen.h"
#include "info.h"
#include "report.h"
#include "run.h"

#define RP_EXIT_OK        0
#define RP_EXIT_USAGE     1
#define RP_EXIT_INPUT     2
#define RP_EXIT_SYSTEM    3
#define RP_EXIT_INTERRUPT 130

static const char rp_usage[] =
    "usage: replay [OPTIONS] FILE...      replay inputs through a tick ring and report\n"
    "       replay gen [OPTIONS] -o OUT   write a synthetic ITCH 5.0 / MoldUDP64 capture\n"
    "       replay info [OPTIONS] FILE... describe inputs (counts, gaps, time span) without a "
    "ring\n"
    "       replay convert [OPTIONS] IN... -o OUT.rtk[.zst]   write a native tick file\n"
    "       replay --help | --version\n";

static const char rp_help[] =
    "\n"
    "Reads captures (pcap, pcapng), Nasdaq ITCH 5.0 files and native tick files (.rtk), each\n"
    "optionally zstd-compressed (one or more frames), from FILE... in order (\"-\" is stdin). One\n"
    "producer thread writes every\n"
    "message into a tick ring; reader threads consume it, measure writer-to-reader latency and\n"
    "check sequence continuity. Format and framing are detected unless given.\n"
    "\n"
    "Input:\n"
    "  --format FMT            pcap | pcapng | itch | rtk (default: by magic bytes); rtk is the\n"
    "                          native tick file written by convert (docs/tickfile.md)\n"
    "  --framing F             auto | udp | moldudp64 | iextp: how UDP payloads split into\n"
    "                          messages (default auto, decided per stream)\n"
    "  -F, --filter EXPR       BPF filter applied to capture packets (pcap-filter syntax; one\n"
    "                          that does not compile is a usage error)\n"
    "  --strict                a truncated last record is an error (exit 2), not a warning\n"
    "\n"
    "Ring and readers:\n"
    "  --ring-size SIZE        ring data bytes, a power of two >= 4096; K, M, G suffixes are\n"
    "                          powers of 1024 (default 64M)\n"
    "  --readers N             reader threads, 0..64 (default 1); 0 only publishes (measures\n"
    "                          the input and the producer alone)\n"
    "  --reader-delay-ns N     simulated work per message in each reader, 0..10000000000 ns\n"
    "                          (default 0); makes overwrite and loss visible\n"
    "  --resume WHERE          oldest | newest: where a lapped reader continues (default oldest)\n"
    "\n"
    "Pacing (timed modes anchor on the first message and the start clock: no drift):\n"
    "  --speed S               max (default) | realtime | Nx, e.g. 10x or 0.5x (capture time\n"
    "                          scaled by 1/N); inputs without timestamps go at max speed\n"
    "  --pps N                 N messages per second (N > 0, decimals allowed); excludes --speed\n"
    "  --loop N                replay the inputs N times (default 1; not with stdin)\n"
    "  --limit N               stop after N messages (default: no limit)\n"
    "\n"
    "Output:\n"
    "  --json                  print one JSON object on stdout (the summary goes to stderr)\n"
    "  --stats-interval S      a stats line on stderr every S seconds (S > 0, decimals allowed)\n"
    "  -q, --quiet             no summary and no progress line (warnings and errors still print)\n"
    "  -h, --help              this help\n"
    "  -V, --version           the version\n"
    "\n"
    "The summary goes to stdout, or to stderr with --json. A progress line (bytes, rate, ETA) is\n"
    "drawn on stderr when it is a terminal.\n"
    "\n"
    "Exit status: 0 done; 1 usage error; 2 input error (the message names the file and byte\n"
    "offset; a truncated last record is only a warning unless --strict); 3 the ring or threads\n"
    "could not be set up, or the continuity check failed; 130 interrupted (report still printed).\n"
    "\n"
    "gen options:\n"
    "  --messages N            ITCH messages to write, system events and stock directory\n"
    "                          included; at least symbols + 6 (default 10000)\n"
    "  --seed S                random seed; the same seed and options give the same bytes\n"
    "                          (default 1)\n"
    "  --symbols K             symbols, 1..10000 (default 8)\n"
    "  --gap-every M           skip 1..8 sequence numbers before every Mth data packet\n"
    "  --heartbeat-every M     send a heartbeat after every Mth data packet\n"
    "  -o, --output OUT        the pcap file to write (via a temporary file and rename)\n"
    "  --json, -q              as above: one JSON object on stdout / no summary on stderr\n"
    "\n";

static const char rp_help_sub[] =
    "info options (no ring, no threads: the input layer only):\n"
    "  --format, --framing, -F, --strict   as above\n"
    "  --json                  one JSON object on stdout: {\"files\": [...]}\n"
    "  --dump                  every message and mark as a text line (payload in hex) on stdout\n"
    "\n"
    "convert options (every message, timestamp and sequence number is kept; replaying OUT gives\n"
    "the same feed counts as replaying IN...):\n"
    "  -o, --output OUT        the tick file to write (via a temporary file and rename); \"-\" is\n"
    "                          stdout. zstd-compressed when OUT ends in .zst or with --zstd\n"
    "  --zstd                  compress whatever the name\n"
    "  --level N               zstd level (default 3; negative levels are faster)\n"
    "  --workers N             zstd worker threads (default 0: compress in the main thread)\n"
    "  --frame-size SIZE       .rtk bytes per zstd frame (default 16M)\n"
    "  --format, --framing, -F, --strict   as above (for the inputs)\n"
    "  --json, -q              one JSON object on stdout / no summary on stderr\n"
    "\n"
    "See docs/replay.md for the JSON keys and examples.\n";

static const char *rp_prog = "replay";

/* Prints "replay: <what> '<value>'" plus the hint, and returns the usage exit code. */
static int rp_bad(const char *what, const char *value)
{
    if (value)
        fprintf(stderr, "%s: %s '%s'\n", rp_prog, what, value);
    else
        fprintf(stderr, "%s: %s\n", rp_prog, what);
    fprintf(stderr, "%s: try '%s --help'\n", rp_prog, rp_prog);
    return RP_EXIT_USAGE;
}

/* Strict unsigned decimal: digits only, no sign, no space, no overflow.
 * @return 0 with *out set, or -1. */
static int rp_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !(*s >= '0' && *s <= '9')) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (!(*s >= '0' && *s <= '9')) return -1;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* A positive finite decimal (e.g. "0.5", "1000").
 * @return 0 with *out set, or -1. */
static int rp_parse_positive(const char *s, double *out)
{
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.')) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || !(v > 0)) return -1;
    *out = v;
    return 0;
}

/* Whether a BPF expression compiles for at least one common link type (the input's own link
 * type is known only when it is opened; the input layer compiles it again then).
 * @return 0 when it compiles, or -1 with libpcap's message for Ethernet in msg. */
static int rp_check_filter(const char *expr, char *msg, size_t cap)
{
    static const int links[] = {DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL, DLT_IEEE802_11_RADIO};
    msg[0] = '\0';
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        pcap_t *p = pcap_open_dead(links[i], 65535);
        if (!p) continue;
        struct bpf_program prog;
        int rc = pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN);
        if (rc == 0) pcap_freecode(&prog);
        if (rc != 0 && msg[0] == '\0') snprintf(msg, cap, "%s", pcap_geterr(p));
        pcap_close(p);
        if (rc == 0) return 0;
    }
    return -1;
}

static void rp_on_signal(int sig)
{
    (void)sig;
    rp_run_stop();
}

enum {
    OPT_FORMAT = 256,
    OPT_FRAMING,
    OPT_STRICT,
    OPT_RING_SIZE,
    OPT_READERS,
    OPT_READER_DELAY,
    OPT_RESUME,
    OPT_SPEED,
    OPT_PPS,
    OPT_LOOP,
    OPT_LIMIT,
    OPT_JSON,
    OPT_STATS_INTERVAL,
    OPT_MESSAGES,
    OPT_SEED,
    OPT_SYMBOLS,
    OPT_GAP_EVERY,
    OPT_HEARTBEAT_EVERY,
    OPT_DUMP,
    OPT_ZSTD,
    OPT_LEVEL,
    OPT_WORKERS,
    OPT_FRAME_SIZE,
};

/* The text of the option getopt_long just rejected, for the message. */
static const char *rp_bad_option(char **argv, int optind_now, int optopt_now)
{
    static char buf[8];
    if (optopt_now > 0 && optopt_now < 256) {
        snprintf(buf, sizeof(buf), "-%c", optopt_now);
        return buf;
    }
    return argv[optind_now - 1];
}

static int rp_cmd_gen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"messages", required_argument, NULL, OPT_MESSAGES},
        {"seed", required_argument, NULL, OPT_SEED},
        {"symbols", required_argument, NULL, OPT_SYMBOLS},
        {"gap-every", required_argument, NULL, OPT_GAP_EVERY},
        {"heartbeat-every", required_argument, NULL, OPT_HEARTBEAT_EVERY},
        {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rp_gen_opts o = {.messages = 10000, .seed = 1, .symbols = 8};
    bool json = false, quiet = false;
    uint64_t v;
    int c;
    rp_prog = "replay gen";
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_MESSAGES:
            if (rp_parse_u64(optarg, &v) != 0 || v == 0) return rp_bad("bad --messages", optarg);
            o.messages = v;
            break;
        case OPT_SEED:
            if (rp_parse_u64(optarg, &v) != 0) return rp_bad("bad --seed", optarg);
            o.seed = v;
            break;
        case OPT_SYMBOLS:
            if (rp_parse_u64(optarg, &v) != 0 || v < 1 || v > RP_GEN_MAX_SYMBOLS)
                return rp_bad("bad --symbols (1..10000)", optarg);
            o.symbols = (unsigned)v;
            break;
        case OPT_GAP_EVERY:
            if (rp_parse_u64(optarg, &v) != 0 || v == 0) return rp_bad("bad --gap-every", optarg);
            o.gap_every = v;
            break;
        case OPT_HEARTBEAT_EVERY:
            if (rp_parse_u64(optarg, &v) != 0 || v == 0)
                return rp_bad("bad --heartbeat-every", optarg);
            o.heartbeat_every = v;
            break;
        case 'o':
            o.out = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(rp_usage, stdout);
            fputs(rp_help, stdout);
            fputs(rp_help_sub, stdout);
            return RP_EXIT_OK;
        case ':':
            return rp_bad("missing value for", rp_bad_option(argv, optind, optopt));
        default:
            return rp_bad("unknown option", rp_bad_option(argv, optind, optopt));
        }
    }
    if (optind < argc) return rp_bad("unexpected argument", argv[optind]);
    if (!o.out || !*o.out) return rp_bad("-o OUT is required", NULL);
    if (o.messages < rp_gen_min_messages(o.symbols)) {
        fprintf(stderr,
                "%s: --messages %" PRIu64 " is too small for %u symbols (at least %" PRIu64 ")\n",
                rp_prog, o.messages, o.symbols, rp_gen_min_messages(o.symbols));
        return RP_EXIT_USAGE;
    }
    rp_gen_result g;
    char err[512];
    if (rp_gen_write(&o, &g, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", rp_prog, err);
        return RP_EXIT_INPUT;
    }
    if (!quiet) rp_report_gen_human(stderr, &o, &g);
    if (json && rp_report_gen_json(stdout, &o, &g) != 0) {
        fprintf(stderr, "%s: cannot write the JSON report\n", rp_prog);
        return RP_EXIT_SYSTEM;
    }
    return RP_EXIT_OK;
}

/* Options that info and convert share with a replay (format, framing, filter, strict).
 * @return 1 when handled, 0 when c is not one of them, or a usage exit code via *rc. */
static int rp_src_option(int c, rp_source_opts *src, bool *strict, int *rc)
{
    switch (c) {
    case OPT_FORMAT:
        if (rp_format_parse(optarg, &src->format) != 0 || src->format == RP_FMT_AUTO)
            *rc = rp_bad("bad --format (pcap, pcapng, itch, rtk)", optarg);
        return 1;
    case OPT_FRAMING:
        if (rp_framing_parse(optarg, &src->framing) != 0)
            *rc = rp_bad("bad --framing (auto, udp, moldudp64, iextp)", optarg);
        return 1;
    case 'F':
        src->filter = optarg;
        return 1;
    case OPT_STRICT:
        *strict = src->strict = true;
        return 1;
    default:
        return 0;
    }
}

/* Checks the input list: not empty, no empty name, stdin at most once. @return 0 or usage. */
static int rp_check_inputs(char **files, int n)
{
    if (n <= 0) return rp_bad("no input files", NULL);
    int stdin_uses = 0;
    for (int i = 0; i < n; i++) {
        if (files[i][0] == '\0') return rp_bad("empty file name", NULL);
        if (strcmp(files[i], "-") == 0) stdin_uses++;
    }
    if (stdin_uses > 1) return rp_bad("stdin ('-') can be read only once", NULL);
    return 0;
}

static int rp_check_filter_opt(const char *filter)
{
    char msg[PCAP_ERRBUF_SIZE + 64];
    if (filter && rp_check_filter(filter, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "%s: bad --filter '%s': %s\n", rp_prog, filter, msg);
        return RP_EXIT_USAGE;
    }
    return 0;
}

static int rp_cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"framing", required_argument, NULL, OPT_FRAMING},
        {"filter", required_argument, NULL, 'F'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"json", no_argument, NULL, OPT_JSON},
        {"dump", no_argument, NULL, OPT_DUMP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rp_source_opts src = {0};
    bool json = false, dump = false, strict = false;
    int c, rc = 0;
    rp_prog = "replay info";
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":F:h", longopts, NULL)) != -1) {
        if (rp_src_option(c, &src, &strict, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case OPT_JSON:
            json = true;
            break;
        case OPT_DUMP:
            dump = true;
            break;
        case 'h':
            fputs(rp_usage, stdout);
            fputs(rp_help, stdout);
            fputs(rp_help_sub, stdout);
            return RP_EXIT_OK;
        case ':':
            return rp_bad("missing value for", rp_bad_option(argv, optind, optopt));
        default:
            return rp_bad("unknown option", rp_bad_option(argv, optind, optopt));
        }
    }
    if (json && dump) return rp_bad("--json and --dump cannot be combined", NULL);
    if ((rc = rp_check_filter_opt(src.filter)) != 0) return rc;
    if ((rc = rp_check_inputs(argv + optind, argc - optind)) != 0) return rc;
    size_t n = (size_t)(argc - optind);
    rp_info_file *files = calloc(n, sizeof(*files));
    if (!files) {
        fprintf(stderr, "%s: out of memory\n", rp_prog);
        return RP_EXIT_SYSTEM;
    }
    int exit_code = RP_EXIT_OK;
    char err[1024];
    for (size_t i = 0; i < n && exit_code == RP_EXIT_OK; i++) {
        const char *path = argv[optind + (int)i];
        if (rp_info_read(path, &src, dump ? stdout : NULL, &files[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", rp_prog, err);
            exit_code = RP_EXIT_INPUT;
        } else if (files[i].feed.truncated) {
            if (strict) {
                fprintf(stderr,
                        "%s: %s: the input ends inside its last record (truncated after %" PRIu64
                        " bytes; --strict)\n",
                        rp_prog, path, files[i].feed.bytes);
                exit_code = RP_EXIT_INPUT;
            } else {
                fprintf(stderr, "%s: warning: %s: the last record is truncated (ignored)\n",
                        rp_prog, path);
            }
        }
    }
    if (exit_code == RP_EXIT_OK && !dump) {
        if (json) {
            if (rp_info_report_json(stdout, files, n) != 0) {
                fprintf(stderr, "%s: cannot write the JSON report\n", rp_prog);
                exit_code = RP_EXIT_SYSTEM;
            }
        } else {
            rp_info_report_human(stdout, files, n);
        }
    }
    if (dump && fflush(stdout) != 0 && exit_code == RP_EXIT_OK) exit_code = RP_EXIT_SYSTEM;
    free(files);
    return exit_code;
}

static void rp_on_convert_signal(int sig)
{
    (void)sig;
    rp_convert_stop();
}

static bool rp_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int rp_cmd_convert(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"zstd", no_argument, NULL, OPT_ZSTD},
        {"level", required_argument, NULL, OPT_LEVEL},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"frame-size", required_argument, NULL, OPT_FRAME_SIZE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"framing", required_argument, NULL, OPT_FRAMING},
        {"filter", required_argument, NULL, 'F'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rp_convert_opts o = {0};
    bool json = false, quiet = false, zstd = false, level_set = false;
    uint64_t v;
    int c, rc = 0;
    rp_prog = "replay convert";
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:F:qh", longopts, NULL)) != -1) {
        if (rp_src_option(c, &o.src, &o.strict, &rc)) {
            if (rc) return rc;
            continue;
        }
        switch (c) {
        case 'o':
            o.output = optarg;
            break;
        case OPT_ZSTD:
            zstd = true;
            break;
        case OPT_LEVEL: {
            const char *t = optarg[0] == '-' ? optarg + 1 : optarg;
            if (rp_parse_u64(t, &v) != 0 || v > 1000000)
                return rp_bad("bad --level (an integer)", optarg);
            long lv = optarg[0] == '-' ? -(long)v : (long)v;
            if (lv < ZSTD_minCLevel() || lv > ZSTD_maxCLevel() || lv == 0) {
                fprintf(stderr, "%s: bad --level '%s' (%d..-1 or 1..%d)\n", rp_prog, optarg,
                        ZSTD_minCLevel(), ZSTD_maxCLevel());
                return RP_EXIT_USAGE;
            }
            o.level = (int)lv;
            level_set = true;
            break;
        }
        case OPT_WORKERS:
            if (rp_parse_u64(optarg, &v) != 0 || v > 256)
                return rp_bad("bad --workers (0..256)", optarg);
            o.workers = (int)v;
            break;
        case OPT_FRAME_SIZE:
            if (rp_parse_size(optarg, &v) != 0 || v < 4096 || v > (UINT64_C(1) << 40))
                return rp_bad("bad --frame-size (4K..1T, e.g. 16M)", optarg);
            o.frame_size = v;
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(rp_usage, stdout);
            fputs(rp_help, stdout);
            fputs(rp_help_sub, stdout);
            return RP_EXIT_OK;
        case ':':
            return rp_bad("missing value for", rp_bad_option(argv, optind, optopt));
        default:
            return rp_bad("unknown option", rp_bad_option(argv, optind, optopt));
        }
    }
    if (!o.output || !*o.output) return rp_bad("-o OUT is required", NULL);
    o.compress = zstd || rp_ends_with(o.output, ".zst");
    if (level_set && !o.compress)
        return rp_bad("--level needs a compressed output (OUT ending in .zst, or --zstd)", NULL);
    if (json && strcmp(o.output, "-") == 0)
        return rp_bad("--json needs stdout: it cannot be combined with -o -", NULL);
    if ((rc = rp_check_filter_opt(o.src.filter)) != 0) return rc;
    if ((rc = rp_check_inputs(argv + optind, argc - optind)) != 0) return rc;
    o.inputs = (const char *const *)(argv + optind);
    o.ninputs = (size_t)(argc - optind);
    o.progress = !quiet && isatty(STDERR_FILENO);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rp_on_convert_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rp_convert_result res;
    char err[1024];
    rc = rp_convert(&o, &res, err, sizeof(err));
    if (rc != RP_CONVERT_OK) {
        fprintf(stderr, "%s: %s\n", rp_prog, err);
        return rc == RP_CONVERT_STOPPED ? RP_EXIT_INTERRUPT : RP_EXIT_INPUT;
    }
    for (const char *p = res.warnings; *p;) {
        const char *e = strchr(p, '\n');
        int k = e ? (int)(e - p) : (int)strlen(p);
        fprintf(stderr, "%s: %.*s\n", rp_prog, k, p);
        p = e ? e + 1 : p + k;
    }
    if (!quiet) rp_convert_report_human(stderr, &o, &res);
    if (json && rp_convert_report_json(stdout, &o, &res) != 0) {
        fprintf(stderr, "%s: cannot write the JSON report\n", rp_prog);
        return RP_EXIT_SYSTEM;
    }
    return RP_EXIT_OK;
}

static int rp_cmd_replay(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"framing", required_argument, NULL, OPT_FRAMING},
        {"filter", required_argument, NULL, 'F'},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"ring-size", required_argument, NULL, OPT_RING_SIZE},
        {"readers", required_argument, NULL, OPT_READERS},
        {"reader-delay-ns", required_argument, NULL, OPT_READER_DELAY},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"speed", required_argument, NULL, OPT_SPEED},
        {"pps", required_argument, NULL, OPT_PPS},
        {"loop", required_argument, NULL, OPT_LOOP},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"json", no_argument, NULL, OPT_JSON},
        {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    rp_run_config cfg = {
        .ring_size = 64u << 20,
        .readers = 1,
        .resume = RA_START_OLDEST,
        .pace = {.mode = RP_PACE_MAX},
        .loops = 1,
    };
    bool json = false, quiet = false, speed_set = false, pps_set = false;
    uint64_t v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":F:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (strcmp(optarg, "pcap") == 0)
                cfg.src.format = RP_FMT_PCAP;
            else if (strcmp(optarg, "pcapng") == 0)
                cfg.src.format = RP_FMT_PCAPNG;
            else if (strcmp(optarg, "itch") == 0)
                cfg.src.format = RP_FMT_ITCH;
            else if (strcmp(optarg, "rtk") == 0)
                cfg.src.format = RP_FMT_RTK;
            else
                return rp_bad("bad --format (pcap, pcapng, itch, rtk)", optarg);
            break;
        case OPT_FRAMING:
            if (strcmp(optarg, "auto") == 0)
                cfg.src.framing = RP_FRAMING_AUTO;
            else if (strcmp(optarg, "udp") == 0)
                cfg.src.framing = RP_FRAMING_UDP;
            else if (strcmp(optarg, "moldudp64") == 0)
                cfg.src.framing = RP_FRAMING_MOLDUDP64;
            else if (strcmp(optarg, "iextp") == 0)
                cfg.src.framing = RP_FRAMING_IEXTP;
            else
                return rp_bad("bad --framing (auto, udp, moldudp64, iextp)", optarg);
            break;
        case 'F':
            cfg.src.filter = optarg;
            break;
        case OPT_STRICT:
            cfg.strict = true;
            break;
        case OPT_RING_SIZE:
            if (rp_parse_size(optarg, &v) != 0 || v < RA_RING_MIN_CAPACITY || (v & (v - 1)) != 0 ||
                v > (UINT64_C(1) << 40) || v > SIZE_MAX)
                return rp_bad("bad --ring-size (a power of two from 4096 to 1T, e.g. 64M)", optarg);
            cfg.ring_size = (size_t)v;
            break;
        case OPT_READERS:
            if (rp_parse_u64(optarg, &v) != 0 || v > RP_RUN_MAX_READERS)
                return rp_bad("bad --readers (0..64)", optarg);
            cfg.readers = (unsigned)v;
            break;
        case OPT_READER_DELAY:
            if (rp_parse_u64(optarg, &v) != 0 || v > UINT64_C(10000000000))
                return rp_bad("bad --reader-delay-ns (0..10000000000)", optarg);
            cfg.reader_delay_ns = v;
            break;
        case OPT_RESUME:
            if (strcmp(optarg, "oldest") == 0)
                cfg.resume = RA_START_OLDEST;
            else if (strcmp(optarg, "newest") == 0)
                cfg.resume = RA_START_NEWEST;
            else
                return rp_bad("bad --resume (oldest, newest)", optarg);
            break;
        case OPT_SPEED:
            if (rp_pace_parse_speed(optarg, &cfg.pace) != 0)
                return rp_bad("bad --speed (max, realtime, or Nx such as 10x, 0.5x)", optarg);
            speed_set = cfg.pace.mode != RP_PACE_MAX;
            break;
        case OPT_PPS: {
            double d;
            if (rp_parse_positive(optarg, &d) != 0)
                return rp_bad("bad --pps (a positive number)", optarg);
            cfg.pace.pps = d;
            pps_set = true;
            break;
        }
        case OPT_LOOP:
            if (rp_parse_u64(optarg, &v) != 0 || v < 1) return rp_bad("bad --loop (>= 1)", optarg);
            cfg.loops = v;
            break;
        case OPT_LIMIT:
            if (rp_parse_u64(optarg, &v) != 0 || v < 1) return rp_bad("bad --limit (>= 1)", optarg);
            cfg.limit = v;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_STATS_INTERVAL: {
            double d;
            if (rp_parse_positive(optarg, &d) != 0 || d > 86400)
                return rp_bad("bad --stats-interval (seconds, > 0)", optarg);
            cfg.stats_interval = d;
            break;
        }
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(rp_usage, stdout);
            fputs(rp_help, stdout);
            fputs(rp_help_sub, stdout);
            return RP_EXIT_OK;
        case 'V':
            printf("replay (ringalloc) %s\n", ra_version_string());
            return RP_EXIT_OK;
        case ':':
            return rp_bad("missing value for", rp_bad_option(argv, optind, optopt));
        default:
            return rp_bad("unknown option", rp_bad_option(argv, optind, optopt));
        }
    }
    if (speed_set && pps_set) return rp_bad("--speed and --pps cannot be combined", NULL);
    if (pps_set) cfg.pace.mode = RP_PACE_PPS;
    if (cfg.src.filter) {
        char msg[PCAP_ERRBUF_SIZE + 64];
        if (rp_check_filter(cfg.src.filter, msg, sizeof(msg)) != 0) {
            fprintf(stderr, "%s: bad --filter '%s': %s\n", rp_prog, cfg.src.filter, msg);
            return RP_EXIT_USAGE;
        }
    }
    if (optind >= argc) return rp_bad("no input files", NULL);
    cfg.files = (const char *const *)(argv + optind);
    cfg.nfiles = (size_t)(argc - optind);
    unsigned stdin_uses = 0;
    for (size_t i = 0; i < cfg.nfiles; i++) {
        if (cfg.files[i][0] == '\0') return rp_bad("empty file name", NULL);
        if (strcmp(cfg.files[i], "-") == 0) stdin_uses++;
    }
    if (stdin_uses > 1) return rp_bad("stdin ('-') can be read only once", NULL);
    if (stdin_uses && cfg.loops > 1)
        return rp_bad("--loop needs files it can reopen, not '-'", NULL);
    cfg.progress = !quiet && isatty(STDERR_FILENO);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rp_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rp_run_result res;
    char err[1024];
    int rc = rp_run(&cfg, &res, err, sizeof(err));
    if (rc != RP_RUN_OK) {
        fprintf(stderr, "replay: %s\n", err);
        rp_run_result_free(&res);
        return rc == RP_RUN_EINPUT ? RP_EXIT_INPUT : RP_EXIT_SYSTEM;
    }
    if (res.warnings[0]) {
        /* each line already says "warning: ..." */
        for (const char *p = res.warnings; *p;) {
            const char *e = strchr(p, '\n');
            int n = e ? (int)(e - p) : (int)strlen(p);
            fprintf(stderr, "replay: %.*s\n", n, p);
            p = e ? e + 1 : p + n;
        }
    }
    if (res.no_timestamps)
        fprintf(stderr, "replay: warning: the input has no timestamps; --speed ran at max speed "
                        "(use --pps to pace it)\n");
    int exit_code = RP_EXIT_OK;
    if (!quiet) rp_report_human(json ? stderr : stdout, &cfg, &res);
    if (json && rp_report_json(stdout, &cfg, &res) != 0) {
        fprintf(stderr, "replay: cannot write the JSON report\n");
        exit_code = RP_EXIT_SYSTEM;
    }
    if (!res.verified) {
        for (unsigned i = 0; i < res.nreaders; i++) {
            const rp_reader_result *r = &res.readers[i];
            fprintf(stderr,
                    "replay: error: reader %u: read %" PRIu64 " + lost %" PRIu64
                    " vs published %" PRIu64 ", skipped %" PRIu64 ", seq errors %" PRIu64 "%s%s\n",
                    i, r->read, r->lost, res.ring.published, r->skipped, r->seq_errors,
                    r->error ? ", stopped by " : "", r->error ? ra_strerror(r->error) : "");
        }
        fprintf(stderr, "replay: error: ring continuity check failed\n");
        exit_code = RP_EXIT_SYSTEM;
    } else if (res.interrupted && exit_code == RP_EXIT_OK) {
        exit_code = RP_EXIT_INTERRUPT;
    }
    rp_run_result_free(&res);
    return exit_code;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "gen") == 0) return rp_cmd_gen(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "info") == 0) return rp_cmd_info(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "convert") == 0) return rp_cmd_convert(argc - 1, argv + 1);
    return rp_cmd_replay(argc, argv);
}
