/* cat.h - ringcat's reader: reads a shared ring to its end, printing or counting, and reports */
#ifndef RC_CAT_H
#define RC_CAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ringalloc/ring_shm.h"
#include "hist.h"

/* What ringcat does with what it reads. */
enum rc_output {
    RC_PRINT = 0, /* one line per message on stdout (rp_dump_line, ITCH decoded) */
    RC_COUNT = 1, /* nothing per message; the summary on stdout */
    RC_JSON = 2,  /* nothing per message; one JSON object on stdout */
};

typedef struct rc_opts {
    const char *name;
    enum ra_start from; /* where the reader starts */
    bool reg;           /* take a registry slot (ra_reader_register): ringstat shows it */
    uint64_t wait_ns;   /* how long to wait for the name to appear and become ready */
    enum rc_output output;
} rc_opts;

typedef struct rc_result {
    uint64_t read, lost, laps;
    bool closed;        /* end of stream: the writer closed the ring */
    bool writer_dead;   /* the writer died without closing it */
    bool interrupted;   /* SIGINT or SIGTERM */
    bool has_latency;   /* the ring's clock is CLOCK_REALTIME: latency was measured */
    int error;          /* 0, or the ring status that stopped the reader */
    int32_t writer_pid; /* from the header, for the messages */
    rp_hist latency;    /* CLOCK_REALTIME at delivery - the record's ts_ns, ns */
} rc_result;

/* rc_cat_run() : reads ring r as o says until end of stream, writer death, a stop request or an
 * error, and fills *res (res->latency is initialised here).
 * @return 0 when it ended by close, death or a stop; else -1 with res->error set (a ring error,
 *         RA_ENOMEM, or RA_EIO when stdout could not be written) or with a registry error
 *         (ra_reader_register's status) in res->error. */
int rc_cat_run(ra_ring *r, const rc_opts *o, rc_result *res);

/* rc_report_json() : {"read", "lost", "laps", "closed", "writer_dead", "latency_ns": {"p50",
 * "p99", "p999", "max"}} on f in one piece.
 * @return 0, or -1 when out of memory or the write failed. */
int rc_report_json(FILE *f, const rc_result *res);

/* rc_report_human() : the one-paragraph summary on f. */
void rc_report_human(FILE *f, const rc_opts *o, const rc_result *res);

#endif /* RC_CAT_H */
