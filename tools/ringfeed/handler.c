/* handler.c - ringfeed's feed handler: sockets to ring (reserve, recvmmsg, commit), framing,
 * arbitration
 *
 * Design notes.
 * - One thread, one epoll set over every endpoint's socket. A reservation retires old records at
 *   once, so none is held while blocked: the loop waits for readability first, then receives
 *   with MSG_DONTWAIT.
 * - --write packets: each datagram goes straight into the ring. The loop reserves --max-packet
 *   bytes, receives one datagram into the reservation (recvmmsg, one slot) and commits its
 *   length (the record shrinks to it). A datagram that arbitration drops, or a receive that
 *   found nothing, leaves the reservation unused: the next reserve takes the same place again.
 * - --write messages (default): recvmmsg takes up to --batch datagrams into private buffers; the
 *   framer splits each into messages, which go into the ring with one ra_ring_write_batch() per
 *   payload (a record per message, as replay --shm writes them).
 * - Framing and counting are replay's (framing.c): gaps, missing and backward per sequencing
 *   stream; a stream's first packet is its start, so a receiver joining mid-stream sees no gap.
 *   With --arbitrate, rf_arb decides first (arb.c), every line is one flow to the framer, and the
 *   arbiter's gaps, missing and backward replace the framer's, which would count the lines'
 *   interleaving as gaps.
 * - Record timestamps are the kernel's receive times (CLOCK_REALTIME, SO_TIMESTAMPNS): the
 *   clock the shared ring declares, so a reader's now - ts_ns is the wire-to-reader latency.
 */
#include "handler.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"

#define RF__ROUNDS       8u         /* batches taken from one ready socket before the others */
#define RF__TICK_NS      100000000u /* at least this often: stop flag, heartbeat, idle exit */
#define RF__MSG_BATCH    64u        /* messages per ra_ring_write_batch() */
#define RF__RING_DEFAULT (64u << 20)

typedef struct rf__h {
    const rf_opts *o;
    rf_result *res;
    ra_ring *ring;
    rf_readers *readers;
    rp_framer fr;
    rf_arb arb;
    int ep;
    uint8_t *scratch;
    uint8_t *bufs[RF_RX_MAX];
    rf_pkt pkts[RF_RX_MAX];
    bool any;                        /* a packet arrived */
    uint64_t now, first_ns, last_ns; /* CLOCK_MONOTONIC */
} rf__h;

/* Whether the packet passes arbitration (always, without --arbitrate or for unsequenced
 * payloads). */
static bool rf__admit(rf__h *h, unsigned li, const rf_pkt *p)
{
    if (!h->o->arbitrate) return true;
    rf_line *l = &h->res->line[li];
    if (l->framing == RP_FRAMING_AUTO)
        l->framing = h->o->framing != RP_FRAMING_AUTO ? h->o->framing
                                                      : rp_frame_detect(p->data, p->len, true);
    if (l->framing == RP_FRAMING_UDP) return true;
    rp_frame f;
    int st = rp_frame_decode(l->framing, p->data, p->len, &f);
    if (st != RP_FRAME_OK && st != RP_FRAME_OVERRUN) return true;
    return rf_arb_offer(&h->arb, f.key, f.klen, li, f.first_seq, f.heartbeat ? 0 : f.count,
                        h->now) == RF_ARB_DELIVER;
}

/* Writes w[0..n) as records; a message too big for the ring is counted by it and skipped. */
static void rf__write(rf__h *h, const ra_wmsg *w, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t wr = 0;
        int rc = ra_ring_write_batch(h->ring, w + off, n - off, NULL, 0, &wr);
        off += wr;
        if (rc == RA_OK) break;
        h->res->write_errors++;
        off++;
    }
}

