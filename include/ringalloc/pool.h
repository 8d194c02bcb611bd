/* pool.h - fixed-size block pool: deterministic capacity, O(1) alloc/free, optional thread safety
 */
#ifndef RINGALLOC_POOL_H
#define RINGALLOC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The contract, in brief (docs/allocators.md has the design and the memory-ordering argument).
 *
 * - A pool hands out blocks of one size (block_size rounded up to a multiple of the alignment),
 *   each aligned to `align`. The number of blocks is fixed at create; the block memory comes from
 *   the heap, from the caller, or from huge pages (RA_POOL_HUGEPAGES, falling back to normal
 *   pages when none are available: see ra_pool_stats.hugepages / hugepages_fallback).
 * - ra_pool_alloc()/ra_pool_free() make no system call. Blocks are carved from the block area
 *   lazily (the first time the free list runs dry), so an untouched pool costs no page faults
 *   unless RA_POOL_PREFAULT asks for them to be taken at create.
 * - Free blocks are kept in a side array (or, thread-safe, in magazines of pointers): the pool
 *   never reads or writes a free block, so a use-after-free cannot corrupt the pool itself.
 * - When no block is left, `on_empty` decides: RA_ON_EMPTY_NULL returns NULL (counted in
 *   `failed`), RA_ON_EMPTY_SYSTEM returns an aligned malloc block (counted in `fallbacks`;
 *   ra_pool_free() accepts it), RA_ON_EMPTY_ABORT prints a message naming the pool and aborts.
 * - Threading: without RA_POOL_THREADSAFE a pool is used by one thread at a time (no atomics).
 *   With it, any thread may allocate and free, including freeing blocks allocated elsewhere:
 *   each thread works on its own cache of two magazines and trades whole magazines with a
 *   lock-free depot (index + generation in one 64-bit CAS, so ABA-proof). Up to 2 magazines of
 *   free blocks can sit in each thread's cache: another thread may see the pool empty while they
 *   do (ra_pool_thread_flush() hands them back). The first call on a thread attaches it (one
 *   allocation of a small table); thread exit returns its cache.
 * - RA_POOL_DEBUG: a double free, a pointer not from this pool, or a pointer that is not the start
 *   of a block is reported on stderr (naming the pool) and aborts; freed blocks are filled with
 *   RA_POOL_FREE_FILL and checked when handed out again (a write after free aborts).
 * - Under AddressSanitizer free blocks are poisoned (a use-after-free of a pooled block is
 *   reported); under Valgrind the mempool client requests do the same.
 * ------------------------------------------------------------------------------------------- */

typedef struct ra_pool ra_pool;

enum ra_pool_flags {
    RA_POOL_THREADSAFE = 1u << 0, /* any thread may alloc/free (per-thread caches over a depot) */
    RA_POOL_DEBUG = 1u << 1,      /* detect double/foreign/misaligned frees, fill freed blocks */
    RA_POOL_HUGEPAGES = 1u << 2,  /* block area in huge pages when available (else normal) */
    RA_POOL_PREFAULT = 1u << 3,   /* touch every page at create: no page fault on the hot path */
};

enum ra_on_empty {
    RA_ON_EMPTY_NULL = 0,   /* ra_pool_alloc() returns NULL (default; counted in `failed`) */
    RA_ON_EMPTY_SYSTEM = 1, /* fall back to aligned malloc (counted in `fallbacks`) */
    RA_ON_EMPTY_ABORT = 2,  /* print "ringalloc: pool 'NAME' exhausted ..." and abort() */
};

#define RA_POOL_DEFAULT_ALIGN   16u   /* align 0 means this */
#define RA_POOL_MAX_ALIGN       4096u /* largest supported alignment */
#define RA_POOL_DEFAULT_THREADS 32u   /* thread caches of a thread-safe pool when threads == 0 */
#define RA_POOL_FREE_FILL       0xDB  /* RA_POOL_DEBUG: byte written over freed blocks */
#define RA_POOL_NAME_MAX        31u   /* longer names are truncated */

