/* bench_alloc.c - pool, slab and arena against glibc malloc, jemalloc, tcmalloc, mimalloc
 *
 * All with 64-byte blocks. Every benchmark is repeated (--reps, default 15, plus an untimed
 * warm-up) in short runs; the best and the median run are reported, in ns per operation. On a
 * shared machine the best run is the cost of the code itself, the median shows the noise:
 *
 *  pair     one alloc + free, back to back (the block is hot)          ns per pair
 *  batch    1000 allocs, then 1000 frees in a shuffled order            ns per alloc+free
 *  xthread  one thread allocates and writes each block, hands it over an SPSC queue, the other
 *           reads and frees it (the order-entry pattern)               wall ns per block
 *  local2   two threads, each running `pair` on the same allocator      wall ns per pair per thread
 *  arena    1000 allocs then release all (arena: reset; malloc: free)   ns per object
 *
 * Implementations: "malloc" is whatever malloc the process has: run-alloc.sh runs this program
 * once plain (glibc) and once with each of jemalloc, tcmalloc and mimalloc in LD_PRELOAD;
 * --malloc reports which one it found (by symbol) so that a preload that did not take is seen.
 * "pool" is a single-threaded ra_pool, "pool_ts" a RA_POOL_THREADSAFE one, "slab"/"slab_ts"
 * an ra_slab (64-byte class), "arena" an ra_arena; "queue" is the xthread harness alone (blocks
 * from a static array: the floor). Pools and slabs are prefaulted; malloc runs
 * one untimed warm-up repetition first, so neither side pays first-touch page faults.
 *
 * usage: bench_alloc --malloc | --ringalloc   [--reps N] [--quick]
 * Output: "allocator NAME" (with --malloc), then "result BENCH IMPL BEST_NS MEDIAN_NS" lines.
 * Exit 0, or 1 when a block came back corrupted (an allocator is broken).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ringalloc/ringalloc.h"

#define BS    64u    /* block size */
#define BATCH 1000u  /* batch and arena rounds */
#define QN    16384u /* SPSC queue slots */

static int g_reps = 15;
static uint64_t g_pairs = 2000000, g_rounds = 2000, g_xmsgs = 1000000;
static int g_failed;
static int g_ncpu;

#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *bench, const char *impl, double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    printf("result %s %s %.3f %.3f\n", bench, impl, v[0], v[n / 2]);
    fflush(stdout);
}

static int g_pin = 1;

