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
 *   on laps and when idle: statistics only.
 * - Idle readers spin for a while, then sleep 50 us per empty poll; measured latency therefore
 *   includes that wake-up time when the feed is sparse (paced modes). While spinning, a reader
 *   pauses RP__IDLE_PAUSES times per empty read at --speed max when every busy thread has a CPU
 *   of its own (so that a batch accumulates rather than the reader reading the lines the
 *   producer is writing), and calls sched_yield() when paced or when the threads outnumber the
 *   CPUs (the `crowded` hint).
 */
#include "engine.h"

#include <sched.h>
#include <stdlib.h>

#define RP__IDLE_SPINS      2000u
#define RP__IDLE_SLEEP_NS   50000u
#define RP__IDLE_PAUSES     1024u  /* pauses per empty read when the reader has a CPU of its own */
#define RP__IDLE_PAUSE_COST 8u     /* ... counted as this many spins (a pause is about 10 ns) */
#define RP__SPIN_WORK_MAX   50000u /* reader delays below this are spun, above slept */

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

static void rp__publish(rp_engine_reader *r)
{
    ra_reader_stats s;
    ra_reader_get_stats(&r->rd, &s);
    atomic_store_explicit(&r->pub_read, s.read, memory_order_relaxed); /* statistics only */
    atomic_store_explicit(&r->pub_lost, s.lost, memory_order_relaxed);
    atomic_store_explicit(&r->pub_laps, s.laps, memory_order_relaxed);
}

/* One empty read: spin (pause or yield) while idle is small, then sleep. */
static void rp__idle(rp_engine_reader *r, bool amortize, unsigned *idle)
{
    if (*idle >= RP__IDLE_SPINS) {
        rp_sleep_ns(RP__IDLE_SLEEP_NS);
        return;
    }
    /* At --speed max with a CPU of its own: pause a while (the same spin time in all), so that a
     * batch accumulates instead of this reader reading the lines the producer is writing.
     * Sharing a CPU, or paced (latency matters): yield. */
    if (amortize && !atomic_load_explicit(&r->run->crowded, memory_order_relaxed)) {
        *idle += RP__IDLE_PAUSE_COST;
        for (unsigned k = 0; k < RP__IDLE_PAUSES; k++) rp__cpu_relax();
    } else {
        (*idle)++;
        sched_yield();
    }
}

/* In place, a burst at a time (--speed max without simulated work). @return 0, or a ring error. */
static int rp__poll_loop(rp_engine_reader *r)
{
    rp_engine *x = r->run;
    const rp_consumer_ops *ops = x->ops;
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
            ops->on_burst(st, n, rp_now_ns(), waited);
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
    const rp_consumer_ops *ops = x->ops;
    void *st = r->cons;
    const uint64_t delay = x->cfg->reader_delay_ns;
    unsigned idle = 0;
    bool waited = false;
    for (;;) {
        bool fin = atomic_load_explicit(&x->producer_done, memory_order_acquire); /* as above */
        ra_msg m = {0};
        int rc = ra_reader_read(&r->rd, r->buf, r->cap, &m);
        if (rc == RA_OK) {
            uint64_t now = rp_now_ns();
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
        } else if (rc == RA_EMPTY) {
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