typedef struct ra_pool_config {
    size_t block_size; /* bytes per block, >= 1 */
    size_t align;      /* 0 means 16; a power of two <= 4096 */
    size_t capacity;   /* blocks, fixed at create, < 2^32; 0 with `mem`: as many as fit */
    uint32_t flags;    /* enum ra_pool_flags */
    int on_empty;      /* enum ra_on_empty */
    void *mem;         /* optional caller memory for the blocks (not freed by the pool) */
    size_t mem_len;    /* its length: see ra_pool_mem_size() */
    const char *name;  /* optional, for messages and stats; copied (NULL: "pool") */
    uint32_t threads;  /* RA_POOL_THREADSAFE: thread caches (0: RA_POOL_DEFAULT_THREADS); threads
                          beyond it still work, on a slower uncached path */
} ra_pool_config;

typedef struct ra_pool_stats {
    uint64_t allocs;         /* blocks handed out (fallbacks included) */
    uint64_t frees;          /* blocks taken back (fallbacks included) */
    uint64_t in_use;         /* allocs - frees */
    uint64_t high_water;     /* peak of in_use; thread-safe pools: an upper bound (blocks ever
                                handed to a thread cache, or peak seen on a fallback) */
    uint64_t fallbacks;      /* allocations served by malloc because the pool was empty */
    uint64_t fallback_frees; /* of those, freed */
    uint64_t failed;         /* ra_pool_alloc() returned NULL */
    uint64_t capacity;       /* blocks */
    uint64_t block_size;     /* bytes per block as laid out (a multiple of align) */
    uint64_t align;          /* block alignment */
    uint64_t bytes_reserved; /* bytes of block memory (caller memory included) */
    bool threadsafe;         /* RA_POOL_THREADSAFE */
    bool hugepages;          /* the block area lives in huge pages */
    bool hugepages_fallback; /* RA_POOL_HUGEPAGES was asked but none were available */
} ra_pool_stats;

/*! ra_pool_mem_size() : bytes of caller memory (cfg->mem) that a pool of cfg's block_size, align
 * and capacity needs, whatever the memory's own alignment.
 * @return the size, or 0 when block_size, align or capacity is invalid. */
RA_API size_t ra_pool_mem_size(const ra_pool_config *cfg);

/*! ra_pool_create() : makes a pool. Metadata (the free-block array, thread caches) comes from the
 * heap; the blocks from cfg->mem when given, else the heap or huge pages.
 * @return RA_OK and *out set; RA_EINVAL (block_size 0, align not a power of two <= 4096,
 *         capacity 0 or >= 2^32, unknown flags or on_empty, caller memory too small) or
 *         RA_ENOMEM; *out is NULL on failure. */
RA_API int ra_pool_create(ra_pool **out, const ra_pool_config *cfg);

/*! ra_pool_destroy() : frees the pool and its memory (not caller memory, not fallback blocks
 * still in use). No thread may use the pool afterwards. NULL is accepted.
 * @return nothing; cannot fail. */
RA_API void ra_pool_destroy(ra_pool *p);

/*! ra_pool_alloc() : one block (contents unspecified; RA_POOL_FREE_FILL in debug mode).
 * @return the block, or NULL when the pool is empty and on_empty is RA_ON_EMPTY_NULL (or the
 *         fallback malloc failed); never returns with RA_ON_EMPTY_ABORT when empty. */
RA_API inline void *ra_pool_alloc(ra_pool *p);

/*! ra_pool_free() : gives a block back; NULL is ignored. Accepts blocks from the RA_ON_EMPTY_SYSTEM
 * fallback. A pointer outside the pool is reported and aborts when the pool has no fallback
 * blocks to receive; in debug mode double and misaligned frees are reported too.
 * @return nothing; misuse that is detected aborts with a message naming the pool. */
RA_API inline void ra_pool_free(ra_pool *p, void *block);

/*! ra_pool_owns() : whether ptr lies inside the pool's block area (fallback blocks are not).
 * @return true or false; false for NULL. */
RA_API bool ra_pool_owns(const ra_pool *p, const void *ptr);

/*! ra_pool_block_size() : bytes per block as laid out (block_size rounded up to the alignment).
 * @return the size (never 0 for a valid pool). */
