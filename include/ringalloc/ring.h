/* ring.h - the tick ring: variable-length messages, one producer, many readers, FIFO overwrite */
#ifndef RINGALLOC_RING_H
#define RINGALLOC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The contract, in brief (docs/ring.md has the protocol and the memory-ordering argument).
 *
 * - One producer thread publishes records; each committed message gets the next 64-bit
 *   sequence number: 0, 1, 2, ...
 * - Overwrite mode (default): the producer never waits. When the buffer is full it retires the
 *   oldest records (counting them in `overwritten`) to make room. Readers never write shared
 *   memory; a reader that falls a whole buffer behind is told so once (RA_LAPPED), moved to the
 *   oldest intact record (or some slack past it, or the newest, by option), and its `lost`
 *   counter grows by exactly the number of sequence numbers it skipped. For every reader at any
 * time: read + lost == next expected seq - start seq.
 * - A message that was being overwritten while a reader copied it is never delivered as valid.
 * - Backpressure mode (RA_RING_BACKPRESSURE): exactly one reader, lossless; reserve() returns
 *   NULL and write() RA_EFULL while the reader has not freed room (counted in `full`).
 * - A message larger than ra_ring_max_msg() is refused (RA_ETOOBIG, counted in `too_big`).
 *
 * Threading: the producer calls reserve/commit/write from one thread at a time. Each ra_reader is
 * used by one thread at a time; any number of readers may run concurrently with the producer.
 * ra_ring_get_stats(), ra_reader_get_stats() and ra_reader_lag() may be called from any thread.
 * ------------------------------------------------------------------------------------------- */

typedef struct ra_ring ra_ring;

enum ra_ring_flags {
    RA_RING_BACKPRESSURE = 1u << 0, /* one lossless reader; the producer is refused when full */
    RA_RING_HUGEPAGES = 1u << 1,    /* try MAP_HUGETLB; silently fall back (see stats.hugepages) */
    RA_RING_PREFAULT = 1u << 2,     /* touch every page at create so the hot path never faults */
};

typedef struct ra_ring_config {
    size_t capacity; /* data bytes, a power of two, >= RA_RING_MIN_CAPACITY */
    uint32_t flags;  /* enum ra_ring_flags */
    void *mem;       /* optional caller memory of ra_ring_footprint(capacity) bytes, 64-aligned */
    size_t mem_len;  /* its length */
} ra_ring_config;

#define RA_RING_MIN_CAPACITY 4096u
#define RA_RING_HDR_SIZE     24u /* bytes of record header before each payload */
#define RA_RING_ALIGN        8u  /* records start on 8-byte boundaries */
#define RA_RING_MEM_ALIGN    64u /* required alignment of caller memory */

/*! ra_ring_footprint() : bytes of memory a ring of `capacity` data bytes needs (control block
 * plus data), for callers that supply their own memory.
 * @return the size, or 0 when capacity is not a power of two >= RA_RING_MIN_CAPACITY. */
RA_API size_t ra_ring_footprint(size_t capacity);

/*! ra_ring_create() : makes a ring. With cfg->mem the ring lives in that memory (never freed by
 * the ring); otherwise on the heap, or in huge pages with RA_RING_HUGEPAGES (falling back to
 * normal pages when none are available).
 * @return RA_OK and *out set, or RA_EINVAL (bad capacity, flags, or caller memory too small or
 *         misaligned) or RA_ENOMEM; *out is NULL on failure. */
RA_API int ra_ring_create(ra_ring **out, const ra_ring_config *cfg);

/*! ra_ring_destroy() : frees the ring (not caller memory). No reader may use it afterwards.
 * NULL is accepted. */
RA_API void ra_ring_destroy(ra_ring *r);

/*! ra_ring_max_msg() : the largest payload the ring accepts (capacity / 4 - 24 header bytes:
 * the bound that lets a lapped reader always find an intact record).
 * @return bytes. */
RA_API uint32_t ra_ring_max_msg(const ra_ring *r);

/*! ra_ring_capacity() : the data capacity in bytes. */
RA_API size_t ra_ring_capacity(const ra_ring *r);

/* ---- producer (one thread) ---------------------------------------------------------------- */

