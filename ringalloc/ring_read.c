/* ring_read.c - the tick ring's readers: init, read, peek/advance, poll, reader statistics */

/* Design notes (docs/ring.md, "Reader" and "Laps and loss", has the long version).
 *
 * A reader at `cursor` loads tail (acquire), copies the record (ra__racy_copy), then checks with
 * ra__lapped that the producer's intent has not reached it: acquire fence, relaxed load of
 * intent, valid only if intent <= cursor + capacity. A reader found lapped resynchronises on the
 * oldest intact record (or the newest) and counts the sequence numbers it skipped as lost.
 * In overwrite mode a reader never writes shared memory; the backpressure consumer publishes its
 * position (ra__release) every quarter of the capacity and when it runs dry.
 */

#include "ringalloc/ring.h"
#include "ring_priv.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* The reader's counters (read, lost, laps) are written by the reader's thread only and read by
 * any thread (ra_reader_get_stats). The writer stores each new value, computed from a plain load
 * of its own field, with a relaxed atomic store: a plain mov on x86, no read-modify-write. The
 * fields stay plain uint64_t in the public struct (a C++-compatible header, an unchanged layout),
 * so the stores and the other threads' loads use the __atomic builtins on them. */
#define RA__CSET(rd, f, v) __atomic_store_n(&(rd)->f, (v), __ATOMIC_RELAXED)
#define RA__CGET(rd, f)    __atomic_load_n(&(rd)->f, __ATOMIC_RELAXED)
_Static_assert(offsetof(ra_reader, read) % 8 == 0 && offsetof(ra_reader, lost) % 8 == 0 &&
                   offsetof(ra_reader, laps) % 8 == 0 && offsetof(ra_reader, start_seq) % 8 == 0,
               "reader counters are naturally aligned, so their atomic accesses are lock-free");

/* Bounds on the reader's loops, which only memory that no ring can hold reaches (RA_ECORRUPT):
 * resync attempts, and the steps of ra__next that deliver nothing (padding, laps). */
#define RA__RESYNC_MAX    1024u
#define RA__RESYNC_OLDEST 16u /* resync tries at the oldest record before the newest (overload) */
#define RA__NEXT_MAX      64u

#if defined(__SANITIZE_THREAD__)
#define RA__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RA__TSAN 1
#endif
#endif

/* A registered reader (shared rings, ra_reader_register) publishes its counters in its registry
 * slot after each message it consumes (ra__consume), each lap, and at the end of a poll: a
 * predicted branch for everyone else. */
#define RA__SYNC(rd)                                                                               \
    do {                                                                                           \
        if (__builtin_expect((rd)->slot != 0, 0)) ra__slot_sync(rd);                               \
    } while (0)

/* ---- the one audited racy copy ----------------------------------------------------------------
 * Readers copy bytes the producer may be rewriting at that moment (seqlock style); such copies
 * are discarded by the intent check that follows. This is the only function that reads the data
 * area of a ring from a reader. Under ThreadSanitizer it is left uninstrumented and copies with
 * volatile loads (memcpy would be intercepted and reported); everywhere else it is memcpy. */
#ifdef RA__TSAN
__attribute__((no_sanitize("thread"), noinline)) static void
ra__racy_copy(void *dst, const void *src, size_t n)
{
    const volatile unsigned char *s = src;
    volatile unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = s[i];
}
#else
static inline void ra__racy_copy(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
}
#endif

/* ---- readers --------------------------------------------------------------------------------- */

/* The validation after a copy from the ring: true when the producer's intent has reached past
 * pos + cap, so the bytes at and after pos may have been rewritten. The acquire fence pairs with
 * the producer's release fence (see ra__intent in ring_write.c). The coarse intent (never below
 * intent, and stored before it) answers first: it stays in the reader's cache, while intent shares
 * the line that the producer stores tail into at every commit. Only a reader within an eighth of
 * the capacity of being lapped (or on a ring whose writer keeps no coarse intent: 0) loads
 * intent itself. */
