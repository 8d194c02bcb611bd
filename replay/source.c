/* source.c - replay's input layer: open any supported capture or file, iterate its messages
 *
 * Design notes
 * - Input: every source reads through an rp_zread (zread.h), which detects zstd by its magic
 *   number and decompresses as a stream, and lets us peek at the first bytes even on a pipe. The
 *   format is then detected from those bytes (rp_source_detect()) unless opts->format forces it.
 * - pcap and pcapng are read by libpcap only: rp_zread_fopen() turns the reader into a
 *   fopencookie() FILE* that pcap_fopen_offline_with_tstamp_precision() reads (nanosecond
 *   precision for every file). Nothing is ever decompressed whole: memory is the reader's window,
 *   zstd's context, libpcap's packet buffer and the stream tables.
 * - A packet goes link -> IP -> UDP (framing.c), then is split by the framing chosen for its UDP
 *   flow: forced by opts->framing, or detected from the flow's first payload and remembered.
 *   Sequencing streams (MoldUDP64 session, IEX-TP channel + session) are a second table; each
 *   packet updates the gap counters of its stream before its messages are handed out one by one.
 * - Truncation versus error. At the end of input a record cut short (libpcap failing while the
 *   reader is at its end, an ITCH record whose bytes stop early, a zstd stream ending inside a
 *   frame) sets stats.truncated and ends the source normally; such a packet is not counted.
 *   Anything else that is wrong with the file structure (libpcap errors elsewhere, corrupt zstd,
 *   a MoldUDP64/IEX-TP count or length running past the end of a datagram that was captured whole)
 *   is an input error naming the file, the packet number and the byte offset. A datagram that the
 *   capture itself cut short (snaplen, first IP fragment) only counts as a decode error, like an
 *   ITCH message whose length does not match its type or a packet whose headers are malformed.
 * - by_type is counted for typed messages only (ITCH, MoldUDP64 and IEX-TP inner messages);
 *   messages of udp framing are RP_TYPE_NONE and only counted in `messages`.
 * - libpcap reads through a fully buffered cookie FILE (RP__PCAP_BUF bytes): an unbuffered one
 *   makes glibc hand libpcap's freads to the cookie one byte at a time (callgrind: 60% of the
 *   run). The exact offset of libpcap's position is then the reader's offset minus what the FILE
 *   buffer still holds (rp__pcap_pos()), so messages and truncation checks stay exact.
 * - Native tick files (rtk) are parsed by the library's ra_tick_decoder, fed with the reader's
 *   window (peek, push, drain, skip), so zstd is detected and decompressed in one place (zread)
 *   for every format and records are handed out in place. Mark records (docs/tickfile.md,
 *   "Replay conventions") carry each sequenced packet of the converted capture: they go through
 *   the same rp_seq_track() as the packets did, so gaps, missing, backward and heartbeats of the
 *   file equal those of its source; data records give messages and by_type.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framing.h"
#include "itch.h"
#include "zread.h"

#define RP__PEEK         512   /* bytes looked at for format detection */
#define RP__STREAM_LIMIT 65536 /* flows / sequencing streams remembered per source */
#define RP__NO_STREAM    0xFFFFFFFFu
#define RP__EXPECTED                                                                               \
    "expected pcap, pcapng, ITCH 5.0, a tick file (rtk), or any of them zstd-compressed"
#define RP__PCAP_BUF (64u * 1024) /* stdio buffer of the FILE that libpcap reads */

/* The last entry found in a stream table: most captures carry one flow and one session, so most
 * packets find their stream with one memcmp instead of a hash and a probe. The pointer stays
 * valid until the table gets a new entry, which only rp__lookup() adds (and then re-caches). */
typedef struct rp__cache {
    rp_stream *e;
    uint8_t klen;
    uint8_t key[RP_KEY_MAX];
} rp__cache;

struct rp_source {
    char name[256];
    rp_format fmt;
    rp_framing framing_opt;
    rp_zread *z;
    pcap_t *pcap;
    FILE *pfp;  /* the cookie FILE libpcap reads (owned by pcap) */
    char *pbuf; /* its stdio buffer (freed after pcap_close) */
    int linktype;
    uint64_t size;
    rp_feed_stats st;
    char err[768];
    bool failed, done, filtered, stamped;

    rp_streams flows, seqs;
    rp__cache flow_cache, seq_cache; /* the last stream looked up in each table */
    uint32_t next_id;
    unsigned framings_seen; /* bit per rp_framing used */
    rp_gaps gaps;
    uint64_t running; /* message count of sources without per-stream numbering */

    /* the packet being handed out */
    bool active;
    rp_framing kind;
    rp_frame fr;
    rp_frame_cursor cur;
    const uint8_t *udp; /* payload (udp framing) */
    size_t udp_len;
    uint32_t stream;
    uint64_t seq_udp;
    uint64_t ts;
    /* the mark of the packet just set up, handed out first by rp_source_next_event() */
    bool mark_ready;
    rp_mark mark;

