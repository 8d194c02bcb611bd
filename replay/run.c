/* run.c - replay's engine: one producer thread feeding a tick ring, N reader threads draining it
 *
 * Design notes.
 * - Threads: the producer reads the inputs (rp_source_*) and writes every message into the ring
 *   (at max speed a packet's messages as one ra_ring_write_batch(), otherwise one at a time);
 *   each reader owns an ra_reader and consumes in place with ra_reader_poll() at max speed
 *   without --reader-delay-ns, or copies messages out with ra_reader_read() otherwise; the calling
 *   thread only monitors (progress and stats lines) and collects the results after joining.
 *   Every reader is initialised (RA_START_OLDEST) before the producer starts, so each one's start
 *   sequence is 0 and at the end read + lost must equal the ring's published count.
 * - Record layout: [8-byte CLOCK_MONOTONIC publish stamp][message], ts_ns = capture timestamp,
 *   type = message type (see RP_STAMP_BYTES in run.h). Keeping the capture time in ts_ns means
 *   any ring consumer sees the market timestamp where it expects it; the cost is 8 bytes per
 *   record, which ring.published_bytes includes. The stamp is the batch's prefix.
 * - The stamp. In paced modes it is read for every message, just before it is written. At max
 *   speed a clock read (20-35 ns on the VMs measured) cost as much as the rest of the producer's
 *   per-message work, so the stamp is reused for up to RP__STAMP_EVERY messages, and refreshed
 *   whenever the source did I/O or decompression since it was taken (rp_source_fill() moved):
 *   between a stamp and a write that uses it there is only in-memory splitting and publishing of
 *   those few messages (well under a microsecond), never a read. Latency is then overstated by
 *   at most that. Readers likewise read the clock once per poll of up to RP__STAMP_EVERY
 *   messages at max speed without --reader-delay-ns, just after it (overstating by at most the
 *   poll), and for every message otherwise. Both errors are a fraction of a microsecond;
 *   docs/replay.md says so.
 * - Continuity: readers check seq strictly increasing and count the sequence numbers they never
 *   saw (`skipped`); the run is verified when, for every reader, skipped == lost (the ring's own
 *   count), read + lost == published and no seq went backwards.
 * - End of run: the producer release-stores `producer_done` after its last commit. A reader loads
 *   it (acquire) before each read attempt; a read that then finds nothing new means the reader has
 *   seen every commit (the acquire made them visible), so it can stop.
 * - Pacing: rp_pace_target() (pacing.c) gives each message's due time from fixed anchors; the
 *   producer sleeps with clock_nanosleep(TIMER_ABSTIME) in slices of at most 50 ms so that a stop
 *   request is honoured promptly.
 * - Shared counters for the monitor (messages, input bytes, per-reader read/lost) are relaxed
 *   atomics: they are statistics, read approximately, and order nothing.
 * - Idle readers spin for a while, then sleep 50 us per empty poll; measured latency therefore
 *   includes that wake-up time when the feed is sparse (paced modes). While spinning, a reader
 *   pauses RP__IDLE_PAUSES times per empty read at --speed max when every busy thread has a CPU
 *   of its own (so that a batch accumulates rather than the reader reading the lines the
 *   producer is writing), and calls sched_yield() when paced or when the threads outnumber the
 *   CPUs (the `crowded` hint).
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* set by rp_run_stop(), possibly from a signal handler: a lock-free atomic is signal-safe */
static atomic_int rp__stop;

#define RP__IDLE_SPINS      2000u
#define RP__IDLE_SLEEP_NS   50000u
#define RP__IDLE_PAUSES     1024u  /* pauses per empty read when the reader has a CPU of its own */
#define RP__IDLE_PAUSE_COST 8u     /* ... counted as this many spins (a pause is about 10 ns) */
#define RP__SPIN_WORK_MAX   50000u /* reader delays below this are spun, above slept */
#define RP__SLEEP_SLICE_NS  50000000u
#define RP__PROGRESS_NS     250000000u
#define RP__READER_BUF      (65536u + RP_STAMP_BYTES)
#define RP__STAMP_EVERY     16u /* max speed: messages that may share one publish stamp */
#define RP__BATCH           64u /* max speed: messages of one packet written as one batch */

