/* monitor.c - replay's monitor: the calling thread's progress and stats lines while a run goes
 *
 * The monitor sleeps on a condition variable (CLOCK_MONOTONIC) until the next line is due or a
 * thread counts itself out; it reads only relaxed statistics (the producer's progress counters,
 * each reader's published read/lost/laps) and the ring's own statistics.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#define RP__PROGRESS_NS 250000000u

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

void rp_engine_monitor(rp_engine *x, unsigned threads)
{
    const rp_run_config *cfg = x->cfg;
    uint64_t t0 = rp_now_ns();
    uint64_t stats_ns = cfg->stats_interval > 0 ? (uint64_t)(cfg->stats_interval * 1e9) : 0;
    if (cfg->stats_interval > 0 && stats_ns == 0) stats_ns = 1;
    uint64_t next_stats = stats_ns ? t0 + stats_ns : UINT64_MAX;
    uint64_t next_prog = cfg->progress ? t0 + RP__PROGRESS_NS : UINT64_MAX;
    uint64_t last_msgs = 0, last_t = t0;
    bool drawn = false;
    pthread_mutex_lock(&x->mu);
    while (x->finished < threads) {
        uint64_t wake = next_stats < next_prog ? next_stats : next_prog;
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
            rp__stats_line(x, now, &last_msgs, &last_t);
            while (next_stats <= now) next_stats += stats_ns;
            if (drawn) next_prog = now; /* redraw the progress line below the stats line */
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