/*! ra_ring_reserve() : space for a payload of up to `max_len` bytes, to be filled in place and
 * then published with ra_ring_commit(). In overwrite mode this retires the oldest records that
 * the reservation covers. Calling reserve twice without commit re-reserves (the first is
 * abandoned).
 * @return a pointer to 8-byte aligned payload space, or NULL when max_len > ra_ring_max_msg()
 *         (counted as too_big) or, in backpressure mode, when the reader has not freed enough
 *         room (counted as full; retry later). */
RA_API void *ra_ring_reserve(ra_ring *r, uint32_t max_len);

/*! ra_ring_commit() : publishes the reserved record with `len` (<= the reserved max_len; the
 * record shrinks to it), message type and timestamp.
 * @return the message's sequence number; UINT64_MAX when there is no reservation or len is
 *         larger than reserved (nothing is published). */
RA_API uint64_t ra_ring_commit(ra_ring *r, uint32_t len, uint16_t type, uint64_t ts_ns);

/*! ra_ring_commit_seq() : ra_ring_commit() with a status, like every other call: publishes the
 * reserved record with `len` (<= the reserved max_len), type and timestamp, and stores its
 * sequence number in *seq_out (which may be NULL).
 * @return RA_OK; RA_EINVAL when there is no reservation or len is larger than reserved (nothing
 *         is published, *seq_out is left alone). */
RA_API int ra_ring_commit_seq(ra_ring *r, uint32_t len, uint16_t type, uint64_t ts_ns,
                              uint64_t *seq_out);

/*! ra_ring_write() : reserve + copy + commit.
 * @return RA_OK, RA_ETOOBIG (len > ra_ring_max_msg()), RA_EFULL (backpressure, no room), or
 *         RA_EINVAL (p NULL with len > 0). */
RA_API int ra_ring_write(ra_ring *r, uint16_t type, uint64_t ts_ns, const void *p, uint32_t len);

/* One message for ra_ring_write_batch(). */
typedef struct ra_wmsg {
    const void *data; /* payload bytes (may be NULL when len is 0) */
    uint32_t len;     /* payload bytes */
    uint16_t type;    /* message type */
    uint64_t ts_ns;   /* timestamp */
} ra_wmsg;

/*! ra_ring_write_batch() : writes msgs[0..n) in order, as if by n calls of ra_ring_write(): each
 * message is its own record with its own sequence number, and the ring's contents and statistics
 * afterwards are exactly those n writes would leave. Each record's payload is the `pre_len` bytes
 * at `pre` (the same for every message: a receive stamp, a channel id; pre_len 0 for none)
 * followed by msgs[i].data. The positions, the statistics and the retiring of old records are
 * done once per run of records (up to a quarter of the capacity, never across the end of the
 * data), not once per message, and readers see the run appear at once: a batch is cheaper than
 * the same writes one by one when a packet carries several messages.
 * @return RA_OK when all n were written; otherwise the error ra_ring_write() would give for
 *         msgs[*written], which is not written, nor anything after it: RA_ETOOBIG (pre_len + len
 *         > ra_ring_max_msg(), counted as too_big), RA_EFULL (backpressure, no room, counted as
 *         full), RA_EINVAL (data NULL with len > 0, pre NULL with pre_len > 0, msgs NULL with n >
 *         0). `written` (may be NULL) gets the number of messages written. An open reservation
 *         is abandoned, as by ra_ring_write(). */
RA_API int ra_ring_write_batch(ra_ring *r, const ra_wmsg *msgs, size_t n, const void *pre,
                               uint32_t pre_len, size_t *written);

/* ---- readers (any number, each used by one thread at a time) ------------------------------- */

typedef struct ra_msg {
    uint64_t seq;     /* sequence number */
    uint64_t ts_ns;   /* timestamp given at commit */
    const void *data; /* payload: the caller's buffer (read) or the ring itself (peek, poll) */
    uint32_t len;     /* payload bytes */
    uint16_t type;    /* message type given at commit */
} ra_msg;

typedef void (*ra_handler)(const ra_msg *m, void *ctx);

enum ra_start {
    RA_START_OLDEST, /* the oldest intact message */
    RA_START_NEWEST, /* the last committed message (or the next, when none exists) */
    RA_START_NEXT    /* only what is committed after init */
};

/* A reader is a complete type so that it can live on the stack or inside the caller's struct.
 * Its fields are private: use the functions below. */