typedef struct rp__run rp__run;

typedef struct rp__reader {
    _Alignas(64) ra_reader rd; /* its own cache lines: readers never share a written line */
    rp__run *run;
    unsigned idx;
    unsigned char *buf;
    size_t cap;
    rp_reader_result *out;
    /* for the monitor's stats lines: relaxed, statistics only */
    atomic_uint_fast64_t pub_read, pub_lost;
} rp__reader;

struct rp__run {
    const rp_run_config *cfg;
    rp_run_result *res;
    ra_ring *ring;
    rp__reader *readers;
    /* release-stored by the producer after its last commit; acquire-loaded by readers so that a
     * subsequent empty read proves they have seen everything */
    atomic_bool producer_done;
    /* whether the run has more busy threads than CPUs (producer, readers, and a decompression
     * worker while a zstd input is open): idle readers then yield their CPU instead of spinning.
     * Relaxed: a scheduling hint, orders nothing. */
    atomic_bool crowded;
    unsigned ncpu;
    /* monitor wake-ups: threads count themselves out under the mutex */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned finished;
    /* progress published by the producer (relaxed: statistics only) */
    atomic_uint_fast64_t prog_msgs, prog_bytes;
    uint64_t total_bytes; /* sum of input file sizes times loops; 0 when unknown */
    uint64_t t_start;     /* set before the threads start, read-only afterwards */
    /* written by the producer, read by the caller after pthread_join */
    uint64_t t_end;
    int status;
    char err[512];
};

/* CPUs this process may run on (at least 1). */
static unsigned rp__cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

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

uint64_t rp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void rp_run_stop(void)
{
    atomic_store_explicit(&rp__stop, 1, memory_order_relaxed); /* a request; orders nothing */
}

static bool rp__stopping(void)
{
    return atomic_load_explicit(&rp__stop, memory_order_relaxed) != 0; /* see rp_run_stop */
}

int rp_parse_size(const char *text, uint64_t *out)
{
    if (!text || !(*text >= '0' && *text <= '9')) return -1;
    uint64_t v = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        return -1;
    }
    if (*p && p[1] != '\0') return -1;
    if (shift && v > (UINT64_MAX >> shift)) return -1;
    *out = v << shift;
    return 0;
}

static void rp__finish(rp__run *x)
{
    pthread_mutex_lock(&x->mu);
    x->finished++;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* ---- producer -------------------------------------------------------------------------------- */

static void rp__sleep_until(uint64_t target)
{
    for (;;) {
        uint64_t now = rp_now_ns();
        if (now >= target || rp__stopping()) return;
        uint64_t wake = target - now > RP__SLEEP_SLICE_NS ? now + RP__SLEEP_SLICE_NS : target;
        struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u),
                              .tv_nsec = (long)(wake % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop re-checks */
    }
}

/* Adds name to a ','-separated list of distinct names (silently stops when full). */
static void rp__note_name(char *list, size_t cap, const char *name)
{
    if (!name || !*name) return;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) return;
        p = e ? e + 1 : p + len;
    }
    size_t used = strlen(list);
    if (used + (used ? 1 : 0) + n + 1 > cap) return;
    if (used) list[used++] = ',';
    memcpy(list + used, name, n + 1);
}

/* Appends "warning: <path>: <what>\n" to res->warnings (dropped when the buffer is full). */
static void rp__warn(rp_run_result *res, const char *path, const char *what)
{
    size_t used = strlen(res->warnings);
    if (used + 1 >= sizeof(res->warnings)) return;
    snprintf(res->warnings + used, sizeof(res->warnings) - used, "warning: %s: %s\n", path, what);
}

/* The producer thread: opens each input in turn (loops times), paces, and writes every message
 * into the ring. Stops at the end, at --limit, on rp_run_stop(), or on an input error (x->status
 * and x->err set; the run then reports nothing). Always release-stores producer_done. */
