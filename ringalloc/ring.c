/* ring.c - the tick ring: create, destroy, sizes and ring statistics */

/* Design notes (docs/ring.md has the long version).
 *
 * The ring is three files over one layout. ring_layout.h describes the memory block (control
 * block, record header, position arithmetic) without pointers; ring_priv.h the process-local
 * handle. This file makes and frees rings; ring_write.c is the producer, ring_read.c the readers.
 *
 * Protocol (the producer publishes head, intent and tail in the control block):
 * Write: retire records from head until the new record fits, store head, release-store intent,
 * release fence, write the bytes, then release-store tail.
 * Read: acquire tail; copy the record; acquire fence; load intent; the copy is valid only if
 * intent <= cursor + capacity (no byte at or after the cursor has been rewritten). The fences
 * pair so that a reader that saw any byte of a newer write also sees that write's intent.
 *
 * Backpressure mode: the single consumer publishes how far it has read (consumed, in batches);
 * the producer never retires and refuses when a record would pass consumed + capacity.
 */

#include "ringalloc/ring.h"
#include "alloc_mem.h"
#include "ring_priv.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

/* Whether the CPU has PREFETCHW (x86: see ra__prefetch_w in ring_write.c), read once per ring. */
static bool ra__cpu_has_prefetchw(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000001u) return false;
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) return false;
    return (c >> 8) & 1u; /* ECX bit 8: PREFETCHW (3DNowPrefetch) */
#else
    return false;
#endif
}

/* ---- create / destroy ------------------------------------------------------------------------ */

static bool ra__pow2(size_t x)
{
    return x && (x & (x - 1)) == 0;
}

RA_API size_t ra_ring_footprint(size_t capacity)
{
    if (!ra__pow2(capacity) || capacity < RA_RING_MIN_CAPACITY) return 0;
    if (capacity > SIZE_MAX - RA__CTL_SIZE) return 0;
    return RA__CTL_SIZE + capacity;
}

ra_ring *ra__ring_alloc(void)
{
    ra_ring *r = aligned_alloc(RA__LINE, (sizeof *r + RA__LINE - 1) / RA__LINE * RA__LINE);
    if (r) memset(r, 0, sizeof *r);
    return r;
}

uint32_t ra__ring_max_msg(uint64_t capacity)
{
    /* A record is at most a quarter of the data: then a reservation (at most a quarter, plus less
     * than a quarter of padding) never retires the last committed record, so [head, tail) always
     * holds an intact record for a lapped reader to resynchronise on. */
    uint64_t max = capacity / 4 - RA_RING_HDR_SIZE;
    if (max > UINT32_MAX - 2 * RA_RING_HDR_SIZE) max = UINT32_MAX - 2 * RA_RING_HDR_SIZE;
    return (uint32_t)max;
}

void ra__ring_setup(ra_ring *r, ra__ring_ctl *ctl, unsigned char *data, uint64_t capacity,
                    uint32_t flags)
{
    memset(ctl, 0, sizeof *ctl);
    ctl->magic = RA__MAGIC;
    ctl->capacity = capacity;
    ctl->flags = flags;
    ctl->max_msg = ra__ring_max_msg(capacity);
    atomic_init(&ctl->closed, 0);
    atomic_init(&ctl->tail, 0);
    atomic_init(&ctl->intent, 0);
    atomic_init(&ctl->coarse, 0);
    atomic_init(&ctl->last_pos, 0);
    atomic_init(&ctl->head, 0);
    atomic_init(&ctl->head_seq, 0);
    atomic_init(&ctl->next_seq, 0);
    atomic_init(&ctl->published_bytes, 0);
    atomic_init(&ctl->overwritten_bytes, 0);
    atomic_init(&ctl->too_big, 0);
    atomic_init(&ctl->full, 0);
    atomic_init(&ctl->cons.consumed, 0);
    atomic_init(&ctl->cons.consumed_seq, 0);
    atomic_init(&ctl->cons.attached, 0);

    r->pad_pos[0] = r->pad_pos[1] = UINT64_MAX;
    r->ctl = ctl;
    r->data = data;
    r->cons = &ctl->cons;
    r->wait = &r->wait_local;
    r->wfence = ra__wake_needs_fence();
    r->may_consume = true;
    r->capacity = capacity;
    r->mask = capacity - 1;
    r->max_msg = ctl->max_msg;
    r->flags = flags;
    r->pfw = ra__cpu_has_prefetchw();
}

