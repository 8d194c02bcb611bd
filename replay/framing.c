/* framing.c - replay's packet decoders: link layer to UDP, MoldUDP64, IEX-TP, streams and gaps
 *
 * Design notes
 * - Every decoder reads only inside the (pointer, length) it was given; each field read is
 *   preceded by a bounds check against that length, so fuzzers can hand it any bytes.
 * - Truncation is explicit: rp_udp.complete is false when the IP or UDP length fields say the
 *   datagram is longer than what the packet holds (snaplen cut, first IPv4/IPv6 fragment). The
 *   caller uses it to tell "the capture cut this message" (a decode error) from "a length field
 *   lies" (an input error).
 * - IPv4 fragments are not reassembled: the first fragment is decoded with the bytes it holds,
 *   later fragments are reported as RP_LINK_FRAGMENT. IPv4 total length 0 (TCP segmentation
 *   offload captures) means "what was captured".
 * - Streams live in an open-addressing table (linear probing, FNV-1a, grown at 50% load) capped
 *   at a caller-given number of entries, so memory depends on distinct flows, never on file size.
 * - Auto-detection is deliberately strict (exact length sums, IEX-TP version, printable MoldUDP64
 *   session) because a flow is locked to the framing its first payload suggests.
 */
#include "framing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t rp__be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint16_t rp__le16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static uint64_t rp__be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static uint64_t rp__le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---- link layer --------------------------------------------------------------------------------
 */

#define RP__ETH_IPV4 0x0800
#define RP__ETH_IPV6 0x86DD
#define RP__MAX_TAGS 8  /* VLAN tags followed before giving up */
#define RP__MAX_EXT  16 /* IPv6 extension headers followed before giving up */

