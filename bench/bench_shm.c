/* bench_shm.c - the shared-memory ring against ZeroMQ, nng, Unix datagrams and the one-line floor
 *
 *
 * One writer feeds 1 and 4 readers with 32- and 100-byte messages; every contender carries the same
 * payload: [0,8) sequence number, [8,16) send stamp, then a filler checked by the reader. Two
 * regimes, each run --reps times (median reported):
 *
 * - throughput: the writer at full speed (--msgs messages; the slower peers and the floor run a
 *   fifth of them). msgs/s per reader = messages delivered to it / (its last delivery - the
 *   writer's first send). Loss: the ring reports it (ra_reader_stats.lost: read + lost must equal
 *   published); for the peers it is counted from sequence gaps (silent drops).
 * - latency: the writer paced --pace-ns apart (default 3000 ns; the peers, which take several us
 *   per message, --peer-pace-ns, default 20000 ns, and a fifth of the messages) so that readers
 *   are not saturated: write-to-delivery latency from the send stamp, p50/p99/p99.9 per reader
 *   (the first 1000 messages not sampled).
 *
 * Stamps are rdtsc (constant, invariant TSC shared by all cores and processes), converted to ns by
 * a calibration against CLOCK_MONOTONIC; the writer stamps just before the send, the reader just
 * after the message is handed to it (lfence; rdtsc).
 *
 * Contenders:
 * - shm ring: ra_ring_create_shm() in the writer process, readers ra_ring_attach() read-only in
 *   their own processes (fork), overwrite mode, ra_reader_poll() spinning; "shm ring wait": the
 *   same readers blocking in ra_reader_wait() when empty.
 * - in-process ring: the same ring on the heap, writer and readers are threads of one process.
 * - ZeroMQ PUB/SUB over ipc:// (default high-water marks: 1000 messages each side; PUB drops
 *   silently beyond them), blocking recv. nng pub0/sub0 over ipc:// (default buffers; pub drops
 *   silently), blocking recv. Both: probe messages until every subscriber got one (slow joiner).
 * - unix dgram: one SOCK_DGRAM socket per reader, the writer sends each message to each (blocking
 *   send: lossless, the writer waits for the slowest reader).
 * - floor: one cache line holding seq + stamp, written by the writer, spun on by the readers
 *   (processes, and threads). Throughput: ping-pong (the writer waits for every reader's ack on
 *   its own line): the per-message rate of one line. Latency: paced, no ack.
 * - latency anatomy (in-process threads, 1 reader, 32 bytes, latency regime only): where the
 *   ring's latency above the floor goes. Mimics of its memory traffic, each adding one thing: a
 *   flag line plus a fresh data line per message; packed 56-byte records (a line shared with the
 *   previous record); an "intent" store on the flag line before the data (the ring's order); the
 *   producer's prefetch 8 KiB ahead; its loads of tail and intent from the flag line (RA__OWN in
 *   ring_write.c); last_pos, the statistics line and the retire load. Then the ring's real
 *   producer with a bare reader (spins on tail, copies, checks intent: only the memory a reader
 *   must touch), and the ring with ra_reader_peek/advance instead of poll. The "send p50" column
 *   is the writer's stamp to its stores globally visible (mfence; rdtsc), per message.
 *
 * Pinning: the writer on the first allowed CPU, readers on the others (round robin). On a 2-CPU
 * machine the 4 readers share one CPU: spinning readers then sched_yield() when idle, and the run
 * says so. ZeroMQ and nng I/O threads are created before the pinning and are not pinned.
 *
 * usage: bench_shm [--reps N] [--msgs N] [--lat-msgs N] [--pace-ns N] [--quick] [--only ID]
 *                  [--peer-pace-ns N] (the peers' pace in the latency regime, default 20000)
 *                  [--ring-kib N] (ring capacity, default 4096 KiB) [--csv DIR] [--no-pin]
 *                  [--anatomy-only] (the latency anatomy, the floor and the in-process ring)
 * Exit 0; 1 when a delivered message failed its check or the ring's counts do not add up.
 */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include <zmq.h>

#include "ringalloc/ring.h"
#include "ringalloc/ring_shm.h"
#include "ringalloc/ringalloc.h"
#include "ring_layout.h" /* the ring's memory layout (the anatomy's bare reader) */
#include "bench_util.h"

#define MAXR    4
#define MAXREPS 31
#define LINE    128
#define WARM    1000u
#define PROBE   UINT64_MAX /* seq of a probe message (peers' slow-joiner handshake) */

enum {
    K_SHM,
    K_SHM_WAIT,
    K_INPROC,
    K_ZMQ,
    K_NNG,
    K_UDS,
    K_FLOOR_P,
    K_FLOOR_T,
    K_N,
    /* latency anatomy (threads, not in the main table) */
    A_TWO = K_N, /* flag line + one fresh data line per message */
    A_PACKED,    /* flag line + packed 56-byte records (a line shared with the previous record) */
    A_INTENT, /* A_PACKED + an intent store on the flag line before the data (the ring's order) */
    A_PF,     /* A_INTENT + the ring's prefetch of the line 8 KiB ahead (prefetcht0) */
    A_OWN,    /* A_PF + the producer's loads of tail and intent from the flag line (RA__OWN) */
    A_FULL,   /* A_OWN + last_pos, statistics (own line), the retire load once wrapped */
    A_BARE, /* the real producer (ra_ring_write), a bare reader: spins on tail, reads the record */
    A_PEEK, /* the in-process ring, reader with ra_reader_peek/advance instead of poll */
    A_N
};
static const char *const g_names[A_N] = {
    "shm ring (spin)",      "shm ring (wait)",       "in-process ring",
    "ZeroMQ PUB/SUB ipc",   "nng pub/sub ipc",       "unix dgram/reader",
    "floor: 1 line procs",  "floor: 1 line threads", "flag + fresh data line",
    "flag + packed recs",   "packed + intent store", "+ prefetch 8K ahead",
    "+ loads tail, intent", "+ stats, last_pos",     "ring, bare reader",
    "ring, peek/advance",
};
static const char *const g_ids[A_N] = {
    "shm_ring_spin",  "shm_ring_wait",  "inproc_ring",     "zeromq",          "nng",
    "unix_dgram",     "floor_procs",    "floor_threads",   "probe_two_lines", "probe_packed",
    "probe_intent",   "probe_prefetch", "probe_own_loads", "probe_full",      "probe_ring_bare",
    "probe_ring_peek"};

