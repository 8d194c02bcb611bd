/* make_corpus.h - byte builders for replay tests and fuzz seeds: ITCH, MoldUDP64, IEX-TP, packets,
 * pcap and pcapng files, Databento DBN
 *
 * Header layouts written from the public specs, independently of replay/'s decoders, so that tests
 * built on it check the decoders instead of repeating them; the project's one copy of the byte
 * order helpers (ringalloc/byteorder.h) and of the ITCH 5.0 size table (replay/itch.h, checked
 * against the specification in test_rp_framing.c) are shared. Header-only (static inline) so that
 * make_corpus.c and the cmocka tests share it without a library (make_corpus.c links
 * replay/itch.c for the table). Every builder appends to an rpb growable buffer and aborts on
 * out-of-memory (test code).
 */
#ifndef RP_MAKE_CORPUS_H
#define RP_MAKE_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"

#include "itch.h"

typedef struct rpb {
    uint8_t *p;
    size_t len, cap;
} rpb;

static inline void rpb_put(rpb *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) abort();
        b->p = np;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
}

static inline void rpb_free(rpb *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static inline void rpb_u8(rpb *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    rpb_put(b, &c, 1);
}

static inline void rpb_zero(rpb *b, size_t n)
{
    for (size_t i = 0; i < n; i++) rpb_u8(b, 0);
}

/* an unsigned integer of `bytes` bytes (2, 4, 8; 6 big-endian only), big- or little-endian */
static inline void rpb_uint(rpb *b, uint64_t v, int bytes, bool be)
{
    uint8_t t[8];
    if (bytes == 2) {
        if (be)
            ra_store_be16(t, (uint16_t)v);
        else
            ra_store_le16(t, (uint16_t)v);
    } else if (bytes == 4) {
        if (be)
            ra_store_be32(t, (uint32_t)v);
        else
            ra_store_le32(t, (uint32_t)v);
    } else if (bytes == 6) {
        ra_store_be48(t, v);
    } else if (be) {
        ra_store_be64(t, v);
    } else {
        ra_store_le64(t, v);
    }
    rpb_put(b, t, (size_t)bytes);
}

static inline void rpb_be16(rpb *b, uint64_t v)
{
    rpb_uint(b, v, 2, true);
}
static inline void rpb_be32(rpb *b, uint64_t v)
{
    rpb_uint(b, v, 4, true);
}
static inline void rpb_be64(rpb *b, uint64_t v)
{
    rpb_uint(b, v, 8, true);
}
static inline void rpb_le16(rpb *b, uint64_t v)
{
    rpb_uint(b, v, 2, false);
}
static inline void rpb_le32(rpb *b, uint64_t v)
{
    rpb_uint(b, v, 4, false);
}
static inline void rpb_le64(rpb *b, uint64_t v)
{
    rpb_uint(b, v, 8, false);
}

/* overwrites a big-endian u16 already written at `off` */
static inline void rpb_set_be16(rpb *b, size_t off, unsigned v)
{
    ra_store_be16(b->p + off, (uint16_t)v);
}

/* ---- ITCH 5.0 ----------------------------------------------------------------------------------
 */

/* one message of `len` bytes: type, stock locate 1, tracking 0, 48-bit timestamp, zeros */
static inline void rpb_itch_msg_len(rpb *b, char type, uint64_t ts, size_t len)
{
    size_t start = b->len;
    rpb_u8(b, (uint8_t)type);
    rpb_be16(b, 1);
    rpb_be16(b, 0);
    rpb_uint(b, ts, 6, true);
    while (b->len - start < len) rpb_u8(b, 0);
    b->len = start + len; /* shorter than the 11-byte prefix: cut it */
}

/* a length-prefixed (u16 BE) message: an ITCH file record, or a MoldUDP64 message block entry */
static inline void rpb_itch_record_len(rpb *b, char type, uint64_t ts, size_t len)
{
    rpb_be16(b, len);
    rpb_itch_msg_len(b, type, ts, len);
}

static inline void rpb_itch_record(rpb *b, char type, uint64_t ts)
{
    rpb_itch_record_len(b, type, ts, rp_itch_size((uint8_t)type));
}

/* ---- MoldUDP64 and IEX-TP ----------------------------------------------------------------------
 */

/* MoldUDP64 header: 10-byte session (space padded), u64 BE sequence, u16 BE count; the caller
 * appends `count` records with rpb_itch_record() */
static inline void rpb_mold(rpb *b, const char *session, uint64_t seq, unsigned count)
{
    char s[10];
    memset(s, ' ', sizeof s);
    memcpy(s, session, strlen(session) < 10 ? strlen(session) : 10);
    rpb_put(b, s, 10);
    rpb_be64(b, seq);
    rpb_be16(b, count);
}

/* an IEX-TP message: u16 LE length, then `len` bytes starting with the type */
static inline void rpb_iex_msg(rpb *b, char type, size_t len)
{
    rpb_le16(b, len);
    if (len) rpb_u8(b, (uint8_t)type);
    if (len > 1) rpb_zero(b, len - 1);
}

/* an IEX-TP segment: 40-byte LE header (version 1, protocol 0x8003 TOPS) then `msgs` */
static inline void rpb_iex(rpb *b, uint32_t channel, uint32_t session, uint64_t seq, unsigned count,
                           const rpb *msgs)
{
    rpb_u8(b, 1);
    rpb_u8(b, 0);
    rpb_le16(b, 0x8003);
    rpb_le32(b, channel);
    rpb_le32(b, session);
    rpb_le16(b, msgs ? msgs->len : 0);
    rpb_le16(b, count);
    rpb_le64(b, 0); /* stream offset */
    rpb_le64(b, seq);
    rpb_le64(b, UINT64_C(1500000000000000000)); /* send time */
    if (msgs) rpb_put(b, msgs->p, msgs->len);
}

/* ---- packets -----------------------------------------------------------------------------------
 */

typedef struct rpb_flow {
    int af; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
} rpb_flow;

static inline rpb_flow rpb_flow4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
    rpb_flow f = {.af = 4, .sport = sport, .dport = dport};
    for (int i = 0; i < 4; i++) {
        f.src[i] = (uint8_t)(src >> (24 - 8 * i));
        f.dst[i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    return f;
}

static inline rpb_flow rpb_flow6(uint8_t src_last, uint8_t dst_last, uint16_t sport, uint16_t dport)
{
    rpb_flow f = {.af = 6, .sport = sport, .dport = dport};
    f.src[0] = 0xfe;
    f.src[1] = 0x80;
    f.src[15] = src_last;
    f.dst[0] = 0xff;
    f.dst[1] = 0x02;
    f.dst[15] = dst_last;
    return f;
}

/* UDP header + payload */
static inline void rpb_udp(rpb *b, const rpb_flow *f, const void *pl, size_t n)
{
    rpb_be16(b, f->sport);
    rpb_be16(b, f->dport);
    rpb_be16(b, 8 + n);
    rpb_be16(b, 0); /* no checksum */
    rpb_put(b, pl, n);
}

/* IPv4 header (no options) with a correct checksum, for a payload of n bytes of protocol `proto` */
static inline void rpb_ipv4_hdr(rpb *b, const rpb_flow *f, unsigned proto, size_t n, unsigned frag)
{
    size_t start = b->len;
    rpb_u8(b, 0x45);
    rpb_u8(b, 0);
    rpb_be16(b, 20 + n);
    rpb_be16(b, 0x1234); /* id */
    rpb_be16(b, frag);   /* flags + fragment offset */
    rpb_u8(b, 64);
    rpb_u8(b, proto);
    rpb_be16(b, 0);
    rpb_put(b, f->src, 4);
    rpb_put(b, f->dst, 4);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2) sum += (uint32_t)b->p[start + i] << 8 | b->p[start + i + 1];
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    rpb_set_be16(b, start + 10, ~sum & 0xFFFF);
}

/* IPv6 fixed header for a payload of n bytes starting with next header `nh` */
static inline void rpb_ipv6_hdr(rpb *b, const rpb_flow *f, unsigned nh, size_t n)
{
    rpb_be32(b, 0x60000000);
    rpb_be16(b, n);
    rpb_u8(b, nh);
    rpb_u8(b, 64);
    rpb_put(b, f->src, 16);
    rpb_put(b, f->dst, 16);
}

/* IP (v4 or v6 by f->af) + UDP + payload */
static inline void rpb_ip_udp(rpb *b, const rpb_flow *f, const void *pl, size_t n)
{
    if (f->af == 6)
        rpb_ipv6_hdr(b, f, 17, 8 + n);
    else
        rpb_ipv4_hdr(b, f, 17, 8 + n, 0);
    rpb_udp(b, f, pl, n);
}

/* Ethernet header with `vlans` 802.1Q tags (the outer one 0x88a8 when qinq) */
static inline void rpb_eth_hdr(rpb *b, unsigned ethertype, int vlans, bool qinq)
{
    static const uint8_t macs[12] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01,
                                     0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    rpb_put(b, macs, 12);
    for (int i = 0; i < vlans; i++) {
        rpb_be16(b, qinq && i == 0 ? 0x88a8 : 0x8100);
        rpb_be16(b, 100 + i); /* TCI */
    }
    rpb_be16(b, ethertype);
}

/* a whole Ethernet frame carrying UDP; padded to the 60-byte minimum like a real NIC */
static inline void rpb_eth_udp(rpb *b, const rpb_flow *f, const void *pl, size_t n)
{
    size_t start = b->len;
    rpb_eth_hdr(b, f->af == 6 ? 0x86DD : 0x0800, 0, false);
    rpb_ip_udp(b, f, pl, n);
    while (b->len - start < 60) rpb_u8(b, 0);
}

/* ---- capture files -----------------------------------------------------------------------------
 */

/* classic pcap file header: us or ns magic, either byte order */
static inline void rpb_pcap_hdr(rpb *b, bool ns, bool be, uint32_t linktype)
{
    rpb_uint(b, ns ? 0xA1B23C4D : 0xA1B2C3D4, 4, be);
    rpb_uint(b, 2, 2, be);
    rpb_uint(b, 4, 2, be);
    rpb_uint(b, 0, 4, be);
    rpb_uint(b, 0, 4, be);
    rpb_uint(b, 65535, 4, be); /* snaplen */
    rpb_uint(b, linktype, 4, be);
}

/* classic pcap record: caplen bytes of d, orig_len on the wire */
static inline void rpb_pcap_pkt(rpb *b, bool ns, bool be, uint64_t ts_ns, const void *d,
                                size_t caplen, size_t orig_len)
{
    rpb_uint(b, ts_ns / 1000000000u, 4, be);
    rpb_uint(b, ns ? ts_ns % 1000000000u : ts_ns % 1000000000u / 1000u, 4, be);
    rpb_uint(b, caplen, 4, be);
    rpb_uint(b, orig_len, 4, be);
    rpb_put(b, d, caplen);
}

/* pcapng: section header block then one interface description block (us timestamps) */
static inline void rpb_pcapng_hdr(rpb *b, uint32_t linktype)
{
    rpb_le32(b, 0x0A0D0D0A);
    rpb_le32(b, 28);
    rpb_le32(b, 0x1A2B3C4D);
    rpb_le16(b, 1);
    rpb_le16(b, 0);
    rpb_le64(b, UINT64_MAX); /* section length unknown */
    rpb_le32(b, 28);
    rpb_le32(b, 1); /* IDB */
    rpb_le32(b, 20);
    rpb_le16(b, linktype);
    rpb_le16(b, 0);
    rpb_le32(b, 65535);
    rpb_le32(b, 20);
}

/* pcapng enhanced packet block on interface 0 */
static inline void rpb_pcapng_pkt(rpb *b, uint64_t ts_us, const void *d, size_t n)
{
    size_t pad = (4 - n % 4) % 4;
    uint32_t total = (uint32_t)(32 + n + pad);
    rpb_le32(b, 6);
    rpb_le32(b, total);
    rpb_le32(b, 0);
    rpb_le32(b, ts_us >> 32);
    rpb_le32(b, ts_us & 0xFFFFFFFFu);
    rpb_le32(b, n);
    rpb_le32(b, n);
    rpb_put(b, d, n);
    rpb_zero(b, pad);
    rpb_le32(b, total);
}

/* ---- Databento DBN (little-endian; layout in docs/replay.md) ----------------------------------
 */

static inline void rpb_dbn_cstr(rpb *b, const char *s, size_t cs)
{
    size_t k = strlen(s) < cs ? strlen(s) : cs - 1;
    rpb_put(b, s, k);
    rpb_zero(b, cs - k);
}

/* A DBN prelude and metadata of `version` (1: 22-byte symbols, else 71): dataset "TEST.DS",
 * schema mbo, start 2024-01-02 14:30 UTC, end a day later, limit 0 (version 1: record count
 * unknown), stype raw_symbol -> instrument_id, ts_out; the n symbols in the symbols list, no
 * partial or not-found ones, and each symbol i mapped to "100<i>" from 20240102 to 20240103.
 * Zero-padded to a multiple of 8 bytes. */
static inline void rpb_dbn_meta(rpb *b, unsigned version, bool ts_out, const char *const *syms,
                                size_t n)
{
    size_t cs = version == 1 ? 22 : 71;
    size_t body = 100 + 4 + 4 + n * cs + 4 + 4 + 4 + n * (cs + 4 + 8 + cs);
    size_t pad = (8 - (8 + body) % 8) % 8;
    rpb_put(b, "DBN", 3);
    rpb_u8(b, version);
    rpb_le32(b, body + pad);
    rpb_dbn_cstr(b, "TEST.DS", 16);
    rpb_le16(b, 0);
    rpb_le64(b, UINT64_C(1704205800000000000));
    rpb_le64(b, UINT64_C(1704292200000000000));
    rpb_le64(b, 0);
    if (version == 1) rpb_le64(b, UINT64_MAX);
    rpb_u8(b, 1);
    rpb_u8(b, 0);
    rpb_u8(b, ts_out);
    if (version != 1) rpb_le16(b, cs);
    rpb_zero(b, version == 1 ? 47 : 53);
    rpb_le32(b, 0); /* schema definition */
    rpb_le32(b, n);
    for (size_t i = 0; i < n; i++) rpb_dbn_cstr(b, syms[i], cs);
    rpb_le32(b, 0);
    rpb_le32(b, 0);
    rpb_le32(b, n);
    for (size_t i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "100%zu", i);
        rpb_dbn_cstr(b, syms[i], cs);
        rpb_le32(b, 1);
        rpb_le32(b, 20240102);
        rpb_le32(b, 20240103);
        rpb_dbn_cstr(b, id, cs);
    }
    rpb_zero(b, pad);
}

