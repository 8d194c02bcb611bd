/* producer.c - replay's producer thread: reads the inputs, paces, and writes every message into
 * the ring
 *
 * Design notes.
 * - At max speed a packet's messages go into the ring as one ra_ring_write_batch() (up to
 *   RP__BATCH), otherwise one message at a time, each at its due time.
 * - Record layout: [8-byte CLOCK_MONOTONIC publish stamp][message], ts_ns = capture timestamp,
 *   type = message type (see RP_STAMP_BYTES in run.h). The stamp is the batch's prefix. On a
 *   shared ring (--shm) the record is the message alone and the stamp, on CLOCK_REALTIME, is its
 *   ts_ns: processes that know nothing of replay read it as any market-data ring.
 * - The stamp. In paced modes it is read for every message, just before it is written. At max
 *   speed a clock read (20-35 ns on the VMs measured) cost as much as the rest of the producer's
 *   per-message work, so the stamp is reused for up to RP__STAMP_EVERY messages, and refreshed
 *   whenever the source did I/O or decompression since it was taken (rp_source_fill() moved):
 *   between a stamp and a write that uses it there is only in-memory splitting and publishing of
 *   those few messages (well under a microsecond), never a read.
 * - Pacing: rp_pace_target() (pacing.c) gives each message's due time from fixed anchors; the
 *   producer sleeps with clock_nanosleep(TIMER_ABSTIME) in slices of at most 50 ms so that a stop
 *   request is honoured promptly.
 * - --send (send.h): the sender is a packet sink beside the ring. Capture inputs hand it every UDP
 *   datagram from inside the source (rp_source_opts.sink); for other inputs the producer hands it
 *   each message before writing it. The sender paces (it sleeps before each packet goes out), so
 *   the producer itself runs unpaced and the ring fills as the packets leave.
 * - End of run: producer_done is release-stored after the last commit (see reader.c).
 * - Duplicates (cfg->dedup, with --book): this is where MoldUDP64 messages seen twice are dropped,
 *   before the ring and so before the book, which applies each message once. Per stream of the
 *   open source (the first RP__DEDUP_STREAMS), a message whose sequence number is below the next
 *   one expected (the last kept + 1) is dropped and counted in res->duplicates: a duplicate
 *   packet, a replay, or a late retransmission of what a gap lost (the book has moved on, and
 *   the gap marked it incomplete). The framing (framing.c rp_seq_track) counts such packets as
 *   `backward` either way. Each source starts afresh, so a --loop pass is no duplicate.
 * - --loop over small inputs: a regular file of at most RP__CACHE_MAX bytes (as stored:
 *   compressed files stay compressed) is read into memory on its first open, and every pass
 *   opens it from there (rp_source_open_mem): a capture of a few packets sent in a loop then pays
 *   no open, read and close per pass (measured: about 11 us per pass, where a packet goes out in
 *   about 2). Larger inputs are opened from the file every pass. Better still, a source over
 *   memory whose backend can rewind (classic pcap) stays open from pass to pass and goes back to
 *   its first packet (rp_source_rewind): no libpcap set-up, no allocation per pass.
 */
#include "engine.h"
#include "send.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RP__STAMP_EVERY   16u         /* max speed: messages that may share one publish stamp */
#define RP__BATCH         64u         /* max speed: messages of one packet written as one batch */
#define RP__DEDUP_STREAMS 64u         /* streams per source whose duplicates cfg->dedup drops */
#define RP__CACHE_MAX     (64u << 20) /* --loop: inputs up to this size are read once (notes) */

/* One input held in memory for --loop (data NULL: not cached; tried: looked at already). */
typedef struct rp__cached {
    void *data;
    size_t len;
    bool tried;
    rp_source *kept; /* the source of the last pass, open for the next one to rewind */
} rp__cached;

/* The producer's own state across inputs and passes. */
typedef struct rp__prod {
    rp_engine *x;
    rp_pace pace;
    bool paced, anchored, done;
    uint64_t pass, index, max_ts, bytes_before;
    uint64_t next_seq[RP__DEDUP_STREAMS]; /* cfg->dedup: per stream, the next sequence number */
    rp__cached *cache;                    /* --loop: one per input (NULL with one pass) */
} rp__prod;

/* Sets the run's error (the run then reports nothing). */
static void rp__fail(rp_engine *x, const char *msg)
{
    x->status = RP_RUN_EINPUT;
    snprintf(x->err, sizeof(x->err), "%s", msg);
}

