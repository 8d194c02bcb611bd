/* test_arena.c - the arena's contract: bump, growth, limits, marks, reset, per-thread arenas */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifdef ASAN
#include <sanitizer/asan_interface.h>
#endif

static ra_arena *mk(size_t chunk, size_t max_chunk, size_t max_bytes, void *mem, size_t len)
{
    ra_arena_config c = {.chunk_size = chunk,
                         .max_chunk_size = max_chunk,
                         .max_bytes = max_bytes,
                         .mem = mem,
                         .mem_len = len,
                         .name = "session"};
    ra_arena *a = NULL;
    assert_int_equal(ra_arena_create(&a, &c), RA_OK);
    assert_non_null(a);
    return a;
}

static ra_arena_stats st(const ra_arena *a)
{
    ra_arena_stats s;
    ra_arena_get_stats(a, &s);
    return s;
}

static void test_create_invalid(void **state)
{
    (void)state;
    ra_arena *a = (ra_arena *)(uintptr_t)1;
    ra_arena_config c = {.flags = 1u << 9};
    assert_int_equal(ra_arena_create(NULL, NULL), RA_EINVAL);
    assert_int_equal(ra_arena_create(&a, &c), RA_EINVAL);
    assert_null(a);
    char buf[16];
    c = (ra_arena_config){.mem = buf};
    assert_int_equal(ra_arena_create(&a, &c), RA_EINVAL);
    c = (ra_arena_config){.max_bytes = 32}; /* not even a chunk header fits */
    assert_int_equal(ra_arena_create(&a, &c), RA_EINVAL);
    /* a caller buffer larger than max_bytes would hold more than the cap from the start
       (fuzz_arena: tests/fuzz/corpus/fuzz_arena/regress-caller-buffer-over-cap) */
    c = (ra_arena_config){.mem = buf, .mem_len = sizeof buf, .max_bytes = sizeof buf - 1};
    assert_int_equal(ra_arena_create(&a, &c), RA_EINVAL);
    assert_null(a);
    c.max_bytes = sizeof buf; /* exactly the cap: fine */
    assert_int_equal(ra_arena_create(&a, &c), RA_OK);
    assert_int_equal(st(a).bytes_reserved, sizeof buf);
    ra_arena_destroy(a);
    assert_int_equal(ra_arena_create(&a, NULL), RA_OK); /* defaults */
    assert_string_equal(ra_arena_name(a), "arena");
    assert_int_equal(st(a).bytes_reserved, RA_ARENA_DEFAULT_CHUNK);
    ra_arena_destroy(a);
    ra_arena_destroy(NULL);
}

static void test_bump_and_align(void **state)
{
    (void)state;
    ra_arena *a = mk(1 << 16, 0, 0, NULL, 0);
    unsigned char *p = ra_arena_alloc(a, 10, 1), *q = ra_arena_alloc(a, 10, 1);
    assert_ptr_equal(q, p + 10); /* bump: the next byte */
    uint64_t used = st(a).bytes_used;
    assert_int_equal(used, 20);
    unsigned char *r = ra_arena_alloc(a, 8, 0); /* 0 means 16 */
    assert_int_equal((uintptr_t)r % 16, 0);
    assert_int_equal(st(a).bytes_used, (uint64_t)(r + 8 - p)); /* padding counts */
    for (size_t al = 1; al <= 4096; al *= 2) {
        unsigned char *x = ra_arena_alloc(a, 3, al);
        assert_non_null(x);
        assert_int_equal((uintptr_t)x % al, 0);
        memset(x, 0x5a, 3);
    }
    void *z = ra_arena_alloc(a, 0, 8);
    assert_non_null(z);
    ra_arena_stats s = st(a);
    assert_int_equal(s.allocs, 3 + 13 + 1);
    assert_int_equal(s.failed, 0);
    assert_null(ra_arena_alloc(a, 8, 3));    /* not a power of two */
    assert_null(ra_arena_alloc(a, 8, 8192)); /* above 4096 */
    assert_int_equal(st(a).failed, 2);
    /* many allocations: distinct, none overwrites another */
    unsigned char *v[500];
    for (int i = 0; i < 500; i++) {
        v[i] = ra_arena_alloc(a, (size_t)(i % 50) + 1, 8);
        memset(v[i], i & 0xff, (size_t)(i % 50) + 1);
    }
    for (int i = 0; i < 500; i++)
        for (int k = 0; k <= i % 50; k++) assert_int_equal(v[i][k], (unsigned char)(i & 0xff));
    ra_arena_destroy(a);
}

