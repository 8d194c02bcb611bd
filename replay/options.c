/* options.c - replay's one option table: parsing and --help for every subcommand
 *
 * Design: every option of every subcommand is one row of rp__opts: its long and short names,
 * the subcommands that take it (a bit mask), its value parser and the help text. getopt_long's
 * table for a subcommand is built from the rows that name it, and its --help lists exactly those
 * rows, so what a subcommand accepts and what its help says cannot drift apart. An option that
 * means the same everywhere (--format, --framing, --json, ...) has one row and one parser; an
 * option whose help differs by subcommand (-o, --json) has one row per meaning.
 * After the loop, rp__check() verifies the combinations (--speed with --pps, -o required, ...),
 * compiles the BPF filter once and checks the operands.
 */
#include "options.h"

#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "ringalloc/ringalloc.h"
#include "dbn.h"
#include "decode.h"
#include "outfile.h"

#define ALL   (RP_CMD_REPLAY | RP_CMD_GEN | RP_CMD_INFO | RP_CMD_CONVERT)
#define INPUT (RP_CMD_REPLAY | RP_CMD_INFO | RP_CMD_CONVERT)

typedef struct rp__opt {
    const char *name;                          /* long name */
    int shortc;                                /* short letter, or 0 */
    const char *arg;                           /* the value's name in the help, NULL for a flag */
    unsigned cmds;                             /* rp_cmd bits */
    int (*parse)(rp_opts *o, const char *arg); /* @return 0, or -1 for a bad value */
    const char *hint;  /* what a good value looks like, for "bad --name (hint) 'value'" */
    const char *group; /* help section */
    const char *help;  /* help text; '\n' starts a continuation line */
} rp__opt;

/* ---- value parsers ----------------------------------------------------------------------------
 */