static void *rp__producer(void *arg)
{
    rp__run *x = arg;
    const rp_run_config *cfg = x->cfg;
    rp_run_result *res = x->res;
    rp_pace pace = cfg->pace;
    const bool paced = pace.mode != RP_PACE_MAX;
    bool anchored = false, done = false;
    uint64_t index = 0, max_ts = 0, bytes_before = 0;

    for (uint64_t pass = 0; pass < cfg->loops && !done; pass++) {
        for (size_t fi = 0; fi < cfg->nfiles && !done; fi++) {
            const char *path = cfg->files[fi];
            if (cfg->limit && index >= cfg->limit) {
                res->limited = done = true;
                break;
            }
            rp_source *s = NULL;
            char e[512];
            rp_source_opts so = cfg->src;
            so.strict = so.strict || cfg->strict; /* damaged data is an error too */
            if (rp_source_open(&s, path, &so, e, sizeof(e)) != 0) {
                x->status = RP_RUN_EINPUT;
                snprintf(x->err, sizeof(x->err), "%s", e);
                goto out;
            }
            res->files_opened++;
            rp__note_name(res->format, sizeof(res->format), rp_source_format_name(s));
            res->compressed = res->compressed || rp_source_compressed(s);
            bool worker = rp_source_compressed(s) && !cfg->src.no_threads;
            atomic_store_explicit(&x->crowded, 1 + cfg->readers + worker > x->ncpu,
                                  memory_order_relaxed);
            rp_message mb[RP__BATCH];
            ra_wmsg w[RP__BATCH];
            int rc = 0;
            uint64_t stamp = 0, stamp_fill = UINT64_MAX; /* see "The stamp" in the notes */
            unsigned stamp_uses = RP__STAMP_EVERY;
            /* per-message state in locals: the payload copies into the ring could alias cfg and
             * res as far as the compiler knows, which would reload them for every message */
            const uint64_t limit = cfg->limit ? cfg->limit : UINT64_MAX;
            uint64_t untyped = 0, msg_bytes = 0, prog_next = 0;
            ra_ring *ring = x->ring;
            for (;;) {
                if (index >= limit) {
                    res->limited = done = true;
                    break;
                }
                if (rp__stopping()) {
                    res->interrupted = done = true;
                    break;
                }
                /* paced: one message at a time, each at its due time; at max speed the rest of
                 * the packet comes along (the source counts only what it hands out) */
                size_t want = paced ? 1 : RP__BATCH, n = 0;
                if (limit - index < want) want = (size_t)(limit - index);
                rc = rp_source_next_batch(s, mb, want, &n);
                if (rc != 1) break;
                if (!anchored) {
                    anchored = true;
                    pace.first_ts_ns = mb[0].ts_ns;
                    pace.start_ns = rp_now_ns();
                    if (pace.mode == RP_PACE_SPEED && mb[0].ts_ns == 0) res->no_timestamps = true;
                }
                if (paced) rp__sleep_until(rp_pace_target(&pace, pass, index, mb[0].ts_ns));
                for (size_t i = 0; i < n; i++) {
                    const rp_message *m = &mb[i];
                    if (pass == 0 && m->ts_ns > max_ts) max_ts = m->ts_ns;
                    untyped += m->type == RP_TYPE_NONE;
                    msg_bytes += m->len;
                    w[i] = (ra_wmsg){
                        .data = m->data, .len = m->len, .type = m->type, .ts_ns = m->ts_ns};
                }
                uint64_t fill = rp_source_fill(s);
                if (paced || fill != stamp_fill || stamp_uses >= RP__STAMP_EVERY) {
                    stamp = rp_now_ns();
                    stamp_fill = fill;
                    stamp_uses = 0;
                }
                stamp_uses += (unsigned)n;
                /* one batch per packet: each message its own record, [stamp][message]. One too
                 * big for the ring is refused and counted by it (too_big) and skipped. */
                for (size_t off = 0; off < n;) {
                    size_t wr = 0;
                    int wrc =
                        ra_ring_write_batch(ring, w + off, n - off, &stamp, RP_STAMP_BYTES, &wr);
                    off += wr;
                    if (wrc == RA_OK) break;
                    off++;
                }
                index += n;
                if (paced || index >= prog_next) { /* cheap next to sleeps */
                    prog_next = index + 256;
                    atomic_store_explicit(&x->prog_msgs, index, memory_order_relaxed);
                    atomic_store_explicit(&x->prog_bytes, bytes_before + rp_source_offset(s),
                                          memory_order_relaxed);
                }
            }
            res->untyped += untyped;
            res->msg_bytes += msg_bytes;
            if (rc < 0) {
                x->status = RP_RUN_EINPUT;
                snprintf(x->err, sizeof(x->err), "%s", rp_source_error(s));
                rp_source_close(s);
                goto out;
            }
            const rp_feed_stats *st = rp_source_stats(s);
            rp__note_name(res->framing, sizeof(res->framing), rp_source_framing_name(s));
            rp_feed_stats_add(&res->feed, st);
            for (size_t wi = 0; pass == 0 && wi < rp_source_warning_count(s); wi++)
                rp__warn(res, path, rp_source_warning(s, wi));
            if (rc == 0 && st->truncated) {
                if (cfg->strict) {
                    x->status = RP_RUN_EINPUT;
                    snprintf(x->err, sizeof(x->err),
                             "%s: the input ends inside its last record (truncated after %" PRIu64
                             " bytes; --strict)",
                             path, st->bytes);
                    rp_source_close(s);
                    goto out;
                }
                rp__warn(res, path, "the last record is truncated (ignored)");
            }
            uint64_t size = rp_source_size(s);
            bytes_before += size ? size : rp_source_offset(s);
            rp_source_close(s);
            atomic_store_explicit(&x->prog_bytes, bytes_before, memory_order_relaxed);
        }
        if (!done) res->passes++;
        if (pass == 0) pace.span_ns = max_ts > pace.first_ts_ns ? max_ts - pace.first_ts_ns : 0;
    }
out:
    x->t_end = rp_now_ns();
    atomic_store_explicit(&x->prog_msgs, index, memory_order_relaxed);
    /* release: every commit above happens-before a reader's acquire load that sees true */
    atomic_store_explicit(&x->producer_done, true, memory_order_release);
    rp__finish(x);
    return NULL;
}