/* Frames one admitted packet: counts its messages and, with `write`, writes them. */
static void rf__frame(rf__h *h, unsigned li, const rf_pkt *p, bool write)
{
    rf_result *r = h->res;
    r->st.packets++;
    r->st.bytes += p->len;
    rp_feed_stamp(&r->st, p->ts_ns);
    const rf_line *l = &r->line[h->o->arbitrate ? 0 : li];
    rp_framer_payload(&h->fr, l->key, l->klen, p->data, p->len, !p->truncated, p->ts_ns);
    rp_message m[RF__MSG_BATCH];
    ra_wmsg w[RF__MSG_BATCH];
    size_t n;
    while ((n = rp_framer_take(&h->fr, m, RF__MSG_BATCH)) > 0) {
        for (size_t i = 0; i < n; i++) {
            r->msg_bytes += m[i].len;
            if (m[i].type == RP_TYPE_NONE) r->untyped++;
            w[i] =
                (ra_wmsg){.data = m[i].data, .len = m[i].len, .type = m[i].type, .ts_ns = p->ts_ns};
        }
        if (write) rf__write(h, w, n);
    }
}

/* Counts one received datagram on line li. */
static void rf__count(rf__h *h, unsigned li, const rf_pkt *p)
{
    rf_line *l = &h->res->line[li];
    l->packets++;
    l->bytes += p->len;
    if (p->truncated) l->truncated++;
    if (!h->any) h->first_ns = h->now, h->any = true;
    h->last_ns = h->now;
}

/* --write packets: datagrams straight into the ring, one reservation each.
 * @return datagrams received (0: none waiting), or -1 on a socket error. */
static int rf__pump_packets(rf__h *h, unsigned li)
{
    rf_line *l = &h->res->line[li];
    int total = 0;
    for (unsigned k = 0; k < h->o->batch; k++) {
        uint8_t *p = ra_ring_reserve(h->ring, h->o->max_packet);
        if (!p) return h->res->write_errors++, -1;
        rf_pkt pk;
        int n = rf_recv(l->fd, &p, h->o->max_packet, 1, &pk, &l->ovfl);
        if (n <= 0) return n < 0 ? -1 : total;
        total++;
        rf__count(h, li, &pk);
        if (!rf__admit(h, li, &pk)) continue; /* the next reserve takes this place again */
        rf__frame(h, li, &pk, false);
        ra_ring_commit(h->ring, pk.len, RP_TYPE_NONE, pk.ts_ns);
    }
    return total;
}

/* --write messages: a batch of datagrams into private buffers, then their messages.
 * @return as rf__pump_packets(). */
static int rf__pump_messages(rf__h *h, unsigned li)
{
    rf_line *l = &h->res->line[li];
    int n = rf_recv(l->fd, h->bufs, h->o->max_packet, h->o->batch, h->pkts, &l->ovfl);
    for (int i = 0; i < n; i++) {
        rf__count(h, li, &h->pkts[i]);
        if (rf__admit(h, li, &h->pkts[i])) rf__frame(h, li, &h->pkts[i], true);
    }
    return n;
}

/* Takes what line li has, up to RF__ROUNDS batches. @return 0, or -1 on a socket error. */
static int rf__drain(rf__h *h, unsigned li)
{
    for (unsigned round = 0; round < RF__ROUNDS; round++) {
        h->now = rp_now_ns();
        int n =
            h->o->write == RF_WRITE_PACKETS ? rf__pump_packets(h, li) : rf__pump_messages(h, li);
        if (n < 0) return -1;
        if ((unsigned)n < h->o->batch) break;
    }
    return 0;
}

/* The wait before the next look at the clock, in ms: the tick, the arbitration window while
 * holes are open, what is left of --idle-exit. */
static int rf__timeout_ms(const rf__h *h, size_t open_holes)
{
    uint64_t t = RF__TICK_NS;
    if (open_holes && h->o->arb_window_ns < t) t = h->o->arb_window_ns;
    if (h->o->idle_exit_ns && h->any) {
        uint64_t since = h->now - h->last_ns;
        uint64_t left = since >= h->o->idle_exit_ns ? 0 : h->o->idle_exit_ns - since;
        if (left < t) t = left;
    }
    return (int)((t + 999999u) / 1000000u);
}

