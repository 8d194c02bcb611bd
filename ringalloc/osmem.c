/* osmem.c - memory regions from the OS for the ring, pool, slab and arena; prefault */
/*
 * Design notes
 *
 * One layer. The ring, the pool, the slab and the arena get and give back all their bulk memory
 * here, as a struct ra__region {base, len, kind, huge, huge_fallback}: the kind says how the
 * memory was obtained and so how ra__region_put() returns it. Metadata (the ring and pool structs,
 * free stacks, magazines) stays on the ordinary heap: it is small and never prefaulted.
 *
 * Kinds. HEAP: posix_memalign(align, len), returned with free(); the default. CALLER: memory the
 * user passed in (cfg->mem), described so the same code can prefault and account for it; never
 * released. ANON: a private anonymous mapping, huge or normal pages, returned with munmap(); used
 * when huge pages are asked. SHARED: a file under /dev/shm or hugetlbfs (a shared ring,
 * ring_shm.c), mapped MAP_SHARED, PROT_READ only for a read-only attach; `huge` is set when the
 * file system is hugetlbfs; put is munmap(). The descriptor need not outlive the mmap() call, so
 * the region needs no further field.
 *
 * Huge pages (RA__REGION_HUGE), in this order:
 * 1. mmap(MAP_HUGETLB | MAP_HUGE_2MB) of len rounded up to 2 MiB. Naming the size keeps the
 *    length that munmap() needs right on systems whose default huge page is 1 GiB; the kernel
 *    reserves the pages at mmap() time, so success here means no SIGBUS on a later first touch.
 *    `huge` is set.
 * 2. When that fails (no pages reserved in vm.nr_hugepages, the usual case): a normal anonymous
 *    mapping of len rounded up to 4 KiB, placed on a 2 MiB boundary when it is at least that
 *    long (mapped 2 MiB larger, the ends trimmed), and madvise(MADV_HUGEPAGE) on it before any
 *    page is touched, so transparent huge pages (when enabled) can back it from the first fault
 *    or from the prefault. `huge_fallback` is set; the fallback is silent otherwise.
 * A mapping, not the heap, for the fallback: a heap block shares its first and last pages with
 * other allocations (the advice would apply to them too), is not 2 MiB-aligned, so THP could back
 * only its interior, and free() may keep its pages in the process. The process-wide counters
 * (ra__region_get_counts) record every request and its outcome.
 *
 * Prefault (RA__REGION_PREFAULT, and ra__prefault for any memory): one
 * madvise(MADV_POPULATE_WRITE) over the range widened to whole pages backs every page, huge pages
 * where advised, without touching the bytes: about three times faster than a write per page on a
 * 64 MiB ring, and the contents stay (it is safe on caller memory and on the pages that a heap
 * block shares). Kernels before 5.14 and special mappings refuse it: then ra__prefault_touch()
 * reads and writes back one byte per page. No MAP_POPULATE: one prefault path serves every kind,
 * and on the fallback mapping MAP_POPULATE would fault the pages in before the THP advice.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "osmem.h"
#include "atomics.h"
#include "util.h"

#if defined(MAP_HUGE_SHIFT)
#define RA__MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT) /* log2(2 MiB): the page size, not the default */
#else
#define RA__MAP_HUGE_2MB 0
#endif

/* process-wide request counts: relaxed totals (see ra__add), read by ra__region_get_counts */
static _Atomic uint64_t ra__huge_asked, ra__huge_got, ra__huge_fallback;

static size_t ra__page_size(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    return pg > 0 ? (size_t)pg : RA__PAGE;
}

void ra__prefault_touch(void *p, size_t len)
{
    if (len == 0) return;
    size_t step = ra__page_size();
    volatile unsigned char *c = p;
    for (size_t i = 0; i < len; i += step) c[i] = c[i];
    c[len - 1] = c[len - 1];
}

void ra__prefault(void *p, size_t len)
{
    if (len == 0) return;
#ifdef MADV_POPULATE_WRITE
    /* whole pages: they hold our bytes and so are mapped */
    uintptr_t step = ra__page_size();
    uintptr_t lo = (uintptr_t)p & ~(step - 1);
    uintptr_t hi = ((uintptr_t)p + len + step - 1) & ~(step - 1);
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0) return;
#endif
    ra__prefault_touch(p, len);
}

