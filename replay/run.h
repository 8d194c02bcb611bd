/* run.h - replay's engine: one producer thread feeding a tick ring, N reader threads draining it */
#ifndef RP_RUN_H
#define RP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringalloc/ring.h"
#include "consumer.h"
#include "pacing.h"
#include "source.h"
#include "util.h"

/* Each record of a private ring is [8-byte publish stamp][message bytes]: the stamp is the
 * producer's CLOCK_MONOTONIC time in ns (host byte order) taken just before commit, from which
 * readers measure writer-to-reader latency; the record's ts_ns keeps the message's capture
 * timestamp and its type the message type (RP_TYPE_NONE for untyped payloads).
 * A shared ring (--shm) holds one message per record with no prefix, as every process expects:
 * its type is the message type and its ts_ns the publish time on CLOCK_REALTIME (the stamp). */
#define RP_STAMP_BYTES 8u

#define RP_RUN_MAX_READERS 64u

typedef struct rp_run_config {
    const char *const *files; /* input paths, "-" for stdin (at most once, and only with loops 1) */
    size_t nfiles;
    rp_source_opts src;       /* format, framing, BPF filter */
    size_t ring_size;         /* data bytes, power of two >= RA_RING_MIN_CAPACITY */
    unsigned readers;         /* 0..RP_RUN_MAX_READERS; 0 = publish only (no reader thread) */
    uint64_t reader_delay_ns; /* simulated work per message in each reader */
    enum ra_start resume;     /* RA_START_OLDEST or RA_START_NEWEST after a lap */
    rp_pace pace;             /* mode, speed, pps (the anchors are set by the run) */
    uint64_t loops;           /* passes over the inputs, >= 1 */
    uint64_t limit;           /* stop after this many messages, 0 = no limit */
    double stats_interval;    /* seconds between stats lines on stderr, 0 = none */
    FILE *stats_csv;          /* per-interval CSV rows (every stats_interval, else 1 s), or NULL */
    bool progress;            /* draw a progress line on stderr (a TTY) */
    bool strict;              /* a truncated last record is an input error */
    int rt_priority;          /* > 0: the producer (which paces, and sends) runs SCHED_FIFO */
    const rp_consumer_ops *consumer; /* what each reader does (NULL: rp_cons_check) */
    const rp_consumer_ops *first;    /* reader 0's consumer instead (NULL: as the others) */
    const void *first_arg;           /* its settings (rp_cons_env.arg) */
    bool dedup; /* drop messages whose stream already had their sequence number (producer.c) */
    /* --shm: publish into the named shared ring (ring_shm.h) instead of a private one */
    const char *shm_name; /* NULL: a private ring */
    const char *shm_dir;  /* the ring file's directory (NULL: /dev/shm) */
    unsigned shm_mode;    /* file mode bits (0: the library's 0600) */
    bool shm_replace;     /* replace a ring of that name that exists */
    bool shm_unlink;      /* remove the name at the end (else the ring stays for late readers) */
    /* --send: the packet sink beside the ring (send.h), or NULL. It paces the run itself: the
     * producer then writes each message as soon as the sender has handled its packet */
    struct rp_sender *sender;
} rp_run_config;

/* rp_stamp_bytes() : the prefix of each record of cfg's ring: RP_STAMP_BYTES, or 0 on a shared
 * ring. @return the byte count. */
static inline uint32_t rp_stamp_bytes(const rp_run_config *cfg)
{
    return cfg->shm_name ? 0u : RP_STAMP_BYTES;
}

#define RP_RUN_NAMES 64

typedef struct rp_run_result {
    /* input */
    uint64_t files_opened;      /* sources opened, over all passes */
    char format[RP_RUN_NAMES];  /* format name, or the distinct names joined by ',' */
    char framing[RP_RUN_NAMES]; /* framing found ("" for files without framing) */
    bool compressed;            /* some input was zstd */
    rp_feed_stats feed;         /* summed over every source and pass */
    uint64_t untyped;           /* messages with type RP_TYPE_NONE */
    uint64_t msg_bytes;         /* message bytes offered to the ring (stamps excluded) */
    uint64_t passes;            /* passes completed */
    bool limited;               /* stopped by --limit */
    bool interrupted;           /* stopped by rp_stop_request() (a signal) */
    bool no_timestamps;         /* --speed was asked for but the input has no timestamps */
    uint64_t duplicates;        /* cfg->dedup: messages dropped as already seen */
    char warnings[1024];        /* warning lines (each ends with '\n'), already formatted */
    /* ring */
    ra_ring_stats ring;
    uint32_t max_msg;
    bool shm_closed; /* --shm: the ring was closed (its readers get end of stream) */
    bool shm_kept;   /* --shm: the name still exists after the run (no --unlink) */
    /* readers */
    unsigned nreaders;
    rp_reader_counts *readers;       /* the ring's counters of each reader */
    const rp_consumer_ops *consumer; /* what the readers ran */
    const rp_consumer_ops *first;    /* what reader 0 ran instead (NULL: consumer) */
    void **cons;                     /* each reader's consumer state */
    bool verified;                   /* every reader's consumer verify()ed its reader */
    char why[512];                   /* when not verified: "reader N: <reason>" lines */
    /* throughput: from the producer's start to its last message */
    double seconds;
} rp_run_result;

/* rp_run_ops() : the consumer reader i ran. @return it (never NULL). */
static inline const rp_consumer_ops *rp_run_ops(const rp_run_result *res, unsigned i)
{
    return i == 0 && res->first ? res->first : res->consumer;
}

enum rp_run_status {
    RP_RUN_OK = 0,
    RP_RUN_EEXIST = 1,  /* --shm NAME exists and shm_replace is false; err says so */
    RP_RUN_EINPUT = 2,  /* input error; err names the file and offset */
    RP_RUN_ESYSTEM = 3, /* ring or thread creation failed, or a reader hit a ring error */
};

/* rp_run() : replays cfg->files (cfg->loops times) through a ring of cfg->ring_size bytes into
 * cfg->readers reader threads, pacing as cfg->pace says, and fills *res. Progress and stats lines
 * go to stderr while it runs (nothing else is printed: warnings are collected in res->warnings).
 * rp_stop_request() (util.h) stops it after the current message, as if the input had ended
 * (res->interrupted is set).
 * res must be released with rp_run_result_free() whatever the outcome.
 * @return RP_RUN_OK (check res->verified), RP_RUN_EINPUT or RP_RUN_ESYSTEM with a message in
 *         err; res is then incomplete and must not be reported. */
int rp_run(const rp_run_config *cfg, rp_run_result *res, char *err, size_t errlen);

/* rp_run_result_free() : releases what rp_run() allocated in res. */
void rp_run_result_free(rp_run_result *res);

#endif /* RP_RUN_H */
