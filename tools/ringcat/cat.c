/* cat.c - ringcat's reader: reads a shared ring to its end, printing or counting, and reports
 *
 * Design notes.
 * - Each message is copied out with ra_reader_read() (a buffer grown on demand), so what is
 *   printed is exactly what the ring delivered as intact.
 * - Idle: ra_reader_wait() blocks on the ring's futex (no spinning) in slices of RC__WAIT_NS, so
 *   that a stop request (SIGINT, SIGTERM) is seen within a slice even if the signal does not
 *   interrupt the wait. The wait, like a read, reports the end: RA_CLOSED (the writer closed the
 *   ring; everything committed has been read) or RA_EDEAD (the writer died without closing it).
 * - Latency: CLOCK_REALTIME at delivery minus the record's ts_ns, the publish time that writers
 *   such as `replay --shm` store on that clock; measured only when the ring's header declares
 *   RA_SHM_CLOCK_REALTIME (else the numbers would mean nothing).
 * - Printing: rp_dump_line(), the line of `replay info --dump` (stream 0); a message that is a
 *   well-formed ITCH 5.0 message of its record type is followed by its type letter and its
 *   time of day.
 */
#include "cat.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "itch.h"
#include "json.h"
#include "report.h"
#include "util.h"

#define RC__WAIT_NS 200000000 /* one ra_reader_wait() slice */
#define RC__DAY_NS  (86400ull * 1000000000ull)

/* Prints one message. @return 0, or -1 when stdout failed. */
static int rc__print(const ra_msg *m)
{
    const uint8_t *p = m->data;
    if (rp_dump_line(stdout, 0, m->seq, m->ts_ns, m->type, p, m->len) != 0) return -1;
    if (m->type < 256 && rp_itch_check(p, m->len) == RP_ITCH_OK && p[0] == m->type) {
        uint64_t t = rp_itch_timestamp(p, m->len) % RC__DAY_NS, s = t / 1000000000u;
        if (printf("  itch %c %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%09" PRIu64, (char)p[0],
                   s / 3600, s / 60 % 60, s % 60, t % 1000000000u) < 0)
            return -1;
    }
    return putchar('\n') == EOF ? -1 : 0;
}

/* Takes one message that was read. @return 0, or -1 when stdout failed. */
static int rc__deliver(const rc_opts *o, rc_result *res, const ra_msg *m)
{
    if (res->has_latency) {
        uint64_t now = rp_realtime_ns();
        rp_hist_record(&res->latency, now > m->ts_ns ? now - m->ts_ns : 0);
    }
    return o->output == RC_PRINT ? rc__print(m) : 0;
}

/* The read loop. @return the status that ended it: RA_CLOSED, RA_EDEAD, RA_OK (a stop request),
 * or an error (RA_EIO: stdout failed). */
static int rc__loop(ra_reader *rd, const rc_opts *o, rc_result *res, size_t max_msg)
{
    size_t cap = max_msg ? max_msg : 65536;
    unsigned char *buf = malloc(cap);
    if (!buf) return RA_ENOMEM;
    int st;
    for (;;) {
        if (rp_stop_requested()) {
            st = RA_OK;
            break;
        }
        ra_msg m = {0};
        st = ra_reader_read(rd, buf, cap, &m);
        if (st == RA_OK) {
            if (rc__deliver(o, res, &m) != 0) {
                st = RA_EIO;
                break;
            }
            continue;
        }
        if (st == RA_LAPPED) continue;
        if (st == RA_ETOOBIG && m.len > cap) {
            unsigned char *nb = realloc(buf, m.len);
            if (!nb) {
                st = RA_ENOMEM;
                break;
            }
            buf = nb;
            cap = m.len;
            continue;
        }
        if (st == RA_EMPTY) st = ra_reader_wait(rd, RC__WAIT_NS);
        if (st == RA_OK || st == RA_ETIMEDOUT) continue;
        break;
    }
    free(buf);
    return st;
}

int rc_cat_run(ra_ring *r, const rc_opts *o, rc_result *res)
{
    memset(res, 0, sizeof(*res));
    rp_hist_init(&res->latency);
    ra_shm_info info;
    if (ra_ring_shm_info(r, &info) == RA_OK) {
        res->has_latency = info.clock == RA_SHM_CLOCK_REALTIME;
        res->writer_pid = info.writer_pid;
    }
    ra_reader rd;
    int st = ra_reader_init(&rd, r, o->from);
    if (st == RA_OK && o->reg) st = ra_reader_register(&rd);
    if (st != RA_OK) {
        res->error = st;
        return -1;
    }
    st = rc__loop(&rd, o, res, ra_ring_max_msg(r));
    ra_reader_stats s;
    ra_reader_get_stats(&rd, &s);
    ra_reader_detach(&rd);
    res->read = s.read;
    res->lost = s.lost;
    res->laps = s.laps;
    res->closed = st == RA_CLOSED;
    res->writer_dead = st == RA_EDEAD;
    res->interrupted = st == RA_OK;
    if (fflush(stdout) != 0 && st != RA_EIO) st = RA_EIO;
    if (st == RA_CLOSED || st == RA_EDEAD || st == RA_OK) return 0;
    res->error = st;
    return -1;
}

int rc_report_json(FILE *f, const rc_result *res)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json_u64(&d.j, "read", res->read);
    rp_json_u64(&d.j, "lost", res->lost);
    rp_json_u64(&d.j, "laps", res->laps);
    rp_json_bool(&d.j, "closed", res->closed);
    rp_json_bool(&d.j, "writer_dead", res->writer_dead);
    rp_report_hist_json(&d.j, "latency_ns", &res->latency, false);
    return rp_json_doc_end(&d, f);
}

void rc_report_human(FILE *f, const rc_opts *o, const rc_result *res)
{
    const char *end = res->closed        ? "end of stream (the writer closed the ring)"
                      : res->writer_dead ? "the writer died without closing the ring"
                      : res->interrupted ? "interrupted"
                                         : "stopped by an error";
    fprintf(f, "ringcat: %s: read %" PRIu64 ", lost %" PRIu64 ", laps %" PRIu64 "; %s\n", o->name,
            res->read, res->lost, res->laps, end);
    const rp_hist *h = &res->latency;
    if (!res->has_latency || h->count == 0) return;
    fprintf(f,
            "ringcat: %s: latency p50 %" PRIu64 " ns, p99 %" PRIu64 " ns, p99.9 %" PRIu64
            " ns, max %" PRIu64 " ns\n",
            o->name, rp_hist_percentile(h, 50), rp_hist_percentile(h, 99),
            rp_hist_percentile(h, 99.9), h->max);
}
