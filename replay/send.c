/* send.c - replay --send: the capture's UDP payloads (or MoldUDP64 packets of other inputs) back on
 * the wire, paced by the capture's own clock
 *
 * Design notes
 * - Where it sits. The sender is a packet sink that the producer thread feeds beside the ring
 *   (docs/architecture.md): capture inputs call it for every UDP datagram, whole, before its
 *   messages go into the ring; other inputs hand it each message (rp_sender_message). So it sees
 *   every packet losslessly, heartbeats included, whatever the ring and its readers do, and the
 *   ring is filled at the pace the packets go out. With --send the producer does not pace itself.
 * - Pacing. Each packet's due time comes from rp_pace_target() (pacing.c) with the sender's own
 *   anchors (the first packet's capture timestamp and the clock when it went out): --speed scales
 *   capture time, --pps counts the messages before the packet, --mbps the payload bytes before it.
 *   The sender sleeps until due - RP_SEND_SPIN_NS with clock_nanosleep(TIMER_ABSTIME), then spins
 *   to the due time, with the thread's timer slack at 1 ns. Nothing accumulates: a late packet
 *   does not delay the ones after it. At max speed packets are queued and go out RP_SOCK_BATCH at
 *   a time with sendmmsg(); paced, each goes out at its due time.
 * - Timing error: |clock just before the send - due time| of each packet sent, paced modes only.
 * - MoldUDP64 for other inputs (moldpack.c): at --speed, a packet holds the messages of one
 *   timestamp (up to the size limit); at --pps one message per packet (each at its due time); at
 *   max speed and --mbps, as many as fit. A forward jump of the input's sequence numbers within a
 *   stream (a tick file's gap) skips the same numbers in the packets.
 * - --drop P: packet i (counted over everything handled, from 0) is dropped when
 *   rp_send_drop_pick(seed, i, P), a pure function: the same seed drops the same packets.
 */
#include "send.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "moldpack.h"
#include "util.h"

#define RP__ARENA (RP_SOCK_BATCH * 65536u) /* bytes of the queued packets at max speed */

struct rp_sender {
    rp_send_opts o;
    rp_packet_sink sink;
    rp_sock dest[RP_SEND_MAX_DESTS];
    rp_pace pace;
    bool paced, anchored, failed, sent_any;
    uint64_t pass, max_ts, msgs_before, bytes_before, index, t_first, t_last;
    rp_sock_pkt q[RP_SOCK_BATCH]; /* queued packets (their bytes in arena) */
    size_t nq, arena_used;
    uint8_t *arena;
    rp_moldpack *mp; /* non-capture inputs */
    bool mp_started, have_last;
    uint64_t mp_ts, last_seq;
    uint32_t last_stream;
    FILE *drop_file;
    rp_send_drop *drops;
    rp_send_stats st;
    char err[512];
};

void rp_send_opts_default(rp_send_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sock.ttl = -1;
    o->packet_bytes = RP_MOLDPACK_DEFAULT;
    o->session = "RPLAY00001";
}

bool rp_send_drop_pick(uint64_t seed, uint64_t index, double p)
{
    if (!(p > 0.0)) return false;
    uint64_t z = seed + (index + 1) * UINT64_C(0x9E3779B97F4A7C15); /* splitmix64 */
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-53 < p;
}

static void rp__fail(rp_sender *s, const char *msg)
{
    if (s->failed) return;
    s->failed = true;
    snprintf(s->err, sizeof s->err, "%s", msg);
}

/* Sends the queued packets to every destination. due: their due time (paced), for the timing. */
static void rp__flush(rp_sender *s, uint64_t due)
{
    if (!s->nq || s->failed) {
        s->nq = s->arena_used = 0;
        return;
    }
    uint64_t t = rp_now_ns();
    if (s->paced) rp_hist_record(&s->st.timing, t >= due ? t - due : due - t);
    if (!s->sent_any) s->t_first = t;
    s->sent_any = true;
    char e[sizeof s->err];
    for (unsigned d = 0; d < s->o.ndest; d++) {
        int r = rp_sock_send(&s->dest[d], s->q, s->nq, &s->st.errors, e, sizeof e);
        if (r < 0) {
            rp__fail(s, e);
            break;
        }
        s->st.datagrams += (uint64_t)r;
    }
    s->t_last = rp_now_ns();
    s->nq = s->arena_used = 0;
}