static inline __attribute__((always_inline)) bool ra__intent_passed(const ra__ring_ctl *ctl,
                                                                    uint64_t pos, uint64_t cap)
{
    /* acquire fence: the intent loads below cannot be satisfied before the copy above */
    atomic_thread_fence(memory_order_acquire);
    /* relaxed: ordered by the fence above. coarse - 1 < pos + cap: coarse != 0 and not past */
    if (__builtin_expect(atomic_load_explicit(&ctl->coarse, memory_order_relaxed) - 1 < pos + cap,
                         1))
        return false;
    /* relaxed: ordered by the fence above */
    return ra__overtaken(atomic_load_explicit(&ctl->intent, memory_order_relaxed), pos, cap);
}

/* True when the bytes at and after `pos` may have been rewritten (the reader was lapped).
 * Called after copying. */
static inline bool ra__lapped(const ra_reader *rd, uint64_t pos)
{
    if (rd->consumer) return false; /* backpressure: the producer never passes the consumer */
    return ra__intent_passed(rd->ring->ctl, pos, rd->ring->capacity);
}

/* Backpressure consumer: hands room back to the producer. */
static inline void ra__release(ra_reader *rd)
{
    if (!rd->consumer || rd->released == rd->cursor) return;
    rd->released = rd->cursor;
    /* relaxed: read with the position below; only the producer reads them */
    atomic_store_explicit(&rd->ring->cons->consumed_seq, rd->expect_seq, memory_order_relaxed);
    /* release: the producer may reuse the bytes below cursor only after we are done with them */
    atomic_store_explicit(&rd->ring->cons->consumed, rd->cursor, memory_order_release);
}

/* Reads the record at pos (its seq must be validated by the caller with ra__lapped).
 * @return false when pos holds no real record (padding): *skip is how far to move. */
static inline bool ra__hdr_at(const ra_reader *rd, uint64_t pos, ra__rec *h, uint64_t *skip)
{
    uint64_t to_end = ra__to_end(pos, rd->mask);
    if (ra__no_room_for_hdr(to_end)) {
        *skip = to_end;
        return false;
    }
    ra__racy_copy(h, rd->data + (pos & rd->mask), sizeof *h);
    if (h->flags & RA__F_PAD) {
        *skip = to_end;
        return false;
    }
    return true;
}

/* Finds a valid record at or after `pos` (skipping padding) and its seq. Used by resync.
 * @return false when the bytes were rewritten meanwhile (the caller retries). */
static bool ra__locate(const ra_reader *rd, uint64_t *pos, uint64_t *seq)
{
    ra__rec h;
    uint64_t p = *pos, skip;
    for (int i = 0; i < 3; i++) {
        bool real = ra__hdr_at(rd, p, &h, &skip);
        if (ra__lapped(rd, p)) return false;
        if (real) {
            *pos = p;
            *seq = h.seq;
            return true;
        }
        p += skip;
    }
    return false;
}

/* Memory that cannot be a ring (shared memory another process damaged): the reader stops with
 * RA_ECORRUPT, sticky. Its cursor goes past any tail, so that every call ends on the dry path,
 * which reports the state. Never happens in-process. */
static void ra__corrupt(ra_reader *rd)
{
    rd->state = RA_ECORRUPT;
    rd->cursor = rd->cached_tail = UINT64_MAX;
    if (rd->consumer) rd->released = UINT64_MAX; /* publishes no position from now on */
    rd->pending = 0;
}

/* Moves a lapped reader to the oldest intact record (or the newest), counting what it skipped.
 * Under sustained overload the oldest record is the one the producer retires next, so a slow
 * reader (descheduled, or under a sanitizer) may find it overwritten try after try: after
 * RA__RESYNC_OLDEST tries it takes the newest record instead, which only a whole lap of writes
 * during one try overwrites. A misaligned position, or no intact record after RA__RESYNC_MAX
 * tries, is damage: ra__corrupt. */
