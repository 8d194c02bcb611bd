/* framing.c - replay's UDP payload layer: MoldUDP64, IEX-TP, streams, gaps, payloads to messages
 *
 * Design notes
 * - Every decoder reads only inside the (pointer, length) it was given; each field read is
 *   preceded by a bounds check against that length, so fuzzers can hand it any bytes. Every walk
 *   over a frame's length-prefixed messages (validation, rp_frame_next(), rp_framer_take()) steps
 *   with the one rp_frame_msg_at().
 * - Streams live in an open-addressing table (linear probing, FNV-1a, grown at 50% load) capped
 *   at a caller-given number of entries, so memory depends on distinct flows, never on file size.
 *   The entry found last is checked first (one memcmp for the common one-flow capture).
 * - Auto-detection is deliberately strict (exact length sums, IEX-TP version, printable MoldUDP64
 *   session) because a flow is locked to the framing its first payload suggests.
 * - Damage versus cut. A count or length running past the end of a payload that the link layer
 *   says is whole is damage (RP_FRAMER_DAMAGED: counted, the rest of that payload skipped, the
 *   caller warns or, with --strict, stops); in a datagram the capture cut (snaplen, first
 *   fragment) it is expected, and only a decode error. Either way the sequencing stream advances
 *   by the header's count, so no false gap follows.
 * - The framer's per-message path (rp_framer_take) keeps the cursor and the payload's fields in
 *   locals: the stores into the caller's messages could alias the framer as far as the compiler
 *   knows, which would reload them for every message. It counts by_proto[protocol][type], so
 *   ITCH and IEX-TP types stay apart at no extra cost (feed.h).
 */
#include "framing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itch.h"

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
    t->last = NULL;
}