/* A packet dropped on purpose: counted and listed. */
static void rp__dropped(rp_sender *s, uint64_t index, uint32_t msgs, bool sequenced, uint64_t seq)
{
    rp_send_drop d = {
        .index = index, .seq = sequenced ? seq : 0, .count = msgs, .sequenced = sequenced};
    s->st.dropped++;
    if (s->st.ndrops < RP_SEND_DROPS_KEPT) s->drops[s->st.ndrops++] = d;
    if (!s->drop_file) return;
    if (sequenced)
        fprintf(s->drop_file, "%" PRIu64 " %" PRIu64 " %" PRIu32 "\n", index, seq, msgs);
    else
        fprintf(s->drop_file, "%" PRIu64 " - %" PRIu32 "\n", index, msgs);
}

/* The first packet: anchors the schedule. */
static void rp__anchor(rp_sender *s, uint64_t ts)
{
    s->anchored = true;
    if (s->paced) (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* this thread's sleeps */
    s->pace.first_ts_ns = ts;
    s->pace.start_ns = rp_now_ns();
}

/* One packet: waits for its due time, drops it or sends it (paced) or queues it (max speed). */
static void rp__packet(rp_sender *s, const uint8_t *data, size_t len, uint16_t dport, uint64_t ts,
                       uint32_t msgs, bool sequenced, uint64_t seq)
{
    if (s->failed || s->st.expired) return;
    if (!s->anchored) rp__anchor(s, ts);
    uint64_t due = 0;
    if (s->paced) {
        uint64_t at = s->pace.mode == RP_PACE_MBPS ? s->bytes_before : s->msgs_before;
        due = rp_pace_target(&s->pace, s->pass, at, ts);
        rp_pace_sleep_until(due, RP_SEND_SPIN_NS);
        if (rp_stop_requested()) return; /* woken by a signal: the run ends, nothing early */
    }
    if (s->pass == 0 && ts > s->max_ts) s->max_ts = ts;
    s->msgs_before += msgs;
    s->bytes_before += len;
    uint64_t index = s->index++;
    if (s->o.drop > 0 && rp_send_drop_pick(s->o.seed, index, s->o.drop)) {
        rp__dropped(s, index, msgs, sequenced, seq);
    } else {
        if (s->nq == RP_SOCK_BATCH || s->arena_used + len > RP__ARENA) rp__flush(s, due);
        memcpy(s->arena + s->arena_used, data, len);
        s->q[s->nq++] = (rp_sock_pkt){.data = s->arena + s->arena_used, .len = len, .dport = dport};
        s->arena_used += len;
        s->st.packets++;
        s->st.bytes += len;
        s->st.messages += msgs;
        if (s->paced || s->nq == RP_SOCK_BATCH) rp__flush(s, due);
    }
    if (s->o.duration > 0 && (s->paced || (index & 63) == 0) &&
        (double)(rp_now_ns() - s->pace.start_ns) >= s->o.duration * 1e9)
        s->st.expired = true;
}

/* --port-map: the port a capture packet to `port` goes to (destinations with port 0). */
static uint16_t rp__map(const rp_sender *s, uint16_t port)
{
    for (unsigned i = 0; i < s->o.nmap; i++)
        if (s->o.map_from[i] == port) return s->o.map_to[i];
    return port;
}

static void rp__on_packet(void *ctx, const rp_packet *p)
{
    rp_sender *s = ctx;
    rp__packet(s, p->udp->payload, p->udp->len, rp__map(s, p->udp->dport), p->ts_ns, p->messages,
               p->sequenced, p->seq);
}

/* Sends the open MoldUDP64 packet, if any. */
static void rp__mold_emit(rp_sender *s)
{
    if (!s->mp_started || !s->mp->count) return;
    uint32_t count = s->mp->count;
    uint64_t first = s->mp->first;
    const uint8_t *pkt;
    size_t n = rp_moldpack_take(s->mp, &pkt);
    rp__packet(s, pkt, n, 0, s->mp_ts, count, true, first);
}

/* The first message of a non-capture input: every destination needs its own port. */
static void rp__mold_start(rp_sender *s, const rp_message *m)
{
    s->mp_started = true;
    rp_moldpack_init(s->mp, s->o.session, s->o.packet_bytes, m->seq ? m->seq : 1);
    for (unsigned d = 0; d < s->o.ndest; d++) {
        if (s->dest[d].port) continue;
        char e[sizeof s->err];
        snprintf(e, sizeof e,
                 "%s: port 0 keeps each capture packet's port, but this input has no packets "
                 "(it goes out as MoldUDP64): give a port",
                 s->dest[d].url);
        rp__fail(s, e);
    }
}

void rp_sender_message(rp_sender *s, const rp_message *m)
{
    if (s->failed || s->st.expired) return;
    if (!s->mp_started) {
        rp__mold_start(s, m);
        if (s->failed) return;
    } else if (s->have_last && m->stream == s->last_stream && m->seq > s->last_seq + 1) {
        rp__mold_emit(s); /* a gap: the numbers it skips are skipped on the wire too */
        (void)rp_moldpack_skip(s->mp, m->seq - s->last_seq - 1);
    }
    s->have_last = true;
    s->last_seq = m->seq;
    s->last_stream = m->stream;
    bool alone = s->pace.mode == RP_PACE_PPS;
    bool by_ts = s->pace.mode == RP_PACE_SPEED;
    if (s->mp->count && (!rp_moldpack_fits(s->mp, m->len) || (by_ts && m->ts_ns != s->mp_ts)))
        rp__mold_emit(s);
    if (!rp_moldpack_fits(s->mp, m->len)) { /* longer than any UDP payload: cannot go out */
        s->st.errors++;
        return;
    }
    if (s->mp->count == 0) s->mp_ts = m->ts_ns;
    (void)rp_moldpack_add(s->mp, m->data, m->len);
    if (alone) rp__mold_emit(s);
}

void rp_sender_pass_end(rp_sender *s)
{
    rp__mold_emit(s); /* queued at max speed: the next pass fills the batch */
    if (s->pass++ == 0 && s->anchored)
        s->pace.span_ns = s->max_ts > s->pace.first_ts_ns ? s->max_ts - s->pace.first_ts_ns : 0;
}

bool rp_sender_stop(const rp_sender *s)
{
    return s->failed || s->st.expired;
}

int rp_sender_finish(rp_sender *s)
{
    rp__mold_emit(s);
    rp__flush(s, 0);
    s->st.seconds = s->sent_any ? (double)(s->t_last - s->t_first) / 1e9 : 0.0;
    s->st.paced = s->paced;
    s->st.drops = s->drops;
    if (s->drop_file && fflush(s->drop_file) != 0) rp__fail(s, "cannot write the --drop-list file");
    return s->failed ? -1 : 0;
}

const char *rp_sender_error(const rp_sender *s)
{
    return s->err;
}

const rp_send_stats *rp_sender_stats(const rp_sender *s)
{
    return &s->st;
}

const rp_packet_sink *rp_sender_sink(rp_sender *s)
{
    return &s->sink;
}

void rp_sender_close(rp_sender *s)
{
    if (!s) return;
    for (unsigned d = 0; d < RP_SEND_MAX_DESTS; d++) rp_sock_close(&s->dest[d]);
    if (s->drop_file) fclose(s->drop_file);
    free(s->arena);
    free(s->mp);
    free(s->drops);
    free(s);
}

/* Opens every destination. @return 0, or -1 with err set. */
static int rp__open_dests(rp_sender *s, char *err, size_t errlen)
{
    for (unsigned d = 0; d < s->o.ndest; d++)
        if (rp_sock_parse(s->o.dest[d], &s->dest[d], err, errlen) != 0 ||
            rp_sock_open(&s->dest[d], &s->o.sock, err, errlen) != 0)
            return -1;
    return 0;
}

int rp_sender_open(rp_sender **out, const rp_send_opts *o, const rp_pace *pace, char *err,
                   size_t errlen)
{
    *out = NULL;
    rp_sender *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned d = 0; d < RP_SEND_MAX_DESTS; d++) s->dest[d].fd = -1;
    s->o = *o;
    s->pace = *pace;
    s->paced = pace->mode != RP_PACE_MAX;
    s->sink = (rp_packet_sink){.packet = rp__on_packet, .ctx = s};
    rp_hist_init(&s->st.timing);
    s->arena = malloc(RP__ARENA);
    s->mp = malloc(sizeof *s->mp);
    s->drops = malloc(RP_SEND_DROPS_KEPT * sizeof *s->drops);
    if (!s->arena || !s->mp || !s->drops) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (rp__open_dests(s, err, errlen) != 0) goto fail;
    if (o->drop_list) {
        s->drop_file = fopen(o->drop_list, "w");
        if (!s->drop_file) {
            snprintf(err, errlen, "--drop-list %s: %s", o->drop_list, strerror(errno));
            goto fail;
        }
        fprintf(s->drop_file, "# index first_seq messages\n");
    }
    *out = s;
    return 0;
fail:
    rp_sender_close(s);
    return -1;
}
