/* tickspec.h - tests: tick files built by hand from docs/tickfile.md, apart from the library */
#ifndef TESTS_SUPPORT_TICKSPEC_H
#define TESTS_SUPPORT_TICKSPEC_H

/*
 * The unit tests, the fuzz target and its corpus generator build tick files from a "spec" with
 * these helpers: what the writer never produces (newer versions, bigger record headers, unknown
 * kinds, forged lengths, damage) and, byte for byte, what it must produce. The checks (CRC-32C,
 * the record check) are written again from the document on purpose: tests compare the library
 * against them, so they must not be the library's own.
 *
 * Header-only (static inline): a test program is one tests/test_*.c, a fuzz target one
 * tests/fuzz/fuzz_*.c plus driver.c, and the corpus generator is built by hand, so there is
 * nothing to link. No cmocka here (fuzzers use it too): running out of memory aborts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"
#include "ringalloc/tickfile.h"

/* ---- a growable byte buffer, also a writer sink ------------------------------------------- */

typedef struct tspec_buf {
    uint8_t *p;
    size_t len, cap;
    size_t fail_after; /* as a sink: fail once len would pass this (0 = never) */
} tspec_buf;

static inline void tspec_put(tspec_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) abort();
        b->p = np;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

static inline void tspec_free(tspec_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A ra_tick_sink_fn appending to the tspec_buf at ctx. @return 0, or -1 past fail_after. */
static inline int tspec_sink(void *ctx, const void *p, size_t n)
{
    tspec_buf *b = ctx;
    if (b->fail_after && b->len + n > b->fail_after) return -1;
    tspec_put(b, p, n);
    return 0;
}

static inline void tspec_put16(tspec_buf *b, uint16_t v)
{
    uint8_t x[2];
    ra_store_le16(x, v);
    tspec_put(b, x, sizeof x);
}

static inline void tspec_put32(tspec_buf *b, uint32_t v)
{
    uint8_t x[4];
    ra_store_le32(x, v);
    tspec_put(b, x, sizeof x);
}

static inline void tspec_put64(tspec_buf *b, uint64_t v)
{
    uint8_t x[8];
    ra_store_le64(x, v);
    tspec_put(b, x, sizeof x);
}

/* Zero bytes up to the next multiple of 8 of the buffer's length. */
static inline void tspec_pad8(tspec_buf *b)
{
    static const uint8_t z[8];
    tspec_put(b, z, (8 - b->len % 8) % 8);
}

/* ---- the checks, as the spec gives them ------------------------------------------------------ */

/* CRC-32C (Castagnoli, reflected 0x82F63B78): the file header's checksum. */
static inline uint32_t tspec_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static inline uint64_t tspec_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* The record check of the 32-byte record header at h (its bytes 12..15 do not enter). */
static inline uint32_t tspec_check(const uint8_t *h)
{
    uint64_t a = (ra_load_le64(h) ^ 0x52544B3100000000ull) * 0x9E3779B97F4A7C15ull;
    uint64_t b = ((uint64_t)ra_load_le32(h + 8) ^ 0x73747265ull) * 0xC2B2AE3D27D4EB4Full;
    uint64_t c = ra_load_le64(h + 16) * 0x165667B19E3779F9ull;
    uint64_t d = ra_load_le64(h + 24) * 0xD6E8FEB86659FD93ull;
    uint64_t x = a ^ tspec_rotl(b, 17) ^ tspec_rotl(c, 31) ^ tspec_rotl(d, 47);
    x ^= x >> 32;
    x *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

/* ---- the file header ----------------------------------------------------------------------- */

typedef struct tspec_hdr {
    unsigned major, minor;
    uint32_t flags, rhs, max_payload, nstreams;
    uint64_t created;
    const char *names[3]; /* source format, framing, creator */
    const uint32_t *ids;  /* nstreams stream ids and descriptions */
    const char *const *descs;
    size_t extension; /* zero bytes a newer minor might add after the stream table */
} tspec_hdr;

/* A header as this library's writer would make it (no streams). */
static inline tspec_hdr tspec_hdr_default(void)
{
    return (tspec_hdr){.major = 1,
                       .minor = RA_TICK_VERSION_MINOR,
                       .rhs = 32,
                       .max_payload = 1u << 20,
                       .created = 1700000000123456789ull,
                       .names = {"pcap", "moldudp64", "test"}};
}

static inline void tspec_header(tspec_buf *b, const tspec_hdr *o)
{
    size_t start = b->len;
    tspec_put(b, RA_TICK_MAGIC, RA_TICK_MAGIC_LEN);
    tspec_put16(b, (uint16_t)o->major);
    tspec_put16(b, (uint16_t)o->minor);
    tspec_put32(b, 0); /* header size, patched below */
    tspec_put32(b, o->flags);
    tspec_put32(b, o->rhs);
    tspec_put64(b, o->created);
    tspec_put32(b, o->max_payload);
    tspec_put32(b, o->nstreams);
    for (int k = 0; k < 3; k++) tspec_put16(b, (uint16_t)strlen(o->names[k]));
    tspec_put16(b, 0);
    tspec_put64(b, 0); /* reserved */
    tspec_put64(b, 0);
    for (int k = 0; k < 3; k++) tspec_put(b, o->names[k], strlen(o->names[k]));
    tspec_pad8(b);
    for (uint32_t k = 0; k < o->nstreams; k++) {
        tspec_put32(b, o->ids[k]);
        tspec_put16(b, (uint16_t)strlen(o->descs[k]));
        tspec_put16(b, 0);
        tspec_put(b, o->descs[k], strlen(o->descs[k]));
        tspec_pad8(b);
    }
    for (size_t k = 0; k < o->extension; k++) tspec_put(b, "", 1);
    tspec_pad8(b);
    size_t hs = b->len - start + 8;
    ra_store_le32(b->p + start + 12, (uint32_t)hs);
    tspec_put32(b, 0); /* padding before the CRC */
    tspec_put32(b, tspec_crc32c(b->p + start, hs - 4));
}

/* ---- records ------------------------------------------------------------------------------- */

/* A record with a header of rhs bytes (above 32: a newer minor's fields, filled with 0x77). */
static inline void tspec_record(tspec_buf *b, uint32_t rhs, uint32_t len, uint16_t type,
                                uint16_t kind, uint32_t stream, uint64_t seq, uint64_t ts,
                                const void *payload)
{
    size_t at = b->len;
    tspec_put32(b, len);
    tspec_put16(b, type);
    tspec_put16(b, kind);
    tspec_put32(b, stream);
    tspec_put32(b, 0);
    tspec_put64(b, seq);
    tspec_put64(b, ts);
    for (uint32_t k = 32; k < rhs; k++) tspec_put(b, "\x77", 1);
    ra_store_le32(b->p + at + 12, tspec_check(b->p + at));
    tspec_put(b, payload, len);
    tspec_pad8(b);
}

/* The end record: data records and their payload bytes. */
static inline void tspec_end(tspec_buf *b, uint32_t rhs, uint64_t records, uint64_t bytes)
{
    uint8_t e[16];
    ra_store_le64(e, records);
    ra_store_le64(e + 8, bytes);
    tspec_record(b, rhs, sizeof e, 0, RA_TICK_KIND_END, 0, 0, 0, e);
}

/* Recomputes the header CRC of a plain .rtk in place (when the header size fits in n). */
static inline void tspec_fix_crc(uint8_t *p, size_t n)
{
    if (n < 16) return;
    uint32_t hs = ra_load_le32(p + 12);
    if (hs >= 8 && hs <= n) ra_store_le32(p + hs - 4, tspec_crc32c(p, hs - 4));
}

/* Recomputes the header CRC and every record check of a plain .rtk in place, as far as the
 * lengths allow, so that a mutation reaches the checks behind them. */
static inline void tspec_repair(uint8_t *p, size_t n)
{
    if (n < 24 || memcmp(p, RA_TICK_MAGIC, RA_TICK_MAGIC_LEN) != 0) return;
    uint64_t hs = ra_load_le32(p + 12), rhs = ra_load_le32(p + 20);
    if (hs < 8 || hs > n) return;
    tspec_fix_crc(p, n);
    if (rhs < 32 || rhs > 256) return;
    for (uint64_t at = hs; at + rhs <= n;) {
        ra_store_le32(p + at + 12, tspec_check(p + at));
        at += (rhs + ra_load_le32(p + at) + 7) & ~(uint64_t)7;
    }
}

#endif /* TESTS_SUPPORT_TICKSPEC_H */