static int is_thread_kind(int k)
{
    return k == K_INPROC || k >= K_FLOOR_T;
}
/* Rings whose readers use the ring's API (their counts are checked). */
static int is_ring_kind(int k)
{
    return k == K_SHM || k == K_SHM_WAIT || k == K_INPROC || k == A_PEEK;
}
static int inproc_ring(int k)
{
    return k == K_INPROC || k == A_PEEK || k == A_BARE;
}
static int is_floor_kind(int k)
{
    return k == K_FLOOR_P || k == K_FLOOR_T;
}
static int is_peer_kind(int k)
{
    return k == K_ZMQ || k == K_NNG || k == K_UDS;
}

/* ---- results and the memory shared by every process of a run ------------------------------- */

typedef struct result { /* one line pair each: readers write theirs once, at the end */
    _Alignas(LINE) uint64_t delivered, gaps, errors; /* gaps: sequence numbers never delivered */
    uint64_t ring_read, ring_lost; /* the ring's own counts (ra_reader_get_stats) */
    uint64_t t_last, nlat;         /* ticks of the last delivery; latency samples */
    double p50, p99, p999;         /* ns */
    int ok;                        /* the reader finished */
} result;

typedef struct line {
    _Alignas(LINE) _Atomic uint64_t v;
    uint64_t w;
    _Atomic uint64_t x;
    char pad[LINE - 24];
} line;

typedef struct shared {
    _Atomic int ready, go, done, bound;
    _Atomic int probe_seen[MAXR];
    uint64_t t0, published; /* writer: ticks of the first send, messages sent */
    double send_p50;        /* latency runs: stamp to the send's stores globally visible, ns */
    int writer_ok;
    result res[MAXR];
    line floor;      /* the floor's line: v = seq + 1 (0: none, UINT64_MAX: end), w = stamp */
    line ack[MAXR];  /* the floor's acks, one line per reader */
    line ana_intent; /* anatomy: the flag line: v = tail, w = intent, x = last_pos (as the ring) */
    line ana_stats;  /* anatomy: the statistics line (A_FULL) */
} shared;

typedef struct run {
    int kind, nr, latency, idx;
    uint32_t len;
    uint64_t n, pace; /* messages; ticks between sends (latency) */
    shared *sh;
    ra_ring *ring; /* in-process ring */
    void *mem;     /* its memory (caller memory: the layout is known, ring_layout.h) */
    char name[96]; /* shm ring name / endpoint prefix */
} run;

/* ---- clocks, CPUs ---------------------------------------------------------------------------- */

static double g_tsc_per_ns = 1.0;
static size_t g_ringcap = 4u << 20; /* --ring-kib */
static int g_cpus[64], g_ncpu;
static int g_pin = 1;
static int g_failed;

static inline uint64_t ticks(void)
{
    return __rdtsc();
}

static inline uint64_t ticks_after_loads(void)
{
    _mm_lfence();
    return __rdtsc();
}

static void calibrate_tsc(void)
{
    uint64_t t0 = bench_now_ns(), c0 = ticks();
    struct timespec d = {0, 100 * 1000 * 1000};
    nanosleep(&d, NULL);
    uint64_t t1 = bench_now_ns(), c1 = ticks();
    g_tsc_per_ns = (double)(c1 - c0) / (double)(t1 - t0);
}

static void pick_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    for (int c = 0; c < CPU_SETSIZE && g_ncpu < 64; c++)
        if (CPU_ISSET(c, &set)) g_cpus[g_ncpu++] = c;
}