static int rp__format(rp_opts *o, const char *a)
{
    return rp_format_parse(a, &o->src.format) != 0 || o->src.format == RP_FMT_AUTO ? -1 : 0;
}
static int rp__framing(rp_opts *o, const char *a)
{
    return rp_framing_parse(a, &o->src.framing);
}
static int rp__dbn_version(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v < 1 || v > RP_DBN_MAX_VERSION) return -1;
    o->src.dbn_version = (uint8_t)v;
    return 0;
}
static int rp__filter(rp_opts *o, const char *a)
{
    o->src.filter = a;
    return 0;
}
static int rp__strict(rp_opts *o, const char *a)
{
    (void)a;
    o->strict = o->run.strict = o->src.strict = true;
    return 0;
}
/* An unsigned decimal in lo..hi into *out. */
static int rp__u64_in(const char *a, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t v;
    if (rp_parse_u64(a, &v) != 0 || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}
static int rp__ring_size(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp_parse_size(a, &v) != 0 || v < RA_RING_MIN_CAPACITY || (v & (v - 1)) != 0 ||
        v > (UINT64_C(1) << 40) || v > SIZE_MAX)
        return -1;
    o->run.ring_size = (size_t)v;
    return 0;
}
static int rp__readers(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp__u64_in(a, 0, RP_RUN_MAX_READERS, &v) != 0) return -1;
    o->run.readers = (unsigned)v;
    o->readers_set = true;
    return 0;
}
static int rp__reader_delay(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 0, UINT64_C(10000000000), &o->run.reader_delay_ns);
}
static int rp__resume(rp_opts *o, const char *a)
{
    if (strcmp(a, "oldest") != 0 && strcmp(a, "newest") != 0) return -1;
    o->run.resume = a[0] == 'o' ? RA_START_OLDEST : RA_START_NEWEST;
    return 0;
}
static int rp__speed(rp_opts *o, const char *a)
{
    if (rp_pace_parse_speed(a, &o->run.pace) != 0) return -1;
    o->speed_set = o->run.pace.mode != RP_PACE_MAX;
    return 0;
}
static int rp__pps(rp_opts *o, const char *a)
{
    o->pps_set = true;
    return rp_parse_positive(a, &o->run.pace.pps);
}
static int rp__loop(rp_opts *o, const char *a)
{
    if (rp__u64_in(a, 0, UINT64_MAX, &o->run.loops) != 0) return -1;
    if (o->run.loops == 0) o->run.loops = UINT64_MAX; /* forever */
    return 0;
}
static int rp__rt_priority(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp__u64_in(a, 1, 99, &v) != 0) return -1;
    o->run.rt_priority = (int)v;
    return 0;
}
static int rp__limit(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 1, UINT64_MAX, &o->run.limit);
}
static int rp__json(rp_opts *o, const char *a)
{
    (void)a;
    o->json = true;
    return 0;
}
static int rp__stats_interval(rp_opts *o, const char *a)
{
    double d;
    if (rp_parse_positive(a, &d) != 0 || d > 86400) return -1;
    o->run.stats_interval = d;
    return 0;
}
static int rp__quiet(rp_opts *o, const char *a)
{
    (void)a;
    o->quiet = true;
    return 0;
}
static int rp__output(rp_opts *o, const char *a)
{
    o->output = a;
    return 0;
}
static int rp__force(rp_opts *o, const char *a)
{
    (void)a;
    o->force = true;
    return 0;
}
static int rp__stats_csv(rp_opts *o, const char *a)
{
    if (!*a || strcmp(a, "-") == 0) return -1;
    o->stats_csv = a;
    return 0;
}
static int rp__messages(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 1, UINT64_MAX, &o->gen.messages);
}
static int rp__gen_format(rp_opts *o, const char *a)
{
    if (strcmp(a, "pcap") != 0 && strcmp(a, "dbn") != 0) return -1;
    o->gen.format = a[0] == 'd' ? RP_GEN_DBN : RP_GEN_PCAP;
    return 0;
}
static int rp__seed(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 0, UINT64_MAX, &o->gen.seed);
}
static int rp__symbols(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp__u64_in(a, 1, RP_GEN_MAX_SYMBOLS, &v) != 0) return -1;
    o->gen.symbols = (unsigned)v;
    return 0;
}
static int rp__gap_every(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 1, UINT64_MAX, &o->gen.gap_every);
}
static int rp__heartbeat_every(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 1, UINT64_MAX, &o->gen.heartbeat_every);
}
static int rp__dump(rp_opts *o, const char *a)
{
    (void)a;
    o->dump = true;
    return 0;
}
static int rp__dump_format(rp_opts *o, const char *a)
{
    static const char *const names[] = {"hex", "json", "csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(a, names[i]) == 0) o->dumpo.format = (rp_dump_format)i;
    return strcmp(a, names[o->dumpo.format]) == 0 ? 0 : -1;
}
static int rp__dump_type(rp_opts *o, const char *a)
{
    o->dumpo.type = a;
    return rp_dec_type_known(a) ? 0 : -1;
}
static int rp__dump_symbol(rp_opts *o, const char *a)
{
    o->dumpo.symbol = a;
    return *a ? 0 : -1;
}
static int rp__dump_ts(rp_opts *o, const char *a)
{
    o->dumpo.ts_raw = strcmp(a, "raw") == 0;
    return o->dumpo.ts_raw || strcmp(a, "iso") == 0 ? 0 : -1;
}
static int rp__dump_px(rp_opts *o, const char *a)
{
    o->dumpo.px_raw = strcmp(a, "raw") == 0;
    return o->dumpo.px_raw || strcmp(a, "decimal") == 0 ? 0 : -1;
}
static int rp__dump_limit(rp_opts *o, const char *a)
{
    return rp__u64_in(a, 1, UINT64_MAX, &o->dumpo.limit);
}
static int rp__to(rp_opts *o, const char *a)
{
    o->to_itch = strcmp(a, "itch") == 0;
    return o->to_itch || strcmp(a, "rtk") == 0 ? 0 : -1;
}
static int rp__zstd(rp_opts *o, const char *a)
{
    (void)a;
    o->zstd = true;
    return 0;
}
static int rp__level(rp_opts *o, const char *a)
{
    uint64_t v;
    const char *t = a[0] == '-' ? a + 1 : a;
    if (rp_parse_u64(t, &v) != 0 || v > 1000000) return -1;
    long lv = a[0] == '-' ? -(long)v : (long)v;
    if (lv < ZSTD_minCLevel() || lv > ZSTD_maxCLevel() || lv == 0) return -1;
    o->level = (int)lv;
    o->level_set = true;
    return 0;
}
static int rp__workers(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp__u64_in(a, 0, 256, &v) != 0) return -1;
    o->workers = (int)v;
    return 0;
}
static int rp__frame_size(rp_opts *o, const char *a)
{
    uint64_t v;
    if (rp_parse_size(a, &v) != 0 || v < 4096 || v > (UINT64_C(1) << 40)) return -1;
    o->frame_size = v;
    return 0;
}

/* ---- the table --------------------------------------------------------------------------------
 */

static const char G_IN[] = "Input", G_RING[] = "Ring and readers",
                  G_PACE[] = "Pacing (timed modes anchor on the first message and the start "
                             "clock: no drift)",
                  G_SHM[] = "Shared ring (other processes read the replay: ringcat, ringstat)",
                  G_NET[] = "Network (replay --send: docs/network.md)", G_GEN[] = "Capture",
                  G_OUT[] = "Output",
                  G_BOOK[] = "Order books (docs/replay.md \"Order books in replay\")";

