/* info.c - `replay info`: describe inputs (format, counts, gaps, time span) without a ring
 *
 * Design notes
 * - Cheap by construction: one pass of rp_source_next_event() over each input, counting. No
 *   ring, no threads (not even the input layer's read-ahead decompressor), no per-message clock
 *   reads; the cost is the input layer's own (reading,
 *   decompressing, framing), which is the floor for any tool that must count every message.
 * - The counts are the input layer's, so they are the ones a replay reports (docs/counting.md);
 *   `marks` counts sequenced packets (for a tick file: its mark records).
 * - Timestamps print as UTC date and time, except those below one day, which are ITCH times of
 *   day (ns since midnight) and print as such.
 * - --dump writes one line per message and mark (payload in hex): a byte-exact, diffable view of
 *   what an input holds, used by the tests to compare a capture with its converted tick file;
 *   or, with --dump-format json or csv, the decoded fields of every message (dump.c).
 */
#include "info.h"

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbn.h"
#include "dump.h"
#include "report.h"
#include "run.h"

#define RP__DAY_NS (86400ull * 1000000000ull)

static void rp__copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int rp_info_read(const char *path, const rp_source_opts *opts, rp_dump *dump, rp_info_file *out,
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->path = path;
    uint64_t t0 = rp_now_ns();
    rp_source *s;
    rp_source_opts o = opts ? *opts : (rp_source_opts){0};
    o.no_threads = true; /* info starts no thread: the input layer in this one only */
    if (rp_source_open(&s, path, &o, err, errlen) != 0) return -1;
    if (dump && rp_dump_begin(dump, s) != 0) goto dump_fail;
    rp_message m;
    rp_mark k;
    int ev;
    while ((ev = rp_source_next_event(s, &m, &k)) > 0 && !(dump && rp_dump_full(dump))) {
        if (ev == 2) {
            out->marks++;
            if (dump && rp_dump_mark(dump, &k) != 0) goto dump_fail;
            continue;
        }
        out->msg_bytes += m.len;
        if (m.type == RP_TYPE_NONE) out->untyped++;
        if (dump && rp_dump_message(dump, &m) != 0) goto dump_fail;
    }
    if (ev < 0) {
        snprintf(err, errlen, "%s", rp_source_error(s));
        rp_source_close(s);
        return -1;
    }
    out->feed = *rp_source_stats(s);
    rp__copy_str(out->format, sizeof out->format, rp_source_format_name(s));
    rp__copy_str(out->framing, sizeof out->framing, rp_source_framing_name(s));
    out->compressed = rp_source_compressed(s);
    out->linktype = rp_source_linktype(s);
    if (out->linktype >= 0)
        rp__copy_str(out->linkname, sizeof out->linkname, pcap_datalink_val_to_name(out->linktype));
    out->size = rp_source_size(s);
    if (!out->size) out->size = rp_source_offset(s);
    out->flows_total = rp_source_flows(s, out->flows, RP_INFO_MAX_FLOWS);
    out->nflows = out->flows_total < RP_INFO_MAX_FLOWS ? out->flows_total : RP_INFO_MAX_FLOWS;
    for (size_t w = 0; w < rp_source_warning_count(s); w++)
        fprintf(stderr, "replay info: warning: %s: %s\n", path, rp_source_warning(s, w));
    const ra_tick_info *ti = rp_source_tick_info(s);
    if (ti) {
        out->rtk = true;
        out->version_major = ti->version_major;
        out->version_minor = ti->version_minor;
        out->created_ns = ti->created_ns;
        out->max_payload = ti->max_payload;
        out->streams = ti->nstreams;
        rp__copy_str(out->creator, sizeof out->creator, ti->creator);
        rp__copy_str(out->source_format, sizeof out->source_format, ti->source_format);
        rp__copy_str(out->header_framing, sizeof out->header_framing, ti->framing);
    }
    const rp_dbn_meta *dm = rp_source_dbn_meta(s);
    if (dm && !(out->dbn = rp_dbn_meta_copy(dm))) {
        snprintf(err, errlen, "%s: out of memory", path);
        rp_source_close(s);
        return -1;
    }
    rp_source_close(s);
    out->seconds = (double)(rp_now_ns() - t0) / 1e9;
    return 0;
dump_fail:
    snprintf(err, errlen, "%s: cannot write the dump", path);
    rp_source_close(s);
    return -1;
}

