/* test_tickfile.c - native tick file: round trips, streams, pipes, versions, damage, limits */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "ringalloc/ringalloc.h"
#include "ringalloc/tickfile.h"

/* ---- helpers: memory sink, records, an independent encoder written from docs/tickfile.md ---- */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
    size_t fail_after; /* sink: fail once len would pass this (0 = never) */
} buf;

static void buf_put(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_free(buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int mem_sink(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    if (b->fail_after && b->len + n > b->fail_after) return -1;
    buf_put(b, p, n);
    return 0;
}

static void put16(buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    buf_put(b, x, 2);
}

static void put32(buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
    buf_put(b, x, 4);
}

static void put64(buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    buf_put(b, x, 8);
}

static void pad8(buf *b)
{
    static const uint8_t z[8];
    buf_put(b, z, (8 - b->len % 8) % 8);
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC-32C as the spec gives it. */
static uint32_t t_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static uint64_t rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* The record check as the spec gives it. */
static uint32_t t_check(const uint8_t *h)
{
    uint64_t a = (get64(h) ^ 0x52544B3100000000ull) * 0x9E3779B97F4A7C15ull;
    uint64_t b = ((uint64_t)get32(h + 8) ^ 0x73747265ull) * 0xC2B2AE3D27D4EB4Full;
    uint64_t c = get64(h + 16) * 0x165667B19E3779F9ull;
    uint64_t d = get64(h + 24) * 0xD6E8FEB86659FD93ull;
    uint64_t x = a ^ rotl(b, 17) ^ rotl(c, 31) ^ rotl(d, 47);
    x ^= x >> 32;
    x *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

typedef struct hdr_opts {
    unsigned major, minor;
    uint32_t flags, rhs, max_payload, nstreams;
    uint64_t created;
    const char *names[3];
    const uint32_t *ids;
    const char *const *descs;
    size_t extension; /* zero bytes a newer minor might add after the stream table */
} hdr_opts;

static hdr_opts default_hdr(void)
{
    return (hdr_opts){.major = 1,
                      .minor = RA_TICK_VERSION_MINOR,
                      .rhs = 32,
                      .max_payload = 1u << 20,
                      .created = 1700000000123456789ull,
                      .names = {"pcap", "moldudp64", "test"}};
}

static void enc_header(buf *b, const hdr_opts *o)
{
    size_t start = b->len;
    buf_put(b, RA_TICK_MAGIC, 8);
    put16(b, (uint16_t)o->major);
    put16(b, (uint16_t)o->minor);
    put32(b, 0); /* header size, patched below */
    put32(b, o->flags);
    put32(b, o->rhs);
    put64(b, o->created);
    put32(b, o->max_payload);
    put32(b, o->nstreams);
    for (int k = 0; k < 3; k++) put16(b, (uint16_t)strlen(o->names[k]));
    put16(b, 0);
    for (int k = 0; k < 16; k++) buf_put(b, "", 1);
    for (int k = 0; k < 3; k++) buf_put(b, o->names[k], strlen(o->names[k]));
    pad8(b);
    for (uint32_t k = 0; k < o->nstreams; k++) {
        put32(b, o->ids[k]);
        put16(b, (uint16_t)strlen(o->descs[k]));
        put16(b, 0);
        buf_put(b, o->descs[k], strlen(o->descs[k]));
        pad8(b);
    }
    for (size_t k = 0; k < o->extension; k++) buf_put(b, "", 1);
    pad8(b);
    size_t hs = b->len - start + 8;
    set32(b->p + start + 12, (uint32_t)hs);
    put32(b, 0); /* padding before the CRC */
    put32(b, t_crc32c(b->p + start, hs - 4));
}

static void enc_record(buf *b, uint32_t rhs, uint32_t len, uint16_t type, uint16_t kind,
                       uint32_t stream, uint64_t seq, uint64_t ts, const void *payload)
{
    size_t at = b->len;
    put32(b, len);
    put16(b, type);
    put16(b, kind);
    put32(b, stream);
    put32(b, 0);
    put64(b, seq);
    put64(b, ts);
    for (uint32_t k = 32; k < rhs; k++) buf_put(b, "\x5a", 1); /* a newer minor's fields */
    set32(b->p + at + 12, t_check(b->p + at));
    buf_put(b, payload, len);
    pad8(b);
}

static void enc_end(buf *b, uint32_t rhs, uint64_t records, uint64_t bytes)
{
    uint8_t e[16];
    for (int i = 0; i < 8; i++) e[i] = (uint8_t)(records >> (8 * i));
    for (int i = 0; i < 8; i++) e[8 + i] = (uint8_t)(bytes >> (8 * i));
    enc_record(b, rhs, 16, 0, RA_TICK_KIND_END, 0, 0, 0, e);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
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

static recset make_records(size_t n, uint64_t seed, bool random_payload)
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

static void free_records(recset *s)
{
    free(s->r);
    free(s->bytes);
}

static ra_tick_writer_config cfg_for(bool compress)
{
    return (ra_tick_writer_config){.compress = compress,
                                   .created_ns = 1700000000123456789ull,
                                   .source_format = "pcap",
                                   .framing = "moldudp64",
                                   .creator = "test_tickfile"};
}

static void write_file(buf *out, const recset *s, const ra_tick_writer_config *cfg)
{
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, out, cfg), RA_OK);
    for (size_t i = 0; i < s->n; i++) assert_int_equal(ra_tick_write(w, &s->r[i]), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
}

/* What a decode produced. */
typedef struct got {
    ra_tick_record *r; /* data points into bytes (fixed up at the end) */
    size_t *at;
    size_t n, cap;
    buf bytes;
    int status; /* finish() result, or the error that stopped the decode */
    ra_tick_error err;
    ra_tick_stats st;
    size_t nstreams;
} got;

static void got_free(got *g)
{
    free(g->r);
    free(g->at);
    buf_free(&g->bytes);
    memset(g, 0, sizeof *g);
}

/* Decodes p[0..n) pushed in chunks of `chunk` bytes (0: random sizes), each chunk copied to its
 * own allocation so that ASan sees reads past it. */
static void decode_with(ra_tick_decoder *d, const uint8_t *p, size_t n, size_t chunk, got *g)
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
            buf_put(&g->bytes, rec.data, rec.len);
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

static void decode(const uint8_t *p, size_t n, size_t chunk, got *g)
{
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    decode_with(d, p, n, chunk, g);
    ra_tick_decoder_destroy(d);
}

static bool same_record(const ra_tick_record *a, const ra_tick_record *b)
{
    return a->ts_ns == b->ts_ns && a->seq == b->seq && a->len == b->len && a->stream == b->stream &&
           a->type == b->type && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void assert_records(const got *g, const recset *s, size_t n)
{
    assert_int_equal(g->n, n);
    for (size_t i = 0; i < n; i++) {
        if (!same_record(&g->r[i], &s->r[i])) fail_msg("record %zu differs", i);
    }
}

/* ---- round trips ----------------------------------------------------------------------------- */

static void roundtrip(bool compress, int level, int workers)
{
    recset s = make_records(3000, 42, false);
    ra_tick_writer_config cfg = cfg_for(compress);
    cfg.level = level;
    cfg.workers = workers;
    buf f = {0};
    write_file(&f, &s, &cfg);
    assert_true(f.len > 64);
    assert_int_equal(ra_tick_probe(f.p, f.len),
                     compress ? RA_TICK_PROBE_ZSTD : RA_TICK_PROBE_PLAIN);
    static const size_t chunks[] = {1, 3, 8, 31, 32, 33, 4096, 65536, 0, (size_t)-1};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        got g;
        decode(f.p, f.len, chunks[c] == (size_t)-1 ? f.len : chunks[c], &g);
        assert_int_equal(g.status, RA_OK);
        assert_records(&g, &s, s.n);
        assert_int_equal(g.st.records, s.n);
        assert_int_equal(g.st.compressed, compress);
        if (!compress) assert_int_equal(g.st.bytes, f.len);
        if (compress) assert_int_equal(g.st.comp_bytes, f.len);
        got_free(&g);
    }
    /* header fields */
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    assert_null(ra_tick_decoder_info(d));
    assert_int_equal(ra_tick_decoder_push(d, f.p, f.len), RA_OK);
    assert_int_equal(ra_tick_decoder_read_header(d), RA_OK);
    const ra_tick_info *info = ra_tick_decoder_info(d);
    assert_non_null(info);
    assert_int_equal(info->version_major, RA_TICK_VERSION_MAJOR);
    assert_int_equal(info->version_minor, RA_TICK_VERSION_MINOR);
    assert_int_equal(info->created_ns, 1700000000123456789ull);
    assert_string_equal(info->source_format, "pcap");
    assert_string_equal(info->framing, "moldudp64");
    assert_string_equal(info->creator, "test_tickfile");
    assert_int_equal(info->max_payload, RA_TICK_DEFAULT_PAYLOAD);
    assert_int_equal(info->record_header_size, RA_TICK_REC_HDR);
    assert_int_equal(info->compressed, compress);
    ra_tick_decoder_destroy(d);
    buf_free(&f);
    free_records(&s);
}

static void test_roundtrip_plain(void **state)
{
    (void)state;
    roundtrip(false, 0, 0);
}

static void test_roundtrip_zstd(void **state)
{
    (void)state;
    roundtrip(true, 1, 0);
    roundtrip(true, 19, 0);
    roundtrip(true, 3, 2);
}

/* A file made by hand from the spec equals the writer's output byte for byte. */
static void test_spec_bytes(void **state)
{
    (void)state;
    static const uint32_t ids[] = {7, 1};
    static const char *const descs[] = {"233.54.12.111:26477 moldudp64 session ABCDEF", ""};
    hdr_opts o = default_hdr();
    o.nstreams = 2;
    o.ids = ids;
    o.descs = descs;
    ra_tick_writer_config cfg = cfg_for(false);
    cfg.creator = "test";
    buf out = {0};
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &out, &cfg), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 7, descs[0]), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 1, descs[1]), RA_OK);
    ra_tick_record r = {
        .ts_ns = 1000, .seq = 9, .data = "hello", .len = 5, .stream = 7, .type = 'A'};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    r = (ra_tick_record){.ts_ns = UINT64_MAX, .seq = UINT64_MAX, .stream = 1, .type = 0xFFFF};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 9, "lat"), RA_OK);
    r = (ra_tick_record){
        .ts_ns = 2000, .seq = 1, .data = "12345678", .len = 8, .stream = 9, .type = 'P'};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    buf want2 = {0};
    enc_header(&want2, &o);
    enc_record(&want2, 32, 5, 'A', 0, 7, 9, 1000, "hello");
    enc_record(&want2, 32, 0, 0xFFFF, 0, 1, UINT64_MAX, UINT64_MAX, "");
    enc_record(&want2, 32, 3, 0, RA_TICK_KIND_STREAM, 9, 0, 0, "lat");
    enc_record(&want2, 32, 8, 'P', 0, 9, 1, 2000, "12345678");
    enc_end(&want2, 32, 3, 13);
    assert_int_equal(out.len, want2.len);
    assert_memory_equal(out.p, want2.p, out.len);
    buf_free(&want2);
    buf_free(&out);
}