/* role -1: the writer; 0..: reader role. */
static void pin_role(int role)
{
    if (!g_pin || g_ncpu < 2) return;
    int cpu = role < 0 ? g_cpus[0] : g_cpus[1 + role % (g_ncpu - 1)];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* True when the readers share CPUs (more processes than cores): spinners yield when idle. */
static int oversubscribed(int nr)
{
    return g_ncpu < nr + 1;
}

static inline void idle_spin(const run *r)
{
    if (oversubscribed(r->nr))
        sched_yield();
    else
        _mm_pause();
}

/* Everyone meets, then spins 20 ms: a process just started on a shared CPU is often held back a
 * whole time slice first, which this absorbs (as bench_ring's start line). */
static void start_line(const run *r, int parties)
{
    atomic_fetch_add_explicit(&r->sh->go, 1, memory_order_acq_rel);
    while (atomic_load_explicit(&r->sh->go, memory_order_acquire) < parties) sched_yield();
    const uint64_t until = bench_now_ns() + 20 * 1000 * 1000;
    while (bench_now_ns() < until) {}
}

static void wait_ready(const run *r)
{
    const uint64_t until = bench_now_ns() + 10ull * 1000 * 1000 * 1000;
    while (atomic_load_explicit(&r->sh->ready, memory_order_acquire) < r->nr) {
        if (bench_now_ns() > until) {
            fprintf(stderr, "bench_shm: %s: readers not ready after 10 s\n", g_names[r->kind]);
            exit(1);
        }
        sched_yield();
    }
}

static void set_ready(const run *r)
{
    atomic_fetch_add_explicit(&r->sh->ready, 1, memory_order_acq_rel);
}

/* ---- the message ----------------------------------------------------------------------------- */

static inline unsigned char fill_byte(uint32_t len)
{
    return (unsigned char)(0xA5u ^ len);
}

static void msg_init(unsigned char *msg, uint32_t len)
{
    memset(msg, fill_byte(len), len);
}

static inline void msg_stamp(unsigned char *msg, uint64_t seq, uint64_t stamp)
{
    memcpy(msg, &seq, 8);
    memcpy(msg + 8, &stamp, 8);
}

/* A reader's state: its run, its result slot, latency samples. */
typedef struct rstate {
    const run *r;
    result *res;  /* &acc: counted in the reader's own memory, copied to the slot at the end */
    result *slot; /* the reader's slot in the shared results */
    result acc;
    uint64_t expect;
    uint64_t *lat;
    size_t cap_lat;
    /* ring poll: messages handed to the handler, and the state before the last one, restored
     * when the ring says that message was overwritten while in use (poll_ex: RA_LAPPED) */
    uint64_t handled;
    uint64_t undo_expect;
    result undo;
} rstate;

static inline void account(rstate *s, uint64_t seq, uint64_t stamp)
{
    if (s->r->latency) {
        uint64_t now = ticks_after_loads();
        if (seq >= WARM && s->res->nlat < s->cap_lat) s->lat[s->res->nlat++] = now - stamp;
    }
    if (seq < s->expect) { /* duplicate or out of order: no transport here may do that */
        s->res->errors++;
        return;
    }
    s->res->gaps += seq - s->expect;
    s->expect = seq + 1;
    s->res->delivered++;
}

static inline void deliver(rstate *s, const unsigned char *p, uint32_t len)
{
    uint64_t seq, stamp;
    memcpy(&seq, p, 8);
    memcpy(&stamp, p + 8, 8);
    if (len != s->r->len || p[len - 1] != fill_byte(len)) s->res->errors++;
    account(s, seq, stamp);
}

static void rstate_init(rstate *s, const run *r)
{
    s->r = r;
    s->slot = &r->sh->res[r->idx];
    memset(&s->acc, 0, sizeof s->acc);
    s->res = &s->acc;
    s->expect = 0;
    s->cap_lat = r->latency ? (size_t)r->n : 0;
    s->lat = s->cap_lat ? malloc(s->cap_lat * sizeof *s->lat) : NULL;
    if (s->cap_lat && !s->lat) {
        perror("bench_shm: malloc");
        exit(1);
    }
}

static double pct(const uint64_t *v, uint64_t n, double p)
{
    if (n == 0) return 0;
    uint64_t i = (uint64_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / g_tsc_per_ns;
}

static void rstate_fini(rstate *s, uint64_t t_last)
{
    result *res = s->res;
    if (!res->t_last) res->t_last = t_last;
    if (res->nlat) {
        qsort(s->lat, res->nlat, sizeof *s->lat, bench_cmp_u64);
        res->p50 = pct(s->lat, res->nlat, 0.50);
        res->p99 = pct(s->lat, res->nlat, 0.99);
        res->p999 = pct(s->lat, res->nlat, 0.999);
    }
    free(s->lat);
    *s->slot = *res;
    /* release: the writer and the parent read the slot once ok is set */
    __atomic_store_n(&s->slot->ok, 1, __ATOMIC_RELEASE);
}

/* ---- the ring: shared (processes) and in-process (threads) ----------------------------------- */

static void ring_handler(const ra_msg *m, void *ctx)
{
    rstate *s = ctx;
    s->undo = *s->res;
    s->undo_expect = s->expect;
    s->handled++;
    deliver(s, m->data, m->len);
}

/* A_PEEK: one message by peek + advance; a message overwritten while in use is forgotten.
 * @return 1 when a message was handed (or lapped), 0 when empty. */
static int reader_peek_one(rstate *s, ra_reader *rd)
{
    ra_msg m;
    int rc = ra_reader_peek(rd, &m);
    if (rc == RA_LAPPED) return 1;
    if (rc != RA_OK) return 0;
    const result undo = *s->res;
    const uint64_t undo_expect = s->expect;
    deliver(s, m.data, m.len);
    if (ra_reader_advance(rd) != RA_OK) {
        *s->res = undo;
        s->expect = undo_expect;
    }
    return 1;
}

static void reader_ring(const run *r)
{
    rstate s;
    rstate_init(&s, r);
    ra_ring *ring = r->ring;
    if (!inproc_ring(r->kind)) {
        const uint64_t until = bench_now_ns() + 10ull * 1000 * 1000 * 1000;
        while (!atomic_load_explicit(&r->sh->bound, memory_order_acquire) && bench_now_ns() < until)
            sched_yield();
        int rc = ra_ring_attach(&ring, r->name, 0);
        if (rc != RA_OK) {
            fprintf(stderr, "bench_shm: ra_ring_attach(%s): %s\n", r->name, ra_strerror(rc));
            exit(1);
        }
    }
    ra_reader rd;
    if (ra_reader_init(&rd, ring, RA_START_OLDEST) != RA_OK) exit(1);
    set_ready(r);
    start_line(r, r->nr + 1);
    for (;;) {
        /* acquire: done is stored after the last commit, so the poll below sees everything */
        int done = atomic_load_explicit(&r->sh->done, memory_order_acquire);
        int why;
        if (r->kind == A_PEEK) {
            if (reader_peek_one(&s, &rd)) continue;
            if (done) break;
            idle_spin(r);
            continue;
        }
        s.handled = 0;
        size_t got = ra_reader_poll_ex(&rd, ring_handler, &s, 256, &why);
        if (why == RA_LAPPED && s.handled > got) { /* the last one handed was torn: forget it */
            *s.res = s.undo;
            s.expect = s.undo_expect;
        }
        if (got || why == RA_LAPPED) continue;
        if (done) break;
        if (r->kind == K_SHM_WAIT) {
            int rc = ra_reader_wait(&rd, 10 * 1000 * 1000);
            if (rc == RA_CLOSED) continue; /* poll once more, then done is set */
        } else {
            idle_spin(r);
        }
    }
    uint64_t t_end = ticks();
    ra_reader_stats st;
    ra_reader_get_stats(&rd, &st);
    s.res->ring_read = st.read;
    s.res->ring_lost = st.lost;
    rstate_fini(&s, t_end);
    if (!inproc_ring(r->kind)) ra_ring_destroy(ring);
}

static ra_ring *ring_writer_open(run *r)
{
    ra_ring_config cfg = {.capacity = g_ringcap, .flags = RA_RING_PREFAULT};
    ra_ring *ring = NULL;
    if (inproc_ring(r->kind)) return r->ring;
    ra_shm_options opt = {.replace = true};
    int rc = ra_ring_create_shm(&ring, r->name, &cfg, &opt);
    if (rc != RA_OK) {
        fprintf(stderr, "bench_shm: ra_ring_create_shm(%s): %s\n", r->name, ra_strerror(rc));
        exit(1);
    }
    atomic_store_explicit(&r->sh->bound, 1, memory_order_release);
    return ring;
}

#include "bench_shm_peers.h" /* the peers: ZeroMQ, nng, Unix datagrams */

/* ---- the floor: one cache line --------------------------------------------------------------- */

static void reader_floor(const run *r)
{
    rstate s;
    rstate_init(&s, r);
    line *fl = &r->sh->floor, *ack = &r->sh->ack[r->idx];
    set_ready(r);
    start_line(r, r->nr + 1);
    uint64_t last = 0;
    for (;;) {
        /* acquire: pairs with the writer's release store of v, after w */
        uint64_t v = atomic_load_explicit(&fl->v, memory_order_acquire);
        if (v == last) {
            idle_spin(r);
            continue;
        }
        if (v == UINT64_MAX) break;
        account(&s, v - 1, fl->w);
        last = v;
        /* release: the writer may store the next message once every reader acked */
        if (!r->latency) atomic_store_explicit(&ack->v, v, memory_order_release);
    }
    rstate_fini(&s, ticks());
}

static inline void floor_send(const run *r, uint64_t i, uint64_t stamp)
{
    line *fl = &r->sh->floor;
    if (!r->latency)
        for (int k = 0; k < r->nr; k++) /* acquire: the reader is done with the previous message */
            while (atomic_load_explicit(&r->sh->ack[k].v, memory_order_acquire) != i) idle_spin(r);
    fl->w = stamp;
    /* release: the stamp is visible with the sequence number */
    atomic_store_explicit(&fl->v, i + 1, memory_order_release);
}

/* ---- latency anatomy: the ring's memory traffic, mimicked -------------------------------------
 * Writer: [A_INTENT: store intent = end on the flag line], the record (24-byte header + payload,
 * A_TWO: at the start of a fresh 128-byte slot; else packed, 8-aligned, as the ring), then the
 * flag line's tail = end (release). Reader: spins on tail, copies the record, reloads intent. */

static inline void ana_send(const run *r, uint64_t i, const unsigned char *msg, uint64_t *pos)
{
    shared *sh = r->sh;
    uint64_t size = r->kind == A_TWO ? LINE : ((24u + r->len + 7u) & ~7ull);
    const uint64_t cap = g_ringcap;
    uint64_t off = *pos & (cap - 1);
    if (off + size > cap) *pos += cap - off, off = 0;
    uint64_t end = *pos + size;
    if (r->kind >= A_OWN) { /* relaxed: the producer reads back its own positions */
        uint64_t t = atomic_load_explicit(&sh->ana_intent.v, memory_order_relaxed);
        uint64_t in =
            atomic_load_explicit((_Atomic uint64_t *)&sh->ana_intent.w, memory_order_relaxed);
        if (t > end || in > end) abort();
    }
    if (r->kind >= A_FULL && end > cap) { /* retire: the header one capacity back */
        uint64_t w;
        memcpy(&w, (unsigned char *)r->mem + off, 8);
        sh->ana_stats.w = w + end - cap;
    }
    if (r->kind >= A_INTENT) {
        /* release store then a release fence, as ra__intent */
        atomic_store_explicit((_Atomic uint64_t *)&sh->ana_intent.w, end, memory_order_release);
        atomic_thread_fence(memory_order_release);
    }
    if (r->kind >= A_PF)
        __builtin_prefetch((unsigned char *)r->mem + ((end + 8192) & (cap - 1)), 1, 3);
    unsigned char *rec = (unsigned char *)r->mem + off;
    uint64_t h = r->len;
    memcpy(rec, &h, 8);
    memcpy(rec + 8, &i, 8);
    memcpy(rec + 16, &i, 8);
    memcpy(rec + 24, msg, r->len);
    if (r->kind >= A_FULL) /* relaxed: last_pos, on the flag line (released by the tail store) */
        atomic_store_explicit(&sh->ana_intent.x, *pos, memory_order_relaxed);
    /* release: publishes the record */
    atomic_store_explicit(&sh->ana_intent.v, end, memory_order_release);
    if (r->kind >= A_FULL) { /* statistics, on a line of their own */
        atomic_store_explicit(&sh->ana_stats.x, i + 1, memory_order_relaxed);
        atomic_store_explicit(&sh->ana_stats.v, sh->ana_stats.v + r->len, memory_order_relaxed);
    }
    *pos = end;
}

static void reader_anatomy(const run *r)
{
    rstate s;
    rstate_init(&s, r);
    shared *sh = r->sh;
    set_ready(r);
    start_line(r, r->nr + 1);
    uint64_t pos = 0, tail = 0;
    unsigned char buf[256];
    uint64_t size = r->kind == A_TWO ? LINE : ((24u + r->len + 7u) & ~7ull);
    const uint64_t cap = g_ringcap;
    for (;;) {
        if (pos >= tail) {
            /* acquire: pairs with the writer's release of tail */
            tail = atomic_load_explicit(&sh->ana_intent.v, memory_order_acquire);
            if (tail == UINT64_MAX) break;
            if (pos >= tail) continue;
        }
        uint64_t off = pos & (cap - 1);
        if (off + size > cap) pos += cap - off, off = 0;
        memcpy(buf, (const unsigned char *)r->mem + off, 24 + r->len);
        atomic_thread_fence(memory_order_acquire);
        /* relaxed: the validation load, as the ring's (ordered by the fence above) */
        uint64_t intent =
            atomic_load_explicit((_Atomic uint64_t *)&sh->ana_intent.w, memory_order_relaxed);
        if (intent > pos + cap || (r->kind < A_INTENT && tail > pos + cap - LINE)) {
            pos = tail; /* lapped (the reader was descheduled): skip to the newest */
            continue;
        }
        deliver(&s, buf + 24, r->len);
        pos += size;
    }
    rstate_fini(&s, ticks());
}

/* A_BARE: the ring's producer as it is, a reader reduced to the memory it must touch: spins on
 * tail (the control block's line 1, ring_layout.h), copies header and payload, validates with
 * intent (same line). The ring's memory is caller memory, so the layout gives the addresses. */
static void reader_bare(const run *r)
{
    rstate s;
    rstate_init(&s, r);
    const ra__ring_ctl *ctl = r->mem;
    const unsigned char *data = (const unsigned char *)r->mem + RA__CTL_SIZE;
    const uint64_t cap = g_ringcap, mask = cap - 1;
    set_ready(r);
    start_line(r, r->nr + 1);
    uint64_t pos = 0, tail = 0;
    unsigned char buf[24 + 256];
    for (;;) {
        if (pos >= tail) {
            /* acquire: records below tail are complete */
            tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
            if (pos >= tail) {
                if (atomic_load_explicit(&r->sh->done, memory_order_acquire) &&
                    atomic_load_explicit(&ctl->tail, memory_order_acquire) == pos)
                    break;
                continue;
            }
        }
        uint64_t off = pos & mask;
        ra__rec h;
        if (ra__no_room_for_hdr(cap - off)) {
            pos += cap - off;
            continue;
        }
        memcpy(&h, data + off, sizeof h);
        if (h.flags & RA__F_PAD) {
            pos += cap - off;
            continue;
        }
        uint32_t len = h.len <= 256 ? h.len : 256;
        memcpy(buf, data + off + 24, len);
        atomic_thread_fence(memory_order_acquire);
        /* relaxed: ordered by the fence above (as ra__intent_passed) */
        if (ra__overtaken(atomic_load_explicit(&ctl->intent, memory_order_relaxed), pos, cap)) {
            pos = tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
            continue; /* lapped: skip to the newest (the gap shows as lost) */
        }
        deliver(&s, buf, len);
        pos += ra__rec_size(h.len);
    }
    rstate_fini(&s, ticks());
}

/* ---- the writer ------------------------------------------------------------------------------ */

static void writer_main(run *r)
{
    peer p = {0};
    ra_ring *ring = NULL;
    if (is_ring_kind(r->kind) || r->kind == A_BARE) ring = ring_writer_open(r);
    if (is_peer_kind(r->kind)) {
        peer_writer_open(r, &p);
        pin_role(-1);
        peer_probe(r, &p);
    } else {
        pin_role(-1);
        wait_ready(r);
        start_line(r, r->nr + 1);
    }
    unsigned char msg[256];
    msg_init(msg, r->len);
    uint64_t pos = 0, errs = 0, nsend = 0;
    uint64_t *send = r->latency ? malloc(r->n * sizeof *send) : NULL;
    r->sh->t0 = ticks();
    uint64_t next = r->sh->t0;
    for (uint64_t i = 0; i < r->n; i++) {
        if (r->latency)
            while (ticks() < next) {}
        uint64_t stamp = ticks();
        msg_stamp(msg, i, stamp);
        if (ring)
            errs += ra_ring_write(ring, 1, i, msg, r->len) != RA_OK;
        else if (is_peer_kind(r->kind))
            errs += peer_send(r, &p, msg) != 0;
        else if (is_floor_kind(r->kind))
            floor_send(r, i, stamp);
        else
            ana_send(r, i, msg, &pos);
        if (send) { /* mfence: the send's stores (its tail, its line) are globally visible */
            _mm_mfence();
            send[nsend++] = __rdtsc() - stamp;
        }
        next = stamp + r->pace;
    }
    r->sh->published = r->n;
    if (send) {
        qsort(send, nsend, sizeof *send, bench_cmp_u64);
        r->sh->send_p50 = pct(send, nsend, 0.5);
        free(send);
    }
    if (errs) {
        fprintf(stderr, "bench_shm: %s: %llu sends failed\n", g_names[r->kind],
                (unsigned long long)errs);
        g_failed = 1;
    }
    if (is_floor_kind(r->kind) || r->kind >= K_N) {
        /* the end mark must not overwrite the last message before the readers saw it */
        for (int k = 0; k < r->nr && !r->latency && is_floor_kind(r->kind); k++)
            /* acquire: the reader saw the last message */
            while (atomic_load_explicit(&r->sh->ack[k].v, memory_order_acquire) != r->n)
                idle_spin(r);
        const uint64_t until = bench_now_ns() + 1000 * 1000;
        while (bench_now_ns() < until) {}
    }
    /* release: after the last message */
    atomic_store_explicit(&r->sh->done, 1, memory_order_release);
    if (is_floor_kind(r->kind))
        atomic_store_explicit(&r->sh->floor.v, UINT64_MAX, memory_order_release);
    if (r->kind >= K_N)
        atomic_store_explicit(&r->sh->ana_intent.v, UINT64_MAX, memory_order_release);
    if (ring) {
        ra_ring_close(ring);
        if (!inproc_ring(r->kind)) ra_ring_destroy(ring);
    }
    if (is_peer_kind(r->kind)) {
        /* keep the socket until the readers are done: closing early would cut what is queued */
        for (int i = 0; i < r->nr; i++)
            while (!__atomic_load_n(&r->sh->res[i].ok, __ATOMIC_ACQUIRE)) usleep(1000);
        peer_close(&p, r);
    }
    r->sh->writer_ok = 1;
}

static void reader_main(run *r)
{
    if (!is_peer_kind(r->kind)) pin_role(r->idx);
    if (is_ring_kind(r->kind))
        reader_ring(r);
    else if (is_peer_kind(r->kind))
        reader_peer(r);
    else if (is_floor_kind(r->kind))
        reader_floor(r);
    else if (r->kind == A_BARE)
        reader_bare(r);
    else
        reader_anatomy(r);
}

/* ---- one run --------------------------------------------------------------------------------- */

static shared *g_sh;

static void *writer_thread(void *arg)
{
    writer_main(arg);
    return NULL;
}

static void *reader_thread(void *arg)
{
    reader_main(arg);
    return NULL;
}

/* Waits for the children; kills them (by pid) after 120 s. */
static void reap(pid_t *pids, int n, const char *what)
{
    const uint64_t until = bench_now_ns() + 120ull * 1000 * 1000 * 1000;
    int left = n;
    while (left > 0) {
        for (int i = 0; i < n; i++) {
            int st;
            if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) != pids[i]) continue;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "bench_shm: %s: a process failed (status %d)\n", what, st);
                g_failed = 1;
            }
            pids[i] = 0;
            left--;
        }
        if (left && bench_now_ns() > until) {
            fprintf(stderr, "bench_shm: %s: stuck, killing its processes\n", what);
            for (int i = 0; i < n; i++)
                if (pids[i] > 0) kill(pids[i], SIGKILL);
            g_failed = 1;
        }
        if (left) usleep(2000);
    }
}