    /* rtk */
    ra_tick_decoder *dec;
    size_t pushed; /* bytes of the reader's window given to the decoder, skipped once drained */
};

static void rp__fail(rp_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp__fail(rp_source *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->failed = true;
}

/* ---- names and detection -----------------------------------------------------------------------
 */

rp_format rp_source_detect(const uint8_t *p, size_t n)
{
    if (n >= 4) {
        static const uint8_t magics[4][4] = {
            {0xD4, 0xC3, 0xB2, 0xA1}, /* pcap us, little-endian */
            {0xA1, 0xB2, 0xC3, 0xD4}, /* pcap us, big-endian */
            {0x4D, 0x3C, 0xB2, 0xA1}, /* pcap ns, little-endian */
            {0xA1, 0xB2, 0x3C, 0x4D}, /* pcap ns, big-endian */
        };
        for (int i = 0; i < 4; i++)
            if (memcmp(p, magics[i], 4) == 0) return RP_FMT_PCAP;
        if (p[0] == 0x0A && p[1] == 0x0D && p[2] == 0x0D && p[3] == 0x0A) return RP_FMT_PCAPNG;
    }
    if (n >= 4 && memcmp(p, RA_TICK_MAGIC, 4) == 0) return RP_FMT_RTK; /* "\x89RTK" */
    if (rp_itch_detect(p, n)) return RP_FMT_ITCH;
    return RP_FMT_AUTO;
}

int rp_format_parse(const char *name, rp_format *out)
{
    static const struct {
        const char *name;
        rp_format fmt;
    } names[] = {{"auto", RP_FMT_AUTO}, {"pcap", RP_FMT_PCAP},   {"pcapng", RP_FMT_PCAPNG},
                 {"itch", RP_FMT_ITCH}, {"itch50", RP_FMT_ITCH}, {"rtk", RP_FMT_RTK}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].fmt;
            return 0;
        }
    }
    return -1;
}

int rp_framing_parse(const char *name, rp_framing *out)
{
    static const struct {
        const char *name;
        rp_framing framing;
    } names[] = {{"auto", RP_FRAMING_AUTO},
                 {"udp", RP_FRAMING_UDP},
                 {"moldudp64", RP_FRAMING_MOLDUDP64},
                 {"iextp", RP_FRAMING_IEXTP},
                 {"iex-tp", RP_FRAMING_IEXTP}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].framing;
            return 0;
        }
    }
    return -1;
}

static const char *rp__format_name(rp_format f)
{
    switch (f) {
    case RP_FMT_PCAP:
        return "pcap";
    case RP_FMT_PCAPNG:
        return "pcapng";
    case RP_FMT_ITCH:
        return "itch";
    case RP_FMT_RTK:
        return "rtk";
    default:
        return "unknown";
    }
}

static const char *rp__framing_name(rp_framing f)
{
    switch (f) {
    case RP_FRAMING_UDP:
        return "udp";
    case RP_FRAMING_MOLDUDP64:
        return "moldudp64";
    case RP_FRAMING_IEXTP:
        return "iextp";
    default:
        return "auto";
    }
}

/* ---- open --------------------------------------------------------------------------------------
 */

static int rp__open_pcap(rp_source *s, size_t peeked, const char *filter)
{
    /* libpcap's own message for a short header is terse; say how short */
    if (s->fmt == RP_FMT_PCAP && peeked < 24) {
        rp__fail(s, "%s: truncated pcap file header: %zu of 24 bytes", s->name, peeked);
        return -1;
    }
    if (s->fmt == RP_FMT_PCAPNG && peeked < 28) {
        rp__fail(s, "%s: truncated pcapng section header block: %zu of at least 28 bytes", s->name,
                 peeked);
        return -1;
    }
    FILE *fp = rp_zread_fopen(s->z);
    if (!fp) {
        rp__fail(s, "%s: fopencookie: %s", s->name, strerror(errno));
        return -1;
    }
    /* before any read (see the design notes). The buffer must be ours: after the _IONBF of
     * rp_zread_fopen(), glibc ignores a NULL one. Without it the FILE stays unbuffered (slow). */
    s->pbuf = malloc(RP__PCAP_BUF);
    if (s->pbuf) (void)setvbuf(fp, s->pbuf, _IOFBF, RP__PCAP_BUF);
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    s->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!s->pcap) {
        fclose(fp);
        if (rp_zread_failed(s->z))
            rp__fail(s, "%s", rp_zread_error(s->z));
        else
            rp__fail(s, "%s: not a readable %s file at byte offset 0: %s", s->name,
                     rp__format_name(s->fmt), ebuf);
        return -1;
    }
    s->pfp = fp;
    s->linktype = pcap_datalink(s->pcap);
    if (!rp_link_supported(s->linktype)) {
        const char *ln = pcap_datalink_val_to_name(s->linktype);
        rp__fail(s,
                 "%s: unsupported link type %d (%s): expected Ethernet, Linux cooked (SLL, SLL2), "
                 "raw IP or BSD loopback",
                 s->name, s->linktype, ln ? ln : "unknown");
        return -1;
    }
    if (filter && *filter) {
        struct bpf_program prog;
        if (pcap_compile(s->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            rp__fail(s, "%s: bad filter \"%s\": %s", s->name, filter, pcap_geterr(s->pcap));
            return -1;
        }
        int r = pcap_setfilter(s->pcap, &prog);
        pcap_freecode(&prog);
        if (r != 0) {
            rp__fail(s, "%s: cannot set filter \"%s\": %s", s->name, filter, pcap_geterr(s->pcap));
            return -1;
        }
        s->filtered = true;
    }
    return 0;
}

