/* test_slab.c - the slab's contract: size classes, free without size, large blocks, policies */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"

#define TEST_SCALE_SANITIZED 10u /* scale(): 10 under sanitizers, 100 under Valgrind */
#include "support/testutil.h"

/* Runs fn(arg) in a child; passes when the child dies of SIGABRT and its stderr holds needle. */
static void expect_death(void (*fn)(void *), void *arg, const char *needle)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &no_core);
        close(fd[0]);
        dup2(fd[1], 2);
        fn(arg);
        _exit(0);
    }
    close(fd[1]);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT || strstr(out, needle) == NULL)
        fail_msg("expected abort with \"%s\"; status 0x%x, stderr: %s", needle, st, out);
}

static ra_slab *mk(size_t min, size_t max, size_t bpc, uint32_t flags, int on_empty, unsigned cpd)
{
    ra_slab_config c = {.min_size = min,
                        .max_size = max,
                        .blocks_per_class = bpc,
                        .flags = flags,
                        .on_empty = on_empty,
                        .classes_per_doubling = cpd,
                        .name = "md"};
    ra_slab *s = NULL;
    assert_int_equal(ra_slab_create(&s, &c), RA_OK);
    assert_non_null(s);
    return s;
}

static void test_create_invalid(void **state)
{
    (void)state;
    ra_slab *s = (ra_slab *)(uintptr_t)1;
    ra_slab_config ok = {.min_size = 16, .max_size = 1024, .blocks_per_class = 4};
    ra_slab_config c;
    assert_int_equal(ra_slab_create(NULL, &ok), RA_EINVAL);
    assert_int_equal(ra_slab_create(&s, NULL), RA_EINVAL);
    assert_null(s);
    c = ok, c.min_size = 0;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.max_size = 8;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.max_size = RA_SLAB_MAX_SIZE + 1;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.blocks_per_class = 0;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.classes_per_doubling = 17;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.flags = 1u << 30;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.on_empty = 9;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL);
    c = ok, c.min_size = 16, c.max_size = RA_SLAB_MAX_SIZE, c.classes_per_doubling = 16;
    assert_int_equal(ra_slab_create(&s, &c), RA_EINVAL); /* too many classes */
    assert_null(s);
    ra_slab_destroy(NULL);
}

static void test_classes(void **state)
{
    (void)state;
    ra_slab *s = mk(1, 256, 2, 0, RA_ON_EMPTY_NULL, 4);
    const size_t want[] = {16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256};
    assert_int_equal(ra_slab_class_count(s), 12);
    for (unsigned i = 0; i < 12; i++) assert_int_equal(ra_slab_class_size(s, i), want[i]);
    assert_int_equal(ra_slab_class_size(s, 12), 0);
    assert_null(ra_slab_class_pool(s, 12));
    assert_non_null(ra_slab_class_pool(s, 0));
    assert_string_equal(ra_slab_name(s), "md");
    ra_slab_destroy(s);

    s = mk(20, 1000, 2, 0, RA_ON_EMPTY_NULL, 1); /* powers of two, last one is max */
    const size_t pow2[] = {32, 64, 128, 256, 512, 1008};
    assert_int_equal(ra_slab_class_count(s), 6);
    for (unsigned i = 0; i < 6; i++) assert_int_equal(ra_slab_class_size(s, i), pow2[i]);
    ra_slab_destroy(s);

    /* classes per doubling that is not a power of two: the step rounds up to 16 (fuzz_slab
       found classes 65, 66, 67... and RA_EINVAL for wider ranges, from a mask meant for powers
       of two); at most cpd classes in each doubling, all multiples of 16 */
    s = mk(16, 1024, 1, 0, RA_ON_EMPTY_NULL, 3);
    const size_t cpd3[] = {16, 32, 48, 64, 96, 128, 176, 224, 256, 352, 448, 512, 688, 864, 1024};
    assert_int_equal(ra_slab_class_count(s), 15);
    for (unsigned i = 0; i < 15; i++) assert_int_equal(ra_slab_class_size(s, i), cpd3[i]);
    ra_slab_destroy(s);
    for (unsigned cpd = 1; cpd <= 16; cpd++) {
        s = mk(16, 8192, 2, 0, RA_ON_EMPTY_NULL, cpd);
        unsigned n = ra_slab_class_count(s), per[16] = {0};
        for (unsigned i = 0; i < n; i++) {
            size_t z = ra_slab_class_size(s, i);
            assert_true(z % 16 == 0 && (i == 0 || z > ra_slab_class_size(s, i - 1)));
            unsigned k = 0;
            while ((size_t)32 << k <= z) k++;
            if (z < 8192) per[k]++;
            void *p = ra_slab_alloc(s, z);
            assert_non_null(p);
            assert_int_equal(ra_slab_usable_size(s, p), z);
            ra_slab_free(s, p);
        }
        for (unsigned k = 0; k < 16; k++) assert_true(per[k] <= cpd);
        ra_slab_destroy(s);
    }

    s = mk(16, 4096, 1, 0, RA_ON_EMPTY_NULL, 0); /* default: 4 per doubling, geometric */
    unsigned n = ra_slab_class_count(s);
    for (unsigned i = 1; i < n; i++) {
        size_t a = ra_slab_class_size(s, i - 1), b = ra_slab_class_size(s, i);
        assert_true(b > a && b % 16 == 0);
        assert_true(b - a <= (a < 64 ? 16 : a / 2)); /* never coarser than powers of two */
    }
    ra_slab_destroy(s);
}