void rp_info_files_free(rp_info_file *files, size_t n)
{
    for (size_t k = 0; files && k < n; k++) {
        rp_dbn_meta_free(files[k].dbn);
        files[k].dbn = NULL;
    }
}

/* ---- reports ------------------------------------------------------------------------------- */

void rp_info_ts(char *buf, size_t cap, uint64_t ns)
{
    if (ns < RP__DAY_NS) {
        uint64_t s = ns / 1000000000u;
        snprintf(buf, cap, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%09" PRIu64 " (time of day)",
                 s / 3600, s / 60 % 60, s % 60, ns % 1000000000u);
        return;
    }
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, cap, "%" PRIu64 " ns", ns);
        return;
    }
    char d[32];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%09" PRIu64 "Z", d, ns % 1000000000u);
}

static uint64_t rp__span(const rp_feed_stats *f)
{
    return f->max_ts_ns - f->min_ts_ns;
}

static double rp__ratio(const rp_info_file *i)
{
    return i->compressed && i->size ? (double)i->feed.bytes / (double)i->size : 1.0;
}

/* "time: min .. max (span)", and how often time stepped backwards in input order. */
static void rp__time_human(FILE *f, const rp_feed_stats *fd)
{
    char a[64], b[64];
    if (!fd->stamped || (fd->min_ts_ns == 0 && fd->max_ts_ns == 0)) {
        fprintf(f, "  time:       no timestamps\n");
        return;
    }
    rp_info_ts(a, sizeof a, fd->min_ts_ns);
    rp_info_ts(b, sizeof b, fd->max_ts_ns);
    fprintf(f, "  time:       %s .. %s (%.6f s)", a, b, (double)rp__span(fd) / 1e9);
    if (fd->backward_steps)
        fprintf(f, ", not in order: %" PRIu64 " backward steps", fd->backward_steps);
    fputc('\n', f);
}

static void rp__flows_human(FILE *f, const rp_info_file *i)
{
    if (!i->flows_total) return;
    fprintf(f, "  flows:      %" PRIu64 " UDP%s\n", i->flows_total,
            i->flows_total > i->nflows ? " (the busiest listed)" : "");
    for (size_t k = 0; k < i->nflows; k++) {
        const rp_flow_info *fl = &i->flows[k];
        fprintf(f, "    %s > %s  %s, %" PRIu64 " packets, %" PRIu64 " messages\n", fl->src, fl->dst,
                rp_framing_name(fl->framing), fl->packets, fl->messages);
    }
}