static const rp__opt rp__opts[] = {
    {"format", 0, "FMT", INPUT, rp__format, "pcap, pcapng, itch, rtk, dbn, dbn-frag", G_IN,
     "pcap | pcapng | itch | rtk | dbn | dbn-frag (default: by magic\n"
     "bytes); rtk is the native tick file written by convert\n"
     "(docs/tickfile.md); dbn-frag: DBN records without metadata"},
    {"dbn-version", 0, "N", INPUT, rp__dbn_version, "1, 2 or 3", G_IN,
     "the DBN version of a --format dbn-frag input, 1..3 (default 3)"},
    {"framing", 0, "F", INPUT, rp__framing, "auto, udp, moldudp64, iextp", G_IN,
     "auto | udp | moldudp64 | iextp (or iex-tp): how UDP payloads split\n"
     "into messages (default auto, decided per stream)"},
    {"filter", 'F', "EXPR", INPUT, rp__filter, NULL, G_IN,
     "BPF filter applied to capture packets (pcap-filter syntax; one\n"
     "that does not compile is a usage error)"},
    {"strict", 0, NULL, INPUT, rp__strict, NULL, G_IN,
     "a truncated last record, a damaged packet or a damaged record is an\n"
     "error (exit 2), not a warning"},
    {"ring-size", 0, "SIZE", RP_CMD_REPLAY, rp__ring_size,
     "a power of two from 4096 to 1T, e.g. 64M", G_RING,
     "ring data bytes, a power of two from 4096 to 1T; K, M, G, T\n"
     "suffixes are powers of 1024 (default 64M)"},
    {"readers", 0, "N", RP_CMD_REPLAY, rp__readers, "0..64", G_RING,
     "reader threads, 0..64 (default 1); 0 only publishes (measures\n"
     "the input and the producer alone)"},
    {"reader-delay-ns", 0, "N", RP_CMD_REPLAY, rp__reader_delay, "0..10000000000", G_RING,
     "simulated work per message in each reader, 0..10000000000 ns\n"
     "(default 0); makes overwrite and loss visible"},
    {"resume", 0, "WHERE", RP_CMD_REPLAY, rp__resume, "oldest, newest", G_RING,
     "oldest | newest: where a lapped reader continues (default oldest)"},
    {"shm", 0, "NAME", RP_CMD_REPLAY, rp_opt_shm, "a file name of 1..200 bytes without '/'", G_SHM,
     "publish into the shared ring /dev/shm/NAME (capacity --ring-size):\n"
     "one message per record, no prefix, ts_ns = publish time on\n"
     "CLOCK_REALTIME; closed at the end and on SIGINT/SIGTERM, and kept\n"
     "after exit unless --unlink"},
    {"shm-dir", 0, "DIR", RP_CMD_REPLAY, rp_opt_shm_dir, "a directory", G_SHM,
     "the ring file goes in DIR instead of /dev/shm: a hugetlbfs mount puts\n"
     "it on huge pages (readers attach by its path, DIR/NAME)"},
    {"shm-mode", 0, "OCTAL", RP_CMD_REPLAY, rp_opt_shm_mode, "octal permission bits, e.g. 0640",
     G_SHM, "permission bits of the ring file (default 0600)"},
    {"shm-replace", 0, NULL, RP_CMD_REPLAY, rp_opt_shm_replace, NULL, G_SHM,
     "replace a ring of that name that exists (a stale one; without it\n"
     "an existing NAME is an error, exit 1)"},
    {"unlink", 0, NULL, RP_CMD_REPLAY, rp_opt_unlink, NULL, G_SHM,
     "remove the name at exit (readers attached keep reading)"},
    {"book", 0, NULL, RP_CMD_REPLAY, rp_opt_book, NULL, G_BOOK,
     "reader 0 builds full-depth order books (ITCH 5.0, DBN MBO) from the\n"
     "ring; --readers N adds N check readers beside it (default 0)"},
    {"book-depth", 0, "N", RP_CMD_REPLAY, rp_opt_book_depth, "1..64", G_BOOK,
     "report the N best levels per side and symbol (JSON `depth`), 1..64"},
    {"book-orders", 0, "N", RP_CMD_REPLAY, rp_opt_book_orders, "1..2147483647", G_BOOK,
     "capacity of the order pool (default 2097152: a full Nasdaq day)"},
    {"book-on-empty", 0, "WHAT", RP_CMD_REPLAY, rp_opt_book_on_empty, "fail, fallback, grow",
     G_BOOK,
     "fail (default: stop booking, exit 3) | fallback (malloc, counted) |\n"
     "grow (add pools) when the order pool is empty"},
    {"book-alloc", 0, "A", RP_CMD_REPLAY, rp_opt_book_alloc, "pool, malloc", G_BOOK,
     "pool (default) | malloc: orders from malloc/free (for comparisons)"},
    {"bbo", 0, "FILE", RP_CMD_REPLAY, rp_opt_bbo, "a file name, not -", G_BOOK,
     "write every best bid/offer change (ts, symbol, bid and ask px, qty,\n"
     "orders) to FILE; an existing FILE is refused unless --force"},
    {"bbo-format", 0, "F", RP_CMD_REPLAY, rp_opt_bbo_format, "csv, json", G_BOOK,
     "csv | json (JSON lines); default by FILE's extension (.json,\n"
     ".jsonl: json, else csv)"},
    {"symbol", 0, "SYM", RP_CMD_REPLAY, rp_opt_book_symbol, "a symbol", G_BOOK,
     "report and --bbo only symbol SYM (the ITCH stock, trailing spaces\n"
     "removed; DBN: the raw symbol)"},
    {"speed", 0, "S", RP_CMD_REPLAY, rp__speed, "max, realtime, or Nx such as 10x, 0.5x", G_PACE,
     "max (default) | realtime | Nx, e.g. 10x or 0.5x (capture time\n"
     "scaled by 1/N); inputs without timestamps go at max speed"},
    {"pps", 0, "N", RP_CMD_REPLAY, rp__pps, "a positive number", G_PACE,
     "N messages per second (N > 0, decimals allowed); excludes --speed"},
    {"loop", 0, "N", RP_CMD_REPLAY, rp__loop, ">= 0", G_PACE,
     "replay the inputs N times (default 1; 0: forever, until --duration,\n"
     "--limit or a signal; not with stdin)"},
    {"mbps", 0, "N", RP_CMD_REPLAY, rp_opt_mbps, "a positive number", G_PACE,
     "--send: N megabits of UDP payload per second (decimals allowed);\n"
     "excludes --speed and --pps"},
    {"duration", 0, "S", RP_CMD_REPLAY, rp_opt_duration, "seconds, > 0", G_PACE,
     "--send: stop after S seconds of sending (decimals allowed)"},
    {"rt-priority", 0, "N", RP_CMD_REPLAY, rp__rt_priority, "1..99", G_PACE,
     "run the thread that paces (and sends, with --send) under SCHED_FIFO\n"
     "priority N, so that other processes do not delay its wake-ups\n"
     "(needs root or CAP_SYS_NICE; a warning when refused)"},
    {"limit", 0, "N", RP_CMD_REPLAY, rp__limit, ">= 1", G_PACE,
     "stop after N messages (default: no limit)"},
    {"send", 0, "URL", RP_CMD_REPLAY, rp_opt_send, "udp://HOST:PORT, at most 8 times", G_NET,
     "send every packet to udp://HOST:PORT (repeatable: each packet goes\n"
     "to every destination, A/B lines); HOST a name, an address, [IPv6]\n"
     "or a multicast group. Captures: each UDP payload as one datagram,\n"
     "byte for byte; PORT 0 keeps each packet's captured port. Other\n"
     "inputs: MoldUDP64 packets (--packet-bytes, --session)"},
    {"ttl", 0, "N", RP_CMD_REPLAY, rp_opt_ttl, "0..255", G_NET,
     "multicast TTL (unicast TTL for a unicast HOST); default: the\n"
     "kernel's (1 for multicast)"},
    {"iface", 0, "IF", RP_CMD_REPLAY, rp_opt_iface, "an interface name or a local address", G_NET,
     "multicast interface: a name (eth0) or a local IPv4 address"},
    {"mcast-loop", 0, NULL, RP_CMD_REPLAY, rp_opt_mcast_loop, NULL, G_NET,
     "loop multicast back to receivers on this host (default off)"},
    {"port-map", 0, "ORIG:NEW", RP_CMD_REPLAY, rp_opt_port_map, "PORT:PORT, each 1..65535", G_NET,
     "with PORT 0: packets captured to port ORIG go to port NEW\n"
     "(repeatable, at most 32)"},
    {"packet-bytes", 0, "N", RP_CMD_REPLAY, rp_opt_packet_bytes, "23..65507", G_NET,
     "MoldUDP64 packets of non-capture inputs hold up to N bytes, header\n"
     "included (default 1472: a 1500-byte MTU)"},
    {"session", 0, "NAME", RP_CMD_REPLAY, rp_opt_session, "1..10 printable characters", G_NET,
     "MoldUDP64 session of non-capture inputs (default RPLAY00001)"},
    {"drop", 0, "P", RP_CMD_REPLAY, rp_opt_drop, "a fraction from 0 to 1", G_NET,
     "drop a fraction P of the packets on purpose (0..1), chosen by\n"
     "--seed: the same seed drops the same packets (a testing aid)"},
    {"seed", 0, "S", RP_CMD_REPLAY, rp_opt_drop_seed, "an unsigned integer", G_NET,
     "the seed of --drop (default 0)"},
    {"drop-list", 0, "FILE", RP_CMD_REPLAY, rp_opt_drop_list, "a file name", G_NET,
     "write the dropped packets to FILE: one line each, \"INDEX SEQ N\"\n"
     "(packet index from 0, first sequence number or -, messages)"},
    {"format", 0, "FMT", RP_CMD_GEN, rp__gen_format, "pcap, dbn", G_GEN,
     "pcap (default: ITCH 5.0 over MoldUDP64) | dbn (Databento DBN v3,\n"
     "MBO records; --gap-every and --heartbeat-every do not apply)"},
    {"messages", 0, "N", RP_CMD_GEN, rp__messages, NULL, G_GEN,
     "ITCH messages to write, system events and stock directory\n"
     "included; at least symbols + 6 (default 10000)"},
    {"seed", 0, "S", RP_CMD_GEN, rp__seed, NULL, G_GEN,
     "random seed; the same seed and options give the same bytes\n(default 1)"},
    {"symbols", 0, "K", RP_CMD_GEN, rp__symbols, "1..10000", G_GEN,
     "symbols, 1..10000 (default 8)"},
    {"gap-every", 0, "M", RP_CMD_GEN, rp__gap_every, NULL, G_GEN,
     "skip 1..8 sequence numbers before every Mth data packet"},
    {"heartbeat-every", 0, "M", RP_CMD_GEN, rp__heartbeat_every, NULL, G_GEN,
     "send a heartbeat after every Mth data packet"},
    {"output", 'o', "OUT", RP_CMD_GEN, rp__output, NULL, G_OUT,
     "the pcap file to write (via a temporary file and rename); \"-\" is\n"
     "stdout. An existing OUT is refused unless --force"},
    {"output", 'o', "OUT", RP_CMD_CONVERT, rp__output, NULL, G_OUT,
     "the tick file to write (via a temporary file and rename); \"-\" is\n"
     "stdout. zstd-compressed when OUT ends in .zst or with --zstd. An\n"
     "existing OUT is refused unless --force, an input always"},
    {"to", 0, "FMT", RP_CMD_CONVERT, rp__to, "rtk, itch", G_OUT,
     "rtk (default: a native tick file) | itch (a Nasdaq ITCH 5.0 file:\n"
     "u16 big-endian length + message; inputs must carry ITCH, and\n"
     "sequence numbers and capture times are not kept; not compressed)"},
    {"zstd", 0, NULL, RP_CMD_CONVERT, rp__zstd, NULL, G_OUT, "compress whatever the name"},
    {"level", 0, "N", RP_CMD_CONVERT, rp__level, "a nonzero integer in zstd's range", G_OUT,
     "zstd level (default 3; negative levels are faster)"},
    {"workers", 0, "N", RP_CMD_CONVERT, rp__workers, "0..256", G_OUT,
     "zstd worker threads (default 0: compress in the main thread)"},
    {"frame-size", 0, "SIZE", RP_CMD_CONVERT, rp__frame_size, "4K..1T, e.g. 16M", G_OUT,
     ".rtk bytes per zstd frame, 4K..1T (default 16M)"},
    {"json", 0, NULL, RP_CMD_REPLAY, rp__json, NULL, G_OUT,
     "print one JSON object on stdout (the summary goes to stderr)"},
    {"json", 0, NULL, RP_CMD_GEN | RP_CMD_CONVERT, rp__json, NULL, G_OUT,
     "one JSON object on stdout (the summary stays on stderr)"},
    {"json", 0, NULL, RP_CMD_INFO, rp__json, NULL, G_OUT,
     "one JSON object on stdout: {\"files\": [...]}"},
    {"dump", 0, NULL, RP_CMD_INFO, rp__dump, NULL, G_OUT,
     "every message and mark as a text line on stdout (payload in hex,\n"
     "or decoded: --dump-format)"},
    {"dump-format", 0, "F", RP_CMD_INFO, rp__dump_format, "hex, json, csv", G_OUT,
     "hex (default) | json (one object per message and line: the\n"
     "decoded fields) | csv (one --type, one header line)"},
    {"type", 0, "T", RP_CMD_INFO, rp__dump_type, "a message type of docs/replay.md", G_OUT,
     "dump only type T: its name (add_order, mbo, ...), ITCH/IEX type\n"
     "letter or 0xNN (DBN rtype); required with --dump-format csv"},
    {"symbol", 0, "SYM", RP_CMD_INFO, rp__dump_symbol, "a symbol", G_OUT,
     "dump only the messages of symbol SYM"},
    {"ts", 0, "F", RP_CMD_INFO, rp__dump_ts, "iso, raw", G_OUT,
     "iso (default: ISO 8601 with ns) | raw (integers) timestamps"},
    {"px", 0, "F", RP_CMD_INFO, rp__dump_px, "decimal, raw", G_OUT,
     "decimal (default) | raw (the integers as sent) prices"},
    {"limit", 0, "N", RP_CMD_INFO, rp__dump_limit, ">= 1", G_OUT,
     "dump at most N messages (default: no limit)"},
    {"stats-interval", 0, "S", RP_CMD_REPLAY, rp__stats_interval, "seconds, > 0", G_OUT,
     "a stats line on stderr every S seconds (S > 0, decimals allowed)"},
    {"stats-csv", 0, "FILE", RP_CMD_REPLAY, rp__stats_csv, "a file name, not -", G_OUT,
     "write the stats of every interval (--stats-interval, default 1 s) to\n"
     "FILE as CSV: one row per reader per interval, and a last row per\n"
     "reader at the end (columns in docs/replay.md)"},
    {"force", 'f', NULL, RP_CMD_REPLAY, rp__force, NULL, G_OUT,
     "let --stats-csv and --bbo replace an existing FILE (never an input)"},
    {"force", 'f', NULL, RP_CMD_GEN | RP_CMD_CONVERT, rp__force, NULL, G_OUT,
     "replace OUT if it exists (never an input: that is always refused)"},
    {"quiet", 'q', NULL, RP_CMD_REPLAY, rp__quiet, NULL, G_OUT,
     "no summary and no progress line (warnings and errors still print)"},
    {"quiet", 'q', NULL, RP_CMD_GEN | RP_CMD_CONVERT, rp__quiet, NULL, G_OUT,
     "no summary on stderr (warnings and errors still print)"},
    {"help", 'h', NULL, ALL, NULL, NULL, G_OUT, "this help"},
    {"version", 'V', NULL, RP_CMD_REPLAY, NULL, NULL, G_OUT, "the version"},
};
#define RP__NOPTS (sizeof(rp__opts) / sizeof(rp__opts[0]))
_Static_assert(RP__NOPTS <= RP_GETOPT_MAX, "the option table outgrew rp_getopt");