static void test_alloc_sizes(void **state)
{
    (void)state;
    ra_slab *s = mk(16, 2048, 16, 0, RA_ON_EMPTY_NULL, 4);
    unsigned n = ra_slab_class_count(s);
    void *v[2049];
    for (size_t size = 0; size <= 2048; size++) {
        v[size] = NULL;
        void *b = ra_slab_alloc(s, size);
        assert_non_null(b);
        assert_int_equal((uintptr_t)b % 16, 0);
        size_t u = ra_slab_usable_size(s, b);
        assert_true(u >= size);
        /* the smallest class that fits */
        for (unsigned i = 0; i < n; i++)
            if (ra_slab_class_size(s, i) >= size) {
                assert_int_equal(u, ra_slab_class_size(s, i));
                break;
            }
        memset(b, (int)(size & 0xff), size);
        ra_slab_free(s, b); /* no size */
    }
    /* many at once: distinct, and none overwrites another */
    for (size_t size = 1; size <= 64; size++) {
        v[size] = ra_slab_alloc(s, size * 30);
        assert_non_null(v[size]);
        memset(v[size], (int)size, size * 30);
    }
    for (size_t size = 1; size <= 64; size++) {
        const unsigned char *b = v[size];
        for (size_t k = 0; k < size * 30; k++) assert_int_equal(b[k], (unsigned char)size);
        ra_slab_free(s, v[size]);
    }
    ra_slab_stats st;
    ra_slab_get_stats(s, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.allocs, 2049 + 64);
    assert_int_equal(st.frees, 2049 + 64);
    assert_int_equal(st.large_allocs, 0);
    ra_slab_free(s, NULL);
    assert_int_equal(ra_slab_usable_size(s, NULL), 0);
    ra_slab_destroy(s);
}

static void test_large(void **state)
{
    (void)state;
    ra_slab *s = mk(16, 512, 4, 0, RA_ON_EMPTY_NULL, 2);
    void *a = ra_slab_alloc(s, 513), *b = ra_slab_alloc(s, 100000);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal((uintptr_t)a % 16, 0);
    assert_int_equal((uintptr_t)b % 16, 0);
    memset(a, 1, 513);
    memset(b, 2, 100000);
    assert_int_equal(ra_slab_usable_size(s, a), 513);
    assert_int_equal(ra_slab_usable_size(s, b), 100000);
    ra_slab_stats st;
    ra_slab_get_stats(s, &st);
    assert_int_equal(st.large_allocs, 2);
    assert_int_equal(st.large_in_use, 2);
    assert_int_equal(st.large_bytes, 100513);
    assert_int_equal(st.allocs, 2);
    ra_slab_free(s, a);
    ra_slab_get_stats(s, &st);
    assert_int_equal(st.large_frees, 1);
    assert_int_equal(st.large_in_use, 1);
    assert_int_equal(st.large_bytes, 100000);
    ra_slab_free(s, b);
    ra_slab_get_stats(s, &st);
    assert_int_equal(st.large_bytes, 0);
    assert_int_equal(st.in_use, 0);
    ra_slab_destroy(s);
}