/* Fails with the decoder's error: file, offset in the .rtk stream, what. @return -1. */
static int rp__rtk_fail(rp_source *s)
{
    const ra_tick_error *e = ra_tick_decoder_error(s->dec);
    if (rp_zread_failed(s->z)) {
        rp__fail(s, "%s", rp_zread_error(s->z));
        return -1;
    }
    if (e->offset == RA_TICK_NO_OFFSET)
        rp__fail(s, "%s: tick file: %s", s->name, e->msg);
    else
        rp__fail(s, "%s: tick file, byte offset %llu%s: %s", s->name, (unsigned long long)e->offset,
                 rp_zread_compressed(s->z) ? " (after zstd decompression)" : "", e->msg);
    return -1;
}

/* Gives the decoder the next window of input (after skipping what it consumed).
 * @return 1 (pushed), 0 (end of input), or -1 with s->err set. */
static int rp__rtk_feed(rp_source *s)
{
    rp_zread_skip(s->z, s->pushed);
    s->pushed = 0;
    const uint8_t *p;
    ssize_t n = rp_zread_peek(s->z, RP_ZREAD_WINDOW, &p);
    if (n < 0) {
        rp__fail(s, "%s", rp_zread_error(s->z));
        return -1;
    }
    if (n == 0) return 0;
    if (ra_tick_decoder_push(s->dec, p, (size_t)n) != RA_OK) return rp__rtk_fail(s);
    s->pushed = (size_t)n;
    return 1;
}

/* Whether a comma-separated list of names holds `name`. */
static bool rp__has_name(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) return true;
        p = e ? e + 1 : p + len;
    }
    return false;
}

/* Reads the tick file header. @return 0, or -1 with s->err set. */
static int rp__open_rtk(rp_source *s)
{
    if (ra_tick_decoder_create(&s->dec) != RA_OK) {
        rp__fail(s, "%s: out of memory", s->name);
        return -1;
    }
    for (;;) {
        int rc = ra_tick_decoder_read_header(s->dec);
        if (rc == RA_OK) break;
        if (rc != RA_EMPTY) return rp__rtk_fail(s);
        int fed = rp__rtk_feed(s);
        if (fed < 0) return -1;
        if (fed == 0) {
            (void)ra_tick_decoder_finish(s->dec);
            return rp__rtk_fail(s); /* cut inside the header, or not a tick file */
        }
    }
    const ra_tick_info *info = ra_tick_decoder_info(s->dec);
    /* the type bytes of ITCH-derived messages print as characters (DESIGN.md by_type keys) */
    if (rp__has_name(info->source_format, "itch") || rp__has_name(info->framing, "moldudp64") ||
        rp__has_name(info->framing, "iextp"))
        s->st.type_is_char = true;
    return 0;
}

/* Detects the format and prepares its reader. @return 0, or -1 with s->err set. */
static int rp__start(rp_source *s, const rp_source_opts *opts)
{
    const uint8_t *p;
    ssize_t n = rp_zread_peek(s->z, RP__PEEK, &p);
    if (n < 0) {
        rp__fail(s, "%s", rp_zread_error(s->z));
        return -1;
    }
    bool z = rp_zread_compressed(s->z);
    if (n == 0) {
        if (z && rp_zread_truncated(s->z))
            rp__fail(s, "%s: zstd stream ends inside its first frame (%llu bytes)", s->name,
                     (unsigned long long)rp_zread_raw_offset(s->z));
        else
            rp__fail(s, "%s: empty%s (" RP__EXPECTED ")", s->name,
                     z ? " after zstd decompression" : " file");
        return -1;
    }
    s->fmt = opts && opts->format ? opts->format : rp_source_detect(p, (size_t)n);
    switch (s->fmt) {
    case RP_FMT_PCAP:
    case RP_FMT_PCAPNG:
        return rp__open_pcap(s, (size_t)n, opts ? opts->filter : NULL);
    case RP_FMT_ITCH:
        s->st.type_is_char = true;
        return 0;
    case RP_FMT_RTK:
        return rp__open_rtk(s);
    default: {
        char hex[3 * 8 + 1] = "";
        size_t hl = 0;
        for (ssize_t i = 0; i < n && i < 8; i++)
            hl += (size_t)snprintf(hex + hl, sizeof hex - hl, "%s%02x", i ? " " : "", p[i]);
        if (!(opts && opts->format))
            rp__fail(
                s, "%s: unrecognised format%s, starts with %s at byte offset 0 (" RP__EXPECTED ")",
                s->name, z ? " after zstd decompression" : "", hex);
        else
            rp__fail(s, "%s: unknown --format value %d", s->name, (int)opts->format);
        return -1;
    }
    }
}