/* ---- help -------------------------------------------------------------------------------------
 */

static const struct {
    rp_cmd cmd;
    const char *usage, *intro, *outro;
} rp__texts[] = {
    {RP_CMD_REPLAY, "replay [OPTIONS] FILE...",
     "Reads captures (pcap, pcapng), Nasdaq ITCH 5.0 files, native tick files (.rtk) and\n"
     "Databento DBN files, each optionally zstd-compressed (one or more frames), from FILE... in\n"
     "order (\"-\" is stdin).\n"
     "One producer thread writes every message into a tick ring; reader threads consume it,\n"
     "measure how far behind the producer they are (lag, at --speed max) or how long delivery\n"
     "takes (latency, paced), and check sequence continuity. Format and framing are detected\n"
     "unless given. With --send, the input also goes out on the network as UDP datagrams.\n",
     "The summary goes to stdout, or to stderr with --json. A progress line (bytes, rate, ETA) is\n"
     "drawn on stderr when it is a terminal.\n"
     "\n"
     "Exit status: 0 done; 1 usage error (also an existing --stats-csv FILE without --force, or "
     "an\n"
     "existing --shm NAME without --shm-replace); 2 input error (the message names the file and\n"
     "byte offset; a truncated last record is only a warning unless --strict); 3 the ring or\n"
     "threads could not be set up, a --send destination could not be opened or a send failed,\n"
     "or the continuity check failed; 130 interrupted (report printed).\n"
     "\n"
     "Subcommands: replay gen | info | convert --help. See docs/replay.md for the JSON keys.\n"},
    {RP_CMD_GEN, "replay gen [OPTIONS] -o OUT",
     "Writes a synthetic ITCH 5.0 / MoldUDP64 capture; the same seed and options give the same\n"
     "bytes, and replaying it reports exactly the counts gen prints.\n",
     "Exit status: 0 done; 1 usage error (an existing OUT without --force included); 2 the output\n"
     "could not be written; 130 interrupted (OUT not written).\n"},
    {RP_CMD_INFO, "replay info [OPTIONS] FILE...",
     "Describes inputs (format, counts, gaps, time span) through the input layer only: no ring,\n"
     "no threads.\n",
     "Exit status: 0 done; 1 usage error; 2 input error.\n"},
    {RP_CMD_CONVERT, "replay convert [OPTIONS] IN... -o OUT.rtk[.zst] | --to itch -o OUT",
     "Writes a native tick file. Every message, timestamp and sequence number is kept: replaying\n"
     "OUT gives the same feed counts as replaying IN... With --to itch, writes the ITCH 5.0\n"
     "messages of ITCH inputs as a Nasdaq binary ITCH file (same messages and types).\n",
     "Exit status: 0 done; 1 usage error (an existing OUT without --force, or OUT naming an "
     "input,\n"
     "included); 2 input or output error; 130 interrupted (OUT not written).\n"},
};