static void test_growth_capped(void **state)
{
    (void)state;
    ra_arena *a = mk(4096, 16384, 0, NULL, 0);
    assert_int_equal(st(a).bytes_reserved, 4096);
    assert_int_equal(st(a).chunks, 1);
    /* fill chunk after chunk with 100-byte pieces and watch the sizes: 4K, 8K, 16K, 16K, 16K */
    const uint64_t totals[] = {4096, 4096 + 8192, 4096 + 8192 + 16384, 4096 + 8192 + 2 * 16384,
                               4096 + 8192 + 3 * 16384};
    uint64_t chunks = 1;
    while (chunks < 5) {
        assert_non_null(ra_arena_alloc(a, 100, 8));
        ra_arena_stats s = st(a);
        if (s.chunks != chunks) {
            assert_int_equal(s.chunks, chunks + 1);
            chunks = s.chunks;
        }
        assert_int_equal(s.bytes_reserved, totals[chunks - 1]);
    }
    ra_arena_destroy(a);
}

static void test_huge_allocation(void **state)
{
    (void)state;
    ra_arena *a = mk(65536, 0, 0, NULL, 0);
    unsigned char *p = ra_arena_alloc(a, 100, 8);
    unsigned char *big = ra_arena_alloc(a, 1 << 20, 4096); /* larger than any regular chunk */
    assert_non_null(big);
    assert_int_equal((uintptr_t)big % 4096, 0);
    memset(big, 7, 1 << 20);
    unsigned char *q = ra_arena_alloc(a, 100, 8);
    assert_ptr_equal(q, p + 104); /* the active chunk stayed active */
    ra_arena_stats s = st(a);
    assert_int_equal(s.chunks, 2);
    assert_true(s.bytes_reserved >= 65536 + (1 << 20));
    assert_true(s.bytes_used >= 204 + (1 << 20));
    assert_null(ra_arena_alloc(a, SIZE_MAX - 10, 8)); /* no overflow: refused */
    assert_int_equal(st(a).failed, 1);
    ra_arena_destroy(a);
}

static void test_caller_buffer(void **state)
{
    (void)state;
    static unsigned char buf[8192];
    ra_arena *a = mk(4096, 0, 0, buf, sizeof buf);
    ra_arena_stats s = st(a);
    assert_int_equal(s.bytes_reserved, sizeof buf);
    assert_int_equal(s.chunks, 1);
    unsigned char *p;
    int in_buf = 0;
    while ((p = ra_arena_alloc(a, 64, 64)) >= buf && p < buf + sizeof buf) in_buf++;
    assert_int_equal(in_buf, (int)(sizeof buf / 64) - ((uintptr_t)buf % 64 != 0));
    assert_non_null(p); /* then the heap */
    s = st(a);
    assert_int_equal(s.chunks, 2);
    assert_int_equal(s.bytes_reserved, sizeof buf + 4096);
    ra_arena_reset(a); /* the buffer is the first chunk again; the heap chunk is kept */
    p = ra_arena_alloc(a, 64, 64);
    assert_true(p >= buf && p < buf + sizeof buf);
    s = st(a);
    assert_int_equal(s.chunks, 2);
    ra_arena_destroy(a); /* must not free buf */
    memset(buf, 0, sizeof buf);
}