static rp_source *rp__new(const char *name, const rp_source_opts *opts)
{
    rp_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->linktype = -1;
    s->framing_opt = opts ? opts->framing : RP_FRAMING_AUTO;
    rp_streams_init(&s->flows, RP__STREAM_LIMIT);
    rp_streams_init(&s->seqs, RP__STREAM_LIMIT);
    return s;
}

/* Shared tail of the open functions: takes the reader, starts the source. */
static int rp__finish_open(rp_source **out, rp_source *s, const rp_source_opts *opts, char *err,
                           size_t errlen)
{
    if (opts && opts->no_threads) rp_zread_no_readahead(s->z);
    if (rp__start(s, opts) != 0) {
        snprintf(err, errlen, "%s", s->err);
        rp_source_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

int rp_source_open(rp_source **out, const char *path, const rp_source_opts *opts, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!path) {
        snprintf(err, errlen, "no input file given");
        return -1;
    }
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "%s: cannot stat: %s", name, strerror(errno));
        if (!is_stdin) close(fd);
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: is a directory (expected a capture or ITCH file)", name);
        if (!is_stdin) close(fd);
        return -1;
    }
    rp_source *s = rp__new(name, opts);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name);
        if (!is_stdin) close(fd);
        return -1;
    }
    if (S_ISREG(sb.st_mode)) {
        s->size = (uint64_t)sb.st_size;
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    if (rp_zread_open_fd(&s->z, fd, !is_stdin, name, err, errlen) != 0) {
        rp_source_close(s);
        return -1;
    }
    return rp__finish_open(out, s, opts, err, errlen);
}

int rp_source_open_mem(rp_source **out, const void *data, size_t len, const char *name,
                       const rp_source_opts *opts, char *err, size_t errlen)
{
    *out = NULL;
    rp_source *s = rp__new(name ? name : "<memory>", opts);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<memory>");
        return -1;
    }
    s->size = len;
    if (rp_zread_open_mem(&s->z, data, len, s->name, err, errlen) != 0) {
        rp_source_close(s);
        return -1;
    }
    return rp__finish_open(out, s, opts, err, errlen);
}

int rp_source_open_stream(rp_source **out, FILE *fp, const char *name, const rp_source_opts *opts,
                          char *err, size_t errlen)
{
    *out = NULL;
    rp_source *s = rp__new(name ? name : "<stream>", opts);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<stream>");
        return -1;
    }
    if (rp_zread_open_file(&s->z, fp, s->name, err, errlen) != 0) {
        rp_source_close(s);
        return -1;
    }
    return rp__finish_open(out, s, opts, err, errlen);
}

/* ---- iteration ---------------------------------------------------------------------------------
 */

static void rp__stamp(rp_source *s, uint64_t ts)
{
    if (!s->stamped) s->st.first_ts_ns = ts;
    s->stamped = true;
    s->st.last_ts_ns = ts;
}

static void rp__deliver(rp_source *s, rp_message *m, const uint8_t *data, uint32_t len,
                        uint16_t type, uint32_t stream, uint64_t seq, uint64_t ts)
{
    m->data = data;
    m->len = len;
    m->type = type;
    m->stream = stream;
    m->seq = seq;
    m->ts_ns = ts;
    s->st.messages++;
    if (type != RP_TYPE_NONE) s->st.by_type[type & 0xFF]++;
}

/* Bytes the FILE that libpcap reads holds but libpcap has not taken yet (glibc's read buffer). */
static size_t rp__pcap_buffered(const rp_source *s)
{
    const FILE *f = s->pfp;
    return f && f->_IO_read_ptr && f->_IO_read_end > f->_IO_read_ptr
               ? (size_t)(f->_IO_read_end - f->_IO_read_ptr)
               : 0;
}

/* Input offset (decompressed) of libpcap's read position. */
static uint64_t rp__pcap_pos(const rp_source *s)
{
    return rp_zread_offset(s->z) - rp__pcap_buffered(s);
}

/* End of input: note truncation left by the decompressor. @return 0. */
static int rp__end(rp_source *s)
{
    if (rp_zread_truncated(s->z)) s->st.truncated = true;
    s->done = true;
    s->st.bytes = s->pcap ? rp__pcap_pos(s) : rp_zread_offset(s->z);
    return 0;
}