/* Runs kind with nr readers once; the results are in g_sh. */
static void run_once(int kind, int nr, uint32_t len, int latency, uint64_t n, uint64_t pace_ns)
{
    memset(g_sh, 0, sizeof *g_sh);
    run r[MAXR + 1];
    run base = {.kind = kind,
                .nr = nr,
                .latency = latency,
                .len = len,
                .n = n,
                .pace = (uint64_t)((double)pace_ns * g_tsc_per_ns),
                .sh = g_sh};
    snprintf(base.name, sizeof base.name, "ringalloc-bench-shm-%d", (int)getpid());
    if (kind >= K_N && !inproc_ring(kind)) { /* the mimics' data area, as large as the ring */
        base.mem = aligned_alloc(LINE, g_ringcap);
        if (!base.mem) exit(1);
        memset(base.mem, 0, g_ringcap);
    }
    if (inproc_ring(kind)) {
        size_t fp = ra_ring_footprint(g_ringcap);
        base.mem = aligned_alloc(RA_RING_MEM_ALIGN, fp);
        ra_ring_config cfg = {
            .capacity = g_ringcap, .flags = RA_RING_PREFAULT, .mem = base.mem, .mem_len = fp};
        if (!base.mem || ra_ring_create(&base.ring, &cfg) != RA_OK) exit(1);
    }
    for (int i = 0; i <= nr; i++) {
        r[i] = base;
        r[i].idx = i - 1;
    }
    if (is_thread_kind(kind)) {
        pthread_t t[MAXR + 1];
        for (int i = 0; i <= nr; i++)
            if (pthread_create(&t[i], NULL, i ? reader_thread : writer_thread, &r[i]) != 0) exit(1);
        for (int i = 0; i <= nr; i++) pthread_join(t[i], NULL);
    } else {
        pid_t pids[MAXR + 1];
        for (int i = 0; i <= nr; i++) {
            pids[i] = fork();
            if (pids[i] < 0) {
                perror("bench_shm: fork");
                exit(1);
            }
            if (pids[i] == 0) {
                if (i)
                    reader_main(&r[i]);
                else
                    writer_main(&r[i]);
                _exit(g_failed);
            }
        }
        reap(pids, nr + 1, g_names[kind]);
    }
    if (inproc_ring(kind)) ra_ring_destroy(base.ring);
    free(base.mem);
    if (kind == K_SHM || kind == K_SHM_WAIT) (void)ra_ring_unlink(base.name);
}

