/* pool.c - fixed-size block pool: single-threaded stack, thread-safe magazines, debug checks */
/*
 * Design notes
 *
 * Layout. The blocks live in one area of capacity * stride bytes (stride = block_size rounded up
 * to the alignment, at least 8). Free blocks are never linked through their own memory: a
 * single-threaded pool keeps them in a side array used as a LIFO stack (8 bytes per block), a
 * thread-safe pool in magazines of pointers. So a use-after-free write can neither corrupt the
 * pool nor be hidden from the debug fill check, and ASan/Valgrind never see the pool touch a
 * poisoned block. Blocks are carved from the area lazily, only when no free block is left, so a
 * fresh pool costs no page faults (RA_POOL_PREFAULT takes them all at create instead). With a
 * LIFO stack the carve count is exactly the peak number of pool blocks in use: it is high_water.
 *
 * Fast path. For a single-threaded, non-debug pool outside sanitizers and Valgrind, pool.h
 * inlines alloc (pop) and free (range check + push) into the caller. The stack pointer and the
 * allocation count share one word (48-bit pointer, count mod 2^16 above it; the inline alloc
 * folds the carry into allocs_hi), so an alloc is one load, one add and one store of that word:
 * counting costs nothing extra, and frees need no counter since frees = allocs - (carved -
 * free). Every other pool keeps the inline fields at zero so the inline code falls through to
 * ra__pool_alloc_slow() / ra__pool_free_slow(): a lean path for thread-safe pools, cold
 * functions for the rest (checks, poisoning, carving, exhaustion). pool.c is the one translation
 * unit that emits the exported copies of the inline functions.
 *
 * Thread-safe pools (Bonwick's magazines, "Magazines and Vmem", USENIX 2001). Each thread owns a
 * cache of two magazines (`loaded` and `prev`, each an array of up to M block pointers, M =
 * capacity/64 clamped to 1..1024) and allocates/frees there without atomics or sharing. When both
 * are empty (alloc) or both full (free) it trades one whole magazine with the depot: two
 * lock-free stacks, one of full and one of empty magazines. A third lock-free stack, of single
 * blocks ("loose" blocks, linked by a side array of indices), takes blocks that cannot be put in
 * a magazine: frees by threads beyond the cache count, caches flushed at thread exit, frees when
 * no empty magazine is left. Each stack top is one 64-bit word, index + 1 in the low half and a
 * generation in the high half that every successful push or pop increments, so a pop whose
 * snapshot went stale (the ABA case: the top popped and pushed back meanwhile) fails its CAS.
 * Wrapping the 32-bit generation would need 2^32 depot operations between one thread's load and
 * its CAS. The one-thread-allocates, another-frees pattern costs one depot push per M frees on
 * one side and one pop per M allocs on the other; the magazine's pointer array (M * 8 bytes) is
 * the only allocator data that moves between the cores. A depot exchange is a handful of
 * dependent cache misses between cores; M = capacity/64 (up to 1024) makes them rare enough that
 * the cross-thread pattern runs within a nanosecond of a bare SPSC queue (docs/benchmarks.md).
 *
 * Per-thread lookup. Each thread-safe pool takes a slot in a global registry (mutex, only at
 * create/destroy/thread exit) and a unique 64-bit instance number. A thread keeps a table
 * indexed by slot of {instance, cache}; a matching instance means the entry is for this pool,
 * so entries of destroyed pools are never dereferenced. A pthread key destructor returns the
 * thread's caches at exit (under the registry mutex, so a pool cannot vanish meanwhile).
 *
 * Memory ordering. A pusher fills the magazine (or sets the block's link) and then publishes it
 * with a release CAS on the stack top; a popper loads the top with acquire, so the magazine's
 * contents and the link it reads happen-before its use. The link itself is an atomic (relaxed)
 * because a popper may read it while another thread re-pushes the same node: its CAS then fails.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringalloc/pool.h"
#include "alloc_mem.h"

/* The exported out-of-line copies of the inline fast paths of pool.h (see the note there). */
extern void *ra_pool_alloc(ra_pool *p);
extern void ra_pool_free(ra_pool *p, void *block);

#define RA__MAG_MAX   1024u /* largest magazine (blocks) */
#define RA__NONE      UINT32_MAX
#define RA__PAGE      4096u
#define RA__HUGE_PAGE (2u * 1024 * 1024)

enum { RA__VIRGIN = 0, RA__INUSE = 1, RA__FREED = 2 }; /* debug block states */

struct ra__mag {
    /* depot link (index + 1 of the next magazine, 0 at the bottom): atomic because a popper may
       read it while another thread pushes the same magazine again (that popper's CAS fails) */
    _Atomic uint32_t next;
    uint32_t n;   /* blocks held */
    void *slot[]; /* slot[0 .. n), n <= msize: a magazine is mstride bytes */
};

struct ra__tcache {
    _Alignas(64) struct ra__mag *loaded; /* alloc and free work here first */
    struct ra__mag *prev;                /* the other magazine, swapped in when loaded runs out */
    /* single writer (the owning thread), atomic so ra_pool_get_stats() may read from anywhere */
    _Atomic uint64_t allocs;
    /* same: owner-written, read by get_stats */
    _Atomic uint64_t frees;
    /* 0 free, 1 claimed: CAS-acquired at thread attach, released at thread exit, so the next owner
       sees the magazines as the last one left them */
    _Atomic uint32_t owner;
};