static int rp__next_itch(rp_source *s, rp_message *m)
{
    for (;;) {
        const uint8_t *p;
        ssize_t n = rp_zread_peek(s->z, 2, &p);
        if (n >= 2) n = rp_zread_peek(s->z, 2 + ((size_t)p[0] << 8 | p[1]), &p);
        if (n < 0) {
            rp__fail(s, "%s", rp_zread_error(s->z));
            return -1;
        }
        const uint8_t *msg;
        size_t len;
        size_t rec = rp_itch_record(p, (size_t)n, &msg, &len);
        if (rec == 0) { /* end of input, or a record cut short by it */
            if (n > 0) s->st.truncated = true;
            return rp__end(s);
        }
        rp_zread_skip(s->z, rec);
        s->st.packets++;
        s->st.bytes = rp_zread_offset(s->z);
        int c = rp_itch_check(msg, len);
        if (c == RP_ITCH_EMPTY || c == RP_ITCH_BADSIZE) {
            s->st.decode_errors++;
            continue;
        }
        uint64_t ts = rp_itch_timestamp(msg, len);
        rp__stamp(s, ts);
        rp__deliver(s, m, msg, (uint32_t)len, msg[0], 0, ++s->running, ts);
        return 1;
    }
}

/* ITCH 5.0 message sizes by type byte (0: not an ITCH 5.0 type), as rp_itch_size() gives them:
 * a table lookup on the per-message path instead of a call. */
static const uint8_t rp__itch_sizes[256] = {
    ['S'] = 12, ['R'] = 39, ['H'] = 25, ['Y'] = 20, ['L'] = 26, ['V'] = 35, ['W'] = 12, ['K'] = 28,
    ['J'] = 35, ['h'] = 21, ['A'] = 36, ['F'] = 40, ['E'] = 31, ['C'] = 36, ['X'] = 23, ['D'] = 19,
    ['U'] = 35, ['P'] = 44, ['Q'] = 40, ['B'] = 19, ['I'] = 50, ['N'] = 20, ['O'] = 48,
};

/* rp_streams_get() through the table's one-entry cache. */
static rp_stream *rp__lookup(rp_streams *t, rp__cache *c, const uint8_t *key, size_t klen,
                             bool *created)
{
    if (c->e && c->klen == klen && memcmp(c->key, key, klen) == 0) {
        *created = false;
        return c->e;
    }
    rp_stream *e = rp_streams_get(t, key, klen, created);
    c->e = e;
    if (e) {
        c->klen = (uint8_t)klen;
        memcpy(c->key, key, klen);
    }
    return e;
}

/* The next message of the current packet. The frame's lengths were all checked by
 * rp_frame_decode(), so this walks them inline (rp_frame_next() with its checks, without the
 * call: this is the per-message path). @return 1, or 0 when it has no more. */
static inline int rp__next_in_packet(rp_source *s, rp_message *m)
{
    if (s->kind == RP_FRAMING_UDP) {
        s->active = false;
        rp__deliver(s, m, s->udp, (uint32_t)s->udp_len, RP_TYPE_NONE, s->stream, s->seq_udp, s->ts);
        return 1;
    }
    const bool le = s->kind == RP_FRAMING_IEXTP;
    while (s->cur.index < s->fr.complete && s->fr.body_len - s->cur.off >= 2) {
        const uint8_t *q = s->fr.body + s->cur.off;
        uint16_t len = le ? (uint16_t)(q[0] | q[1] << 8) : (uint16_t)(q[0] << 8 | q[1]);
        if ((size_t)len > s->fr.body_len - s->cur.off - 2) break; /* cannot happen after decode */
        const uint8_t *msg = q + 2;
        s->cur.off += 2 + (size_t)len;
        s->cur.index++;
        uint64_t seq = s->fr.first_seq + s->cur.index - 1;
        if (len == 0 || (s->kind == RP_FRAMING_MOLDUDP64 && rp__itch_sizes[msg[0]] &&
                         rp__itch_sizes[msg[0]] != len)) { /* rp_itch_check() == BADSIZE */
            s->st.decode_errors++;
            continue;
        }
        rp__deliver(s, m, msg, len, msg[0], s->stream, seq, s->ts);
        return 1;
    }
    s->active = false;
    return 0;
}

