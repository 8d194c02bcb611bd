/* slab.h - size-class allocator: one pool per class, larger requests to malloc, free without size
 */
#ifndef RINGALLOC_SLAB_H
#define RINGALLOC_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/pool.h"
#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The contract, in brief (docs/allocators.md).
 *
 * - Size classes run from min_size to max_size: multiples of 16, `classes_per_doubling` of them
 *   between two powers of two (1: 16, 32, 64, ...; 4, the default: 16, 32, 48, 64, 80, 96, 112,
 *   128, 160, 192, ...; a step that is not a multiple of 16 is rounded up to one, so 3 gives 256,
 *   352, 448 between 256 and 512), the last one exactly max_size rounded up to 16. Each class is
 *   a ra_pool of blocks_per_class blocks; all classes share one memory area (heap or huge pages).
 * - ra_slab_alloc(size) takes the smallest class that fits; size 0 gets the smallest class.
 *   Every block is 16-byte aligned. Requests above max_size go to malloc ("large", counted).
 * - When a class is empty, `on_empty` decides as for a pool: NULL (counted in `failed`), malloc
 *   (counted in `fallbacks`), or abort with a message naming the slab and the class.
 * - ra_slab_free() needs no size: an address inside the area maps to its class through a page
 *   table; large and fallback blocks carry a 32-byte header that names them. A pointer that is
 *   neither is reported and aborts.
 * - Flags are the pool's: RA_POOL_THREADSAFE makes every class thread-safe (and the large
 *   counters atomic), RA_POOL_DEBUG checks every free, RA_POOL_HUGEPAGES / RA_POOL_PREFAULT
 *   apply to the shared area.
 * ------------------------------------------------------------------------------------------- */

typedef struct ra_slab ra_slab;

#define RA_SLAB_MAX_CLASSES 96u        /* most size classes a slab can have */
#define RA_SLAB_MAX_SIZE    (1u << 20) /* largest max_size: 1 MiB */
#define RA_SLAB_DEFAULT_CPD 4u         /* classes per doubling when 0 is given */
#define RA_SLAB_LARGE_HDR   32u        /* bytes of header in front of large/fallback blocks */

typedef struct ra_slab_config {
    size_t min_size;               /* smallest class (rounded up to 16), >= 1 */
    size_t max_size;               /* largest class, >= min_size, <= RA_SLAB_MAX_SIZE */
    size_t blocks_per_class;       /* capacity of each class pool */
    uint32_t flags;                /* enum ra_pool_flags */
    int on_empty;                  /* enum ra_on_empty, for an exhausted class */
    uint32_t classes_per_doubling; /* 1 (powers of two) .. 16; 0: RA_SLAB_DEFAULT_CPD */
    const char *name;              /* optional, for messages and stats; copied (NULL: "slab") */
    uint32_t threads;              /* RA_POOL_THREADSAFE: thread caches per class (0: default) */
} ra_slab_config;

typedef struct ra_slab_class_stats {
    uint64_t size;           /* block size of the class */
    uint64_t capacity;       /* blocks */
    uint64_t allocs;         /* blocks handed out from the class pool */
    uint64_t frees;          /* blocks given back to it */
    uint64_t in_use;         /* allocs - frees */
    uint64_t high_water;     /* peak in_use (see ra_pool_stats.high_water) */
    uint64_t failed;         /* class exhausted, NULL returned */
    uint64_t fallbacks;      /* class exhausted, served by malloc */
    uint64_t fallback_frees; /* of those, freed */
} ra_slab_class_stats;

typedef struct ra_slab_stats {
    uint64_t allocs;         /* every successful ra_slab_alloc (classes, fallbacks, large) */
    uint64_t frees;          /* every ra_slab_free of a non-NULL pointer */
    uint64_t in_use;         /* allocs - frees */
    uint64_t failed;         /* ra_slab_alloc returned NULL */
    uint64_t fallbacks;      /* class exhausted, served by malloc (sum over classes) */
    uint64_t large_allocs;   /* requests above max_size, served by malloc */
    uint64_t large_frees;    /* of those, freed */
    uint64_t large_in_use;   /* large_allocs - large_frees */
    uint64_t large_bytes;    /* bytes requested by the large blocks in use */
    uint64_t bytes_reserved; /* bytes of the class area */
    bool threadsafe;         /* RA_POOL_THREADSAFE */
    bool hugepages;          /* the area lives in huge pages */
    bool hugepages_fallback; /* huge pages were asked but none were available */
    uint32_t nclasses;       /* entries used in classes[] */
    ra_slab_class_stats classes[RA_SLAB_MAX_CLASSES];
} ra_slab_stats;

/*! ra_slab_create() : makes a slab with its size classes.
 * @return RA_OK and *out set; RA_EINVAL (sizes out of range, blocks_per_class 0 or >= 2^32,
 *         classes_per_doubling > 16, more than RA_SLAB_MAX_CLASSES classes, bad flags or
 *         on_empty) or RA_ENOMEM; *out is NULL on failure. */
RA_API int ra_slab_create(ra_slab **out, const ra_slab_config *cfg);

/*! ra_slab_destroy() : frees the slab and its area (not large or fallback blocks still in use).
 * NULL is accepted.
 * @return nothing; cannot fail. */
RA_API void ra_slab_destroy(ra_slab *s);

/*! ra_slab_alloc() : a 16-byte aligned block of at least `size` bytes.
 * @return the block, or NULL when its class is exhausted with on_empty RA_ON_EMPTY_NULL, or when
 *         malloc fails (large or fallback); aborts with RA_ON_EMPTY_ABORT. */
RA_API void *ra_slab_alloc(ra_slab *s, size_t size);

/*! ra_slab_free() : gives back a block from ra_slab_alloc (of any size); NULL is ignored.
 * @return nothing; a pointer not from this slab is reported and aborts. */
RA_API void ra_slab_free(ra_slab *s, void *ptr);

/*! ra_slab_usable_size() : bytes usable in a block from this slab (its class size, or the size
 * asked for a large block).
 * @return the size; 0 for NULL. */
RA_API size_t ra_slab_usable_size(const ra_slab *s, const void *ptr);

/*! ra_slab_class_size() : the block size of class i (0 .. nclasses - 1).
 * @return the size, or 0 when i is out of range. */
RA_API size_t ra_slab_class_size(const ra_slab *s, unsigned i);

/*! ra_slab_class_count() : number of size classes.
 * @return 1 .. RA_SLAB_MAX_CLASSES; cannot fail. */
RA_API unsigned ra_slab_class_count(const ra_slab *s);

/*! ra_slab_class_pool() : the pool behind class i, for ra_pool_get_stats() or direct use.
 * @return the pool (owned by the slab), or NULL when i is out of range. */
RA_API ra_pool *ra_slab_class_pool(ra_slab *s, unsigned i);

/*! ra_slab_name() : the slab's name. @return a string owned by the slab; never NULL. */
RA_API const char *ra_slab_name(const ra_slab *s);

/*! ra_slab_get_stats() : a snapshot, per class and in total (threading as ra_pool_get_stats).
 * @return nothing; *st is always filled. */
RA_API void ra_slab_get_stats(const ra_slab *s, ra_slab_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_SLAB_H */
