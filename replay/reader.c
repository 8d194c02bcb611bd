/* reader.c - replay's reader threads: drain the ring into a consumer (consumer.h)
 *
 * Design notes.
 * - Each reader owns an ra_reader, initialised (RA_START_OLDEST) before the producer starts, so
 *   its start sequence is 0 and at the end read + lost must equal the ring's published count.
 * - At --speed max without --reader-delay-ns a reader consumes in place: ra_reader_poll() calls
 *   the consumer's on_msg for up to RP_CONS_BURST messages, then the clock is read once and
 *   on_burst() told how many were intact. Otherwise each message is copied out with
 *   ra_reader_read() and handed to on_msg and on_burst(1) with its own clock read.
 * - End of run: a reader acquire-loads producer_done before each read attempt; a read that then
 *   finds nothing new means the reader has seen every commit (the acquire made them visible), so
 *   it can stop.
 * - The monitor's view (read, lost, laps) is published with relaxed stores every 256 messages,
 *   on laps and when idle: statistics only. At the same points a reader answers the monitor's
 *   snapshot request (--stats-csv) when there is a new one.
 * - The clock handed to the consumer: CLOCK_MONOTONIC, the clock of the private ring's publish
 *   stamps; on a shared ring (--shm) CLOCK_REALTIME, the clock of its records' ts_ns.
 * - End of stream on a shared ring: the ring is closed only after the readers are joined (run.c),
 *   but a read that reports RA_CLOSED is treated as an empty one all the same.
 * - Idle readers: see rp__idle() and rp__sleep().
 * - What a reader shares with the producer: the ring (its data lines, and the tail and intent
 *   words ra_reader_poll() loads) and the read-mostly `sleepers` line; its own counters
 *   (ra_reader, pub_*, snap_*) sit on cache lines no other thread writes.
 */
#include "engine.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RP__SPIN_WORK_MAX  50000u   /* reader delays below this are spun, above slept */
#define RP__SPIN_POLLS     64u      /* paced: empty polls spun (with pauses) before sleeping */
#define RP__SPIN_POLLS_MAX 4u       /* --speed max: the same */
#define RP__SPIN_PAUSES    64u      /* pauses between two of them */
#define RP__WAIT_MAX_NS    1000000u /* a sleeping reader looks again after this at the latest */
#define RP__WAKE_BATCH     4096u    /* max speed: messages to wait for before waking */

static inline void rp__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Simulated per-message work: spin for short delays (sleeping would overshoot them by tens of
 * microseconds), sleep for long ones. */
static void rp__work(uint64_t ns)
{
    if (ns >= RP__SPIN_WORK_MAX) {
        rp_sleep_ns(ns);
        return;
    }
    uint64_t end = rp_now_ns() + ns;
    while (rp_now_ns() < end) {}
}

/* Answers the monitor's snapshot request req (see rp_engine_reader.snap_ack). */
static void rp__answer(rp_engine_reader *r, unsigned req, const ra_reader_stats *s)
{
    rp_cons_interval iv = {.has_latency = false};
    r->ops->interval(r->cons, &iv);
    atomic_store_explicit(&r->snap_read, s->read, memory_order_relaxed); /* ordered by snap_ack */
    atomic_store_explicit(&r->snap_lost, s->lost, memory_order_relaxed);
    atomic_store_explicit(&r->snap_laps, s->laps, memory_order_relaxed);
    atomic_store_explicit(&r->snap_has, iv.has_latency, memory_order_relaxed);
    atomic_store_explicit(&r->snap_p50, iv.p50_ns, memory_order_relaxed);
    atomic_store_explicit(&r->snap_p99, iv.p99_ns, memory_order_relaxed);
    /* release: the fields above happen-before the monitor's acquire load that sees req */
    atomic_store_explicit(&r->snap_ack, req, memory_order_release);
    r->snap_seen = req;
}

