/* report.c - replay's reports: the human summary and the --json object, for runs and for gen
 *
 * Design: the JSON object is written by json.c into an open_memstream buffer and copied to the
 * output with one fwrite once complete, so an error never leaves half an object on stdout. The
 * human summary follows tcpreplay's "Actual: ... / Rated: ..." lines for throughput. MB and Mbps
 * are decimal (10^6); ring sizes are binary (KiB, MiB, GiB) since they are powers of two.
 */
#include "report.h"
#include "send.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void rp_type_key(char *buf, size_t cap, unsigned t, bool is_char)
{
    if (is_char && t >= 0x21 && t < 0x7F)
        snprintf(buf, cap, "%c", (char)t);
    else
        snprintf(buf, cap, "0x%02x", t & 0xFFu);
}

static const char *rp__resume_name(enum ra_start s)
{
    return s == RA_START_NEWEST ? "newest" : "oldest";
}

static void rp__pace_desc(char *buf, size_t cap, const rp_pace *p)
{
    switch (p->mode) {
    case RP_PACE_SPEED:
        if (p->speed == 1.0)
            snprintf(buf, cap, "realtime");
        else
            snprintf(buf, cap, "%gx", p->speed);
        break;
    case RP_PACE_PPS:
        snprintf(buf, cap, "%g msgs/s", p->pps);
        break;
    case RP_PACE_MBPS:
        snprintf(buf, cap, "%g Mbps", p->mbps);
        break;
    case RP_PACE_MAX:
    default:
        snprintf(buf, cap, "max");
        break;
    }
}

static void rp__size_desc(char *buf, size_t cap, uint64_t b)
{
    if (b >= (UINT64_C(1) << 30) && b % (UINT64_C(1) << 30) == 0)
        snprintf(buf, cap, "%" PRIu64 " GiB", b >> 30);
    else if (b >= (UINT64_C(1) << 20) && b % (UINT64_C(1) << 20) == 0)
        snprintf(buf, cap, "%" PRIu64 " MiB", b >> 20);
    else if (b >= 1024 && b % 1024 == 0)
        snprintf(buf, cap, "%" PRIu64 " KiB", b >> 10);
    else
        snprintf(buf, cap, "%" PRIu64 " bytes", b);
}

static double rp__rate(double amount, double secs)
{
    return secs > 0 ? amount / secs : 0.0;
}

