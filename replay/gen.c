/* gen.c - `replay gen`: a deterministic synthetic ITCH 5.0 / MoldUDP64 / UDP capture
 *
 * Design notes.
 * - Determinism: one splitmix64 stream seeded with --seed drives every choice (symbol names are
 *   fixed, timestamps start at a fixed date), and the pcap file header written by libpcap holds
 *   nothing time- or host-dependent, so the same options give a byte-identical file.
 * - The session: system event 'O' (start of messages), one stock directory 'R' per symbol, 'S'
 *   (start of system hours), 'Q' (start of market hours), then order flow, then 'M', 'E', 'C'
 *   (end of market hours, end of system hours, end of messages), then the MoldUDP64 end-of-session
 *   packet (message count 0xFFFF). --messages counts every ITCH message in the file.
 * - Order flow keeps its own book per symbol and side (gen_book.h: live orders with their best
 *   price), so the books it describes are realistic and never cross or lock. Each symbol has a mid
 * that drifts by a cent now and then and stays within the spread; adds (A, F) rest 1..16 ticks
 * behind it, mostly a few, and never at or through the other side's best. Executes (E, C) take all
 * or part of an order at the best price of a side, at its price; cancels (X, partial), deletes (D)
 * and replaces (U: new reference, size and price, same side) name any live order and remove it when
 *   no shares remain; trades (P) are non-displayed, at the mid, and name order 0 as Nasdaq does.
 *   Live orders are capped (RP__MAX_LIVE): at the cap an add becomes a delete.
 * - Timestamps are ns since midnight US/Eastern of 2024-01-02, starting at 09:30; each message
 *   is 1..20000 ns after the previous. A packet's capture time is its last message's time plus
 *   2 us (wire + capture latency).
 * - Packets: messages are batched into a MoldUDP64 payload of at most RP_GEN_MAX_PAYLOAD bytes;
 *   a batch also ends at random (1 in 12 after each message) to give realistic size variety.
 *   Each packet is Ethernet / IPv4 / UDP to 233.54.12.111:26477 with correct IPv4 and UDP
 *   checksums, written through libpcap (pcap_open_dead + pcap_dump_fopen), ns timestamps.
 * - Gaps: before every gap_every-th data packet (never the first) the sequence number jumps by
 *   1..8, as if packets were lost; heartbeats (count 0, carrying the next sequence number) follow
 *   every heartbeat_every-th data packet. Replay counts each jump as one gap and its size as
 *   missing, and each heartbeat and the end-of-session packet as heartbeats.
 */
#include "gen.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/byteorder.h"
#include "gen_book.h"
#include "outfile.h"
#include "util.h"

#define RP__MAX_LIVE 4096u
#define RP__MIDNIGHT_NS                                                                            \
    UINT64_C(1704171600000000000)               /* 2024-01-02 00:00 US/Eastern (05:00 UTC)         \
                                                 */
#define RP__OPEN_NS    UINT64_C(34200000000000) /* 09:30:00 in ns since midnight */
#define RP__ETH_IP_UDP 42u                      /* 14 + 20 + 8 header bytes */
#define RP__MOLD_HDR   20u                      /* session: 10 bytes, sequence 8, count 2 */

#define RP__TICK 100 /* one cent: ITCH prices have 4 decimals */

typedef struct rp__gen {
    const rp_gen_opts *o;
    rp_gen_result *res;
    uint64_t rng;
    uint64_t t_ns;     /* ITCH timestamp of the last message */
    uint64_t next_ref; /* next order reference number */
    uint64_t next_match;
    uint64_t seq; /* MoldUDP64 sequence number of the next message */
    uint16_t ip_id;
    rp_gbook book; /* the order flow's own book (gen_book.h), symbols by locate */
    /* the packet being filled */
    uint8_t pkt[RP__ETH_IP_UDP + RP_GEN_MAX_PAYLOAD];
    size_t plen;     /* MoldUDP64 bytes so far (header included) */
    uint16_t pcount; /* messages in it */
    uint64_t pseq;   /* its first sequence number */
    pcap_dumper_t *dump;
} rp__gen;

uint64_t rp_gen_rand(uint64_t *state) /* splitmix64 */
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rp__below(rp__gen *g, uint64_t n) /* uniform enough in 0..n-1 for n << 2^64 */
{
    return rp_gen_rand(&g->rng) % n;
}

uint64_t rp_gen_min_messages(unsigned symbols)
{
    return (uint64_t)symbols + 6u;
}