static void rp__publish(rp_engine_reader *r)
{
    ra_reader_stats s;
    ra_reader_get_stats(&r->rd, &s);
    atomic_store_explicit(&r->pub_read, s.read, memory_order_relaxed); /* statistics only */
    atomic_store_explicit(&r->pub_lost, s.lost, memory_order_relaxed);
    atomic_store_explicit(&r->pub_laps, s.laps, memory_order_relaxed);
    /* relaxed: a request; the answer carries its own ordering */
    unsigned req = atomic_load_explicit(&r->run->snap_req, memory_order_relaxed);
    if (req != r->snap_seen) rp__answer(r, req, &s);
}

static long rp__futex(atomic_uint *word, int op, unsigned val, const struct timespec *ts)
{
    return syscall(SYS_futex, (unsigned *)word, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

void rp_engine_wake(rp_engine *x, uint64_t index, bool final)
{
    if (!final && index < atomic_load_explicit(&x->wake_at, memory_order_relaxed)) return;
    atomic_store_explicit(&x->wake_at, UINT64_MAX, memory_order_relaxed);
    /* release: orders nothing the sleepers read (they re-poll the ring), but keeps the bump
     * after the commits for a reader that reads the word first */
    atomic_fetch_add_explicit(&x->wake_word, 1, memory_order_release);
    rp__futex(&x->wake_word, FUTEX_WAKE, INT_MAX, NULL);
}

/* Sleeps until the producer has published up to `want` messages (or a final wake, or
 * RP__WAIT_MAX_NS). Lost wake-ups: the reader registers (sleepers, wake_at: seq_cst) and then
 * looks at the ring again before it sleeps; the producer publishes and then loads sleepers
 * (paced runs with a seq_cst fence between, so one of the two sees the other; at --speed max
 * without it, and then the producer's next batch or its final wake comes soon). */
static void rp__sleep(rp_engine_reader *r, uint64_t want)
{
    rp_engine *x = r->run;
    unsigned word = atomic_load_explicit(&x->wake_word, memory_order_acquire);
    atomic_fetch_add_explicit(&x->sleepers, 1, memory_order_seq_cst);
    uint64_t cur = atomic_load_explicit(&x->wake_at, memory_order_relaxed);
    while (want < cur && !atomic_compare_exchange_weak_explicit(
                             &x->wake_at, &cur, want, memory_order_seq_cst, memory_order_relaxed)) {
    }
    atomic_thread_fence(memory_order_seq_cst);
    ra_msg m;
    bool fin = atomic_load_explicit(&x->producer_done, memory_order_acquire);
    unsigned req = atomic_load_explicit(&x->snap_req, memory_order_relaxed);
    if (!fin && req == r->snap_seen && ra_reader_peek(&r->rd, &m) == RA_EMPTY) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = RP__WAIT_MAX_NS};
        rp__futex(&x->wake_word, FUTEX_WAIT, word, &ts); /* EAGAIN, EINTR, ETIMEDOUT: look */
    }
    atomic_fetch_sub_explicit(&x->sleepers, 1, memory_order_relaxed);
}

/* One empty read. Idle readers: a few polls spun (a short pause apart, so that a reader at the
 * producer's heels does not keep reading the lines it writes; none when the threads outnumber
 * the CPUs: the producer may need this one), then a futex sleep until the producer has
 * published what the reader waits for: at --speed max a batch (wake_batch messages, so that the
 * reader drains bursts while the producer writes undisturbed), paced the next message (latency
 * matters). The producer pays one relaxed load of `sleepers` per batch, and a wake-up system
 * call only when a sleeper's batch is complete. */
static void rp__idle(rp_engine_reader *r, bool amortize, unsigned *idle)
{
    rp_engine *x = r->run;
    unsigned spins = amortize ? RP__SPIN_POLLS_MAX : RP__SPIN_POLLS;
    if (*idle < spins && !atomic_load_explicit(&x->crowded, memory_order_relaxed)) {
        (*idle)++;
        for (unsigned k = 0; k < RP__SPIN_PAUSES; k++) rp__cpu_relax();
        return;
    }
    *idle = 0;
    /* the reader's next sequence number (it started at 0) plus what it waits for */
    rp__sleep(r, r->rd.read + r->rd.lost + (amortize ? r->wake_batch : 1));
}