static void test_class_stats(void **state)
{
    (void)state;
    ra_slab *s = mk(16, 128, 3, 0, RA_ON_EMPTY_NULL, 1); /* 16 32 64 128 */
    void *a = ra_slab_alloc(s, 10), *b = ra_slab_alloc(s, 16), *c = ra_slab_alloc(s, 100);
    for (int i = 0; i < 3; i++) (void)ra_slab_alloc(s, 60);
    assert_null(ra_slab_alloc(s, 33)); /* the 64 class is empty */
    ra_slab_free(s, a);
    ra_slab_stats st;
    ra_slab_get_stats(s, &st);
    assert_int_equal(st.nclasses, 4);
    assert_int_equal(st.classes[0].size, 16);
    assert_int_equal(st.classes[0].allocs, 2);
    assert_int_equal(st.classes[0].frees, 1);
    assert_int_equal(st.classes[0].in_use, 1);
    assert_int_equal(st.classes[0].high_water, 2);
    assert_int_equal(st.classes[0].capacity, 3);
    assert_int_equal(st.classes[1].allocs, 0);
    assert_int_equal(st.classes[2].allocs, 3);
    assert_int_equal(st.classes[2].failed, 1);
    assert_int_equal(st.classes[3].in_use, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.allocs, 6);
    assert_int_equal(st.in_use, 5);
    assert_true(st.bytes_reserved >= 3 * (16 + 32 + 64 + 128));
    ra_slab_free(s, b);
    ra_slab_free(s, c);
    ra_slab_destroy(s);
}

static void test_on_empty_system(void **state)
{
    (void)state;
    uint32_t modes[] = {0, RA_POOL_THREADSAFE, RA_POOL_DEBUG};
    for (int m = 0; m < 3; m++) {
        ra_slab *s = mk(16, 64, 2, modes[m], RA_ON_EMPTY_SYSTEM, 1);
        void *v[5];
        for (int i = 0; i < 5; i++) {
            v[i] = ra_slab_alloc(s, 40);
            assert_non_null(v[i]);
            assert_int_equal((uintptr_t)v[i] % 16, 0);
            memset(v[i], i, 40);
            assert_int_equal(ra_slab_usable_size(s, v[i]), 64);
        }
        ra_slab_stats st;
        ra_slab_get_stats(s, &st);
        assert_int_equal(st.classes[2].fallbacks, 3);
        assert_int_equal(st.fallbacks, 3);
        assert_int_equal(st.allocs, 5);
        assert_int_equal(st.large_allocs, 0);
        for (int i = 4; i >= 0; i--) ra_slab_free(s, v[i]);
        ra_slab_get_stats(s, &st);
        assert_int_equal(st.classes[2].fallback_frees, 3);
        assert_int_equal(st.in_use, 0);
        assert_int_equal(st.failed, 0);
        ra_slab_destroy(s);
    }
}

static void exhaust_abort(void *arg)
{
    (void)arg;
    ra_slab *s = mk(16, 64, 2, 0, RA_ON_EMPTY_ABORT, 1);
    for (int i = 0; i < 3; i++) (void)ra_slab_alloc(s, 30);
}

static void foreign_free(void *arg)
{
    (void)arg;
    ra_slab *s = mk(16, 64, 2, 0, RA_ON_EMPTY_NULL, 1);
    uint64_t *junk = calloc(16, sizeof *junk); /* readable bytes before the pointer */
    ra_slab_free(s, junk + 8);
}

static void double_free_debug(void *arg)
{
    (void)arg;
    ra_slab *s = mk(16, 64, 2, RA_POOL_DEBUG, RA_ON_EMPTY_NULL, 1);
    void *b = ra_slab_alloc(s, 20);
    ra_slab_free(s, b);
    ra_slab_free(s, b);
}

