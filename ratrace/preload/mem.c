/* mem.c - the tracer's own memory (mmap, with a list of its ranges), spin lock, arena bases */
/*
 * Every table of the tracer lives in memory mapped here, never in malloc'ed memory: the tracer
 * must not call the allocator it traces, and the leak scan must skip the tracer's tables (the
 * live-block registry and table hold a pointer to every block, so scanning them would find every
 * block reachable). The ranges are kept in a fixed array; a range that does not fit is still
 * mapped, and the scan then skips its memory anyway only if it lies in a skipped mapping, so the
 * array is large (a few hundred ranges are used at most: tables grow by doubling).
 */
#include "preload.h"

#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_RANGES 1024
static uintptr_t ranges[MAX_RANGES][2];
static size_t nranges;
static atomic_int ranges_lock;

void rt__lock_slow(atomic_int *l)
{
    for (unsigned spins = 0;; spins++) {
        while (atomic_load_explicit(l, memory_order_relaxed)) {
            if (spins++ < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
            }
        }
        if (!atomic_exchange_explicit(l, 1, memory_order_acquire)) return;
    }
}

static void add_range(uintptr_t lo, uintptr_t hi)
{
    rt__lock(&ranges_lock);
    if (nranges < MAX_RANGES) {
        ranges[nranges][0] = lo;
        ranges[nranges][1] = hi;
        nranges++;
    }
    rt__unlock(&ranges_lock);
}

static void drop_range(uintptr_t lo)
{
    rt__lock(&ranges_lock);
    for (size_t i = 0; i < nranges; i++) {
        if (ranges[i][0] == lo) {
            ranges[i][0] = ranges[nranges - 1][0];
            ranges[i][1] = ranges[nranges - 1][1];
            nranges--;
            break;
        }
    }
    rt__unlock(&ranges_lock);
}

void *rt__map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    add_range((uintptr_t)p, (uintptr_t)p + len);
    return p;
}

void *rt__map_flags(size_t len, int flags)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (p == MAP_FAILED) return NULL;
    add_range((uintptr_t)p, (uintptr_t)p + len);
    return p;
}

void *rt__map_table(size_t len)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (len >= ((size_t)1 << 21)) madvise(p, len, MADV_HUGEPAGE);
    add_range((uintptr_t)p, (uintptr_t)p + len);
    return p;
}

void *rt__remap(void *p, size_t old_len, size_t new_len)
{
    void *q = mremap(p, old_len, new_len, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) return NULL;
    drop_range((uintptr_t)p);
    add_range((uintptr_t)q, (uintptr_t)q + new_len);
    return q;
}

void rt__unmap(void *p, size_t len)
{
    if (!p) return;
    drop_range((uintptr_t)p);
    munmap(p, len);
}

size_t rt__own_ranges(uintptr_t (*out)[2], size_t max)
{
    rt__lock(&ranges_lock);
    size_t n = nranges < max ? nranges : max;
    memcpy(out, ranges, n * sizeof ranges[0]);
    rt__unlock(&ranges_lock);
    return n;
}

/* ---- glibc thread-arena heaps seen in block headers --------------------------------------------
 */
#define MAX_ARENAS 1024
static uintptr_t arenas[MAX_ARENAS];
static size_t narenas;
static atomic_int arenas_lock;

void rt__note_arena(uintptr_t base)
{
    rt__lock(&arenas_lock);
    size_t i = 0;
    while (i < narenas && arenas[i] != base) i++;
    if (i == narenas && narenas < MAX_ARENAS) arenas[narenas++] = base;
    rt__unlock(&arenas_lock);
}

size_t rt__arena_bases(uintptr_t *out, size_t max)
{
    rt__lock(&arenas_lock);
    size_t n = narenas < max ? narenas : max;
    memcpy(out, arenas, n * sizeof *out);
    rt__unlock(&arenas_lock);
    return n;
}

/* fork: the child must not inherit a lock held by another thread */
void rt__mem_lock_all(void)
{
    rt__lock(&ranges_lock);
    rt__lock(&arenas_lock);
}

void rt__mem_unlock_all(void)
{
    rt__unlock(&arenas_lock);
    rt__unlock(&ranges_lock);
}
