/* ring_write.c - the tick ring's producer: reserve, commit, write, write_batch */

/* Design notes (docs/ring.md, "Producer" and "Performance notes", has the long version).
 *
 * Every record goes through the same four steps, each one helper used by every entry point:
 *   claim     overwrite mode: ra__retire the records the new bytes cover, then ra__intent
 *             (backpressure mode: check the consumer's position instead)
 *   pad       ra__pad: a padding record when the record does not fit before the end of the data
 *   write     header and payload (ra__hdr_store, the ra__copy_* family)
 *   publish   ra__publish_tail: last_pos, tail, then the statistics
 * write_batch runs them once per run of records instead of once per record.
 *
 * The hot paths are inline (always_inline) into the three entry points, so that the positions
 * stay in registers; the out-of-line pieces (ra__write_slow, ra__run_extend) are so on purpose:
 * see their comments. The producer reads back what it stored in the control block with relaxed
 * loads (RA__OWN) only for fields that readers seldom load (head, sequence numbers, statistics):
 * nobody else writes them, so the loads hit its own cache. Tail and intent, which spinning readers
 * load all the time, it keeps a private copy of (own_tail, own_intent in ring_priv.h) and only
 * stores: a reader polling that line takes it after each commit, and loading it back would wait
 * for the line to come back (measured: about 150 ns per message of write-to-read latency).
 */

#include "ringalloc/ring.h"
#include "ring_priv.h"

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#define RA__PREFETCH 8192u /* bytes ahead of the tail that the producer prefetches */

/* The producer's view of its own control-block fields: relaxed loads of values only it stores. */
#define RA__OWN(f) atomic_load_explicit(&ctl->f, memory_order_relaxed)

/* ---- prefetching ----------------------------------------------------------------------------- */

/* Fetches the line at p for writing. On x86 only PREFETCHW asks for the line in exclusive state;
 * __builtin_prefetch(p, 1, 3) emits it only when the compiler may assume the CPU has it, and a
 * portable build gets PREFETCHT0, which leaves a line that a reader still holds shared: the
 * store then waits for the other core to give it up. So the instruction is chosen at run time
 * (CPUID, once per ring). Elsewhere the builtin's write hint is the right instruction. */
static RA__ALWAYS_INLINE void ra__prefetch_w(const void *p, bool pfw)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (pfw) {
        __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
        return;
    }
#else
    (void)pfw;
#endif
    __builtin_prefetch(p, 1, 3);
}

/* Prefetches the line at position `at` that the producer will write: for writing (exclusive)
 * when nobody may still need it, else shared. In backpressure mode a line the consumer has not
 * read yet (as far as the producer last saw) is fetched shared: taking it exclusive would make
 * the consumer fetch it back from this core just before it reads it. */
static RA__ALWAYS_INLINE void ra__prefetch_at(unsigned char *data, uint64_t mask, uint64_t at,
                                              bool pfw, uint64_t pf_limit)
{
    if (at <= pf_limit)
        ra__prefetch_w(data + (at & mask), pfw);
    else
        __builtin_prefetch(data + (at & mask), 0, 3);
}

/* The line RA__PREFETCH bytes past `end` (see ra__reserve). Backpressure mode: the consumer
 * has read every line the producer writes, so a line it is done with is fetched exclusive.
 * Overwrite mode keeps the plain write hint (PREFETCHT0 in a portable x86 build): with no reader
 * on the lines, PREFETCHW made 32-byte writes 0.2-0.9 ns slower, in cache and out of it. */
static RA__ALWAYS_INLINE void ra__prefetch_ahead(const ra_ring *r, uint64_t end)
{
    if (r->flags & RA_RING_BACKPRESSURE)
        ra__prefetch_at(r->data, r->mask, end + RA__PREFETCH, r->pfw, r->consumed + r->capacity);
    else
        __builtin_prefetch(r->data + ((end + RA__PREFETCH) & r->mask), 1, 3);
}

/* ---- the steps of a record: claim, pad, publish ---------------------------------------------- */

