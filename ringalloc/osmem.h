/* osmem.h - internal: memory regions from the OS (heap, huge pages, caller memory), prefault */
#ifndef RINGALLOC_OSMEM_H
#define RINGALLOC_OSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a region's memory comes from, and so how ra__region_put() gives it back. */
enum ra__region_kind {
    RA__REGION_NONE = 0, /* nothing held: put is a no-op (a zeroed region is this) */
    RA__REGION_CALLER,   /* the caller's memory: never released here */
    RA__REGION_HEAP,     /* posix_memalign: free() */
    RA__REGION_ANON,     /* private anonymous mapping (huge or normal pages): munmap() */
    RA__REGION_SHARED,   /* MAP_SHARED mapping of a file (/dev/shm, hugetlbfs): munmap() */
};

enum ra__region_opts {
    RA__REGION_HUGE = 1u << 0,     /* 2 MiB MAP_HUGETLB pages, else normal pages + MADV_HUGEPAGE */
    RA__REGION_PREFAULT = 1u << 1, /* back every page now (ra__prefault) */
};

#define RA__PAGE      4096u                /* the smallest page: mapping lengths round to it */
#define RA__HUGE_PAGE (2u * 1024u * 1024u) /* the huge page size asked of MAP_HUGETLB */

struct ra__region {
    void *base;         /* first usable byte, aligned as asked */
    size_t len;         /* usable bytes (>= asked: a mapping rounds to its page size) */
    uint8_t kind;       /* enum ra__region_kind */
    bool huge;          /* the memory is in MAP_HUGETLB pages */
    bool huge_fallback; /* RA__REGION_HUGE was asked, none were available: normal pages */
};

/* Process-wide counts of huge-page requests (relaxed totals, for diagnostics and tests). */
struct ra__region_counts {
    uint64_t huge_asked;    /* ra__region_get calls with RA__REGION_HUGE */
    uint64_t huge_got;      /* of those, the ones that got MAP_HUGETLB pages */
    uint64_t huge_fallback; /* the ones that fell back to normal pages */
};

/* Gets len bytes aligned to align (a power of two <= RA__PAGE): from the heap, or with
 * RA__REGION_HUGE from a mapping (huge pages, falling back to normal pages). len 0 gets 1 byte.
 * Returns false (and *r zeroed) when out of memory. */
bool ra__region_get(struct ra__region *r, size_t len, size_t align, uint32_t opts);

/* Describes the caller's memory [mem, mem + len) as a region (prefaulted with
 * RA__REGION_PREFAULT; RA__REGION_HUGE is ignored: the pages are what the caller made them). */
void ra__region_wrap(struct ra__region *r, void *mem, size_t len, uint32_t opts);

/* Maps the first len bytes of the file fd with MAP_SHARED, writable or read-only (PROT_READ);
 * `huge` records that the file lives on hugetlbfs. The descriptor may be closed afterwards.
 * Returns false (errno set, *r zeroed) when mmap refuses. */
bool ra__region_map_file(struct ra__region *r, int fd, size_t len, bool writable, bool huge);

/* Gives back what ra__region_get got (caller memory and NONE: nothing); leaves *r NONE. */
void ra__region_put(struct ra__region *r);

/* Backs every page of [p, p + len) so that later accesses take no page fault; keeps the bytes.
 * One madvise(MADV_POPULATE_WRITE), or ra__prefault_touch where the kernel refuses it. */
void ra__prefault(void *p, size_t len);

/* The portable prefault: reads and writes back one byte per page of [p, p + len). */
void ra__prefault_touch(void *p, size_t len);

/* Copies the process-wide huge-page counts. */
void ra__region_get_counts(struct ra__region_counts *c);

#endif /* RINGALLOC_OSMEM_H */
