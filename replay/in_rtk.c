/* in_rtk.c - replay's native tick file input (docs/tickfile.md), plain or zstd like every input
 *
 * Design notes
 * - Parsed by the library's ra_tick_decoder, fed with the reader's window (peek, push, drain,
 *   skip), so zstd is detected and decompressed in one place (zread) for every format and records
 *   are handed out in place.
 * - Mark records (docs/tickfile.md, "Replay conventions") carry each sequenced packet of the
 *   converted capture: they go through the same gap accounting as the packets did, so gaps,
 *   missing, backward and heartbeats of the file equal those of its source; data records give
 *   messages and by_type. A stream's marks also say its framing, which gives its records'
 *   protocol for by_protocol (IEX-TP, else ITCH when the file's types are ITCH characters).
 */
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "input.h"

typedef struct rp__rtk {
    ra_tick_decoder *dec;
    size_t pushed;    /* bytes of the reader's window given to the decoder, skipped once drained */
    rp_streams seqs;  /* per stream id ('S' + id): gap state and framing from its marks */
    uint32_t last_id; /* the stream of the last data record, and its protocol */
    enum rp_proto last_proto, def_proto;
} rp__rtk;

static bool rp__probe(const uint8_t *p, size_t n)
{
    return n >= 4 && memcmp(p, RA_TICK_MAGIC, 4) == 0; /* "\x89RTK" */
}

/* Fails with the decoder's error: file, offset in the .rtk stream, what. @return -1. */
static int rp__fail(rp_source *s)
{
    rp__rtk *b = s->be;
    const ra_tick_error *e = ra_tick_decoder_error(b->dec);
    if (rp_zread_failed(s->z)) return rp_source_fail_zread(s);
    if (e->offset == RA_TICK_NO_OFFSET)
        rp_source_fail(s, "%s: tick file: %s", s->name, e->msg);
    else
        rp_source_fail(s, "%s: tick file, byte offset %llu%s: %s", s->name,
                       (unsigned long long)e->offset,
                       rp_zread_compressed(s->z) ? " (after zstd decompression)" : "", e->msg);
    return -1;
}

/* Gives the decoder the next window of input (after skipping what it consumed).
 * @return 1 (pushed), 0 (end of input), or -1 with s->err set. */
static int rp__feed(rp_source *s, rp__rtk *b)
{
    rp_zread_skip(s->z, b->pushed);
    b->pushed = 0;
    const uint8_t *p;
    ssize_t n = rp_zread_peek(s->z, RP_ZREAD_WINDOW, &p);
    if (n < 0) return rp_source_fail_zread(s);
    if (n == 0) return 0;
    if (ra_tick_decoder_push(b->dec, p, (size_t)n) != RA_OK) return rp__fail(s);
    b->pushed = (size_t)n;
    return 1;
}

/* Reads the tick file header. @return 0, or -1 with s->err set. */
static int rp__open(rp_source *s, size_t peeked)
{
    (void)peeked;
    rp__rtk *b = calloc(1, sizeof *b);
    if (!b || ra_tick_decoder_create(&b->dec) != RA_OK) {
        free(b);
        rp_source_fail(s, "%s: out of memory", s->name);
        return -1;
    }
    s->be = b;
    rp_streams_init(&b->seqs, 65536);
    b->last_id = RP_NO_STREAM;
    rp_source_filter_unused(s);
    for (;;) {
        int rc = ra_tick_decoder_read_header(b->dec);
        if (rc == RA_OK) break;
        if (rc != RA_EMPTY) return rp__fail(s);
        int fed = rp__feed(s, b);
        if (fed < 0) return -1;
        if (fed == 0) {
            (void)ra_tick_decoder_finish(b->dec);
            return rp__fail(s); /* cut inside the header, or not a tick file */
        }
    }
    const ra_tick_info *info = ra_tick_decoder_info(b->dec);
    /* ITCH-derived type bytes print as characters (by_type keys, docs/counting.md) */
    if (rp_name_in_list(info->source_format, "itch") ||
        rp_name_in_list(info->framing, "moldudp64") || rp_name_in_list(info->framing, "iextp"))
        s->st.type_is_char = true;
    b->def_proto = b->last_proto = s->st.type_is_char ? RP_PROTO_ITCH : RP_PROTO_OTHER;
    return 0;
}

/* The stream table entry of tick file stream id (created when new), or NULL when full. */
static rp_stream *rp__stream(rp__rtk *b, uint32_t id)
{
    uint8_t key[5] = {'S', (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16),
                      (uint8_t)(id >> 24)};
    bool created;
    return rp_streams_get(&b->seqs, key, sizeof key, &created);
}