/* Writes mb[0..n) as records [stamp][message] (stamp_len 0: the message alone): one batch per
 * packet. A message too big for the ring is refused and counted by it (too_big) and skipped. */
static void rp__write(ra_ring *ring, const ra_wmsg *w, size_t n, const uint64_t *stamp,
                      uint32_t stamp_len)
{
    for (size_t off = 0; off < n;) {
        size_t wr = 0;
        int wrc = ra_ring_write_batch(ring, w + off, n - off, stamp, stamp_len, &wr);
        off += wr;
        if (wrc == RA_OK) break;
        off++;
    }
}

/* cfg->dedup: drops the messages of mb[0..n) whose stream already had their sequence number
 * (see "Duplicates"), counting them. @return how many are kept, moved to the front of mb. */
static size_t rp__dedup(rp__prod *p, rp_message *mb, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t st = mb[i].stream;
        if (st < RP__DEDUP_STREAMS) {
            if (mb[i].seq < p->next_seq[st]) {
                p->x->res->duplicates++;
                continue;
            }
            p->next_seq[st] = mb[i].seq + 1;
        }
        mb[k++] = mb[i];
    }
    return k;
}

/* Copies one opened source into the ring until it ends, fails, --limit or a stop.
 * @return what rp_source_next_batch() last returned (1 when stopped early, 0 at the end or when
 *         stopped before the first read, < 0 on an input error). Per-message state lives in locals:
 * the payload copies into the ring could alias cfg and res as far as the compiler knows, which
 * would reload them. */
static int rp__pump(rp__prod *p, rp_source *s)
{
    rp_engine *x = p->x;
    rp_run_result *res = x->res;
    rp_message mb[RP__BATCH];
    ra_wmsg w[RP__BATCH];
    int rc = 0;
    uint64_t stamp = 0, stamp_fill = UINT64_MAX; /* see "The stamp" in the notes */
    unsigned stamp_uses = RP__STAMP_EVERY;
    const uint64_t limit = x->cfg->limit ? x->cfg->limit : UINT64_MAX;
    rp_sender *const snd = x->cfg->sender;
    const bool send_msgs = snd && rp_source_linktype(s) < 0; /* no packets: MoldUDP64 */
    const bool paced = p->paced, first_pass = p->pass == 0, shm = x->cfg->shm_name != NULL;
    const uint32_t stamp_len = rp_stamp_bytes(x->cfg);
    uint64_t untyped = 0, msg_bytes = 0, prog_next = 0, index = p->index, max_ts = p->max_ts;
    ra_ring *ring = x->ring;
    const bool dedup = x->cfg->dedup;
    memset(p->next_seq, 0, sizeof p->next_seq);
    for (;;) {
        if (index >= limit) {
            res->limited = p->done = true;
            break;
        }
        if (rp_stop_requested()) {
            res->interrupted = p->done = true;
            break;
        }
        if (snd && rp_sender_stop(snd)) {
            p->done = true;
            break;
        }
        /* paced: one message at a time, each at its due time; at max speed the rest of the
         * packet comes along (the source counts only what it hands out) */
        size_t want = paced ? 1 : RP__BATCH, n = 0;
        if (limit - index < want) want = (size_t)(limit - index);
        rc = rp_source_next_batch(s, mb, want, &n);
        if (rc != 1) break;
        if (dedup && (n = rp__dedup(p, mb, n)) == 0) continue;
        if (!p->anchored) {
            p->anchored = true;
            p->pace.first_ts_ns = mb[0].ts_ns;
            p->pace.start_ns = rp_now_ns();
            if (p->pace.mode == RP_PACE_SPEED && mb[0].ts_ns == 0) res->no_timestamps = true;
        }
        if (paced) rp_pace_sleep_until(rp_pace_target(&p->pace, p->pass, index, mb[0].ts_ns), 0);
        uint64_t fill = rp_source_fill(s);
        if (paced || fill != stamp_fill || stamp_uses >= RP__STAMP_EVERY) {
            stamp = shm ? rp_realtime_ns() : rp_now_ns();
            stamp_fill = fill;
            stamp_uses = 0;
        }
        stamp_uses += (unsigned)n;
        for (size_t i = 0; send_msgs && i < n; i++) rp_sender_message(snd, &mb[i]);
        for (size_t i = 0; i < n; i++) {
            const rp_message *m = &mb[i];
            if (first_pass && m->ts_ns > max_ts) max_ts = m->ts_ns;
            untyped += m->type == RP_TYPE_NONE;
            msg_bytes += m->len;
            w[i] = (ra_wmsg){
                .data = m->data, .len = m->len, .type = m->type, .ts_ns = shm ? stamp : m->ts_ns};
        }
        rp__write(ring, w, n, &stamp, stamp_len);
        index += n;
        /* readers asleep (reader.c)? Paced runs fence first so that a reader going to sleep
         * either sees this commit or is seen; at max speed the next batch makes up for a miss */
        if (paced) atomic_thread_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&x->sleepers, memory_order_relaxed))
            rp_engine_wake(x, index, false);
        if (paced || index >= prog_next) { /* cheap next to sleeps */
            prog_next = index + 256;
            atomic_store_explicit(&x->prog_msgs, index, memory_order_relaxed);
            atomic_store_explicit(&x->prog_bytes, p->bytes_before + rp_source_offset(s),
                                  memory_order_relaxed);
        }
    }
    res->untyped += untyped;
    res->msg_bytes += msg_bytes;
    p->index = index;
    p->max_ts = max_ts;
    return rc;
}

