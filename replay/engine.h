/* engine.h - the inside of rp_run(): the state its producer, reader and monitor threads share
 *
 * Not a public interface of the tool: run.c, producer.c, reader.c and monitor.c only.
 * Cache lines: what the producer writes per message or batch (the ring itself, its progress
 * counters) never shares a line with what readers load on every poll (producer_done and the
 * read-only settings), and each reader's own counters sit on lines of their own.
 */
#ifndef RP_ENGINE_H
#define RP_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

#define RP_ENGINE_READER_BUF (65536u + RP_STAMP_BYTES)

typedef struct rp_engine rp_engine;

/* One reader thread's state. */
typedef struct rp_engine_reader {
    _Alignas(64) ra_reader rd; /* its own cache lines: readers never share a written line */
    rp_engine *run;
    unsigned idx;
    unsigned char *buf; /* ra_reader_read()'s buffer (the copying modes) */
    size_t cap;
    const rp_consumer_ops *ops; /* its consumer (rp_run_ops()) */
    void *cons;                 /* the consumer's state */
    rp_reader_counts *out;      /* filled at the end */
    unsigned snap_seen;         /* the last snapshot request answered (reader's own) */
    uint64_t wake_batch;        /* --speed max: messages an idle reader sleeps for */
    /* for the monitor: relaxed, statistics only */
    atomic_uint_fast64_t pub_read, pub_lost, pub_laps;
    /* the answer to snapshot request snap_ack (--stats-csv): the fields are stored relaxed, then
     * snap_ack with release; the monitor acquire-loads snap_ack before reading them */
    atomic_uint snap_ack;
    atomic_bool snap_has;
    atomic_uint_fast64_t snap_read, snap_lost, snap_laps, snap_p50, snap_p99;
} rp_engine_reader;

struct rp_engine {
    /* read-only once the threads run (readers load these lines, nobody writes them) */
    const rp_run_config *cfg;
    const rp_consumer_ops *ops;
    rp_run_result *res;
    ra_ring *ring;
    rp_engine_reader *readers;
    unsigned ncpu;
    uint64_t total_bytes; /* sum of input file sizes times loops; 0 when unknown */
    uint64_t t_start;     /* set before the threads start */
    /* release-stored by the producer after its last commit; acquire-loaded by readers so that a
     * subsequent empty read proves they have seen everything. Written once. */
    _Alignas(64) atomic_bool producer_done;
    /* whether the run has more busy threads than CPUs (producer, readers, and a decompression
     * worker while a zstd input is open): idle readers then yield their CPU instead of spinning.
     * Relaxed: a scheduling hint, orders nothing; written when an input opens. */
    atomic_bool crowded;
    /* progress published by the producer every 256 messages (relaxed: statistics only) */
    _Alignas(64) atomic_uint_fast64_t prog_msgs, prog_bytes;
    /* sleeping readers (reader.c "Idle readers"): written by readers when they go to sleep and
     * by the producer when it wakes them; loaded relaxed by the producer after every batch */
    _Alignas(64) atomic_uint sleepers;
    atomic_uint wake_word;        /* the futex word: bumped by every wake */
    atomic_uint_fast64_t wake_at; /* wake the sleepers once the producer's index reaches it */
    /* snapshot requests from the monitor (--stats-csv): bumped once per interval; readers load
     * it relaxed at their publish points and answer (see rp_engine_reader.snap_ack) */
    _Alignas(64) atomic_uint snap_req;
    /* the monitor's own (--stats-csv) */
    uint64_t csv_last_msgs, csv_last_t;
    /* monitor wake-ups: threads count themselves out under the mutex */
    _Alignas(64) pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned finished;
    /* written by the producer, read by the caller after pthread_join */
    uint64_t t_end;
    int status;
    char err[512];
};

/* rp_engine_producer() : the producer thread (producer.c); arg is the rp_engine. */
void *rp_engine_producer(void *arg);

/* rp_engine_reader_main() : a reader thread (reader.c); arg is its rp_engine_reader. */
void *rp_engine_reader_main(void *arg);

/* rp_engine_monitor() : waits until `threads` threads have called rp_engine_finish(), drawing
 * progress and stats lines meanwhile (monitor.c). */
void rp_engine_monitor(rp_engine *x, unsigned threads);

/* rp_engine_wake() : wakes the sleeping readers when index has reached what they wait for
 * (all of them when final: the producer is done). The producer calls it after a batch when
 * `sleepers` is nonzero, the monitor with final to have snapshot requests answered. */
void rp_engine_wake(rp_engine *x, uint64_t index, bool final);

/* rp_engine_csv_rows() : the --stats-csv rows of one sample (monitor.c); final: after the joins,
 * with every count exact. */
void rp_engine_csv_rows(rp_engine *x, uint64_t now, bool final);

/* rp_engine_finish() : a thread counts itself out and wakes the monitor. */
void rp_engine_finish(rp_engine *x);

#endif /* RP_ENGINE_H */
