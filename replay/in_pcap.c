/* in_pcap.c - replay's pcap and pcapng input: libpcap reads, link.c decodes, framing.c splits
 *
 * Design notes
 * - libpcap reads through rp_zread_fopen(): a fopencookie() FILE* over the source's reader, so
 *   zstd is handled below libpcap and nothing is ever decompressed whole.
 *   pcap_fopen_offline_with_tstamp_precision() asks for nanoseconds from every file.
 * - That FILE is fully buffered (RP__PCAP_BUF bytes): an unbuffered one makes glibc hand libpcap's
 *   freads to the cookie one byte at a time (callgrind: 60% of the run). The exact offset of
 *   libpcap's position is then the reader's offset minus what the FILE buffer still holds
 *   (rp__pos()), so messages and truncation checks stay exact.
 * - A packet goes rp_link_udp() (link layer to UDP, no pcap knowledge) -> rp_framer_payload()
 *   (flow key, payload, timestamp): the same path a socket reader would take after recvfrom().
 * - The BPF filter (-F) is compiled here and run with pcap_offline_filter() on every packet read,
 *   rather than installed in libpcap: the source then sees the packets the filter rejects, so it
 *   numbers packets as they are in the file and can tell, when the filter matched nothing,
 *   whether the capture's packets carry VLAN tags (a filter must then say `vlan and ...`).
 * - A packet sink (rp_source_opts.sink: replay --send) gets every UDP datagram whole, right after
 *   the framer took it and before its messages are handed out.
 * - A damaged packet (a MoldUDP64/IEX-TP length past the end of a whole datagram) is a decode
 *   error and a warning naming its packet number and byte offset (an error with --strict).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "input.h"

#define RP__PCAP_BUF (64u * 1024) /* stdio buffer of the FILE that libpcap reads */

typedef struct rp__pcap {
    pcap_t *pcap;
    FILE *fp;  /* the cookie FILE libpcap reads (owned by pcap) */
    char *buf; /* its stdio buffer (freed after pcap_close) */
    int linktype;
    struct bpf_program prog;
    bool filtered;
    uint64_t read;  /* packets read from the file, filtered out or not */
    uint64_t vlan;  /* of them, Ethernet frames with VLAN tags */
    uint64_t first; /* input offset of the first packet record (after the file header) */
    rp_framer fr;
} rp__pcap;

static bool rp__probe_pcap(const uint8_t *p, size_t n)
{
    static const uint8_t magics[4][4] = {
        {0xD4, 0xC3, 0xB2, 0xA1}, /* us, little-endian */
        {0xA1, 0xB2, 0xC3, 0xD4}, /* us, big-endian */
        {0x4D, 0x3C, 0xB2, 0xA1}, /* ns, little-endian */
        {0xA1, 0xB2, 0x3C, 0x4D}, /* ns, big-endian */
    };
    for (int i = 0; n >= 4 && i < 4; i++)
        if (memcmp(p, magics[i], 4) == 0) return true;
    return false;
}

static bool rp__probe_pcapng(const uint8_t *p, size_t n)
{
    return n >= 4 && p[0] == 0x0A && p[1] == 0x0D && p[2] == 0x0D && p[3] == 0x0A;
}

/* Bytes the FILE that libpcap reads holds but libpcap has not taken yet (glibc's read buffer). */
static size_t rp__buffered(const rp__pcap *b)
{
    const FILE *f = b->fp;
    return f && f->_IO_read_ptr && f->_IO_read_end > f->_IO_read_ptr
               ? (size_t)(f->_IO_read_end - f->_IO_read_ptr)
               : 0;
}

/* Input offset (decompressed) of libpcap's read position. */
static uint64_t rp__pos(const rp_source *s)
{
    return rp_zread_offset(s->z) - rp__buffered(s->be);
}