/* Records larger than the writer's 256 KiB staging buffer and the decoder's 256 KiB output
 * buffer, up to the 16 MiB limit, between small ones; fast and normal levels. */
static void test_big_records(void **state)
{
    (void)state;
    static const uint32_t lens[] = {1, 300000, 0, RA_TICK_MAX_PAYLOAD, 7, 262143, 262144, 5};
    enum { N = sizeof lens / sizeof *lens };
    uint8_t *payload = malloc(RA_TICK_MAX_PAYLOAD);
    for (uint32_t i = 0; i < RA_TICK_MAX_PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 2654435761u >> 24);
    for (int z = 0; z < 3; z++) {
        ra_tick_writer_config cfg = cfg_for(z > 0);
        cfg.max_payload = RA_TICK_MAX_PAYLOAD;
        cfg.level = z == 2 ? -5 : 1;
        cfg.frame_bytes = 100000;
        buf f = {0};
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
        ra_tick_record r = {.data = payload, .type = 'Z'};
        for (int i = 0; i < N; i++) {
            r.len = lens[i];
            r.seq = (uint64_t)i;
            assert_int_equal(ra_tick_write(w, &r), RA_OK);
        }
        r.len = RA_TICK_MAX_PAYLOAD + 1;
        assert_int_equal(ra_tick_write(w, &r), RA_ETOOBIG);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);
        static const size_t chunks[] = {4093, 1 << 20, 0};
        for (int c = 0; c < 3; c++) {
            got g;
            decode(f.p, f.len, chunks[c] ? chunks[c] : f.len, &g);
            assert_int_equal(g.status, RA_OK);
            assert_int_equal(g.n, N);
            for (int i = 0; i < N; i++) {
                assert_int_equal(g.r[i].len, lens[i]);
                assert_int_equal(g.r[i].seq, (uint64_t)i);
                assert_memory_equal(g.r[i].data, payload, lens[i]);
            }
            got_free(&g);
        }
        buf_free(&f);
    }
    free(payload);
}

/* ---- multi-frame files ---------------------------------------------------------------------- */

