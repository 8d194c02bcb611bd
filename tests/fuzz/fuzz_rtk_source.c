/* fuzz_rtk_source.c - differential fuzzing of replay's tick-file input against what was written
 *
 * The CRCs and record checks of a .rtk file stop random mutations at the decoder's front door
 * (fuzz_tickfile repairs them to get past it). This target instead writes a well-formed file from
 * the fuzz input with ra_tick_writer - data records, mark records (sequenced packets, heartbeats,
 * end of session, any framing), streams declared in the header and later - plain or zstd, and
 * reads it back through the replay input layer (rp_source_open_mem, format detection,
 * rp_source_next_event), which is where hostile but well-formed files go.
 *
 * Input: byte 0 = mode (bit 0 zstd, bit 1 damage the file: cut it or flip one byte at a place
 * taken from the last 3 input bytes, bit 2 declare streams in the header), then operations:
 *   op % 4 == 0, 1: a data record: stream (op >> 2) % 8 (or 0xFFFFFFFF), type from the input
 *                   (sometimes 0xFFFF, untyped, or above 0xFF), seq, ts and up to 255 payload bytes
 *   op % 4 == 2:    a mark: stream, seq (small steps, jumps, backwards, near 2^64), count, flags,
 *                   framing
 *   op % 4 == 3:    declare a stream (ids may repeat: the writer refuses those)
 * Checks, on an undamaged file: detection says rtk; every data record comes back in order with its
 * stream, seq, timestamp, type and payload; every mark with its fields (heartbeat count 0); at the
 * end feed.messages, heartbeats, and gaps / missing / backward equal a model of the documented
 * per-stream counting rule (the first packet sets the expectation; above it: a gap and the
 * difference missing, saturating; below: backward; then first + count). Damaged: no crash, an
 * error names the input, stats stay consistent with what was delivered.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/tickfile.h"
#include "source.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_rtk_source.c:%d: check failed: %s\n", __LINE__, #c);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAXEV  4096
#define NOSTRM 0xFFFFFFFFu

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static int sink(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

typedef struct ev {
    bool mark;
    ra_tick_record r; /* data: r.data points into the fuzz input */
    ra_tick_mark k;
} ev;

typedef struct fz {
    const uint8_t *p;
    size_t n, i;
} fz;

static uint8_t u8(fz *f)
{
    return f->i < f->n ? f->p[f->i++] : 0;
}

static uint64_t un(fz *f, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | u8(f);
    return v;
}