static void ra__resync(ra_reader *rd, enum ra_start where)
{
    const ra__ring_ctl *ctl = rd->ring->ctl;
    if (rd->state == RA_ECORRUPT) return;
    for (unsigned tries = 0;; tries++) {
        uint64_t pos, seq;
        if (tries == RA__RESYNC_MAX) {
            ra__corrupt(rd);
            return;
        }
        const bool newest = where == RA_START_NEWEST || tries >= RA__RESYNC_OLDEST;
        if (newest) /* acquire: pairs with the producer's release of last_pos */
            pos = atomic_load_explicit(&ctl->last_pos, memory_order_acquire);
        else
            /* acquire: pairs with the producer's release of head */
            pos = atomic_load_explicit(&ctl->head, memory_order_acquire);
        /* acquire, after the position: the cursor never passes cached_tail */
        uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
        if (__builtin_expect((pos | tail) & (RA_RING_ALIGN - 1), 0)) {
            ra__corrupt(rd);
            return;
        }
        /* head, loaded before tail, is below it: the producer keeps head below the last
         * committed record, whose tail store precedes the head store. last_pos may be ahead of
         * the tail loaded after it: the producer stores last_pos and then tail, and may be
         * preempted in between for as long as the scheduler likes (no number of tries tells that
         * from damage). The oldest record lies below that tail, so this try resumes there: still
         * counted exactly, never waiting on the producer. */
        if (__builtin_expect(pos > tail, 0)) {
            if (!newest) {
                ra__corrupt(rd);
                return;
            }
            /* acquire: pairs with the producer's release of head */
            pos = atomic_load_explicit(&ctl->head, memory_order_acquire);
            if (pos > tail || (pos & (RA_RING_ALIGN - 1))) continue; /* moved on meanwhile */
        }
        if (tail == 0) { /* nothing published yet */
            pos = 0;
            seq = 0;
        } else if (!ra__locate(rd, &pos, &seq)) {
            continue; /* overwritten while we looked: the producer moved on, look again */
        }
        if (seq > rd->expect_seq) RA__CSET(rd, lost, rd->lost + (seq - rd->expect_seq));
        rd->expect_seq = seq;
        rd->cursor = pos;
        rd->cached_tail = tail;
        rd->pending = 0;
        return;
    }
}

/* Resume with slack (ra_reader_set_resume_slack): a reader just resynchronised on the oldest
 * record walks on to the first record at least rd->slack bytes further, never past the newest
 * committed one, and counts the records it passes as lost. The headers it reads lie at or after
 * its starting position, so one intent check after the walk validates them all; if the producer
 * overtook the walk, the reader resyncs on the new oldest record (counting) and walks again. */
static void ra__resume_slack(ra_reader *rd)
{
    const uint64_t cap = rd->mask + 1;
    for (int attempt = 0; attempt < 4; attempt++) {
        const uint64_t first = rd->cursor, tail = rd->cached_tail;
        uint64_t p = first, seq = rd->expect_seq;
        while (p - first < rd->slack) {
            ra__rec h;
            uint64_t skip;
            if (!ra__hdr_at(rd, p, &h, &skip)) {
                if (p + skip >= tail) break;
                p += skip;
                continue;
            }
            uint64_t next = p + ra__rec_size(h.len);
            if (!ra__hdr_ok(&h, p & rd->mask, cap, rd->ring->max_msg, seq) || next >= tail) break;
            p = next;
            seq++;
        }
        if (!ra__lapped(rd, first)) {
            RA__CSET(rd, lost, rd->lost + (seq - rd->expect_seq));
            rd->expect_seq = seq;
            rd->cursor = p;
            return;
        }
        ra__resync(rd, RA_START_OLDEST);
    }
}

/* The reader's cursor was found rewritten. Usually messages were lost; but when the cursor sat on
 * a padding record, the message after it may still be intact, which is no lap at all.
 * @return true (count a lap: RA_LAPPED) or false (nothing lost, carry on reading). */
static bool ra__lap(ra_reader *rd)
{
    uint64_t expect = rd->expect_seq, lost = rd->lost;
    ra__resync(rd, RA_START_OLDEST);
    if (rd->expect_seq == expect) return false;
    if (rd->resume == RA_START_NEWEST) {
        rd->expect_seq = expect;
        RA__CSET(rd, lost, lost);
        ra__resync(rd, RA_START_NEWEST);
    } else if (rd->slack) {
        ra__resume_slack(rd);
    }
    RA__CSET(rd, laps, rd->laps + 1);
    RA__SYNC(rd);
    return true;
}