void rp_help_row(FILE *f, int shortc, const char *name, const char *arg, const char *help)
{
    char left[64];
    if (shortc)
        snprintf(left, sizeof(left), "-%c, --%s%s%s", shortc, name, arg ? " " : "", arg ? arg : "");
    else
        snprintf(left, sizeof(left), "--%s%s%s", name, arg ? " " : "", arg ? arg : "");
    int col = fprintf(f, "  %s", left);
    if (col >= RP_HELP_COL - 1) {
        fputc('\n', f);
        col = 0;
    }
    for (const char *t = help; *t;) {
        const char *e = strchr(t, '\n');
        int n = e ? (int)(e - t) : (int)strlen(t);
        fprintf(f, "%*s%.*s\n", RP_HELP_COL - col, "", n, t);
        col = 0;
        t = e ? e + 1 : t + n;
    }
}

void rp_options_help(rp_cmd cmd, FILE *f)
{
    size_t k = 0;
    while (k + 1 < sizeof(rp__texts) / sizeof(rp__texts[0]) && rp__texts[k].cmd != cmd) k++;
    fprintf(f, "usage: %s\n       replay [gen | info | convert] --help\n\n%s", rp__texts[k].usage,
            rp__texts[k].intro);
    const char *groups[] = {G_IN, G_RING, G_BOOK, G_SHM, G_PACE, G_NET, G_GEN, G_OUT};
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        bool any = false;
        for (size_t i = 0; i < RP__NOPTS; i++) {
            if (!(rp__opts[i].cmds & cmd) || rp__opts[i].group != groups[g]) continue;
            if (!any) fprintf(f, "\n%s:\n", groups[g]);
            any = true;
            rp_help_row(f, rp__opts[i].shortc, rp__opts[i].name, rp__opts[i].arg, rp__opts[i].help);
        }
    }
    fprintf(f, "\n%s", rp__texts[k].outro);
}