struct ra__ts {
    /* depot of full magazines: index + generation in one word, CAS'd by every thread */
    _Alignas(64) _Atomic uint64_t full_top;
    /* depot of empty magazines: same encoding */
    _Alignas(64) _Atomic uint64_t empty_top;
    /* stack of loose blocks (links in lnext): same encoding */
    _Alignas(64) _Atomic uint64_t loose_top;
    /* blocks carved from the area so far (may run past capacity: callers clamp); fetch_add makes
       each carved range unique, relaxed because a virgin block carries no data to publish */
    _Alignas(64) _Atomic uint64_t carved;
    _Alignas(64) unsigned char *mags; /* nmags magazines, mstride bytes apart (cache-line multiple,
                                         so two threads' magazines never share a line) */
    size_t mstride;
    _Atomic uint32_t *lnext; /* loose-stack link per block (index + 1): atomic for the same reason
                                as ra__mag.next */
    struct ra__tcache *caches;
    uint32_t ncaches, nmags, msize;
};

struct ra_pool {
    struct ra__pool_hot hot; /* first: read by the inline fast paths */
    bool fast;        /* single-threaded without checks: the inline stack of `hot` is in use */
    void **stack;     /* the free-block stack's memory (capacity entries) */
    uint32_t cn;      /* checked single-threaded pools: entries in stack */
    uint64_t callocs; /* checked single-threaded pools: blocks handed out */
    uint32_t capacity;
    uint64_t carved; /* single-threaded: blocks carved from the area */
    unsigned char *blocks;
    size_t stride, block_size, align;
    uint32_t flags;
    int on_empty;
    bool checked; /* debug, ASan or Valgrind: the slow path hands blocks in and out */
    bool debug;
    struct ra__mem mem;   /* RA__MEM_NONE for caller memory */
    size_t mem_len;       /* bytes of block memory (stats) */
    struct ra__ts *ts;    /* thread-safe engine, or NULL */
    uint32_t ts_slot;     /* thread-safe: registry slot (indexes each thread's cache table) */
    uint64_t ts_instance; /* thread-safe: registry instance number (never 0) */
    uint32_t ts_msize;    /* thread-safe: magazine size (copy of ts->msize for the lean path) */
    bool ts_fast;         /* thread-safe without checks: the lean out-of-line path applies */
    /* slow-path counters: atomic because thread-safe pools reach them from any thread; the
       single-threaded fast path never touches them */
    _Atomic uint64_t fallbacks, fallback_frees, failed, ov_allocs, ov_frees, hw_slow;
    _Atomic uint8_t *state;  /* debug: RA__VIRGIN/INUSE/FREED per block; exchanged atomically so
                                two threads freeing one block cannot both pass the check */
    pthread_mutex_t fb_lock; /* debug + RA_ON_EMPTY_SYSTEM: the live fallback blocks */
    void **fb;
    size_t fb_n, fb_cap;
    char name[RA_POOL_NAME_MAX + 1];
};

/* ---- shared helpers (also used by slab.c and arena.c) -----------------------------------------
 */

void ra__die(const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ringalloc: %s\n", buf);
    fflush(stderr);
    abort();
}

void ra__set_name(char *dst, const char *src, const char *dflt)
{
    if (src == NULL || src[0] == '\0') src = dflt;
    size_t n = strlen(src);
    if (n > RA_POOL_NAME_MAX) n = RA_POOL_NAME_MAX;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void ra__mem_prefault(void *p, size_t len)
{
    if (len == 0) return;
#ifdef MADV_POPULATE_WRITE
    /* One call backs every page (huge pages where advised) without touching the bytes: about
     * three times faster than a write per page on a 64 MiB ring, and it keeps the contents. The
     * range is widened to whole pages, which hold our bytes and so are mapped. Kernels before
     * 5.14 and special mappings refuse it: then the loop below does the same. */
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t step = pg > 0 ? (uintptr_t)pg : RA__PAGE;
    uintptr_t lo = (uintptr_t)p & ~(step - 1);
    uintptr_t hi = ((uintptr_t)p + len + step - 1) & ~(step - 1);
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0) return;
#endif
    volatile unsigned char *c = p;
    for (size_t i = 0; i < len; i += RA__PAGE) c[i] = c[i];
    c[len - 1] = c[len - 1];
}

bool ra__mem_get(struct ra__mem *m, size_t len, size_t align, uint32_t opts)
{
    memset(m, 0, sizeof *m);
    if (len == 0) len = 1;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (opts & RA__MEM_HUGE) {
        int pop = (opts & RA__MEM_PREFAULT) ? MAP_POPULATE : 0;
        size_t hl = RA__ALIGN_UP(len, (size_t)RA__HUGE_PAGE);
        void *q = hl < len ? MAP_FAILED
                           : mmap(NULL, hl, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | pop, -1, 0);
        if (q != MAP_FAILED) {
            m->huge = true;
        } else {
            m->huge_fallback = true;
            hl = RA__ALIGN_UP(len, (size_t)RA__PAGE);
            q = hl < len ? MAP_FAILED
                         : mmap(NULL, hl, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | pop,
                                -1, 0);
            if (q == MAP_FAILED) return false;
#ifdef MADV_HUGEPAGE
            (void)madvise(q, hl, MADV_HUGEPAGE); /* transparent huge pages when enabled */
#endif
        }
        m->base = m->raw = q;
        m->len = m->raw_len = hl;
        m->kind = RA__MEM_MMAP;
    } else {
        void *q = NULL;
        if (posix_memalign(&q, align, len) != 0) return false;
        m->base = m->raw = q;
        m->len = m->raw_len = len;
        m->kind = RA__MEM_HEAP;
    }
    if (opts & RA__MEM_PREFAULT) ra__mem_prefault(m->base, m->len);
    return true;
}

void ra__mem_put(struct ra__mem *m)
{
    if (m->kind == RA__MEM_HEAP)
        free(m->raw);
    else if (m->kind == RA__MEM_MMAP)
        munmap(m->raw, m->raw_len);
    m->kind = RA__MEM_NONE;
}

/* ---- lock-free tagged stacks (depot of magazines, loose blocks) -------------------------------
 */