/* A mark record of a tick file: the packet's accounting, as the capture's framer did it. */
static void rp__mark(rp_source *s, rp__rtk *b, const ra_tick_mark *k, rp_mark *out)
{
    rp_framing f = k->framing == RA_TICK_FRAMING_MOLDUDP64 ? RP_FRAMING_MOLDUDP64
                   : k->framing == RA_TICK_FRAMING_IEXTP   ? RP_FRAMING_IEXTP
                                                           : RP_FRAMING_AUTO;
    bool hb = (k->flags & RA_TICK_MARK_HEARTBEAT) != 0;
    if (f != RP_FRAMING_AUTO) s->st.framings |= 1u << f;
    s->st.type_is_char = true;
    rp_feed_stamp(&s->st, k->ts_ns);
    rp_stream *q = k->stream != RP_NO_STREAM ? rp__stream(b, k->stream) : NULL;
    if (q) {
        rp_feed_seq_track(&q->seq, k->seq, hb ? 0 : k->count, &s->st);
        if (f != RP_FRAMING_AUTO) q->framing = f;
        b->last_id = RP_NO_STREAM; /* its protocol may have changed */
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

/* The protocol of a data record of stream id (by_protocol). */
static enum rp_proto rp__proto(rp__rtk *b, uint32_t id)
{
    if (id == b->last_id) return b->last_proto;
    const rp_stream *q = id != RP_NO_STREAM ? rp__stream(b, id) : NULL;
    b->last_id = id;
    b->last_proto = q && q->framing == RP_FRAMING_IEXTP       ? RP_PROTO_IEXTP
                    : q && q->framing == RP_FRAMING_MOLDUDP64 ? RP_PROTO_ITCH
                                                              : b->def_proto;
    return b->last_proto;
}

static void rp__data(rp_source *s, rp__rtk *b, const ra_tick_record *rec, rp_message *m)
{
    s->st.packets++;
    rp_feed_stamp(&s->st, rec->ts_ns);
    *m = (rp_message){.data = rec->data,
                      .len = rec->len,
                      .type = rec->type,
                      .stream = rec->stream,
                      .seq = rec->seq,
                      .ts_ns = rec->ts_ns};
    s->st.messages++;
    if (rec->type == RP_TYPE_NONE)
        s->st.framings |= 1u << RP_FRAMING_UDP;
    else {
        enum rp_proto p = rp__proto(b, rec->stream);
        s->st.by_proto[p][rec->type & 0xFF]++;
        s->st.protos |= 1u << p;
    }
}

static int rp__next(rp_source *s, rp_message *m, size_t max, size_t *n, rp_mark *mk)
{
    (void)max;
    rp__rtk *b = s->be;
    for (;;) {
        ra_tick_record rec;
        ra_tick_mark k;
        uint16_t kind;
        int rc = ra_tick_decoder_next_event(b->dec, &rec, &k, &kind);
        if (rc == RA_OK && kind == RA_TICK_KIND_DATA) {
            rp__data(s, b, &rec, m);
            *n = 1;
            return 1;
        }
        if (rc == RA_OK) {
            rp_mark out;
            rp__mark(s, b, &k, &out);
            if (mk) {
                *mk = out;
                return 2;
            }
            continue;
        }
        if (rc != RA_EMPTY) return rp__fail(s);
        int fed = rp__feed(s, b);
        if (fed < 0) return -1;
        if (fed > 0) continue;
        rc = ra_tick_decoder_finish(b->dec);
        if (rc == RA_ETRUNC)
            s->st.truncated = true; /* every complete record was delivered */
        else if (rc != RA_OK)
            return rp__fail(s);
        return rp_source_end(s, rp_zread_offset(s->z));
    }
}

static void rp__close(rp_source *s)
{
    rp__rtk *b = s->be;
    if (!b) return;
    ra_tick_decoder_destroy(b->dec);
    rp_streams_free(&b->seqs);
}

static int rp__stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap)
{
    const rp__rtk *b = s->be;
    const ra_tick_stream *t = b ? ra_tick_decoder_stream(b->dec, id) : NULL;
    if (!t) return -1;
    snprintf(buf, cap, "%s", t->desc);
    return 0;
}

static void rp__describe(const rp_source *s, rp_input_desc *d)
{
    const rp__rtk *b = s->be;
    d->tick = ra_tick_decoder_info(b->dec);
}

const rp_input rp_input_rtk = {.name = "rtk", .label = "a tick file (rtk)", RP_INPUT_OPS};