/* ra_reader_init of the backpressure consumer: takes the consumer's place and starts at its
 * predecessor's position (or the newest / next record).
 * @return RA_OK, RA_EINVAL (a consumer is attached, or this handle may not consume) or
 *         RA_ECORRUPT. */
static int ra__init_consumer(ra_reader *rd, const ra_ring *r, enum ra_start start)
{
    if (!r->may_consume) return RA_EINVAL; /* attached without RA_ATTACH_CONSUMER */
    uint32_t expected = 0;
    /* acq_rel: one consumer at a time; acquire sees the previous consumer's position */
    if (!atomic_compare_exchange_strong_explicit(&r->cons->attached, &expected, 1,
                                                 memory_order_acq_rel, memory_order_acquire))
        return RA_EINVAL;
    rd->consumer = 1;
    /* acquire: pairs with the previous consumer's release */
    rd->cursor = atomic_load_explicit(&r->cons->consumed, memory_order_acquire);
    /* relaxed: written together with consumed, ordered by the acquire above */
    rd->expect_seq = atomic_load_explicit(&r->cons->consumed_seq, memory_order_relaxed);
    rd->released = rd->cursor;
    if (rd->cursor & (RA_RING_ALIGN - 1)) return RA_ECORRUPT;
    if (start == RA_START_OLDEST) return RA_OK;
    ra__resync(rd, RA_START_NEWEST);
    if (start == RA_START_NEXT) {
        /* acquire: publishes the records up to tail */
        uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
        if (tail - rd->cursor > r->capacity) rd->state = RA_ECORRUPT;
        while (!rd->state && rd->cursor < tail) { /* skip what is there, without delivering */
            ra__rec h;
            uint64_t skip;
            if (ra__hdr_at(rd, rd->cursor, &h, &skip)) {
                rd->cursor += ra__rec_size(h.len);
                rd->expect_seq = h.seq + 1;
            } else {
                rd->cursor += skip;
            }
        }
    }
    if (rd->state) return RA_ECORRUPT;
    RA__CSET(rd, lost, 0);
    ra__release(rd);
    return RA_OK;
}

/* ra_reader_init at RA_START_NEXT in overwrite mode: steps over the newest record, retrying
 * while it is overwritten meanwhile. @return RA_OK or RA_ECORRUPT (no try found it intact). */
static int ra__init_next(ra_reader *rd)
{
    const ra__ring_ctl *ctl = rd->ring->ctl;
    for (unsigned tries = 0; tries < RA__RESYNC_MAX; tries++) {
        /* acquire: the record at last_pos is visible once tail covers it */
        uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
        if (tail == 0) return RA_OK; /* nothing published: cursor 0, seq 0 */
        /* acquire: pairs with the producer's release of last_pos */
        uint64_t pos = atomic_load_explicit(&ctl->last_pos, memory_order_acquire);
        if (pos & (RA_RING_ALIGN - 1)) break;
        ra__rec h;
        uint64_t skip;
        bool real = ra__hdr_at(rd, pos, &h, &skip);
        if (ra__lapped(rd, pos) || !real) continue;
        rd->cursor = pos + ra__rec_size(h.len);
        rd->expect_seq = h.seq + 1;
        return RA_OK;
    }
    return RA_ECORRUPT;
}

RA_API int ra_reader_init(ra_reader *rd, const ra_ring *r, enum ra_start start)
{
    if (!rd || !r || (unsigned)start > RA_START_NEXT) return RA_EINVAL;
    memset(rd, 0, sizeof *rd);
    rd->ring = r;
    rd->data = r->data;
    rd->mask = r->mask;
    rd->resume = RA_START_OLDEST;
    int rc = RA_OK;
    if (r->flags & RA_RING_BACKPRESSURE) {
        rc = ra__init_consumer(rd, r, start);
    } else if (start == RA_START_NEXT) {
        rc = ra__init_next(rd);
    } else {
        ra__resync(rd, start);
        RA__CSET(rd, lost, 0);
        if (rd->state) rc = RA_ECORRUPT;
    }
    if (rc == RA_ECORRUPT) ra__corrupt(rd);
    rd->start_seq = rd->expect_seq;
    if (!rd->state) rd->cached_tail = rd->cursor;
    return rc;
}

