/* ring_shm_layout.h - the file of a shared ring: versioned header, sections, registry slots */
#ifndef RINGALLOC_RING_SHM_LAYOUT_H
#define RINGALLOC_RING_SHM_LAYOUT_H

/* A shared ring is one file, in sections that start on multiples of `unit` (the page size of the
 * file system: 4 KiB on tmpfs, the huge page size on hugetlbfs), so that each can be mapped with
 * its own protection:
 *
 *   0            header (ra__shm_hdr) at 0, control block (ra__ring_ctl) at RA__SHM_CTL_OFF
 *   unit         consumer page: ra__ring_cons (written by the backpressure consumer only)
 *   2 * unit     waiters page: ra__ring_wait (written by readers while they wait)
 *   3 * unit     registry: max_registered slots of RA__LINE bytes (registered readers)
 *   data_off     data: capacity bytes (data_off: the registry's end rounded up to unit)
 *   file_size    data_off + capacity rounded up to unit
 *
 * Nothing here is a pointer. Every field a reader uses is checked by ra__shm_check (ring_shm.c)
 * against the file's size and against the others before it is used. The writer stores `ready`
 * last, with release: a reader that loads 1 with acquire sees every other header field. */

#include <stdatomic.h>
#include <stdint.h>

#include "ring_layout.h"

#define RA__SHM_MAGIC   0x31474E5252485341ull /* "ASHRRNG1" */
#define RA__SHM_VERSION 1u                    /* the layout version; another is RA_EVERSION */
#define RA__SHM_CTL_OFF (4u * RA__LINE)       /* the control block, after the header's lines */
#define RA__SHM_MAX_REG 4096u                 /* registry slots at most */

enum ra__shm_wake {
    RA__WAKE_MEMBARRIER = 0, /* the writer relies on the waiters' membarrier (ring_wait.c) */
    RA__WAKE_FENCE = 1,      /* the writer fences before it looks for waiters */
};

typedef struct ra__shm_hdr {
    /* line 0: written once, before `ready` */
    uint64_t magic;
    uint32_t version;
    uint32_t hdr_size; /* sizeof(ra__shm_hdr) */
    uint64_t file_size;
    uint64_t capacity;
    uint32_t flags; /* enum ra_ring_flags */
    uint32_t clock; /* enum ra_shm_clock */
    uint32_t unit;  /* section alignment: the file system's page size */
    uint32_t max_registered;
    uint64_t ctl_off, cons_off, wait_off, reg_off, data_off;
    int32_t writer_pid;
    uint32_t wake;         /* enum ra__shm_wake */
    uint64_t writer_start; /* /proc/PID/stat field 22 of the writer */
    uint64_t epoch;        /* one more than the ring this one replaced */
    char pad0[RA__LINE - 112];
    /* line 1: written by the writer after create */
    _Atomic uint32_t ready; /* 1: complete (stored last, release) */
    uint32_t pad1;
    _Atomic uint64_t heartbeat_ns; /* CLOCK_REALTIME of ra_ring_heartbeat */
    char pad2[RA__LINE - 16];
} ra__shm_hdr;
_Static_assert(sizeof(ra__shm_hdr) == 2 * RA__LINE, "shared ring header layout");
_Static_assert(sizeof(ra__shm_hdr) <= RA__SHM_CTL_OFF, "the header fits before the control block");

/* One registered reader, on its own line pair: only its reader writes it (relaxed stores), the
 * monitor reads it. pid 0: free. A reader takes a slot with a CAS of pid from 0; the monitor
 * frees the slot of a dead process with a CAS back to 0. */
typedef struct ra__reg_slot {
    _Atomic int32_t pid;
    uint32_t pad;
    _Atomic uint64_t start; /* the reader's start time (/proc/PID/stat field 22); 0: not yet */
    _Atomic uint64_t position_seq, read, lost, laps, heartbeat_ns;
    char pad1[RA__LINE - 56];
} ra__reg_slot;
_Static_assert(sizeof(ra__reg_slot) == RA__LINE, "registry slot layout");

#endif /* RINGALLOC_RING_SHM_LAYOUT_H */