static void pin(int cpu)
{
    if (g_ncpu < 2 || !g_pin) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % g_ncpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static unsigned g_perm[BATCH];

static void make_perm(void)
{
    uint64_t x = 88172645463325252ull;
    for (unsigned i = 0; i < BATCH; i++) g_perm[i] = i;
    for (unsigned i = BATCH - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned j = (unsigned)(x % (i + 1));
        unsigned t = g_perm[i];
        g_perm[i] = g_perm[j];
        g_perm[j] = t;
    }
}

/* ---- the allocators under test, as inlinable macros ----------------------------------------- */

static ra_pool *g_pool, *g_pool_ts;
static ra_slab *g_slab, *g_slab_ts;
static ra_arena *g_arena;

/* Each loop works on a local copy of the allocator's handle, as a caller's hot loop would (a
   global would be reloaded after every ESCAPE's memory clobber). */
#define M_ALLOC(h)   malloc(BS)
#define M_FREE(h, p) free(p)
#define P_ALLOC(h)   ra_pool_alloc(h)
#define P_FREE(h, p) ra_pool_free(h, p)
#define S_ALLOC(h)   ra_slab_alloc(h, BS)
#define S_FREE(h, p) ra_slab_free(h, p)
#define PT_ALLOC()   ra_pool_alloc(g_pool_ts)
#define PT_FREE(p)   ra_pool_free(g_pool_ts, p)
#define ST_ALLOC()   ra_slab_alloc(g_slab_ts, BS)
#define ST_FREE(p)   ra_slab_free(g_slab_ts, p)

#define DEF_PAIR(name, T, H, ALLOC, FREE)                                                          \
    static double name(uint64_t n)                                                                 \
    {                                                                                              \
        T h = H;                                                                                   \
        (void)h;                                                                                   \
        double t0 = now_ns();                                                                      \
        for (uint64_t i = 0; i < n; i++) {                                                         \
            void *p = ALLOC(h);                                                                    \
            ESCAPE(p);                                                                             \
            FREE(h, p);                                                                            \
        }                                                                                          \
        return (now_ns() - t0) / (double)n;                                                        \
    }

#define DEF_BATCH(name, T, H, ALLOC, FREE)                                                         \
    static double name(uint64_t rounds)                                                            \
    {                                                                                              \
        static void *v[BATCH];                                                                     \
        T h = H;                                                                                   \
        (void)h;                                                                                   \
        double t0 = now_ns();                                                                      \
        for (uint64_t r = 0; r < rounds; r++) {                                                    \
            for (unsigned i = 0; i < BATCH; i++) {                                                 \
                v[i] = ALLOC(h);                                                                   \
                ESCAPE(v[i]);                                                                      \
            }                                                                                      \
            for (unsigned i = 0; i < BATCH; i++) FREE(h, v[g_perm[i]]);                            \
        }                                                                                          \
        return (now_ns() - t0) / (double)(rounds * BATCH);                                         \
    }

DEF_PAIR(pair_malloc, void *, NULL, M_ALLOC, M_FREE)
DEF_PAIR(pair_pool, ra_pool *, g_pool, P_ALLOC, P_FREE)
DEF_PAIR(pair_pool_ts, ra_pool *, g_pool_ts, P_ALLOC, P_FREE)
DEF_PAIR(pair_slab, ra_slab *, g_slab, S_ALLOC, S_FREE)
DEF_BATCH(batch_malloc, void *, NULL, M_ALLOC, M_FREE)
DEF_BATCH(batch_pool, ra_pool *, g_pool, P_ALLOC, P_FREE)
DEF_BATCH(batch_pool_ts, ra_pool *, g_pool_ts, P_ALLOC, P_FREE)
DEF_BATCH(batch_slab, ra_slab *, g_slab, S_ALLOC, S_FREE)

static double arena_malloc(uint64_t rounds)
{
    static void *v[BATCH];
    double t0 = now_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < BATCH; i++) {
            v[i] = malloc(BS);
            ESCAPE(v[i]);
        }
        for (unsigned i = 0; i < BATCH; i++) free(v[i]);
    }
    return (now_ns() - t0) / (double)(rounds * BATCH);
}

static double arena_arena(uint64_t rounds)
{
    ra_arena *a = g_arena;
    double t0 = now_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < BATCH; i++) {
            void *p = ra_arena_alloc(a, BS, 8);
            ESCAPE(p);
        }
        ra_arena_reset(a);
    }
    return (now_ns() - t0) / (double)(rounds * BATCH);
}

/* ---- two threads ---------------------------------------------------------------------------- */

struct spsc {
    _Alignas(64) _Atomic uint64_t tail; /* written by the producer */
    _Alignas(64) _Atomic uint64_t head; /* written by the consumer */
    _Alignas(64) void *slot[QN];
};

struct xrun {
    struct spsc q;
    int impl; /* 0 malloc, 1 pool_ts, 2 slab_ts, 3 queue only (static blocks, no allocator) */
    uint64_t n;
    pthread_barrier_t go;
    uint64_t sum;
    double t0, t1; /* producer's start, consumer's end: measured by the threads themselves */
};

/* the `queue` floor: blocks from a static array, twice the queue's slots so that a slot in
   flight is never reused */
static uint64_t g_static[2 * QN][BS / 8] __attribute__((aligned(64)));
static _Thread_local uint64_t g_static_next;