/* Compiles opts.filter. @return 0, or -1 after rp_source_fail(). */
static int rp__filter(rp_source *s, rp__pcap *b)
{
    const char *filter = s->opts.filter;
    if (!filter || !*filter) return 0;
    if (pcap_compile(b->pcap, &b->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        rp_source_fail(s, "%s: bad filter \"%s\": %s", s->name, filter, pcap_geterr(b->pcap));
        return -1;
    }
    b->filtered = true;
    return 0;
}

static int rp__open(rp_source *s, size_t peeked)
{
    bool ng = s->in == &rp_input_pcapng;
    /* libpcap's own message for a short header is terse; say how short */
    if (!ng && peeked < 24) {
        rp_source_fail(s, "%s: truncated pcap file header: %zu of 24 bytes", s->name, peeked);
        return -1;
    }
    if (ng && peeked < 28) {
        rp_source_fail(s, "%s: truncated pcapng section header block: %zu of at least 28 bytes",
                       s->name, peeked);
        return -1;
    }
    rp__pcap *b = calloc(1, sizeof *b);
    if (!b) {
        rp_source_fail(s, "%s: out of memory", s->name);
        return -1;
    }
    s->be = b;
    rp_framer_init(&b->fr, s->opts.framing, &s->st);
    FILE *fp = rp_zread_fopen(s->z);
    if (!fp) {
        rp_source_fail(s, "%s: fopencookie: %s", s->name, strerror(errno));
        return -1;
    }
    /* before any read (see the design notes). The buffer must be ours: after the _IONBF of
     * rp_zread_fopen(), glibc ignores a NULL one. Without it the FILE stays unbuffered (slow). */
    b->buf = malloc(RP__PCAP_BUF);
    if (b->buf) (void)setvbuf(fp, b->buf, _IOFBF, RP__PCAP_BUF);
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    b->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!b->pcap) {
        fclose(fp);
        if (rp_zread_failed(s->z)) return rp_source_fail_zread(s);
        rp_source_fail(s, "%s: not a readable %s file at byte offset 0: %s", s->name, s->in->name,
                       ebuf);
        return -1;
    }
    b->fp = fp;
    b->first = rp__pos(s);
    b->linktype = pcap_datalink(b->pcap);
    if (!rp_link_supported(b->linktype)) {
        const char *ln = pcap_datalink_val_to_name(b->linktype);
        rp_source_fail(s,
                       "%s: unsupported link type %d (%s): expected Ethernet, Linux cooked (SLL, "
                       "SLL2), raw IP or BSD loopback",
                       s->name, b->linktype, ln ? ln : "unknown");
        return -1;
    }
    return rp__filter(s, b);
}