/* Sets up the messages of one captured packet. @return 0 (possibly nothing to hand out), or -1. */
static int rp__packet(rp_source *s, const struct pcap_pkthdr *h, const uint8_t *d, uint64_t off)
{
    rp_udp u;
    switch (rp_link_udp(s->linktype, d, h->caplen, &u)) {
    case RP_LINK_UDP:
        break;
    case RP_LINK_NOT_UDP:
        s->st.non_udp++;
        return 0;
    case RP_LINK_FRAGMENT:
        s->st.fragments++;
        return 0;
    default:
        s->st.decode_errors++;
        return 0;
    }
    bool complete = u.complete && h->caplen >= h->len;

    uint8_t key[RP_KEY_MAX];
    bool created;
    rp_stream *flow =
        rp__lookup(&s->flows, &s->flow_cache, key, rp_udp_flow_key(&u, key), &created);
    rp_framing kind = s->framing_opt;
    if (flow && created) flow->id = s->next_id++;
    if (kind == RP_FRAMING_AUTO) {
        if (flow && !created) {
            kind = flow->framing;
        } else {
            kind = rp_frame_detect(u.payload, u.len, complete);
            if (flow) flow->framing = kind;
        }
    }
    s->framings_seen |= 1u << kind;
    s->kind = kind;

    if (kind == RP_FRAMING_UDP) {
        s->udp = u.payload;
        s->udp_len = u.len;
        s->stream = flow ? flow->id : RP__NO_STREAM;
        s->seq_udp = flow ? ++flow->seq.expected : ++s->running;
        s->active = true;
        return 0;
    }

    int st = rp_frame_decode(kind, u.payload, u.len, &s->fr);
    if (st == RP_FRAME_SHORT || st == RP_FRAME_BADHDR) {
        s->st.decode_errors++;
        return 0;
    }
    if (st == RP_FRAME_OVERRUN) {
        if (complete) {
            rp__fail(s, "%s: packet %llu at byte offset %llu: %s", s->name,
                     (unsigned long long)s->st.packets, (unsigned long long)off, s->fr.why);
            return -1;
        }
        s->st.decode_errors++; /* the capture cut it: use the messages that are there */
    }
    rp_stream *seq = rp__lookup(&s->seqs, &s->seq_cache, s->fr.key, s->fr.klen, &created);
    if (seq && created) seq->id = s->next_id++;
    if (seq) {
        rp_seq_track(&seq->seq, s->fr.first_seq, s->fr.heartbeat ? 0 : s->fr.count, &s->gaps);
        s->st.gaps = s->gaps.gaps;
        s->st.missing = s->gaps.missing;
        s->st.backward = s->gaps.backward;
    }
    s->st.type_is_char = true;
    s->mark = (rp_mark){.seq = s->fr.first_seq,
                        .ts_ns = s->ts,
                        .stream = seq ? seq->id : RP__NO_STREAM,
                        .count = s->fr.heartbeat ? 0 : s->fr.count,
                        .heartbeat = s->fr.heartbeat,
                        .end_of_session = s->fr.end_of_session,
                        .framing = kind};
    s->mark_ready = true;
    if (s->fr.heartbeat) {
        s->st.heartbeats++;
        return 0;
    }
    s->stream = seq ? seq->id : RP__NO_STREAM;
    s->cur.off = 0;
    s->cur.index = 0;
    s->active = true;
    return 0;
}

static int rp__next_pcap(rp_source *s, rp_message *m, rp_mark *mk)
{
    for (;;) {
        if (s->mark_ready) {
            s->mark_ready = false;
            if (mk) {
                *mk = s->mark;
                return 2;
            }
        }
        if (s->active && rp__next_in_packet(s, m)) return 1;
        struct pcap_pkthdr *h;
        const u_char *d;
        uint64_t off = rp__pcap_pos(s);
        int r = pcap_next_ex(s->pcap, &h, &d);
        if (r == PCAP_ERROR_BREAK) return rp__end(s); /* end of the capture */
        if (r == PCAP_ERROR) {
            if (rp_zread_failed(s->z)) {
                rp__fail(s, "%s", rp_zread_error(s->z));
                return -1;
            }
            if (rp_zread_at_eof(s->z) && rp__pcap_buffered(s) == 0) { /* last packet cut */
                s->st.truncated = true;
                return rp__end(s);
            }
            if (s->filtered) off = rp__pcap_pos(s);
            rp__fail(s, "%s: packet %llu at byte offset %llu: %s", s->name,
                     (unsigned long long)s->st.packets + 1, (unsigned long long)off,
                     pcap_geterr(s->pcap));
            return -1;
        }
        if (r != 1) continue;
        s->st.packets++;
        s->st.bytes = rp__pcap_pos(s);
        s->ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
        rp__stamp(s, s->ts);
        if (rp__packet(s, h, d, off) != 0) return -1;
    }
}

/* A mark record of a tick file: the packet's accounting, as rp__packet() did it. */
static void rp__rtk_mark(rp_source *s, const ra_tick_mark *k, rp_mark *out)
{
    rp_framing f = k->framing == RA_TICK_FRAMING_MOLDUDP64 ? RP_FRAMING_MOLDUDP64
                   : k->framing == RA_TICK_FRAMING_IEXTP   ? RP_FRAMING_IEXTP
                                                           : RP_FRAMING_AUTO;
    bool hb = (k->flags & RA_TICK_MARK_HEARTBEAT) != 0;
    if (f != RP_FRAMING_AUTO) s->framings_seen |= 1u << f;
    s->st.type_is_char = true;
    rp__stamp(s, k->ts_ns);
    if (k->stream != RP__NO_STREAM) {
        uint8_t key[5] = {'S', (uint8_t)k->stream, (uint8_t)(k->stream >> 8),
                          (uint8_t)(k->stream >> 16), (uint8_t)(k->stream >> 24)};
        bool created;
        rp_stream *q = rp__lookup(&s->seqs, &s->seq_cache, key, sizeof key, &created);
        if (q) {
            rp_seq_track(&q->seq, k->seq, hb ? 0 : k->count, &s->gaps);
            s->st.gaps = s->gaps.gaps;
            s->st.missing = s->gaps.missing;
            s->st.backward = s->gaps.backward;
        }
    }
    if (hb) s->st.heartbeats++;
    *out = (rp_mark){.seq = k->seq,
                     .ts_ns = k->ts_ns,
                     .stream = k->stream,
                     .count = hb ? 0 : k->count,
                     .heartbeat = hb,
                     .end_of_session = (k->flags & RA_TICK_MARK_END_OF_SESSION) != 0,
                     .framing = f};
}