/* Reads the regular file at path into c when it holds at most RP__CACHE_MAX bytes; anything else
 * (too large, not a regular file, an error) leaves c empty, and the file is then opened anew
 * every pass, which reports any error itself. */
static void rp__cache_load(rp__cached *c, const char *path)
{
    c->tried = true;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat sb;
    unsigned char *buf = NULL;
    size_t len = 0;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        (uint64_t)sb.st_size <= RP__CACHE_MAX && (buf = malloc((size_t)sb.st_size))) {
        while (len < (size_t)sb.st_size) {
            ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            len += (size_t)n;
        }
        if (len != (size_t)sb.st_size) { /* changed meanwhile: read it as a file */
            free(buf);
            buf = NULL;
        }
    }
    close(fd);
    c->data = buf;
    c->len = buf ? len : 0;
}

/* Opens input fi (path), from memory when --loop cached it.
 * @return the source, or NULL with the run's error set. */
static rp_source *rp__open(rp__prod *p, size_t fi, const char *path)
{
    rp_engine *x = p->x;
    const rp_run_config *cfg = x->cfg;
    rp_run_result *res = x->res;
    rp_source *s = NULL;
    char e[512];
    rp_source_opts so = cfg->src;
    so.strict = so.strict || cfg->strict; /* damaged data is an error too */
    if (cfg->sender) so.sink = rp_sender_sink(cfg->sender);
    rp__cached *c = p->cache ? &p->cache[fi] : NULL;
    if (c && c->kept) { /* the last pass's source, rewound: no open */
        s = c->kept;
        c->kept = NULL;
        int r = rp_source_rewind(s);
        if (r == 0) {
            res->files_opened++;
            return s;
        }
        if (r < 0) snprintf(e, sizeof e, "%s", rp_source_error(s));
        rp_source_close(s);
        s = NULL;
        if (r < 0) {
            rp__fail(x, e);
            return NULL;
        }
    }
    if (c && !c->tried && strcmp(path, "-") != 0) rp__cache_load(c, path);
    int rc = c && c->data ? rp_source_open_mem(&s, c->data, c->len, path, &so, e, sizeof(e))
                          : rp_source_open(&s, path, &so, e, sizeof(e));
    if (rc != 0) {
        rp__fail(x, e);
        return NULL;
    }
    res->files_opened++;
    rp_note_name(res->format, sizeof(res->format), rp_source_format_name(s));
    res->compressed = res->compressed || rp_source_compressed(s);
    bool worker = rp_source_compressed(s) && !cfg->src.no_threads;
    atomic_store_explicit(&x->crowded, 1 + cfg->readers + worker > x->ncpu, memory_order_relaxed);
    return s;
}

/* Accounts for a source that rp__pump() finished with, and closes it.
 * @return 0, or -1 with the run's error set (an input error, or truncated under --strict). */