/* Every page of [p, p + len) is resident. */
static bool all_resident(const void *p, size_t len)
{
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p & ~(pg - 1), hi = ((uintptr_t)p + len + pg - 1) & ~(pg - 1);
    size_t n = (hi - lo) / pg;
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
    bool all = true;
    for (size_t i = 0; i < n; i++) all = all && (vec[i] & 1);
    free(vec);
    return all;
}

static void test_prefault(void **state)
{
    (void)state;
    /* the caller's buffer: backed at create, and still the caller's after destroy */
    const size_t len = 16 * 4096;
    unsigned char *buf =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(buf != MAP_FAILED);
    assert_false(all_resident(buf, len));
    ra_arena_config c = {.mem = buf, .mem_len = len, .flags = RA_ARENA_PREFAULT};
    ra_arena *a;
    assert_int_equal(ra_arena_create(&a, &c), RA_OK);
    assert_true(all_resident(buf, len));
    ra_arena_destroy(a);
    assert_int_equal(munmap(buf, len), 0);

    /* heap chunks, and huge-page chunks (or their fallback), each backed when obtained */
    const uint32_t flags[] = {RA_ARENA_PREFAULT, RA_ARENA_PREFAULT | RA_ARENA_HUGEPAGES};
    for (size_t k = 0; k < 2; k++) {
        const size_t chunk = 4u << 20;
        c = (ra_arena_config){.chunk_size = chunk, .max_chunk_size = chunk, .flags = flags[k]};
        assert_int_equal(ra_arena_create(&a, &c), RA_OK);
        for (int i = 0; i < 3; i++) { /* the first chunk, then two more */
            unsigned char *p = ra_arena_alloc(a, chunk - 4096, 64);
            assert_non_null(p);
            assert_true(all_resident(p, chunk - 4096));
        }
        assert_int_equal(st(a).chunks, 3);
        ra_arena_destroy(a);
    }
}

static void test_max_bytes(void **state)
{
    (void)state;
    ra_arena *a = mk(16384, 0, 65536, NULL, 0);
    uint64_t n = 0;
    while (ra_arena_alloc(a, 1000, 8) != NULL) n++;
    ra_arena_stats s = st(a);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.max_bytes, 65536);
    assert_true(s.bytes_reserved <= 65536);
    assert_true(s.bytes_reserved > 65536 - 1000 - 4096); /* the cap was used, not wasted */
    assert_true(n * 1000 <= 65536 && n * 1000 > 65536 - 4 * 1000 - 4096);
    assert_null(ra_arena_alloc(a, 1 << 20, 8)); /* huge: also refused */
    assert_int_equal(st(a).failed, 2);
    ra_arena_reset(a);
    assert_non_null(ra_arena_alloc(a, 1000, 8)); /* room again */
    ra_arena_destroy(a);

    /* huge pages, or their 4 KiB fallback, round a chunk up: under a cap only the bytes asked
       for count (fuzz_arena: tests/fuzz/corpus/fuzz_arena/regress-hugepage-rounding-over-cap) */
    ra_arena_config hc = {.chunk_size = 10000, .max_bytes = 6000, .flags = RA_ARENA_HUGEPAGES};
    assert_int_equal(ra_arena_create(&a, &hc), RA_OK);
    assert_true(st(a).bytes_reserved <= 6000);
    while (ra_arena_alloc(a, 700, 8) != NULL) assert_true(st(a).bytes_reserved <= 6000);
    s = st(a);
    assert_true(s.bytes_reserved <= 6000 && s.bytes_reserved > 6000 - 1000);
    ra_arena_destroy(a);

    static unsigned char buf[4096];
    a = mk(4096, 0, 4096, buf, sizeof buf); /* the buffer alone fills the cap */
    while (ra_arena_alloc(a, 100, 8) != NULL) {}
    s = st(a);
    assert_int_equal(s.chunks, 1);
    assert_int_equal(s.bytes_reserved, 4096);
    assert_int_equal(s.failed, 1);
    ra_arena_destroy(a);
}