RA_API void ra_reader_detach(ra_reader *rd)
{
    if (!rd) return;
    if (rd->slot) ra__slot_release(rd);
    if (!rd->consumer) return;
    ra__release(rd);
    rd->consumer = 0;
    /* release: the next consumer sees our final position */
    atomic_store_explicit(&rd->ring->cons->attached, 0, memory_order_release);
}

RA_API int ra_reader_set_resume(ra_reader *rd, enum ra_start where)
{
    if (!rd || (where != RA_START_OLDEST && where != RA_START_NEWEST)) return RA_EINVAL;
    rd->resume = where;
    return RA_OK;
}

RA_API int ra_reader_set_resume_slack(ra_reader *rd, uint64_t slack_bytes)
{
    if (!rd || slack_bytes > rd->mask) return RA_EINVAL;
    if (!rd->consumer) rd->slack = slack_bytes; /* the consumer's word holds `released` */
    return RA_OK;
}

/* The reader found nothing: RA_EMPTY at once for an open in-process ring; the end of the stream
 * and a shared ring's writer liveness are ra__dry's (ring_wait.c), which may also find that more
 * was published (RA_OK). */
static inline int ra__nothing(ra_reader *rd)
{
    const ra_ring *r = rd->ring;
    /* relaxed: a first look only; ra__dry loads it again with acquire */
    if (__builtin_expect(!rd->state && !r->shm &&
                             !atomic_load_explicit(&r->ctl->closed, memory_order_relaxed),
                         1))
        return RA_EMPTY;
    return ra__dry(rd);
}

/* Common front half of read and peek: finds the next record and validates its header.
 * @return RA_OK with *h and *pos set, RA_EMPTY, RA_LAPPED, or RA_ECORRUPT. */
static RA__ALWAYS_INLINE int ra__next(ra_reader *rd, ra__rec *h, uint64_t *pos)
{
    unsigned steps = 0; /* counted only on the paths that deliver nothing */
    for (;;) {
        uint64_t p = rd->cursor;
        if (p >= rd->cached_tail) {
            /* acquire: records below tail are complete and visible */
            rd->cached_tail = atomic_load_explicit(&rd->ring->ctl->tail, memory_order_acquire);
            if (p >= rd->cached_tail) {
                ra__release(rd);
                int rc = ra__nothing(rd);
                if (rc != RA_OK) return rc;
                goto again; /* more was published meanwhile */
            }
        }
        uint64_t skip;
        bool real = ra__hdr_at(rd, p, h, &skip);
        if (!real) {
            if (ra__lapped(rd, p)) goto lapped;
            rd->cursor = p + skip;
            goto again;
        }
        if (__builtin_expect(
                !ra__hdr_ok(h, p & rd->mask, rd->mask + 1, rd->ring->max_msg, rd->expect_seq), 0)) {
            if (ra__lapped(rd, p)) goto lapped;
            return RA_ECORRUPT;
        }
        *pos = p;
        return RA_OK;
    lapped:
        if (ra__lap(rd)) return RA_LAPPED;
    again:
        if (__builtin_expect(++steps == RA__NEXT_MAX, 0)) return RA_ECORRUPT;
    }
}

static inline void ra__consume(ra_reader *rd, uint64_t pos, uint32_t len)
{
    rd->cursor = pos + ra__rec_size(len);
    rd->expect_seq++;
    RA__CSET(rd, read, rd->read + 1);
    /* one test for the two rare duties (read together: the fields are adjacent) */
    if (__builtin_expect((rd->consumer | rd->slot) != 0, 0)) {
        if (rd->consumer && rd->cursor - rd->released >= (rd->mask + 1) / 4) ra__release(rd);
        RA__SYNC(rd);
    }
}