static void test_multiframe(void **state)
{
    (void)state;
    recset s = make_records(4000, 7, false);
    ra_tick_writer_config cfg = cfg_for(true);
    cfg.frame_bytes = 8192;
    buf f = {0};
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
    for (size_t i = 0; i < s.n; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    /* count the frames in the file and check each one decodes on its own */
    size_t frames = 0, at = 0;
    uint64_t content = 0;
    size_t *ends = NULL;
    while (at < f.len) {
        size_t fl = ZSTD_findFrameCompressedSize(f.p + at, f.len - at);
        assert_false(ZSTD_isError(fl));
        unsigned long long cs = ZSTD_getFrameContentSize(f.p + at, fl);
        if (cs == ZSTD_CONTENTSIZE_UNKNOWN) {
            ZSTD_DCtx *dc = ZSTD_createDCtx();
            uint8_t *tmp = malloc(1 << 20);
            ZSTD_inBuffer in = {f.p + at, fl, 0};
            cs = 0;
            while (in.pos < in.size) {
                ZSTD_outBuffer o = {tmp, 1 << 20, 0};
                size_t r = ZSTD_decompressStream(dc, &o, &in);
                assert_false(ZSTD_isError(r));
                cs += o.pos;
            }
            free(tmp);
            ZSTD_freeDCtx(dc);
        }
        content += cs;
        at += fl;
        ends = realloc(ends, (frames + 1) * sizeof *ends);
        ends[frames++] = at;
    }
    assert_true(frames > 10);
    got g;
    decode(f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_records(&g, &s, s.n);
    assert_int_equal(g.st.frames, frames);
    assert_int_equal(g.st.bytes, content);
    got_free(&g);
    /* a file cut after any frame is a clean prefix: every record of the kept frames, then
     * RA_ETRUNC at a record boundary (frames end on record boundaries) */
    size_t prev = 0;
    for (size_t k = 0; k + 1 < frames; k++) {
        decode(f.p, ends[k], 4096, &g);
        assert_int_equal(g.status, RA_ETRUNC);
        assert_true(g.n >= prev);
        assert_records(&g, &s, g.n);
        assert_int_equal(g.err.offset, g.st.bytes); /* nothing half-parsed */
        assert_int_equal(g.err.comp_offset, ends[k]);
        assert_int_equal(g.err.frame_offset, ends[k]);
        assert_non_null(strstr(g.err.msg, "no end record"));
        prev = g.n;
        got_free(&g);
    }
    free(ends);
    buf_free(&f);
    free_records(&s);
}

/* flush() ends a frame: what is on disk so far decodes as a prefix. */
static void test_flush(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        recset s = make_records(100, 9, true);
        ra_tick_writer_config cfg = cfg_for(z);
        buf f = {0};
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
        for (size_t i = 0; i < 60; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
        assert_int_equal(ra_tick_writer_flush(w), RA_OK);
        size_t cut = f.len;
        for (size_t i = 60; i < s.n; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
        ra_tick_writer_stats ws;
        ra_tick_writer_get_stats(w, &ws);
        assert_int_equal(ws.records, s.n);
        assert_int_equal(ws.frames, z ? 1 : 0);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);
        got g;
        decode(f.p, cut, 0, &g);
        assert_int_equal(g.status, RA_ETRUNC);
        assert_records(&g, &s, 60);
        got_free(&g);
        decode(f.p, f.len, 0, &g);
        assert_int_equal(g.status, RA_OK);
        assert_records(&g, &s, s.n);
        got_free(&g);
        buf_free(&f);
        free_records(&s);
    }
}

/* ---- stream table --------------------------------------------------------------------------- */

static void test_streams(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        char long_desc[65536];
        memset(long_desc, 'x', sizeof long_desc);
        long_desc[65535] = '\0';
        ra_tick_writer_config cfg = cfg_for(z);
        buf f = {0};
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 0,
                                                   "233.54.12.111:26477 moldudp64 session "
                                                   "ABCDEF"),
                         RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 0, "again"), RA_EINVAL);
        assert_int_equal(ra_tick_writer_add_stream(w, 5, ""), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 6, long_desc), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 1, NULL), RA_EINVAL);
        char *too_long = malloc(70000);
        memset(too_long, 'y', 69999);
        too_long[69999] = '\0';
        assert_int_equal(ra_tick_writer_add_stream(w, 8, too_long), RA_EINVAL);
        free(too_long);
        ra_tick_record r = {.ts_ns = 1, .data = "abc", .len = 3, .stream = 0, .type = 'A'};
        assert_int_equal(ra_tick_write(w, &r), RA_OK);
        /* declared after the first record: stream records */
        assert_int_equal(ra_tick_writer_add_stream(w, 77, "10.0.0.1:5000 iextp channel 1"), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 5, "dup of a header stream"), RA_EINVAL);
        r.stream = 77;
        assert_int_equal(ra_tick_write(w, &r), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 0xFFFFFFFFu, "last"), RA_OK);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);

        ra_tick_decoder *d;
        assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
        assert_int_equal(ra_tick_decoder_push(d, f.p, f.len), RA_OK);
        assert_int_equal(ra_tick_decoder_read_header(d), RA_OK);
        const ra_tick_info *info = ra_tick_decoder_info(d);
        assert_int_equal(info->nstreams, 3);
        assert_int_equal(info->header_streams, 3);
        assert_int_equal(info->streams[0].id, 0);
        assert_string_equal(info->streams[0].desc, "233.54.12.111:26477 moldudp64 session ABCDEF");
        assert_int_equal(info->streams[1].desc_len, 0);
        assert_string_equal(info->streams[1].desc, "");
        assert_int_equal(info->streams[2].desc_len, 65535);
        assert_null(ra_tick_decoder_stream(d, 77));
        ra_tick_record got_r;
        assert_int_equal(ra_tick_decoder_next(d, &got_r), RA_OK);
        assert_int_equal(got_r.stream, 0);
        assert_int_equal(ra_tick_decoder_next(d, &got_r), RA_OK);
        assert_int_equal(got_r.stream, 77);
        const ra_tick_stream *st = ra_tick_decoder_stream(d, 77);
        assert_non_null(st);
        assert_string_equal(st->desc, "10.0.0.1:5000 iextp channel 1");
        assert_int_equal(ra_tick_decoder_next(d, &got_r), RA_EMPTY);
        info = ra_tick_decoder_info(d);
        assert_int_equal(info->nstreams, 5);
        assert_int_equal(info->header_streams, 3);
        assert_string_equal(info->streams[4].desc, "last");
        assert_string_equal(ra_tick_decoder_stream(d, 6)->desc, long_desc);
        assert_int_equal(ra_tick_decoder_finish(d), RA_OK);
        ra_tick_decoder_destroy(d);
        buf_free(&f);
    }
}

/* Many streams: the hash table grows; a table too big for the 1 MiB header goes out as stream
 * records. */
static void test_many_streams(void **state)
{
    (void)state;
    enum { N = 30000 };
    buf f = {0};
    ra_tick_writer_config cfg = cfg_for(true);
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
    char desc[64];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(desc, sizeof desc, "239.0.%u.%u:30001 moldudp64 session S%08u", i / 256, i % 256,
                 i * 7919u);
        assert_int_equal(ra_tick_writer_add_stream(w, i * 7919u, desc), RA_OK);
    }
    ra_tick_record r = {.data = "z", .len = 1, .stream = 7919};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    got g;
    decode_with(d, f.p, f.len, 100000, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nstreams, N);
    assert_int_equal(ra_tick_decoder_info(d)->header_streams, 0);
    for (uint32_t i = 0; i < N; i += 97) {
        snprintf(desc, sizeof desc, "239.0.%u.%u:30001 moldudp64 session S%08u", i / 256, i % 256,
                 i * 7919u);
        const ra_tick_stream *st = ra_tick_decoder_stream(d, i * 7919u);
        assert_non_null(st);
        assert_string_equal(st->desc, desc);
    }
    assert_null(ra_tick_decoder_stream(d, 1));
    got_free(&g);
    ra_tick_decoder_destroy(d);
    buf_free(&f);
}

/* ---- files and pipes ------------------------------------------------------------------------ */

typedef struct pipe_job {
    int fd;
    const recset *s;
    bool compress;
    int rc;
} pipe_job;

static void *pipe_writer(void *arg)
{
    pipe_job *j = arg;
    FILE *fp = fdopen(j->fd, "wb");
    ra_tick_writer_config cfg = cfg_for(j->compress);
    cfg.frame_bytes = 100000;
    ra_tick_writer *w;
    j->rc = ra_tick_writer_open_fp(&w, fp, &cfg);
    if (j->rc == RA_OK) {
        for (size_t i = 0; i < j->s->n && j->rc == RA_OK; i++)
            j->rc = ra_tick_write(w, &j->s->r[i]);
        int rc = ra_tick_writer_close(w);
        if (j->rc == RA_OK) j->rc = rc;
    }
    fclose(fp);
    return NULL;
}

static void read_all(ra_tick_reader *r, const recset *s, int want_end, size_t want_n)
{
    ra_tick_record rec;
    size_t n = 0;
    int rc;
    while ((rc = ra_tick_reader_next(r, &rec)) == RA_OK) {
        assert_true(n < s->n);
        if (!same_record(&rec, &s->r[n])) fail_msg("record %zu differs", n);
        n++;
    }
    assert_int_equal(rc, want_end);
    assert_int_equal(n, want_n);
    assert_int_equal(ra_tick_reader_next(r, &rec), want_end); /* the end stays the end */
}

