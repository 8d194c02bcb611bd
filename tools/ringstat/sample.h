/* sample.h - ringstat's view of the shared rings: finding them, sampling them, what is derived */
#ifndef RS_SAMPLE_H
#define RS_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ringalloc/ring_shm.h"

/* One ring and its last two samples. */
typedef struct rs_ring {
    char name[256];
    char path[512];
    ra_ring *ring; /* attached read-only */
    dev_t dev;     /* the file attached, to notice a ring unlinked or replaced */
    ino_t ino;
    bool has_prev;               /* a previous sample exists (rates are known) */
    ra_ring_stats st, prev;      /* the last sample and the one before */
    uint64_t t_ns, prev_t_ns;    /* CLOCK_MONOTONIC of each */
    ra_shm_info info;            /* the header at the last sample */
    double msgs_per_sec;         /* from the two samples (0 without a previous one) */
    double mb_per_sec;           /* payload MB (10^6) per second */
    bool has_heartbeat;          /* the writer stored a heartbeat */
    uint64_t heartbeat_age_ns;   /* CLOCK_REALTIME now - heartbeat */
    ra_shm_reader_info *readers; /* registered readers (slots in use; lag: rs_lag()) */
    size_t nreaders, readers_cap;
} rs_ring;

/* The last status said about a name that could not be shown (each is said once, until it
 * changes). */
typedef struct rs_note {
    char name[256];
    int status;
} rs_note;

/* The rings shown, sorted by name. */
typedef struct rs_set {
    rs_ring *rings;
    size_t n, cap;
    rs_note *notes;
    size_t nnotes, notes_cap;
} rs_set;

/* rs_set_update() : brings the set up to date: with names (nnames > 0) those rings, else every
 * ring in /dev/shm (each regular file that ra_ring_attach() accepts; other files are skipped in
 * silence). A ring that vanished, was replaced or cannot be attached is dropped (replaced: attached
 * again) with a message on err; so is a named ring that does not exist (said once, not at every
 * update, until its state changes).
 * @return the number of named rings that could not be shown (0 when scanning), or -1 when out of
 *         memory or /dev/shm cannot be read (message on err). */
int rs_set_update(rs_set *set, const char *const *names, size_t nnames, FILE *err);

/* rs_set_sample() : samples every ring (statistics, header, registered readers, reclaiming the
 * slots of dead readers when the ring allows it) and derives rates from the previous sample. A
 * ring whose memory fails under the reader (SIGBUS: its file shrank) or whose registry is corrupt
 * is dropped with a message on err. @return 0, or -1 when out of memory. */
int rs_set_sample(rs_set *set, FILE *err);

/* rs_set_free() : detaches every ring and frees the set. */
void rs_set_free(rs_set *set);

/* ---- pure derivations (tests/test_ringstat.c) ------------------------------------------------ */

/* rs_rates() : messages and payload MB (10^6 bytes) per second between two samples dt_ns apart;
 * 0 when dt_ns is 0 or a counter went backwards (a ring recreated under the name). */
void rs_rates(const ra_ring_stats *prev, const ra_ring_stats *cur, uint64_t dt_ns, double *msgs,
              double *mb);

/* rs_lag() : messages a reader at position `pos` has not reached: next_seq - pos, 0 when ahead.
 * @return the lag. */
uint64_t rs_lag(uint64_t next_seq, uint64_t pos);

/* rs_age() : now - then, 0 when then is in the future (clocks of two processes). @return ns. */
uint64_t rs_age(uint64_t now, uint64_t then);

#endif /* RS_SAMPLE_H */
