/* fuzz_alloc.h - shared helpers of the allocator fuzz targets (fuzz_pool, fuzz_slab, fuzz_arena):
 * a byte reader over the fuzz input, per-block patterns, a fatal check, ASan queries. */
#ifndef FUZZ_ALLOC_H
#define FUZZ_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
/* whether the first byte of p is poisoned (a free pool block, given-back arena space) */
#define FZ_POISONED(p) (__asan_address_is_poisoned(p) != 0)
#else
#define FZ_POISONED(p) true
#endif

/* A failed check names the target, line and condition, then aborts (libFuzzer saves the input). */
#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Build with -DFZ_TRACE to print each operation (to follow a crashing input). */
#ifdef FZ_TRACE
#define TRACE(...) fprintf(stderr, __VA_ARGS__)
#else
#define TRACE(...) ((void)0)
#endif

/* The fuzz input read front to back; reads past the end give zeros. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n, i;
} fz_in;

static inline bool fz_more(const fz_in *in)
{
    return in->i < in->n;
}

static inline uint8_t fz_u8(fz_in *in)
{
    return in->i < in->n ? in->p[in->i++] : 0;
}

static inline uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

/* The byte at offset i of the block with identity id: blocks never share a pattern start. */
static inline unsigned char fz_byte(uint64_t id, size_t i)
{
    return (unsigned char)(id * 151u + i * 13u + (i >> 8) + 5u);
}

/* Blocks up to 1 KiB get the whole pattern; larger ones their first and last 512 bytes and every
   61st byte between (big blocks would otherwise dominate the run time). */
#define FZ_EDGE 512u
static inline size_t fz_next(size_t i, size_t n)
{
    return n <= 2 * FZ_EDGE || i < FZ_EDGE || i >= n - FZ_EDGE - 1 ? i + 1
           : i + 61 < n - FZ_EDGE                                  ? i + 61
                                                                   : n - FZ_EDGE;
}

static inline void fz_fill(void *p, size_t n, uint64_t id)
{
    unsigned char *c = p;
    for (size_t i = 0; i < n; i = fz_next(i, n)) c[i] = fz_byte(id, i);
}

/* true when the block still holds its pattern */
static inline bool fz_intact(const void *p, size_t n, uint64_t id)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i = fz_next(i, n))
        if (c[i] != fz_byte(id, i)) return false;
    return true;
}

/* [a, a + an) and [b, b + bn) share no byte (empty ranges overlap nothing) */
static inline bool fz_disjoint(const void *a, size_t an, const void *b, size_t bn)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return an == 0 || bn == 0 || x + an <= y || y + bn <= x;
}

#endif /* FUZZ_ALLOC_H */