static inline _Atomic uint32_t *ra__link(void *base, size_t stride, uint32_t i)
{
    return (_Atomic uint32_t *)(void *)((char *)base + (size_t)i * stride);
}

static void ra__stack_push(_Atomic uint64_t *top, void *links, size_t stride, uint32_t i)
{
    uint64_t old = atomic_load_explicit(top, memory_order_relaxed); /* CAS below validates it */
    uint64_t nv;
    do {
        /* relaxed: published by the release CAS below */
        atomic_store_explicit(ra__link(links, stride, i), (uint32_t)old, memory_order_relaxed);
        nv = (((old >> 32) + 1) << 32) | (uint64_t)(i + 1);
        /* release: the node's contents and link are visible to whoever pops it */
    } while (!atomic_compare_exchange_weak_explicit(top, &old, nv, memory_order_release,
                                                    memory_order_relaxed));
}

static uint32_t ra__stack_pop(_Atomic uint64_t *top, void *links, size_t stride)
{
    /* acquire: pairs with the pusher's release CAS, so the link and contents read below are its */
    uint64_t old = atomic_load_explicit(top, memory_order_acquire);
    for (;;) {
        uint32_t i1 = (uint32_t)old;
        if (i1 == 0) return RA__NONE;
        /* relaxed: ordered by the acquire above; a stale value is caught by the generation */
        uint32_t nxt = atomic_load_explicit(ra__link(links, stride, i1 - 1), memory_order_relaxed);
        uint64_t nv = (((old >> 32) + 1) << 32) | nxt;
        /* acquire on both outcomes: a failed CAS reloads `old`, whose link we read next */
        if (atomic_compare_exchange_weak_explicit(top, &old, nv, memory_order_acquire,
                                                  memory_order_acquire))
            return i1 - 1;
    }
}

/* ---- small helpers ----------------------------------------------------------------------------
 */

static inline void ra__bump(_Atomic uint64_t *c)
{
    /* single writer: a relaxed load + store (no locked RMW) is enough for readers elsewhere */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline void ra__add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed); /* a shared counter: only a total */
}

static inline uint64_t ra__get(const _Atomic uint64_t *c)
{
    /* relaxed: a statistics snapshot */
    return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)c, memory_order_relaxed);
}

static void ra__max(_Atomic uint64_t *c, uint64_t v)
{
    uint64_t cur = atomic_load_explicit(c, memory_order_relaxed); /* a peak: no ordering needed */
    while (cur < v && !atomic_compare_exchange_weak_explicit(c, &cur, v, memory_order_relaxed,
                                                             memory_order_relaxed)) {}
}

static inline uint32_t ra__index(const ra_pool *p, const void *b)
{
    return (uint32_t)(((const unsigned char *)b - p->blocks) / p->stride);
}

static inline void *ra__block(const ra_pool *p, uint64_t i)
{
    return p->blocks + (size_t)i * p->stride;
}

static inline bool ra__inside(const ra_pool *p, const void *b)
{
    return (uintptr_t)b - (uintptr_t)p->blocks < p->mem_len;
}

/* ---- thread registry and per-thread cache lookup ----------------------------------------------
 */

struct ra__reg_ent {
    ra_pool *pool;
    uint64_t instance;
};
struct ra__tls_ent {
    uint64_t instance;    /* the pool instance this entry is for (0: none) */
    struct ra__tcache *c; /* its cache; NULL: this thread uses the uncached path */
};
struct ra__tls {
    uint32_t cap;
    struct ra__tls_ent e[];
};

static pthread_mutex_t ra__reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ra__reg_ent *ra__reg;
static uint32_t ra__reg_cap;
static uint64_t ra__reg_next = 1;
static pthread_once_t ra__key_once = PTHREAD_ONCE_INIT;
static pthread_key_t ra__key;
static struct ra__tls ra__tls_none; /* cap 0: the initial table of every thread */
/* initial-exec: one %fs-relative load even inside libringalloc.so (the variable is 8 bytes, well
   within the static TLS surplus that glibc keeps for libraries loaded with dlopen) */
static _Thread_local struct ra__tls *ra__tls __attribute__((tls_model("initial-exec"))) =
    &ra__tls_none;

static void ra__ts_flush(ra_pool *p, struct ra__tcache *c);

static void ra__tls_dtor(void *v)
{
    struct ra__tls *tl = v;
    pthread_mutex_lock(&ra__reg_lock);
    for (uint32_t s = 0; s < tl->cap; s++) {
        struct ra__tls_ent *e = &tl->e[s];
        if (e->c == NULL || s >= ra__reg_cap || ra__reg[s].pool == NULL ||
            ra__reg[s].instance != e->instance)
            continue; /* no cache, or its pool is gone */
        ra__ts_flush(ra__reg[s].pool, e->c);
        /* release: the next thread to claim this cache sees its magazines */
        atomic_store_explicit(&e->c->owner, 0, memory_order_release);
    }
    pthread_mutex_unlock(&ra__reg_lock);
    ra__tls = &ra__tls_none;
    free(tl);
}

static void ra__key_init(void)
{
    (void)pthread_key_create(&ra__key, ra__tls_dtor);
}

static int ra__reg_add(ra_pool *p)
{
    pthread_mutex_lock(&ra__reg_lock);
    uint32_t s = 0;
    while (s < ra__reg_cap && ra__reg[s].pool != NULL) s++;
    if (s == ra__reg_cap) {
        uint32_t ncap = ra__reg_cap ? ra__reg_cap * 2 : 16;
        struct ra__reg_ent *n = realloc(ra__reg, ncap * sizeof *n);
        if (n == NULL) {
            pthread_mutex_unlock(&ra__reg_lock);
            return RA_ENOMEM;
        }
        memset(n + ra__reg_cap, 0, (ncap - ra__reg_cap) * sizeof *n);
        ra__reg = n;
        ra__reg_cap = ncap;
    }
    ra__reg[s].pool = p;
    ra__reg[s].instance = ra__reg_next++;
    p->ts_slot = s;
    p->ts_instance = ra__reg[s].instance;
    pthread_mutex_unlock(&ra__reg_lock);
    return RA_OK;
}