RA_API size_t ra_pool_block_size(const ra_pool *p);

/*! ra_pool_name() : the pool's name. @return a string owned by the pool; never NULL. */
RA_API const char *ra_pool_name(const ra_pool *p);

/*! ra_pool_thread_flush() : thread-safe pools: hands the free blocks cached by the calling thread
 * back to the shared depot, so that other threads can get them. Other pools: no effect.
 * @return nothing; cannot fail (the thread keeps its cache, emptied). */
RA_API void ra_pool_thread_flush(ra_pool *p);

/*! ra_pool_get_stats() : a snapshot. Thread-safe pools: any thread (per-thread counters are
 * summed; exact when the pool is quiescent). Other pools: the thread that uses the pool.
 * @return nothing; *s is always filled. */
RA_API void ra_pool_get_stats(const ra_pool *p, ra_pool_stats *s);

/* ---- the inline fast path ------------------------------------------------------------------
 * Private. Every ra_pool starts with this struct. For a single-threaded, non-debug pool outside
 * sanitizers/Valgrind, alloc and free are a few instructions inline on a LIFO stack of free
 * blocks. `top` packs the stack pointer (low 48 bits: user-space addresses on x86-64 and arm64;
 * ra_pool_create checks) with the number of allocations modulo 2^16 (high 16 bits), so that an
 * alloc moves the pointer and counts itself with one add; frees are not counted but derived.
 * For every other pool `top`, `lo` and `span` are 0 so the inline code always takes the
 * out-of-line path, which does the checks, the atomics or the poisoning. */
#define RA__POOL_PTR_BITS 48
#define RA__POOL_PTR_MASK ((UINT64_C(1) << RA__POOL_PTR_BITS) - 1)

struct ra__pool_hot {
    uint64_t top;   /* one past the newest free block (low 48 bits) | allocs mod 2^16 */
    void **lo;      /* bottom of the stack: empty when top points here */
    void **hi;      /* end of the stack: a free that would pass it is a double free */
    uintptr_t base; /* first block */
    uintptr_t span; /* capacity * block size in fast mode, else 0 (every free goes out of line) */
    uint64_t allocs_hi; /* allocs: the multiples of 2^16 (the rest is in top) */
};

RA_API void *ra__pool_alloc_slow(ra_pool *p);
RA_API void ra__pool_free_slow(ra_pool *p, void *block);

/* C99 inline definitions (every declaration in this header says `inline`, so no translation unit
 * but pool.c, which redeclares them `extern`, emits a symbol): callers inline the fast path and
 * the library still exports ra_pool_alloc/ra_pool_free for FFI and -O0 callers. */
RA_API inline void *ra_pool_alloc(ra_pool *p)
{
    struct ra__pool_hot *h = (struct ra__pool_hot *)(void *)p;
    uint64_t st = h->top;
    void **t = (void **)(uintptr_t)(st & RA__POOL_PTR_MASK);
    if (__builtin_expect(t != h->lo, 1)) {
        /* pop and count in one add: pointer - 8, count + 1 (carrying out of 16 bits: fold) */
        st += (UINT64_C(1) << RA__POOL_PTR_BITS) - sizeof(void *);
        h->top = st;
        if (__builtin_expect((st >> RA__POOL_PTR_BITS) == 0, 0))
            h->allocs_hi += UINT64_C(1) << (64 - RA__POOL_PTR_BITS);
        return t[-1];
    }
    return ra__pool_alloc_slow(p);
}

RA_API inline void ra_pool_free(ra_pool *p, void *block)
{
    struct ra__pool_hot *h = (struct ra__pool_hot *)(void *)p;
    uint64_t st = h->top;
    void **t = (void **)(uintptr_t)(st & RA__POOL_PTR_MASK);
    /* one unsigned compare covers "inside the block area" (and "fast mode": span is 0 otherwise);
       t != hi stops a double free from overrunning the stack (reported out of line) */
    if (__builtin_expect((uintptr_t)block - h->base < h->span && t != h->hi, 1)) {
        *t = block;
        h->top = st + sizeof(void *);
        return;
    }
    ra__pool_free_slow(p, block);
}

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_POOL_H */
