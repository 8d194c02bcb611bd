/* arena.h - bump allocator in chunks: marks, bulk reset, limits, one arena per thread */
#ifndef RINGALLOC_ARENA_H
#define RINGALLOC_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The contract, in brief (docs/allocators.md).
 *
 * - ra_arena_alloc() bumps a pointer in the active chunk; nothing is freed one by one. Memory is
 *   given back all at once by ra_arena_reset() (which keeps the largest chunk for the next round)
 *   or back to a mark by ra_arena_rewind().
 * - Chunks: the first one is the caller's buffer (cfg->mem) when given, else chunk_size bytes from
 *   the heap taken at create. Each further chunk is twice the previous one, capped at
 *   max_chunk_size. A request that does not fit a regular chunk gets a chunk of its own (the
 *   active chunk stays active).
 * - max_bytes caps the bytes of all chunks held (caller buffer included): an allocation that
 *   would need more returns NULL and is counted in `failed`. A new chunk is shrunk to the room
 *   left under the cap when that still fits the request.
 * - Alignment: any power of two up to 4096 (0 means 16).
 * - Under AddressSanitizer, the unused part of every chunk, and whatever reset or rewind gives
 *   back, is poisoned; under Valgrind it is marked inaccessible the same way.
 * - An arena is used by one thread at a time. The per-thread helper below gives each thread its
 *   own arena and publishes per-thread metrics for other threads to read.
 * ------------------------------------------------------------------------------------------- */

typedef struct ra_arena ra_arena;

enum ra_arena_flags {
    RA_ARENA_PREFAULT = 1u << 0,  /* touch every page of each chunk when it is obtained */
    RA_ARENA_HUGEPAGES = 1u << 1, /* chunks in huge pages when available (else normal pages) */
};

#define RA_ARENA_DEFAULT_CHUNK     (64u * 1024)        /* chunk_size 0 means this */
#define RA_ARENA_DEFAULT_MAX_CHUNK (16u * 1024 * 1024) /* max_chunk_size 0 means this */
#define RA_ARENA_MAX_ALIGN         4096u

typedef struct ra_arena_config {
    size_t chunk_size;     /* first heap chunk, bytes (0: 64 KiB) */
    size_t max_bytes;      /* cap on bytes held, 0 = no limit */
    uint32_t flags;        /* enum ra_arena_flags */
    void *mem;             /* optional caller buffer: the first chunk (never freed by the arena) */
    size_t mem_len;        /* its length */
    size_t max_chunk_size; /* growth cap for regular chunks (0: 16 MiB, at least chunk_size) */
    const char *name;      /* optional, for stats; copied (NULL: "arena") */
} ra_arena_config;

typedef struct ra_arena_stats {
    uint64_t bytes_used;     /* bytes handed out since the last reset, alignment padding included */
    uint64_t bytes_reserved; /* bytes of the chunks held (caller buffer and kept chunk included) */
    uint64_t chunks;         /* chunks held */
    uint64_t resets;         /* ra_arena_reset() calls */
    uint64_t rewinds;        /* ra_arena_rewind() calls that moved the arena back */
    uint64_t high_water;     /* peak bytes_used */
    uint64_t failed;         /* ra_arena_alloc() returned NULL (limit, bad alignment, no memory) */
    uint64_t allocs;         /* successful ra_arena_alloc() calls */
    uint64_t max_bytes;      /* the limit (0: none) */
} ra_arena_stats;

/* A position to rewind to. Private fields: compare nothing, only pass it to ra_arena_rewind(). */
typedef struct ra_arena_mark {
    uint64_t head_seq;   /* newest chunk at save time */
    uint64_t active_seq; /* active chunk at save time */
    uintptr_t pos;       /* bump position in it */
    uint64_t used;       /* bytes used in the other chunks */
    uint64_t epoch;      /* resets at save time */
} ra_arena_mark;

/*! ra_arena_create() : makes an arena and takes its first chunk.
 * @return RA_OK and *out set; RA_EINVAL (unknown flags, mem without mem_len, a caller buffer
 *         larger than max_bytes, or max_bytes too small for any heap chunk; a heap first chunk
 *         larger than max_bytes is shrunk to it) or RA_ENOMEM; *out is NULL on failure. */
RA_API int ra_arena_create(ra_arena **out, const ra_arena_config *cfg);

/*! ra_arena_destroy() : frees every chunk (not the caller buffer). NULL is accepted.
 * @return nothing; cannot fail. */
RA_API void ra_arena_destroy(ra_arena *a);

/*! ra_arena_alloc() : size bytes aligned to align (0 means 16; a power of two <= 4096). Size 0
 * gives a valid pointer that may equal the next allocation.
 * @return the memory (uninitialised), or NULL (counted in `failed`) when align is invalid, when
 *         max_bytes would be exceeded, or when the system is out of memory. */