/* ---- parsing ----------------------------------------------------------------------------------
 */

int rp_usage_error(const char *prog, const char *what, const char *value)
{
    if (value)
        fprintf(stderr, "%s: %s '%s'\n", prog, what, value);
    else
        fprintf(stderr, "%s: %s\n", prog, what);
    fprintf(stderr, "%s: try '%s --help'\n", prog, prog);
    return RP_OPTS_USAGE;
}

/* Whether a BPF expression compiles for at least one common link type (the input's own link
 * type is known only when it is opened; the input layer compiles it again then).
 * @return 0 when it compiles, or -1 with libpcap's message for Ethernet in msg. */
static int rp__check_filter(const char *expr, char *msg, size_t cap)
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

/* Checks the operands: not empty, no empty name, stdin at most once. @return 0 or usage. */
static int rp__check_inputs(const rp_opts *o)
{
    if (o->nfiles <= 0) return rp_usage_error(o->prog, "no input files", NULL);
    int stdin_uses = 0;
    for (int i = 0; i < o->nfiles; i++) {
        if (o->files[i][0] == '\0') return rp_usage_error(o->prog, "empty file name", NULL);
        if (strcmp(o->files[i], "-") == 0) stdin_uses++;
    }
    if (stdin_uses > 1) return rp_usage_error(o->prog, "stdin ('-') can be read only once", NULL);
    if (stdin_uses && o->run.loops > 1)
        return rp_usage_error(o->prog, "--loop needs files it can reopen, not '-'", NULL);
    return 0;
}