static void test_pipe(void **state)
{
    (void)state;
    recset s = make_records(20000, 3, false); /* well past the 64 KiB pipe buffer */
    for (int mode = 0; mode < 6; mode++) {
        bool z = mode & 1;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pipe_job j = {.fd = fds[1], .s = &s, .compress = z};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, pipe_writer, &j), 0);
        ra_tick_reader *r = NULL;
        ra_tick_error err;
        if (mode < 2) { /* FILE*, no prefix */
            FILE *fp = fdopen(fds[0], "rb");
            assert_int_equal(ra_tick_reader_open_fp(&r, fp, NULL, 0, &err), RA_OK);
            assert_int_equal(ra_tick_reader_info(r)->compressed, z);
            read_all(r, &s, RA_EMPTY, s.n);
            ra_tick_reader_close(r);
            fclose(fp);
        } else if (mode < 4) { /* the caller sniffed 5 bytes first */
            FILE *fp = fdopen(fds[0], "rb");
            uint8_t head[5];
            assert_int_equal(fread(head, 1, 5, fp), 5);
            assert_int_equal(ra_tick_probe(head, 5), RA_TICK_PROBE_MORE);
            assert_int_equal(ra_tick_reader_open_fp(&r, fp, head, 5, &err), RA_OK);
            read_all(r, &s, RA_EMPTY, s.n);
            ra_tick_reader_close(r);
            fclose(fp);
        } else { /* "-" is stdin */
            int saved = dup(STDIN_FILENO);
            assert_true(saved >= 0);
            assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
            close(fds[0]);
            assert_int_equal(ra_tick_reader_open(&r, "-", &err), RA_OK);
            read_all(r, &s, RA_EMPTY, s.n);
            ra_tick_reader_close(r);
            assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
            close(saved);
        }
        pthread_join(t, NULL);
        assert_int_equal(j.rc, RA_OK);
    }
    free_records(&s);
}

static void test_files(void **state)
{
    (void)state;
    recset s = make_records(5000, 11, false);
    char path[] = "/tmp/test_tickfile_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int z = 0; z < 2; z++) {
        ra_tick_writer_config cfg = cfg_for(z);
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open(&w, path, &cfg), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 2, "two"), RA_OK);
        for (size_t i = 0; i < s.n; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);
        ra_tick_reader *r;
        ra_tick_error err;
        assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_OK);
        assert_string_equal(ra_tick_decoder_stream(ra_tick_reader_decoder(r), 2)->desc, "two");
        read_all(r, &s, RA_EMPTY, s.n);
        assert_int_equal(ra_tick_reader_error(r)->status, RA_OK);
        ra_tick_reader_close(r);
        /* cut the file on disk: every complete record, then RA_ETRUNC */
        FILE *fp = fopen(path, "rb");
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fclose(fp);
        assert_int_equal(truncate(path, size - 3), 0);
        assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_OK);
        read_all(r, &s, RA_ETRUNC, s.n);
        const ra_tick_error *e = ra_tick_reader_error(r);
        assert_int_equal(e->status, RA_ETRUNC);
        if (z) assert_int_equal(e->comp_offset, (uint64_t)size - 3);
        ra_tick_reader_close(r);
    }
    unlink(path);
    ra_tick_reader *r = (ra_tick_reader *)&s; /* must be reset to NULL on failure */
    ra_tick_error err;
    assert_int_equal(ra_tick_reader_open(&r, "/nonexistent/x.rtk", &err), RA_EIO);
    assert_null(r);
    assert_int_equal(err.status, RA_EIO);
    assert_non_null(strstr(err.msg, "cannot open"));
    /* a file that is not a tick file */
    strcpy(path, "/tmp/test_tickfile_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\xd4\xc3\xb2\xa1\x02\x00\x04\x00 pcap", 13), 13);
    close(fd);
    assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_EFORMAT);
    assert_int_equal(err.offset, 0);
    /* an empty file */
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_EFORMAT);
    assert_non_null(strstr(err.msg, "empty"));
    unlink(path);
    free_records(&s);
}

static int decode_status(const buf *b, got *g)
{
    decode(b->p, b->len, 0, g);
    return g->status;
}

/* ---- marks (1.1) ------------------------------------------------------------------------------
 */

/* Decodes p[0..n) in chunks of `chunk` bytes with next_event(): kinds in order, marks, and the
 * data records' fields (payload bytes checked against want). @return the finish status. */
static int decode_events(const uint8_t *p, size_t n, size_t chunk, uint16_t *kinds,
                         ra_tick_mark *marks, size_t *nk, size_t *nm, const recset *want)
{
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    size_t at = 0, nd = 0;
    *nk = *nm = 0;
    int rc;
    for (;;) {
        ra_tick_record rec;
        ra_tick_mark m;
        uint16_t kind = 0xEEEE;
        while ((rc = ra_tick_decoder_next_event(d, &rec, &m, &kind)) == RA_OK) {
            kinds[(*nk)++] = kind;
            if (kind == RA_TICK_KIND_MARK) {
                marks[(*nm)++] = m;
            } else {
                assert_int_equal(kind, RA_TICK_KIND_DATA);
                assert_true(nd < want->n);
                if (!same_record(&rec, &want->r[nd])) fail_msg("record %zu differs", nd);
                nd++;
            }
        }
        if (rc != RA_EMPTY) break;
        if (at == n) {
            rc = ra_tick_decoder_finish(d);
            break;
        }
        size_t k = chunk < n - at ? chunk : n - at;
        assert_int_equal(ra_tick_decoder_push(d, p + at, k), RA_OK);
        at += k;
    }
    ra_tick_decoder_destroy(d);
    return rc;
}

/* Marks written between data records come back in order through next_event(), are skipped by
 * next(), are not counted by the end record, and have the bytes docs/tickfile.md gives. */