bool rp_link_supported(int linktype)
{
    switch (linktype) {
    case RP_DLT_NULL:
    case RP_DLT_EN10MB:
    case RP_DLT_RAW:
    case RP_LINKTYPE_RAW:
    case RP_DLT_LOOP:
    case RP_DLT_LINUX_SLL:
    case RP_DLT_IPV4:
    case RP_DLT_IPV6:
    case RP_DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

/* UDP header at p[0..n); `complete` carries what the IP layer already knows. */
static int rp__udp(const uint8_t *p, size_t n, bool complete, rp_udp *out)
{
    if (n < 8) return RP_LINK_MALFORMED;
    out->sport = rp__be16(p);
    out->dport = rp__be16(p + 2);
    size_t ulen = rp__be16(p + 4);
    size_t plen;
    if (ulen == 0) { /* IPv6 jumbogram or offloaded checksum/length: take what is there */
        plen = n - 8;
    } else if (ulen < 8) {
        return RP_LINK_MALFORMED;
    } else if (ulen > n) {
        plen = n - 8;
        complete = false;
    } else {
        plen = ulen - 8;
    }
    out->payload = p + 8;
    out->len = plen;
    out->complete = complete;
    return RP_LINK_UDP;
}

static int rp__ipv4(const uint8_t *p, size_t n, rp_udp *out)
{
    if (n < 20 || p[0] >> 4 != 4) return RP_LINK_MALFORMED;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < 20 || ihl > n) return RP_LINK_MALFORMED;
    size_t tot = rp__be16(p + 2);
    bool complete = true;
    if (tot == 0) {
        tot = n;
    } else if (tot < ihl) {
        return RP_LINK_MALFORMED;
    } else if (tot > n) {
        tot = n;
        complete = false;
    }
    uint16_t frag = rp__be16(p + 6);
    if (frag & 0x1FFF) return RP_LINK_FRAGMENT;
    if (frag & 0x2000) complete = false; /* first fragment: more follows */
    if (p[9] != 17) return RP_LINK_NOT_UDP;
    memset(out->src, 0, sizeof out->src);
    memset(out->dst, 0, sizeof out->dst);
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    out->af = 4;
    return rp__udp(p + ihl, tot - ihl, complete, out);
}

static int rp__ipv6(const uint8_t *p, size_t n, rp_udp *out)
{
    if (n < 40 || p[0] >> 4 != 6) return RP_LINK_MALFORMED;
    size_t plen = rp__be16(p + 4);
    size_t end = n;
    bool complete = true;
    if (plen != 0) { /* 0: jumbo payload (hop-by-hop option); take what is there */
        if (40 + plen <= n)
            end = 40 + plen;
        else
            complete = false;
    }
    unsigned nh = p[6];
    size_t off = 40;
    for (int i = 0; i < RP__MAX_EXT; i++) {
        switch (nh) {
        case 17:
            memcpy(out->src, p + 8, 16);
            memcpy(out->dst, p + 24, 16);
            out->af = 6;
            return rp__udp(p + off, end - off, complete, out);
        case 0:   /* hop-by-hop options */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* host identity protocol */
        case 140: /* shim6 */
            if (end - off < 8) return RP_LINK_MALFORMED;
            nh = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
            break;
        case 44: /* fragment */
            if (end - off < 8) return RP_LINK_MALFORMED;
            if (rp__be16(p + off + 2) & 0xFFF8) return RP_LINK_FRAGMENT;
            if (p[off + 3] & 1) complete = false; /* first fragment: more follows */
            nh = p[off];
            off += 8;
            break;
        case 51: /* authentication header */
            if (end - off < 8) return RP_LINK_MALFORMED;
            nh = p[off];
            off += ((size_t)p[off + 1] + 2) * 4;
            break;
        default: /* TCP, ICMPv6, ESP, no next header, ... */
            return RP_LINK_NOT_UDP;
        }
        if (off > end) return RP_LINK_MALFORMED;
    }
    return RP_LINK_MALFORMED;
}

/* By ethertype, after the link header and any VLAN tags. */
static int rp__ethertype(unsigned type, const uint8_t *p, size_t n, rp_udp *out)
{
    for (int tags = 0; type == 0x8100 || type == 0x88A8 || type == 0x9100; tags++) {
        if (tags == RP__MAX_TAGS || n < 4) return RP_LINK_MALFORMED;
        type = rp__be16(p + 2);
        p += 4;
        n -= 4;
    }
    if (type == RP__ETH_IPV4) return rp__ipv4(p, n, out);
    if (type == RP__ETH_IPV6) return rp__ipv6(p, n, out);
    return RP_LINK_NOT_UDP;
}

/* Raw IP: the version nibble decides. */
static int rp__ip(const uint8_t *p, size_t n, rp_udp *out)
{
    if (n < 1) return RP_LINK_MALFORMED;
    if (p[0] >> 4 == 4) return rp__ipv4(p, n, out);
    if (p[0] >> 4 == 6) return rp__ipv6(p, n, out);
    return RP_LINK_MALFORMED;
}

int rp_link_udp(int linktype, const uint8_t *pkt, size_t caplen, rp_udp *out)
{
    switch (linktype) {
    case RP_DLT_EN10MB:
        if (caplen < 14) return RP_LINK_MALFORMED;
        return rp__ethertype(rp__be16(pkt + 12), pkt + 14, caplen - 14, out);
    case RP_DLT_LINUX_SLL: /* packet type, ARPHRD, address length, address[8], protocol */
        if (caplen < 16) return RP_LINK_MALFORMED;
        return rp__ethertype(rp__be16(pkt + 14), pkt + 16, caplen - 16, out);
    case RP_DLT_LINUX_SLL2: /* protocol, reserved, ifindex, ARPHRD, type, addr len, address[8] */
        if (caplen < 20) return RP_LINK_MALFORMED;
        return rp__ethertype(rp__be16(pkt), pkt + 20, caplen - 20, out);
    case RP_DLT_RAW:
    case RP_LINKTYPE_RAW:
        return rp__ip(pkt, caplen, out);
    case RP_DLT_IPV4:
        return rp__ipv4(pkt, caplen, out);
    case RP_DLT_IPV6:
        return rp__ipv6(pkt, caplen, out);
    case RP_DLT_NULL:
    case RP_DLT_LOOP: /* 4-byte address family (host or network order: AF_INET6 differs by OS) */
        if (caplen < 4) return RP_LINK_MALFORMED;
        return rp__ip(pkt + 4, caplen - 4, out);
    default:
        return RP_LINK_MALFORMED;
    }
}

size_t rp_udp_flow_key(const rp_udp *u, uint8_t key[RP_KEY_MAX])
{
    size_t alen = u->af == 6 ? 16 : 4;
    size_t k = 0;
    key[k++] = u->af;
    memcpy(key + k, u->src, alen);
    k += alen;
    memcpy(key + k, u->dst, alen);
    k += alen;
    key[k++] = (uint8_t)(u->sport >> 8);
    key[k++] = (uint8_t)u->sport;
    key[k++] = (uint8_t)(u->dport >> 8);
    key[k++] = (uint8_t)u->dport;
    return k;
}

/* ---- streams -----------------------------------------------------------------------------------
 */

static uint64_t rp__hash(const uint8_t *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a 64 */
    for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 0x100000001b3u;
    return h ^ h >> 29;
}

void rp_streams_init(rp_streams *t, size_t limit)
{
    t->slot = NULL;
    t->cap = 0;
    t->count = 0;
    t->limit = limit;
}

void rp_streams_free(rp_streams *t)
{
    free(t->slot);
    t->slot = NULL;
    t->cap = t->count = 0;
}

/* Slot holding the key, or the free slot where it belongs (cap is a power of two, never full). */
static rp_stream *rp__probe(rp_stream *slot, size_t cap, const uint8_t *key, size_t klen)
{
    size_t i = (size_t)rp__hash(key, klen) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1)) {
        rp_stream *s = &slot[i];
        if (s->klen == 0 || (s->klen == klen && memcmp(s->key, key, klen) == 0)) return s;
    }
}