static inline void *x_alloc(int impl)
{
    if (impl == 3) return g_static[g_static_next++ % (2 * QN)];
    return impl == 0 ? M_ALLOC(0) : impl == 1 ? PT_ALLOC() : ST_ALLOC();
}

static inline void x_free(int impl, void *p)
{
    if (impl == 0)
        M_FREE(0, p);
    else if (impl == 1)
        PT_FREE(p);
    else if (impl == 2)
        ST_FREE(p);
}

static void *x_producer(void *arg)
{
    struct xrun *x = arg;
    pin(0);
    pthread_barrier_wait(&x->go);
    x->t0 = now_ns();
    uint64_t t = 0, head = 0;
    for (uint64_t i = 0; i < x->n; i++) {
        uint64_t *p;
        while ((p = x_alloc(x->impl)) == NULL) cpu_relax(); /* pool momentarily in flight */
        p[0] = i;                                           /* fill the order */
        while (t - head >= QN) {
            head = atomic_load_explicit(&x->q.head, memory_order_acquire); /* slots freed */
            if (t - head >= QN) cpu_relax();
        }
        x->q.slot[t % QN] = p;
        atomic_store_explicit(&x->q.tail, ++t, memory_order_release); /* publish the slot */
    }
    return NULL;
}

static void *x_consumer(void *arg)
{
    struct xrun *x = arg;
    pin(1);
    pthread_barrier_wait(&x->go);
    uint64_t h = 0, tail = 0, sum = 0;
    while (h < x->n) {
        while (h == tail) {
            tail = atomic_load_explicit(&x->q.tail, memory_order_acquire); /* slots filled */
            if (h == tail) cpu_relax();
        }
        uint64_t *p = x->q.slot[h % QN];
        if (p[0] != h) g_failed = 1; /* read the order */
        sum += p[0];
        x_free(x->impl, p);
        atomic_store_explicit(&x->q.head, ++h, memory_order_release); /* slot reusable */
    }
    x->t1 = now_ns();
    x->sum = sum;
    return NULL;
}

static double xthread(int impl, uint64_t n)
{
    struct xrun *x = aligned_alloc(64, sizeof *x);
    memset(x, 0, sizeof *x);
    x->impl = impl;
    x->n = n;
    pthread_barrier_init(&x->go, NULL, 2);
    pthread_t a, b;
    pthread_create(&b, NULL, x_consumer, x);
    pthread_create(&a, NULL, x_producer, x);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    double ns = (x->t1 - x->t0) / (double)n;
    pthread_barrier_destroy(&x->go);
    free(x);
    return ns;
}

struct lrun {
    int impl, cpu;
    uint64_t n;
    pthread_barrier_t *go;
    double t0, t1; /* measured by the thread itself */
};

static void *l_thread(void *arg)
{
    struct lrun *l = arg;
    pin(l->cpu);
    pthread_barrier_wait(l->go);
    l->t0 = now_ns();
    for (uint64_t i = 0; i < l->n; i++) {
        void *p = x_alloc(l->impl);
        ESCAPE(p);
        x_free(l->impl, p);
    }
    l->t1 = now_ns();
    return NULL;
}