static void ra__reg_remove(ra_pool *p)
{
    pthread_mutex_lock(&ra__reg_lock);
    ra__reg[p->ts_slot].pool = NULL;
    ra__reg[p->ts_slot].instance = 0;
    pthread_mutex_unlock(&ra__reg_lock);
}

/* First use of a thread-safe pool on this thread: claim a cache (or none: uncached path). */
static struct ra__tcache *ra__ts_attach(ra_pool *p)
{
    struct ra__ts *t = p->ts;
    struct ra__tls *tl = ra__tls;
    if (p->ts_slot >= tl->cap) {
        pthread_once(&ra__key_once, ra__key_init);
        uint32_t ncap = tl->cap ? tl->cap : 16;
        while (ncap <= p->ts_slot) ncap *= 2;
        struct ra__tls *n = calloc(1, sizeof *n + ncap * sizeof n->e[0]);
        if (n == NULL) return NULL; /* uncached for this call; attach is retried next time */
        if (tl->cap) memcpy(n->e, tl->e, tl->cap * sizeof tl->e[0]);
        n->cap = ncap;
        if (tl != &ra__tls_none) free(tl);
        ra__tls = tl = n;
        (void)pthread_setspecific(ra__key, n);
    }
    struct ra__tcache *c = NULL;
    for (uint32_t i = 0; i < t->ncaches && c == NULL; i++) {
        uint32_t z = 0;
        /* relaxed peek skips claimed caches cheaply; the CAS acquires: see the magazines as the
           previous owner left them (released at its exit) */
        if (atomic_load_explicit(&t->caches[i].owner, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&t->caches[i].owner, &z, 1,
                                                    memory_order_acquire, memory_order_relaxed))
            c = &t->caches[i];
    }
    tl->e[p->ts_slot].instance = p->ts_instance;
    tl->e[p->ts_slot].c = c;
    return c;
}

static inline struct ra__tcache *ra__ts_cache(ra_pool *p)
{
    struct ra__tls *tl = ra__tls;
    uint32_t s = p->ts_slot;
    if (__builtin_expect(s < tl->cap && tl->e[s].instance == p->ts_instance, 1)) return tl->e[s].c;
    return ra__ts_attach(p);
}

/* ---- thread-safe engine -----------------------------------------------------------------------
 */

static inline void ra__loose_push(ra_pool *p, void *b)
{
    ra__stack_push(&p->ts->loose_top, p->ts->lnext, sizeof(uint32_t), ra__index(p, b));
}

static inline void *ra__loose_pop(ra_pool *p)
{
    uint32_t i = ra__stack_pop(&p->ts->loose_top, p->ts->lnext, sizeof(uint32_t));
    return i == RA__NONE ? NULL : ra__block(p, i);
}

static inline struct ra__mag *ra__mag_at(const struct ra__ts *t, uint32_t i)
{
    return (struct ra__mag *)(void *)(t->mags + (size_t)i * t->mstride);
}

static inline uint32_t ra__mag_index(const struct ra__ts *t, const struct ra__mag *m)
{
    return (uint32_t)(((const unsigned char *)m - t->mags) / t->mstride);
}

static inline void ra__mag_push(_Atomic uint64_t *top, struct ra__ts *t, struct ra__mag *m)
{
    ra__stack_push(top, t->mags, t->mstride, ra__mag_index(t, m));
}

static inline struct ra__mag *ra__mag_pop(_Atomic uint64_t *top, struct ra__ts *t)
{
    uint32_t i = ra__stack_pop(top, t->mags, t->mstride);
    return i == RA__NONE ? NULL : ra__mag_at(t, i);
}

/* Carves up to `want` virgin blocks: returns how many, the first one's index in *first. */
static uint32_t ra__ts_carve(ra_pool *p, uint32_t want, uint64_t *first)
{
    uint64_t cap = p->capacity;
    /* relaxed: the cheap check keeps `carved` from running far past capacity */
    if (atomic_load_explicit(&p->ts->carved, memory_order_relaxed) >= cap) return 0;
    /* relaxed RMW: uniqueness of each carved range is all it must give (see the field) */
    uint64_t old = atomic_fetch_add_explicit(&p->ts->carved, want, memory_order_relaxed);
    if (old >= cap) return 0;
    *first = old;
    return (uint32_t)(cap - old < want ? cap - old : want);
}

/* Both magazines of c are empty: get blocks into c->loaded. */
static bool ra__ts_refill(ra_pool *p, struct ra__tcache *c)
{
    struct ra__ts *t = p->ts;
    struct ra__mag *m;
    if (c->prev->n != 0) {
        m = c->prev;
        c->prev = c->loaded;
        c->loaded = m;
        return true;
    }
    if ((m = ra__mag_pop(&t->full_top, t)) != NULL) {
        ra__mag_push(&t->empty_top, t, c->prev);
        c->prev = c->loaded;
        c->loaded = m;
        return true;
    }
    m = c->loaded;
    void *b;
    while (m->n < t->msize && (b = ra__loose_pop(p)) != NULL) m->slot[m->n++] = b;
    if (m->n != 0) return true;
    uint64_t first = 0;
    uint32_t k = ra__ts_carve(p, t->msize, &first);
    for (uint32_t i = k; i > 0; i--) m->slot[m->n++] = ra__block(p, first + i - 1);
    return k != 0;
}

