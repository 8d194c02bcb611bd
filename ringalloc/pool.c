/* pool.c - fixed-size block pool: the single-threaded core, create/destroy, debug checks, stats */
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
 * ra__pool_alloc_slow() / ra__pool_free_slow() (pool_ts.c): a lean path for thread-safe pools,
 * and the cold functions here for the rest (checks, poisoning, carving, exhaustion). pool.c is
 * the one translation unit that emits the exported copies of the inline functions.
 *
 * Thread-safe pools: pool_ts.c (magazines, depot, per-thread lookup, memory ordering).
 *
 * Memory. The block area is a region of the OS-memory layer (osmem.c): the heap, huge pages with
 * their fallback, or the caller's memory; the pool struct and the free stack are ordinary heap.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pool_int.h"

/* The exported out-of-line copies of the inline fast paths of pool.h (see the note there). */
extern void *ra_pool_alloc(ra_pool *p);
extern void ra_pool_free(ra_pool *p, void *block);

enum { RA__VIRGIN = 0, RA__INUSE = 1, RA__FREED = 2 }; /* debug block states */

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

/* ---- the cold out-of-line paths (ra__pool_alloc_slow/free_slow in pool_ts.c end here) ------- */

void *ra__pool_alloc_cold(ra_pool *p)
{
    void *b = p->ts ? ra__ts_alloc(p) : ra__st_alloc(p);
    if (b == NULL) return ra__on_empty(p);
    if (p->checked) ra__hand_out(p, b);
    return b;
}

void ra__pool_free_cold(ra_pool *p, void *b)
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

/* The block area: the caller's memory (area != NULL) or a region of the OS-memory layer. */
static bool ra__pool_area(ra_pool *p, unsigned char *area)
{
    uint32_t opts = (p->flags & RA_POOL_PREFAULT) ? RA__REGION_PREFAULT : 0;
    if (area != NULL) {
        ra__region_wrap(&p->mem, area, p->mem_len, opts);
    } else {
        if (p->flags & RA_POOL_HUGEPAGES) opts |= RA__REGION_HUGE;
        if (!ra__region_get(&p->mem, p->mem_len, p->align < 64 ? 64 : p->align, opts)) return false;
    }
    p->blocks = p->mem.base;
    return true;
}

/* The debug states and the engine: magazines (thread-safe) or the free stack. */
static int ra__pool_engine(ra_pool *p, const ra_pool_config *cfg)
{
    size_t cap = p->capacity;
    if (p->debug) {
        p->state = calloc(cap, sizeof *p->state);
        if (p->state == NULL) return RA_ENOMEM;
    }
    bool sanitized = RA__ASAN_ON || RA__ON_VALGRIND();
    p->checked = p->debug || sanitized;
    if (cfg->flags & RA_POOL_THREADSAFE) {
        int rc = ra__ts_create(p, cfg);
        if (rc != RA_OK) return rc;
        p->ts_fast = !p->checked;
        p->ts_msize = p->ts->msize;
        return RA_OK;
    }
    p->stack = malloc(cap * sizeof(void *));
    if (p->stack == NULL) return RA_ENOMEM;
    /* the inline stack packs its pointer in 48 bits: true of user space on x86-64 and arm64
       Linux; elsewhere the pool simply runs out of line */
    p->fast = !p->checked && ((uintptr_t)(p->stack + cap) >> RA__POOL_PTR_BITS) == 0;
    if (p->fast) {
        p->hot.top = (uint64_t)(uintptr_t)p->stack;
        p->hot.lo = p->stack;
        p->hot.hi = p->stack + cap;
        p->hot.base = (uintptr_t)p->blocks;
        p->hot.span = p->mem_len;
    }
    return RA_OK;
}

/* Frees what p holds, and p (a failed create too: every field it did not reach is zero). */
static void ra__pool_release(ra_pool *p)
{
    ra__ts_destroy(p);
    free(p->stack);
    free((void *)p->state);
    free(p->fb);
    ra__region_put(&p->mem);
    pthread_mutex_destroy(&p->fb_lock);
    free(p);
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
    int rc = ra__pool_area(p, area) ? ra__pool_engine(p, cfg) : RA_ENOMEM;
    if (rc != RA_OK) {
        ra__pool_release(p);
        return rc;
    }
    RA__VG_CREATE_POOL(p);
    RA__VG_NOACCESS(p->blocks, p->mem_len);
    RA__POISON(p->blocks, p->mem_len);
    *out = p;
    return RA_OK;
}

RA_API void ra_pool_destroy(ra_pool *p)
{
    if (p == NULL) return;
    ra__ts_destroy(p); /* first: unregistered, no exiting thread flushes into it any more */
    RA__VG_DESTROY_POOL(p);
    RA__UNPOISON(p->blocks, p->mem_len);
    RA__VG_UNDEFINED(p->blocks, p->mem_len);
    ra__pool_release(p);
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
    ra__ts_thread_flush(p);
}

static void ra__pool_counts(const ra_pool *p, uint64_t *allocs, uint64_t *frees)
{
    uint64_t a = ra__get(&p->ov_allocs) + ra__get(&p->fallbacks);
    uint64_t f = ra__get(&p->ov_frees) + ra__get(&p->fallback_frees);
    if (p->ts) {
        ra__ts_counts(p, &a, &f);
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
