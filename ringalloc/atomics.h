/* atomics.h - internal: the relaxed counter helpers shared by the allocators and their stats */
/*
 * Every helper here is a statistics or bookkeeping counter: none of them orders any other memory,
 * so all are relaxed. Ordering that publishes data (the pool's depot, the ring's positions) is
 * written out at its place of use with its own why-comment, never through these helpers.
 */
#ifndef RINGALLOC_ATOMICS_H
#define RINGALLOC_ATOMICS_H

#include <stdatomic.h>
#include <stdint.h>

/* Adds one to a counter that only one thread writes (others may read it at any time). */
static inline void ra__bump(_Atomic uint64_t *c)
{
    /* single writer: a relaxed load + store (no locked RMW) is enough for readers elsewhere */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Adds v to a counter that any thread may write (v may be a wrapped negative). */
static inline void ra__add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed); /* a shared counter: only a total */
}

/* Reads a counter for a statistics snapshot. */
static inline uint64_t ra__get(const _Atomic uint64_t *c)
{
    /* relaxed: a statistics snapshot; the cast drops const, which C11's atomic_load lacks */
    return atomic_load_explicit((_Atomic uint64_t *)(uintptr_t)c, memory_order_relaxed);
}

/* Raises a peak to at least v. */
static inline void ra__max(_Atomic uint64_t *c, uint64_t v)
{
    uint64_t cur = atomic_load_explicit(c, memory_order_relaxed); /* a peak: no ordering needed */
    /* relaxed CAS: only the value matters; a failure reloads cur and retries while still lower */
    while (cur < v && !atomic_compare_exchange_weak_explicit(c, &cur, v, memory_order_relaxed,
                                                             memory_order_relaxed)) {}
}

#endif /* RINGALLOC_ATOMICS_H */