/* the counting rule of docs/counting.md, per stream, as a model */
typedef struct mseq {
    bool started;
    uint64_t expected;
} mseq;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    fz in = {data, size > 3 ? size - 3 : size, 0};
    uint8_t mode = u8(&in);
    static ev evs[MAXEV];
    size_t nev = 0;

    ra_tick_writer_config cfg = {.compress = (mode & 1) != 0,
                                 .level = 1,
                                 .created_ns = 1,
                                 .source_format = "pcap",
                                 .framing = "moldudp64",
                                 .creator = "fuzz"};
    buf out = {0};
    ra_tick_writer *w;
    CHECK(ra_tick_writer_open_sink(&w, sink, &out, &cfg) == RA_OK);
    if (mode & 4) {
        CHECK(ra_tick_writer_add_stream(w, 0, "moldudp64 session FUZZ000001") == RA_OK);
        CHECK(ra_tick_writer_add_stream(w, 7, "") == RA_OK);
    }
    uint64_t seq = 1;
    while (in.i < in.n && nev < MAXEV) {
        uint8_t op = u8(&in);
        uint32_t stream = ((op >> 2) & 7) == 7 && (op & 0x80) ? NOSTRM : (op >> 2) & 7u;
        switch (op % 4) {
        case 0:
        case 1: {
            uint8_t t = u8(&in), len = u8(&in);
            ev *e = &evs[nev];
            e->mark = false;
            e->r.type = t == 0xFF ? 0xFFFF : t == 0xFE ? (uint16_t)(0x100 | u8(&in)) : t;
            e->r.stream = stream;
            e->r.seq = seq++;
            e->r.ts_ns = un(&in, 2) * 1000u;
            size_t room = in.n - in.i;
            e->r.len = len < room ? len : (uint32_t)room;
            e->r.data = in.p + in.i;
            in.i += e->r.len;
            CHECK(ra_tick_write(w, &e->r) == RA_OK);
            nev++;
            break;
        }
        case 2: {
            ev *e = &evs[nev];
            e->mark = true;
            uint8_t how = u8(&in);
            switch (how & 3) {
            case 0:
                break; /* continues */
            case 1:
                seq += u8(&in);
                break; /* jumps ahead */
            case 2:
                seq -= seq > 5 ? u8(&in) % 5 : 0;
                break; /* goes back */
            default:
                seq = UINT64_MAX - u8(&in);
                break; /* near the top: wraps */
            }
            e->k.stream = stream;
            e->k.seq = seq;
            e->k.count = (how & 4) ? 0 : u8(&in) % 8u;
            e->k.flags = (how & 4) ? RA_TICK_MARK_HEARTBEAT : 0;
            if ((how & 0x0C) == 0x0C) e->k.flags |= RA_TICK_MARK_END_OF_SESSION;
            if (how & 0x80) e->k.flags |= 0x40; /* an unknown bit: kept, not interpreted */
            e->k.framing = (how >> 4) % 4u;     /* 3: unknown to this version */
            e->k.ts_ns = un(&in, 2) * 1000u;
            CHECK(ra_tick_write_mark(w, &e->k) == RA_OK);
            nev++;
            break;
        }
        default: {
            char desc[32];
            snprintf(desc, sizeof desc, "stream %u", u8(&in));
            int rc = ra_tick_writer_add_stream(w, stream, desc);
            CHECK(rc == RA_OK || rc == RA_EINVAL);
            break;
        }
        }
    }
    CHECK(ra_tick_writer_close(w) == RA_OK);

    bool damaged = (mode & 2) != 0 && size > 3 && out.len > 0;
    if (damaged) {
        size_t at = (size_t)(data[size - 3] << 16 | data[size - 2] << 8 | data[size - 1]) % out.len;
        if (mode & 8)
            out.p[at] ^= (uint8_t)(1u << (mode >> 5));
        else
            out.len = at;
    }
    /* an exact-size copy, so that ASan sees any read past the end */
    uint8_t *file = malloc(out.len ? out.len : 1);
    CHECK(file != NULL);
    if (out.len) memcpy(file, out.p, out.len);
    free(out.p);

    rp_source *s;
    char err[512];
    err[0] = '\0';
    if (rp_source_open_mem(&s, file, out.len, "fuzz.rtk", NULL, err, sizeof err) != 0) {
        CHECK(damaged && strstr(err, "fuzz.rtk") != NULL);
        free(file);
        return 0;
    }
    CHECK(strcmp(rp_source_format_name(s), "rtk") == 0);
    CHECK(rp_source_compressed(s) == ((mode & 1) != 0));

    static mseq streams[8];
    memset(streams, 0, sizeof streams);
    uint64_t gaps = 0, missing = 0, backward = 0, heartbeats = 0, messages = 0;
    size_t k = 0;
    rp_message m;
    rp_mark mk;
    int rc;
    while ((rc = rp_source_next_event(s, &m, &mk)) > 0) {
        if (damaged) {
            if (rc == 1) {
                messages++;
                CHECK(m.len == 0 || m.data != NULL);
            }
            continue;
        }
        CHECK(k < nev);
        const ev *e = &evs[k++];
        if (rc == 1) {
            CHECK(!e->mark);
            CHECK(m.stream == e->r.stream && m.seq == e->r.seq && m.ts_ns == e->r.ts_ns);
            CHECK(m.type == e->r.type && m.len == e->r.len);
            CHECK(m.len == 0 || memcmp(m.data, e->r.data, m.len) == 0);
            messages++;
            continue;
        }
        CHECK(rc == 2 && e->mark);
        bool hb = (e->k.flags & RA_TICK_MARK_HEARTBEAT) != 0;
        CHECK(mk.seq == e->k.seq && mk.stream == e->k.stream && mk.heartbeat == hb);
        CHECK(mk.count == (hb ? 0 : e->k.count));
        CHECK(mk.end_of_session == ((e->k.flags & RA_TICK_MARK_END_OF_SESSION) != 0));
        CHECK(mk.framing == (e->k.framing == 1   ? RP_FRAMING_MOLDUDP64
                             : e->k.framing == 2 ? RP_FRAMING_IEXTP
                                                 : RP_FRAMING_AUTO));
        if (hb) heartbeats++;
        if (e->k.stream != NOSTRM) {
            mseq *q = &streams[e->k.stream];
            uint64_t first = e->k.seq;
            if (q->started && first > q->expected) {
                gaps++;
                uint64_t d = first - q->expected;
                missing = missing + d < missing ? UINT64_MAX : missing + d;
            } else if (q->started && first < q->expected) {
                backward++;
            }
            q->started = true;
            q->expected = first + (hb ? 0 : e->k.count);
        }
    }
    const rp_feed_stats *st = rp_source_stats(s);
    CHECK(st->messages == messages);
    if (rc < 0) {
        CHECK(damaged && strstr(rp_source_error(s), "fuzz.rtk") != NULL);
    } else if (!damaged) {
        CHECK(rc == 0 && k == nev && !st->truncated);
        CHECK(st->heartbeats == heartbeats);
        CHECK(st->gaps == gaps && st->missing == missing && st->backward == backward);
    }
    rp_source_close(s);
    free(file);
    return 0;
}