static void *ra__ts_alloc(ra_pool *p)
{
    struct ra__ts *t = p->ts;
    struct ra__tcache *c = ra__ts_cache(p);
    if (__builtin_expect(c != NULL, 1)) {
        struct ra__mag *m = c->loaded;
        if (__builtin_expect(m->n == 0, 0)) {
            if (!ra__ts_refill(p, c)) return NULL;
            m = c->loaded;
        }
        ra__bump(&c->allocs);
        return m->slot[--m->n];
    }
    /* uncached thread: single blocks from the loose stack, a full magazine, or the area */
    void *b = ra__loose_pop(p);
    if (b == NULL) {
        struct ra__mag *m = ra__mag_pop(&t->full_top, t);
        if (m != NULL) {
            b = m->slot[--m->n];
            while (m->n) ra__loose_push(p, m->slot[--m->n]);
            ra__mag_push(&t->empty_top, t, m);
        } else {
            uint64_t first = 0;
            if (ra__ts_carve(p, 1, &first) == 0) return NULL;
            b = ra__block(p, first);
        }
    }
    ra__add(&p->ov_allocs, 1);
    return b;
}

static void ra__ts_free(ra_pool *p, void *b)
{
    struct ra__ts *t = p->ts;
    struct ra__tcache *c = ra__ts_cache(p);
    if (__builtin_expect(c != NULL, 1)) {
        struct ra__mag *m = c->loaded;
        if (__builtin_expect(m->n == t->msize, 0)) {
            if (c->prev->n == 0) {
                c->loaded = c->prev;
                c->prev = m;
            } else {
                struct ra__mag *e = ra__mag_pop(&t->empty_top, t);
                if (e == NULL) { /* every magazine holds blocks: this one goes loose */
                    ra__loose_push(p, b);
                    ra__bump(&c->frees);
                    return;
                }
                ra__mag_push(&t->full_top, t, c->prev);
                c->prev = m;
                c->loaded = e;
            }
            m = c->loaded;
        }
        m->slot[m->n++] = b;
        ra__bump(&c->frees);
        return;
    }
    ra__loose_push(p, b);
    ra__add(&p->ov_frees, 1);
}

/* Hands a cache's blocks back to the depot (full magazines whole, the rest block by block). */
static void ra__ts_flush(ra_pool *p, struct ra__tcache *c)
{
    struct ra__ts *t = p->ts;
    struct ra__mag **mm[2] = {&c->loaded, &c->prev};
    for (int k = 0; k < 2; k++) {
        struct ra__mag *m = *mm[k];
        if (m->n == t->msize) {
            struct ra__mag *e = ra__mag_pop(&t->empty_top, t);
            if (e != NULL) {
                ra__mag_push(&t->full_top, t, m);
                *mm[k] = e;
                continue;
            }
        }
        while (m->n) ra__loose_push(p, m->slot[--m->n]);
    }
}

/* ---- single-threaded engine -------------------------------------------------------------------
 */

static inline void **ra__top(const struct ra__pool_hot *h)
{
    return (void **)(uintptr_t)(h->top & RA__POOL_PTR_MASK);
}

/* Counts one allocation in a fast pool: the high 16 bits of top, folding into allocs_hi. */
static inline void ra__count_alloc(struct ra__pool_hot *h)
{
    h->top += UINT64_C(1) << RA__POOL_PTR_BITS;
    if ((h->top >> RA__POOL_PTR_BITS) == 0) h->allocs_hi += UINT64_C(1) << (64 - RA__POOL_PTR_BITS);
}

static void *ra__st_alloc(ra_pool *p)
{
    void *b;
    if (p->fast) {
        struct ra__pool_hot *h = &p->hot;
        void **t = ra__top(h);
        if (t != h->lo) { /* the inline code normally pops; kept for direct callers */
            b = t[-1];
            h->top -= sizeof(void *);
        } else if (p->carved < p->capacity) {
            b = ra__block(p, p->carved++);
        } else {
            return NULL;
        }
        ra__count_alloc(h);
        return b;
    }
    if (p->cn != 0)
        b = p->stack[--p->cn];
    else if (p->carved < p->capacity)
        b = ra__block(p, p->carved++);
    else
        return NULL;
    p->callocs++;
    return b;
}

static void ra__st_free(ra_pool *p, void *b)
{
    if (p->fast) {
        struct ra__pool_hot *h = &p->hot;
        void **t = ra__top(h);
        if (t == h->hi)
            ra__die("pool '%s': ra_pool_free(%p): more frees than blocks (double free)", p->name,
                    b);
        *t = b;
        h->top += sizeof(void *);
        return;
    }
    if (p->cn >= p->capacity)
        ra__die("pool '%s': ra_pool_free(%p): more frees than blocks (double free)", p->name, b);
    p->stack[p->cn++] = b;
}

/* ---- checks, poisoning, fallbacks -------------------------------------------------------------
 */

static void ra__hand_out(ra_pool *p, void *b)
{
    RA__VG_ALLOC(p, b, p->block_size);
    RA__UNPOISON(b, p->block_size);
    if (!p->debug) return;
    uint32_t i = ra__index(p, b);
    /* relaxed RMW: atomicity alone makes concurrent misuse visible; ownership of the block was
       handed over through the depot (release/acquire) */
    uint8_t old = atomic_exchange_explicit(&p->state[i], RA__INUSE, memory_order_relaxed);
    if (old == RA__INUSE)
        ra__die("pool '%s': block %u (%p) handed out twice: pool state is corrupt", p->name, i, b);
    if (old == RA__FREED) {
        const unsigned char *c = b;
        RA__VG_DEFINED(b, p->block_size);
        for (size_t k = 0; k < p->block_size; k++)
            if (c[k] != RA_POOL_FREE_FILL)
                ra__die("pool '%s': block %u (%p) was written after it was freed (byte %zu is "
                        "0x%02x, not 0x%02x)",
                        p->name, i, b, k, c[k], RA_POOL_FREE_FILL);
        /* left defined: in debug mode a reused block documentedly holds the fill pattern */
    }
}

