/* fuzz_tickfile.c - libFuzzer target: the tick file decoder fed in random chunks, plain and zstd */

/*
 * Input: one mode byte, then the bytes to decode.
 *   bit 0      compress the bytes with zstd first (level 1), so that well-formed .rtk content
 *              mutated by the fuzzer also travels the zstd path (inputs that already are zstd
 *              travel it with bit 0 clear)
 *   bit 1      with bit 0: split into two zstd frames at a point taken from the input
 *   bit 2      repair the header CRC and the record checks first (as far as the lengths allow),
 *              so that mutations reach the checks behind them (bounds, names, stream table,
 *              lengths, kinds) instead of stopping at a checksum mismatch
 *   bits 3..7  seed of the chunk sizes pushed to the decoder (1 byte up to 64 KiB)
 * Every chunk is copied into its own allocation, so ASan sees any read past a chunk.
 *
 * Checks beyond "no crash": records never exceed the header's max_payload; offsets grow; the
 * status after finish is RA_OK or a negative status; a stream read cleanly, written again with
 * ra_tick_writer and decoded again gives the same records and stream table (plain and zstd);
 * ra_tick_probe() agrees with the decoder on clean input.
 *
 * Seeds: tests/fuzz/corpus/fuzz_tickfile/, made by tests/fuzz/make_tickfile_corpus.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "ringalloc/tickfile.h"
#include "../support/tickspec.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) __builtin_trap();                                                                \
    } while (0)

/* Records as decoded: headers, and payloads in one buffer (rec.offset: where each one's is). */
typedef struct recs {
    ra_tick_record *r;
    size_t n, cap;
    tspec_buf bytes;
} recs;

static void recs_free(recs *s)
{
    free(s->r);
    free(s->bytes.p);
    memset(s, 0, sizeof *s);
}

static uint64_t rng;

static uint64_t next_rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Decodes in[0..n) in random chunks. @return the final status. */
static int decode(ra_tick_decoder *d, const uint8_t *in, size_t n, unsigned seed, recs *out)
{
    rng = 0x9E3779B97F4A7C15ull ^ seed ^ ((uint64_t)n << 32);
    unsigned shift = seed % 17;
    size_t at = 0;
    uint8_t *chunk = NULL;
    uint64_t last_off = 0;
    bool first = true;
    ra_tick_record rec;
    int rc;
    for (;;) {
        while ((rc = ra_tick_decoder_next(d, &rec)) == RA_OK) {
            const ra_tick_info *info = ra_tick_decoder_info(d);
            CHECK(info != NULL);
            CHECK(rec.len <= info->max_payload);
            CHECK(first || rec.offset > last_off);
            first = false;
            last_off = rec.offset;
            (void)ra_tick_decoder_stream(d, rec.stream);
            if (out) {
                if (out->n == out->cap) {
                    out->cap = out->cap ? out->cap * 2 : 64;
                    out->r = realloc(out->r, out->cap * sizeof *out->r);
                    CHECK(out->r != NULL);
                }
                rec.offset = out->bytes.len; /* where its payload is kept */
                tspec_put(&out->bytes, rec.data, rec.len);
                out->r[out->n++] = rec;
            } else {
                volatile uint8_t sink = 0; /* touch every payload byte */
                for (uint32_t i = 0; i < rec.len; i++) sink ^= ((const uint8_t *)rec.data)[i];
                (void)sink;
            }
        }
        if (rc != RA_EMPTY) break;
        free(chunk);
        chunk = NULL;
        if (at == n) {
            rc = ra_tick_decoder_finish(d);
            break;
        }
        size_t k = 1 + (size_t)(next_rnd() % ((size_t)1 << shift));
        if (k > n - at) k = n - at;
        chunk = malloc(k);
        CHECK(chunk != NULL);
        memcpy(chunk, in + at, k);
        CHECK(ra_tick_decoder_push(d, chunk, k) == RA_OK);
        at += k;
    }
    free(chunk);
    CHECK(rc <= 0);
    CHECK(rc == ra_tick_decoder_error(d)->status);
    return rc;
}

static bool same_records(const recs *a, const recs *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        const ra_tick_record *x = &a->r[i], *y = &b->r[i];
        if (x->ts_ns != y->ts_ns || x->seq != y->seq || x->len != y->len ||
            x->stream != y->stream || x->type != y->type)
            return false;
        if (x->len && memcmp(a->bytes.p + x->offset, b->bytes.p + y->offset, x->len) != 0)
            return false;
    }
    return true;
}