/* ---- readers --------------------------------------------------------------------------------- */

static void rp__sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Simulated per-message work: spin for short delays (sleeping would overshoot them by tens of
 * microseconds), sleep for long ones. */
static void rp__work(uint64_t ns)
{
    if (ns >= RP__SPIN_WORK_MAX) {
        rp__sleep_ns(ns);
        return;
    }
    uint64_t end = rp_now_ns() + ns;
    while (rp_now_ns() < end) {}
}

static void rp__publish_reader(rp__reader *r)
{
    ra_reader_stats s;
    ra_reader_get_stats(&r->rd, &s);
    atomic_store_explicit(&r->pub_read, s.read, memory_order_relaxed); /* statistics only */
    atomic_store_explicit(&r->pub_lost, s.lost, memory_order_relaxed);
}

/* What a reader's poll burst collects: each message's seq and publish stamp. */
typedef struct rp__polled {
    uint64_t seq[RP__STAMP_EVERY];
    uint64_t stamp[RP__STAMP_EVERY];
    unsigned n;
} rp__polled;

static void rp__on_polled(const ra_msg *m, void *ctx)
{
    rp__polled *pl = ctx;
    uint64_t stamp = 0;
    if (m->len >= RP_STAMP_BYTES) {
        ra_msg head = *m;
        head.len = RP_STAMP_BYTES; /* the stamp only: the one audited racy copy, 8 bytes */
        ra_msg_copy(&stamp, &head);
    }
    pl->seq[pl->n] = m->seq;
    pl->stamp[pl->n] = stamp;
    pl->n++;
}

/* A reader thread: copies messages out until the producer is done and nothing is left, timing
 * each one and checking sequence continuity; a ring error other than EMPTY/LAPPED (or no memory
 * for a larger buffer) stops it with o->error set, which fails the run's verification. */
