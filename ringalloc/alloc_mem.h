/* alloc_mem.h - internal: what the allocators share: OS memory, sanitizer hooks, fatal errors */
#ifndef RINGALLOC_ALLOC_MEM_H
#define RINGALLOC_ALLOC_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osmem.h" /* regions: heap, huge pages, caller memory, prefault */
#include "util.h"  /* ra__die, ra__set_name, RA__ALIGN_UP */

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

#endif /* RINGALLOC_ALLOC_MEM_H */
