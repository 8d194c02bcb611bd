/* ring_priv.h - the tick ring's process-local handle (ring.c, ring_write.c, ring_read.c) */
#ifndef RINGALLOC_RING_PRIV_H
#define RINGALLOC_RING_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "osmem.h"
#include "ring_layout.h"

/* A shared ring's file and mappings (ring_shm.c; the file layout: ring_shm_layout.h). */
struct ra__shm {
    struct ra__shm_hdr *hdr;  /* the header, at the start of the mapping */
    struct ra__reg_slot *reg; /* the registry: nreg slots */
    uint32_t nreg;
    uint32_t clock;         /* enum ra_shm_clock */
    bool writer;            /* this handle created the ring */
    bool unlink_on_destroy; /* the writer unlinks the name at destroy */
    bool rdwr;              /* the file was opened for writing: sections may be made writable */
    bool wait_rw;           /* the waiters page is writable here */
    _Atomic int reg_rw;     /* the registry is writable here (made so on first use) */
    int32_t writer_pid;     /* from the header, checked at attach */
    uint64_t writer_start;
    uint64_t epoch;
    uint64_t dev, ino; /* the file, to tell whether the name was replaced */
    size_t unit;       /* section alignment */
    char path[];       /* the file's path */
};

/* The handle: pointers into this process's mapping of the block (ring_layout.h) plus what only
 * the producer needs. */
struct ra_ring {
    /* read-only after create; readers use these */
    ra__ring_ctl *ctl;
    unsigned char *data;
    ra__ring_cons *cons; /* the backpressure consumer's fields: &ctl->cons, or a shared page */
    ra__ring_wait *wait; /* waiting readers (ring_wait.c): &wait_local, or a shared page */
    struct ra__shm *shm; /* shared ring (ring_shm.c), NULL in-process */
    bool ro;             /* attached handle: the producer functions refuse it */
    bool may_consume;    /* a backpressure reader may attach (its page is writable here) */
    bool wfence;         /* the producer fences before it looks for waiters (see ring_wait.c) */
    uint64_t capacity;
    uint64_t mask;
    uint32_t max_msg;
    uint32_t flags;
    struct ra__region mem; /* the block's memory (osmem.h): where it came from, huge pages */
    bool pfw;              /* the CPU has PREFETCHW (x86): see ra__prefetch_w in ring_write.c */
    /* producer-private, on its own line. Sequence numbers and statistics have one copy only, in
     * the control block: the producer reads back what it stored there (its own stores, in its
     * cache while readers leave that line alone), so a record costs one store per field. Tail and
     * intent sit on the line readers poll, which leaves this core after every commit: the
     * producer keeps its own copy of them (ring_write.c). */
    _Alignas(RA__LINE) uint64_t own_tail; /* == ctl->tail, as the producer last stored it */
    uint64_t own_intent;                  /* == ctl->intent, likewise */
    uint64_t own_coarse;                  /* == ctl->coarse, likewise */
    uint64_t consumed;                    /* backpressure: last consumed position seen */
    uint64_t pad_pos[2]; /* the last two padding records written (UINT64_MAX: none) */
    unsigned pad_idx;    /* which of them the next pad replaces */
    uint64_t resv_pos;   /* start of the reserved record */
    uint32_t resv_max;   /* its max_len */
    bool reserved;
    _Alignas(RA__LINE) ra__ring_wait wait_local; /* in-process rings' waiters */
};

/* ring.c: a zeroed handle, and its setup over a block whose control block is ctl. */
ra_ring *ra__ring_alloc(void);
void ra__ring_setup(ra_ring *r, ra__ring_ctl *ctl, unsigned char *data, uint64_t capacity,
                    uint32_t flags);
/* ring.c: the largest payload of a ring of `capacity` bytes (capacity / 4 - header). */
uint32_t ra__ring_max_msg(uint64_t capacity);

/* ring_wait.c */
void ra__wake(const ra_ring *r); /* wakes the readers sleeping in ra_reader_wait */
bool ra__wake_needs_fence(void); /* true when this process could not register for the
                                    asymmetric barrier: producers fence (ring_wait.c) */
int ra__dry(ra_reader *rd);      /* a reader found nothing: RA_EMPTY, RA_CLOSED, RA_EDEAD,
                                    RA_ECORRUPT, or RA_OK when more was published */
bool ra__pid_alive(int32_t pid, uint64_t start);   /* the process runs with that start time */
bool ra__proc_start(int32_t pid, uint64_t *start); /* its start time (/proc/PID/stat field 22) */

/* ring_shm.c */
void ra__shm_release(ra_ring *r);        /* destroy of a shared ring: unmap (unlink: see opts) */
void ra__slot_sync(const ra_reader *rd); /* a registered reader publishes its counters */
void ra__slot_release(ra_reader *rd);    /* ra_reader_detach of a registered reader */

#endif /* RINGALLOC_RING_PRIV_H */