void rp_gen_symbol(unsigned locate, uint8_t out[8])
{
    static const char *const names[] = {"AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA",
                                        "AVGO", "COST", "NFLX", "AMD",  "PEP",   "ADBE", "CSCO",
                                        "INTC", "QCOM", "TXN",  "AMGN", "INTU",  "SBUX"};
    char buf[9];
    unsigned n = (unsigned)(sizeof(names) / sizeof(names[0]));
    if (locate >= 1 && locate <= n)
        snprintf(buf, sizeof(buf), "%s", names[locate - 1]);
    else
        snprintf(buf, sizeof(buf), "ZZ%05u", locate % 100000u);
    size_t len = strlen(buf);
    memset(out, ' ', 8);
    memcpy(out, buf, len);
}

/* ---- packets --------------------------------------------------------------------------------- */

static uint32_t rp__csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1) sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t rp__csum_fold(uint32_t sum)
{
    while (sum >> 16) sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Starts a MoldUDP64 packet whose first message will have sequence number seq. */
static void rp__pkt_start(rp__gen *g)
{
    g->plen = RP__MOLD_HDR;
    g->pcount = 0;
    g->pseq = g->seq;
}

/* Wraps the MoldUDP64 bytes in Ethernet/IPv4/UDP and dumps the frame.
 * count is the MoldUDP64 message count field (0 heartbeat, 0xFFFF end of session). */
static void rp__pkt_emit(rp__gen *g, uint16_t count, uint64_t ts_ns)
{
    uint8_t *e = g->pkt, *ip = e + 14, *udp = ip + 20, *mold = udp + 8;
    static const uint8_t dst[6] = {0x01, 0x00, 0x5e, 0x36, 0x0c, 0x6f}; /* 233.54.12.111 */
    static const uint8_t src[6] = {0x00, 0x1b, 0x21, 0x3a, 0x5c, 0x01};
    memcpy(e, dst, 6);
    memcpy(e + 6, src, 6);
    ra_store_be16(e + 12, 0x0800);
    memcpy(mold, "RPGEN00001", 10);
    ra_store_be64(mold + 10, g->pseq);
    ra_store_be16(mold + 18, count);
    size_t ulen = 8 + g->plen, iplen = 20 + ulen;
    ip[0] = 0x45;
    ip[1] = 0;
    ra_store_be16(ip + 2, iplen);
    ra_store_be16(ip + 4, g->ip_id++);
    ra_store_be16(ip + 6, 0); /* no fragmentation */
    ip[8] = 32;               /* TTL */
    ip[9] = 17;               /* UDP */
    ra_store_be16(ip + 10, 0);
    static const uint8_t saddr[4] = {10, 1, 1, 20}, daddr[4] = {233, 54, 12, 111};
    memcpy(ip + 12, saddr, 4);
    memcpy(ip + 16, daddr, 4);
    ra_store_be16(ip + 10, rp__csum_fold(rp__csum_add(0, ip, 20)));
    ra_store_be16(udp, 40001);
    ra_store_be16(udp + 2, 26477);
    ra_store_be16(udp + 4, ulen);
    ra_store_be16(udp + 6, 0);
    uint32_t sum = rp__csum_add(0, ip + 12, 8); /* pseudo header: addresses, protocol, length */
    sum += 17u + (uint32_t)ulen;
    uint16_t c = rp__csum_fold(rp__csum_add(sum, udp, ulen));
    ra_store_be16(udp + 6, c ? c : 0xFFFF); /* 0 means "no checksum" in UDP/IPv4 */

    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    uint64_t abs_ns = RP__MIDNIGHT_NS + ts_ns;
    h.ts.tv_sec = (time_t)(abs_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(abs_ns % 1000000000u); /* ns: the dumper is nano precision */
    h.caplen = h.len = (bpf_u_int32)(14 + iplen);
    pcap_dump((u_char *)g->dump, &h, g->pkt);
    g->res->packets++;
    g->res->file_bytes += 16 + h.caplen;
}

/* Sends the packet being filled, if it holds messages. */
static void rp__flush(rp__gen *g)
{
    if (g->pcount == 0) return;
    g->res->data_packets++;
    rp__pkt_emit(g, g->pcount, g->t_ns + 2000);
    uint64_t every = g->o->heartbeat_every;
    if (every && g->res->data_packets % every == 0) {
        g->t_ns += 1000;
        g->pseq = g->seq; /* a heartbeat carries the next expected sequence number */
        g->plen = RP__MOLD_HDR;
        rp__pkt_emit(g, 0, g->t_ns + 2000);
        g->res->heartbeats++;
    }
    rp__pkt_start(g);
}

/* Appends one ITCH message (len bytes at m) to the current packet, starting a new packet when it
 * would not fit; injects a gap before every gap_every-th data packet. */
static void rp__put(rp__gen *g, const uint8_t *m, size_t len)
{
    if (g->plen + 2 + len > RP_GEN_MAX_PAYLOAD) rp__flush(g);
    if (g->pcount == 0) {
        uint64_t every = g->o->gap_every, n = g->res->data_packets;
        if (every && n > 0 && n % every == 0) {
            uint64_t jump = 1 + rp__below(g, 8);
            g->seq += jump;
            g->res->gaps++;
            g->res->missing += jump;
        }
        g->pseq = g->seq;
    }
    uint8_t *dst = g->pkt + RP__ETH_IP_UDP + g->plen;
    ra_store_be16(dst, len);
    memcpy(dst + 2, m, len);
    g->plen += 2 + len;
    g->pcount++;
    g->seq++;
    g->res->messages++;
    g->res->by_type[m[0]]++;
    if (rp__below(g, 12) == 0) rp__flush(g); /* a burst ends */
}

/* ---- ITCH messages --------------------------------------------------------------------------- */

/* Common header: type, stock locate, tracking number, 6-byte timestamp. Advances the clock. */
static void rp__hdr(rp__gen *g, uint8_t *m, char type, uint16_t locate)
{
    g->t_ns += 1 + rp__below(g, 20000);
    m[0] = (uint8_t)type;
    ra_store_be16(m + 1, locate);
    ra_store_be16(m + 3, rp__below(g, 4));
    ra_store_be48(m + 5, g->t_ns);
}

static void rp__system(rp__gen *g, char code)
{
    uint8_t m[12];
    rp__hdr(g, m, 'S', 0);
    m[11] = (uint8_t)code;
    rp__put(g, m, sizeof(m));
}

static void rp__directory(rp__gen *g, uint16_t locate)
{
    uint8_t m[39];
    rp__hdr(g, m, 'R', locate);
    rp_gen_symbol(locate, m + 11);
    m[19] = 'Q';                /* market category: Nasdaq Global Select */
    m[20] = 'N';                /* financial status: normal */
    ra_store_be32(m + 21, 100); /* round lot size */
    m[25] = 'N';                /* round lots only */
    m[26] = 'C';                /* issue classification: common stock */
    memcpy(m + 27, "Z ", 2);    /* issue subtype */
    m[29] = 'P';                /* authenticity: production */
    m[30] = 'N';                /* short sale threshold */
    m[31] = 'N';                /* IPO flag */
    m[32] = '1';                /* LULD reference price tier */
    m[33] = 'N';                /* ETP flag */
    ra_store_be32(m + 34, 0);   /* ETP leverage factor */
    m[38] = 'N';                /* inverse indicator */
    rp__put(g, m, sizeof(m));
}

static uint32_t rp__lot(rp__gen *g)
{
    if (rp__below(g, 10) == 0) return 1 + (uint32_t)rp__below(g, 99); /* odd lot */
    return 100u * (1 + (uint32_t)rp__below(g, 10));
}

/* ---- order flow ------------------------------------------------------------------------------ */

static void rp__delete(rp__gen *g, rp_gpos p)
{
    uint8_t m[19];
    rp__hdr(g, m, 'D', (uint16_t)p.sym);
    ra_store_be64(m + 11, rp_gbook_at(&g->book, p)->ref);
    rp__put(g, m, sizeof(m));
    rp_gbook_take(&g->book, p);
}

static int rp__add_order(rp__gen *g, bool attributed)
{
    if (g->book.nlive >= RP__MAX_LIVE) { /* bounded book: at the cap an add becomes a delete */
        rp__delete(g, rp_gbook_pick(&g->book, false));
        return 0;
    }
    uint16_t locate = (uint16_t)rp_gbook_pick_symbol(&g->book);
    int s = (int)rp__below(g, 2);
    rp_gorder o;
    o.price = rp_gbook_price(&g->book, locate, s);
    if (o.price == 0) o.price = rp_gbook_price(&g->book, locate, s ^= 1);
    o.shares = rp__lot(g);
    o.ref = g->next_ref++;
    if (rp_gbook_push(&g->book, locate, s, o) != 0) return -1;

    uint8_t m[40];
    rp__hdr(g, m, attributed ? 'F' : 'A', locate);
    ra_store_be64(m + 11, o.ref);
    m[19] = s == 0 ? 'B' : 'S';
    ra_store_be32(m + 20, o.shares);
    rp_gen_symbol(locate, m + 24);
    ra_store_be32(m + 32, (uint32_t)o.price);
    if (attributed) {
        static const char *const mpid[] = {"NSDQ", "GSCO", "MSCO", "UBSS", "CDRG", "VIRT"};
        memcpy(m + 36, mpid[rp__below(g, 6)], 4);
    }
    rp__put(g, m, attributed ? 40 : 36);
    return 0;
}

/* An execution against the best order of a side, in full or in part, at the order's price. */
static void rp__execute(rp__gen *g, bool with_price)
{
    rp_gpos p = rp_gbook_pick(&g->book, true);
    rp_gorder *o = rp_gbook_at(&g->book, p);
    uint32_t n = rp__below(g, 2) ? o->shares : 1 + (uint32_t)rp__below(g, o->shares);
    uint8_t m[36];
    rp__hdr(g, m, with_price ? 'C' : 'E', (uint16_t)p.sym);
    ra_store_be64(m + 11, o->ref);
    ra_store_be32(m + 19, n);
    ra_store_be64(m + 23, g->next_match++);
    if (with_price) {
        m[31] = 'Y';
        ra_store_be32(m + 32, o->price);
    }
    o->shares -= n;
    bool gone = o->shares == 0;
    rp__put(g, m, with_price ? 36 : 31);
    if (gone) rp_gbook_take(&g->book, p);
}

static void rp__cancel(rp__gen *g)
{
    rp_gpos p = rp_gbook_pick(&g->book, false);
    rp_gorder *o = rp_gbook_at(&g->book, p);
    if (o->shares < 2) {
        rp__delete(g, p);
        return;
    }
    uint32_t n = 1 + (uint32_t)rp__below(g, o->shares - 1); /* partial: some shares stay */
    uint8_t m[23];
    rp__hdr(g, m, 'X', (uint16_t)p.sym);
    ra_store_be64(m + 11, o->ref);
    ra_store_be32(m + 19, n);
    o->shares -= n;
    rp__put(g, m, sizeof(m));
}

/* A replace: new reference, size and price on the same side (it loses its time priority).
 * @return 0, or -1 when out of memory. */
static int rp__replace(rp__gen *g)
{
    rp_gpos p = rp_gbook_pick(&g->book, false);
    const rp_gside *sd = &g->book.syms[p.sym].side[p.s];
    uint64_t old = rp_gbook_at(&g->book, p)->ref;
    rp_gbook_take(&g->book, p);
    rp_gorder o;
    o.ref = g->next_ref++;
    o.shares = rp__lot(g);
    o.price = rp_gbook_price(&g->book, p.sym, p.s);
    if (o.price == 0) o.price = sd->n ? sd->best : RP__TICK; /* joins the best */
    if (rp_gbook_push(&g->book, p.sym, p.s, o) != 0) return -1;
    uint8_t m[35];
    rp__hdr(g, m, 'U', (uint16_t)p.sym);
    ra_store_be64(m + 11, old);
    ra_store_be64(m + 19, o.ref);
    ra_store_be32(m + 27, o.shares);
    ra_store_be32(m + 31, (uint32_t)o.price);
    rp__put(g, m, sizeof(m));
    return 0;
}

static void rp__trade(rp__gen *g)
{
    uint16_t locate = (uint16_t)rp_gbook_pick_symbol(&g->book);
    char side = rp__below(g, 2) ? 'B' : 'S';
    uint8_t m[44];
    rp__hdr(g, m, 'P', locate);
    ra_store_be64(m + 11, 0); /* non-displayed: no order reference */
    m[19] = (uint8_t)side;
    ra_store_be32(m + 20, rp__lot(g));
    rp_gen_symbol(locate, m + 24);
    ra_store_be32(m + 32, (uint32_t)g->book.syms[locate].mid);
    ra_store_be64(m + 36, g->next_match++);
    rp__put(g, m, sizeof(m));
}

/* One order-flow message. @return 0, or -1 when out of memory. */
static int rp__flow(rp__gen *g)
{
    uint64_t r = rp__below(g, 100);
    if (g->book.nlive == 0 || r < 40) return rp__add_order(g, r % 8 == 0);
    if (r < 50)
        rp__execute(g, false);
    else if (r < 53)
        rp__execute(g, true);
    else if (r < 61)
        rp__cancel(g);
    else if (r < 85)
        rp__delete(g, rp_gbook_pick(&g->book, false));
    else if (r < 95)
        return rp__replace(g);
    else
        rp__trade(g);
    return 0;
}

/* ---- the file -------------------------------------------------------------------------------- */

static int rp__generate(rp__gen *g)
{
    const rp_gen_opts *o = g->o;
    rp__pkt_start(g);
    rp__system(g, 'O');
    for (unsigned s = 1; s <= o->symbols; s++) rp__directory(g, (uint16_t)s);
    rp__system(g, 'S');
    rp__system(g, 'Q');
    uint64_t body = o->messages - rp_gen_min_messages(o->symbols);
    for (uint64_t k = 0; k < body; k++) {
        if (rp__flow(g) != 0) return -1;
        if ((k & 65535u) == 0 && rp_stop_requested()) return 1;
    }
    rp__system(g, 'M');
    rp__system(g, 'E');
    rp__system(g, 'C');
    rp__flush(g);
    /* end of session: count 0xFFFF, carrying the next sequence number */
    g->t_ns += 1000;
    rp__pkt_start(g);
    rp__pkt_emit(g, 0xFFFF, g->t_ns + 2000);
    g->res->heartbeats++;
    g->res->next_seq = g->seq;
    return 0;
}

/* Sets up the generator and the dumper over a duplicate of the output's descriptor (libpcap
 * closes its FILE; the outfile keeps its own for the sync and rename).
 * @return 0, or -1 with err set. */
static int rp__gen_init(rp__gen *g, const rp_gen_opts *opts, FILE *out, pcap_t **pd, char *err,
                        size_t errlen)
{
    *pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    if (!*pd) {
        snprintf(err, errlen, "%s: pcap_open_dead failed", opts->out);
        return -1;
    }
    int fd = dup(fileno(out));
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!fp) {
        snprintf(err, errlen, "%s: %s", opts->out, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    g->dump = pcap_dump_fopen(*pd, fp);
    if (!g->dump) {
        snprintf(err, errlen, "%s: %s", opts->out, pcap_geterr(*pd));
        fclose(fp);
        return -1;
    }
    g->o = opts;
    g->rng = opts->seed;
    g->t_ns = RP__OPEN_NS;
    g->next_ref = 1000;
    g->next_match = 1;
    g->seq = 1;
    return 0;
}

int rp_gen_write(const rp_gen_opts *opts, rp_gen_result *res, char *err, size_t errlen)
{
    if (opts->format == RP_GEN_DBN) return rp_gen_dbn_write(opts, res, err, errlen);
    memset(res, 0, sizeof(*res));
    if (!opts->out || opts->symbols < 1 || opts->symbols > RP_GEN_MAX_SYMBOLS ||
        opts->messages < rp_gen_min_messages(opts->symbols)) {
        snprintf(err, errlen, "gen: invalid options");
        return -1;
    }
    rp__gen *g = calloc(1, sizeof(*g));
    pcap_t *pd = NULL;
    rp_outfile of = {0};
    int rc = -1;
    if (!g) {
        snprintf(err, errlen, "%s: out of memory", opts->out);
        goto out;
    }
    if (rp_outfile_open(&of, opts->out, opts->force, err, errlen) != 0 ||
        rp__gen_init(g, opts, of.f, &pd, err, errlen) != 0)
        goto out;
    if (rp_gbook_init(&g->book, opts->symbols, RP__TICK, &g->rng) != 0) {
        snprintf(err, errlen, "%s: out of memory", opts->out);
        goto out;
    }
    res->file_bytes = 24;
    g->res = res;
    for (unsigned s = 1; s <= opts->symbols; s++)
        g->book.syms[s].mid = 100000u + (uint32_t)rp__below(g, 4000) * 1000u; /* $10..$410 */
    res->first_seq = 1;
    int grc = rp__generate(g);
    if (grc != 0) {
        snprintf(err, errlen, grc > 0 ? "interrupted: %s not written" : "%s: out of memory",
                 opts->out);
        rc = grc > 0 ? 1 : -1;
        goto out;
    }
    FILE *df = pcap_dump_file(g->dump);
    if (pcap_dump_flush(g->dump) != 0 || ferror(df)) {
        snprintf(err, errlen, "%s: write error: %s", opts->out, strerror(errno));
        goto out;
    }
    pcap_dump_close(g->dump);
    g->dump = NULL;
    if (rp_outfile_commit(&of, err, errlen) == 0) rc = 0;
out:
    if (g && g->dump) pcap_dump_close(g->dump);
    rp_outfile_abort(&of);
    if (pd) pcap_close(pd);
    if (g) rp_gbook_free(&g->book);
    free(g);
    if (rc != 0) memset(res, 0, sizeof(*res));
    return rc;
}
