/* table.c - the live-block table: a lock-striped open-addressing hash keyed by block address */
/*
 * The table keeps the live blocks that carry no header (registry.c): the aligned allocators'
 * blocks, blocks of 2^37 bytes or more, and every block when the allocator behind is not glibc's
 * or RATRACE_LIVE_TABLE=1 (which measures this design against the headers: docs/ratrace.md).
 *
 * SHARDS shards, chosen by address bits 12..17 (the 4 KiB page modulo 64), so threads working in
 * different pages rarely meet on a lock. Each shard is a linear-probing table of {ptr, size,
 * tag} in mapped memory, grown by doubling at half load; deletion shifts the following entries
 * back (no tombstones), so probes stay short however long the program runs.
 *
 * The home slot keeps neighbouring blocks in neighbouring slots: it is the address divided by 16
 * with the shard bits taken out, XORed with a mix of the 64 MiB region number (so heaps of
 * different arenas do not pile on the same slots). Blocks allocated one after the other, which a
 * program also tends to free together, then share cache lines of the table: a hash scattering
 * every key would cost a cache miss per call on a large heap (Fibonacci hashing measured 1.8x
 * the CPU time of this one on PYTHONMALLOC=malloc python3 building a 10^6-entry dict). Shard
 * arrays are mapped populated (MAP_POPULATE): one fault per array, not one per page.
 */
#include "preload.h"

#include <string.h>

#define SHARDS    64
#define FIRST_CAP 1024

struct shard {
    atomic_int lock;
    atomic_size_t count;
    size_t cap; /* a power of two; 0 before the first insert */
    struct rt__block *slots;
    char pad[64 - sizeof(atomic_int) - sizeof(atomic_size_t) - sizeof(size_t) - sizeof(void *)];
};
static _Alignas(64) struct shard shards[SHARDS];

static inline struct shard *shard_of(uintptr_t p)
{
    return &shards[(p >> 12) & (SHARDS - 1)];
}

static inline size_t home(uintptr_t p, size_t mask)
{
    uintptr_t mix = (uintptr_t)(((uint64_t)(p >> 26) * 0x9E3779B97F4A7C15ull) >> 40);
    uintptr_t idx = ((p >> 18) << 8) | ((p >> 4) & 0xff);
    return (size_t)(idx ^ mix) & mask;
}

static void put(struct rt__block *slots, size_t mask, const struct rt__block *b)
{
    size_t i = home(b->ptr, mask);
    while (slots[i].ptr) i = (i + 1) & mask;
    slots[i] = *b;
}

/* Doubles the shard (or creates it). On mapping failure the shard keeps its old array. */
static void grow(struct shard *s)
{
    size_t cap = s->cap ? s->cap * 2 : FIRST_CAP;
    struct rt__block *n = rt__map_table(cap * sizeof *n);
    if (!n) return;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].ptr) put(n, cap - 1, &s->slots[i]);
    rt__unmap(s->slots, s->cap * sizeof *s->slots);
    s->slots = n;
    s->cap = cap;
}

void rt__table_insert(uintptr_t p, uint64_t size, uint64_t tag)
{
    struct shard *s = shard_of(p);
    rt__lock(&s->lock);
    size_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
    if (count * 2 >= s->cap) grow(s);
    if (count + 1 < s->cap) { /* else the table is full and could not grow: untracked */
        size_t mask = s->cap - 1, i = home(p, mask);
        while (s->slots[i].ptr && s->slots[i].ptr != p) i = (i + 1) & mask;
        if (!s->slots[i].ptr) atomic_store_explicit(&s->count, count + 1, memory_order_relaxed);
        s->slots[i] = (struct rt__block){p, size, tag};
    }
    rt__unlock(&s->lock);
}

int rt__table_remove(uintptr_t p, struct rt__block *out)
{
    struct shard *s = shard_of(p);
    rt__lock(&s->lock);
    if (!s->cap) {
        rt__unlock(&s->lock);
        return 0;
    }
    size_t mask = s->cap - 1, i = home(p, mask);
    struct rt__block *slots = s->slots;
    while (slots[i].ptr != p) {
        if (!slots[i].ptr) {
            rt__unlock(&s->lock);
            return 0;
        }
        i = (i + 1) & mask;
    }
    *out = slots[i];
    /* backward shift: move each following entry into the hole unless that would put it before
     * its home slot */
    for (size_t j = (i + 1) & mask; slots[j].ptr; j = (j + 1) & mask) {
        size_t h = home(slots[j].ptr, mask);
        if (((j - h) & mask) >= ((j - i) & mask)) {
            slots[i] = slots[j];
            i = j;
        }
    }
    slots[i].ptr = 0;
    atomic_store_explicit(&s->count, atomic_load_explicit(&s->count, memory_order_relaxed) - 1,
                          memory_order_relaxed);
    rt__unlock(&s->lock);
    return 1;
}

uint64_t rt__table_count(void)
{
    uint64_t n = 0;
    for (int i = 0; i < SHARDS; i++)
        n += atomic_load_explicit(&shards[i].count, memory_order_relaxed);
    return n;
}

void rt__table_lock_all(void)
{
    for (int i = 0; i < SHARDS; i++) rt__lock(&shards[i].lock);
}

void rt__table_unlock_all(void)
{
    for (int i = SHARDS - 1; i >= 0; i--) rt__unlock(&shards[i].lock);
}

size_t rt__table_snapshot(struct rt__block **out, size_t *cap_bytes)
{
    *out = NULL;
    *cap_bytes = 0;
    rt__table_lock_all();
    size_t total = (size_t)rt__table_count() + rt__reg_count(), n = 0;
    size_t bytes = (total + 1) * sizeof(struct rt__block);
    struct rt__block *a = total ? rt__map(bytes) : NULL;
    if (a) {
        n = rt__reg_copy(a, total);
        for (int i = 0; i < SHARDS; i++)
            for (size_t k = 0; k < shards[i].cap && n < total; k++)
                if (shards[i].slots[k].ptr) a[n++] = shards[i].slots[k];
        *out = a;
        *cap_bytes = bytes;
    }
    rt__table_unlock_all();
    return n;
}