static void *rp__reader_main(void *arg)
{
    rp__reader *r = arg;
    rp__run *x = r->run;
    rp_reader_result *o = r->out;
    uint64_t expect = 0, delay = x->cfg->reader_delay_ns, now = 0;
    /* max speed without simulated work: one clock read serves a burst of up to RP__STAMP_EVERY
     * back-to-back reads (see "The stamp"); otherwise one per message */
    const bool amortize = delay == 0 && x->cfg->pace.mode == RP_PACE_MAX;
    unsigned idle = 0, burst = 0;
    for (;;) {
        /* acquire: pairs with the producer's release, see the design notes */
        bool fin = atomic_load_explicit(&x->producer_done, memory_order_acquire);
        ra_msg m = {0};
        int rc;
        if (amortize) {
            /* in place, a burst at a time: the stamps are copied out (ra_msg_copy) and counted
             * only for the messages the poll found intact afterwards; one clock read after it */
            rp__polled pl = {.n = 0};
            uint64_t laps0 = r->rd.laps;
            size_t n = ra_reader_poll(&r->rd, rp__on_polled, &pl, RP__STAMP_EVERY);
            if (n) {
                now = rp_now_ns();
                for (size_t i = 0; i < n; i++) {
                    rp_hist_record(o->latency, now > pl.stamp[i] ? now - pl.stamp[i] : 0);
                    if (pl.seq[i] < expect)
                        o->seq_errors++;
                    else
                        o->skipped += pl.seq[i] - expect;
                    expect = pl.seq[i] + 1;
                }
                idle = 0;
                if ((expect & ~(uint64_t)255) != ((expect - n) & ~(uint64_t)255))
                    rp__publish_reader(r); /* the monitor's view */
            }
            rc = r->rd.laps != laps0 ? RA_LAPPED : n ? RA_OK : RA_EMPTY;
            if (rc == RA_OK) continue;
        } else {
            rc = ra_reader_read(&r->rd, r->buf, r->cap, &m);
        }
        if (rc == RA_OK) {
            if (burst == 0) now = rp_now_ns();
            burst = amortize && burst + 1 < RP__STAMP_EVERY ? burst + 1 : 0;
            uint64_t stamp = 0;
            if (m.len >= RP_STAMP_BYTES) memcpy(&stamp, r->buf, sizeof(stamp));
            rp_hist_record(o->latency, now > stamp ? now - stamp : 0);
            if (m.seq < expect)
                o->seq_errors++;
            else
                o->skipped += m.seq - expect;
            expect = m.seq + 1;
            idle = 0;
            if (delay || (expect & 255u) == 0) rp__publish_reader(r); /* the monitor's view */
            if (delay) rp__work(delay);
        } else if (rc == RA_LAPPED) {
            burst = 0;
            rp__publish_reader(r);
        } else if (rc == RA_ETOOBIG && m.len > r->cap) {
            /* the message stays unread: grow the buffer and read it again */
            unsigned char *nb = realloc(r->buf, m.len);
            if (!nb) {
                o->error = RA_ENOMEM;
                break;
            }
            r->buf = nb;
            r->cap = m.len;
        } else if (rc == RA_EMPTY) {
            burst = 0;
            rp__publish_reader(r);
            if (fin) break;
            if (idle < RP__IDLE_SPINS) {
                /* At --speed max with a CPU of its own: pause a while (the same spin time in
                 * all), so that a batch accumulates instead of this reader reading the lines the
                 * producer is writing. Sharing a CPU, or paced (latency matters): yield. */
                if (amortize && !atomic_load_explicit(&x->crowded, memory_order_relaxed)) {
                    idle += RP__IDLE_PAUSE_COST;
                    for (unsigned k = 0; k < RP__IDLE_PAUSES; k++) rp__cpu_relax();
                } else {
                    idle++;
                    sched_yield();
                }
            } else {
                rp__sleep_ns(RP__IDLE_SLEEP_NS);
            }
        } else {
            o->error = rc;
            break;
        }
    }
    ra_reader_stats s;
    ra_reader_get_stats(&r->rd, &s);
    o->read = s.read;
    o->lost = s.lost;
    o->laps = s.laps;
    rp__publish_reader(r);
    rp__finish(x);
    return NULL;
}