/* ---- the matrix and its medians -------------------------------------------------------------- */

#define NSIZES 2
#define NNR    2
static const uint32_t g_sizes[NSIZES] = {32, 100};
static const int g_nrs[NNR] = {1, 4};

typedef struct cell {
    int ran;
    int k; /* samples below: one per run and reader */
    double v_rate[MAXREPS * MAXR], v_dpct[MAXREPS * MAXR];
    double v_p50[MAXREPS * MAXR], v_p99[MAXREPS * MAXR], v_p999[MAXREPS * MAXR];
    double v_send[MAXREPS]; /* one per run: the writer's send p50 */
    int ks;
    double send;              /* latency: the writer's stamp-to-visible p50, median over runs, ns */
    double rate;              /* throughput: msgs/s per reader, median over reps and readers */
    double p50, p99, p999;    /* latency: ns, median over reps and readers */
    double delivered_pct;     /* throughput: delivered / published, median */
    uint64_t lost, silent;    /* totals over reps and readers: loss the ring reported; not */
    uint64_t samples, errors; /* latency samples; failed checks */
} cell;

static cell g_tp[A_N][NNR][NSIZES], g_lat[A_N][NNR][NSIZES];
static int g_reps = 3;
static uint64_t g_msgs = 1000000, g_lat_msgs = 100000, g_pace_ns = 3000, g_peer_pace_ns = 20000;