static void ra__take_back(ra_pool *p, void *b)
{
    if (p->debug) {
        size_t off = (size_t)((unsigned char *)b - p->blocks);
        if (off % p->stride != 0)
            ra__die("pool '%s': ra_pool_free(%p): misaligned pointer, %zu bytes into block %zu "
                    "(blocks are %zu bytes)",
                    p->name, b, off % p->stride, off / p->stride, p->stride);
        uint32_t i = ra__index(p, b);
        /* relaxed RMW: see ra__hand_out */
        uint8_t old = atomic_exchange_explicit(&p->state[i], RA__FREED, memory_order_relaxed);
        if (old == RA__FREED)
            ra__die("pool '%s': ra_pool_free(%p): double free of block %u", p->name, b, i);
        if (old == RA__VIRGIN)
            ra__die("pool '%s': ra_pool_free(%p): block %u was never allocated", p->name, b, i);
        memset(b, RA_POOL_FREE_FILL, p->block_size);
    }
#ifdef RA__ASAN
    else if (__asan_address_is_poisoned(b))
        ra__die("pool '%s': ra_pool_free(%p): double free (the block is already free)", p->name, b);
#endif
    RA__POISON(b, p->stride);
    RA__VG_FREE(p, b);
}

static void ra__fb_track(ra_pool *p, void *b)
{
    pthread_mutex_lock(&p->fb_lock);
    if (p->fb_n == p->fb_cap) {
        size_t ncap = p->fb_cap ? p->fb_cap * 2 : 16;
        void **n = realloc(p->fb, ncap * sizeof *n);
        if (n == NULL) ra__die("pool '%s': out of memory tracking fallback blocks", p->name);
        p->fb = n;
        p->fb_cap = ncap;
    }
    p->fb[p->fb_n++] = b;
    pthread_mutex_unlock(&p->fb_lock);
}

static bool ra__fb_forget(ra_pool *p, void *b)
{
    bool found = false;
    pthread_mutex_lock(&p->fb_lock);
    for (size_t i = 0; i < p->fb_n; i++)
        if (p->fb[i] == b) {
            p->fb[i] = p->fb[--p->fb_n];
            found = true;
            break;
        }
    pthread_mutex_unlock(&p->fb_lock);
    return found;
}

static uint64_t ra__pool_in_use(const ra_pool *p);

static void *ra__on_empty(ra_pool *p)
{
    if (p->on_empty == RA_ON_EMPTY_ABORT)
        ra__die("pool '%s' exhausted: all %u blocks of %zu bytes are in use "
                "(on_empty = RA_ON_EMPTY_ABORT)",
                p->name, p->capacity, p->stride);
    if (p->on_empty == RA_ON_EMPTY_SYSTEM) {
        void *b = aligned_alloc(p->align, p->stride);
        if (b != NULL) {
            if (p->debug) ra__fb_track(p, b);
            ra__add(&p->fallbacks, 1);
            ra__max(&p->hw_slow, ra__pool_in_use(p));
            return b;
        }
    }
    ra__add(&p->failed, 1);
    return NULL;
}

static void ra__free_outside(ra_pool *p, void *b)
{
    if (p->on_empty == RA_ON_EMPTY_SYSTEM && ra__get(&p->fallbacks) > ra__get(&p->fallback_frees)) {
        if (!p->debug || ra__fb_forget(p, b)) {
            free(b);
            ra__add(&p->fallback_frees, 1);
            return;
        }
    }
    ra__die("pool '%s': ra_pool_free(%p): pointer not from this pool", p->name, b);
}

/* ---- the out-of-line paths -------------------------------------------------------------------
 * ra__pool_alloc_slow/free_slow are what the inline code of pool.h calls. A thread-safe pool
 * without checks takes the lean path (TLS lookup, one magazine pop or push) with no stack frame
 * to speak of; everything else - refills, attach, exhaustion, checks, single-threaded carving -
 * is in the cold functions. */

__attribute__((noinline)) static void *ra__alloc_cold(ra_pool *p)
{
    void *b = p->ts ? ra__ts_alloc(p) : ra__st_alloc(p);
    if (b == NULL) return ra__on_empty(p);
    if (p->checked) ra__hand_out(p, b);
    return b;
}

__attribute__((noinline)) static void ra__free_cold(ra_pool *p, void *b)
{
    if (b == NULL) return;
    if (!ra__inside(p, b)) {
        ra__free_outside(p, b);
        return;
    }
    if (p->checked) ra__take_back(p, b);
    if (p->ts)
        ra__ts_free(p, b);
    else
        ra__st_free(p, b);
}

RA_API void *ra__pool_alloc_slow(ra_pool *p)
{
    if (__builtin_expect(p->ts_fast, 1)) {
        struct ra__tls *tl = ra__tls;
        uint32_t s = p->ts_slot;
        if (__builtin_expect(s < tl->cap && tl->e[s].instance == p->ts_instance, 1)) {
            struct ra__tcache *c = tl->e[s].c;
            struct ra__mag *m;
            if (__builtin_expect(c != NULL && (m = c->loaded)->n != 0, 1)) {
                ra__bump(&c->allocs);
                return m->slot[--m->n];
            }
        }
    }
    return ra__alloc_cold(p);
}

RA_API void ra__pool_free_slow(ra_pool *p, void *b)
{
    if (__builtin_expect(p->ts_fast && ra__inside(p, b), 1)) {
        struct ra__tls *tl = ra__tls;
        uint32_t s = p->ts_slot;
        if (__builtin_expect(s < tl->cap && tl->e[s].instance == p->ts_instance, 1)) {
            struct ra__tcache *c = tl->e[s].c;
            struct ra__mag *m;
            if (__builtin_expect(c != NULL && (m = c->loaded)->n != p->ts_msize, 1)) {
                m->slot[m->n++] = b;
                ra__bump(&c->frees);
                return;
            }
        }
    }
    ra__free_cold(p, b);
}