static void test_marks(void **state)
{
    (void)state;
    recset s = make_records(300, 21, true);
    enum { NMARKS = 100 };
    ra_tick_mark want[NMARKS];
    for (int z = 0; z < 2; z++) {
        buf out = {0};
        ra_tick_writer_config cfg = cfg_for(z);
        cfg.frame_bytes = 2048; /* marks also end frames */
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &out, &cfg), RA_OK);
        uint16_t order[300 + NMARKS];
        size_t no = 0, nm = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (i % 3 == 0) {
                want[nm] = (ra_tick_mark){.ts_ns = s.r[i].ts_ns,
                                          .seq = s.r[i].seq,
                                          .stream = s.r[i].stream,
                                          .count = (uint32_t)(i % 6 ? 3 : 0),
                                          .flags = (uint16_t)(i % 6 ? 0 : RA_TICK_MARK_HEARTBEAT),
                                          .framing = (uint16_t)(1 + i % 2)};
                if (i == 9) want[nm].flags = 0xFFFF; /* unknown bits are kept */
                assert_int_equal(ra_tick_write_mark(w, &want[nm]), RA_OK);
                nm++;
                order[no++] = RA_TICK_KIND_MARK;
            }
            assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
            order[no++] = RA_TICK_KIND_DATA;
        }
        assert_int_equal(nm, NMARKS);
        ra_tick_writer_stats ws;
        ra_tick_writer_get_stats(w, &ws);
        assert_int_equal(ws.records, s.n);
        if (z) assert_true(ws.frames > 3);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);

        /* next(): the data records only, and a clean end (the end record's counts hold) */
        got g;
        decode(out.p, out.len, 0, &g);
        assert_int_equal(g.status, RA_OK);
        assert_records(&g, &s, s.n);
        got_free(&g);

        /* next_event(): everything in order, in any chunking */
        static const size_t chunks[] = {1, 7, 64, 1000, 1u << 20};
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            uint16_t kinds[300 + NMARKS];
            ra_tick_mark marks[NMARKS];
            size_t nk, nmk;
            assert_int_equal(decode_events(out.p, out.len, chunks[c], kinds, marks, &nk, &nmk, &s),
                             RA_OK);
            assert_int_equal(nk, no);
            assert_memory_equal(kinds, order, no * sizeof order[0]);
            assert_int_equal(nmk, NMARKS);
            for (size_t k = 0; k < NMARKS; k++) {
                assert_int_equal(marks[k].ts_ns, want[k].ts_ns);
                assert_int_equal(marks[k].seq, want[k].seq);
                assert_int_equal(marks[k].stream, want[k].stream);
                assert_int_equal(marks[k].count, want[k].count);
                assert_int_equal(marks[k].flags, want[k].flags);
                assert_int_equal(marks[k].framing, want[k].framing);
                if (k && marks[k].offset <= marks[k - 1].offset) fail_msg("mark %zu offset", k);
            }
        }

        /* the reader over a file */
        char path[] = "/tmp/test_tickfile_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, out.p, out.len), (ssize_t)out.len);
        close(fd);
        ra_tick_reader *r;
        ra_tick_error err;
        assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_OK);
        assert_int_equal(ra_tick_reader_info(r)->version_minor, RA_TICK_VERSION_MINOR);
        ra_tick_record rec;
        ra_tick_mark m;
        uint16_t kind;
        size_t nd = 0, nmk = 0;
        int rc;
        while ((rc = ra_tick_reader_next_event(r, &rec, &m, &kind)) == RA_OK) {
            if (kind == RA_TICK_KIND_MARK) {
                assert_int_equal(m.seq, want[nmk].seq);
                nmk++;
            } else {
                assert_true(same_record(&rec, &s.r[nd]));
                nd++;
            }
        }
        assert_int_equal(rc, RA_EMPTY);
        assert_int_equal(nd, s.n);
        assert_int_equal(nmk, NMARKS);
        assert_int_equal(ra_tick_reader_next_event(r, &rec, NULL, &kind), RA_EINVAL);
        ra_tick_reader_close(r);
        unlink(path);
        buf_free(&out);
    }

    /* the bytes of a mark, from the spec; a longer mark (a newer minor) is read, a short one is
     * corrupt; a 1.0 reader's view (next()) skips both */
    buf b = {0};
    hdr_opts o = default_hdr();
    enc_header(&b, &o);
    size_t first = b.len;
    uint8_t pl[12] = {3, 0, 0, 0, 0x01, 0x00, 0x02, 0x00, 0xAA, 0xBB, 0xCC, 0xDD};
    enc_record(&b, 32, 12, 0, RA_TICK_KIND_MARK, 5, 77, 1234, pl);
    enc_record(&b, 32, 1, 'A', 0, 5, 77, 1234, "x");
    enc_end(&b, 32, 1, 1);
    uint16_t kinds[4];
    ra_tick_mark marks[2];
    size_t nk, nmk;
    recset one = {&(ra_tick_record){
                      .ts_ns = 1234, .seq = 77, .data = "x", .len = 1, .stream = 5, .type = 'A'},
                  NULL, 1};
    assert_int_equal(decode_events(b.p, b.len, 5, kinds, marks, &nk, &nmk, &one), RA_OK);
    assert_int_equal(nk, 2);
    assert_int_equal(nmk, 1);
    assert_int_equal(marks[0].count, 3);
    assert_int_equal(marks[0].flags, RA_TICK_MARK_HEARTBEAT);
    assert_int_equal(marks[0].framing, RA_TICK_FRAMING_IEXTP);
    assert_int_equal(marks[0].stream, 5);
    assert_int_equal(marks[0].seq, 77);
    assert_int_equal(marks[0].ts_ns, 1234);
    assert_int_equal(marks[0].offset, first);
    got g;
    decode(b.p, b.len, 3, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 1);
    got_free(&g);
    buf_free(&b);

    enc_header(&b, &o);
    enc_record(&b, 32, 7, 0, RA_TICK_KIND_MARK, 5, 77, 1234, pl);
    enc_end(&b, 32, 0, 0);
    assert_int_equal(decode_events(b.p, b.len, 64, kinds, marks, &nk, &nmk, &one), RA_ECORRUPT);
    assert_int_equal(decode_status(&b, &g), RA_ECORRUPT);
    assert_int_equal(g.err.offset, first);
    assert_non_null(strstr(g.err.msg, "short mark"));
    got_free(&g);
    buf_free(&b);

    /* the writer's bytes equal the spec's */
    buf out = {0};
    ra_tick_writer_config cfg = cfg_for(false);
    cfg.creator = "test";
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &out, &cfg), RA_OK);
    ra_tick_mark mk = {.ts_ns = 1234, .seq = 77, .stream = 5, .count = 3, .flags = 1, .framing = 2};
    assert_int_equal(ra_tick_write_mark(w, &mk), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    enc_header(&b, &o);
    enc_record(&b, 32, 8, 0, RA_TICK_KIND_MARK, 5, 77, 1234, pl);
    enc_end(&b, 32, 0, 0);
    assert_int_equal(out.len, b.len);
    assert_memory_equal(out.p, b.p, b.len);
    assert_int_equal(ra_tick_write_mark(NULL, &mk), RA_EINVAL);
    buf_free(&out);
    buf_free(&b);
    free_records(&s);
}

/* ---- versions and forward compatibility ----------------------------------------------------- */

static void test_versions(void **state)
{
    (void)state;
    got g;
    /* newer major: refused before anything else of the header is trusted */
    for (unsigned major = 2; major < 70000; major = major * 7 + 1) {
        hdr_opts o = default_hdr();
        o.major = major & 0xFFFF;
        o.minor = 0;
        o.rhs = 999; /* a newer major may change anything after byte 16 */
        buf b = {0};
        enc_header(&b, &o);
        assert_int_equal(decode_status(&b, &g), RA_EVERSION);
        assert_int_equal(g.err.offset, 8);
        char want[32];
        snprintf(want, sizeof want, "version %u.0", major & 0xFFFF);
        assert_non_null(strstr(g.err.msg, want));
        assert_non_null(strstr(g.err.msg, "newer"));
        got_free(&g);
        buf_free(&b);
    }
    /* version 0.x does not exist */
    hdr_opts o = default_hdr();
    o.major = 0;
    buf b = {0};
    enc_header(&b, &o);
    assert_int_equal(decode_status(&b, &g), RA_EFORMAT);
    got_free(&g);
    buf_free(&b);
    /* newer minor: bigger record headers, header extension bytes, an unknown optional flag and
     * an unknown skippable record kind are all accepted */
    o = default_hdr();
    o.minor = 9;
    o.rhs = 48;
    o.extension = 21;
    o.flags = 0x00008001u;
    static const uint32_t ids[] = {3};
    static const char *const descs[] = {"s3"};
    o.nstreams = 1;
    o.ids = ids;
    o.descs = descs;
    enc_header(&b, &o);
    size_t first = b.len;
    enc_record(&b, 48, 4, 'A', 0, 3, 10, 100, "abcd");
    enc_record(&b, 48, 9, 0, 0x0123, 3, 0, 0, "an index?");
    enc_record(&b, 48, 2, 0, RA_TICK_KIND_STREAM, 4, 0, 0, "s4");
    enc_record(&b, 48, 0, 'B', 0, 4, 11, 101, "");
    enc_end(&b, 48, 2, 4);
    for (size_t chunk = 1; chunk < 100; chunk += 13) {
        decode(b.p, b.len, chunk, &g);
        assert_int_equal(g.status, RA_OK);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.r[0].len, 4);
        assert_memory_equal(g.r[0].data, "abcd", 4);
        assert_int_equal(g.r[0].seq, 10);
        assert_int_equal(g.r[0].ts_ns, 100);
        assert_int_equal(g.r[0].stream, 3);
        assert_int_equal(g.r[0].offset, first);
        assert_int_equal(g.r[1].offset, first + 56 + 64 + 56);
        assert_int_equal(g.r[1].type, 'B');
        assert_int_equal(g.r[1].stream, 4);
        assert_int_equal(g.nstreams, 2);
        got_free(&g);
    }
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    assert_int_equal(ra_tick_decoder_push(d, b.p, b.len), RA_OK);
    assert_int_equal(ra_tick_decoder_read_header(d), RA_OK);
    assert_int_equal(ra_tick_decoder_info(d)->version_minor, 9);
    assert_int_equal(ra_tick_decoder_info(d)->flags, 0x00008001u);
    assert_int_equal(ra_tick_decoder_info(d)->record_header_size, 48);
    ra_tick_decoder_destroy(d);
    buf_free(&b);
    /* a "must understand" flag this reader lacks */
    o = default_hdr();
    o.minor = 1;
    o.flags = 0x00010000u;
    enc_header(&b, &o);
    assert_int_equal(decode_status(&b, &g), RA_EVERSION);
    assert_int_equal(g.err.offset, 16);
    got_free(&g);
    buf_free(&b);
    /* a "must understand" record kind */
    o = default_hdr();
    enc_header(&b, &o);
    size_t at = b.len;
    enc_record(&b, 32, 0, 0, 0x8001, 0, 0, 0, "");
    enc_end(&b, 32, 0, 0);
    assert_int_equal(decode_status(&b, &g), RA_EVERSION);
    assert_int_equal(g.err.offset, at);
    got_free(&g);
    buf_free(&b);
}