static int rp__next_rtk(rp_source *s, rp_message *m, rp_mark *mk)
{
    for (;;) {
        ra_tick_record rec;
        ra_tick_mark k;
        uint16_t kind;
        int rc = ra_tick_decoder_next_event(s->dec, &rec, &k, &kind);
        if (rc == RA_OK && kind == RA_TICK_KIND_DATA) {
            s->st.packets++;
            rp__stamp(s, rec.ts_ns);
            if (rec.type == RP_TYPE_NONE) s->framings_seen |= 1u << RP_FRAMING_UDP;
            rp__deliver(s, m, rec.data, rec.len, rec.type, rec.stream, rec.seq, rec.ts_ns);
            return 1;
        }
        if (rc == RA_OK) {
            rp_mark out;
            rp__rtk_mark(s, &k, &out);
            if (mk) {
                *mk = out;
                return 2;
            }
            continue;
        }
        if (rc != RA_EMPTY) return rp__rtk_fail(s);
        int fed = rp__rtk_feed(s);
        if (fed < 0) return -1;
        if (fed > 0) continue;
        rc = ra_tick_decoder_finish(s->dec);
        if (rc == RA_ETRUNC) {
            s->st.truncated = true; /* every complete record was delivered */
        } else if (rc != RA_OK) {
            return rp__rtk_fail(s);
        }
        return rp__end(s);
    }
}

static inline int rp__next(rp_source *s, rp_message *m, rp_mark *mk)
{
    /* the common case first: the next message of a packet already set up */
    if (s->active && !s->mark_ready && rp__next_in_packet(s, m)) return 1;
    if (s->failed) return -1;
    if (s->done) return 0;
    if (s->fmt == RP_FMT_ITCH) return rp__next_itch(s, m);
    if (s->fmt == RP_FMT_RTK) return rp__next_rtk(s, m, mk);
    return rp__next_pcap(s, m, mk);
}

int rp_source_next(rp_source *s, rp_message *m)
{
    return rp__next(s, m, NULL);
}

/* Up to max more messages of the current MoldUDP64 / IEX-TP packet: rp__next_in_packet() in a
 * loop, with the cursor and the packet's fields in locals (the stores into m could alias s as
 * far as the compiler knows, which would reload them for every message). @return how many. */
static size_t rp__rest_of_packet(rp_source *s, rp_message *m, size_t max)
{
    const bool le = s->kind == RP_FRAMING_IEXTP, mold = s->kind == RP_FRAMING_MOLDUDP64;
    const uint8_t *const body = s->fr.body;
    const size_t body_len = s->fr.body_len;
    const uint64_t complete = s->fr.complete, first = s->fr.first_seq, ts = s->ts;
    const uint32_t stream = s->stream;
    uint64_t *const by_type = s->st.by_type;
    size_t off = s->cur.off, k = 0;
    uint64_t index = s->cur.index, errors = 0;
    while (k < max && index < complete && body_len - off >= 2) {
        const uint8_t *q = body + off;
        uint16_t len = le ? (uint16_t)(q[0] | q[1] << 8) : (uint16_t)(q[0] << 8 | q[1]);
        if ((size_t)len > body_len - off - 2) break; /* cannot happen after decode */
        const uint8_t *msg = q + 2;
        off += 2 + (size_t)len;
        index++;
        if (len == 0 || (mold && rp__itch_sizes[msg[0]] && rp__itch_sizes[msg[0]] != len)) {
            errors++; /* rp_itch_check() == BADSIZE */
            continue;
        }
        m[k++] = (rp_message){.data = msg,
                              .len = len,
                              .type = msg[0],
                              .stream = stream,
                              .seq = first + index - 1,
                              .ts_ns = ts};
        by_type[msg[0]]++;
    }
    s->cur.off = off;
    s->cur.index = (uint32_t)index;
    s->st.messages += k;
    s->st.decode_errors += errors;
    return k;
}

int rp_source_next_batch(rp_source *s, rp_message *m, size_t max, size_t *n)
{
    *n = 0;
    if (max == 0) return s->failed ? -1 : s->done ? 0 : 1;
    int rc = rp__next(s, m, NULL);
    if (rc != 1) return rc;
    size_t k = 1;
    if (s->fmt != RP_FMT_ITCH && s->fmt != RP_FMT_RTK && s->active && !s->mark_ready &&
        s->kind != RP_FRAMING_UDP)
        k += rp__rest_of_packet(s, m + 1, max - 1);
    *n = k;
    return 1;
}

