/* ring_shm.h - named tick rings in shared memory: create, attach from other processes, close, wait
 */
#ifndef RINGALLOC_RING_SHM_H
#define RINGALLOC_RING_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * A shared ring is a file (under /dev/shm, or a hugetlbfs mount for huge pages) that holds a
 * versioned header, the ring's control block and its data. One writer process creates it and
 * produces into it with the producer functions of ring.h; readers in any process attach to it by
 * name and read it with the reader functions of ring.h (docs/ring.md, "Shared rings").
 *
 * - Overwrite mode: readers map the ring read-only and never write it, so a reader process cannot
 *   corrupt the ring or other readers. A reader that registers (ra_reader_register) also maps the
 *   small registry writable and writes only its own slot, which the monitor (ringstat) reads; a
 *   reader sleeping in ra_reader_wait writes the waiters page (a count: a wrong one costs
 *   latency, never a message).
 * - Backpressure mode: the one consumer attaches with RA_ATTACH_CONSUMER and maps writable only
 *   the page that holds its position.
 * - Memory written by another process is outside input: a reader checks every control field and
 *   record header it uses and returns RA_ECORRUPT, never crashes, loops or reads out of bounds.
 * - End of stream: ra_ring_close() marks it; readers get RA_CLOSED after the last message.
 * - Writer death: a reader learns that the writer died without closing (its pid is gone, a
 *   zombie, or reused by another process) as RA_EDEAD, after draining what was committed.
 * ------------------------------------------------------------------------------------------- */

/* The clock of record timestamps (ts_ns) that the writer declares in the header. */
enum ra_shm_clock {
    RA_SHM_CLOCK_REALTIME = 0,  /* CLOCK_REALTIME nanoseconds (default): comparable across hosts */
    RA_SHM_CLOCK_MONOTONIC = 1, /* CLOCK_MONOTONIC nanoseconds: comparable on this host only */
    RA_SHM_CLOCK_OTHER = 2,     /* the writer's own units */
};

typedef struct ra_shm_options {
    unsigned mode;           /* file mode bits; 0 means 0600 */
    const char *dir;         /* directory of the ring file: NULL means /dev/shm; a hugetlbfs mount
                                gives huge pages */
    bool replace;            /* an existing file of that name is replaced (default: RA_EEXIST) */
    bool unlink_on_destroy;  /* ra_ring_destroy() by the writer unlinks the name (default: the
                                ring stays until ra_ring_unlink) */
    uint32_t clock;          /* enum ra_shm_clock, recorded in the header */
    uint32_t max_registered; /* registry slots for registered readers; 0 means 64 */
} ra_shm_options;

/*! ra_ring_create_shm() : creates the named ring `name` (a plain file name: no '/', at most 200
 * bytes) as the file DIR/NAME, sized for cfg->capacity (cfg->mem must be NULL) and with all of its
 * space allocated now, then initialises it and marks it ready. The caller is its writer: the
 * producer functions of ring.h apply to *out. opt may be NULL (defaults above).
 * @return RA_OK and *out set; RA_EINVAL (bad name, capacity, flags or options), RA_EEXIST (the
 *         name exists and opt->replace is false), RA_EPERM (no permission in the directory),
 *         RA_ENOSPC (not enough shared memory: nothing is left behind), RA_ENOENT (no such
 *         directory), RA_EIO (another system error); *out is NULL on failure. */
RA_API int ra_ring_create_shm(ra_ring **out, const char *name, const ra_ring_config *cfg,
                              const ra_shm_options *opt);

enum ra_attach_flags {
    RA_ATTACH_CONSUMER = 1u << 0, /* backpressure ring: attach as its one consumer (writes only
                                     the page of its own position) */
};

/*! ra_ring_attach() : opens the named ring in /dev/shm (or the path `name` when it contains a
 * '/', e.g. a file on hugetlbfs) for reading: read-only unless flags has RA_ATTACH_CONSUMER. The
 * reader functions of ring.h apply to *out; the producer functions refuse it. Release it with
 * ra_ring_destroy(), which never unlinks.
 * @return RA_OK and *out set; RA_ENOENT (no such ring), RA_EPERM (no permission), RA_ENOTREADY
 *         (the writer has not finished creating it: retry), RA_EVERSION (another layout version),
 *         RA_ECORRUPT (not a ring, truncated, or impossible header fields), RA_EINVAL (bad name or
 *         flags, or RA_ATTACH_CONSUMER on an overwrite ring), RA_EIO; *out is NULL on failure. */
