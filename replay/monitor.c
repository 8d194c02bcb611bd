/* monitor.c - replay's monitor: the calling thread's progress, stats lines and --stats-csv rows
 *
 * The monitor sleeps on a condition variable (CLOCK_MONOTONIC) until the next line is due or a
 * thread counts itself out; it reads only relaxed statistics (the producer's progress counters,
 * each reader's published read/lost/laps) and the ring's own statistics.
 * --stats-csv: at every interval the monitor bumps snap_req, wakes sleeping readers and waits
 * (at most RP__SNAP_WAIT_NS) for each reader's answer: its counters and the latency percentiles
 * of the interval, taken on the reader's own thread (consumer interval()). A reader that does
 * not answer in time (busy in a long --reader-delay-ns) gets its last published counters and
 * empty latency fields. After the joins one more row per reader holds the exact final counts.
 * --shm: the monitor also stores the writer's heartbeat in the shared ring every
 * RP__HEARTBEAT_NS (monitors such as ringstat show its age; it never declares the writer dead).
 */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "ringalloc/ring_shm.h"

#define RP__PROGRESS_NS  250000000u
#define RP__HEARTBEAT_NS 500000000u /* --shm: the writer's heartbeat (ra_ring_heartbeat) */
#define RP__SNAP_WAIT_NS 20000000u
#define RP__SNAP_STEP_NS 100000u