/* "flows": [{"src", "dst", "dport", "framing", "packets", "messages"}] */
static void rp__flows_json(rp_json *j, const rp_info_file *i)
{
    rp_json_array_begin(j, "flows");
    for (size_t k = 0; k < i->nflows; k++) {
        const rp_flow_info *fl = &i->flows[k];
        rp_json_object_begin(j, NULL);
        rp_json_str(j, "src", fl->src);
        rp_json_str(j, "dst", fl->dst);
        rp_json_u64(j, "dport", fl->dport);
        rp_json_str(j, "framing", rp_framing_name(fl->framing));
        rp_json_u64(j, "packets", fl->packets);
        rp_json_u64(j, "messages", fl->messages);
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
    rp_json_u64(j, "flows_total", i->flows_total);
}

void rp_info_report_human(FILE *f, const rp_info_file *files, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const rp_info_file *i = &files[k];
        const rp_feed_stats *fd = &i->feed;
        char a[64];
        fprintf(f, "%s: %s", i->path, i->format);
        if (i->rtk) fprintf(f, " %u.%u", (unsigned)i->version_major, (unsigned)i->version_minor);
        if (i->compressed)
            fprintf(f, ", zstd (%" PRIu64 " -> %" PRIu64 " bytes, ratio %.2f)\n", i->size,
                    fd->bytes, rp__ratio(i));
        else
            fprintf(f, ", not compressed, %" PRIu64 " bytes\n", fd->bytes);
        if (i->rtk) {
            rp_info_ts(a, sizeof a, i->created_ns);
            fprintf(f, "  tick file:  from %s%s%s, by %s, created %s, %" PRIu64 " streams\n",
                    i->source_format[0] ? i->source_format : "?", i->header_framing[0] ? " / " : "",
                    i->header_framing, i->creator[0] ? i->creator : "?", a, i->streams);
        }
        if (i->dbn) rp_info_dbn_human(f, i->dbn);
        if (i->linktype >= 0)
            fprintf(f, "  link type:  %d (%s)\n", i->linktype, i->linkname[0] ? i->linkname : "?");
        fprintf(f, "  framing:    %s\n", i->framing);
        fprintf(f,
                "  packets:    %" PRIu64 "%s, %" PRIu64 " sequenced (marks), %" PRIu64
                " decode errors",
                fd->packets, i->rtk ? " records" : "", i->marks, fd->decode_errors);
        if (fd->fragments || fd->non_udp)
            fprintf(f, ", skipped %" PRIu64 " fragments and %" PRIu64 " non-UDP", fd->fragments,
                    fd->non_udp);
        fprintf(f, ", truncated: %s\n", fd->truncated ? "yes" : "no");
        fprintf(f,
                "  messages:   %" PRIu64 " (%" PRIu64 " bytes, %" PRIu64 " untyped), %" PRIu64
                " heartbeats, %" PRIu64 " gaps (%" PRIu64 " missing), %" PRIu64 " backward\n",
                fd->messages, i->msg_bytes, i->untyped, fd->heartbeats, fd->gaps, fd->missing,
                fd->backward);
        rp_report_by_type_line(f, "  by type:    ", fd->by_type, fd->type_is_char);
        rp_report_by_protocol_lines(f, "              ", fd);
        rp__time_human(f, fd);
        rp__flows_human(f, i);
        fprintf(f, "  read in:    %.3f s (%.1f MB/s)\n", i->seconds,
                i->seconds > 0 ? (double)fd->bytes / 1e6 / i->seconds : 0.0);
    }
}

int rp_info_report_json(FILE *f, const rp_info_file *files, size_t n)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json *const j = &d.j;
    rp_json_str(j, "version", ra_version_string());
    rp_json_array_begin(j, "files");
    for (size_t k = 0; k < n; k++) {
        const rp_info_file *i = &files[k];
        const rp_feed_stats *fd = &i->feed;
        rp_json_object_begin(j, NULL);
        rp_json_str(j, "file", i->path);
        rp_json_str(j, "format", i->format);
        rp_json_bool(j, "compressed", i->compressed);
        rp_json_u64(j, "size", i->size);
        rp_json_u64(j, "bytes", fd->bytes);
        rp_json_f64(j, "compression_ratio", rp__ratio(i), 3);
        if (i->linktype >= 0) {
            rp_json_i64(j, "link_type", i->linktype);
            rp_json_str(j, "link_name", i->linkname);
        } else {
            rp_json_null(j, "link_type");
            rp_json_null(j, "link_name");
        }
        rp_json_str(j, "framing", i->framing);
        rp_json_u64(j, "packets", fd->packets);
        rp_json_u64(j, "marks", i->marks);
        rp_json_u64(j, "messages", fd->messages);
        rp_json_u64(j, "message_bytes", i->msg_bytes);
        rp_json_u64(j, "untyped", i->untyped);
        rp_report_feed_counts(j, fd);
        rp_report_damage_json(j, fd);
        rp_json_bool(j, "truncated", fd->truncated);
        rp_report_times_json(j, fd, true);
        rp__flows_json(j, i);
        rp_json_f64(j, "seconds", i->seconds, 6);
        if (i->rtk) {
            char v[16];
            snprintf(v, sizeof v, "%u.%u", (unsigned)i->version_major, (unsigned)i->version_minor);
            rp_json_object_begin(j, "tick_file");
            rp_json_str(j, "version", v);
            rp_json_u64(j, "created_ns", i->created_ns);
            rp_json_str(j, "creator", i->creator);
            rp_json_str(j, "source_format", i->source_format);
            rp_json_str(j, "framing", i->header_framing);
            rp_json_u64(j, "streams", i->streams);
            rp_json_u64(j, "max_payload", i->max_payload);
            rp_json_object_end(j);
        } else {
            rp_json_null(j, "tick_file");
        }
        if (i->dbn)
            rp_info_dbn_json(j, i->dbn);
        else
            rp_json_null(j, "dbn");
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
    return rp_json_doc_end(&d, f);
}
