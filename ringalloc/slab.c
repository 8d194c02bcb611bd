/* slab.c - size-class allocator over pools, with a page map for free without size */
/*
 * Design notes
 *
 * Classes. Sizes are multiples of 16 spaced like jemalloc's: within each doubling [2^k, 2^k+1)
 * there are `classes_per_doubling` classes, step 2^k / cpd rounded up to a multiple of 16 (so
 * fewer when that rounds: cpd 3 gives 256, 352, 448 in [256, 512)). A lookup table
 * indexed by (size + 15) / 16 gives the class in one load (max_size <= 1 MiB keeps it <= 64 KiB).
 *
 * Memory. All classes share one region of the OS-memory layer (osmem.c: heap, or huge pages with
 * their fallback). Class i owns a page-aligned slice of blocks_per_class * size_i bytes, handed
 * to its pool as caller memory. A page map (one byte per 4 KiB page of the area) names the class
 * of any address, so ra_slab_free() finds the pool without a size and without touching the
 * block. The pools use RA_ON_EMPTY_NULL: the slab applies its own on_empty, so that fallback
 * blocks carry a header naming their class.
 *
 * Large and fallback blocks. malloc(size + 32), with a 32-byte header in front: a magic word
 * derived from the slab's and the block's addresses, the size, the kind and the class. A
 * pointer outside the area whose header does not match is not from this slab: reported, abort.
 * Counters on these paths are atomics (relaxed: totals only), so a thread-safe slab needs no
 * lock; the class pools bring their own thread safety.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/slab.h"
#include "alloc_mem.h"
#include "atomics.h"

#define RA__SLAB_PAGE_SHIFT 12
#define RA__SLAB_MAGIC      0x52614c61726765ull /* "RaLarge" */

enum { RA__SLAB_LARGE = 1, RA__SLAB_FALLBACK = 2 };

struct ra__slab_hdr {
    uint64_t magic; /* RA__SLAB_MAGIC ^ slab address ^ block address */
    uint64_t size;  /* bytes asked for */
    uint32_t kind;  /* RA__SLAB_LARGE or RA__SLAB_FALLBACK */
    uint32_t cls;   /* class of a fallback block */
    uint64_t pad;
};

struct ra__slab_class {
    ra_pool *pool;
    size_t size;
    /* class counters kept by the slab (any thread when thread-safe): relaxed, totals only */
    _Atomic uint64_t failed, fallbacks, fallback_frees;
};

struct ra_slab {
    unsigned char *area;
    size_t area_len;
    uint8_t *pagemap; /* class per page of the area */
    uint8_t *lut;     /* class per (size + 15) / 16 */
    size_t max_size;
    size_t bpc; /* blocks per class */
    unsigned nclasses;
    int on_empty;
    uint32_t flags;
    struct ra__region mem; /* the area */
    /* large-block counters: relaxed atomics (totals; thread-safe slabs reach them from anywhere) */
    _Atomic uint64_t large_allocs, large_frees, large_bytes, failed;
    struct ra__slab_class cls[RA_SLAB_MAX_CLASSES];
    char name[RA_POOL_NAME_MAX + 1];
};

static inline uint64_t ra__magic(const ra_slab *s, const void *user)
{
    return RA__SLAB_MAGIC ^ (uint64_t)(uintptr_t)s ^ (uint64_t)(uintptr_t)user;
}

/* Fills sizes[] with the classes; returns their number, or 0 when there are too many. */
static unsigned ra__slab_classes(size_t min_size, size_t max_size, unsigned cpd, size_t *sizes)
{
    size_t s = RA__ALIGN_UP(min_size, 16u), top = RA__ALIGN_UP(max_size, 16u);
    unsigned n = 0;
    while (n < RA_SLAB_MAX_CLASSES) {
        sizes[n++] = s;
        if (s >= top) return n;
        size_t pow = 16;
        while (pow * 2 <= s) pow *= 2; /* the doubling [pow, 2 pow) that s is in */
        /* pow / cpd rounded up to 16: a power of two only when cpd is one, so the grid is
           counted from pow (RA__ALIGN_UP masks, which needs a power of two) */
        size_t step = RA__ALIGN_UP(pow / cpd, 16u);
        size_t next = pow + ((s - pow) / step + 1) * step;
        if (next > 2 * pow) next = 2 * pow;
        s = next > top ? top : next;
    }
    return 0;
}