void rp_streams_free(rp_streams *t)
{
    free(t->slot);
    t->slot = NULL;
    t->last = NULL;
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
    rp_stream *s = t->last;
    if (s && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
    if (klen == 0 || klen > RP_KEY_MAX) return NULL;
    if (t->cap) {
        s = rp__probe(t->slot, t->cap, key, klen);
        if (s->klen) return t->last = s;
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
    s = rp__probe(t->slot, t->cap, key, klen);
    memset(s, 0, sizeof *s);
    memcpy(s->key, key, klen);
    s->klen = (uint8_t)klen;
    t->count++;
    *created = true;
    return t->last = s;
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
        const uint8_t *m;
        int32_t ml = rp_frame_msg_at(body, len, off, le, &m);
        if (ml < 0 && len - off < 2) {
            snprintf(f->why, sizeof f->why,
                     "%s message %u of %u: length field at payload offset %zu runs past the end",
                     name, i + 1, count, hdr + off);
            return RP_FRAME_OVERRUN;
        }
        if (ml < 0) {
            snprintf(f->why, sizeof f->why,
                     "%s message %u of %u: length %u at payload offset %zu runs past the end of "
                     "the %zu-byte payload",
                     name, i + 1, count,
                     (unsigned)(le ? ra_load_le16(body + off) : ra_load_be16(body + off)),
                     hdr + off, hdr + len);
            return RP_FRAME_OVERRUN;
        }
        off += 2 + (size_t)ml;
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
    f->first_seq = ra_load_be64(p + 10);
    unsigned count = ra_load_be16(p + 18);
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
    size_t plen = ra_load_le16(p + 12);
    unsigned count = ra_load_le16(p + 14);
    f->first_seq = ra_load_le64(p + 24);
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
    if (c->index >= f->complete) return false;
    int32_t ml = rp_frame_msg_at(f->body, f->body_len, c->off, f->kind == RP_FRAMING_IEXTP, msg);
    if (ml < 0) return false; /* cannot happen after decode */
    *len = (uint16_t)ml;
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
    /* IEX-TP starts with its version and a reserved 0 byte: anything else goes straight on to
     * MoldUDP64 (and the decode's message is not formatted for nothing) */
    int st = n >= 2 && p[0] == RP_IEXTP_VERSION && p[1] == 0
                 ? rp_frame_decode(RP_FRAMING_IEXTP, p, n, &f)
                 : RP_FRAME_BADHDR;
    if (st == RP_FRAME_OK && p[1] == 0) {
        size_t plen = ra_load_le16(p + 12);
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

/* ---- UDP payloads to messages ------------------------------------------------------------------
 */

#define RP__STREAM_LIMIT 65536 /* flows / sequencing streams remembered per framer */

void rp_framer_init(rp_framer *f, rp_framing forced, rp_feed_stats *st)
{
    memset(f, 0, sizeof *f);
    f->forced = forced;
    f->st = st;
    rp_streams_init(&f->flows, RP__STREAM_LIMIT);
    rp_streams_init(&f->seqs, RP__STREAM_LIMIT);
}

void rp_framer_free(rp_framer *f)
{
    rp_streams_free(&f->flows);
    rp_streams_free(&f->seqs);
}

void rp_feed_seq_track(rp_seq *s, uint64_t first, uint64_t count, rp_feed_stats *st)
{
    rp_gaps g = {st->gaps, st->missing, st->backward};
    rp_seq_track(s, first, count, &g);
    st->gaps = g.gaps;
    st->missing = g.missing;
    st->backward = g.backward;
}

/* The framing of a flow's payload: forced, remembered from its first payload, or detected now. */
static rp_framing rp__flow_framing(const rp_framer *f, rp_stream *flow, bool created,
                                   const uint8_t *p, size_t n, bool complete)
{
    if (flow && !created) return flow->framing;
    rp_framing k = f->forced != RP_FRAMING_AUTO ? f->forced : rp_frame_detect(p, n, complete);
    if (flow) flow->framing = k;
    return k;
}

/* A decoded MoldUDP64 / IEX-TP payload: its stream's gap accounting, its mark, its messages. */
static void rp__sequenced(rp_framer *f)
{
    rp_feed_stats *st = f->st;
    const rp_frame *fr = &f->fr;
    bool created;
    rp_stream *seq = rp_streams_get(&f->seqs, fr->key, fr->klen, &created);
    if (seq && created) seq->id = f->next_id++;
    uint32_t count = fr->heartbeat ? 0 : fr->count;
    if (seq) rp_feed_seq_track(&seq->seq, fr->first_seq, count, st);
    st->type_is_char = true;
    f->mark = (rp_mark){.seq = fr->first_seq,
                        .ts_ns = f->ts,
                        .stream = seq ? seq->id : RP_NO_STREAM,
                        .count = count,
                        .heartbeat = fr->heartbeat,
                        .end_of_session = fr->end_of_session,
                        .framing = f->kind};
    f->mark_ready = true;
    if (fr->heartbeat) {
        st->heartbeats++;
        return;
    }
    f->stream = seq ? seq->id : RP_NO_STREAM;
    f->cur = (rp_frame_cursor){0, 0};
    enum rp_proto proto = f->kind == RP_FRAMING_IEXTP ? RP_PROTO_IEXTP : RP_PROTO_ITCH;
    f->by_type = st->by_proto[proto];
    st->protos |= 1u << proto;
    f->active = true;
}

int rp_framer_payload(rp_framer *f, const uint8_t *key, size_t klen, const uint8_t *p, size_t n,
                      bool complete, uint64_t ts)
{
    bool created;
    rp_stream *flow = rp_streams_get(&f->flows, key, klen, &created);
    if (flow) {
        if (created) flow->id = f->next_id++;
        flow->packets++;
    }
    rp_framing kind = rp__flow_framing(f, flow, created, p, n, complete);
    f->st->framings |= 1u << kind;
    f->kind = kind;
    f->ts = ts;
    f->flow = flow;
    f->active = f->mark_ready = false;
    if (kind == RP_FRAMING_UDP) {
        f->udp = p;
        f->udp_len = n;
        f->stream = flow ? flow->id : RP_NO_STREAM;
        f->seq_udp = flow ? ++flow->seq.expected : ++f->running;
        f->active = true;
        return RP_FRAMER_OK;
    }
    int st = rp_frame_decode(kind, p, n, &f->fr);
    if (st == RP_FRAME_SHORT || st == RP_FRAME_BADHDR) {
        f->st->decode_errors++;
        return RP_FRAMER_OK;
    }
    if (st == RP_FRAME_OVERRUN) f->st->decode_errors++; /* the messages before it are used */
    rp__sequenced(f);
    return st == RP_FRAME_OVERRUN && complete ? RP_FRAMER_DAMAGED : RP_FRAMER_OK;
}

bool rp_framer_announced(const rp_framer *f, uint32_t *messages, uint64_t *seq)
{
    *messages = 0;
    if (f->kind == RP_FRAMING_UDP) {
        *messages = f->active ? 1 : 0;
        return false;
    }
    if (!f->mark_ready) return false; /* did not decode */
    *messages = f->mark.count;
    *seq = f->mark.seq;
    return true;
}

size_t rp_framer_take(rp_framer *f, rp_message *m, size_t max)
{
    f->mark_ready = false;
    if (!f->active) return 0;
    if (f->kind == RP_FRAMING_UDP) {
        f->active = false;
        m[0] = (rp_message){.data = f->udp,
                            .len = (uint32_t)f->udp_len,
                            .type = RP_TYPE_NONE,
                            .stream = f->stream,
                            .seq = f->seq_udp,
                            .ts_ns = f->ts};
        f->st->messages++;
        if (f->flow) f->flow->messages++;
        return 1;
    }
    const bool le = f->kind == RP_FRAMING_IEXTP, mold = f->kind == RP_FRAMING_MOLDUDP64;
    const uint8_t *const body = f->fr.body;
    const size_t body_len = f->fr.body_len;
    const uint64_t complete = f->fr.complete, first = f->fr.first_seq, ts = f->ts;
    const uint32_t stream = f->stream;
    uint64_t *const by_type = f->by_type;
    size_t off = f->cur.off, k = 0;
    uint64_t index = f->cur.index, errors = 0;
    while (k < max && index < complete) {
        const uint8_t *msg;
        int32_t len = rp_frame_msg_at(body, body_len, off, le, &msg);
        if (len < 0) { /* cannot happen after decode */
            index = complete;
            break;
        }
        off += 2 + (size_t)len;
        index++;
        if (len == 0 || (mold && rp_itch_check(msg, (size_t)len) == RP_ITCH_BADSIZE)) {
            errors++;
            continue;
        }
        m[k++] = (rp_message){.data = msg,
                              .len = (uint32_t)len,
                              .type = msg[0],
                              .stream = stream,
                              .seq = first + index - 1,
                              .ts_ns = ts};
        by_type[msg[0]]++;
    }
    f->cur.off = off;
    f->cur.index = (uint32_t)index;
    f->active = index < complete;
    f->st->messages += k;
    f->st->decode_errors += errors;
    if (f->flow) f->flow->messages += k;
    return k;
}

bool rp_framer_take_mark(rp_framer *f, rp_mark *mk)
{
    if (!f->mark_ready) return false;
    f->mark_ready = false;
    *mk = f->mark;
    return true;
}

static const rp_stream *rp__find_id(const rp_streams *t, uint32_t id)
{
    for (size_t i = 0; t->slot && i < t->cap; i++)
        if (t->slot[i].klen && t->slot[i].id == id) return &t->slot[i];
    return NULL;
}

int rp_framer_stream_desc(const rp_framer *f, uint32_t id, char *buf, size_t cap)
{
    if (cap == 0) return -1;
    const rp_stream *q = rp__find_id(&f->seqs, id);
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
    if (q && q->key[0] == 'I' && q->klen == 9) { /* channel id, session id: little-endian */
        snprintf(buf, cap, "iextp channel %lu session %lu", (unsigned long)ra_load_le32(q->key + 1),
                 (unsigned long)ra_load_le32(q->key + 5));
        return 0;
    }
    rp_flow_addr a;
    q = rp__find_id(&f->flows, id);
    if (!q || rp_flow_key_parse(q->key, q->klen, &a) != 0) return -1;
    snprintf(buf, cap, "udp %s > %s", a.src, a.dst);
    return 0;
}

/* Whether flow a goes before flow b: more packets, then first seen. */
static bool rp__flow_before(const rp_flow_info *a, const rp_flow_info *b)
{
    return a->packets != b->packets ? a->packets > b->packets : a->stream < b->stream;
}

size_t rp_framer_flows(const rp_framer *f, rp_flow_info *out, size_t max)
{
    size_t n = 0, kept = 0;
    for (size_t i = 0; f->flows.slot && i < f->flows.cap; i++) {
        const rp_stream *q = &f->flows.slot[i];
        rp_flow_addr a;
        if (!q->klen || rp_flow_key_parse(q->key, q->klen, &a) != 0) continue;
        n++;
        rp_flow_info fi = {.dport = a.dport,
                           .framing = q->framing,
                           .packets = q->packets,
                           .messages = q->messages,
                           .stream = q->id};
        memcpy(fi.src, a.src, sizeof fi.src);
        memcpy(fi.dst, a.dst, sizeof fi.dst);
        size_t at = kept; /* insertion into the sorted out[0..kept), at most max long */
        while (at > 0 && rp__flow_before(&fi, &out[at - 1])) at--;
        if (at >= max) continue;
        size_t move = kept < max ? kept - at : max - 1 - at;
        memmove(&out[at + 1], &out[at], move * sizeof *out);
        out[at] = fi;
        if (kept < max) kept++;
    }
    return n;
}