static void test_marks(void **state)
{
    (void)state;
    ra_arena *a = mk(4096, 0, 0, NULL, 0);
    (void)ra_arena_alloc(a, 100, 8);
    ra_arena_mark m = ra_arena_save(a);
    uint64_t used = st(a).bytes_used;
    unsigned char *first = ra_arena_alloc(a, 64, 8);
    for (int i = 0; i < 400; i++) assert_non_null(ra_arena_alloc(a, 100, 8)); /* new chunks */
    ra_arena_stats s = st(a);
    assert_true(s.chunks >= 4);
    ra_arena_rewind(a, m);
    s = st(a);
    assert_int_equal(s.bytes_used, used);
    assert_int_equal(s.rewinds, 1);
    assert_int_equal(s.chunks, 2); /* the mark's chunk, plus the largest released one kept */
    assert_true(s.high_water >= used + 64 + 400 * 100);
    assert_ptr_equal(ra_arena_alloc(a, 64, 8), first); /* the same memory again */

    /* nested marks */
    ra_arena_mark m1 = ra_arena_save(a);
    unsigned char *x = ra_arena_alloc(a, 10, 1);
    ra_arena_mark m2 = ra_arena_save(a);
    (void)ra_arena_alloc(a, 5000, 8); /* a new chunk after m2 */
    ra_arena_rewind(a, m2);
    assert_ptr_equal(ra_arena_alloc(a, 1, 1), x + 10);
    ra_arena_rewind(a, m1);
    assert_ptr_equal(ra_arena_alloc(a, 10, 1), x);
    assert_int_equal(st(a).rewinds, 3);

    /* marks that no longer name a live position are ignored */
    ra_arena_mark ahead = ra_arena_save(a);
    ra_arena_rewind(a, m1); /* back before `ahead` */
    ra_arena_rewind(a, ahead);
    assert_int_equal(st(a).rewinds, 4);
    assert_ptr_equal(ra_arena_alloc(a, 10, 1), x);
    ra_arena_mark old = ra_arena_save(a);
    ra_arena_reset(a);
    ra_arena_rewind(a, old);
    assert_int_equal(st(a).rewinds, 4);
    ra_arena_mark none = {0};
    ra_arena_rewind(a, none);
    assert_int_equal(st(a).rewinds, 4);
    ra_arena_destroy(a);
}

static void test_reset_keeps_largest(void **state)
{
    (void)state;
    ra_arena *a = mk(4096, 65536, 0, NULL, 0);
    for (int i = 0; i < 1000; i++) assert_non_null(ra_arena_alloc(a, 100, 8)); /* 100 KB */
    ra_arena_stats s = st(a);
    uint64_t peak = s.bytes_used;
    assert_true(s.chunks >= 4);
    ra_arena_reset(a);
    s = st(a);
    assert_int_equal(s.bytes_used, 0);
    assert_int_equal(s.chunks, 1);
    assert_int_equal(s.bytes_reserved, 65536); /* the largest: capped growth */
    assert_int_equal(s.resets, 1);
    assert_int_equal(s.high_water, peak);
    /* a session that fits the kept chunk takes no new chunk */
    for (int i = 0; i < 600; i++) assert_non_null(ra_arena_alloc(a, 100, 4));
    s = st(a);
    assert_int_equal(s.chunks, 1);
    assert_int_equal(s.bytes_used, 60000);
    ra_arena_reset(a);
    ra_arena_reset(a);
    assert_int_equal(st(a).resets, 3);
    assert_int_equal(st(a).allocs, 1600);
    ra_arena_destroy(a);
}