static void test_death(void **state)
{
    (void)state;
    expect_death(exhaust_abort, NULL, "slab 'md': size class 32 exhausted (30 bytes requested");
    expect_death(foreign_free, NULL, "slab 'md': ra_slab_free(");
    expect_death(foreign_free, NULL, "pointer not from this slab");
    expect_death(double_free_debug, NULL, "pool 'md:32': ra_pool_free(");
    expect_death(double_free_debug, NULL, "double free");
}

static void test_hugepages_flag(void **state)
{
    (void)state;
    ra_slab *s = mk(16, 1024, 64, RA_POOL_HUGEPAGES | RA_POOL_PREFAULT, RA_ON_EMPTY_NULL, 2);
    ra_slab_stats st;
    ra_slab_get_stats(s, &st);
    assert_true(st.hugepages != st.hugepages_fallback);
    void *b = ra_slab_alloc(s, 700);
    assert_non_null(b);
    memset(b, 0, 700);
    ra_slab_free(s, b);
    ra_slab_destroy(s);
}

/* ---- threads: one allocates orders of mixed sizes, the other frees them --------------------- */

#define QN 512u
struct xq {
    _Alignas(64) _Atomic uint64_t head;
    _Alignas(64) _Atomic uint64_t tail;
    _Alignas(64) void *slot[QN];
    ra_slab *s;
    uint64_t n;
    _Atomic uint64_t bad;
};

static void *slab_producer(void *arg)
{
    struct xq *q = arg;
    for (uint64_t i = 0; i < q->n; i++) {
        size_t size = 8 + (i * 37) % 500;
        uint64_t *b;
        while ((b = ra_slab_alloc(q->s, size)) == NULL) sched_yield();
        b[0] = i; /* a block handed out twice while in flight loses its token */
        uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed); /* own index */
        /* acquire: the consumer has finished with the slot */
        while (t - atomic_load_explicit(&q->head, memory_order_acquire) == QN) sched_yield();
        q->slot[t % QN] = b;
        atomic_store_explicit(&q->tail, t + 1, memory_order_release); /* publish the slot */
    }
    return NULL;
}

static void *slab_consumer(void *arg)
{
    struct xq *q = arg;
    for (uint64_t h = 0; h < q->n; h++) {
        /* acquire: the slot's pointer and the block's token */
        while (atomic_load_explicit(&q->tail, memory_order_acquire) == h) sched_yield();
        uint64_t *b = q->slot[h % QN];
        atomic_store_explicit(&q->head, h + 1, memory_order_release); /* slot reusable */
        if (b[0] != h || ra_slab_usable_size(q->s, b) < 8 + (h * 37) % 500)
            atomic_fetch_add(&q->bad, 1);
        ra_slab_free(q->s, b);
    }
    return NULL;
}

static void test_threadsafe_cross_thread(void **state)
{
    (void)state;
    ra_slab *s = mk(16, 512, 1024, RA_POOL_THREADSAFE, RA_ON_EMPTY_NULL, 2);
    struct xq *q = aligned_alloc(64, sizeof *q);
    assert_non_null(q);
    memset(q, 0, sizeof *q);
    q->s = s;
    q->n = 300000 / scale();
    pthread_t a, b;
    assert_int_equal(pthread_create(&b, NULL, slab_consumer, q), 0);
    assert_int_equal(pthread_create(&a, NULL, slab_producer, q), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    assert_int_equal(atomic_load(&q->bad), 0);
    ra_slab_stats st;
    ra_slab_get_stats(s, &st);
    assert_true(st.threadsafe);
    assert_int_equal(st.allocs, q->n);
    assert_int_equal(st.frees, q->n);
    assert_int_equal(st.in_use, 0);
    free(q);
    ra_slab_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_death),
        cmocka_unit_test(test_create_invalid),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_alloc_sizes),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_class_stats),
        cmocka_unit_test(test_on_empty_system),
        cmocka_unit_test(test_hugepages_flag),
        cmocka_unit_test(test_threadsafe_cross_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