static int rp__close(rp__prod *p, rp_source *s, size_t fi, const char *path, int rc)
{
    rp_engine *x = p->x;
    rp_run_result *res = x->res;
    int out = -1;
    if (rc < 0) {
        rp__fail(x, rp_source_error(s));
        goto done;
    }
    const rp_feed_stats *st = rp_source_stats(s);
    rp_note_name(res->framing, sizeof(res->framing), rp_source_framing_name(s));
    rp_feed_stats_add(&res->feed, st);
    for (size_t w = 0; p->pass == 0 && w < rp_source_warning_count(s); w++)
        rp_note_warning(res->warnings, sizeof(res->warnings), path, rp_source_warning(s, w));
    if (rc == 0 && st->truncated) {
        if (x->cfg->strict) {
            char e[sizeof(x->err)];
            snprintf(e, sizeof(e),
                     "%s: the input ends inside its last record (truncated after %" PRIu64
                     " bytes; --strict)",
                     path, st->bytes);
            rp__fail(x, e);
            goto done;
        }
        if (p->pass == 0) /* said once, not once per --loop pass */
            rp_note_warning(res->warnings, sizeof(res->warnings), path,
                            "the last record is truncated (ignored)");
    }
    uint64_t size = rp_source_size(s);
    p->bytes_before += size ? size : rp_source_offset(s);
    atomic_store_explicit(&x->prog_bytes, p->bytes_before, memory_order_relaxed);
    out = 0;
    rp__cached *c = p->cache ? &p->cache[fi] : NULL;
    if (rc == 0 && c && c->data && p->pass + 1 < x->cfg->loops && !p->done) {
        c->kept = s; /* rp__open() rewinds it for the next pass, or closes it */
        return 0;
    }
done:
    rp_source_close(s);
    return out;
}

/* --rt-priority: this thread (the producer, which paces and sends) goes SCHED_FIFO; refused
 * (no privilege), it runs as before and the report says so. */
static void rp__prioritise(rp_engine *x)
{
    struct sched_param sp = {.sched_priority = x->cfg->rt_priority};
    int e = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (e == 0) return;
    char w[160];
    snprintf(w, sizeof w, "SCHED_FIFO priority %d refused (%s): runs unprioritised",
             x->cfg->rt_priority, strerror(e));
    rp_note_warning(x->res->warnings, sizeof(x->res->warnings), "--rt-priority", w);
}

/* The producer thread: opens each input in turn (loops times), paces, and writes every message
 * into the ring. Stops at the end, at --limit, on a stop request, or on an input error (the
 * run's status and err set; the run then reports nothing). Always release-stores producer_done. */
void *rp_engine_producer(void *arg)
{
    rp__prod p = {.x = arg};
    rp_engine *x = p.x;
    const rp_run_config *cfg = x->cfg;
    p.pace = cfg->pace;
    p.paced = p.pace.mode != RP_PACE_MAX && !cfg->sender; /* the sender paces (notes) */
    if (cfg->rt_priority > 0) rp__prioritise(x);
    if (cfg->loops > 1) p.cache = calloc(cfg->nfiles, sizeof *p.cache); /* NULL: no cache */
    for (; p.pass < cfg->loops && !p.done; p.pass++) {
        for (size_t fi = 0; fi < cfg->nfiles && !p.done; fi++) {
            if (cfg->limit && p.index >= cfg->limit) {
                x->res->limited = p.done = true;
                break;
            }
            rp_source *s = rp__open(&p, fi, cfg->files[fi]);
            if (!s) goto out;
            int rc = rp__pump(&p, s);
            if (rp__close(&p, s, fi, cfg->files[fi], rc) != 0) goto out;
        }
        if (!p.done) x->res->passes++;
        if (cfg->sender) rp_sender_pass_end(cfg->sender);
        if (p.pass == 0)
            p.pace.span_ns = p.max_ts > p.pace.first_ts_ns ? p.max_ts - p.pace.first_ts_ns : 0;
    }
out:
    for (size_t fi = 0; p.cache && fi < cfg->nfiles; fi++) {
        rp_source_close(p.cache[fi].kept);
        free(p.cache[fi].data);
    }
    free(p.cache);
    if (cfg->sender && rp_sender_finish(cfg->sender) != 0 && x->status == 0) {
        x->status = RP_RUN_ESYSTEM;
        snprintf(x->err, sizeof(x->err), "--send: %s", rp_sender_error(cfg->sender));
    }
    x->t_end = rp_now_ns();
    atomic_store_explicit(&x->prog_msgs, p.index, memory_order_relaxed);
    /* release: every commit above happens-before a reader's acquire load that sees true */
    atomic_store_explicit(&x->producer_done, true, memory_order_release);
    rp_engine_wake(x, p.index, true);
    rp_engine_finish(x);
    return NULL;
}