RA_API int ra_slab_create(ra_slab **out, const ra_slab_config *cfg)
{
    if (out == NULL) return RA_EINVAL;
    *out = NULL;
    const uint32_t known =
        RA_POOL_THREADSAFE | RA_POOL_DEBUG | RA_POOL_HUGEPAGES | RA_POOL_PREFAULT;
    if (cfg == NULL || cfg->min_size == 0 || cfg->max_size < cfg->min_size ||
        cfg->max_size > RA_SLAB_MAX_SIZE || cfg->blocks_per_class == 0 ||
        cfg->blocks_per_class >= UINT32_MAX || cfg->classes_per_doubling > 16 ||
        (cfg->flags & ~known) || cfg->on_empty < RA_ON_EMPTY_NULL ||
        cfg->on_empty > RA_ON_EMPTY_ABORT)
        return RA_EINVAL;
    unsigned cpd = cfg->classes_per_doubling ? cfg->classes_per_doubling : RA_SLAB_DEFAULT_CPD;
    size_t sizes[RA_SLAB_MAX_CLASSES];
    unsigned n = ra__slab_classes(cfg->min_size, cfg->max_size, cpd, sizes);
    if (n == 0) return RA_EINVAL;

    size_t off[RA_SLAB_MAX_CLASSES + 1];
    off[0] = 0;
    for (unsigned i = 0; i < n; i++) {
        if (cfg->blocks_per_class > (SIZE_MAX / 2 - off[i]) / sizes[i]) return RA_EINVAL;
        off[i + 1] = off[i] + RA__ALIGN_UP(cfg->blocks_per_class * sizes[i],
                                           (size_t)1 << RA__SLAB_PAGE_SHIFT);
    }

    ra_slab *s = calloc(1, sizeof *s);
    if (s == NULL) return RA_ENOMEM;
    ra__set_name(s->name, cfg->name, "slab");
    s->nclasses = n;
    s->on_empty = cfg->on_empty;
    s->flags = cfg->flags;
    s->max_size = sizes[n - 1];
    s->bpc = cfg->blocks_per_class;
    s->area_len = off[n];
    int rc = RA_ENOMEM;
    uint32_t opts = (cfg->flags & RA_POOL_HUGEPAGES) ? RA__REGION_HUGE : 0;
    if (cfg->flags & RA_POOL_PREFAULT) opts |= RA__REGION_PREFAULT;
    if (!ra__region_get(&s->mem, s->area_len, 1u << RA__SLAB_PAGE_SHIFT, opts)) goto fail;
    s->area = s->mem.base;
    s->pagemap = malloc(s->area_len >> RA__SLAB_PAGE_SHIFT);
    s->lut = malloc(s->max_size / 16 + 1);
    if (s->pagemap == NULL || s->lut == NULL) goto fail;
    for (unsigned i = 0, q = 0; i < n; i++) {
        memset(s->pagemap + (off[i] >> RA__SLAB_PAGE_SHIFT), (int)i,
               (off[i + 1] - off[i]) >> RA__SLAB_PAGE_SHIFT);
        for (; q <= sizes[i] / 16; q++) s->lut[q] = (uint8_t)i;
    }
    for (unsigned i = 0; i < n; i++) {
        char pname[64];
        snprintf(pname, sizeof pname, "%s:%zu", s->name, sizes[i]);
        ra_pool_config pc = {
            .block_size = sizes[i],
            .align = 16,
            .capacity = cfg->blocks_per_class,
            .flags = cfg->flags & (RA_POOL_THREADSAFE | RA_POOL_DEBUG),
            .on_empty = RA_ON_EMPTY_NULL,
            .mem = s->area + off[i],
            .mem_len = off[i + 1] - off[i],
            .name = pname,
            .threads = cfg->threads,
        };
        s->cls[i].size = sizes[i];
        if ((rc = ra_pool_create(&s->cls[i].pool, &pc)) != RA_OK) goto fail;
    }
    *out = s;
    return RA_OK;
fail:
    ra_slab_destroy(s);
    return rc;
}

RA_API void ra_slab_destroy(ra_slab *s)
{
    if (s == NULL) return;
    for (unsigned i = 0; i < s->nclasses; i++) ra_pool_destroy(s->cls[i].pool);
    free(s->pagemap);
    free(s->lut);
    ra__region_put(&s->mem);
    free(s);
}

static void *ra__slab_system(ra_slab *s, size_t size, uint32_t kind, unsigned cls)
{
    if (size > SIZE_MAX - RA_SLAB_LARGE_HDR) return NULL;
    struct ra__slab_hdr *h = aligned_alloc(16, RA__ALIGN_UP(size + RA_SLAB_LARGE_HDR, 16u));
    if (h == NULL) return NULL;
    void *user = (unsigned char *)h + RA_SLAB_LARGE_HDR;
    h->magic = ra__magic(s, user);
    h->size = size;
    h->kind = kind;
    h->cls = cls;
    h->pad = 0;
    return user;
}

RA_API void *ra_slab_alloc(ra_slab *s, size_t size)
{
    if (__builtin_expect(size <= s->max_size, 1)) {
        unsigned c = s->lut[(size + 15) >> 4];
        void *b = ra_pool_alloc(s->cls[c].pool);
        if (__builtin_expect(b != NULL, 1)) return b;
        if (s->on_empty == RA_ON_EMPTY_ABORT)
            ra__die("slab '%s': size class %zu exhausted (%zu bytes requested, all %zu blocks in "
                    "use; on_empty = RA_ON_EMPTY_ABORT)",
                    s->name, s->cls[c].size, size, s->bpc);
        if (s->on_empty == RA_ON_EMPTY_SYSTEM &&
            (b = ra__slab_system(s, s->cls[c].size, RA__SLAB_FALLBACK, c)) != NULL) {
            ra__add(&s->cls[c].fallbacks, 1);
            return b;
        }
        ra__add(&s->cls[c].failed, 1);
        ra__add(&s->failed, 1);
        return NULL;
    }
    void *b = ra__slab_system(s, size, RA__SLAB_LARGE, 0);
    if (b == NULL) {
        ra__add(&s->failed, 1);
        return NULL;
    }
    ra__add(&s->large_allocs, 1);
    ra__add(&s->large_bytes, size);
    return b;
}