/* Messages for a throughput run of kind: the slow ones run a fifth. */
static uint64_t tp_msgs(int kind)
{
    return is_peer_kind(kind) || is_floor_kind(kind) ? g_msgs / 5 : g_msgs;
}

/* Checks the ring's accounting of one reader: read + lost == published, and every sequence gap
 * is reported loss. Returns the unreported loss (0 when the counts add up). */
static uint64_t ring_check(int kind, const result *res, uint64_t published)
{
    uint64_t missing = published - res->delivered;
    if (res->ring_read != res->delivered || res->ring_read + res->ring_lost != published ||
        res->gaps != res->ring_lost) {
        fprintf(stderr,
                "bench_shm: ERROR: %s: read %llu lost %llu (delivered %llu, gaps %llu) of %llu\n",
                g_names[kind], (unsigned long long)res->ring_read,
                (unsigned long long)res->ring_lost, (unsigned long long)res->delivered,
                (unsigned long long)res->gaps, (unsigned long long)published);
        g_failed = 1;
        return missing > res->ring_lost ? missing - res->ring_lost : 1;
    }
    return 0;
}

/* One run of kind, its per-reader results added to the cell. */
static void measure_once(int kind, int ni, int si, int latency)
{
    const int nr = g_nrs[ni];
    cell *c = latency ? &g_lat[kind][ni][si] : &g_tp[kind][ni][si];
    const int is_peer = is_peer_kind(kind);
    uint64_t n = latency ? (is_peer ? g_lat_msgs / 5 : g_lat_msgs) + WARM : tp_msgs(kind);
    uint64_t errors = 0;
    run_once(kind, nr, g_sizes[si], latency, n, is_peer ? g_peer_pace_ns : g_pace_ns);
    for (int i = 0; i < nr && c->k < MAXREPS * MAXR; i++) {
        const result *res = &g_sh->res[i];
        if (!res->ok) {
            g_failed = 1;
            continue;
        }
        errors += res->errors;
        if (is_ring_kind(kind))
            c->silent += ring_check(kind, res, n), c->lost += res->ring_lost;
        else if (kind < K_N)
            c->silent += n - res->delivered;
        double secs = (double)(res->t_last - g_sh->t0) / g_tsc_per_ns / 1e9;
        c->v_rate[c->k] = secs > 0 ? (double)res->delivered / secs : 0;
        c->v_dpct[c->k] = 100.0 * (double)res->delivered / (double)n;
        c->v_p50[c->k] = res->p50, c->v_p99[c->k] = res->p99, c->v_p999[c->k] = res->p999;
        c->samples += res->nlat;
        c->k++;
    }
    c->errors += errors;
    if (latency && c->ks < MAXREPS) c->v_send[c->ks++] = g_sh->send_p50;
    if (errors && kind < K_N) { /* the anatomy mimics do not validate what a lap tore */
        fprintf(stderr, "bench_shm: ERROR: %s: %llu messages failed their check\n", g_names[kind],
                (unsigned long long)errors);
        g_failed = 1;
    }
}