static void test_poisoning(void **state)
{
    (void)state;
#ifdef ASAN
    ra_arena *a = mk(4096, 0, 0, NULL, 0);
    unsigned char *p = ra_arena_alloc(a, 24, 8);
    assert_false(__asan_address_is_poisoned(p));
    assert_false(__asan_address_is_poisoned(p + 23));
    assert_true(__asan_address_is_poisoned(p + 24)); /* the unused tail */
    assert_true(__asan_address_is_poisoned(p + 1000));
    ra_arena_mark m = ra_arena_save(a);
    unsigned char *q = ra_arena_alloc(a, 16, 8);
    assert_false(__asan_address_is_poisoned(q));
    ra_arena_rewind(a, m);
    assert_true(__asan_address_is_poisoned(q)); /* given back by the rewind */
    ra_arena_reset(a);
    assert_true(__asan_address_is_poisoned(p)); /* given back by the reset */
    ra_arena_destroy(a);
#else
    skip(); /* only meaningful under AddressSanitizer */
#endif
}

/* ---- one arena per trading thread ----------------------------------------------------------- */

static pthread_barrier_t bar;

static void *trader(void *arg)
{
    size_t k = (size_t)(uintptr_t)arg;
    ra_arena_config c = {.chunk_size = 8192, .name = "trader"};
    ra_arena *a = ra_arena_thread(&c);
    if (a == NULL || ra_arena_thread(NULL) != a) return (void *)1; /* one per thread */
    for (size_t i = 0; i < 100 * k; i++) (void)ra_arena_alloc(a, 64, 64);
    ra_arena_thread_reset(); /* the first session ends: published */
    for (size_t i = 0; i < 10; i++) (void)ra_arena_alloc(a, 64, 64);
    pthread_barrier_wait(&bar); /* main reads the metrics */
    pthread_barrier_wait(&bar);
    return NULL; /* exit: the arena is destroyed */
}

struct seen {
    int n;
    uint64_t used_sum, sessions;
    int named;
};

static void visit(const ra_arena_thread_info *ti, void *ctx)
{
    struct seen *s = ctx;
    s->n++;
    s->used_sum += ti->stats.bytes_used;
    s->sessions += ti->sessions;
    if (strncmp(ti->name, "trader-", 7) == 0 && ti->thread_id != 0 && ti->stats.resets == 1)
        s->named++;
}

static void test_thread_arenas(void **state)
{
    (void)state;
    pthread_t t[3];
    pthread_barrier_init(&bar, NULL, 4);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, trader, (void *)(uintptr_t)(i + 1)), 0);
    pthread_barrier_wait(&bar);
    struct seen s = {0};
    assert_int_equal(ra_arena_thread_foreach(visit, &s), 3);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.named, 3);
    assert_int_equal(s.sessions, 3);
    assert_int_equal(s.used_sum, (100 + 200 + 300) * 64); /* session peaks, published at reset */
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 3; i++) {
        void *rc = NULL;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    assert_int_equal(ra_arena_thread_foreach(NULL, NULL), 0); /* gone with their threads */
    pthread_barrier_destroy(&bar);

    /* this thread: create, publish, destroy explicitly */
    ra_arena *a = ra_arena_thread(NULL);
    assert_non_null(a);
    (void)ra_arena_alloc(a, 100, 4);
    ra_arena_thread_publish();
    s = (struct seen){0};
    assert_int_equal(ra_arena_thread_foreach(visit, &s), 1);
    assert_int_equal(s.used_sum, 100);
    ra_arena_thread_destroy();
    assert_int_equal(ra_arena_thread_foreach(NULL, NULL), 0);
    ra_arena_thread_reset(); /* no arena: no effect */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_invalid), cmocka_unit_test(test_bump_and_align),
        cmocka_unit_test(test_growth_capped),  cmocka_unit_test(test_huge_allocation),
        cmocka_unit_test(test_caller_buffer),  cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_marks),          cmocka_unit_test(test_reset_keeps_largest),
        cmocka_unit_test(test_poisoning),      cmocka_unit_test(test_thread_arenas),
        cmocka_unit_test(test_prefault),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