/* ---- create / destroy -------------------------------------------------------------------------
 */

static size_t ra__stride(size_t block_size, size_t align)
{
    size_t a = align < 8 ? 8 : align;
    return RA__ALIGN_UP(block_size, a);
}

static bool ra__geometry(const ra_pool_config *cfg, size_t *align, size_t *stride)
{
    size_t a = cfg->align ? cfg->align : RA_POOL_DEFAULT_ALIGN;
    if (cfg->block_size == 0 || !RA__IS_POW2(a) || a > RA_POOL_MAX_ALIGN) return false;
    if (cfg->block_size > SIZE_MAX / 2) return false;
    *align = a < 8 ? 8 : a;
    *stride = ra__stride(cfg->block_size, a);
    return true;
}

RA_API size_t ra_pool_mem_size(const ra_pool_config *cfg)
{
    size_t a, s;
    if (cfg == NULL || !ra__geometry(cfg, &a, &s)) return 0;
    if (cfg->capacity == 0 || cfg->capacity >= UINT32_MAX || cfg->capacity > (SIZE_MAX - a) / s)
        return 0;
    return cfg->capacity * s + a - 1;
}

static int ra__ts_create(ra_pool *p, const ra_pool_config *cfg)
{
    struct ra__ts *t = aligned_alloc(64, RA__ALIGN_UP(sizeof *t, 64));
    if (t == NULL) return RA_ENOMEM;
    memset(t, 0, sizeof *t);
    p->ts = t;
    /* magazines of capacity/64 blocks (1 .. 1024): a depot exchange costs a few cache misses
       between cores, and big magazines amortise them (docs/allocators.md) */
    uint32_t ms = p->capacity / 64;
    t->msize = ms < 1 ? 1 : ms > RA__MAG_MAX ? RA__MAG_MAX : ms;
    t->ncaches = cfg->threads ? cfg->threads : RA_POOL_DEFAULT_THREADS;
    if (t->ncaches > 4096) return RA_EINVAL;
    uint64_t nm = 2ull * t->ncaches + (p->capacity + t->msize - 1) / t->msize + 1;
    t->nmags = (uint32_t)nm;
    t->mstride = RA__ALIGN_UP(sizeof(struct ra__mag) + t->msize * sizeof(void *), 64u);
    /* not zeroed as a whole: a large allocation comes as untouched pages, and the slots of a
       magazine are only touched when a thread fills it (caches of threads that never come cost
       address space, not memory) */
    if (posix_memalign((void **)&t->mags, 64, nm * t->mstride) != 0) t->mags = NULL;
    t->lnext = calloc(p->capacity, sizeof *t->lnext);
    t->caches = aligned_alloc(64, t->ncaches * sizeof *t->caches);
    if (t->mags == NULL || t->lnext == NULL || t->caches == NULL) return RA_ENOMEM;
    for (uint32_t i = 0; i < t->nmags; i++) {
        struct ra__mag *m = ra__mag_at(t, i);
        atomic_init(&m->next, 0); /* not shared yet: published by the release push below */
        m->n = 0;
    }
    memset(t->caches, 0, t->ncaches * sizeof *t->caches);
    for (uint32_t i = 0; i < t->ncaches; i++) {
        t->caches[i].loaded = ra__mag_at(t, 2 * i);
        t->caches[i].prev = ra__mag_at(t, 2 * i + 1);
    }
    for (uint32_t i = t->nmags; i > 2 * t->ncaches; i--)
        ra__mag_push(&t->empty_top, t, ra__mag_at(t, i - 1));
    return ra__reg_add(p);
}

static void ra__ts_destroy(struct ra__ts *t)
{
    if (t == NULL) return;
    free(t->mags);
    free((void *)t->lnext);
    free(t->caches);
    free(t);
}

RA_API int ra_pool_create(ra_pool **out, const ra_pool_config *cfg)
{
    if (out == NULL) return RA_EINVAL;
    *out = NULL;
    size_t align, stride;
    const uint32_t known =
        RA_POOL_THREADSAFE | RA_POOL_DEBUG | RA_POOL_HUGEPAGES | RA_POOL_PREFAULT;
    if (cfg == NULL || !ra__geometry(cfg, &align, &stride) || (cfg->flags & ~known) ||
        cfg->on_empty < RA_ON_EMPTY_NULL || cfg->on_empty > RA_ON_EMPTY_ABORT)
        return RA_EINVAL;
    size_t cap = cfg->capacity;
    unsigned char *area = NULL;
    if (cfg->mem != NULL) {
        uintptr_t m = (uintptr_t)cfg->mem, a = RA__ALIGN_UP(m, align);
        if (cfg->mem_len < a - m) return RA_EINVAL;
        size_t room = (cfg->mem_len - (a - m)) / stride;
        if (cap == 0) cap = room;
        if (cap > room) return RA_EINVAL;
        area = (unsigned char *)a;
    }
    if (cap == 0 || cap >= UINT32_MAX || cap > SIZE_MAX / stride) return RA_EINVAL;

    ra_pool *p = aligned_alloc(64, RA__ALIGN_UP(sizeof *p, 64));
    if (p == NULL) return RA_ENOMEM;
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->fb_lock, NULL);
    ra__set_name(p->name, cfg->name, "pool");
    p->capacity = (uint32_t)cap;
    p->stride = stride;
    p->block_size = cfg->block_size;
    p->align = align;
    p->flags = cfg->flags;
    p->on_empty = cfg->on_empty;
    p->debug = (cfg->flags & RA_POOL_DEBUG) != 0;
    p->mem_len = cap * stride;
    int rc = RA_ENOMEM;
    if (area == NULL) {
        uint32_t opts = (cfg->flags & RA_POOL_HUGEPAGES) ? RA__MEM_HUGE : 0;
        if (cfg->flags & RA_POOL_PREFAULT) opts |= RA__MEM_PREFAULT;
        if (!ra__mem_get(&p->mem, p->mem_len, align < 64 ? 64 : align, opts)) goto fail;
        area = p->mem.base;
    } else if (cfg->flags & RA_POOL_PREFAULT) {
        ra__mem_prefault(area, p->mem_len);
    }
    p->blocks = area;

    if (p->debug) {
        p->state = calloc(cap, sizeof *p->state);
        if (p->state == NULL) goto fail;
    }
    bool sanitized = RA__ASAN_ON || RA__ON_VALGRIND();
    p->checked = p->debug || sanitized;
    if (cfg->flags & RA_POOL_THREADSAFE) {
        if ((rc = ra__ts_create(p, cfg)) != RA_OK) goto fail;
        p->ts_fast = !p->checked;
        p->ts_msize = p->ts->msize;
    } else {
        p->stack = malloc(cap * sizeof(void *));
        if (p->stack == NULL) goto fail;
        /* the inline stack packs its pointer in 48 bits: true of user space on x86-64 and arm64
           Linux; elsewhere the pool simply runs out of line */
        p->fast = !p->checked && ((uintptr_t)(p->stack + cap) >> RA__POOL_PTR_BITS) == 0;
        if (p->fast) {
            p->hot.top = (uint64_t)(uintptr_t)p->stack;
            p->hot.lo = p->stack;
            p->hot.hi = p->stack + cap;
            p->hot.base = (uintptr_t)area;
            p->hot.span = p->mem_len;
        }
    }
    RA__VG_CREATE_POOL(p);
    RA__VG_NOACCESS(area, p->mem_len);
    RA__POISON(area, p->mem_len);
    *out = p;
    return RA_OK;