static struct ra__slab_hdr *ra__slab_hdr_of(const ra_slab *s, const void *ptr)
{
    struct ra__slab_hdr *h =
        (struct ra__slab_hdr *)(void *)((unsigned char *)(uintptr_t)ptr - RA_SLAB_LARGE_HDR);
    if (((uintptr_t)ptr & 15u) != 0 || h->magic != ra__magic(s, ptr) ||
        (h->kind != RA__SLAB_LARGE && h->kind != RA__SLAB_FALLBACK) || h->cls >= s->nclasses)
        ra__die("slab '%s': ra_slab_free(%p): pointer not from this slab", s->name, ptr);
    return h;
}

RA_API void ra_slab_free(ra_slab *s, void *ptr)
{
    if (ptr == NULL) return;
    size_t off = (size_t)((unsigned char *)ptr - s->area);
    if (__builtin_expect(off < s->area_len, 1)) {
        ra_pool_free(s->cls[s->pagemap[off >> RA__SLAB_PAGE_SHIFT]].pool, ptr);
        return;
    }
    struct ra__slab_hdr *h = ra__slab_hdr_of(s, ptr);
    if (h->kind == RA__SLAB_LARGE) {
        ra__add(&s->large_frees, 1);
        /* a wrapping add of -size: the running total of live large bytes */
        ra__add(&s->large_bytes, (uint64_t)0 - h->size);
    } else {
        ra__add(&s->cls[h->cls].fallback_frees, 1);
    }
    h->magic = 0; /* a second free of this pointer is then reported, not silently accepted */
    free(h);
}

RA_API size_t ra_slab_usable_size(const ra_slab *s, const void *ptr)
{
    if (ptr == NULL) return 0;
    size_t off = (size_t)((const unsigned char *)ptr - s->area);
    if (off < s->area_len) return s->cls[s->pagemap[off >> RA__SLAB_PAGE_SHIFT]].size;
    const struct ra__slab_hdr *h = ra__slab_hdr_of(s, ptr);
    return h->kind == RA__SLAB_LARGE ? (size_t)h->size : s->cls[h->cls].size;
}

RA_API size_t ra_slab_class_size(const ra_slab *s, unsigned i)
{
    return i < s->nclasses ? s->cls[i].size : 0;
}

RA_API unsigned ra_slab_class_count(const ra_slab *s)
{
    return s->nclasses;
}

RA_API ra_pool *ra_slab_class_pool(ra_slab *s, unsigned i)
{
    return i < s->nclasses ? s->cls[i].pool : NULL;
}

RA_API const char *ra_slab_name(const ra_slab *s)
{
    return s->name;
}

RA_API void ra_slab_get_stats(const ra_slab *s, ra_slab_stats *st)
{
    memset(st, 0, sizeof *st);
    st->nclasses = s->nclasses;
    for (unsigned i = 0; i < s->nclasses; i++) {
        const struct ra__slab_class *c = &s->cls[i];
        ra_pool_stats ps;
        ra_pool_get_stats(c->pool, &ps);
        ra_slab_class_stats *cs = &st->classes[i];
        cs->size = c->size;
        cs->capacity = ps.capacity;
        cs->allocs = ps.allocs;
        cs->frees = ps.frees;
        cs->in_use = ps.in_use;
        cs->high_water = ps.high_water;
        cs->failed = ra__get(&c->failed);
        cs->fallbacks = ra__get(&c->fallbacks);
        cs->fallback_frees = ra__get(&c->fallback_frees);
        st->allocs += cs->allocs + cs->fallbacks;
        st->frees += cs->frees + cs->fallback_frees;
        st->fallbacks += cs->fallbacks;
    }
    st->large_allocs = ra__get(&s->large_allocs);
    st->large_frees = ra__get(&s->large_frees);
    st->large_in_use = st->large_allocs >= st->large_frees ? st->large_allocs - st->large_frees : 0;
    st->large_bytes = ra__get(&s->large_bytes);
    st->allocs += st->large_allocs;
    st->frees += st->large_frees;
    st->in_use = st->allocs >= st->frees ? st->allocs - st->frees : 0;
    st->failed = ra__get(&s->failed);
    st->bytes_reserved = s->area_len;
    st->threadsafe = (s->flags & RA_POOL_THREADSAFE) != 0;
    st->hugepages = s->mem.huge;
    st->hugepages_fallback = s->mem.huge_fallback;
}