/* Counts a refused call (too_big, full). */
static inline void ra__count(_Atomic uint64_t *counter)
{
    /* relaxed: a counter, no ordering */
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

/* Retires records from head until `end - head <= capacity` (overwrite mode), counting them in
 * head_seq and overwritten_bytes: the one copy of retiring, inline everywhere. It makes one 8-byte
 * load per record, so the chain of header loads it follows runs at cache latency.
 * `max_steps` (a constant at each call) bounds the records and padding it may step over: 0 for
 * no bound; ra_ring_write passes 1, which compiles to straight-line code for the steady-state case
 * (one record out for one in) that needs no loop registers, and takes its slow path otherwise.
 * With records of at most capacity / 4, end - capacity stays below the start of the last
 * committed record, so head < tail afterwards and a real record exists at head whenever one
 * must be retired.
 * @return true when done; false (nothing stored) when max_steps was not enough. */
static RA__ALWAYS_INLINE bool ra__retire(ra_ring *r, ra__ring_ctl *ctl, uint64_t end, uint64_t tail,
                                         unsigned max_steps)
{
    uint64_t head = RA__OWN(head);
    const uint64_t mask = r->mask, cap = r->capacity;
    if (end - head <= cap) return true;
    const unsigned char *data = r->data;
    uint64_t n = 0, bytes = 0;
    unsigned steps = 0;
    for (;;) {
        /* head is a record start (real or padding), never inside an implicit skip: this call's
         * previous step or the last call's end moved it past those */
        uint64_t off = head & mask, w; /* w: len, type, flags */
        memcpy(&w, data + off, sizeof w);
        if (__builtin_expect(!ra__word_pad(w), 1)) {
            uint32_t len = ra__word_len(w);
            head += ra__rec_size(len);
            bytes += len;
            n++;
        } else {
            /* padding to the end of the data; a bounded call leaves it to the unbounded one
             * (head is never left on padding, so this is rare), which keeps n a constant there */
            if (max_steps) return false;
            head += cap - off;
        }
        if (end - head <= cap) break;
        if (max_steps && ++steps == max_steps) return false;
        uint64_t to_end = cap - (head & mask);
        if (__builtin_expect(ra__no_room_for_hdr(to_end), 0)) {
            head += to_end; /* the implicit skip at the end of the data */
            if (end - head <= cap) break;
        }
    }
    /* Leave head on the oldest real record, not on padding before it (a record follows the
     * padding below tail, since the last committed record is never retired). The producer knows
     * where it put padding, so this costs no load from the ring. */
    uint64_t to_end = cap - (head & mask);
    if (__builtin_expect(
            (ra__no_room_for_hdr(to_end) || head == r->pad_pos[0] || head == r->pad_pos[1]) &&
                head < tail,
            0))
        head += to_end;
    /* release: a reader that resyncs to this head must see the record written there */
    atomic_store_explicit(&ctl->head, head, memory_order_release);
    /* relaxed: statistics, read on their own */
    atomic_store_explicit(&ctl->head_seq, RA__OWN(head_seq) + n, memory_order_relaxed);
    atomic_store_explicit(&ctl->overwritten_bytes, RA__OWN(overwritten_bytes) + bytes,
                          memory_order_relaxed);
    return true;
}

/* Announces that the producer writes up to `end` (overwrite mode), before it stores any byte. */
static RA__ALWAYS_INLINE void ra__intent(ra_ring *r, ra__ring_ctl *ctl, uint64_t end)
{
    if (end > r->own_intent) {
        r->own_intent = end;
        if (end > r->own_coarse) {
            const uint64_t step = RA__COARSE(r->capacity);
            r->own_coarse = (end + step - 1) & ~(step - 1);
            /* relaxed: ordered before the data stores by the release fence below */
            atomic_store_explicit(&ctl->coarse, r->own_coarse, memory_order_relaxed);
        }
        /* release: a reader that sees this intent also sees the head retired for it */
        atomic_store_explicit(&ctl->intent, end, memory_order_release);
        /* release fence: orders the intent stores before the data stores that follow, so a
         * reader that copied any of the new bytes sees the new intents after its acquire fence
         * (fence-fence synchronisation, as in a seqlock) */
        atomic_thread_fence(memory_order_release);
    }
}

/* ra__retire without a bound, out of line: the general case of every entry point (several
 * records, padding), and every batch run. One call per run or per odd write keeps the loop's
 * registers out of the callers' fast paths. */
__attribute__((noinline)) static void ra__retire_all(ra_ring *r, uint64_t end, uint64_t tail)
{
    (void)ra__retire(r, r->ctl, end, tail, 0);
}

/* Overwrite mode, before writing [tail, end): retire what the bytes cover, then announce the
 * region (intent) before any of its bytes are stored. */
static RA__ALWAYS_INLINE void ra__claim(ra_ring *r, ra__ring_ctl *ctl, uint64_t end, uint64_t tail)
{
    if (!ra__retire(r, ctl, end, tail, 1)) ra__retire_all(r, end, tail);
    ra__intent(r, ctl, end);
}

/* Backpressure mode: the end of the room the consumer has freed, reloading its position only
 * when the cached one says that `end` is past it. */
static RA__ALWAYS_INLINE uint64_t ra__room_end(ra_ring *r, uint64_t end)
{
    if (end - r->consumed > r->capacity)
        /* acquire: the consumer is done with the bytes below `consumed` */
        r->consumed = atomic_load_explicit(&r->cons->consumed, memory_order_acquire);
    return r->consumed + r->capacity;
}

/* The record goes at rec_pos, not at the producer's position pos: fill the to_end bytes between
 * with a padding record (nothing when no header fits: the implicit skip), and remember where it
 * is. Head and tail are less than a capacity apart, so at most two pads lie between them. */
static RA__ALWAYS_INLINE void ra__pad(ra_ring *r, uint64_t pos, uint64_t rec_pos, uint64_t to_end)
{
    if (rec_pos == pos || ra__no_room_for_hdr(to_end)) return;
    r->pad_pos[r->pad_idx] = pos;
    r->pad_idx ^= 1;
    ra__hdr_store(r->data + (pos & r->mask), (uint32_t)(to_end - RA_RING_HDR_SIZE), 0, RA__F_PAD, 0,
                  0);
}

/* Publishes the records that end at `end`, the last of them starting at `last`, and the
 * statistics that go with them (next_seq, published_bytes). */
static RA__ALWAYS_INLINE void ra__publish_tail(ra_ring *r, ra__ring_ctl *ctl, uint64_t last,
                                               uint64_t end, uint64_t next_seq, uint64_t bytes)
{
    /* release: a reader resolving NEWEST/NEXT reads the record at last_pos */
    atomic_store_explicit(&ctl->last_pos, last, memory_order_release);
    /* release: publishes the records' headers and payloads to readers that acquire tail */
    atomic_store_explicit(&ctl->tail, end, memory_order_release);
    r->own_tail = end;
    /* relaxed: statistics */
    atomic_store_explicit(&ctl->next_seq, next_seq, memory_order_relaxed);
    atomic_store_explicit(&ctl->published_bytes, bytes, memory_order_relaxed);
    /* Wake readers sleeping in ra_reader_wait, only when some announced themselves (ring_wait.c
     * has the Dekker argument). The tail store must be ordered before the load of `waiters`:
     * normally by the waiters' membarrier (an asymmetric fence: here only the compiler must keep
     * the order); when this process could not register for it, by a full fence here. */
    if (__builtin_expect(r->wfence, 0))
        atomic_thread_fence(memory_order_seq_cst);
    else
        atomic_signal_fence(memory_order_seq_cst);
    /* relaxed: ordered against the tail store by the fence above */
    if (__builtin_expect(atomic_load_explicit(&r->wait->waiters, memory_order_relaxed) != 0, 0))
        ra__wake(r);
}

/* Publishes the record at pos whose payload is in place (no checks: callers validated it).
 * @return its sequence number. */
static RA__ALWAYS_INLINE uint64_t ra__publish(ra_ring *r, ra__ring_ctl *ctl, uint64_t pos,
                                              uint32_t len, uint16_t type, uint64_t ts_ns)
{
    uint64_t seq = RA__OWN(next_seq);
    ra__hdr_store(r->data + (pos & r->mask), len, type, 0, seq, ts_ns);
    ra__publish_tail(r, ctl, pos, pos + ra__rec_size(len), seq + 1, RA__OWN(published_bytes) + len);
    return seq;
}

/* ---- reserve / commit ------------------------------------------------------------------------ */

static RA__ALWAYS_INLINE void *ra__reserve(ra_ring *r, uint32_t max_len)
{
    ra__ring_ctl *ctl = r->ctl;
    if (__builtin_expect(max_len > r->max_msg || r->ro, 0)) {
        r->reserved = false;
        if (r->ro) return NULL; /* an attached handle: its mapping is read-only */
        ra__count(&ctl->too_big);
        return NULL;
    }
    uint64_t size = ra__rec_size(max_len);
    uint64_t pos = r->own_tail;
    uint64_t to_end = ra__to_end(pos, r->mask);
    uint64_t rec_pos = ra__place(pos, size, to_end); /* wrap: pad or skip to the start */
    uint64_t end = rec_pos + size;

    if (r->flags & RA_RING_BACKPRESSURE) {
        if (end > ra__room_end(r, end)) {
            ra__count(&ctl->full);
            r->reserved = false;
            return NULL;
        }
    } else {
        ra__claim(r, ctl, end, pos);
    }
    /* The line a few records ahead is both the next one retire reads (the oldest record's
     * header) and the next one this producer writes: fetch it for writing now, so neither the
     * retire load nor the stores wait on memory when the ring is larger than the caches. */
    ra__prefetch_ahead(r, end);
    ra__pad(r, pos, rec_pos, to_end);
    r->resv_pos = rec_pos;
    r->resv_max = max_len;
    r->reserved = true;
    return r->data + (rec_pos & r->mask) + RA_RING_HDR_SIZE;
}

RA_API void *ra_ring_reserve(ra_ring *r, uint32_t max_len)
{
    return ra__reserve(r, max_len);
}

/* True when a commit of len may publish the open reservation (and closes it). */
static inline bool ra__take_reservation(ra_ring *r, uint32_t len)
{
    if (__builtin_expect(!r->reserved || len > r->resv_max, 0)) return false;
    r->reserved = false;
    return true;
}

RA_API uint64_t ra_ring_commit(ra_ring *r, uint32_t len, uint16_t type, uint64_t ts_ns)
{
    if (!ra__take_reservation(r, len)) return UINT64_MAX;
    return ra__publish(r, r->ctl, r->resv_pos, len, type, ts_ns);
}

RA_API int ra_ring_commit_seq(ra_ring *r, uint32_t len, uint16_t type, uint64_t ts_ns,
                              uint64_t *seq_out)
{
    if (!ra__take_reservation(r, len)) return RA_EINVAL;
    uint64_t seq = ra__publish(r, r->ctl, r->resv_pos, len, type, ts_ns);
    if (seq_out) *seq_out = seq;
    return RA_OK;
}

/* ---- write ------------------------------------------------------------------------------------
 */

/* Copies a payload of at most RA__INLINE_MAX bytes (most ticks) into the ring with overlapping
 * unaligned moves held in registers: two stores up to 32 bytes, four up to 64. The fast path of
 * write makes no call; larger payloads go to memcpy. */
#define RA__INLINE_MAX 64u
_Static_assert(RA_RING_MIN_CAPACITY / 4 - RA_RING_HDR_SIZE >= RA__INLINE_MAX,
               "every ring takes inline-sized payloads");
typedef unsigned char ra__v16 __attribute__((vector_size(16)));

static RA__ALWAYS_INLINE void ra__copy_small(unsigned char *d, const unsigned char *s, uint32_t n)
{
    if (n >= 16) {
        ra__v16 a, b, c, e;
        memcpy(&a, s, 16);
        memcpy(&e, s + n - 16, 16);
        if (n > 32) {
            memcpy(&b, s + 16, 16);
            memcpy(&c, s + n - 32, 16);
            memcpy(d + 16, &b, 16);
            memcpy(d + n - 32, &c, 16);
        }
        memcpy(d, &a, 16);
        memcpy(d + n - 16, &e, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        unsigned char a = s[0], b = s[n >> 1], c = s[n - 1];
        d[0] = a;
        d[n >> 1] = b;
        d[n - 1] = c;
    }
}

/* The general path of write: large payloads, wrap (padding), backpressure, refusals, an open
 * reservation (which the write replaces), bad arguments. */
__attribute__((noinline)) static int ra__write_slow(ra_ring *r, uint16_t type, uint64_t ts_ns,
                                                    const void *p, uint32_t len)
{
    if ((!p && len) || r->ro) return RA_EINVAL;
    void *dst = ra__reserve(r, len);
    if (!dst) return len > r->max_msg ? RA_ETOOBIG : RA_EFULL;
    if (len) memcpy(dst, p, len);
    r->reserved = false;
    ra__publish(r, r->ctl, r->resv_pos, len, type, ts_ns);
    return RA_OK;
}

/* The fast path of write: a payload of at most RA__INLINE_MAX bytes that fits before the end of
 * the data and, in backpressure mode, below the consumer's last known position. It is
 * ra__reserve + copy + ra__publish with the cases that cannot happen here taken out; everything
 * else takes ra__write_slow. */
RA_API int ra_ring_write(ra_ring *r, uint16_t type, uint64_t ts_ns, const void *p, uint32_t len)
{
    ra__ring_ctl *ctl = r->ctl;
    uint64_t pos = r->own_tail, size = ra__rec_size(len);
    uint64_t off = pos & r->mask, end = pos + size;
    if (__builtin_expect(
            len > RA__INLINE_MAX || !p || size > r->capacity - off || r->reserved || r->ro, 0))
        return ra__write_slow(r, type, ts_ns, p, len);
    if (r->flags & RA_RING_BACKPRESSURE) {
        if (__builtin_expect(end - r->consumed > r->capacity, 0))
            return ra__write_slow(r, type, ts_ns, p, len); /* reloads consumed, or refuses */
    } else {
        /* more than one record to retire, or padding: the general path */
        if (!ra__retire(r, ctl, end, pos, 1)) return ra__write_slow(r, type, ts_ns, p, len);
        ra__intent(r, ctl, end);
    }
    ra__prefetch_ahead(r, end);
    ra__copy_small(r->data + off + RA_RING_HDR_SIZE, p, len);
    ra__publish(r, ctl, pos, len, type, ts_ns);
    return RA_OK;
}

/* ---- write_batch ------------------------------------------------------------------------------
 */

/* As ra__copy_small for 16 <= n <= 48, without a branch on n: three 16-byte moves, the middle
 * one at 16 from 32 bytes up and on the last 16 bytes below (where it repeats that move). Feeds
 * mix lengths on both sides of 32 bytes (ITCH: 19 to 50), where the n > 32 branch of
 * ra__copy_small mispredicts. */
static RA__ALWAYS_INLINE void ra__copy_16_48(unsigned char *d, const unsigned char *s, uint32_t n)
{
    uint32_t mid = n >= 32 ? 16u : n - 16u;
    ra__v16 a, b, e;
    memcpy(&a, s, 16);
    memcpy(&b, s + mid, 16);
    memcpy(&e, s + n - 16, 16);
    memcpy(d, &a, 16);
    memcpy(d + mid, &b, 16);
    memcpy(d + n - 16, &e, 16);
}

/* Copies n bytes into the ring: inline moves up to RA__INLINE_MAX, memcpy above. */
static RA__ALWAYS_INLINE void ra__copy_in(unsigned char *d, const void *s, uint32_t n)
{
    if (__builtin_expect(n - 16u <= 32u, 1))
        ra__copy_16_48(d, s, n);
    else if (n <= RA__INLINE_MAX)
        ra__copy_small(d, s, n);
    else
        memcpy(d, s, n);
}

/* True when a batch message can be written at all (the checks ra_ring_write makes); lim is
 * max_msg - pre_len (pre_len <= max_msg). */
static inline bool ra__batch_ok(const ra_wmsg *m, uint32_t lim)
{
    return m->len <= lim && (m->data || !m->len);
}

typedef struct ra__run_out {
    uint64_t seq, bytes, last; /* next seq, published bytes, start of the last record */
} ra__run_out;

/* Writes the records of one run, [pos, ...) with no wrap, from data's and the messages' values
 * held in locals (stores into the ring could alias r and msgs as far as the compiler knows).
 * Inlined with pre_len a constant in the common cases. */
static RA__ALWAYS_INLINE void ra__write_run(unsigned char *data, uint64_t mask, const ra_wmsg *m,
                                            size_t cnt, uint64_t pos, const void *pre,
                                            uint32_t pre_len, ra__run_out *o)
{
    uint64_t seq = o->seq, bytes = o->bytes, last = pos, pv = 0;
    if (pre_len == 8) memcpy(&pv, pre, 8);
    unsigned char *d = data + (pos & mask);
    for (size_t k = 0; k < cnt; k++) {
        const unsigned char *src = m[k].data;
        uint32_t len = m[k].len, plen = pre_len + len;
        uint16_t type = m[k].type;
        uint64_t ts = m[k].ts_ns;
        /* as in write: the line ahead is the next retire load and the next stores */
        __builtin_prefetch(data + ((pos + RA__PREFETCH) & mask), 1, 3);
        ra__hdr_store(d, plen, type, 0, seq++, ts);
        if (pre_len == 8)
            memcpy(d + RA_RING_HDR_SIZE, &pv, 8);
        else if (pre_len)
            ra__copy_in(d + RA_RING_HDR_SIZE, pre, pre_len);
        if (len) ra__copy_in(d + RA_RING_HDR_SIZE + pre_len, src, len);
        bytes += plen;
        last = pos;
        uint64_t size = ra__rec_size(plen);
        pos += size;
        d += size;
    }
    o->seq = seq;
    o->bytes = bytes;
    o->last = last;
}

/* How far a run that ends at *end may grow: msgs[j..) while they can be written at all (a message
 * that cannot ends the run; the next turn refuses it) and fit below limit. Its own function, so
 * that j and end stay in registers (inline in ra_ring_write_batch, they were spilled and every
 * message waited on a store-to-load forward).
 * @return the end of the run (index); *end is moved past its records. */
__attribute__((noinline)) static size_t ra__run_extend(const ra_wmsg *msgs, size_t j, size_t n,
                                                       uint32_t lim, uint32_t pre_len,
                                                       uint64_t limit, uint64_t *endp)
{
    uint64_t end = *endp;
    for (; j < n && ra__batch_ok(&msgs[j], lim); j++) {
        uint64_t s = ra__rec_size(pre_len + msgs[j].len);
        if (s > limit - end) break;
        end += s;
    }
    *endp = end;
    return j;
}

/* Batch writes go in runs: records that lie one after another below the end of the data and
 * span at most a quarter of the capacity (the bound of one record, so that retiring for a run
 * never reaches the last committed record: the argument of ra_ring_create holds unchanged). A
 * run is claimed once (retire, intent), written, and published with one tail store. */
RA_API int ra_ring_write_batch(ra_ring *r, const ra_wmsg *msgs, size_t n, const void *pre,
                               uint32_t pre_len, size_t *written)
{
    size_t i = 0;
    int rc = RA_OK;
    if ((!msgs && n) || (!pre && pre_len) || r->ro) {
        rc = RA_EINVAL;
        goto out;
    }
    r->reserved = false; /* a write abandons an open reservation */
    ra__ring_ctl *ctl = r->ctl;
    const uint64_t cap = r->capacity, mask = r->mask, quarter = cap / 4;
    const bool bp = (r->flags & RA_RING_BACKPRESSURE) != 0;
    /* a prefix alone too big: every message is */
    const uint32_t lim = pre_len <= r->max_msg ? r->max_msg - pre_len : 0;
    const bool pre_fits = pre_len <= r->max_msg;
    while (i < n) {
        if (!pre_fits || !ra__batch_ok(&msgs[i], lim)) {
            if (!msgs[i].data && msgs[i].len) {
                rc = RA_EINVAL;
            } else {
                ra__count(&ctl->too_big);
                rc = RA_ETOOBIG;
            }
            goto out;
        }
        uint64_t pos = r->own_tail, to_end = ra__to_end(pos, mask);
        uint64_t size = ra__rec_size(pre_len + msgs[i].len);
        uint64_t rec_pos = ra__place(pos, size, to_end); /* wrap: pad or skip */
        uint64_t room = ra__to_end(rec_pos, mask);       /* to the end of the data */
        uint64_t limit = rec_pos + (room < quarter ? room : quarter);
        if (bp) {
            uint64_t free_end = ra__room_end(r, limit);
            if (free_end < limit) limit = free_end;
            if (rec_pos + size > limit) {
                ra__count(&ctl->full);
                rc = RA_EFULL;
                goto out;
            }
        }
        /* the run: msgs[i..j) at [rec_pos, end) */
        uint64_t end = rec_pos + size;
        size_t j = ra__run_extend(msgs, i + 1, n, lim, pre_len, limit, &end);
        if (!bp) {
            ra__retire_all(r, end, pos);
            ra__intent(r, ctl, end);
        }
        ra__pad(r, pos, rec_pos, to_end);
        ra__run_out o = {.seq = RA__OWN(next_seq), .bytes = RA__OWN(published_bytes)};
        /* specialised for the common prefixes: none, and one 8-byte word (a stamp) */
        if (pre_len == 0)
            ra__write_run(r->data, mask, msgs + i, j - i, rec_pos, NULL, 0, &o);
        else if (pre_len == 8)
            ra__write_run(r->data, mask, msgs + i, j - i, rec_pos, pre, 8, &o);
        else
            ra__write_run(r->data, mask, msgs + i, j - i, rec_pos, pre, pre_len, &o);
        ra__publish_tail(r, ctl, o.last, end, o.seq, o.bytes);
        i = j;
    }
out:
    if (written) *written = i;
    return rc;
}
