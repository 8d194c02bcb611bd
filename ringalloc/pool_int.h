/* pool_int.h - internal: the pool's layout, shared by pool.c (core) and pool_ts.c (magazines) */
#ifndef RINGALLOC_POOL_INT_H
#define RINGALLOC_POOL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringalloc/pool.h"
#include "alloc_mem.h"
#include "atomics.h"

#define RA__MAG_MAX 1024u /* largest magazine (blocks) */
#define RA__NONE    UINT32_MAX

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
    struct ra__region mem; /* the block area (RA__REGION_CALLER for caller memory) */
    char name[RA_POOL_NAME_MAX + 1];
};

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

/* ---- pool.c: the paths every pool shares ---- */

/* Everything but the thread-safe lean path: refills, attach, exhaustion, checks, carving. */
__attribute__((noinline)) void *ra__pool_alloc_cold(ra_pool *p);
/* The same for free (NULL is accepted). */
__attribute__((noinline)) void ra__pool_free_cold(ra_pool *p, void *b);

/* ---- pool_ts.c: the thread-safe magazine layer ---- */

/* Makes p's magazines, depot and caches and registers p; RA_OK, RA_EINVAL or RA_ENOMEM (then
   ra__ts_destroy undoes what was done). */
int ra__ts_create(ra_pool *p, const ra_pool_config *cfg);
/* Unregisters p and frees its thread-safe engine (none: no-op). */
void ra__ts_destroy(ra_pool *p);
/* A block from this thread's cache, the depot or the area; NULL when none is left. */
void *ra__ts_alloc(ra_pool *p);
/* Gives a pool block back to this thread's cache (or the depot). */
void ra__ts_free(ra_pool *p, void *b);
/* Hands this thread's cached blocks of p back to the depot. */
void ra__ts_thread_flush(ra_pool *p);
/* Adds the per-thread allocation and free counts to *allocs and *frees. */
void ra__ts_counts(const ra_pool *p, uint64_t *allocs, uint64_t *frees);

#endif /* RINGALLOC_POOL_INT_H */
