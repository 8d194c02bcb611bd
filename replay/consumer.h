/* consumer.h - what a replay reader does with what it reads: one interface, many consumers
 *
 * The engine (run.c, reader.c) owns the ring readers and knows nothing of what a consumer does.
 * Each reader thread gets its own consumer state (create) and feeds it:
 *   - on_msg: the poll handler itself. At --speed max ra_reader_poll() calls it in place for up to
 *     RP_CONS_BURST messages (the bytes may be overwritten while it looks: copy with
 *     ra_msg_copy() only what it needs and keep it aside); in the other modes it gets each
 *     message copied out by ra_reader_read(). It must not decide anything yet: a poll may find
 *     the last message torn afterwards, and then only the first n it saw count.
 *   - on_burst: after the poll (or read) that delivered n intact messages, with the clock read
 *     once just after it, and whether the reader had found the ring empty before (it was
 *     waiting: what was published until `now` found it idle, so its `now - publish stamp` is a
 *     delivery latency, not a backlog). The consumer commits the first n messages it kept and
 *     forgets the rest.
 *   - on_loss: the reader was lapped (lost is the ring reader's total); what on_msg kept since the
 *     last on_burst is void.
 * So the per-message cost is the one call poll makes anyway; on_burst is one call per burst.
 * After the threads are joined the engine asks verify() for the consumer's verdict and the
 * reports (report_json, report_human) for what it has to say about its reader.
 */
#ifndef RP_CONSUMER_H
#define RP_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringalloc/ring.h"
#include "json.h"

#define RP_CONS_BURST 16u /* messages per ra_reader_poll() at --speed max (one clock read) */

/* What a consumer is told about its reader when it is created. */
typedef struct rp_cons_env {
    unsigned index;  /* reader index, from 0 */
    bool paced;      /* --speed realtime / Nx / --pps (else max speed) */
    bool intervals;  /* the monitor will ask for interval snapshots (--stats-csv) */
    bool ts_stamp;   /* the publish stamp is the record's ts_ns (a shared ring, CLOCK_REALTIME,
                        and `now` on that clock), not an RP_STAMP_BYTES prefix (run.h) */
    const void *arg; /* the consumer's own settings (rp_run_config.first_arg), or NULL */
} rp_cons_env;

/* The generic counters of one reader (the ring's), given to verify() and the reports. */
typedef struct rp_reader_counts {
    uint64_t read, lost, laps; /* ra_reader_stats at the end */
    int error;                 /* 0, or the ra_status that stopped the reader */
} rp_reader_counts;

/* One interval's view for the monitor's CSV rows (filled on the reader thread). */
typedef struct rp_cons_interval {
    bool has_latency;        /* latency samples were taken in the interval */
    uint64_t p50_ns, p99_ns; /* their percentiles */
} rp_cons_interval;

typedef struct rp_consumer_ops {
    const char *name;
    /* @return the state for one reader, or NULL when out of memory */
    void *(*create)(const rp_cons_env *env);
    void (*destroy)(void *state);
    ra_handler on_msg; /* see above; ctx = state */
    void (*on_burst)(void *state, size_t n, uint64_t now, bool waited);
    void (*on_loss)(void *state, uint64_t lost);
    /* the interval since the last call (reader thread; only when env.intervals) */
    void (*interval)(void *state, rp_cons_interval *out);
    /* @return true when the consumer is satisfied with what it saw; else false with a reason
     * in why (published: the ring's final count) */
    bool (*verify)(const void *state, const rp_reader_counts *rc, uint64_t published, char *why,
                   size_t cap);
    /* its keys inside the reader's JSON object */
    void (*report_json)(const void *state, rp_json *j);
    /* its lines under "Reader N" in the human summary (11 columns of indent) */
    void (*report_human)(const void *state, FILE *f, bool paced);
    /* optional (NULL: none): its own top-level section of the JSON report, and its block of the
     * human summary after the readers (the book's `book` and "Book:") */
    void (*report_top_json)(const void *state, rp_json *j);
    void (*report_top_human)(const void *state, FILE *f);
} rp_consumer_ops;

/* The members every consumer defines, from functions named PREFIXcreate, PREFIXdestroy,
 * PREFIXon_msg, PREFIXon_burst, PREFIXon_loss, PREFIXinterval, PREFIXverify, PREFIXjson and
 * PREFIXhuman (the reports). */
#define RP_CONSUMER_OPS(p)                                                                         \
    .create = p##create, .destroy = p##destroy, .on_msg = p##on_msg, .on_burst = p##on_burst,      \
    .on_loss = p##on_loss, .interval = p##interval, .verify = p##verify, .report_json = p##json,   \
    .report_human = p##human

/* rp_cons_check : latency histograms and sequence continuity (cons_check.c). */
extern const rp_consumer_ops rp_cons_check;

/* A DBN instrument's name for the book (from the inputs' symbol mappings). */
typedef struct rp_book_name {
    uint32_t id;
    char name[32]; /* RA_BOOK_NAME_MAX */
} rp_book_name;

/* The book consumer's settings (--book ...), given as rp_cons_env.arg. */
typedef struct rp_book_opts {
    size_t max_orders;   /* --book-orders: the order pool's capacity (0: the library's default) */
    int on_empty;        /* --book-on-empty: enum ra_book_on_empty (book.h) */
    bool malloc_orders;  /* --book-alloc malloc: every order from malloc (RA_BOOK_MALLOC) */
    unsigned depth;      /* --book-depth N: levels per side in the JSON report (0: top only) */
    const char *symbol;  /* --symbol SYM: report only this symbol (NULL: all) */
    FILE *bbo;           /* --bbo FILE: each best bid/offer change is written here (NULL: none) */
    bool bbo_json;       /* JSON lines, else CSV with a header row */
    rp_book_name *names; /* DBN instrument names (rp_cons_book_names()), or NULL */
    size_t nnames;
} rp_book_opts;

/* rp_cons_book : full-depth order books from ITCH 5.0 and DBN MBO (cons_book.c, book.h). */
extern const rp_consumer_ops rp_cons_book;

/* rp_cons_book_finish() : after the run, before the reports: what the book cannot see in the
 * ring. feed_missing (sequence numbers the feed skipped) marks it incomplete; duplicates is what
 * the producer dropped before the ring (rp_run_result.duplicates). state may be NULL.
 * @return nothing; cannot fail. */
void rp_cons_book_finish(void *state, uint64_t feed_missing, uint64_t duplicates);

struct rp_source_opts; /* source.h */

/* rp_cons_book_names() : before the run: the instrument names of the DBN inputs among files
 * (their metadata's symbol mappings) into o->names, so that the book keys DBN symbols by name.
 * stdin ("-") and inputs that do not open are passed over (the run reports those).
 * @return 0, or -1 when out of memory (o->names then holds what was found; free it with free()). */
int rp_cons_book_names(rp_book_opts *o, const char *const *files, size_t nfiles,
                       const struct rp_source_opts *src);

#endif /* RP_CONSUMER_H */