typedef struct ra_reader {
    const ra_ring *ring;
    const unsigned char *data; /* the ring's data area */
    uint64_t mask;             /* capacity - 1 */
    uint64_t cursor;           /* byte position of the next record */
    uint64_t expect_seq;       /* sequence number of the next record */
    uint64_t start_seq;        /* expect_seq at init */
    uint64_t cached_tail;      /* last tail seen; records below it are published */
    uint64_t pending;          /* size of the record handed by peek, 0 if none */
    union {
        uint64_t released; /* backpressure consumer: position last handed back to the producer */
        uint64_t slack;    /* overwrite mode: bytes past the oldest record to resume at */
    };
    uint64_t read, lost, laps; /* written by the reader's thread only, as relaxed atomics */
    uint32_t resume;   /* enum ra_start used after a lap: RA_START_OLDEST or RA_START_NEWEST */
    uint32_t consumer; /* 1 when this reader is the backpressure consumer */
    uint32_t slot;     /* shared rings: registry slot + 1 (ra_reader_register), 0 if none */
    int32_t state;     /* 0, or the sticky end: RA_CLOSED, RA_EDEAD, RA_ECORRUPT */
    uint64_t check_ns; /* shared rings: when to look at the writer's liveness next */
} ra_reader;

/*! ra_reader_init() : positions a reader (see enum ra_start). After a lap the reader resumes at
 * the oldest intact record; ra_reader_set_resume() and ra_reader_set_resume_slack() change that. In
 * backpressure mode only one reader may be attached: it becomes the consumer that frees room for
 * the producer.
 * @return RA_OK, RA_EINVAL (NULL argument, bad start, a second backpressure reader, or a shared
 *         backpressure ring attached without RA_ATTACH_CONSUMER), or RA_ECORRUPT (a shared
 *         ring's memory holds impossible positions; never in-process). */
RA_API int ra_reader_init(ra_reader *rd, const ra_ring *r, enum ra_start start);

/*! ra_reader_detach() : releases the backpressure consumer slot (no-op in overwrite mode), so
 * that another reader may attach, and the reader's registry slot (ra_reader_register). */
RA_API void ra_reader_detach(ra_reader *rd);

/*! ra_reader_set_resume() : where a lapped reader continues: RA_START_OLDEST (default) or
 * RA_START_NEWEST.
 * @return RA_OK or RA_EINVAL. */
RA_API int ra_reader_set_resume(ra_reader *rd, enum ra_start where);

/*! ra_reader_set_resume_slack() : resume with slack. By default a lapped reader resumes at the
 * oldest intact record exactly; under sustained overload that record is the next one the
 * producer overwrites, so the reader is lapped again at once. With slack_bytes > 0 it resumes at
 * the first record at least slack_bytes past the oldest (never past the newest), skipping the
 * records in between (counted in `lost`), so that it has slack_bytes of writes before the next
 * lap. 0 restores the exact oldest. Applies to the RA_START_OLDEST resume (not to NEWEST, which
 * skips to the newest anyway); no effect in backpressure mode, where a reader is never lapped.
 * Call it after ra_reader_init(), which resets it to 0.
 * @return RA_OK, or RA_EINVAL (rd NULL, or slack_bytes >= the ring's capacity). */
RA_API int ra_reader_set_resume_slack(ra_reader *rd, uint64_t slack_bytes);

/*! ra_reader_read() : copies the next message into buf (m->data == buf).
 * @return RA_OK; RA_EMPTY when nothing new is committed; RA_CLOSED when the writer closed the
 *         stream (ra_ring_close) and everything before it was read; RA_EDEAD (shared rings) when
 *         the writer died without closing and everything it committed was read; RA_LAPPED when the
 * reader was overtaken (nothing delivered by this call, the reader repositioned, `lost` grown);
 * RA_ETOOBIG when cap < m->len (the message stays unread; m->len says what is needed); RA_ECORRUPT
 * when the ring memory holds an impossible record (never in-process). */
RA_API int ra_reader_read(ra_reader *rd, void *buf, size_t cap, ra_msg *m);

/*! ra_reader_peek() : the next message in place (m->data points into the ring) without
 * consuming it. The bytes may be overwritten by the producer while in use: finish with
 * ra_reader_advance(), which says whether they were.
 * @return RA_OK, RA_EMPTY, RA_LAPPED, RA_CLOSED, RA_EDEAD (as for read) or RA_ECORRUPT. */
RA_API int ra_reader_peek(ra_reader *rd, ra_msg *m);

