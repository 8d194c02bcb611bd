/* alloc_mem.h - internal: block memory (heap, huge pages, prefault), sanitizer hooks, fatal errors
 */
#ifndef RINGALLOC_ALLOC_MEM_H
#define RINGALLOC_ALLOC_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- AddressSanitizer: manual poisoning of free pool blocks and unused arena space ---------- */
#if defined(__SANITIZE_ADDRESS__)
#define RA__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RA__ASAN 1
#endif
#endif

#ifdef RA__ASAN
#include <sanitizer/asan_interface.h>
#define RA__POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define RA__UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define RA__ASAN_ON        1
#else
#define RA__POISON(p, n)   ((void)(p), (void)(n))
#define RA__UNPOISON(p, n) ((void)(p), (void)(n))
#define RA__ASAN_ON        0
#endif

/* ---- Valgrind: memcheck mempool client requests (no-ops when not running under Valgrind) ---- */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define RA__HAVE_VALGRIND 1
#endif
#endif

#ifdef RA__HAVE_VALGRIND
#define RA__ON_VALGRIND()         (RUNNING_ON_VALGRIND != 0)
#define RA__VG_CREATE_POOL(pool)  VALGRIND_CREATE_MEMPOOL((pool), 0, 0)
#define RA__VG_DESTROY_POOL(pool) VALGRIND_DESTROY_MEMPOOL(pool)
#define RA__VG_ALLOC(pool, p, n)  VALGRIND_MEMPOOL_ALLOC((pool), (p), (n))
#define RA__VG_FREE(pool, p)      VALGRIND_MEMPOOL_FREE((pool), (p))
#define RA__VG_NOACCESS(p, n)     VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define RA__VG_UNDEFINED(p, n)    VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define RA__VG_DEFINED(p, n)      VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define RA__ON_VALGRIND()         0
#define RA__VG_CREATE_POOL(pool)  ((void)(pool))
#define RA__VG_DESTROY_POOL(pool) ((void)(pool))
#define RA__VG_ALLOC(pool, p, n)  ((void)(pool), (void)(p), (void)(n))
#define RA__VG_FREE(pool, p)      ((void)(pool), (void)(p))
#define RA__VG_NOACCESS(p, n)     ((void)(p), (void)(n))
#define RA__VG_UNDEFINED(p, n)    ((void)(p), (void)(n))
#define RA__VG_DEFINED(p, n)      ((void)(p), (void)(n))
#endif

/* ---- memory -----------------------------------------------------------------------------------
 */
enum ra__mem_opts {
    RA__MEM_HUGE = 1u << 0,     /* try MAP_HUGETLB, fall back to normal pages + MADV_HUGEPAGE */
    RA__MEM_PREFAULT = 1u << 1, /* touch every page now */
};

enum ra__mem_kind { RA__MEM_NONE, RA__MEM_HEAP, RA__MEM_MMAP };

struct ra__mem {
    void *base;         /* usable memory, aligned as asked */
    size_t len;         /* usable length (>= asked) */
    void *raw;          /* what to give back */
    size_t raw_len;     /* its length (mmap) */
    int kind;           /* enum ra__mem_kind */
    bool huge;          /* the memory lives in huge pages */
    bool huge_fallback; /* huge pages were asked but none were available */
};

/* Gets len bytes aligned to align (a power of two <= 4096). Returns false when out of memory. */
bool ra__mem_get(struct ra__mem *m, size_t len, size_t align, uint32_t opts);
/* Gives back memory from ra__mem_get (no-op for RA__MEM_NONE). */
void ra__mem_put(struct ra__mem *m);
/* Writes one byte per page so that later accesses take no page fault. */
void ra__mem_prefault(void *p, size_t len);

/* Prints "ringalloc: <message>" on stderr and aborts. */
__attribute__((noreturn, format(printf, 1, 2))) void ra__die(const char *fmt, ...);

/* Copies a name into a fixed buffer of RA_POOL_NAME_MAX + 1 bytes (dflt when NULL or empty). */
void ra__set_name(char *dst, const char *src, const char *dflt);

#define RA__IS_POW2(x)     ((x) != 0 && ((x) & ((x)-1)) == 0)
#define RA__ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))

#endif /* RINGALLOC_ALLOC_MEM_H */