RA_API int ra_reader_read(ra_reader *rd, void *buf, size_t cap, ra_msg *m)
{
    ra__rec h;
    uint64_t pos;
    rd->pending = 0;
    for (unsigned tries = 0;;) {
        int rc = ra__next(rd, &h, &pos);
        if (rc != RA_OK) return rc;
        if (h.len > cap) {
            if (!ra__lapped(rd, pos)) {
                m->len = h.len;
                return RA_ETOOBIG;
            }
        } else {
            ra__racy_copy(buf, rd->data + (pos & rd->mask) + RA_RING_HDR_SIZE, h.len);
            if (!ra__lapped(rd, pos)) break;
        }
        if (ra__lap(rd)) return RA_LAPPED;
        if (__builtin_expect(++tries == RA__NEXT_MAX, 0)) return RA_ECORRUPT; /* see ra__next */
    }
    m->seq = h.seq;
    m->ts_ns = h.ts_ns;
    m->data = buf;
    m->len = h.len;
    m->type = h.type;
    ra__consume(rd, pos, h.len);
    return RA_OK;
}

/* Front half of peek and poll: the next record, its header found intact.
 * @return RA_OK with *h and *pos set, or what ra__next or a lap gives. */
static inline int ra__peek_rec(ra_reader *rd, ra__rec *h, uint64_t *pos)
{
    for (unsigned tries = 0;;) {
        int rc = ra__next(rd, h, pos);
        if (rc != RA_OK) return rc;
        if (!ra__lapped(rd, *pos))
            return RA_OK; /* the header must be intact before we hand it out */
        if (ra__lap(rd)) return RA_LAPPED;
        if (__builtin_expect(++tries == RA__NEXT_MAX, 0)) return RA_ECORRUPT; /* see ra__next */
    }
}

/* A message handed in place: the payload stays in the ring. */
static inline void ra__msg_in_place(const ra_reader *rd, const ra__rec *h, uint64_t pos, ra_msg *m)
{
    m->seq = h->seq;
    m->ts_ns = h->ts_ns;
    m->data = rd->data + (pos & rd->mask) + RA_RING_HDR_SIZE;
    m->len = h->len;
    m->type = h->type;
}

/* Back half of advance and poll, after the caller is done with the record at pos.
 * @return false when it was rewritten meanwhile (counted as lost, a lap). */
static inline bool ra__finish_rec(ra_reader *rd, uint64_t pos, uint32_t len)
{
    if (ra__lapped(rd, pos)) {
        /* a real record was rewritten: head has passed it, so ra__lap always counts a loss */
        (void)ra__lap(rd);
        return false;
    }
    ra__consume(rd, pos, len);
    return true;
}

RA_API int ra_reader_peek(ra_reader *rd, ra_msg *m)
{
    ra__rec h;
    uint64_t pos;
    rd->pending = 0;
    int rc = ra__peek_rec(rd, &h, &pos);
    if (rc != RA_OK) return rc;
    rd->cursor = pos;
    rd->pending = ra__rec_size(h.len);
    ra__msg_in_place(rd, &h, pos, m);
    return RA_OK;
}

RA_API int ra_reader_advance(ra_reader *rd)
{
    if (!rd->pending) return RA_EINVAL;
    uint64_t pos = rd->cursor, size = rd->pending;
    rd->pending = 0;
    return ra__finish_rec(rd, pos, (uint32_t)(size - RA_RING_HDR_SIZE)) ? RA_OK : RA_LAPPED;
}

/* One step of poll the general way: peek + fn + advance.
 * @return RA_OK (carry on), or why the poll ends: RA_EMPTY, RA_LAPPED or RA_ECORRUPT. */
static inline int ra__poll_one(ra_reader *rd, ra_handler fn, void *ctx)
{
    ra__rec h;
    uint64_t pos;
    ra_msg m;
    int rc = ra__peek_rec(rd, &h, &pos);
    if (rc != RA_OK) return rc;
    ra__msg_in_place(rd, &h, pos, &m);
    fn(&m, ctx);
    return ra__finish_rec(rd, pos, h.len) ? RA_OK : RA_LAPPED;
}

/* The body of ra_reader_poll and ra_reader_poll_ex; *why gets why it stopped. One out-of-line
 * copy that both call: GCC keeps more of its fast loop in registers this way than when it is
 * inlined into each (per message: 73 instructions against 77, under callgrind). */