RA_API int ra_ring_attach(ra_ring **out, const char *name, uint32_t flags);

/*! ra_ring_unlink() : removes the name (attached processes keep their mappings).
 * @return RA_OK, RA_ENOENT, RA_EPERM, RA_EINVAL (bad name) or RA_EIO. */
RA_API int ra_ring_unlink(const char *name);

/*! ra_ring_close() : the writer ends the stream: readers get RA_CLOSED once they have read
 * everything committed before it, and waiting readers wake. The writer may still destroy the
 * ring afterwards; nothing may be produced after close. Also valid on an in-process ring. */
RA_API void ra_ring_close(ra_ring *r);

/*! ra_ring_heartbeat() : the writer stores the current time as its heartbeat (commits do not).
 * The heartbeat is shown by monitors; it is never used to declare the writer dead. */
RA_API void ra_ring_heartbeat(ra_ring *r);

/*! ra_reader_wait() : blocks until the reader has a message to read, the stream is closed, the
 * writer died, or timeout_ns passed (a negative timeout waits without limit), without spinning
 * (a futex on a shared word, so it works between processes; the writer pays for a wake-up only
 * while someone waits; a ring attached without write permission on its file is polled in 1 ms
 * sleeps instead). The writer's death is seen within about 200 ms.
 * @return RA_OK (a message is ready: poll/read/peek it), RA_CLOSED (end of stream and nothing
 *         left to read), RA_EDEAD (the writer died and nothing left to read), RA_ETIMEDOUT,
 *         RA_ECORRUPT or RA_EINVAL. */
RA_API int ra_reader_wait(ra_reader *rd, int64_t timeout_ns);

/*! ra_reader_register() : takes a slot in the ring's registry of readers (shared rings only), in
 * which the reader publishes its pid, position, read, lost, laps and a heartbeat for monitors.
 * The slot is released by ra_reader_detach(); slots of dead processes are reclaimed.
 * When no slot is free, slots of dead processes are reclaimed first.
 * @return RA_OK; RA_EFULL (no free slot), RA_EINVAL (not a shared ring, or already registered),
 *         RA_EPERM (the ring was attached read-only: no write permission on its file). */
RA_API int ra_reader_register(ra_reader *rd);

/* A shared ring's header, as ra_ring_shm_info() reads it. */
typedef struct ra_shm_info {
    uint32_t layout_version; /* of the file */
    uint32_t clock;          /* enum ra_shm_clock */
    uint64_t capacity;
    uint32_t flags; /* enum ra_ring_flags */
    int32_t writer_pid;
    uint64_t writer_start; /* the writer's start time (clock ticks since boot, /proc/PID/stat) */
    uint64_t epoch;        /* grows each time a writer (re)creates the ring on this name */
    uint64_t heartbeat_ns; /* CLOCK_REALTIME of the writer's last heartbeat (0: none) */
    bool ready, closed;
    bool writer_alive;   /* the pid exists, is not a zombie, and has the same start time */
    bool replaced;       /* the name no longer refers to this file (unlinked, or replaced by a
                            new ring: attach again to read the new epoch) */
    uint32_t registered; /* registry slots in use */
    uint32_t max_registered;
} ra_shm_info;

/*! ra_ring_shm_info() : the header of a shared ring (attached or created).
 * @return RA_OK, or RA_EINVAL when r is not a shared ring. */
RA_API int ra_ring_shm_info(const ra_ring *r, ra_shm_info *info);

/* One registered reader, as ra_ring_shm_readers() reads it. */
typedef struct ra_shm_reader_info {
    int32_t pid;
    bool alive;            /* the process still exists (else the slot is stale) */
    uint64_t position_seq; /* the next sequence number it expects */
    uint64_t read, lost, laps;
    uint64_t heartbeat_ns; /* CLOCK_REALTIME of its last update */
} ra_shm_reader_info;

/*! ra_ring_shm_readers() : copies up to n registered readers into out; stale slots of dead
 * processes are reported with alive false (and reclaimed when `reclaim` is true and the caller
 * may write the registry).
 * @return the number of slots in use found (may exceed n), or a negative status. */
RA_API int ra_ring_shm_readers(const ra_ring *r, ra_shm_reader_info *out, size_t n, bool reclaim);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_RING_SHM_H */
