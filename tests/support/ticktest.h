/* ticktest.h - tests: what the tick file test programs share (records, writing, decoding) */
#ifndef TESTS_SUPPORT_TICKTEST_H
#define TESTS_SUPPORT_TICKTEST_H

/*
 * For tests/test_tickfile*.c (cmocka; include <cmocka.h> first): a deterministic set of records,
 * the writer config they use, and a decode of a byte buffer pushed in chunks of a given (or
 * random) size that keeps every record and the final status, error and stats. Header-only, like
 * tickspec.h, since each test program is one .c file.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/tickfile.h"
#include "tickspec.h"

/* xorshift64: make_records() seeds it; decode() with chunk 0 draws its chunk sizes from it. */
static uint64_t rng_state = 88172645463325252ull;

static inline uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A set of records with owned payloads. */
typedef struct recset {
    ra_tick_record *r;
    uint8_t *bytes;
    size_t n;
} recset;

static inline recset make_records(size_t n, uint64_t seed, bool random_payload)
{
    rng_state = seed | 1;
    recset s = {calloc(n, sizeof(ra_tick_record)), NULL, n};
    size_t *len = calloc(n, sizeof *len), total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = rnd() % 100;
        len[i] = x < 5 ? 0 : x < 90 ? rnd() % 64 : x < 99 ? rnd() % 1500 : 5000 + rnd() % 3000;
        total += len[i];
    }
    s.bytes = malloc(total + 1);
    uint64_t ts = 1700000000000000000ull, seq[4] = {1, 1000, 0, UINT64_MAX - n};
    for (size_t i = 0, at = 0; i < n; i++) {
        ts += rnd() % 5000;
        uint32_t st = (uint32_t)(rnd() % 4);
        for (size_t k = 0; k < len[i]; k++)
            s.bytes[at + k] = random_payload ? (uint8_t)rnd() : (uint8_t)("ITCHAEFX"[k % 8] + i);
        s.r[i] = (ra_tick_record){.ts_ns = i == 7 ? UINT64_MAX : ts,
                                  .seq = seq[st]++,
                                  .data = s.bytes + at,
                                  .len = (uint32_t)len[i],
                                  .stream = st == 3 ? 0xFFFFFFFFu : st,
                                  .type = (uint16_t)(i == 3 ? 0xFFFF : "APEXFDUS"[rnd() % 8])};
        at += len[i];
    }
    free(len);
    return s;
}

static inline void free_records(recset *s)
{
    free(s->r);
    free(s->bytes);
}

static inline ra_tick_writer_config cfg_for(bool compress)
{
    return (ra_tick_writer_config){.compress = compress,
                                   .created_ns = 1700000000123456789ull,
                                   .source_format = "pcap",
                                   .framing = "moldudp64",
                                   .creator = "test_tickfile"};
}

static inline void write_file(tspec_buf *out, const recset *s, const ra_tick_writer_config *cfg)
{
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, out, cfg), RA_OK);
    for (size_t i = 0; i < s->n; i++) assert_int_equal(ra_tick_write(w, &s->r[i]), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
}

/* What a decode produced. */
typedef struct got {
    ra_tick_record *r; /* data points into bytes (fixed up at the end) */
    size_t *at;
    size_t n, cap;
    tspec_buf bytes;
    int status; /* finish() result, or the error that stopped the decode */
    ra_tick_error err;
    ra_tick_stats st;
    size_t nstreams;
} got;

static inline void got_free(got *g)
{
    free(g->r);
    free(g->at);
    tspec_free(&g->bytes);
    memset(g, 0, sizeof *g);
}

/* Decodes p[0..n) pushed in chunks of `chunk` bytes (0: random sizes), each chunk copied to its
 * own allocation so that ASan sees reads past it. */
static inline void decode_with(ra_tick_decoder *d, const uint8_t *p, size_t n, size_t chunk, got *g)
{
    memset(g, 0, sizeof *g);
    size_t at = 0;
    uint8_t *cur = NULL;
    int rc;
    ra_tick_record rec;
    for (;;) {
        while ((rc = ra_tick_decoder_next(d, &rec)) == RA_OK) {
            if (g->n == g->cap) {
                g->cap = g->cap ? 2 * g->cap : 64;
                g->r = realloc(g->r, g->cap * sizeof *g->r);
                g->at = realloc(g->at, g->cap * sizeof *g->at);
            }
            g->at[g->n] = g->bytes.len;
            tspec_put(&g->bytes, rec.data, rec.len);
            g->r[g->n++] = rec;
        }
        if (rc != RA_EMPTY) break;
        free(cur);
        cur = NULL;
        if (at == n) {
            rc = ra_tick_decoder_finish(d);
            break;
        }
        size_t k = chunk ? chunk : 1 + rnd() % 700;
        if (k > n - at) k = n - at;
        cur = malloc(k);
        memcpy(cur, p + at, k);
        assert_int_equal(ra_tick_decoder_push(d, cur, k), RA_OK);
        at += k;
    }
    free(cur);
    for (size_t i = 0; i < g->n; i++) g->r[i].data = g->bytes.p + g->at[i];
    g->status = rc;
    g->err = *ra_tick_decoder_error(d);
    ra_tick_decoder_get_stats(d, &g->st);
    const ra_tick_info *info = ra_tick_decoder_info(d);
    g->nstreams = info ? info->nstreams : 0;
}

static inline void decode(const uint8_t *p, size_t n, size_t chunk, got *g)
{
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    decode_with(d, p, n, chunk, g);
    ra_tick_decoder_destroy(d);
}

static inline bool same_record(const ra_tick_record *a, const ra_tick_record *b)
{
    return a->ts_ns == b->ts_ns && a->seq == b->seq && a->len == b->len && a->stream == b->stream &&
           a->type == b->type && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static inline void assert_records(const got *g, const recset *s, size_t n)
{
    assert_int_equal(g->n, n);
    for (size_t i = 0; i < n; i++) {
        if (!same_record(&g->r[i], &s->r[i])) fail_msg("record %zu differs", i);
    }
}

static inline int decode_status(const tspec_buf *b, got *g)
{
    decode(b->p, b->len, 0, g);
    return g->status;
}

#endif /* TESTS_SUPPORT_TICKTEST_H */