static int rf__loop(rf__h *h, char *err, size_t cap)
{
    struct epoll_event ev[RF_LINES_MAX];
    size_t open = 0;
    uint64_t beat = 0;
    while (!rp_stop_requested()) {
        int n = epoll_wait(h->ep, ev, RF_LINES_MAX, rf__timeout_ms(h, open));
        if (n < 0 && errno != EINTR)
            return snprintf(err, cap, "epoll_wait: %s", strerror(errno)), -1;
        for (int i = 0; i < n; i++) {
            unsigned li = ev[i].data.u32;
            if (rf__drain(h, li) != 0)
                return snprintf(err, cap, "%s: %s", h->o->ep[li].text, strerror(errno)), -1;
        }
        h->now = rp_now_ns();
        if (h->o->arbitrate) open = rf_arb_expire(&h->arb, h->now);
        if (h->o->shm && h->now - beat >= RF__TICK_NS) ra_ring_heartbeat(h->ring), beat = h->now;
        if (h->o->idle_exit_ns && h->any && h->now - h->last_ns >= h->o->idle_exit_ns) {
            h->res->idle = true;
            break;
        }
    }
    h->res->interrupted = !h->res->idle;
    return 0;
}

/* Opens endpoint i's socket, warns when its buffer was capped, and adds it to the epoll set. */
static int rf__open_line(rf__h *h, unsigned i, char *err, size_t cap)
{
    const rf_endpoint *e = &h->o->ep[i];
    rf_line *l = &h->res->line[i];
    char why[160];
    l->fd = rf_sock_open(e, &h->o->sock, &l->rcvbuf, why, sizeof(why));
    if (l->fd < 0) return snprintf(err, cap, "%s: %s", e->text, why), -1;
    int want = h->o->sock.rcvbuf;
    if (want > 0 && (uint64_t)l->rcvbuf < 2u * (uint64_t)want && !h->o->quiet)
        fprintf(stderr,
                "ringfeed: warning: %s: the kernel gave a receive buffer of %d bytes for "
                "--rcvbuf %d (net.core.rmem_max caps it; as root SO_RCVBUFFORCE passes the cap)\n",
                e->text, l->rcvbuf / 2, want);
    rp_udp u = {.af = 4, .sport = 0, .dport = e->port};
    memcpy(u.dst, &e->addr, 4);
    if (e->has_source) memcpy(u.src, &e->source, 4);
    l->klen = (uint8_t)rp_udp_flow_key(&u, l->key);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    if (epoll_ctl(h->ep, EPOLL_CTL_ADD, l->fd, &ev) != 0)
        return snprintf(err, cap, "epoll_ctl: %s", strerror(errno)), -1;
    return 0;
}

static int rf__open_ring(rf__h *h, char *err, size_t cap)
{
    const rf_opts *o = h->o;
    /* no page fault on the receive path; huge pages where the kernel gives them (an in-process
     * ring: transparent ones; a shared ring: a hugetlbfs --shm-dir), else normal pages */
    ra_ring_config cfg = {.capacity = o->capacity ? o->capacity : RF__RING_DEFAULT,
                          .flags = RA_RING_PREFAULT | (o->shm ? 0 : RA_RING_HUGEPAGES)};
    int st;
    if (o->shm) {
        ra_shm_options so = {.dir = o->shm_dir,
                             .replace = o->shm_replace,
                             .unlink_on_destroy = o->shm_unlink,
                             .clock = RA_SHM_CLOCK_REALTIME};
        st = ra_ring_create_shm(&h->ring, o->shm, &cfg, &so);
    } else {
        st = ra_ring_create(&h->ring, &cfg);
    }
    if (st != RA_OK)
        return snprintf(err, cap, "ring %s: %s%s", o->shm ? o->shm : "",
                        st == RA_ENOENT ? "no such directory " : ra_strerror(st),
                        st == RA_ENOENT ? (o->shm_dir ? o->shm_dir : "/dev/shm") : ""),
               -1;
    if (o->write == RF_WRITE_PACKETS && o->max_packet > ra_ring_max_msg(h->ring))
        return snprintf(err, cap, "--max-packet %u is above the ring's largest record (%u)",
                        o->max_packet, ra_ring_max_msg(h->ring)),
               -1;
    if (o->readers && rf_readers_start(&h->readers, h->ring, o->readers) != 0)
        return snprintf(err, cap, "starting %u readers failed", o->readers), -1;
    return 0;
}