static double local2(int impl, uint64_t n)
{
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct lrun l[2] = {{impl, 0, n, &go, 0, 0}, {impl, 1, n, &go, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, l_thread, &l[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    double t0 = l[0].t0 < l[1].t0 ? l[0].t0 : l[1].t0, t1 = l[0].t1 > l[1].t1 ? l[0].t1 : l[1].t1;
    return (t1 - t0) / (double)n; /* both threads ran n pairs: wall ns per pair per thread */
}

/* ---- drivers -------------------------------------------------------------------------------- */

#define RUN(bench, impl, expr)                                                                     \
    do {                                                                                           \
        double v_[64];                                                                             \
        (void)(expr); /* warm-up, untimed */                                                       \
        for (int r_ = 0; r_ < g_reps; r_++) v_[r_] = (expr);                                       \
        report(bench, impl, v_, g_reps);                                                           \
    } while (0)

static void run_malloc(void)
{
    printf("allocator %s\n", bench_which_malloc());
    RUN("pair", "malloc", pair_malloc(g_pairs));
    RUN("batch", "malloc", batch_malloc(g_rounds));
    RUN("arena", "malloc", arena_malloc(g_rounds));
    RUN("xthread", "malloc", xthread(0, g_xmsgs));
    RUN("local2", "malloc", local2(0, g_pairs / 4));
}

static void make_ringalloc(void)
{
    ra_pool_config pc = {.block_size = BS, .capacity = 4096, .flags = RA_POOL_PREFAULT};
    ra_pool_config pt = {
        .block_size = BS, .capacity = 1u << 16, .flags = RA_POOL_PREFAULT | RA_POOL_THREADSAFE};
    ra_slab_config sc = {
        .min_size = 16, .max_size = 4096, .blocks_per_class = 4096, .flags = RA_POOL_PREFAULT};
    ra_slab_config st = sc;
    st.blocks_per_class = 1u << 16;
    st.max_size = 256;
    st.flags |= RA_POOL_THREADSAFE;
    ra_arena_config ac = {.chunk_size = 1u << 20, .flags = RA_ARENA_PREFAULT};
    if (ra_pool_create(&g_pool, &pc) != RA_OK || ra_pool_create(&g_pool_ts, &pt) != RA_OK ||
        ra_slab_create(&g_slab, &sc) != RA_OK || ra_slab_create(&g_slab_ts, &st) != RA_OK ||
        ra_arena_create(&g_arena, &ac) != RA_OK) {
        fprintf(stderr, "bench_alloc: cannot create the allocators\n");
        exit(2);
    }
}

static void run_ringalloc(void)
{
    make_ringalloc();
    RUN("pair", "pool", pair_pool(g_pairs));
    RUN("pair", "pool_ts", pair_pool_ts(g_pairs));
    RUN("pair", "slab", pair_slab(g_pairs));
    RUN("batch", "pool", batch_pool(g_rounds));
    RUN("batch", "pool_ts", batch_pool_ts(g_rounds));
    RUN("batch", "slab", batch_slab(g_rounds));
    RUN("arena", "arena", arena_arena(g_rounds));
    RUN("xthread", "queue", xthread(3, g_xmsgs));
    RUN("xthread", "pool_ts", xthread(1, g_xmsgs));
    RUN("xthread", "slab_ts", xthread(2, g_xmsgs));
    RUN("local2", "pool_ts", local2(1, g_pairs / 4));
    ra_pool_stats s;
    ra_pool_get_stats(g_pool_ts, &s);
    if (s.fallbacks != 0 || s.in_use > s.capacity) g_failed = 1;
    ra_pool_destroy(g_pool);
    ra_pool_destroy(g_pool_ts);
    ra_slab_destroy(g_slab);
    ra_slab_destroy(g_slab_ts);
    ra_arena_destroy(g_arena);
}

int main(int argc, char **argv)
{
    int mode = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--malloc") == 0)
            mode = 1;
        else if (strcmp(argv[i], "--ringalloc") == 0)
            mode = 2;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            g_reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-pin") == 0)
            g_pin = 0;
        else if (strcmp(argv[i], "--quick") == 0)
            g_pairs /= 10, g_rounds /= 10, g_xmsgs /= 10, g_reps = 5;
        else
            mode = -1;
    }
    if (mode <= 0 || g_reps < 1 || g_reps > 63) {
        fprintf(stderr, "usage: bench_alloc --malloc | --ringalloc [--reps N] [--quick]\n");
        return 2;
    }
    g_ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    make_perm();
    if (mode == 1)
        run_malloc();
    else
        run_ringalloc();
    if (g_failed) fprintf(stderr, "bench_alloc: a block came back corrupted\n");
    return g_failed;
}
