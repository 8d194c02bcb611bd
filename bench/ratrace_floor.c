/* ratrace_floor.c - the floors of an allocation tracer, as LD_PRELOAD libraries for
 * bench/run-ratrace.sh
 *
 * Built twice:
 * - libfloor_fwd.so: malloc, calloc, realloc and free forwarded to the next definition
 *   (dlsym(RTLD_NEXT)) and nothing else: what interposing costs by itself.
 * - libfloor_hdr.so (-DFLOOR_HDR): the same with a 16-byte header in front of every block, as
 *   ratrace puts one there for its live-block registry: what the larger heap costs by itself.
 *   The aligned allocators and malloc_usable_size are interposed too, so that every block has a
 *   header (the word before the block is the header's size) and free always finds it.
 * Neither counts or records anything; ratrace's own overhead is read against them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef FLOOR_HDR
#define HDR 16u
#else
#define HDR 0u
#endif

#define EXPORT __attribute__((visibility("default")))

static void *(*r_malloc)(size_t);
static void *(*r_calloc)(size_t, size_t);
static void *(*r_realloc)(void *, size_t);
static void (*r_free)(void *);

/* dlsym may allocate while it resolves: served from here, never freed */
static _Alignas(16) unsigned char boot[1u << 16];
static size_t boot_used;
static __thread int resolving;

static void *boot_alloc(size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    if (n > sizeof boot - boot_used) return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

/* var = the next definition of name (memcpy: ISO C has no object-to-function pointer cast) */
#define NEXT(var, name)                                                                            \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_NEXT, name);                                                       \
        memcpy(&(var), &sym_, sizeof(var));                                                        \
    } while (0)

static int resolve(void)
{
    if (r_free) return 0;
    if (resolving) return -1;
    resolving = 1;
    NEXT(r_malloc, "malloc");
    NEXT(r_calloc, "calloc");
    NEXT(r_realloc, "realloc");
    NEXT(r_free, "free");
    resolving = 0;
    return 0;
}

/* The program's pointer into real block r with a header of h bytes (h >= 8 or 0). */
static void *put(unsigned char *r, size_t h)
{
    if (!r || !h) return r;
    size_t w = h;
    memcpy(r + h - sizeof w, &w, sizeof w);
    return r + h;
}

static unsigned char *real_of(void *p)
{
    if (!HDR) return p;
    size_t h;
    memcpy(&h, (unsigned char *)p - sizeof h, sizeof h);
    return (unsigned char *)p - h;
}

EXPORT void *malloc(size_t n)
{
    if (resolve() != 0) return boot_alloc(n);
    return n > SIZE_MAX - HDR ? NULL : put(r_malloc(n + HDR), HDR);
}

EXPORT void *calloc(size_t k, size_t n)
{
    size_t t;
    if (__builtin_mul_overflow(k, n, &t) || t > SIZE_MAX - HDR) {
        errno = ENOMEM;
        return NULL;
    }
    if (resolve() != 0) {
        void *p = boot_alloc(t);
        return p ? memset(p, 0, t) : NULL;
    }
    return put(r_calloc(1, t + HDR), HDR);
}

EXPORT void free(void *p)
{
    if (!p || is_boot(p) || resolve() != 0) return;
    r_free(real_of(p));
}

EXPORT void *realloc(void *p, size_t n)
{
    if (resolve() != 0) return NULL;
    if (!p) return malloc(n);
    if (is_boot(p)) { /* its size is unknown: copy what the buffer can hold */
        void *q = malloc(n);
        size_t room = (size_t)(boot + sizeof boot - (unsigned char *)p);
        if (q) memcpy(q, p, n < room ? n : room);
        return q;
    }
    if (!HDR || real_of(p) == (unsigned char *)p - HDR)
        return n > SIZE_MAX - HDR ? NULL : put(r_realloc(real_of(p), n + HDR), HDR);
    void *q = malloc(n); /* an aligned block: moved, its usable size is what it can hold */
    if (q) {
        size_t have = malloc_usable_size(p);
        memcpy(q, p, n < have ? n : have);
        free(p);
    }
    return q;
}

#ifdef FLOOR_HDR
static void *(*r_memalign)(size_t, size_t);
static size_t (*r_usable)(void *);

static void *aligned(size_t align, size_t n)
{
    if (resolve() != 0) return NULL;
    if (!r_memalign) NEXT(r_memalign, "memalign");
    size_t h = align > HDR ? align : HDR;
    if (n > SIZE_MAX - h) return NULL;
    return put(r_memalign(h, n + h), h);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = aligned(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return aligned(align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
    return aligned(align, n);
}

EXPORT void *valloc(size_t n)
{
    return aligned(4096, n);
}

EXPORT void *pvalloc(size_t n)
{
    return aligned(4096, (n + 4095u) & ~(size_t)4095u);
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p || is_boot(p) || resolve() != 0) return 0;
    if (!r_usable) NEXT(r_usable, "malloc_usable_size");
    unsigned char *r = real_of(p);
    return r_usable(r) - (size_t)((unsigned char *)p - r);
}
#endif
