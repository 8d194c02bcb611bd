/* ring_priv.h - the tick ring's process-local handle (ring.c, ring_write.c, ring_read.c) */
#ifndef RINGALLOC_RING_PRIV_H
#define RINGALLOC_RING_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osmem.h"
#include "ring_layout.h"

/* The handle: pointers into this process's mapping of the block (ring_layout.h) plus what only
 * the producer needs. */
struct ra_ring {
    /* read-only after create; readers use these */
    ra__ring_ctl *ctl;
    unsigned char *data;
    uint64_t capacity;
    uint64_t mask;
    uint32_t max_msg;
    uint32_t flags;
    struct ra__region mem; /* the block's memory (osmem.h): where it came from, huge pages */
    bool pfw;              /* the CPU has PREFETCHW (x86): see ra__prefetch_w in ring_write.c */
    /* producer-private, on its own line. Positions, sequence numbers and statistics have one copy
     * only, in the control block: the producer reads back what it stored there (its own stores,
     * always in its cache), so a record costs one store per field, not two. */
    _Alignas(RA__LINE) uint64_t consumed; /* backpressure: last consumed position seen */
    uint64_t pad_pos[2]; /* the last two padding records written (UINT64_MAX: none) */
    unsigned pad_idx;    /* which of them the next pad replaces */
    uint64_t resv_pos;   /* start of the reserved record */
    uint32_t resv_max;   /* its max_len */
    bool reserved;
};

#endif /* RINGALLOC_RING_PRIV_H */