/* A private anonymous mapping of len bytes (a multiple of the page size) starting on a multiple
 * of `align` (a power of two, >= the page size), with `flags` added; NULL when refused. */
static void *ra__map(size_t len, size_t align, int flags)
{
    size_t pg = ra__page_size();
    size_t extra = align > pg ? align - pg : 0;
    if (len > SIZE_MAX - extra) return NULL;
    size_t span = len + extra;
    void *q = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (q == MAP_FAILED) return NULL;
    uintptr_t a = RA__ALIGN_UP((uintptr_t)q, align);
    size_t head = a - (uintptr_t)q, tail = span - head - len;
    if (head != 0) (void)munmap(q, head);
    if (tail != 0) (void)munmap((void *)(a + len), tail);
    return (void *)a;
}

/* The huge-page request: MAP_HUGETLB, else normal pages advised for THP (see the notes). */
static bool ra__get_huge(struct ra__region *r, size_t len)
{
    ra__add(&ra__huge_asked, 1);
    size_t hl = RA__ALIGN_UP(len, (size_t)RA__HUGE_PAGE);
    void *q = hl < len ? NULL : ra__map(hl, ra__page_size(), MAP_HUGETLB | RA__MAP_HUGE_2MB);
    if (q != NULL) {
        ra__add(&ra__huge_got, 1);
        r->huge = true;
    } else {
        ra__add(&ra__huge_fallback, 1);
        r->huge_fallback = true;
        hl = RA__ALIGN_UP(len, ra__page_size());
        if (hl < len) return false;
        q = ra__map(hl, hl >= RA__HUGE_PAGE ? RA__HUGE_PAGE : ra__page_size(), 0);
        if (q == NULL) return false;
#ifdef MADV_HUGEPAGE
        (void)madvise(q, hl, MADV_HUGEPAGE); /* advice only: THP may be disabled */
#endif
    }
    r->base = q;
    r->len = hl;
    r->kind = RA__REGION_ANON;
    return true;
}

bool ra__region_get(struct ra__region *r, size_t len, size_t align, uint32_t opts)
{
    memset(r, 0, sizeof *r);
    if (len == 0) len = 1;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (opts & RA__REGION_HUGE) {
        if (!ra__get_huge(r, len)) {
            memset(r, 0, sizeof *r);
            return false;
        }
    } else {
        void *q = NULL;
        if (posix_memalign(&q, align, len) != 0) return false;
        r->base = q;
        r->len = len;
        r->kind = RA__REGION_HEAP;
    }
    if (opts & RA__REGION_PREFAULT) ra__prefault(r->base, r->len);
    return true;
}

void ra__region_wrap(struct ra__region *r, void *mem, size_t len, uint32_t opts)
{
    memset(r, 0, sizeof *r);
    r->base = mem;
    r->len = len;
    r->kind = RA__REGION_CALLER;
    if (opts & RA__REGION_PREFAULT) ra__prefault(mem, len);
}

bool ra__region_map_file(struct ra__region *r, int fd, size_t len, bool writable, bool huge)
{
    memset(r, 0, sizeof *r);
    int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    void *q = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
    if (q == MAP_FAILED) return false;
    r->base = q;
    r->len = len;
    r->kind = RA__REGION_SHARED;
    r->huge = huge;
    return true;
}

void ra__region_put(struct ra__region *r)
{
    switch (r->kind) {
    case RA__REGION_HEAP:
        free(r->base);
        break;
    case RA__REGION_SHARED:
    case RA__REGION_ANON:
        (void)munmap(r->base, r->len);
        break;
    default: /* NONE, CALLER: nothing of ours */
        break;
    }
    memset(r, 0, sizeof *r);
}

void ra__region_get_counts(struct ra__region_counts *c)
{
    c->huge_asked = ra__get(&ra__huge_asked);
    c->huge_got = ra__get(&ra__huge_got);
    c->huge_fallback = ra__get(&ra__huge_fallback);
}