/*! ra_reader_advance() : consumes the message handed by the last peek.
 * @return RA_OK; RA_LAPPED when it was overwritten while in use (discard what was derived from
 *         it; the reader is repositioned and `lost` counts it); RA_EINVAL without a peek. */
RA_API int ra_reader_advance(ra_reader *rd);

/*! ra_reader_poll() : hands up to max_msgs messages in place to fn, in order. A message found
 * overwritten after fn returned is counted as lost (not read) and ends the batch: compare
 * ra_reader_stats.laps before and after, or use ra_reader_poll_ex(), to learn that the last
 * message handed was torn.
 * @return the number of messages handed to fn and found intact afterwards (counted as read);
 *         0 when empty or lapped at once.
 * fn must not call any function on the same reader (it may use other readers, and the ring's
 * producer calls when it runs on the producer's thread). */
RA_API size_t ra_reader_poll(ra_reader *rd, ra_handler fn, void *ctx, size_t max_msgs);

/*! ra_reader_poll_ex() : ra_reader_poll() that also says why it stopped, in *why (may be NULL):
 *   RA_OK       max_msgs messages were handed (more may be waiting);
 *   RA_EMPTY    nothing more is committed;
 *   RA_LAPPED   the reader was overtaken (`laps` grew by one and `lost` by what was skipped; the
 *               reader is repositioned, and the last message handed may have been torn);
 *   RA_CLOSED   end of stream: the writer closed the ring and everything was read;
 *   RA_EDEAD    the writer of a shared ring died without closing and everything was read;
 *   RA_ECORRUPT the ring memory holds an impossible record or control field (never
 *               in-process).
 * So a return of 0 tells an empty ring (RA_EMPTY) from a lap (RA_LAPPED).
 * @return the number of messages handed to fn and found intact (as ra_reader_poll()). */
RA_API size_t ra_reader_poll_ex(ra_reader *rd, ra_handler fn, void *ctx, size_t max_msgs, int *why);

/*! ra_msg_copy() : copies a message handed in place (peek, poll) out of the ring. Use this rather
 * than memcpy on m->data: it is the one audited function allowed to race with the producer
 * (see docs/ring.md). The copy is valid only if the following advance/poll reports no lap. */
RA_API void ra_msg_copy(void *dst, const ra_msg *m);

/* ---- statistics ----------------------------------------------------------------------------- */

typedef struct ra_ring_stats {
    uint64_t published;         /* messages committed */
    uint64_t published_bytes;   /* payload bytes committed */
    uint64_t overwritten;       /* messages retired to make room (overwrite mode) */
    uint64_t overwritten_bytes; /* their payload bytes */
    uint64_t too_big;           /* reserve/write refused: larger than max_msg */
    uint64_t full;              /* reserve/write refused: no room (backpressure) */
    uint64_t oldest_seq;        /* seq of the oldest intact (overwrite) or unconsumed message */
    uint64_t next_seq;          /* seq the next commit gets */
    uint64_t used_bytes;        /* bytes between the oldest intact record and the tail */
    uint64_t capacity;          /* data bytes */
    bool hugepages;             /* the data lives in huge pages */
} ra_ring_stats;

typedef struct ra_reader_stats {
    uint64_t read; /* messages delivered */
    uint64_t lost; /* sequence numbers skipped because of laps */
    uint64_t laps; /* times the reader was overtaken */
} ra_reader_stats;

/*! ra_ring_get_stats() : a snapshot (each field read atomically; fields may be from slightly
 * different instants while the producer runs). Any thread. */
RA_API void ra_ring_get_stats(const ra_ring *r, ra_ring_stats *s);

/*! ra_reader_get_stats() : the reader's counters. Any thread, also while the reader runs: the
 * reader's thread stores each counter as a relaxed atomic, so each field is read whole; fields
 * may be from slightly different instants (read + lost == next expected seq - start seq holds
 * exactly only when read by the reader's own thread). The reader must be initialised before
 * another thread calls this (thread creation or a lock after ra_reader_init() orders it). */
RA_API void ra_reader_get_stats(const ra_reader *rd, ra_reader_stats *s);

/*! ra_reader_lag() : messages committed that the reader has neither read nor lost yet: the
 * ring's next_seq minus the reader's next expected sequence number. Any thread, under the rules
 * of ra_reader_get_stats() (a snapshot; a handler running in poll counts as not yet read).
 * @return the lag in messages (0 when caught up). */
RA_API uint64_t ra_reader_lag(const ra_reader *rd);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_RING_H */