/* ---- truncation ----------------------------------------------------------------------------- */

/* A small file; its item boundaries (header end, each record, the end record). */
static void small_file(buf *f, recset *s, bool z, size_t nrec)
{
    *s = make_records(nrec, 5, true);
    for (size_t i = 0; i < nrec; i++)
        if (s->r[i].len > 40) s->r[i].len = 40;
    ra_tick_writer_config cfg = cfg_for(z);
    cfg.level = 1;
    cfg.frame_bytes = 300;
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, f, &cfg), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 1, "a stream"), RA_OK);
    for (size_t i = 0; i < nrec; i++) assert_int_equal(ra_tick_write(w, &s->r[i]), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
}

static void test_truncated_plain(void **state)
{
    (void)state;
    buf f = {0};
    recset s;
    small_file(&f, &s, false, 12);
    got full;
    decode(f.p, f.len, 0, &full);
    assert_int_equal(full.status, RA_OK);
    size_t hs = (size_t)full.r[0].offset;
    size_t bounds[16], nb = 0;
    for (size_t i = 0; i < full.n; i++) bounds[nb++] = (size_t)full.r[i].offset;
    bounds[nb++] = f.len - 48; /* the end record */
    for (size_t cut = 0; cut < f.len; cut++) {
        for (int pass = 0; pass < 2; pass++) {
            got g;
            decode(f.p, cut, pass ? 1 : 0, &g);
            if (cut == 0) {
                assert_int_equal(g.status, RA_EFORMAT);
                got_free(&g);
                continue;
            }
            if (g.status != RA_ETRUNC) fail_msg("cut %zu: %s", cut, ra_strerror(g.status));
            size_t want = 0, whole = 0;
            if (cut >= hs) {
                for (size_t k = 0; k < nb && bounds[k] <= cut; k++) want = bounds[k];
                for (size_t k = 0; k < full.n; k++)
                    whole += full.r[k].offset + 32 + ((full.r[k].len + 7) & ~7u) <= cut;
            }
            if (g.err.offset != want)
                fail_msg("cut %zu: offset %llu, want %zu (%s)", cut,
                         (unsigned long long)g.err.offset, want, g.err.msg);
            assert_int_equal(g.n, whole);
            assert_records(&g, &s, g.n);
            assert_int_equal(g.err.comp_offset, RA_TICK_NO_OFFSET);
            got_free(&g);
        }
    }
    got_free(&full);
    buf_free(&f);
    free_records(&s);
}