int rp_source_next_event(rp_source *s, rp_message *m, rp_mark *mk)
{
    return rp__next(s, m, mk);
}

/* ---- accessors ---------------------------------------------------------------------------------
 */

const rp_feed_stats *rp_source_stats(const rp_source *s)
{
    return &s->st;
}

const char *rp_source_error(const rp_source *s)
{
    return s->err;
}

const char *rp_source_format_name(const rp_source *s)
{
    return rp__format_name(s->fmt);
}

bool rp_source_compressed(const rp_source *s)
{
    return s->z && rp_zread_compressed(s->z);
}

int rp_source_linktype(const rp_source *s)
{
    return s->pcap ? s->linktype : -1;
}

const char *rp_source_framing_name(const rp_source *s)
{
    unsigned seen = s->framings_seen;
    if (seen == 0) return "none";
    if (seen & (seen - 1)) return "mixed";
    for (int f = RP_FRAMING_UDP; f <= RP_FRAMING_IEXTP; f++)
        if (seen == 1u << f) return rp__framing_name((rp_framing)f);
    return "none";
}

/* Formats an IPv4 or IPv6 address (network order) into buf. */
static void rp__addr(char *buf, size_t cap, uint8_t af, const uint8_t *a)
{
    if (af == 4) {
        snprintf(buf, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        return;
    }
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < 16 && k < cap; i += 2)
        k += (size_t)snprintf(buf + k, cap - k, "%s%x", i ? ":" : "",
                              (unsigned)(a[i] << 8 | a[i + 1]));
}

static const rp_stream *rp__find_id(const rp_streams *t, uint32_t id)
{
    for (size_t i = 0; t->slot && i < t->cap; i++)
        if (t->slot[i].klen && t->slot[i].id == id) return &t->slot[i];
    return NULL;
}

int rp_source_stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap)
{
    if (cap == 0) return -1;
    if (s->fmt == RP_FMT_RTK) {
        const ra_tick_stream *t = s->dec ? ra_tick_decoder_stream(s->dec, id) : NULL;
        if (!t) return -1;
        snprintf(buf, cap, "%s", t->desc);
        return 0;
    }
    if (s->fmt == RP_FMT_ITCH) {
        if (id != 0) return -1;
        snprintf(buf, cap, "itch");
        return 0;
    }
    const rp_stream *q = rp__find_id(&s->seqs, id);
    if (q && q->key[0] == 'M' && q->klen == 11) {
        char sess[11];
        for (int i = 0; i < 10; i++) {
            uint8_t c = q->key[1 + i];
            sess[i] = c >= 0x20 && c < 0x7F ? (char)c : '?';
        }
        sess[10] = '\0';
        snprintf(buf, cap, "moldudp64 session %s", sess);
        return 0;
    }
    if (q && q->key[0] == 'I' && q->klen == 9) {
        const uint8_t *k = q->key + 1; /* channel id, session id: little-endian u32 each */
        unsigned long ch = (unsigned long)k[0] | (unsigned long)k[1] << 8 |
                           (unsigned long)k[2] << 16 | (unsigned long)k[3] << 24;
        unsigned long se = (unsigned long)k[4] | (unsigned long)k[5] << 8 |
                           (unsigned long)k[6] << 16 | (unsigned long)k[7] << 24;
        snprintf(buf, cap, "iextp channel %lu session %lu", ch, se);
        return 0;
    }
    q = rp__find_id(&s->flows, id);
    if (!q || q->klen < 1) return -1;
    uint8_t af = q->key[0];
    size_t alen = af == 6 ? 16 : 4;
    if (q->klen != 1 + 2 * alen + 4) return -1;
    char src[48], dst[48];
    rp__addr(src, sizeof src, af, q->key + 1);
    rp__addr(dst, sizeof dst, af, q->key + 1 + alen);
    const uint8_t *ports = q->key + 1 + 2 * alen;
    snprintf(buf, cap, af == 6 ? "udp [%s]:%u > [%s]:%u" : "udp %s:%u > %s:%u", src,
             (unsigned)(ports[0] << 8 | ports[1]), dst, (unsigned)(ports[2] << 8 | ports[3]));
    return 0;
}

const ra_tick_info *rp_source_tick_info(const rp_source *s)
{
    return s->dec ? ra_tick_decoder_info(s->dec) : NULL;
}

uint64_t rp_source_fill(const rp_source *s)
{
    return s->z ? rp_zread_filled(s->z) : 0;
}

uint64_t rp_source_offset(const rp_source *s)
{
    return s->z ? rp_zread_raw_offset(s->z) : 0;
}

uint64_t rp_source_size(const rp_source *s)
{
    return s->size;
}

void rp_source_close(rp_source *s)
{
    if (!s) return;
    if (s->pcap) pcap_close(s->pcap); /* closes the cookie FILE, not the reader */
    free(s->pbuf);
    ra_tick_decoder_destroy(s->dec);
    rp_zread_close(s->z);
    rp_streams_free(&s->flows);
    rp_streams_free(&s->seqs);
    free(s);
}