/* The "send" object of a --send run (docs/network.md). */
static void rp__send_json(rp_json *j, const rp_send_stats *st)
{
    rp_json_object_begin(j, "send");
    rp_json_u64(j, "packets", st->packets);
    rp_json_u64(j, "bytes", st->bytes);
    rp_json_u64(j, "messages", st->messages);
    rp_json_u64(j, "datagrams", st->datagrams);
    rp_json_u64(j, "errors", st->errors);
    rp_json_u64(j, "dropped", st->dropped);
    rp_json_f64(j, "seconds", st->seconds, 6);
    rp_json_f64(j, "pps", rp__rate((double)st->packets, st->seconds), 1);
    rp_json_f64(j, "mbps", rp__rate((double)st->bytes * 8 / 1e6, st->seconds), 3);
    rp_json_bool(j, "paced", st->paced);
    rp_json_bool(j, "expired", st->expired);
    rp_json_object_begin(j, "timing_error_ns");
    rp_json_u64(j, "p50", rp_hist_percentile(&st->timing, 50));
    rp_json_u64(j, "p99", rp_hist_percentile(&st->timing, 99));
    rp_json_u64(j, "max", st->timing.count ? st->timing.max : 0);
    rp_json_u64(j, "count", st->timing.count);
    rp_json_object_end(j);
    rp_json_array_begin(j, "drops");
    for (size_t i = 0; i < st->ndrops; i++) {
        const rp_send_drop *d = &st->drops[i];
        rp_json_object_begin(j, NULL);
        rp_json_u64(j, "index", d->index);
        if (d->sequenced)
            rp_json_u64(j, "seq", d->seq);
        else
            rp_json_null(j, "seq");
        rp_json_u64(j, "count", d->count);
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
    rp_json_bool(j, "drops_truncated", st->ndrops < st->dropped);
    rp_json_object_end(j);
}

/* The "Sent:" lines of a --send run. */
static void rp__send_human(FILE *f, const rp_send_stats *st)
{
    fprintf(f,
            "Sent:      %" PRIu64 " packets (%" PRIu64 " bytes, %" PRIu64 " messages), %" PRIu64
            " datagrams, %" PRIu64 " errors, %" PRIu64 " dropped on purpose\n",
            st->packets, st->bytes, st->messages, st->datagrams, st->errors, st->dropped);
    fprintf(f, "           %.2f pps, %.2f Mbps in %.6f seconds%s\n",
            rp__rate((double)st->packets, st->seconds),
            rp__rate((double)st->bytes * 8 / 1e6, st->seconds), st->seconds,
            st->expired ? " (stopped by --duration)" : "");
    if (st->paced)
        fprintf(f,
                "           timing error vs the schedule: p50 %" PRIu64 " ns, p99 %" PRIu64
                " ns, max %" PRIu64 " ns\n",
                rp_hist_percentile(&st->timing, 50), rp_hist_percentile(&st->timing, 99),
                st->timing.count ? st->timing.max : 0);
}

void rp_report_human(FILE *f, const rp_run_config *cfg, const rp_run_result *res)
{
    const rp_feed_stats *fd = &res->feed;
    char a[64];
    fprintf(f, "Input:     ");
    for (size_t i = 0; i < cfg->nfiles; i++) fprintf(f, "%s%s", i ? ", " : "", cfg->files[i]);
    fprintf(f, " (%s%s%s%s)\n", res->format[0] ? res->format : "?", res->compressed ? ", zstd" : "",
            res->framing[0] ? ", " : "", res->framing);
    fprintf(f,
            "           %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
            " decode errors, truncated: %s\n",
            fd->packets, fd->bytes, fd->decode_errors, fd->truncated ? "yes" : "no");
    if (fd->fragments || fd->non_udp)
        fprintf(f, "           skipped: %" PRIu64 " IP fragments, %" PRIu64 " non-UDP packets\n",
                fd->fragments, fd->non_udp);
    fprintf(f,
            "Feed:      %" PRIu64 " messages, %" PRIu64 " heartbeats, %" PRIu64 " gaps (%" PRIu64
            " missing), %" PRIu64 " backward\n",
            fd->messages, fd->heartbeats, fd->gaps, fd->missing, fd->backward);
    rp_report_by_type_line(f, "           by type: ", fd->by_type, fd->type_is_char);
    rp_report_by_protocol_lines(f, "             ", fd);
    if (res->untyped) fprintf(f, "           untyped: %" PRIu64 "\n", res->untyped);
    rp__size_desc(a, sizeof(a), res->ring.capacity);
    fprintf(f,
            "Ring:      %s (max message %" PRIu32 " bytes), published %" PRIu64 " (%" PRIu64
            " bytes)\n",
            a, res->max_msg, res->ring.published, res->ring.published_bytes);
    fprintf(f, "           overwritten %" PRIu64 " (%" PRIu64 " bytes), too big %" PRIu64 "\n",
            res->ring.overwritten, res->ring.overwritten_bytes, res->ring.too_big);
    char path[512];
    if (cfg->shm_name)
        fprintf(f, "Shared:    %s, %s, %s\n",
                rp_shm_path(path, sizeof path, cfg->shm_dir, cfg->shm_name),
                res->shm_closed ? "closed" : "NOT closed",
                res->shm_kept ? "kept (ringcat and ringstat can still read it)" : "unlinked");
    for (unsigned i = 0; i < res->nreaders; i++) {
        const rp_reader_counts *r = &res->readers[i];
        fprintf(f, "Reader %-3u read %" PRIu64 ", lost %" PRIu64 ", laps %" PRIu64 "\n", i, r->read,
                r->lost, r->laps);
        rp_run_ops(res, i)->report_human(res->cons[i], f, cfg->pace.mode != RP_PACE_MAX);
        if (r->error) fprintf(f, "           stopped by: %s\n", ra_strerror(r->error));
    }
    if (res->nreaders && rp_run_ops(res, 0)->report_top_human)
        rp_run_ops(res, 0)->report_top_human(res->cons[0], f);
    rp__pace_desc(a, sizeof(a), &cfg->pace);
    fprintf(f, "Actual:    %" PRIu64 " messages (%" PRIu64 " bytes) sent in %.6f seconds\n",
            res->ring.published, res->msg_bytes, res->seconds);
    double bps = rp__rate((double)res->msg_bytes, res->seconds);
    fprintf(f, "Rated:     %.1f Bps, %.2f Mbps, %.2f pps (speed %s, %" PRIu64 " pass%s)\n", bps,
            bps * 8 / 1e6, rp__rate((double)res->ring.published, res->seconds), a, res->passes,
            res->passes == 1 ? "" : "es");
    if (res->limited) fprintf(f, "           stopped at --limit %" PRIu64 "\n", cfg->limit);
    if (cfg->sender) rp__send_human(f, rp_sender_stats(cfg->sender));
    if (res->interrupted) fprintf(f, "           interrupted\n");
    fprintf(f, "Verified:  %s\n",
            res->verified ? "yes (every reader: read + lost == published, seq increasing)"
                          : "NO (see readers)");
}

/* The "shm" object of a --shm run (docs/replay.md). */
static void rp__shm_json(rp_json *j, const rp_run_config *cfg, const rp_run_result *res)
{
    char path[512];
    rp_json_object_begin(j, "shm");
    rp_json_str(j, "name", cfg->shm_name);
    rp_json_str(j, "path", rp_shm_path(path, sizeof path, cfg->shm_dir, cfg->shm_name));
    rp_json_u64(j, "capacity", res->ring.capacity);
    rp_json_bool(j, "closed", res->shm_closed);
    rp_json_bool(j, "kept", res->shm_kept);
    rp_json_object_end(j);
}

int rp_report_json(FILE *f, const rp_run_config *cfg, const rp_run_result *res)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json *const j = &d.j;
    const rp_feed_stats *fd = &res->feed;
    rp_json_str(j, "version", ra_version_string());

    rp_json_object_begin(j, "input");
    rp_json_array_begin(j, "files");
    for (size_t i = 0; i < cfg->nfiles; i++) rp_json_str(j, NULL, cfg->files[i]);
    rp_json_array_end(j);
    rp_json_str(j, "format", res->format);
    rp_json_str(j, "framing", res->framing);
    rp_json_bool(j, "compressed", res->compressed);
    rp_json_u64(j, "packets", fd->packets);
    rp_json_u64(j, "bytes", fd->bytes);
    rp_json_bool(j, "truncated", fd->truncated);
    rp_report_damage_json(j, fd);
    rp_report_times_json(j, fd, false);
    rp_json_object_end(j);

    rp_report_feed_json(j, fd, res->untyped, res->msg_bytes);

    rp_json_object_begin(j, "ring");
    rp_report_ring_members(j, &res->ring, res->max_msg);
    rp_json_u64(j, "stamp_bytes", rp_stamp_bytes(cfg));
    rp_json_object_end(j);
    if (cfg->shm_name) rp__shm_json(j, cfg, res);

    rp_json_array_begin(j, "readers");
    for (unsigned i = 0; i < res->nreaders; i++) {
        const rp_reader_counts *r = &res->readers[i];
        rp_json_object_begin(j, NULL);
        rp_json_u64(j, "read", r->read);
        rp_json_u64(j, "lost", r->lost);
        rp_json_u64(j, "laps", r->laps);
        if (r->error)
            rp_json_str(j, "error", ra_strerror(r->error));
        else
            rp_json_null(j, "error");
        rp_json_str(j, "consumer", rp_run_ops(res, i)->name);
        rp_run_ops(res, i)->report_json(res->cons[i], j);
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
    if (res->nreaders && rp_run_ops(res, 0)->report_top_json)
        rp_run_ops(res, 0)->report_top_json(res->cons[0], j);

    rp_json_object_begin(j, "throughput");
    rp_json_f64(j, "seconds", res->seconds, 6);
    rp_json_f64(j, "msgs_per_sec", rp__rate((double)res->ring.published, res->seconds), 1);
    rp_json_f64(j, "mb_per_sec", rp__rate((double)res->msg_bytes / 1e6, res->seconds), 3);
    rp_json_object_end(j);

    char pace[64];
    rp__pace_desc(pace, sizeof(pace), &cfg->pace);
    rp_json_object_begin(j, "run");
    rp_json_str(j, "speed", pace);
    rp_json_u64(j, "readers", cfg->readers);
    rp_json_u64(j, "reader_delay_ns", cfg->reader_delay_ns);
    rp_json_str(j, "resume", rp__resume_name(cfg->resume));
    rp_json_u64(j, "loops", cfg->loops);
    rp_json_u64(j, "passes", res->passes);
    rp_json_u64(j, "limit", cfg->limit);
    rp_json_bool(j, "limited", res->limited);
    rp_json_bool(j, "interrupted", res->interrupted);
    rp_json_object_end(j);
    if (cfg->sender) rp__send_json(j, rp_sender_stats(cfg->sender));
    rp_json_bool(j, "verified", res->verified);
    return rp_json_doc_end(&d, f);
}

void rp_report_by_type_json(rp_json *j, const char *key, const uint64_t *by_type, bool is_char)
{
    rp_json_object_begin(j, key);
    for (unsigned t = 0; t < 256; t++) {
        if (!by_type[t]) continue;
        char k[8];
        rp_type_key(k, sizeof(k), t, is_char);
        rp_json_u64(j, k, by_type[t]);
    }
    rp_json_object_end(j);
}

void rp_report_feed_json(rp_json *j, const rp_feed_stats *fd, uint64_t untyped, uint64_t msg_bytes)
{
    rp_json_object_begin(j, "feed");
    rp_json_u64(j, "messages", fd->messages);
    rp_json_u64(j, "untyped", untyped);
    rp_report_feed_counts(j, fd);
    rp_json_u64(j, "message_bytes", msg_bytes);
    rp_json_object_end(j);
}

void rp_report_ring_members(rp_json *j, const ra_ring_stats *ring, uint64_t max_msg)
{
    rp_json_u64(j, "capacity", ring->capacity);
    rp_json_u64(j, "max_msg", max_msg);
    rp_json_u64(j, "published", ring->published);
    rp_json_u64(j, "published_bytes", ring->published_bytes);
    rp_json_u64(j, "overwritten", ring->overwritten);
    rp_json_u64(j, "overwritten_bytes", ring->overwritten_bytes);
    rp_json_u64(j, "too_big", ring->too_big);
    rp_json_bool(j, "hugepages", ring->hugepages);
}

void rp_report_times_json(rp_json *j, const rp_feed_stats *fd, bool full)
{
    rp_json_u64(j, "first_ts_ns", fd->first_ts_ns);
    rp_json_u64(j, "last_ts_ns", fd->last_ts_ns);
    if (!full) return;
    rp_json_u64(j, "min_ts_ns", fd->min_ts_ns);
    rp_json_u64(j, "max_ts_ns", fd->max_ts_ns);
    rp_json_u64(j, "span_ns", fd->max_ts_ns - fd->min_ts_ns);
    rp_json_u64(j, "backward_steps", fd->backward_steps);
}

void rp_report_damage_json(rp_json *j, const rp_feed_stats *fd)
{
    rp_json_u64(j, "decode_errors", fd->decode_errors);
    rp_json_u64(j, "fragments", fd->fragments);
    rp_json_u64(j, "non_udp", fd->non_udp);
}

void rp_report_feed_counts(rp_json *j, const rp_feed_stats *fd)
{
    rp_report_by_type_json(j, "by_type", fd->by_type, fd->type_is_char);
    rp_report_by_protocol(j, fd);
    rp_json_u64(j, "heartbeats", fd->heartbeats);
    rp_json_u64(j, "gaps", fd->gaps);
    rp_json_u64(j, "missing", fd->missing);
    rp_json_u64(j, "backward", fd->backward);
}

void rp_report_by_type_line(FILE *f, const char *prefix, const uint64_t *by_type, bool is_char)
{
    bool any = false;
    for (unsigned t = 0; t < 256; t++) {
        if (!by_type[t]) continue;
        char k[8];
        rp_type_key(k, sizeof(k), t, is_char);
        fprintf(f, "%s%s:%" PRIu64, any ? " " : prefix, k, by_type[t]);
        any = true;
    }
    if (any) fputc('\n', f);
}

void rp_report_hist_json(rp_json *j, const char *key, const rp_hist *h, bool full)
{
    rp_json_object_begin(j, key);
    rp_json_u64(j, "p50", rp_hist_percentile(h, 50));
    rp_json_u64(j, "p99", rp_hist_percentile(h, 99));
    rp_json_u64(j, "p999", rp_hist_percentile(h, 99.9));
    rp_json_u64(j, "max", h->count ? h->max : 0);
    if (full) {
        rp_json_u64(j, "min", h->count ? h->min : 0);
        rp_json_u64(j, "count", h->count);
    }
    rp_json_object_end(j);
}

/* Closes mem (an open_memstream over *buf, *len), copies what it holds to f in one write and
 * frees *buf. @return 0, or -1 when the memory stream failed or the write did. */
static int rp__emit(FILE *f, FILE *mem, char **buf, size_t *len)
{
    bool bad = ferror(mem) != 0;
    if (fclose(mem) != 0) bad = true;
    int rc = -1;
    if (!bad && *buf && fwrite(*buf, 1, *len, f) == *len && fflush(f) == 0) rc = 0;
    free(*buf);
    return rc;
}

int rp_json_doc_begin(rp_json_doc *d)
{
    d->buf = NULL;
    d->len = 0;
    d->mem = open_memstream(&d->buf, &d->len);
    if (!d->mem) return -1;
    rp_json_init(&d->j, d->mem);
    rp_json_object_begin(&d->j, NULL);
    return 0;
}

int rp_json_doc_end(rp_json_doc *d, FILE *f)
{
    rp_json_object_end(&d->j);
    return rp__emit(f, d->mem, &d->buf, &d->len);
}

void rp_report_gen_human(FILE *f, const rp_gen_opts *o, const rp_gen_result *g)
{
    fprintf(f,
            "gen: wrote %s: %" PRIu64 " packets (%" PRIu64 " with messages), %" PRIu64 " bytes\n",
            o->out, g->packets, g->data_packets, g->file_bytes);
    fprintf(f,
            "gen: %" PRIu64 " messages, %" PRIu64 " heartbeats (end of session included), %" PRIu64
            " gaps injected (%" PRIu64 " missing), sequence %" PRIu64 "..%" PRIu64 "\n",
            g->messages, g->heartbeats, g->gaps, g->missing, g->first_seq, g->next_seq - 1);
    fprintf(f, "gen: by type:");
    for (unsigned t = 0; t < 256; t++)
        if (g->by_type[t])
            fprintf(f, o->format == RP_GEN_DBN ? " 0x%02x:%" PRIu64 : " %c:%" PRIu64, t,
                    g->by_type[t]);
    fputc('\n', f);
}

int rp_report_gen_json(FILE *f, const rp_gen_opts *o, const rp_gen_result *g)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json *const j = &d.j;
    rp_json_str(j, "output", o->out);
    rp_json_u64(j, "seed", o->seed);
    rp_json_u64(j, "symbols", o->symbols);
    rp_json_u64(j, "packets", g->packets);
    rp_json_u64(j, "data_packets", g->data_packets);
    rp_json_u64(j, "bytes", g->file_bytes);
    rp_json_u64(j, "messages", g->messages);
    rp_report_by_type_json(j, "by_type", g->by_type, o->format != RP_GEN_DBN);
    rp_json_u64(j, "heartbeats", g->heartbeats);
    rp_json_u64(j, "gaps", g->gaps);
    rp_json_u64(j, "missing", g->missing);
    rp_json_u64(j, "first_seq", g->first_seq);
    rp_json_u64(j, "next_seq", g->next_seq);
    return rp_json_doc_end(&d, f);
}
