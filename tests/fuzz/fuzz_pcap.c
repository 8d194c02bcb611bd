/* fuzz_pcap.c - libFuzzer target: captures read by libpcap from an fmemopen() FILE*, through the
 * replay source (zstd detection, format detection, link/IP/UDP, framing, gap counting). Every
 * input is read twice, message by message (rp_source_next) and in packet batches
 * (rp_source_next_batch, batch size from the input's length): both must hand out the same
 * messages (a hash over each one's bytes and fields) and end with the same statistics; flows and
 * the time range must agree with them, and a third pass with --strict must fail exactly when the
 * first warned about a damaged packet. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define MAX_BYTES (8u << 20) /* stop after this much decompressed input (zstd bombs) */

typedef struct outcome {
    int opened, rc;
    uint64_t n, hash;
    bool capped;  /* stopped at MAX_BYTES: the two passes may stop at different points */
    bool damaged; /* a damaged packet was warned about */
    rp_feed_stats st;
} outcome;

/* The flows account for the UDP packets and messages; the time range holds every stamp. */
static void check_flows_and_time(rp_source *s, const rp_feed_stats *st, outcome *o)
{
    rp_flow_info fl[8];
    size_t n = rp_source_flows(s, fl, 8);
    uint64_t packets = 0, messages = 0;
    for (size_t i = 0; i < n && i < 8; i++) {
        if (i && fl[i].packets > fl[i - 1].packets) abort(); /* busiest first */
        packets += fl[i].packets;
        messages += fl[i].messages;
    }
    if (packets > st->packets || messages > st->messages) abort();
    if (st->stamped && (st->min_ts_ns > st->first_ts_ns || st->first_ts_ns > st->max_ts_ns ||
                        st->min_ts_ns > st->last_ts_ns || st->last_ts_ns > st->max_ts_ns))
        abort();
    if (st->backward_steps >= st->packets + !st->packets) abort();
    for (size_t i = 0; i < rp_source_warning_count(s); i++)
        if (strstr(rp_source_warning(s, i), "damaged")) o->damaged = true;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ull;
    return h;
}

static uint64_t hash_msg(uint64_t h, const rp_message *m)
{
    if (m->len && !m->data) abort();
    h = mix(h, &m->len, sizeof m->len);
    h = mix(h, &m->type, sizeof m->type);
    h = mix(h, &m->stream, sizeof m->stream);
    h = mix(h, &m->seq, sizeof m->seq);
    h = mix(h, &m->ts_ns, sizeof m->ts_ns);
    return m->len ? mix(h, m->data, m->len) : h;
}

/* batch 0: rp_source_next */
static outcome run(const uint8_t *data, size_t size, size_t batch, bool strict)
{
    outcome o;
    memset(&o, 0, sizeof o);
    o.hash = 1469598103934665603ull;
    FILE *fp = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!fp) abort();
    rp_source *s;
    char err[512];
    rp_source_opts opts = {.format = RP_FMT_AUTO, .framing = RP_FRAMING_AUTO, .strict = strict};
    if (rp_source_open_stream(&s, fp, "fuzz.pcap", &opts, err, sizeof err) == 0) {
        o.opened = 1;
        rp_message m[16];
        size_t k = 1;
        while ((o.rc = batch ? rp_source_next_batch(s, m, batch, &k) : rp_source_next(s, m)) == 1) {
            if (k < 1 || k > batch + !batch) abort();
            for (size_t i = 0; i < k; i++) o.hash = hash_msg(o.hash, &m[i]);
            o.n += k;
            if (rp_source_stats(s)->bytes > MAX_BYTES) {
                o.capped = true;
                break;
            }
        }
        o.st = *rp_source_stats(s);
        if (o.st.messages != o.n) abort();
        if (o.st.gaps > o.st.missing) abort();
        if (o.rc < 0 && !rp_source_error(s)[0]) abort();
        (void)rp_source_framing_name(s);
        check_flows_and_time(s, &o.st, &o);
        rp_source_close(s);
    } else if (!err[0]) {
        abort();
    }
    fclose(fp);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    outcome a = run(data, size, 0, false);
    outcome b = run(data, size, 1 + size % 16, false);
    if (a.opened != b.opened) abort();
    if (!a.opened || a.capped || b.capped) return 0;
    if (a.rc != b.rc || a.n != b.n || a.hash != b.hash) abort();
    if (a.st.decode_errors != b.st.decode_errors || a.st.heartbeats != b.st.heartbeats ||
        a.st.gaps != b.st.gaps || a.st.missing != b.st.missing || a.st.backward != b.st.backward ||
        a.st.packets != b.st.packets ||
        memcmp(a.st.by_type, b.st.by_type, sizeof a.st.by_type) != 0)
        abort();
    /* --strict fails exactly where a damaged packet was warned about, and nowhere else */
    outcome c = run(data, size, 0, true);
    if (c.capped) return 0;
    if (a.damaged ? c.rc != -1 : c.rc != a.rc || c.n != a.n || c.hash != a.hash) abort();
    return 0;
}
