/* cons_check.c - the check consumer: writer-to-reader latency and sequence continuity
 *
 * Design notes.
 * - Per message (on_msg, the poll handler): the 8-byte publish stamp at the head of the payload
 *   (RP_STAMP_BYTES, see run.h) is copied out with ra_msg_copy(), the one audited racy copy, and
 *   kept with the message's seq; on a shared ring (env ts_stamp) the stamp is the record's ts_ns,
 *   on CLOCK_REALTIME like the `now` the reader then passes. Nothing is counted yet: only the first
 * n messages of a burst that on_burst() confirms were intact.
 * - Per burst: `now - stamp` (the delay: publish stamp to the reader's clock read just after the
 *   poll) of each confirmed message goes into the lag histogram, and, when the message was
 *   published while the reader was waiting (its stamp is not after `wait_end`, the clock read
 *   that ended the reader's last wait for an empty ring), into the latency histogram too: then
 *   the delay is how long delivery took, not how far behind the producer the reader was. Paced
 *   runs see almost only latency (a packet's messages, due together, all count); at --speed max,
 *   where the producer runs ahead, most delays are lag.
 *   The sequence numbers are checked: strictly increasing (else seq_errors), and every number
 *   never seen is counted in `skipped`.
 * - With --stats-csv a third histogram holds the latency samples since the monitor last asked
 *   (interval()), which reads and empties it on the reader's thread.
 * - Verdict: the reader stopped by no error, skipped == lost (the ring's own count of what the
 *   reader missed), read + lost == published, no seq went backwards.
 */
#include "consumer.h"

#include <inttypes.h>
#include <stdlib.h>

#include "hist.h"
#include "report.h"
#include "run.h"

typedef struct rp__check {
    uint64_t seq[RP_CONS_BURST]; /* the burst kept by on_msg */
    uint64_t stamp[RP_CONS_BURST];
    unsigned n;
    bool ts_stamp;     /* the stamp is m->ts_ns (rp_cons_env) */
    uint64_t expect;   /* the next sequence number expected */
    uint64_t wait_end; /* the clock read that ended the reader's last wait */
    uint64_t skipped, seq_errors;
    rp_hist lag;     /* every message's delay, ns */
    rp_hist latency; /* the delays of messages the reader was waiting for, ns */
    rp_hist *window; /* latency samples of the current interval (--stats-csv), or NULL */
} rp__check;

static void rp__check_destroy(void *state)
{
    rp__check *c = state;
    if (c) free(c->window);
    free(c);
}

static void *rp__check_create(const rp_cons_env *env)
{
    rp__check *c = malloc(sizeof(*c));
    if (!c) return NULL;
    c->n = 0;
    c->ts_stamp = env->ts_stamp;
    c->expect = c->skipped = c->seq_errors = c->wait_end = 0;
    rp_hist_init(&c->lag);
    rp_hist_init(&c->latency);
    c->window = NULL;
    if (env->intervals) {
        if (!(c->window = malloc(sizeof(*c->window)))) {
            rp__check_destroy(c);
            return NULL;
        }
        rp_hist_init(c->window);
    }
    return c;
}

static void rp__check_on_msg(const ra_msg *m, void *ctx)
{
    rp__check *c = ctx;
    uint64_t stamp = 0;
    if (c->ts_stamp) {
        stamp = m->ts_ns;
    } else if (m->len >= RP_STAMP_BYTES) {
        ra_msg head = *m;
        head.len = RP_STAMP_BYTES; /* the stamp only: the one audited racy copy, 8 bytes */
        ra_msg_copy(&stamp, &head);
    }
    if (c->n < RP_CONS_BURST) {
        c->seq[c->n] = m->seq;
        c->stamp[c->n] = stamp;
        c->n++;
    }
}