/* The consumer's clock (see the design notes). */
static inline uint64_t rp__clock(const rp_engine *x)
{
    return x->cfg->shm_name ? rp_realtime_ns() : rp_now_ns();
}

/* In place, a burst at a time (--speed max without simulated work). @return 0, or a ring error. */
static int rp__poll_loop(rp_engine_reader *r)
{
    rp_engine *x = r->run;
    const rp_consumer_ops *ops = r->ops;
    void *st = r->cons;
    unsigned idle = 0;
    bool waited = false;
    uint64_t pubmark = 0;
    for (;;) {
        /* acquire: pairs with the producer's release, see the design notes */
        bool fin = atomic_load_explicit(&x->producer_done, memory_order_acquire);
        uint64_t laps0 = r->rd.laps;
        size_t n = ra_reader_poll(&r->rd, ops->on_msg, st, RP_CONS_BURST);
        if (n) {
            ops->on_burst(st, n, rp__clock(x), waited);
            waited = false;
            idle = 0;
            if (r->rd.read - pubmark >= 256) { /* the monitor's view */
                pubmark = r->rd.read;
                rp__publish(r);
            }
        }
        if (r->rd.laps != laps0) {
            ops->on_loss(st, r->rd.lost);
            rp__publish(r);
            continue;
        }
        if (n) continue;
        rp__publish(r);
        if (fin) return 0;
        rp__idle(r, true, &idle);
        waited = true;
    }
}

/* Copies messages out one at a time (paced, or with --reader-delay-ns).
 * @return 0, or the ring error (or RA_ENOMEM) that stopped the reader. */
static int rp__copy_loop(rp_engine_reader *r)
{
    rp_engine *x = r->run;
    const rp_consumer_ops *ops = r->ops;
    void *st = r->cons;
    const uint64_t delay = x->cfg->reader_delay_ns;
    unsigned idle = 0;
    bool waited = false;
    for (;;) {
        bool fin = atomic_load_explicit(&x->producer_done, memory_order_acquire); /* as above */
        ra_msg m = {0};
        int rc = ra_reader_read(&r->rd, r->buf, r->cap, &m);
        if (rc == RA_OK) {
            uint64_t now = rp__clock(x);
            ops->on_msg(&m, st);
            ops->on_burst(st, 1, now, waited);
            waited = false;
            idle = 0;
            if (delay || (r->rd.read & 255u) == 0) rp__publish(r); /* the monitor's view */
            if (delay) rp__work(delay);
        } else if (rc == RA_LAPPED) {
            ops->on_loss(st, r->rd.lost);
            rp__publish(r);
        } else if (rc == RA_ETOOBIG && m.len > r->cap) {
            /* the message stays unread: grow the buffer and read it again */
            unsigned char *nb = realloc(r->buf, m.len);
            if (!nb) return RA_ENOMEM;
            r->buf = nb;
            r->cap = m.len;
        } else if (rc == RA_EMPTY || rc == RA_CLOSED) {
            rp__publish(r);
            if (fin) return 0;
            rp__idle(r, false, &idle);
            waited = true;
        } else {
            return rc;
        }
    }
}

/* A reader thread: drains the ring into its consumer until the producer is done and nothing is
 * left; a ring error other than EMPTY/LAPPED (or no memory for a larger buffer) stops it with
 * out->error set, which the consumer's verdict reports. */
void *rp_engine_reader_main(void *arg)
{
    rp_engine_reader *r = arg;
    rp_engine *x = r->run;
    uint64_t batch = x->cfg->ring_size / 256; /* about a quarter of the ring in records */
    r->wake_batch = batch < 1 ? 1 : batch > RP__WAKE_BATCH ? RP__WAKE_BATCH : batch;
    bool in_place = x->cfg->reader_delay_ns == 0 && x->cfg->pace.mode == RP_PACE_MAX;
    r->out->error = in_place ? rp__poll_loop(r) : rp__copy_loop(r);
    ra_reader_stats s;
    ra_reader_get_stats(&r->rd, &s);
    r->out->read = s.read;
    r->out->lost = s.lost;
    r->out->laps = s.laps;
    rp__publish(r);
    rp_engine_finish(x);
    return NULL;
}