/* ---- monitor --------------------------------------------------------------------------------- */

static void rp__human_bytes(char *buf, size_t cap, double b)
{
    if (b >= 1e9)
        snprintf(buf, cap, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, cap, "%.1f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(buf, cap, "%.1f kB", b / 1e3);
    else
        snprintf(buf, cap, "%.0f B", b);
}

static void rp__progress_line(rp__run *x, uint64_t now)
{
    uint64_t done = atomic_load_explicit(&x->prog_bytes, memory_order_relaxed);
    uint64_t msgs = atomic_load_explicit(&x->prog_msgs, memory_order_relaxed);
    double secs = (double)(now - x->t_start) / 1e9;
    double rate = secs > 0 ? (double)done / secs : 0;
    char d[32], t[32], r[32];
    rp__human_bytes(d, sizeof(d), (double)done);
    rp__human_bytes(r, sizeof(r), rate);
    if (x->total_bytes) {
        rp__human_bytes(t, sizeof(t), (double)x->total_bytes);
        double pct = 100.0 * (double)done / (double)x->total_bytes;
        if (pct > 100) pct = 100;
        double eta = rate > 0 && x->total_bytes > done ? (double)(x->total_bytes - done) / rate : 0;
        fprintf(stderr, "\r%s / %s  %5.1f%%  %" PRIu64 " msgs  %s/s  ETA %.0fs\033[K", d, t, pct,
                msgs, r, eta);
    } else {
        fprintf(stderr, "\r%s  %" PRIu64 " msgs  %s/s\033[K", d, msgs, r);
    }
    fflush(stderr);
}

static void rp__stats_line(rp__run *x, uint64_t now, uint64_t *last_msgs, uint64_t *last_t)
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

/* Waits until every thread has finished, drawing progress and stats lines meanwhile. */
static void rp__monitor(rp__run *x, unsigned threads)
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

/* ---- the run --------------------------------------------------------------------------------- */

void rp_run_result_free(rp_run_result *res)
{
    if (res->readers) {
        for (unsigned i = 0; i < res->nreaders; i++) free(res->readers[i].latency);
        free(res->readers);
    }
    res->readers = NULL;
    res->nreaders = 0;
}

static uint64_t rp__total_bytes(const rp_run_config *cfg)
{
    uint64_t total = 0;
    for (size_t i = 0; i < cfg->nfiles; i++) {
        struct stat st;
        if (strcmp(cfg->files[i], "-") == 0 || stat(cfg->files[i], &st) != 0 ||
            !S_ISREG(st.st_mode))
            return 0;
        total += (uint64_t)st.st_size;
    }
    return total * cfg->loops;
}

int rp_run(const rp_run_config *cfg, rp_run_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    rp__run x;
    memset(&x, 0, sizeof(x));
    x.cfg = cfg;
    x.res = res;
    atomic_init(&x.producer_done, false);
    x.ncpu = rp__cpus();
    atomic_init(&x.crowded, 1 + cfg->readers > x.ncpu);
    atomic_init(&x.prog_msgs, 0);
    atomic_init(&x.prog_bytes, 0);
    int rc = RP_RUN_ESYSTEM;
    unsigned started = 0;
    bool producer_started = false, sync_ready = false;
    pthread_t producer;
    pthread_t *tids = NULL;

    if (cfg->readers > RP_RUN_MAX_READERS || cfg->loops < 1) {
        snprintf(err, errlen, "invalid run configuration");
        return RP_RUN_ESYSTEM;
    }
    /* Paced runs prefault the ring, so that no page fault delays a message on its way; at
     * --speed max the producer faults pages in as it first reaches them (the same work when the
     * input fills the ring, none for the part a small input never reaches). */
    ra_ring_config rc_cfg = {.capacity = cfg->ring_size,
                             .flags = RA_RING_HUGEPAGES |
                                      (cfg->pace.mode != RP_PACE_MAX ? RA_RING_PREFAULT : 0)};
    int st = ra_ring_create(&x.ring, &rc_cfg);
    if (st != RA_OK) {
        snprintf(err, errlen, "cannot create a ring of %zu bytes: %s", cfg->ring_size,
                 ra_strerror(st));
        return RP_RUN_ESYSTEM;
    }
    res->max_msg = ra_ring_max_msg(x.ring);
    res->nreaders = cfg->readers;
    /* at least one slot each: --readers 0 (publish only) must not look like out of memory */
    unsigned slots = cfg->readers ? cfg->readers : 1;
    res->readers = calloc(slots, sizeof(*res->readers));
    x.readers = aligned_alloc(64, slots * sizeof(*x.readers));
    tids = calloc(slots, sizeof(*tids));
    if (!res->readers || !x.readers || !tids) goto nomem;
    memset(x.readers, 0, slots * sizeof(*x.readers));
    for (unsigned i = 0; i < cfg->readers; i++) {
        rp__reader *r = &x.readers[i];
        r->run = &x;
        r->idx = i;
        r->out = &res->readers[i];
        /* enough for any ITCH, MoldUDP64 or UDP message; grown on demand for larger ones */
        r->cap = res->max_msg < RP__READER_BUF ? res->max_msg : RP__READER_BUF;
        atomic_init(&r->pub_read, 0);
        atomic_init(&r->pub_lost, 0);
        r->buf = malloc(r->cap);
        r->out->latency = malloc(sizeof(rp_hist));
        if (!r->buf || !r->out->latency) goto nomem;
        rp_hist_init(r->out->latency);
        if (ra_reader_init(&r->rd, x.ring, RA_START_OLDEST) != RA_OK ||
            ra_reader_set_resume(&r->rd, cfg->resume) != RA_OK) {
            snprintf(err, errlen, "cannot attach reader %u to the ring", i);
            goto fail;
        }
    }

    pthread_condattr_t ca;
    if (pthread_mutex_init(&x.mu, NULL) != 0) goto nomem;
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&x.cv, &ca) != 0) {
        pthread_mutex_destroy(&x.mu);
        goto nomem;
    }
    pthread_condattr_destroy(&ca);
    sync_ready = true;
    x.total_bytes = rp__total_bytes(cfg);

    x.t_start = rp_now_ns();
    for (; started < cfg->readers; started++)
        if (pthread_create(&tids[started], NULL, rp__reader_main, &x.readers[started]) != 0) {
            snprintf(err, errlen, "cannot start reader thread %u", started);
            break;
        }
    if (started == cfg->readers) {
        if (pthread_create(&producer, NULL, rp__producer, &x) == 0)
            producer_started = true;
        else
            snprintf(err, errlen, "cannot start the producer thread");
    }
    if (!producer_started) {
        /* let the readers that did start see an empty, finished feed */
        atomic_store_explicit(&x.producer_done, true, memory_order_release);
        for (unsigned i = 0; i < started; i++) pthread_join(tids[i], NULL);
        goto fail;
    }
    rp__monitor(&x, cfg->readers + 1);
    pthread_join(producer, NULL);
    for (unsigned i = 0; i < started; i++) pthread_join(tids[i], NULL);

    if (x.status != 0) {
        snprintf(err, errlen, "%s", x.err);
        rc = x.status;
        goto fail;
    }
    ra_ring_get_stats(x.ring, &res->ring);
    res->seconds = (double)(x.t_end - x.t_start) / 1e9;
    res->verified = true;
    for (unsigned i = 0; i < cfg->readers; i++) {
        const rp_reader_result *o = &res->readers[i];
        if (o->error || o->seq_errors || o->skipped != o->lost ||
            o->read + o->lost != res->ring.published)
            res->verified = false;
    }
    rc = RP_RUN_OK;
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    if (rc == RP_RUN_OK) rc = RP_RUN_ESYSTEM;
out:
    if (x.readers)
        for (unsigned i = 0; i < cfg->readers; i++) free(x.readers[i].buf);
    free(x.readers);
    free(tids);
    if (sync_ready) {
        pthread_cond_destroy(&x.cv);
        pthread_mutex_destroy(&x.mu);
    }
    ra_ring_destroy(x.ring);
    return rc;
}