/* The combinations each subcommand refuses. @return 0 or RP_OPTS_USAGE (printed). */
static int rp__check(rp_opts *o)
{
    const char *bad = NULL;
    if (o->cmd == RP_CMD_REPLAY && o->speed_set && o->pps_set)
        bad = "--speed and --pps cannot be combined";
    if (o->cmd == RP_CMD_REPLAY && o->shm_set && !o->run.shm_name)
        bad = "--shm-dir, --shm-mode, --shm-replace and --unlink need --shm NAME";
    if (o->cmd == RP_CMD_REPLAY && o->book_opt_set && !o->book)
        bad = "--book-depth, --book-orders, --book-on-empty, --book-alloc, --bbo, --bbo-format "
              "and --symbol need --book";
    if (o->cmd == RP_CMD_REPLAY && o->book && o->bbo && o->stats_csv &&
        strcmp(o->bbo, o->stats_csv) == 0)
        bad = "--bbo and --stats-csv name the same file";
    if (!bad && o->cmd == RP_CMD_REPLAY) bad = rp_options_check_net(o);
    if ((o->cmd & (RP_CMD_GEN | RP_CMD_CONVERT)) && (!o->output || !*o->output))
        bad = "-o OUT is required";
    if (o->cmd == RP_CMD_GEN && o->nfiles > 0)
        return rp_usage_error(o->prog, "unexpected argument", o->files[0]);
    if (o->cmd == RP_CMD_INFO && o->json && o->dump) bad = "--json and --dump cannot be combined";
    if (o->cmd == RP_CMD_INFO && !o->dump &&
        (o->dumpo.format || o->dumpo.type || o->dumpo.symbol || o->dumpo.ts_raw ||
         o->dumpo.px_raw || o->dumpo.limit))
        bad = "--dump-format, --type, --symbol, --ts, --px and --limit need --dump";
    if (o->cmd == RP_CMD_INFO && o->dumpo.format == RP_DUMP_CSV && !o->dumpo.type)
        bad = "--dump-format csv needs --type T (one message type per output)";
    if (!bad && o->cmd == RP_CMD_CONVERT) {
        o->zstd = o->zstd || rp_ends_with(o->output, ".zst");
        if (o->level_set && !o->zstd)
            bad = "--level needs a compressed output (OUT ending in .zst, or --zstd)";
        if (o->to_itch && (o->zstd || o->workers || o->frame_size))
            bad = "--to itch writes a plain file: no .zst OUT, --zstd, --level, --workers or "
                  "--frame-size";
    }
    if (!bad && o->output && o->json && strcmp(o->output, "-") == 0)
        bad = "--json needs stdout: it cannot be combined with -o -";
    if (bad) return rp_usage_error(o->prog, bad, NULL);
    const char *out = o->cmd == RP_CMD_REPLAY ? o->stats_csv : o->output;
    char why[PATH_MAX + 128];
    if (out &&
        rp_outfile_check(out, o->force, (const char *const *)o->files,
                         o->cmd == RP_CMD_GEN ? 0 : (size_t)o->nfiles, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: %s\n", o->prog, why);
        return RP_OPTS_USAGE;
    }
    if (o->cmd == RP_CMD_GEN && o->gen.format == RP_GEN_PCAP &&
        o->gen.messages < rp_gen_min_messages(o->gen.symbols)) {
        fprintf(stderr,
                "%s: --messages %" PRIu64 " is too small for %u symbols (at least %" PRIu64 ")\n",
                o->prog, o->gen.messages, o->gen.symbols, rp_gen_min_messages(o->gen.symbols));
        return RP_OPTS_USAGE;
    }
    if (o->bbo && rp_outfile_check(o->bbo, o->force, (const char *const *)o->files,
                                   (size_t)o->nfiles, why, sizeof(why)) != 0) {
        fprintf(stderr, "%s: --bbo: %s\n", o->prog, why);
        return RP_OPTS_USAGE;
    }
    if (o->book) { /* the book is reader 0; --readers N adds checkers beside it */
        o->run.readers = 1 + (o->readers_set ? o->run.readers : 0);
        if (o->run.readers > RP_RUN_MAX_READERS)
            return rp_usage_error(o->prog, "--book takes one reader: --readers 0..63 with it",
                                  NULL);
        if (!o->bbo_format)
            o->bbo_format =
                o->bbo && (rp_ends_with(o->bbo, ".json") || rp_ends_with(o->bbo, ".jsonl")) ? 2 : 1;
        o->booko.bbo_json = o->bbo_format == 2;
    }
    if (o->pps_set) o->run.pace.mode = RP_PACE_PPS;
    char msg[PCAP_ERRBUF_SIZE + 64];
    if (o->src.filter && rp__check_filter(o->src.filter, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "%s: bad --filter '%s': %s\n", o->prog, o->src.filter, msg);
        return RP_OPTS_USAGE;
    }
    return o->cmd == RP_CMD_GEN ? 0 : rp__check_inputs(o);
}

/* The subcommand's defaults. */
static void rp__defaults(rp_cmd cmd, rp_opts *o)
{
    static const char *const progs[] = {"replay", "replay gen", "replay info", "replay convert"};
    memset(o, 0, sizeof(*o));
    o->cmd = cmd;
    o->prog = progs[cmd == RP_CMD_GEN ? 1 : cmd == RP_CMD_INFO ? 2 : cmd == RP_CMD_CONVERT ? 3 : 0];
    o->run = (rp_run_config){.ring_size = 64u << 20,
                             .readers = 1,
                             .resume = RA_START_OLDEST,
                             .pace = {.mode = RP_PACE_MAX},
                             .loops = 1};
    o->gen = (rp_gen_opts){.messages = 10000, .seed = 1, .symbols = 8};
    rp_send_opts_default(&o->send);
}

void rp_getopt_add(rp_getopt *g, const char *name, int shortc, bool has_arg)
{
    if (g->n == 0) {
        g->shorts[0] = ':';
        g->nshorts = 1;
    }
    if (g->n >= RP_GETOPT_MAX) return;
    g->shortc[g->n] = shortc;
    g->longopts[g->n] =
        (struct option){name, has_arg ? required_argument : no_argument, NULL, 256 + (int)g->n};
    g->n++;
    if (shortc) {
        g->shorts[g->nshorts++] = (char)shortc;
        if (has_arg) g->shorts[g->nshorts++] = ':';
    }
    g->longopts[g->n] = (struct option){NULL, 0, NULL, 0};
    g->shorts[g->nshorts] = '\0';
}

int rp_getopt_next(rp_getopt *g, const char *prog, int argc, char **argv)
{
    if (!g->started) {
        g->started = true;
        opterr = 0;
        optind = 1;
    }
    int c = getopt_long(argc, argv, g->shorts, g->longopts, NULL);
    if (c == -1) return RP_GETOPT_END;
    for (size_t i = 0; i < g->n; i++)
        if (c == 256 + (int)i || (c < 256 && c == g->shortc[i])) return (int)i;
    char buf[8];
    const char *what = argv[optind - 1];
    if (optopt > 0 && optopt < 256) {
        snprintf(buf, sizeof(buf), "-%c", optopt);
        what = buf;
    }
    rp_usage_error(prog, c == ':' ? "missing value for" : "unknown option", what);
    return RP_GETOPT_USAGE;
}

int rp_usage_bad_value(const char *prog, const char *name, const char *hint, const char *value)
{
    char what[160];
    snprintf(what, sizeof(what), "bad --%s%s%s%s", name, hint ? " (" : "", hint ? hint : "",
             hint ? ")" : "");
    return rp_usage_error(prog, what, value);
}

int rp_options_parse(rp_cmd cmd, int argc, char **argv, rp_opts *o)
{
    rp__defaults(cmd, o);
    const rp__opt *rows[RP__NOPTS];
    rp_getopt g = {.n = 0};
    for (size_t i = 0; i < RP__NOPTS; i++) {
        const rp__opt *p = &rp__opts[i];
        if (!(p->cmds & cmd)) continue;
        rows[g.n] = p;
        rp_getopt_add(&g, p->name, p->shortc, p->arg != NULL);
    }
    int i;
    while ((i = rp_getopt_next(&g, o->prog, argc, argv)) >= 0) {
        const rp__opt *p = rows[i];
        if (p->shortc == 'h') {
            rp_options_help(cmd, stdout);
            return RP_OPTS_DONE;
        }
        if (p->shortc == 'V') {
            printf("replay (ringalloc) %s\n", ra_version_string());
            return RP_OPTS_DONE;
        }
        if (p->parse(o, optarg) != 0) return rp_usage_bad_value(o->prog, p->name, p->hint, optarg);
    }
    if (i == RP_GETOPT_USAGE) return RP_OPTS_USAGE;
    o->files = argv + optind;
    o->nfiles = argc - optind;
    return rp__check(o);
}