static void finish_cells(cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c[i].ran = c[i].k > 0;
        c[i].rate = bench_median(c[i].v_rate, c[i].k);
        c[i].delivered_pct = bench_median(c[i].v_dpct, c[i].k);
        c[i].p50 = bench_median(c[i].v_p50, c[i].k);
        c[i].p99 = bench_median(c[i].v_p99, c[i].k);
        c[i].p999 = bench_median(c[i].v_p999, c[i].k);
        c[i].send = bench_median(c[i].v_send, c[i].ks);
    }
}

/* ---- the table --------------------------------------------------------------------------------
 */

static int g_only = -1;
static int g_anatomy_only;
static const char *g_csv;

static int wanted(int kind)
{
    return g_only < 0 || g_only == kind;
}

static const char *met(int ok)
{
    return ok ? "GOAL met" : "GOAL missed";
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static void print_tables(void)
{
    printf("\n== throughput: writer at full speed, msgs/s per reader (median over %d runs x "
           "readers; ring %llu msgs, peers and floor %llu)\n",
           g_reps, (unsigned long long)g_msgs, (unsigned long long)tp_msgs(K_ZMQ));
    printf("%-22s %7s %5s %14s %10s %12s %12s\n", "contender", "readers", "bytes", "msgs/s/reader",
           "delivered", "lost(ring)", "unreported");
    for (int k = 0; k < K_N; k++)
        for (int ni = 0; ni < NNR; ni++)
            for (int si = 0; si < NSIZES; si++) {
                const cell *c = &g_tp[k][ni][si];
                if (!c->ran) continue;
                printf("%-22s %7d %5s %14.0f %9.1f%% %12llu %12llu\n", g_names[k], g_nrs[ni],
                       is_floor_kind(k) ? "line" : (si ? "100" : "32"), c->rate, c->delivered_pct,
                       (unsigned long long)c->lost, (unsigned long long)c->silent);
            }
    printf("\n== latency: writer paced every %llu ns (peers %llu ns), write-to-delivery ns (median "
           "over %d runs x readers; %llu msgs each, peers %llu)\n",
           (unsigned long long)g_pace_ns, (unsigned long long)g_peer_pace_ns, g_reps,
           (unsigned long long)g_lat_msgs, (unsigned long long)g_lat_msgs / 5);
    printf("%-22s %7s %5s %9s %9s %9s %9s %10s %12s\n", "contender", "readers", "bytes", "p50",
           "p99", "p99.9", "send p50", "samples", "unreported");
    for (int k = 0; k < A_N; k++)
        for (int ni = 0; ni < NNR; ni++)
            for (int si = 0; si < NSIZES; si++) {
                const cell *c = &g_lat[k][ni][si];
                if (!c->ran) continue;
                if (k == K_N) printf("-- latency anatomy (threads): the ring's memory traffic\n");
                printf("%-22s %7d %5s %9.0f %9.0f %9.0f %9.0f %10llu %12llu\n", g_names[k],
                       g_nrs[ni], is_floor_kind(k) ? "line" : (si ? "100" : "32"), c->p50, c->p99,
                       c->p999, c->send, (unsigned long long)c->samples,
                       (unsigned long long)c->silent);
            }
}

static void print_goals(void)
{
    printf("\n== ratios and goals\n");
    for (int ni = 0; ni < NNR; ni++)
        for (int si = 0; si < NSIZES; si++) {
            const cell *s = &g_tp[K_SHM][ni][si], *z = &g_tp[K_ZMQ][ni][si],
                       *ip = &g_tp[K_INPROC][ni][si];
            if (s->ran && z->ran)
                printf("throughput shm ring / ZeroMQ    %d rdr %3uB  %7.1fx  (>= 10x)   %s\n",
                       g_nrs[ni], g_sizes[si], ratio(s->rate, z->rate),
                       met(s->rate >= 10 * z->rate));
            if (s->ran && ip->ran)
                printf("throughput in-process / shm     %d rdr %3uB  %7.2fx  (<= 1.2x)  %s\n",
                       g_nrs[ni], g_sizes[si], ratio(ip->rate, s->rate),
                       met(ip->rate <= 1.2 * s->rate));
            const cell *ls = &g_lat[K_SHM][ni][si], *li = &g_lat[K_INPROC][ni][si];
            if (ls->ran && li->ran)
                printf("latency p50 shm / in-process    %d rdr %3uB  %7.2fx  (<= 1.2x)  %s\n",
                       g_nrs[ni], g_sizes[si], ratio(ls->p50, li->p50),
                       met(ls->p50 <= 1.2 * li->p50));
        }
    for (int ni = 0; ni < NNR; ni++) {
        const cell *fp = &g_lat[K_FLOOR_P][ni][0], *ft = &g_lat[K_FLOOR_T][ni][0];
        const cell *ls = &g_lat[K_SHM][ni][0], *li = &g_lat[K_INPROC][ni][0];
        if (ls->ran && fp->ran)
            printf("p50 shm ring / floor (procs)    %d rdr  32B  %7.2fx  (<= 1.3x)  %s\n",
                   g_nrs[ni], ratio(ls->p50, fp->p50), met(ls->p50 <= 1.3 * fp->p50));
        if (li->ran && ft->ran)
            printf("p50 in-process / floor (threads) %d rdr 32B  %7.2fx  (<= 1.3x)  %s\n",
                   g_nrs[ni], ratio(li->p50, ft->p50), met(li->p50 <= 1.3 * ft->p50));
    }
    uint64_t silent = 0;
    int any = 0;
    for (int k = 0; k < K_N; k++)
        for (int ni = 0; ni < NNR; ni++)
            for (int si = 0; si < NSIZES; si++)
                if (is_ring_kind(k) && (g_tp[k][ni][si].ran || g_lat[k][ni][si].ran)) {
                    silent += g_tp[k][ni][si].silent + g_lat[k][ni][si].silent;
                    any = 1;
                }
    if (any)
        printf("unreported loss, every ring row  %llu messages   (goal 0)  %s\n",
               (unsigned long long)silent, met(silent == 0));
    if (oversubscribed(4))
        printf("WARNING: %d CPUs: with 4 readers there are more processes than cores (readers\n"
               "  share CPUs, spinners yield when idle): the 4-reader rows measure the scheduler "
               "too.\n",
               g_ncpu);
}

static void write_csv(void)
{
    if (!g_csv) return;
    char path[512];
    (void)mkdir(g_csv, 0755);
    snprintf(path, sizeof path, "%s/shm-throughput.csv", g_csv);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return;
    }
    fprintf(f, "impl,readers,payload_bytes,msgs_per_sec_per_reader,delivered_pct,lost_reported,"
               "lost_unreported\n");
    for (int k = 0; k < K_N; k++)
        for (int ni = 0; ni < NNR; ni++)
            for (int si = 0; si < NSIZES; si++) {
                const cell *c = &g_tp[k][ni][si];
                if (c->ran)
                    fprintf(f, "%s,%d,%u,%.0f,%.2f,%llu,%llu\n", g_ids[k], g_nrs[ni],
                            is_floor_kind(k) ? 16 : g_sizes[si], c->rate, c->delivered_pct,
                            (unsigned long long)c->lost, (unsigned long long)c->silent);
            }
    fclose(f);
    snprintf(path, sizeof path, "%s/shm-latency.csv", g_csv);
    if (!(f = fopen(path, "w"))) {
        perror(path);
        return;
    }
    fprintf(f, "impl,readers,payload_bytes,percentile,latency_ns\n");
    for (int k = 0; k < A_N; k++)
        for (int ni = 0; ni < NNR; ni++)
            for (int si = 0; si < NSIZES; si++) {
                const cell *c = &g_lat[k][ni][si];
                if (!c->ran) continue;
                const double v[3] = {c->p50, c->p99, c->p999};
                const char *p[3] = {"50", "99", "99.9"};
                for (int i = 0; i < 3; i++)
                    fprintf(f, "%s,%d,%u,%s,%.0f\n", g_ids[k], g_nrs[ni],
                            is_floor_kind(k) ? 16 : g_sizes[si], p[i], v[i]);
            }
    fclose(f);
}