void rp_engine_finish(rp_engine *x)
{
    pthread_mutex_lock(&x->mu);
    x->finished++;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static void rp__progress_line(rp_engine *x, uint64_t now)
{
    rp_draw_progress("", atomic_load_explicit(&x->prog_bytes, memory_order_relaxed), x->total_bytes,
                     atomic_load_explicit(&x->prog_msgs, memory_order_relaxed),
                     (double)(now - x->t_start) / 1e9);
}

static void rp__stats_line(rp_engine *x, uint64_t now, uint64_t *last_msgs, uint64_t *last_t)
{
    uint64_t msgs = atomic_load_explicit(&x->prog_msgs, memory_order_relaxed);
    ra_ring_stats rs;
    ra_ring_get_stats(x->ring, &rs);
    double dt = (double)(now - *last_t) / 1e9;
    double rate = dt > 0 ? (double)(msgs - *last_msgs) / dt : 0;
    fprintf(stderr,
            "[%9.3fs] messages %" PRIu64 " (%.0f/s)  ring published %" PRIu64
            " overwritten %" PRIu64,
            (double)(now - x->t_start) / 1e9, msgs, rate, rs.published, rs.overwritten);
    for (unsigned i = 0; i < x->cfg->readers; i++)
        fprintf(stderr, "  r%u read %" PRIu64 " lost %" PRIu64, i,
                (uint64_t)atomic_load_explicit(&x->readers[i].pub_read, memory_order_relaxed),
                (uint64_t)atomic_load_explicit(&x->readers[i].pub_lost, memory_order_relaxed));
    fputc('\n', stderr);
    *last_msgs = msgs;
    *last_t = now;
}

/* Asks every reader for a snapshot. @return the request number. */
static unsigned rp__snapshot(rp_engine *x)
{
    /* relaxed: a request; each answer is ordered by its own snap_ack */
    unsigned req = atomic_fetch_add_explicit(&x->snap_req, 1, memory_order_relaxed) + 1;
    uint64_t deadline = rp_now_ns() + RP__SNAP_WAIT_NS;
    for (unsigned i = 0; i < x->cfg->readers; i++) {
        rp_engine_wake(x, 0, true);
        /* acquire: pairs with the reader's release of snap_ack */
        while (atomic_load_explicit(&x->readers[i].snap_ack, memory_order_acquire) != req &&
               rp_now_ns() < deadline)
            rp_sleep_ns(RP__SNAP_STEP_NS);
    }
    return req;
}

/* Prints a number, or nothing for an empty field, then the separator. */
static void rp__field(FILE *f, bool has, uint64_t v, char sep)
{
    if (has) fprintf(f, "%" PRIu64, v);
    fputc(sep, f);
}

void rp_engine_csv_rows(rp_engine *x, uint64_t now, bool final)
{
    FILE *f = x->cfg->stats_csv;
    unsigned req = final ? 0 : rp__snapshot(x);
    ra_ring_stats rs;
    ra_ring_get_stats(x->ring, &rs);
    double dt = (double)(now - x->csv_last_t) / 1e9;
    double rate = dt > 0 ? (double)(rs.published - x->csv_last_msgs) / dt : 0;
    x->csv_last_t = now;
    x->csv_last_msgs = rs.published;
    for (unsigned i = 0; i < (x->cfg->readers ? x->cfg->readers : 1); i++) {
        fprintf(f, "%.6f,%" PRIu64 ",%.1f,%" PRIu64 ",%" PRIu64 ",",
                (double)(now - x->t_start) / 1e9, rs.published, rate, rs.used_bytes,
                rs.overwritten);
        if (!x->cfg->readers) {
            fputs(",,,,,,\n", f);
            break;
        }
        rp_engine_reader *r = &x->readers[i];
        rp_cons_interval iv = {.has_latency = false};
        uint64_t read, lost, laps;
        if (final) { /* after the joins: the reader's own fields are ours now */
            r->ops->interval(r->cons, &iv);
            read = r->out->read, lost = r->out->lost, laps = r->out->laps;
        } else if (atomic_load_explicit(&r->snap_ack, memory_order_acquire) == req) {
            read = atomic_load_explicit(&r->snap_read, memory_order_relaxed); /* see snap_ack */
            lost = atomic_load_explicit(&r->snap_lost, memory_order_relaxed);
            laps = atomic_load_explicit(&r->snap_laps, memory_order_relaxed);
            iv.has_latency = atomic_load_explicit(&r->snap_has, memory_order_relaxed);
            iv.p50_ns = atomic_load_explicit(&r->snap_p50, memory_order_relaxed);
            iv.p99_ns = atomic_load_explicit(&r->snap_p99, memory_order_relaxed);
        } else { /* no answer in time: the last published counters (statistics, relaxed) */
            read = atomic_load_explicit(&r->pub_read, memory_order_relaxed);
            lost = atomic_load_explicit(&r->pub_lost, memory_order_relaxed);
            laps = atomic_load_explicit(&r->pub_laps, memory_order_relaxed);
        }
        uint64_t seen = read + lost;
        fprintf(f, "%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", i, read, lost, laps,
                rs.published > seen ? rs.published - seen : 0);
        rp__field(f, iv.has_latency, iv.p50_ns, ',');
        rp__field(f, iv.has_latency, iv.p99_ns, '\n');
    }
}

/* What a stats tick does: the stderr line (--stats-interval) and the CSV rows (--stats-csv). */
static void rp__tick(rp_engine *x, uint64_t now, uint64_t *last_msgs, uint64_t *last_t)
{
    if (x->cfg->stats_interval > 0) rp__stats_line(x, now, last_msgs, last_t);
    if (x->cfg->stats_csv) rp_engine_csv_rows(x, now, false);
}

void rp_engine_monitor(rp_engine *x, unsigned threads)
{
    const rp_run_config *cfg = x->cfg;
    uint64_t t0 = rp_now_ns();
    double every = cfg->stats_interval > 0 ? cfg->stats_interval : cfg->stats_csv ? 1.0 : 0;
    uint64_t stats_ns = every > 0 ? (uint64_t)(every * 1e9) : 0;
    if (every > 0 && stats_ns == 0) stats_ns = 1;
    uint64_t next_stats = stats_ns ? t0 + stats_ns : UINT64_MAX;
    uint64_t next_prog = cfg->progress ? t0 + RP__PROGRESS_NS : UINT64_MAX;
    uint64_t next_hb = cfg->shm_name ? t0 + RP__HEARTBEAT_NS : UINT64_MAX;
    uint64_t last_msgs = 0, last_t = t0;
    bool drawn = false;
    pthread_mutex_lock(&x->mu);
    while (x->finished < threads) {
        uint64_t wake = next_stats < next_prog ? next_stats : next_prog;
        if (next_hb < wake) wake = next_hb;
        if (wake == UINT64_MAX) {
            pthread_cond_wait(&x->cv, &x->mu);
            continue;
        }
        struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u),
                              .tv_nsec = (long)(wake % 1000000000u)};
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
        if (x->finished >= threads) break;
        pthread_mutex_unlock(&x->mu);
        uint64_t now = rp_now_ns();
        if (now >= next_stats) {
            if (drawn) fputs("\r\033[K", stderr);
            rp__tick(x, now, &last_msgs, &last_t);
            while (next_stats <= now) next_stats += stats_ns;
            if (drawn) next_prog = now; /* redraw the progress line below the stats line */
        }
        if (now >= next_hb) {
            ra_ring_heartbeat(x->ring);
            next_hb = now + RP__HEARTBEAT_NS;
        }
        if (now >= next_prog) {
            rp__progress_line(x, now);
            drawn = true;
            next_prog = now + RP__PROGRESS_NS;
        }
        pthread_mutex_lock(&x->mu);
    }
    pthread_mutex_unlock(&x->mu);
    if (drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
