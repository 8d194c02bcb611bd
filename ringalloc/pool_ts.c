/* pool_ts.c - the thread-safe pool: per-thread magazines over a lock-free, ABA-proof depot */
/*
 * Design notes (pool.c has the layout and the single-threaded core)
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
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

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

void *ra__ts_alloc(ra_pool *p)
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

void ra__ts_free(ra_pool *p, void *b)
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

/* ---- the out-of-line paths -------------------------------------------------------------------
 * ra__pool_alloc_slow/free_slow are what the inline code of pool.h calls. A thread-safe pool
 * without checks takes the lean path (TLS lookup, one magazine pop or push) with no stack frame
 * to speak of; everything else - refills, attach, exhaustion, checks, single-threaded carving -
 * is in the cold functions of pool.c. */

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
    return ra__pool_alloc_cold(p);
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
    ra__pool_free_cold(p, b);
}

/* ---- create / destroy -------------------------------------------------------------------------
 */

int ra__ts_create(ra_pool *p, const ra_pool_config *cfg)
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

void ra__ts_destroy(ra_pool *p)
{
    struct ra__ts *t = p->ts;
    if (t == NULL) return;
    if (p->ts_instance != 0) ra__reg_remove(p);
    free(t->mags);
    free((void *)t->lnext);
    free(t->caches);
    free(t);
    p->ts = NULL;
}

void ra__ts_thread_flush(ra_pool *p)
{
    struct ra__tcache *c = ra__ts_cache(p);
    if (c != NULL) ra__ts_flush(p, c);
}

void ra__ts_counts(const ra_pool *p, uint64_t *allocs, uint64_t *frees)
{
    for (uint32_t i = 0; i < p->ts->ncaches; i++) {
        *allocs += ra__get(&p->ts->caches[i].allocs);
        *frees += ra__get(&p->ts->caches[i].frees);
    }
}