static size_t ra__poll(ra_reader *rd, ra_handler fn, void *ctx, size_t max_msgs, int *why)
{
    /* The common case runs with the reader's position, sequence and cached tail in locals (fn is
     * an opaque call, so fields in *rd would be stored and reloaded around every message): a real
     * record below the cached tail, intact before and after fn. Anything else (refresh of tail,
     * padding, the end of the data, a lap, a record that fails its checks) writes the locals back
     * and takes one step of the general path, peek + fn + advance, which handles it exactly as
     * ra_reader_peek/advance do; the fast loop then resumes from the reader's new state. */
    size_t n = 0;
    int rc = RA_OK;
    rd->pending = 0; /* like read, poll ends any outstanding peek */
    const unsigned char *const data = rd->data;
    const uint64_t mask = rd->mask, cap = mask + 1;
    const uint32_t max_msg = rd->ring->max_msg;
    const ra__ring_ctl *const ctl = rd->ring->ctl;
    const bool consumer = rd->consumer != 0;
    while (n < max_msgs) {
        uint64_t cur = rd->cursor, seq = rd->expect_seq, tail = rd->cached_tail;
        size_t got = 0;
        bool general = true;
        while (n + got < max_msgs && cur < tail) {
            const uint64_t off = cur & mask;
            if (ra__no_room_for_hdr(cap - off)) break;
            ra__rec h;
            ra__racy_copy(&h, data + off, sizeof h);
            if (!ra__hdr_ok(&h, off, cap, max_msg, seq)) break;
            /* as ra__lapped: the header must be intact before it is handed out */
            if (!consumer && ra__intent_passed(ctl, cur, cap)) break;
            ra_msg m = {.seq = h.seq,
                        .ts_ns = h.ts_ns,
                        .data = data + off + RA_RING_HDR_SIZE,
                        .len = h.len,
                        .type = h.type};
            fn(&m, ctx);
            if (!consumer && ra__intent_passed(ctl, cur, cap)) {
                /* rewritten while fn used it: the general back half counts the loss */
                rd->cursor = cur;
                rd->expect_seq = seq;
                RA__CSET(rd, read, rd->read + got);
                (void)ra__finish_rec(rd, cur, h.len);
                ra__release(rd);
                *why = RA_LAPPED;
                return n + got;
            }
            cur += ra__rec_size(h.len);
            seq++;
            got++;
            if (consumer && cur - rd->released >= cap / 4) {
                rd->cursor = cur;
                rd->expect_seq = seq;
                ra__release(rd);
            }
        }
        if (n + got >= max_msgs) general = false;
        rd->cursor = cur;
        rd->expect_seq = seq;
        RA__CSET(rd, read, rd->read + got);
        n += got;
        if (general) {
            if ((rc = ra__poll_one(rd, fn, ctx)) != RA_OK) break;
            n++;
        }
    }
    ra__release(rd);
    if (n) RA__SYNC(rd);
    *why = rc;
    return n;
}

RA_API size_t ra_reader_poll(ra_reader *rd, ra_handler fn, void *ctx, size_t max_msgs)
{
    int why;
    return ra__poll(rd, fn, ctx, max_msgs, &why);
}

RA_API size_t ra_reader_poll_ex(ra_reader *rd, ra_handler fn, void *ctx, size_t max_msgs, int *why)
{
    int w;
    size_t n = ra__poll(rd, fn, ctx, max_msgs, &w);
    if (why) *why = w;
    return n;
}

RA_API void ra_msg_copy(void *dst, const ra_msg *m)
{
    ra__racy_copy(dst, m->data, m->len);
}

RA_API void ra_reader_get_stats(const ra_reader *rd, ra_reader_stats *s)
{
    /* relaxed: each counter whole; see RA__CSET */
    s->read = RA__CGET(rd, read);
    s->lost = RA__CGET(rd, lost);
    s->laps = RA__CGET(rd, laps);
}

RA_API uint64_t ra_reader_lag(const ra_reader *rd)
{
    /* the reader's next expected seq is start_seq + read + lost (the accounting invariant), so
     * the counters give it without a shared copy of expect_seq; start_seq is set at init only */
    uint64_t done = rd->start_seq + RA__CGET(rd, read) + RA__CGET(rd, lost);
    /* relaxed: a statistic */
    uint64_t next = atomic_load_explicit(&rd->ring->ctl->next_seq, memory_order_relaxed);
    return next > done ? next - done : 0;
}