fail:
    if (p->ts && p->ts_instance) ra__reg_remove(p);
    ra__ts_destroy(p->ts);
    free(p->stack);
    free((void *)p->state);
    ra__mem_put(&p->mem);
    pthread_mutex_destroy(&p->fb_lock);
    free(p);
    return rc;
}

RA_API void ra_pool_destroy(ra_pool *p)
{
    if (p == NULL) return;
    if (p->ts) ra__reg_remove(p);
    RA__VG_DESTROY_POOL(p);
    RA__UNPOISON(p->blocks, p->mem_len);
    RA__VG_UNDEFINED(p->blocks, p->mem_len);
    ra__ts_destroy(p->ts);
    free(p->stack);
    free((void *)p->state);
    free(p->fb);
    ra__mem_put(&p->mem);
    pthread_mutex_destroy(&p->fb_lock);
    free(p);
}

/* ---- queries ----------------------------------------------------------------------------------
 */

RA_API bool ra_pool_owns(const ra_pool *p, const void *ptr)
{
    return p != NULL && ptr != NULL && ra__inside(p, ptr);
}

RA_API size_t ra_pool_block_size(const ra_pool *p)
{
    return p->stride;
}

RA_API const char *ra_pool_name(const ra_pool *p)
{
    return p->name;
}

RA_API void ra_pool_thread_flush(ra_pool *p)
{
    if (p == NULL || p->ts == NULL) return;
    struct ra__tcache *c = ra__ts_cache(p);
    if (c != NULL) ra__ts_flush(p, c);
}

static void ra__pool_counts(const ra_pool *p, uint64_t *allocs, uint64_t *frees)
{
    uint64_t a = ra__get(&p->ov_allocs) + ra__get(&p->fallbacks);
    uint64_t f = ra__get(&p->ov_frees) + ra__get(&p->fallback_frees);
    if (p->ts) {
        for (uint32_t i = 0; i < p->ts->ncaches; i++) {
            a += ra__get(&p->ts->caches[i].allocs);
            f += ra__get(&p->ts->caches[i].frees);
        }
    } else {
        /* frees are not counted on the fast path: every pool block that is neither free nor
           virgin is in use */
        uint64_t pa, free_now;
        if (p->fast) {
            pa = p->hot.allocs_hi + (p->hot.top >> RA__POOL_PTR_BITS);
            free_now = (uint64_t)(ra__top(&p->hot) - p->hot.lo);
        } else {
            pa = p->callocs;
            free_now = p->cn;
        }
        uint64_t in_use = p->carved >= free_now ? p->carved - free_now : 0;
        a += pa;
        f += pa >= in_use ? pa - in_use : 0;
    }
    *allocs = a;
    *frees = f;
}

static uint64_t ra__pool_in_use(const ra_pool *p)
{
    uint64_t a, f;
    ra__pool_counts(p, &a, &f);
    return a >= f ? a - f : 0;
}

RA_API void ra_pool_get_stats(const ra_pool *p, ra_pool_stats *s)
{
    memset(s, 0, sizeof *s);
    ra__pool_counts(p, &s->allocs, &s->frees);
    /* concurrent frees may be counted before the matching allocs were: clamp */
    s->in_use = s->allocs >= s->frees ? s->allocs - s->frees : 0;
    uint64_t carved = p->ts ? ra__get(&p->ts->carved) : p->carved;
    if (carved > p->capacity) carved = p->capacity;
    uint64_t hw = ra__get(&p->hw_slow);
    s->high_water = carved > hw ? carved : hw;
    s->fallbacks = ra__get(&p->fallbacks);
    s->fallback_frees = ra__get(&p->fallback_frees);
    s->failed = ra__get(&p->failed);
    s->capacity = p->capacity;
    s->block_size = p->stride;
    s->align = p->align;
    s->bytes_reserved = p->mem_len;
    s->threadsafe = p->ts != NULL;
    s->hugepages = p->mem.huge;
    s->hugepages_fallback = p->mem.huge_fallback;
}