/* Sets up the messages of one captured packet (read at byte offset off). @return 0, or -1. */
static int rp__packet(rp_source *s, rp__pcap *b, const struct pcap_pkthdr *h, const uint8_t *d,
                      uint64_t off)
{
    rp_udp u;
    switch (rp_link_udp(b->linktype, d, h->caplen, &u)) {
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
    uint8_t key[RP_KEY_MAX];
    size_t klen = rp_udp_flow_key(&u, key);
    bool complete = u.complete && h->caplen >= h->len;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
    int fr = rp_framer_payload(&b->fr, key, klen, u.payload, u.len, complete, ts);
    const rp_packet_sink *sink = s->opts.sink;
    if (sink) {
        rp_packet pk = {.udp = &u, .ts_ns = ts};
        pk.sequenced = rp_framer_announced(&b->fr, &pk.messages, &pk.seq);
        sink->packet(sink->ctx, &pk);
    }
    if (fr == RP_FRAMER_OK) return 0;
    return rp_source_damaged(s, "packet", "packet %llu at byte offset %llu: %s",
                             (unsigned long long)b->read, (unsigned long long)off, b->fr.fr.why);
}

/* The filter matched no packet: say so, and why when VLAN tags are the likely reason. */
static void rp__filter_warn(rp_source *s, const rp__pcap *b)
{
    const char *f = s->opts.filter;
    if (b->vlan && !strstr(f, "vlan"))
        rp_source_warn(s,
                       "filter '%s' matched none of its %llu packets; %llu of them carry VLAN "
                       "tags, which a filter must name first: try -F 'vlan and %s'",
                       f, (unsigned long long)b->read, (unsigned long long)b->vlan, f);
    else
        rp_source_warn(s, "filter '%s' matched none of its %llu packets", f,
                       (unsigned long long)b->read);
}

/* End of the capture (or of its readable part). @return 0. */
static int rp__end(rp_source *s, rp__pcap *b)
{
    if (b->filtered && s->st.packets == 0) rp__filter_warn(s, b);
    return rp_source_end(s, rp__pos(s));
}

/* Reads the next packet libpcap has, which starts at byte offset off.
 * @return 1 (read, h and d set), 0 (end), -1 (error). */
static int rp__read(rp_source *s, rp__pcap *b, uint64_t off, struct pcap_pkthdr **h,
                    const u_char **d)
{
    int r;
    while ((r = pcap_next_ex(b->pcap, h, d)) == 0) continue; /* 0: live captures only */
    if (r == 1) return 1;
    if (r == PCAP_ERROR_BREAK) return rp__end(s, b); /* end of the capture */
    if (rp_zread_failed(s->z)) return rp_source_fail_zread(s);
    if (rp_zread_at_eof(s->z) && rp__buffered(b) == 0) { /* last packet cut */
        s->st.truncated = true;
        return rp__end(s, b);
    }
    rp_source_fail(s, "%s: packet %llu at byte offset %llu: %s", s->name,
                   (unsigned long long)b->read + 1, (unsigned long long)off, pcap_geterr(b->pcap));
    return -1;
}

static int rp__next(rp_source *s, rp_message *m, size_t max, size_t *n, rp_mark *mk)
{
    rp__pcap *b = s->be;
    for (;;) {
        if (mk && rp_framer_take_mark(&b->fr, mk)) return 2;
        size_t k = rp_framer_take(&b->fr, m, max);
        if (k) {
            *n = k;
            return 1;
        }
        uint64_t off = rp__pos(s);
        struct pcap_pkthdr *h;
        const u_char *d;
        int r = rp__read(s, b, off, &h, &d);
        if (r != 1) return r;
        b->read++;
        if (b->filtered) {
            if (rp_link_vlan_tagged(b->linktype, d, h->caplen)) b->vlan++;
            if (!pcap_offline_filter(&b->prog, h, d)) continue;
        }
        s->st.packets++;
        s->st.bytes = rp__pos(s);
        rp_feed_stamp(&s->st, (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec);
        if (rp__packet(s, b, h, d, off) != 0) return -1;
    }
}

static void rp__close(rp_source *s)
{
    rp__pcap *b = s->be;
    if (!b) return;
    if (b->pcap) pcap_close(b->pcap); /* closes the cookie FILE, not the reader */
    if (b->filtered) pcap_freecode(&b->prog);
    free(b->buf);
    rp_framer_free(&b->fr);
}

/* Back to the first packet with libpcap kept open: the reader (uncompressed memory only) goes to
 * the first record and the FILE drops what it buffered, so libpcap's next read is that record.
 * Classic pcap only: a pcapng file may hold interface blocks after its first packet, which
 * libpcap would add again on a second reading. */
static int rp__rewind(rp_source *s)
{
    rp__pcap *b = s->be;
    if (s->in != &rp_input_pcap || !b || !b->pcap || rp_zread_rewind(s->z, b->first) != 0) return 1;
    __fpurge(b->fp);
    clearerr(b->fp);
    rp_source_restart(s);
    rp_framer_free(&b->fr);
    rp_framer_init(&b->fr, s->opts.framing, &s->st);
    b->read = b->vlan = 0;
    return 0;
}

static int rp__stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap)
{
    const rp__pcap *b = s->be;
    return b ? rp_framer_stream_desc(&b->fr, id, buf, cap) : -1;
}

static size_t rp__flows(const rp_source *s, rp_flow_info *out, size_t max)
{
    const rp__pcap *b = s->be;
    return rp_framer_flows(&b->fr, out, max);
}

static void rp__describe(const rp_source *s, rp_input_desc *d)
{
    const rp__pcap *b = s->be;
    if (b->pcap) d->linktype = b->linktype;
}

/* pcap and pcapng differ only in their magic numbers: libpcap reads both */
#define RP__LIBPCAP_OPS                                                                            \
    .open = rp__open, .next = rp__next, .close = rp__close, .stream_desc = rp__stream_desc,        \
    .flows = rp__flows, .describe = rp__describe, .rewind = rp__rewind

const rp_input rp_input_pcap = {
    .name = "pcap", .label = "pcap", .probe = rp__probe_pcap, RP__LIBPCAP_OPS};

const rp_input rp_input_pcapng = {
    .name = "pcapng", .label = "pcapng", .probe = rp__probe_pcapng, RP__LIBPCAP_OPS};