/* A DBN record of `words` 4-byte words (at least 4, 6 with ts_out): the header (rtype, publisher
 * 1, instrument, ts_event), a zero body but for ts_recv at byte recv_at (0: none), and with
 * ts_out the send time ts_event + 7 in its last 8 bytes. */
static inline void rpb_dbn_rec(rpb *b, unsigned rtype, unsigned words, uint32_t instrument,
                               uint64_t ts_event, unsigned recv_at, uint64_t ts_recv, bool ts_out)
{
    size_t at = b->len;
    rpb_u8(b, words);
    rpb_u8(b, rtype);
    rpb_le16(b, 1);
    rpb_le32(b, instrument);
    rpb_le64(b, ts_event);
    rpb_zero(b, words * 4u - 16u);
    if (recv_at) ra_store_le64(b->p + at + recv_at, ts_recv);
    if (ts_out) ra_store_le64(b->p + at + words * 4u - 8u, ts_event + 7);
}

/* writes b to path. @return 0, or -1 (errno set) */
static inline int rpb_write(const rpb *b, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = b->len ? fwrite(b->p, 1, b->len, f) : 0;
    int rc = fclose(f);
    return w == b->len && rc == 0 ? 0 : -1;
}

#endif /* RP_MAKE_CORPUS_H */