static int rf__open(rf__h *h, char *err, size_t cap)
{
    const rf_opts *o = h->o;
    for (unsigned i = 0; i < RF_LINES_MAX; i++) h->res->line[i].fd = -1;
    rp_framer_init(&h->fr, o->framing, &h->res->st);
    if (rf_arb_init(&h->arb, o->nep, o->arb_window_ns) != 0)
        return snprintf(err, cap, "out of memory"), -1;
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    if (h->ep < 0) return snprintf(err, cap, "epoll_create1: %s", strerror(errno)), -1;
    for (unsigned i = 0; i < o->nep; i++)
        if (rf__open_line(h, i, err, cap) != 0) return -1;
    if (o->write == RF_WRITE_MESSAGES) {
        h->scratch = malloc((size_t)o->batch * o->max_packet);
        if (!h->scratch) return snprintf(err, cap, "out of memory"), -1;
        for (unsigned i = 0; i < o->batch; i++) h->bufs[i] = h->scratch + (size_t)i * o->max_packet;
    }
    return rf__open_ring(h, err, cap);
}

/* "moldudp64", "iextp", "udp", "mixed" (several) or "none" from the framings met. */
static void rf__framing_name(rf_result *r)
{
    unsigned b = r->st.framings;
    if (!b)
        snprintf(r->framing, sizeof(r->framing), "none");
    else if (b & (b - 1))
        snprintf(r->framing, sizeof(r->framing), "mixed");
    else
        snprintf(r->framing, sizeof(r->framing), "%s",
                 rp_framing_name((rp_framing)__builtin_ctz(b)));
}

/* Ends the run: the arbiter's last holes, the ring closed (readers end), the counts summed. */
static void rf__close(rf__h *h)
{
    rf_result *r = h->res;
    if (h->o->arbitrate && h->arb.st) {
        rf_arb_flush(&h->arb);
        r->st.gaps = h->arb.gaps;
        r->st.missing = h->arb.missing;
        r->st.backward = h->arb.backward;
        r->duplicates = h->arb.duplicates;
        memcpy(r->arb_line, h->arb.line, sizeof(r->arb_line));
    }
    rf_arb_free(&h->arb);
    rp_feed_stats_sum_types(&r->st);
    rf__framing_name(r);
    if (h->ring) {
        ra_ring_close(h->ring);
        r->nreaders = h->readers ? h->o->readers : 0;
        rf_readers_join(h->readers, r->readers);
        ra_ring_get_stats(h->ring, &r->ring);
        r->max_msg = ra_ring_max_msg(h->ring);
        ra_ring_destroy(h->ring);
    }
    for (unsigned i = 0; i < h->o->nep; i++) {
        rf_line *l = &r->line[i];
        if (l->fd >= 0) {
            uint32_t d = rf_sock_drops(l->fd);
            if (d > l->ovfl) l->ovfl = d;
        }
        r->packets += l->packets;
        r->bytes += l->bytes;
        r->kernel_drops += l->ovfl;
        r->truncated += l->truncated;
        if (l->fd >= 0) close(l->fd);
    }
    if (h->ep >= 0) close(h->ep);
    rp_framer_free(&h->fr);
    free(h->scratch);
    r->seconds = h->any ? (double)(h->last_ns - h->first_ns) / 1e9 : 0;
}

int rf_run(const rf_opts *o, rf_result *res, char *err, size_t cap)
{
    memset(res, 0, sizeof(*res));
    rf__h h = {.o = o, .res = res, .ep = -1};
    int rc = rf__open(&h, err, cap);
    if (rc == 0) rc = rf__loop(&h, err, cap);
    rf__close(&h);
    return rc;
}