static void rp__check_on_burst(void *state, size_t n, uint64_t now, bool waited)
{
    rp__check *c = state;
    uint64_t expect = c->expect;
    if (waited) c->wait_end = now;
    for (size_t i = 0; i < n; i++) {
        uint64_t delay = now > c->stamp[i] ? now - c->stamp[i] : 0;
        rp_hist_record(&c->lag, delay);
        if (c->stamp[i] <= c->wait_end) {
            rp_hist_record(&c->latency, delay);
            if (c->window) rp_hist_record(c->window, delay);
        }
        if (c->seq[i] < expect)
            c->seq_errors++;
        else
            c->skipped += c->seq[i] - expect;
        expect = c->seq[i] + 1;
    }
    c->expect = expect;
    c->n = 0;
}

static void rp__check_on_loss(void *state, uint64_t lost)
{
    rp__check *c = state;
    (void)lost; /* the gap shows in the next seq: counted there as skipped */
    c->n = 0;
}

static void rp__check_interval(void *state, rp_cons_interval *out)
{
    rp__check *c = state;
    out->has_latency = c->window && c->window->count > 0;
    out->p50_ns = out->has_latency ? rp_hist_percentile(c->window, 50) : 0;
    out->p99_ns = out->has_latency ? rp_hist_percentile(c->window, 99) : 0;
    if (c->window) rp_hist_init(c->window);
}

static bool rp__check_verify(const void *state, const rp_reader_counts *rc, uint64_t published,
                             char *why, size_t cap)
{
    const rp__check *c = state;
    if (!rc->error && !c->seq_errors && c->skipped == rc->lost && rc->read + rc->lost == published)
        return true;
    snprintf(why, cap,
             "read %" PRIu64 " + lost %" PRIu64 " vs published %" PRIu64 ", skipped %" PRIu64
             ", seq errors %" PRIu64 "%s%s",
             rc->read, rc->lost, published, c->skipped, c->seq_errors,
             rc->error ? ", stopped by " : "", rc->error ? ra_strerror(rc->error) : "");
    return false;
}

static void rp__check_json(const void *state, rp_json *j)
{
    const rp__check *c = state;
    rp_json_u64(j, "skipped", c->skipped);
    rp_json_u64(j, "seq_errors", c->seq_errors);
    rp_report_hist_json(j, "latency_ns", &c->latency, true);
    rp_report_hist_json(j, "lag_ns", &c->lag, true);
}

/* "1.23 ms" style. */
static void rp__ns_desc(char *buf, size_t cap, uint64_t ns)
{
    if (ns >= 1000000000u)
        snprintf(buf, cap, "%.2f s", (double)ns / 1e9);
    else if (ns >= 1000000u)
        snprintf(buf, cap, "%.2f ms", (double)ns / 1e6);
    else if (ns >= 1000u)
        snprintf(buf, cap, "%.2f us", (double)ns / 1e3);
    else
        snprintf(buf, cap, "%" PRIu64 " ns", ns);
}

/* Paced: "latency p50 ..." (with the sample count when some reads were lag); at --speed max:
 * "lag p50 ...", how far behind the producer the reader was. */
static void rp__check_human(const void *state, FILE *f, bool paced)
{
    const rp__check *c = state;
    const rp_hist *h = paced ? &c->latency : &c->lag;
    char a[32], b[32], d[32], e[32];
    rp__ns_desc(a, sizeof(a), rp_hist_percentile(h, 50));
    rp__ns_desc(b, sizeof(b), rp_hist_percentile(h, 99));
    rp__ns_desc(d, sizeof(d), rp_hist_percentile(h, 99.9));
    rp__ns_desc(e, sizeof(e), h->count ? h->max : 0);
    fprintf(f, "           %s p50 %s, p99 %s, p99.9 %s, max %s", paced ? "latency" : "lag", a, b, d,
            e);
    if (paced && c->latency.count != c->lag.count)
        fprintf(f, " (%" PRIu64 " of %" PRIu64 " messages)", c->latency.count, c->lag.count);
    fputc('\n', f);
}

const rp_consumer_ops rp_cons_check = {.name = "check", RP_CONSUMER_OPS(rp__check_)};