static void test_truncated_zstd(void **state)
{
    (void)state;
    buf f = {0};
    recset s;
    small_file(&f, &s, true, 30);
    got full;
    decode(f.p, f.len, 0, &full);
    assert_int_equal(full.status, RA_OK);
    assert_true(full.st.frames >= 3);
    for (size_t cut = 0; cut < f.len; cut++) {
        got g;
        decode(f.p, cut, cut % 3 ? 0 : 1, &g);
        if (cut == 0) {
            assert_int_equal(g.status, RA_EFORMAT);
            got_free(&g);
            continue;
        }
        if (g.status != RA_ETRUNC) fail_msg("cut %zu: %s", cut, g.err.msg);
        assert_records(&g, &s, g.n);
        if (cut >= 4) assert_int_equal(g.err.comp_offset, cut);
        assert_true(g.err.offset <= full.st.bytes);
        got_free(&g);
    }
    /* the last byte missing: everything delivered, but the last checksum is not verified */
    got g;
    decode(f.p, f.len - 1, 0, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    assert_int_equal(g.n, s.n);
    assert_non_null(strstr(g.err.msg, "zstd frame"));
    got_free(&g);
    got_free(&full);
    buf_free(&f);
    free_records(&s);
}

/* ---- damage --------------------------------------------------------------------------------- */

static void test_bitflips_plain(void **state)
{
    (void)state;
    buf f = {0};
    recset s;
    small_file(&f, &s, false, 10);
    got full;
    decode(f.p, f.len, 0, &full);
    size_t hs = (size_t)full.r[0].offset; /* the stream is in the header */
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    size_t detected = 0;
    for (size_t bit = 0; bit < f.len * 8; bit++) {
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ra_tick_decoder_reset(d);
        got g;
        decode_with(d, f.p, f.len, bit % 2 ? 0 : 64, &g);
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t at = bit / 8;
        /* where did the flip land? */
        int where = 0; /* 0 header/stream/end record, 1 record header, 2 payload, 3 padding */
        size_t rec = 0;
        for (size_t k = 0; k < full.n; k++) {
            size_t o = (size_t)full.r[k].offset, l = full.r[k].len;
            if (at >= o && at < o + 32 + ((l + 7) & ~(size_t)7)) {
                where = at < o + 32 ? 1 : at < o + 32 + l ? 2 : 3;
                rec = k;
            }
        }
        if (at < hs) where = 0;
        if (where == 0) {
            if (g.status >= 0) fail_msg("bit %zu in header/special record undetected", bit);
        } else if (where == 1) {
            assert_int_equal(g.status, RA_ECORRUPT);
            assert_int_equal(g.err.offset, full.r[rec].offset);
            assert_non_null(strstr(g.err.msg, "check"));
        } else {
            /* plain files do not protect payload bytes: a payload flip shows in that record
             * only; padding is ignored */
            assert_int_equal(g.status, RA_OK);
            assert_int_equal(g.n, s.n);
            for (size_t k = 0; k < s.n; k++)
                if (!(where == 2 && k == rec)) assert_true(same_record(&g.r[k], &s.r[k]));
        }
        detected += g.status < 0;
        got_free(&g);
    }
    assert_true(detected > f.len * 4);
    ra_tick_decoder_destroy(d);
    got_free(&full);
    buf_free(&f);
    free_records(&s);
}

static void test_bitflips_zstd(void **state)
{
    (void)state;
    buf f = {0};
    recset s;
    small_file(&f, &s, true, 10); /* random payloads: stored as raw literals, no entropy guard */
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    size_t checksum_errors = 0;
    for (size_t bit = 0; bit < f.len * 8; bit++) {
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ra_tick_decoder_reset(d);
        got g;
        decode_with(d, f.p, f.len, bit % 3 ? 0 : 7, &g);
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (g.status == RA_OK) {
            /* accepted only when the content is intact */
            assert_records(&g, &s, s.n);
        } else {
            assert_true(g.status < 0);
            if (strstr(g.err.msg, "checksum")) {
                checksum_errors++;
                assert_int_equal(g.status, RA_ECORRUPT);
                assert_true(g.err.comp_offset != RA_TICK_NO_OFFSET);
                assert_true(g.err.frame_offset <= g.err.comp_offset);
            }
        }
        got_free(&g);
    }
    assert_true(checksum_errors > 100);
    /* and explicitly: the last 4 bytes are the last frame's checksum */
    f.p[f.len - 2] ^= 0x10;
    got g;
    decode(f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_non_null(strstr(g.err.msg, "checksum"));
    assert_int_equal(g.err.comp_offset, f.len); /* the problem lies before comp_offset */
    got_free(&g);
    ra_tick_decoder_destroy(d);
    buf_free(&f);
    free_records(&s);
}

/* The spec's check functions: CRC-32C's check value; every single-bit flip of a record header
 * changes the record check. */
static void test_record_check(void **state)
{
    (void)state;
    assert_int_equal(t_crc32c((const uint8_t *)"123456789", 9), 0xE3069283u); /* the spec's */
    rng_state = 12345;
    for (int n = 0; n < 20000; n++) {
        uint8_t h[32];
        for (int i = 0; i < 32; i++) h[i] = (uint8_t)rnd();
        if (n % 2) memset(h, 0, 32);
        if (n % 4 == 1) h[0] = (uint8_t)n;
        set32(h + 12, t_check(h));
        uint32_t c = t_check(h);
        for (int bit = 0; bit < 256; bit++) {
            if (bit / 8 >= 12 && bit / 8 < 16) continue; /* the check itself */
            h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_true(t_check(h) != c);
            h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void test_empty_and_short(void **state)
{
    (void)state;
    got g;
    decode((const uint8_t *)"", 0, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    assert_non_null(strstr(g.err.msg, "empty"));
    got_free(&g);
    decode((const uint8_t *)"\x89RT", 3, 1, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    got_free(&g);
    decode((const uint8_t *)"\x28\xb5", 2, 1, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    got_free(&g);
    decode((const uint8_t *)"XYZ", 3, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    decode((const uint8_t *)"\x89RTK\r\n\x1a", 7, 0, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    assert_int_equal(g.err.offset, 0);
    got_free(&g);
    decode((const uint8_t *)"\x89RTX\r\n\x1a\n", 8, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    decode((const uint8_t *)"\x89RTX\r", 5, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    /* zstd with empty content, and zstd holding something else */
    uint8_t z[64];
    size_t zn = ZSTD_compress(z, sizeof z, "", 0, 1);
    decode(z, zn, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    zn = ZSTD_compress(z, sizeof z, "\xd4\xc3\xb2\xa1 a pcap file", 17, 1);
    decode(z, zn, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    assert_non_null(strstr(g.err.msg, "zstd"));
    assert_int_equal(ra_tick_probe(z, zn), RA_TICK_PROBE_NO);
    got_free(&g);
    /* zstd garbage after the magic */
    uint8_t junk[32];
    memset(junk, 0xff, sizeof junk);
    memcpy(junk, "\x28\xb5\x2f\xfd", 4);
    decode(junk, sizeof junk, 0, &g);
    assert_true(g.status == RA_ECORRUPT || g.status == RA_EFORMAT);
    got_free(&g);
    /* probe */
    assert_int_equal(ra_tick_probe("", 0), RA_TICK_PROBE_MORE);
    assert_int_equal(ra_tick_probe("\x89R", 2), RA_TICK_PROBE_MORE);
    assert_int_equal(ra_tick_probe("\x89RTK\r\n\x1a\n", 8), RA_TICK_PROBE_PLAIN);
    assert_int_equal(ra_tick_probe("GET / HTTP", 10), RA_TICK_PROBE_NO);
    assert_int_equal(ra_tick_probe("\x28\xb5\x2f", 3), RA_TICK_PROBE_MORE);
}

/* Header with one field patched (CRC recomputed unless told otherwise). */
static void header_case(void (*patch)(buf *), int want, uint64_t want_off)
{
    hdr_opts o = default_hdr();
    buf b = {0};
    enc_header(&b, &o);
    enc_end(&b, 32, 0, 0);
    patch(&b);
    got g;
    decode(b.p, b.len, 0, &g);
    if (g.status != want) fail_msg("%s, want %s", g.err.msg, ra_strerror(want));
    assert_int_equal(g.err.offset, want_off);
    got_free(&g);
    buf_free(&b);
}

static void fix_crc(buf *b)
{
    uint32_t hs = get32(b->p + 12);
    if (hs <= b->len) set32(b->p + hs - 4, t_crc32c(b->p, hs - 4));
}

static void p_hs_huge(buf *b)
{
    set32(b->p + 12, 0xFFFFFFF8u);
}
static void p_hs_small(buf *b)
{
    set32(b->p + 12, 64);
}
static void p_hs_odd(buf *b)
{
    set32(b->p + 12, get32(b->p + 12) + 4);
}
static void p_crc(buf *b)
{
    b->p[70] ^= 1;
}
static void p_rhs(buf *b)
{
    set32(b->p + 20, 24);
    fix_crc(b);
}
static void p_maxp(buf *b)
{
    set32(b->p + 32, RA_TICK_MAX_PAYLOAD + 1);
    fix_crc(b);
}
static void p_nstreams(buf *b)
{
    set32(b->p + 36, 3);
    fix_crc(b);
}
static void p_names(buf *b)
{
    b->p[41] = 0xFF;
    fix_crc(b);
}
static void p_nul(buf *b)
{
    b->p[65] = 0;
    fix_crc(b);
}
static void p_streams_huge(buf *b)
{
    set32(b->p + 36, 0xFFFFFFFFu);
    fix_crc(b);
}

static void test_bad_headers(void **state)
{
    (void)state;
    header_case(p_hs_huge, RA_ECORRUPT, 12);
    header_case(p_hs_small, RA_ECORRUPT, 12);
    header_case(p_hs_odd, RA_ECORRUPT, 12);
    header_case(p_crc, RA_ECORRUPT, 92);
    header_case(p_rhs, RA_ECORRUPT, 20);
    header_case(p_maxp, RA_ECORRUPT, 32);
    header_case(p_nstreams, RA_ECORRUPT, 88);
    header_case(p_names, RA_ECORRUPT, 40);
    header_case(p_nul, RA_ECORRUPT, 64);
    header_case(p_streams_huge, RA_ECORRUPT, 36);
}

static void test_huge_lengths(void **state)
{
    (void)state;
    hdr_opts o = default_hdr();
    o.max_payload = RA_TICK_MAX_PAYLOAD;
    uint32_t lens[] = {0xFFFFFFFFu, RA_TICK_MAX_PAYLOAD + 1, 0x80000000u};
    for (size_t k = 0; k < 3; k++) {
        buf b = {0};
        enc_header(&b, &o);
        enc_record(&b, 32, 3, 'A', 0, 0, 0, 0, "abc");
        size_t at = b.len;
        enc_record(&b, 32, 0, 'A', 0, 0, 0, 0, "");
        set32(b.p + at, lens[k]);
        set32(b.p + at + 12, t_check(b.p + at)); /* a well-formed header with a huge length */
        got g;
        decode(b.p, b.len, 5, &g);
        assert_int_equal(g.status, RA_ECORRUPT);
        assert_int_equal(g.err.offset, at);
        assert_non_null(strstr(g.err.msg, "impossible record length"));
        assert_int_equal(g.n, 1);
        got_free(&g);
        buf_free(&b);
    }
    /* the largest legal record, cut short: a truncation, and memory follows the bytes seen */
    buf b = {0};
    enc_header(&b, &o);
    size_t at = b.len;
    enc_record(&b, 32, 0, 'A', 0, 0, 0, 0, "");
    set32(b.p + at, RA_TICK_MAX_PAYLOAD);
    set32(b.p + at + 12, t_check(b.p + at));
    buf_put(&b, "some bytes", 10);
    got g;
    decode(b.p, b.len, 3, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    assert_int_equal(g.err.offset, at);
    assert_non_null(strstr(g.err.msg, "16777248"));
    got_free(&g);
    /* a file with a smaller max_payload refuses a record within the hard limit */
    buf_free(&b);
    o.max_payload = 100;
    enc_header(&b, &o);
    at = b.len;
    char big[101] = {0};
    enc_record(&b, 32, 101, 'A', 0, 0, 0, 0, big);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.err.offset, at);
    got_free(&g);
    buf_free(&b);
}

static void test_end_record(void **state)
{
    (void)state;
    hdr_opts o = default_hdr();
    got g;
    /* counts that do not match the file */
    buf b = {0};
    enc_header(&b, &o);
    enc_record(&b, 32, 3, 'A', 0, 0, 0, 0, "abc");
    size_t at = b.len;
    enc_end(&b, 32, 2, 3);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.err.offset, at);
    got_free(&g);
    buf_free(&b);
    /* data after the end record: plain, and two zstd files concatenated */
    enc_header(&b, &o);
    enc_end(&b, 32, 0, 0);
    size_t end = b.len;
    enc_record(&b, 32, 3, 'A', 0, 0, 0, 0, "abc");
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.err.offset, end);
    assert_non_null(strstr(g.err.msg, "after the end"));
    got_free(&g);
    buf_free(&b);
    recset s = make_records(5, 1, false);
    ra_tick_writer_config cfg = cfg_for(true);
    write_file(&b, &s, &cfg);
    size_t one = b.len;
    write_file(&b, &s, &cfg);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.n, 5);
    assert_true(g.err.comp_offset > one);
    got_free(&g);
    /* a zstd skippable frame after the end is fine */
    b.len = one;
    uint8_t skip[12] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
    buf_put(&b, skip, sizeof skip);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 5);
    got_free(&g);
    buf_free(&b);
    free_records(&s);
}

/* ---- API contracts -------------------------------------------------------------------------- */

static void test_decoder_contract(void **state)
{
    (void)state;
    recset s = make_records(50, 2, false);
    ra_tick_writer_config cfg = cfg_for(false);
    buf f = {0};
    write_file(&f, &s, &cfg);
    ra_tick_decoder *d;
    ra_tick_record rec;
    assert_int_equal(ra_tick_decoder_create(NULL), RA_EINVAL);
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EMPTY);
    assert_int_equal(ra_tick_decoder_read_header(d), RA_EMPTY);
    assert_int_equal(ra_tick_decoder_push(d, NULL, 5), RA_EINVAL);
    assert_int_equal(ra_tick_decoder_push(d, f.p, 100), RA_OK);
    assert_int_equal(ra_tick_decoder_push(d, f.p + 100, 10), RA_EINVAL); /* not drained */
    assert_int_equal(ra_tick_decoder_finish(d), RA_EINVAL);              /* not drained */
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EMPTY);
    assert_int_equal(ra_tick_decoder_push(d, f.p + 100, f.len - 100), RA_OK);
    size_t n = 0;
    while (ra_tick_decoder_next(d, &rec) == RA_OK) n++;
    assert_int_equal(n, s.n);
    assert_int_equal(ra_tick_decoder_finish(d), RA_OK);
    assert_int_equal(ra_tick_decoder_finish(d), RA_OK);
    assert_int_equal(ra_tick_decoder_push(d, f.p, 1), RA_EINVAL); /* after finish */
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EMPTY);
    /* reset: the same decoder reads another stream; errors are sticky until then */
    ra_tick_decoder_reset(d);
    assert_int_equal(ra_tick_decoder_push(d, "junkjunk", 8), RA_OK);
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EFORMAT);
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EFORMAT);
    assert_int_equal(ra_tick_decoder_push(d, f.p, 1), RA_EFORMAT);
    assert_int_equal(ra_tick_decoder_finish(d), RA_EFORMAT);
    ra_tick_decoder_reset(d);
    assert_int_equal(ra_tick_decoder_error(d)->status, RA_OK);
    got g;
    decode_with(d, f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_records(&g, &s, s.n);
    got_free(&g);
    ra_tick_decoder_destroy(d);
    ra_tick_decoder_destroy(NULL);
    buf_free(&f);
    free_records(&s);
}

static void test_writer_errors(void **state)
{
    (void)state;
    ra_tick_writer *w = NULL;
    ra_tick_writer_config cfg = cfg_for(true);
    buf f = {0};
    cfg.level = 99;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_EINVAL);
    assert_null(w);
    cfg = cfg_for(false);
    cfg.max_payload = RA_TICK_MAX_PAYLOAD + 1;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_EINVAL);
    assert_int_equal(ra_tick_writer_open_sink(&w, NULL, &f, NULL), RA_EINVAL);
    assert_int_equal(ra_tick_writer_open_fp(&w, NULL, NULL), RA_EINVAL);
    assert_int_equal(ra_tick_writer_open(&w, "/nonexistent/dir/x.rtk", NULL), RA_EIO);
    assert_null(w);
    /* too big: refused, the file stays valid */
    cfg.max_payload = 16;
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
    char p[17] = "0123456789abcdef";
    ra_tick_record r = {.data = p, .len = 17};
    assert_int_equal(ra_tick_write(w, &r), RA_ETOOBIG);
    r.len = 16;
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    r.data = NULL;
    assert_int_equal(ra_tick_write(w, &r), RA_EINVAL);
    r.len = 0;
    assert_int_equal(ra_tick_write(w, &r), RA_OK); /* empty payload, no data pointer */
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    got g;
    decode(f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 2);
    got_free(&g);
    buf_free(&f);
    /* a failing sink: RA_EIO, sticky, and from close */
    for (int z = 0; z < 2; z++) {
        recset s = make_records(3000, 4, true);
        cfg = cfg_for(z);
        f.fail_after = 100000;
        assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, &f, &cfg), RA_OK);
        int rc = RA_OK;
        size_t i = 0;
        for (; i < s.n && rc == RA_OK; i++) rc = ra_tick_write(w, &s.r[i]);
        assert_int_equal(rc, RA_EIO);
        assert_int_equal(ra_tick_write(w, &s.r[0]), RA_EIO);
        assert_int_equal(ra_tick_writer_add_stream(w, 1, "x"), RA_EIO);
        assert_int_equal(ra_tick_writer_flush(w), RA_EIO);
        assert_int_equal(ra_tick_writer_close(w), RA_EIO);
        buf_free(&f);
        free_records(&s);
    }
    /* a full disk */
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(ra_tick_writer_open(&w, "/dev/full", NULL), RA_OK);
        ra_tick_record one = {.data = "x", .len = 1};
        assert_int_equal(ra_tick_write(w, &one), RA_OK); /* staged */
        assert_int_equal(ra_tick_writer_close(w), RA_EIO);
    }
    assert_int_equal(ra_tick_writer_close(NULL), RA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_plain),
        cmocka_unit_test(test_roundtrip_zstd),
        cmocka_unit_test(test_spec_bytes),
        cmocka_unit_test(test_big_records),
        cmocka_unit_test(test_multiframe),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_many_streams),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_truncated_plain),
        cmocka_unit_test(test_truncated_zstd),
        cmocka_unit_test(test_bitflips_plain),
        cmocka_unit_test(test_bitflips_zstd),
        cmocka_unit_test(test_record_check),
        cmocka_unit_test(test_empty_and_short),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_huge_lengths),
        cmocka_unit_test(test_end_record),
        cmocka_unit_test(test_decoder_contract),
        cmocka_unit_test(test_writer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