rp_stream *rp_streams_get(rp_streams *t, const uint8_t *key, size_t klen, bool *created)
{
    *created = false;
    if (klen == 0 || klen > RP_KEY_MAX) return NULL;
    if (t->cap) {
        rp_stream *s = rp__probe(t->slot, t->cap, key, klen);
        if (s->klen) return s;
    }
    if (t->count >= t->limit) return NULL;
    if ((t->count + 1) * 2 > t->cap) { /* keep the load at most 50% */
        size_t ncap = t->cap ? t->cap * 2 : 16;
        rp_stream *ns = calloc(ncap, sizeof *ns);
        if (!ns) return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (t->slot[i].klen) *rp__probe(ns, ncap, t->slot[i].key, t->slot[i].klen) = t->slot[i];
        }
        free(t->slot);
        t->slot = ns;
        t->cap = ncap;
    }
    rp_stream *s = rp__probe(t->slot, t->cap, key, klen);
    memset(s, 0, sizeof *s);
    memcpy(s->key, key, klen);
    s->klen = (uint8_t)klen;
    t->count++;
    *created = true;
    return s;
}

/* ---- gaps --------------------------------------------------------------------------------------
 */

void rp_seq_track(rp_seq *s, uint64_t first, uint64_t count, rp_gaps *g)
{
    if (s->started) {
        if (first > s->expected) {
            uint64_t d = first - s->expected;
            g->gaps++;
            g->missing = g->missing + d < g->missing ? UINT64_MAX : g->missing + d; /* saturate */
        } else if (first < s->expected) {
            g->backward++;
        }
    }
    s->started = true;
    s->expected = first + count;
}

/* ---- MoldUDP64 / IEX-TP ------------------------------------------------------------------------
 */

/* Walks `count` length-prefixed messages in body[0..len). Sets f->complete to the number that fit
 * and describes the first one that does not in f->why (offsets relative to the payload start,
 * which is `hdr` bytes before body).
 * @return RP_FRAME_OK or RP_FRAME_OVERRUN. */
static int rp__walk(rp_frame *f, const uint8_t *body, size_t len, uint32_t count, bool le,
                    size_t hdr, const char *name)
{
    size_t off = 0;
    f->complete = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < 2) {
            snprintf(f->why, sizeof f->why,
                     "%s message %u of %u: length field at payload offset %zu runs past the end",
                     name, i + 1, count, hdr + off);
            return RP_FRAME_OVERRUN;
        }
        size_t ml = le ? rp__le16(body + off) : rp__be16(body + off);
        if (ml > len - off - 2) {
            snprintf(f->why, sizeof f->why,
                     "%s message %u of %u: length %zu at payload offset %zu runs past the end of "
                     "the %zu-byte payload",
                     name, i + 1, count, ml, hdr + off, hdr + len);
            return RP_FRAME_OVERRUN;
        }
        off += 2 + ml;
        f->complete++;
    }
    return RP_FRAME_OK;
}

static int rp__mold(const uint8_t *p, size_t n, rp_frame *f)
{
    if (n < RP_MOLD_HDR) {
        snprintf(f->why, sizeof f->why, "MoldUDP64 header needs %d bytes, payload has %zu",
                 RP_MOLD_HDR, n);
        return RP_FRAME_SHORT;
    }
    f->key[0] = 'M';
    memcpy(f->key + 1, p, 10);
    f->klen = 11;
    f->first_seq = rp__be64(p + 10);
    unsigned count = rp__be16(p + 18);
    f->body = p + RP_MOLD_HDR;
    f->body_len = n - RP_MOLD_HDR;
    if (count == 0 || count == RP_MOLD_EOS) {
        f->heartbeat = true;
        f->end_of_session = count == RP_MOLD_EOS;
        return RP_FRAME_OK;
    }
    f->count = count;
    return rp__walk(f, f->body, f->body_len, count, false, RP_MOLD_HDR, "MoldUDP64");
}