RA_API inline void *ra_arena_alloc(ra_arena *a, size_t size, size_t align);

/*! ra_arena_save() : the current position, for ra_arena_rewind().
 * @return the mark; cannot fail. */
RA_API ra_arena_mark ra_arena_save(const ra_arena *a);

/*! ra_arena_rewind() : frees everything allocated since mark m was saved (chunks obtained since
 * are released, the largest kept for reuse). A mark that no longer names a live position is
 * ignored: taken before a reset, its chunks released by a rewind to an earlier mark, ahead of
 * the current position, or from another arena.
 * @return nothing; check ra_arena_stats.rewinds to learn whether it took effect. */
RA_API void ra_arena_rewind(ra_arena *a, ra_arena_mark m);

/*! ra_arena_reset() : frees everything at once; keeps the caller buffer and the largest heap
 * chunk, so a steady-state session allocates no chunk again.
 * @return nothing; cannot fail (it only gives memory back). */
RA_API void ra_arena_reset(ra_arena *a);

/*! ra_arena_name() : the arena's name. @return a string owned by the arena; never NULL. */
RA_API const char *ra_arena_name(const ra_arena *a);

/*! ra_arena_get_stats() : a snapshot (the arena's own thread; see the per-thread helper for
 * metrics read from other threads).
 * @return nothing; *s is always filled. */
RA_API void ra_arena_get_stats(const ra_arena *a, ra_arena_stats *s);

/* ---- one arena per thread ------------------------------------------------------------------ *
 * The pattern: each trading thread allocates session data from its own arena, resets it at the
 * end of each session, and a metrics thread reports every thread's arena. The arena is created
 * on the thread's first ra_arena_thread() call and destroyed at thread exit (or by
 * ra_arena_thread_destroy()). Metrics are snapshots that the owning thread publishes at each
 * reset (and with ra_arena_thread_publish()), so readers never race with its allocations. */

typedef struct ra_arena_thread_info {
    char name[32];        /* the arena's name: "<cfg name or 'thread'>-<tid>" */
    uint64_t thread_id;   /* the kernel thread id */
    uint64_t sessions;    /* ra_arena_thread_reset() calls */
    ra_arena_stats stats; /* as of the last publish; bytes_used/high_water of that session */
} ra_arena_thread_info;

/*! ra_arena_thread() : the calling thread's arena, created with cfg (NULL: defaults) on the first
 * call; later calls ignore cfg.
 * @return the arena, or NULL when it cannot be created (bad cfg or out of memory). */
RA_API ra_arena *ra_arena_thread(const ra_arena_config *cfg);

/*! ra_arena_thread_reset() : end of session for the calling thread: publishes its arena's stats
 * (with the session's peak) and resets it. No effect when the thread has no arena.
 * @return nothing; cannot fail. */
RA_API void ra_arena_thread_reset(void);

/*! ra_arena_thread_publish() : publishes the calling thread's arena stats without resetting.
 * @return nothing; cannot fail (no effect without an arena). */
RA_API void ra_arena_thread_publish(void);

/*! ra_arena_thread_destroy() : destroys the calling thread's arena now (also done at exit).
 * @return nothing; cannot fail (no effect without an arena). */
RA_API void ra_arena_thread_destroy(void);

/*! ra_arena_thread_foreach() : calls fn with the published metrics of every live thread arena
 * (under a lock: fn must not call the ra_arena_thread_* functions). Any thread.
 * @return the number of arenas visited. */
RA_API size_t ra_arena_thread_foreach(void (*fn)(const ra_arena_thread_info *ti, void *ctx),
                                      void *ctx);

/* ---- the inline fast path ------------------------------------------------------------------
 * Private. Every ra_arena starts with this struct. `lim` is the end of the active chunk, or 0
 * when the out-of-line path must run every time (ASan/Valgrind poisoning). */
struct ra__arena_hot {
    uintptr_t cur;   /* next free byte of the active chunk */
    uintptr_t lim;   /* end of the active chunk (fast mode), else 0 */
    uint64_t allocs; /* successful allocations */
};

RA_API void *ra__arena_alloc_slow(ra_arena *a, size_t size, size_t align);

/* C99 inline definition: arena.c emits the exported copy (see pool.h). */
RA_API inline void *ra_arena_alloc(ra_arena *a, size_t size, size_t align)
{
    struct ra__arena_hot *h = (struct ra__arena_hot *)(void *)a;
    size_t al = align ? align : 16;
    uintptr_t p = (h->cur + al - 1) & ~(uintptr_t)(al - 1);
    if (__builtin_expect((al & (al - 1)) == 0 && al <= RA_ARENA_MAX_ALIGN && p < h->lim &&
                             size <= h->lim - p,
                         1)) {
        h->cur = p + size;
        h->allocs++;
        return (void *)p;
    }
    return ra__arena_alloc_slow(a, size, align);
}

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_ARENA_H */