/* ---- main -------------------------------------------------------------------------------------
 */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_shm [--reps N] [--msgs N] [--lat-msgs N] [--pace-ns N] [--quick]\n"
            "                 [--peer-pace-ns N] [--ring-kib N] [--only ID] [--csv DIR]\n"
            "                 [--no-pin] [--anatomy-only]\n"
            "  ID: shm_ring_spin shm_ring_wait inproc_ring zeromq nng unix_dgram\n"
            "      floor_procs floor_threads\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            g_reps = 1, g_msgs = 200000, g_lat_msgs = 20000;
        } else if (!strcmp(a, "--no-pin")) {
            g_pin = 0;
        } else if (!strcmp(a, "--anatomy-only")) {
            g_anatomy_only = 1;
        } else if (v && !strcmp(a, "--reps")) {
            g_reps = atoi(v), i++;
            if (g_reps < 1 || g_reps > MAXREPS) usage();
        } else if (v && !strcmp(a, "--msgs")) {
            g_msgs = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--lat-msgs")) {
            g_lat_msgs = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--pace-ns")) {
            g_pace_ns = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--ring-kib")) {
            g_ringcap = (size_t)strtoull(v, NULL, 10) << 10, i++;
        } else if (v && !strcmp(a, "--peer-pace-ns")) {
            g_peer_pace_ns = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--csv")) {
            g_csv = v, i++;
        } else if (v && !strcmp(a, "--only")) {
            for (int k = 0; k < K_N; k++)
                if (!strcmp(v, g_ids[k])) g_only = k;
            if (g_only < 0) usage();
            i++;
        } else {
            usage();
        }
    }
    if (g_msgs < 1000 || g_lat_msgs < 1000) usage();
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pick_cpus();
    calibrate_tsc();
    g_sh = mmap(NULL, sizeof *g_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (g_sh == MAP_FAILED) {
        perror("bench_shm: mmap");
        return 1;
    }
    printf("== shared-memory ring vs IPC peers (bench_shm; docs/benchmarks.md explains it)\n");
    printf("CPUs: %d; %s; TSC %.3f GHz (rdtsc calibrated against CLOCK_MONOTONIC)\n", g_ncpu,
           g_pin && g_ncpu >= 2 ? "writer pinned to the first CPU, readers to the others"
                                : "not pinned",
           g_tsc_per_ns);
    /* repetitions outermost, so that the machine's noise spreads over every contender alike */
    for (int rep = 0; rep < g_reps; rep++) {
        if (!g_anatomy_only)
            for (int ni = 0; ni < NNR; ni++)
                for (int si = 0; si < NSIZES; si++)
                    for (int k = 0; k < K_N; k++) {
                        if (!wanted(k) || (is_floor_kind(k) && si)) continue;
                        measure_once(k, ni, si, 0);
                        measure_once(k, ni, si, 1);
                    }
        if (g_only < 0 && g_anatomy_only) {
            measure_once(K_FLOOR_T, 0, 0, 1);
            measure_once(K_INPROC, 0, 0, 1);
        }
        if (g_only < 0)
            for (int k = K_N; k < A_N; k++) measure_once(k, 0, 0, 1);
    }
    finish_cells(&g_tp[0][0][0], sizeof g_tp / sizeof g_tp[0][0][0]);
    finish_cells(&g_lat[0][0][0], sizeof g_lat / sizeof g_lat[0][0][0]);
    print_tables();
    print_goals();
    write_csv();
    return g_failed;
}