RA_API int ra_ring_create(ra_ring **out, const ra_ring_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!cfg) return RA_EINVAL;
    const uint32_t known = RA_RING_BACKPRESSURE | RA_RING_HUGEPAGES | RA_RING_PREFAULT;
    if (cfg->flags & ~known) return RA_EINVAL;
    size_t foot = ra_ring_footprint(cfg->capacity);
    if (!foot) return RA_EINVAL;
    if (cfg->mem && (cfg->mem_len < foot || ((uintptr_t)cfg->mem % RA_RING_MEM_ALIGN) != 0))
        return RA_EINVAL;

    ra_ring *r = ra__ring_alloc();
    if (!r) return RA_ENOMEM;

    /* the memory (osmem.c): the caller's, else whole pages from the heap or, with
     * RA_RING_HUGEPAGES, huge pages falling back silently to normal ones (stats.hugepages says) */
    struct ra__region reg;
    uint32_t opts = (cfg->flags & RA_RING_PREFAULT) ? RA__REGION_PREFAULT : 0;
    if (cfg->mem) {
        ra__region_wrap(&reg, cfg->mem, foot, opts);
    } else {
        if (cfg->flags & RA_RING_HUGEPAGES) opts |= RA__REGION_HUGE;
        if (!ra__region_get(&reg, RA__ALIGN_UP(foot, (size_t)RA__PAGE), RA__PAGE, opts)) {
            free(r);
            return RA_ENOMEM;
        }
    }
    ra__ring_setup(r, reg.base, (unsigned char *)reg.base + RA__CTL_SIZE, cfg->capacity,
                   cfg->flags);
    r->mem = reg;
    *out = r;
    return RA_OK;
}

RA_API void ra_ring_destroy(ra_ring *r)
{
    if (!r) return;
    if (r->shm) ra__shm_release(r);
    ra__region_put(&r->mem);
    free(r);
}

RA_API uint32_t ra_ring_max_msg(const ra_ring *r)
{
    return r->max_msg;
}

RA_API size_t ra_ring_capacity(const ra_ring *r)
{
    return (size_t)r->capacity;
}

/* ---- statistics ------------------------------------------------------------------------------ */

RA_API void ra_ring_get_stats(const ra_ring *r, ra_ring_stats *s)
{
    const ra__ring_ctl *c = r->ctl;
    memset(s, 0, sizeof *s);
    /* relaxed throughout: independent counters, each read atomically */
    s->next_seq = atomic_load_explicit(&c->next_seq, memory_order_relaxed);
    s->published = s->next_seq;
    s->published_bytes = atomic_load_explicit(&c->published_bytes, memory_order_relaxed);
    s->too_big = atomic_load_explicit(&c->too_big, memory_order_relaxed);
    s->full = atomic_load_explicit(&c->full, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    if (r->flags & RA_RING_BACKPRESSURE) {
        s->oldest_seq = atomic_load_explicit(&r->cons->consumed_seq, memory_order_relaxed);
        uint64_t consumed = atomic_load_explicit(&r->cons->consumed, memory_order_relaxed);
        s->used_bytes = tail >= consumed ? tail - consumed : 0;
    } else {
        s->overwritten = atomic_load_explicit(&c->head_seq, memory_order_relaxed);
        s->overwritten_bytes = atomic_load_explicit(&c->overwritten_bytes, memory_order_relaxed);
        s->oldest_seq = s->overwritten;
        uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
        s->used_bytes = tail >= head ? tail - head : 0;
    }
    s->capacity = r->capacity;
    s->hugepages = r->mem.huge;
}