/* Writes the records and streams again and checks that they decode the same. */
static void rewrite(ra_tick_decoder *d, const recs *s, bool compress)
{
    const ra_tick_info *info = ra_tick_decoder_info(d);
    size_t nstreams = info->nstreams;
    ra_tick_stream *streams = malloc((nstreams + 1) * sizeof *streams);
    CHECK(streams != NULL);
    for (size_t i = 0; i < nstreams; i++) {
        streams[i] = info->streams[i];
        streams[i].desc = strdup(info->streams[i].desc);
    }
    ra_tick_writer_config cfg = {.compress = compress,
                                 .level = 1,
                                 .frame_bytes = 512,
                                 .max_payload = info->max_payload ? info->max_payload : 1,
                                 .created_ns = info->created_ns | 1,
                                 .source_format = info->source_format,
                                 .framing = info->framing,
                                 .creator = info->creator};
    tspec_buf out = {0};
    ra_tick_writer *w;
    CHECK(ra_tick_writer_open_sink(&w, tspec_sink, &out, &cfg) == RA_OK);
    for (size_t i = 0; i < nstreams; i++)
        if (i < info->header_streams)
            CHECK(ra_tick_writer_add_stream(w, streams[i].id, streams[i].desc) == RA_OK);
    for (size_t i = 0; i < s->n; i++) {
        ra_tick_record r = s->r[i];
        /* no payload bytes at all leaves the buffer NULL, and NULL + 0 is undefined */
        r.data = s->bytes.p ? (const void *)(s->bytes.p + r.offset) : (const void *)"";
        CHECK(ra_tick_write(w, &r) == RA_OK);
        if (i == s->n / 2) /* later streams go out as stream records, between records */
            for (size_t k = info->header_streams; k < nstreams; k++)
                CHECK(ra_tick_writer_add_stream(w, streams[k].id, streams[k].desc) == RA_OK);
    }
    if (s->n == 0)
        for (size_t k = info->header_streams; k < nstreams; k++)
            CHECK(ra_tick_writer_add_stream(w, streams[k].id, streams[k].desc) == RA_OK);
    CHECK(ra_tick_writer_close(w) == RA_OK);

    ra_tick_decoder *d2;
    CHECK(ra_tick_decoder_create(&d2) == RA_OK);
    recs again = {0};
    CHECK(decode(d2, out.p, out.len, (unsigned)s->n, &again) == RA_OK);
    CHECK(same_records(s, &again));
    const ra_tick_info *i2 = ra_tick_decoder_info(d2);
    CHECK(i2->nstreams == nstreams);
    for (size_t i = 0; i < nstreams; i++) {
        CHECK(i2->streams[i].id == streams[i].id);
        CHECK(strcmp(i2->streams[i].desc, streams[i].desc) == 0);
    }
    CHECK(strcmp(i2->source_format, cfg.source_format) == 0);
    CHECK(strcmp(i2->framing, cfg.framing) == 0);
    CHECK(strcmp(i2->creator, cfg.creator) == 0);
    CHECK(ra_tick_probe(out.p, out.len) == (compress ? RA_TICK_PROBE_ZSTD : RA_TICK_PROBE_PLAIN));
    recs_free(&again);
    ra_tick_decoder_destroy(d2);
    for (size_t i = 0; i < nstreams; i++) free((void *)(uintptr_t)streams[i].desc);
    free(streams);
    free(out.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ra_tick_decoder *d;
    if (!d) CHECK(ra_tick_decoder_create(&d) == RA_OK);
    if (size < 1) return 0;
    uint8_t mode = data[0];
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    uint8_t *z = NULL, *fixed = NULL;
    if (mode & 4) {
        fixed = malloc(n ? n : 1);
        CHECK(fixed != NULL);
        if (n) memcpy(fixed, in, n);
        tspec_repair(fixed, n);
        in = fixed;
    }
    if (mode & 1) {
        size_t cap = ZSTD_compressBound(n) * 2 + 64;
        z = malloc(cap);
        CHECK(z != NULL);
        size_t split = (mode & 2) && n ? in[0] % n : n;
        size_t a = ZSTD_compress(z, cap, in, split, 1);
        CHECK(!ZSTD_isError(a));
        size_t b = 0;
        if (split < n) {
            b = ZSTD_compress(z + a, cap - a, in + split, n - split, 1);
            CHECK(!ZSTD_isError(b));
        }
        in = z;
        n = a + b;
    }
    ra_tick_decoder_reset(d);
    recs s = {0};
    int rc = decode(d, in, n, mode >> 3, &s);
    if (rc == RA_OK) {
        const ra_tick_info *info = ra_tick_decoder_info(d);
        CHECK(info != NULL);
        CHECK(ra_tick_probe(in, n) ==
              (info->compressed ? RA_TICK_PROBE_ZSTD : RA_TICK_PROBE_PLAIN));
        if (s.n < 5000) {
            rewrite(d, &s, false);
            rewrite(d, &s, true);
        }
    } else if (rc == RA_ETRUNC) {
        /* a cut is never reported for input that is not a prefix of a tick file */
        CHECK(ra_tick_probe(in, n) != RA_TICK_PROBE_NO || n >= 4);
    }
    recs_free(&s);
    free(z);
    free(fixed);
    return 0;
}