static int rp__iextp(const uint8_t *p, size_t n, rp_frame *f)
{
    if (n < RP_IEXTP_HDR) {
        snprintf(f->why, sizeof f->why, "IEX-TP header needs %d bytes, payload has %zu",
                 RP_IEXTP_HDR, n);
        return RP_FRAME_SHORT;
    }
    if (p[0] != RP_IEXTP_VERSION) {
        snprintf(f->why, sizeof f->why, "IEX-TP version %u (expected %d)", p[0], RP_IEXTP_VERSION);
        return RP_FRAME_BADHDR;
    }
    f->key[0] = 'I';
    memcpy(f->key + 1, p + 4, 8); /* channel id, session id */
    f->klen = 9;
    size_t plen = rp__le16(p + 12);
    unsigned count = rp__le16(p + 14);
    f->first_seq = rp__le64(p + 24);
    f->body = p + RP_IEXTP_HDR;
    f->body_len = n - RP_IEXTP_HDR;
    f->count = count;
    f->heartbeat = count == 0;
    if (plen > f->body_len) {
        /* the messages that fit are still usable; the message says what is wrong overall */
        (void)rp__walk(f, f->body, f->body_len, count, true, RP_IEXTP_HDR, "IEX-TP");
        snprintf(f->why, sizeof f->why,
                 "IEX-TP payload length %zu runs past the end of the %zu-byte payload", plen, n);
        return RP_FRAME_OVERRUN;
    }
    f->body_len = plen;
    if (count == 0) return RP_FRAME_OK;
    return rp__walk(f, f->body, plen, count, true, RP_IEXTP_HDR, "IEX-TP");
}

int rp_frame_decode(rp_framing kind, const uint8_t *p, size_t n, rp_frame *f)
{
    memset(f, 0, offsetof(rp_frame, why));
    f->why[0] = '\0';
    f->kind = kind;
    if (kind == RP_FRAMING_MOLDUDP64) return rp__mold(p, n, f);
    if (kind == RP_FRAMING_IEXTP) return rp__iextp(p, n, f);
    snprintf(f->why, sizeof f->why, "framing %d has no header", (int)kind);
    return RP_FRAME_BADHDR;
}

bool rp_frame_next(const rp_frame *f, rp_frame_cursor *c, const uint8_t **msg, uint16_t *len)
{
    if (c->index >= f->complete || f->body_len - c->off < 2) return false;
    const uint8_t *q = f->body + c->off;
    uint16_t ml = f->kind == RP_FRAMING_IEXTP ? rp__le16(q) : rp__be16(q);
    if ((size_t)ml > f->body_len - c->off - 2) return false; /* cannot happen after decode */
    *msg = q + 2;
    *len = ml;
    c->off += 2 + (size_t)ml;
    c->index++;
    return true;
}

/* Whether the messages of a decoded frame account for the payload: exactly when complete, up to
 * where it stops (with at least one whole message) when not. */
static bool rp__consistent(int st, const rp_frame *f, size_t used, size_t n, bool complete)
{
    if (complete) return st == RP_FRAME_OK && used == n;
    return (st == RP_FRAME_OK || st == RP_FRAME_OVERRUN) && f->complete > 0;
}

/* Bytes used by the first f->complete messages. */
static size_t rp__msgs_bytes(const rp_frame *f)
{
    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t l;
    while (rp_frame_next(f, &c, &m, &l)) continue;
    return c.off;
}

rp_framing rp_frame_detect(const uint8_t *p, size_t n, bool complete)
{
    rp_frame f;
    int st = rp_frame_decode(RP_FRAMING_IEXTP, p, n, &f);
    if (st == RP_FRAME_OK && p[1] == 0) {
        size_t plen = rp__le16(p + 12);
        bool ok = f.heartbeat
                      ? plen == 0 && (!complete || n == RP_IEXTP_HDR)
                      : rp__msgs_bytes(&f) == plen && (!complete || RP_IEXTP_HDR + plen == n);
        if (ok) return RP_FRAMING_IEXTP;
    } else if (st == RP_FRAME_OVERRUN && !complete && p[1] == 0 && f.complete > 0) {
        return RP_FRAMING_IEXTP;
    }

    st = rp_frame_decode(RP_FRAMING_MOLDUDP64, p, n, &f);
    if (st == RP_FRAME_SHORT) return RP_FRAMING_UDP;
    for (int i = 0; i < 10; i++)
        if (p[i] < 0x20 || p[i] > 0x7E) return RP_FRAMING_UDP;
    if (f.heartbeat) return n == RP_MOLD_HDR ? RP_FRAMING_MOLDUDP64 : RP_FRAMING_UDP;
    if (rp__consistent(st, &f, RP_MOLD_HDR + rp__msgs_bytes(&f), n, complete))
        return RP_FRAMING_MOLDUDP64;
    return RP_FRAMING_UDP;
}
