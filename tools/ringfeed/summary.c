/* summary.c - ringfeed's reports: the --json object (replay's input, feed, ring and readers keys
 * plus network) and the human summary */
#include <inttypes.h>

#include "ringalloc/ringalloc.h"
#include "handler.h"
#include "report.h"

static double rf__rate(double n, double s)
{
    return s > 0 ? n / s : 0;
}

static void rf__input_feed_ring(rp_json *j, const rf_opts *o, const rf_result *r)
{
    const rp_feed_stats *fd = &r->st;
    rp_json_object_begin(j, "input");
    rp_json_array_begin(j, "endpoints");
    for (unsigned i = 0; i < o->nep; i++) rp_json_str(j, NULL, o->ep[i].text);
    rp_json_array_end(j);
    rp_json_str(j, "format", "udp");
    rp_json_str(j, "framing", r->framing);
    rp_json_u64(j, "packets", fd->packets);
    rp_json_u64(j, "bytes", fd->bytes);
    rp_json_u64(j, "decode_errors", fd->decode_errors);
    rp_report_times_json(j, fd, false);
    rp_json_object_end(j);

    rp_report_feed_json(j, fd, r->untyped, r->msg_bytes);

    rp_json_object_begin(j, "ring");
    rp_report_ring_members(j, &r->ring, r->max_msg);
    rp_json_str(j, "write", o->write == RF_WRITE_PACKETS ? "packets" : "messages");
    rp_json_object_end(j);
    if (o->shm) {
        rp_json_object_begin(j, "shm");
        rp_json_str(j, "name", o->shm);
        char path[512];
        rp_json_str(j, "path", rp_shm_path(path, sizeof path, o->shm_dir, o->shm));
        rp_json_bool(j, "closed", true);
        rp_json_bool(j, "kept", !o->shm_unlink);
        rp_json_object_end(j);
    }
}

static void rf__readers(rp_json *j, const rf_result *r)
{
    rp_json_array_begin(j, "readers");
    for (unsigned i = 0; i < r->nreaders; i++) {
        const rf_reader_counts *c = &r->readers[i];
        rp_json_object_begin(j, NULL);
        rp_json_u64(j, "read", c->read);
        rp_json_u64(j, "lost", c->lost);
        rp_json_u64(j, "laps", c->laps);
        rp_json_u64(j, "out_of_order", c->out_of_order);
        if (c->error)
            rp_json_str(j, "error", ra_strerror(c->error));
        else
            rp_json_null(j, "error");
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
}

static void rf__network(rp_json *j, const rf_opts *o, const rf_result *r)
{
    rp_json_object_begin(j, "network");
    rp_json_u64(j, "packets", r->packets);
    rp_json_u64(j, "bytes", r->bytes);
    rp_json_u64(j, "kernel_drops", r->kernel_drops);
    rp_json_u64(j, "duplicates", r->duplicates);
    rp_json_u64(j, "truncated", r->truncated);
    rp_json_u64(j, "write_errors", r->write_errors);
    rp_json_bool(j, "arbitrate", o->arbitrate);
    rp_json_u64(j, "arb_window_ns", o->arb_window_ns);
    rp_json_array_begin(j, "lines");
    for (unsigned i = 0; i < o->nep; i++) {
        const rf_line *l = &r->line[i];
        const rf_arb_line *a = &r->arb_line[i];
        rp_json_object_begin(j, NULL);
        rp_json_str(j, "endpoint", o->ep[i].text);
        rp_json_u64(j, "packets", l->packets);
        rp_json_u64(j, "bytes", l->bytes);
        rp_json_u64(j, "kernel_drops", l->ovfl);
        rp_json_u64(j, "truncated", l->truncated);
        rp_json_u64(j, "rcvbuf", (uint64_t)(l->rcvbuf > 0 ? l->rcvbuf / 2 : 0));
        rp_json_u64(j, "delivered", o->arbitrate ? a->delivered : l->packets);
        rp_json_u64(j, "duplicates", a->duplicates);
        rp_json_u64(j, "gaps_filled", a->gaps_filled);
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
    rp_json_object_end(j);
}

int rf_report_json(FILE *f, const rf_opts *o, const rf_result *r)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json_str(&d.j, "version", ra_version_string());
    rf__input_feed_ring(&d.j, o, r);
    rf__readers(&d.j, r);
    rf__network(&d.j, o, r);
    rp_json_object_begin(&d.j, "throughput");
    rp_json_f64(&d.j, "seconds", r->seconds, 6);
    rp_json_f64(&d.j, "msgs_per_sec", rf__rate((double)r->st.messages, r->seconds), 1);
    rp_json_f64(&d.j, "pkts_per_sec", rf__rate((double)r->packets, r->seconds), 1);
    rp_json_object_end(&d.j);
    rp_json_object_begin(&d.j, "run");
    rp_json_u64(&d.j, "readers", o->readers);
    rp_json_bool(&d.j, "interrupted", r->interrupted);
    rp_json_bool(&d.j, "idle_exit", r->idle);
    rp_json_object_end(&d.j);
    return rp_json_doc_end(&d, f);
}

void rf_report_human(FILE *f, const rf_opts *o, const rf_result *r)
{
    const rp_feed_stats *fd = &r->st;
    fprintf(f,
            "Network:   %" PRIu64 " packets (%" PRIu64 " bytes) on %u endpoint%s, %" PRIu64
            " kernel drops, %" PRIu64 " duplicates\n",
            r->packets, r->bytes, o->nep, o->nep == 1 ? "" : "s", r->kernel_drops, r->duplicates);
    for (unsigned i = 0; i < o->nep; i++)
        fprintf(f, "  line %u   %s: %" PRIu64 " packets, %" PRIu64 " gaps filled\n", i,
                o->ep[i].text, r->line[i].packets, r->arb_line[i].gaps_filled);
    fprintf(f,
            "Feed:      %" PRIu64 " messages (%s), %" PRIu64 " gaps, %" PRIu64 " missing, %" PRIu64
            " backward, %" PRIu64 " heartbeats, %" PRIu64 " decode errors\n",
            fd->messages, r->framing, fd->gaps, fd->missing, fd->backward, fd->heartbeats,
            fd->decode_errors);
    rp_report_by_type_line(f, "           ", fd->by_type, fd->type_is_char);
    char path[512];
    fprintf(f, "Ring:      %s, %" PRIu64 " records (%s) published, %" PRIu64 " overwritten\n",
            o->shm ? rp_shm_path(path, sizeof path, o->shm_dir, o->shm) : "in-process",
            r->ring.published, o->write == RF_WRITE_PACKETS ? "packets" : "messages",
            r->ring.overwritten);
    for (unsigned i = 0; i < r->nreaders; i++)
        fprintf(f, "Reader %-3u read %" PRIu64 ", lost %" PRIu64 ", laps %" PRIu64 "%s%s\n", i,
                r->readers[i].read, r->readers[i].lost, r->readers[i].laps,
                r->readers[i].error ? ", stopped by: " : "",
                r->readers[i].error ? ra_strerror(r->readers[i].error) : "");
    fprintf(f, "Rated:     %.1f msgs/s over %.6f seconds (first to last packet)%s\n",
            rf__rate((double)fd->messages, r->seconds), r->seconds,
            r->idle          ? ", ended by --idle-exit"
            : r->interrupted ? ", interrupted"
                             : "");
}
