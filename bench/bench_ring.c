/* bench_ring.c - the tick ring against a memcpy floor, ck_ring+malloc and LMAX Disruptor
 *
 * Three measurements, side by side in one run, each repeated (--reps, default 5) with the median
 * reported, at two ring capacities: 256 KiB (cache resident) and 64 MiB (well beyond L2):
 *
 * 1. Publish only (one thread, no reader, overwrite mode in steady state, i.e. every write
 *    retires old records): ns/msg for payloads of 16, 32, 64 and 256 bytes.
 *    - floor: what any ring of this layout must at least do: write a 24-byte header (len, type,
 *      flags, seq, ts) and memcpy the payload into a circular buffer of the same capacity,
 *      records 8-byte aligned, a padding word at the wrap. The payload length is a run-time
 *      value (as for the ring), so memcpy is the same libc call the ring makes.
 *    - ring.write: ra_ring_write(); ring.rsv+cmt: ra_ring_reserve() + memcpy + ra_ring_commit().
 *    - ck+malloc: a ck_ring (SPSC, used by one thread) of pointers to malloc'd copies (same 24-byte
 *      header + payload), dropping (dequeue + free) the oldest copy when full. Its slot count is
 *      the number of records the ring holds (power of two below capacity / record size).
 * 2. One producer, one reader thread (pinned to distinct CPUs), every message delivered and
 *    checked: msgs/s for 32-byte payloads.
 *    - ring: RA_RING_BACKPRESSURE, ra_ring_write() retried on RA_EFULL, the reader
 * ra_reader_poll(); after an empty poll the reader pauses --rbackoff times (default 1024) so that
 * a batch accumulates (docs/benchmarks.md: a reader at the producer's heels slows both).
 *    - ck+malloc: ck_ring SPSC, malloc + copy in the producer, check + free in the reader.
 *    - Disruptor: run by bench/run-ring.sh (Java) and passed in with --disruptor SLOTS:MSGS_PER_S
 *      (or --disruptor-na REASON); slots = the ring's record count, as for ck.
 * 3. Writer-to-reader latency, 32-byte payloads paced --pace-ns apart (default 1000 ns) so that
 *    it measures latency, not queueing: the producer stores rdtsc in the payload just before the
 *    write, the reader (spinning, no pause) takes rdtsc as soon as the message is handed to it.
 *    p50/p99/p99.9/max over all samples of all repetitions, converted to ns with a TSC
 *    frequency calibrated against CLOCK_MONOTONIC. Ring in overwrite mode (the default) and in
 *    backpressure mode; ck_ring+malloc for comparison.
 *
 * All memory (floor buffer and ring, via ra_ring_config.mem) comes from the same mmap, touched
 * before use, so neither side pays page faults or gets different page sizes.
 *
 * usage: bench_ring [--reps N] [--msgs N] [--quick] [--busy-spin] [--only publish|spsc|latency]
 *                   [--cap KIB] [--batch N] [--peek] [--backoff N] [--rbackoff N]
 *                   (--cap: only that capacity, a power of two)
 *                   [--pace-ns N] [--disruptor SLOTS:MSGS_PER_S]... [--disruptor-na REASON]
 *        bench_ring --print-slots     (the Disruptor slot counts, one per line)
 *        bench_ring --print-cpus      (the two CPUs used, "A,B"; nothing with fewer than two)
 * Exit 0, or 1 when a delivered message failed its check (the ring or a peer is broken).
 */
#include <ck_ring.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "ringalloc/ring.h"
#include "ringalloc/ringalloc.h"
#include "bench_util.h"

#define HDR     24u /* header bytes per record, as RA_RING_HDR_SIZE */
#define NSRC    64u /* distinct payload templates, cycled */
#define MAXPAY  256u
#define NCAPS   2
#define NLENS   4
#define MAXREPS 31

static size_t g_caps[NCAPS] = {256u << 10, 64u << 20}; /* --cap replaces the first */
/* 1P1C also at 4 MiB: just above the 2 MiB L2, where its throughput changes regime */
#define NSCAPS 3
static size_t g_scaps[NSCAPS] = {256u << 10, 4u << 20, 64u << 20};
static const uint32_t g_lens[NLENS] = {16, 32, 64, 256};

static unsigned char g_src[NSRC][MAXPAY] __attribute__((aligned(64)));
static int g_reps = 5;
static int g_quick;
static uint64_t g_spsc_msgs = 5000000;
static uint64_t g_pace_ns = 1000;
static int g_cpu[2] = {-1, -1}; /* producer, reader */
static double g_tsc_per_ns = 1.0;
static int g_failed;

/* ---- small helpers -------------------------------------------------------------------------- */

static inline uint64_t ticks(void)
{
#if HAVE_TSC
    return __rdtsc();
#else
    return bench_now_ns();
#endif
}

/* A timestamp taken only after earlier loads completed (the reader's "now"). */
static inline uint64_t ticks_after_loads(void)
{
#if HAVE_TSC
    _mm_lfence();
    return __rdtsc();
#else
    return bench_now_ns();
#endif
}

static int g_busy_spin;            /* --busy-spin: throughput loops spin without pause */
static size_t g_batch = 256;       /* --batch: max_msgs per ra_reader_poll in 1P1C */
static unsigned g_backoff = 1;     /* --backoff N: pauses between refused writes in 1P1C */
static unsigned g_rbackoff = 1024; /* --rbackoff N: pauses after an empty poll in 1P1C */
static int g_peek;                 /* --peek: the 1P1C reader uses peek/advance instead of poll */
static size_t g_only_cap;          /* --cap KIB: run only that ring capacity (for profiling) */

static inline void cpu_relax(void)
{
#if HAVE_TSC
    if (!g_busy_spin) _mm_pause();
#endif
}

/* Hides a value from the optimiser so that it cannot specialise code for a constant. */
#define LAUNDER(x) __asm__ volatile("" : "+r"(x))
/* Keeps the compiler from merging or dropping stores across loop iterations. */
#define CLOBBER() __asm__ volatile("" ::: "memory")

static void calibrate_tsc(void)
{
#if HAVE_TSC
    uint64_t t0 = bench_now_ns(), c0 = ticks();
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    uint64_t t1 = bench_now_ns(), c1 = ticks();
    g_tsc_per_ns = (double)(c1 - c0) / (double)(t1 - t0);
#endif
}

static void pin_self(int cpu)
{
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* The first two CPUs this process may run on; fewer means no pinning for that role. */
static void pick_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    int k = 0;
    for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
        if (CPU_ISSET(c, &set)) g_cpu[k++] = c;
}

static void *region_alloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("bench_ring: mmap");
        exit(1);
    }
    memset(p, 0, n); /* fault every page in now, not in a timed loop */
    return p;
}

static uint64_t rec_size(uint32_t len)
{
    return (HDR + len + 7u) & ~(uint64_t)7u;
}

/* Records of `len` bytes the ring of `cap` holds, rounded down to a power of two: the slot count
 * of the ck_ring and Disruptor peers. */
static unsigned slots_for(size_t cap, uint32_t len)
{
    uint64_t n = cap / rec_size(len), s = 1;
    while (s * 2 <= n) s *= 2;
    return (unsigned)s;
}

static const char *cap_name(size_t cap, char *buf, size_t n)
{
    if (cap >= (1u << 20))
        snprintf(buf, n, "%zuMiB", cap >> 20);
    else
        snprintf(buf, n, "%zuKiB", cap >> 10);
    return buf;
}

static void fail(const char *what, uint64_t errors)
{
    fprintf(stderr, "bench_ring: ERROR: %s: %llu messages failed their check\n", what,
            (unsigned long long)errors);
    g_failed = 1;
}

static void loadavg(char *buf, size_t n)
{
    FILE *f = fopen("/proc/loadavg", "r");
    buf[0] = '\0';
    if (!f) return;
    if (!fgets(buf, (int)n, f)) buf[0] = '\0';
    fclose(f);
    char *sp = buf;
    for (int k = 0; k < 3 && sp; k++) sp = strchr(sp + 1, ' ');
    if (sp) *sp = '\0';
}

/* ---- noise: CPU time other processes took while a section ran ------------------------------ */

typedef struct noise_mark {
    double busy, self, wall; /* seconds: all CPUs busy (/proc/stat), this process, wall clock */
} noise_mark;

static noise_mark noise_now(void)
{
    noise_mark m = {0, 0, (double)bench_now_ns() / 1e9};
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        unsigned long long v[8] = {0};
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            long hz = sysconf(_SC_CLK_TCK);
            /* user nice system (idle iowait) irq softirq steal */
            m.busy =
                (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)(hz > 0 ? hz : 100);
        }
        fclose(f);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        m.self = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return m;
}

/* Percent of one CPU that other processes used between a and b. */
static double noise_pct(noise_mark a, noise_mark b)
{
    double wall = b.wall - a.wall, other = (b.busy - a.busy) - (b.self - a.self);
    if (wall <= 0) return 0;
    return other < 0 ? 0 : 100.0 * other / wall;
}

static double g_noise[3]; /* publish, 1P1C, latency */

static ra_ring *ring_make(void *mem, size_t cap, uint32_t flags)
{
    ra_ring_config cfg = {
        .capacity = cap, .flags = flags, .mem = mem, .mem_len = ra_ring_footprint(cap)};
    ra_ring *r = NULL;
    int rc = ra_ring_create(&r, &cfg);
    if (rc != RA_OK) {
        fprintf(stderr, "bench_ring: ra_ring_create(%zu): %s\n", cap, ra_strerror(rc));
        exit(1);
    }
    return r;
}

/* ---- 1. publish only ------------------------------------------------------------------------ */

typedef struct floor_hdr {
    uint32_t len;
    uint16_t type, flags;
    uint64_t seq, ts;
} floor_hdr;

/* Field by field: a header assembled on the stack and copied as one block costs a
 * store-forwarding stall per record (seen with perf), which no real ring pays. */
static inline void put_hdr(unsigned char *p, uint32_t len, uint64_t seq)
{
    const uint16_t type = 1, flags = 0;
    memcpy(p + offsetof(floor_hdr, len), &len, sizeof len);
    memcpy(p + offsetof(floor_hdr, type), &type, sizeof type);
    memcpy(p + offsetof(floor_hdr, flags), &flags, sizeof flags);
    memcpy(p + offsetof(floor_hdr, seq), &seq, sizeof seq);
    memcpy(p + offsetof(floor_hdr, ts), &seq, sizeof seq);
}

typedef struct floor_state {
    unsigned char *buf;
    size_t cap;
    uint64_t pos, seq;
} floor_state;

static __attribute__((noinline)) void floor_publish(floor_state *f, uint32_t len, uint64_t msgs)
{
    LAUNDER(len);
    unsigned char *buf = f->buf;
    const uint64_t cap = f->cap, mask = cap - 1, rec = rec_size(len);
    uint64_t pos = f->pos, seq = f->seq;
    for (uint64_t i = 0; i < msgs; i++) {
        uint64_t off = pos & mask;
        if (off + rec > cap) { /* no room before the end: a padding word, then wrap */
            const uint32_t pad = UINT32_MAX;
            memcpy(buf + off, &pad, sizeof pad);
            pos += cap - off;
            off = 0;
        }
        put_hdr(buf + off, len, seq);
        memcpy(buf + off + HDR, g_src[seq & (NSRC - 1)], len);
        pos += rec;
        seq++;
        CLOBBER();
    }
    f->pos = pos;
    f->seq = seq;
}

static __attribute__((noinline)) void ring_publish_write(ra_ring *r, uint32_t len, uint64_t msgs,
                                                         uint64_t *seq_io)
{
    LAUNDER(len);
    uint64_t seq = *seq_io;
    for (uint64_t i = 0; i < msgs; i++, seq++) {
        if (ra_ring_write(r, 1, seq, g_src[seq & (NSRC - 1)], len) != RA_OK) {
            fprintf(stderr, "bench_ring: ra_ring_write failed\n");
            exit(1);
        }
    }
    *seq_io = seq;
}

static __attribute__((noinline)) void ring_publish_rc(ra_ring *r, uint32_t len, uint64_t msgs,
                                                      uint64_t *seq_io)
{
    LAUNDER(len);
    uint64_t seq = *seq_io;
    for (uint64_t i = 0; i < msgs; i++, seq++) {
        void *p = ra_ring_reserve(r, len);
        if (!p) {
            fprintf(stderr, "bench_ring: ra_ring_reserve failed\n");
            exit(1);
        }
        memcpy(p, g_src[seq & (NSRC - 1)], len);
        ra_ring_commit(r, len, 1, seq);
    }
    *seq_io = seq;
}

/* ra_ring_write_batch() in batches of PUB_BATCH messages: the caller fills one ra_wmsg per
 * message (its work, timed too), the ring writes the run. */
#define PUB_BATCH 16u
static __attribute__((noinline)) void ring_publish_batch(ra_ring *r, uint32_t len, uint64_t msgs,
                                                         uint64_t *seq_io)
{
    LAUNDER(len);
    uint64_t seq = *seq_io;
    ra_wmsg w[PUB_BATCH];
    for (uint64_t i = 0; i < msgs; i += PUB_BATCH) {
        size_t n = msgs - i < PUB_BATCH ? (size_t)(msgs - i) : PUB_BATCH;
        for (size_t k = 0; k < n; k++)
            w[k] = (ra_wmsg){
                .data = g_src[(seq + k) & (NSRC - 1)], .len = len, .type = 1, .ts_ns = seq + k};
        if (ra_ring_write_batch(r, w, n, NULL, 0, NULL) != RA_OK) {
            fprintf(stderr, "bench_ring: ra_ring_write_batch failed\n");
            exit(1);
        }
        seq += n;
    }
    *seq_io = seq;
}

typedef struct ck_peer {
    struct ck_ring ring;
    struct ck_ring_buffer *buf;
    unsigned slots;
} ck_peer;

static void ck_peer_init(ck_peer *c, unsigned slots)
{
    c->slots = slots;
    c->buf = calloc(slots, sizeof *c->buf);
    if (!c->buf) {
        perror("bench_ring: calloc");
        exit(1);
    }
    ck_ring_init(&c->ring, slots);
}

static void ck_peer_fini(ck_peer *c)
{
    void *p;
    while (ck_ring_dequeue_spsc(&c->ring, c->buf, &p)) free(p);
    free(c->buf);
    c->buf = NULL;
}

/* A malloc'd copy: the same 24-byte header the ring and the floor write, then the payload. */
static inline void *ck_copy(uint32_t len, uint64_t seq, const void *src)
{
    unsigned char *m = malloc(HDR + len);
    if (!m) {
        perror("bench_ring: malloc");
        exit(1);
    }
    put_hdr(m, len, seq);
    memcpy(m + HDR, src, len);
    return m;
}

static __attribute__((noinline)) void ck_publish(ck_peer *c, uint32_t len, uint64_t msgs,
                                                 uint64_t *seq_io)
{
    LAUNDER(len);
    uint64_t seq = *seq_io;
    for (uint64_t i = 0; i < msgs; i++, seq++) {
        void *m = ck_copy(len, seq, g_src[seq & (NSRC - 1)]);
        while (!ck_ring_enqueue_spsc(&c->ring, c->buf, m)) { /* full: drop the oldest */
            void *old;
            if (ck_ring_dequeue_spsc(&c->ring, c->buf, &old)) free(old);
        }
    }
    *seq_io = seq;
}

enum { P_FLOOR, P_WRITE, P_RC, P_BATCH, P_CK, P_N };
static double g_pub[NCAPS][NLENS][P_N]; /* ns/msg, medians */

static void bench_publish(void)
{
    for (int ci = 0; ci < NCAPS; ci++) {
        if (g_only_cap && g_caps[ci] != g_only_cap) continue;
        const size_t cap = g_caps[ci];
        unsigned char *fmem = region_alloc(cap);
        void *rmem = region_alloc(ra_ring_footprint(cap));
        ra_ring *r = ring_make(rmem, cap, RA_RING_PREFAULT);
        floor_state fl = {fmem, cap, 0, 0};
        uint64_t rseq = 0;
        for (int li = 0; li < NLENS; li++) {
            const uint32_t len = g_lens[li];
            const uint64_t lap = cap / rec_size(len) + 1;
            uint64_t msgs = 3 * lap;
            if (msgs < 2000000) msgs = 2000000;
            if (g_quick) msgs /= 10;
            ck_peer ck;
            uint64_t cseq = 0;
            ck_peer_init(&ck, slots_for(cap, len));
            /* warm-up: one lap each, so every timed write is in steady state (ring full) */
            floor_publish(&fl, len, lap);
            ring_publish_write(r, len, lap, &rseq);
            ck_publish(&ck, len, lap, &cseq);
            double v[P_N][MAXREPS];
            for (int rep = 0; rep < g_reps; rep++) { /* interleaved: noise hits all alike */
                for (int k = 0; k < P_N; k++) {
                    uint64_t t0 = bench_now_ns();
                    switch (k) {
                    case P_FLOOR:
                        floor_publish(&fl, len, msgs);
                        break;
                    case P_WRITE:
                        ring_publish_write(r, len, msgs, &rseq);
                        break;
                    case P_RC:
                        ring_publish_rc(r, len, msgs, &rseq);
                        break;
                    case P_BATCH:
                        ring_publish_batch(r, len, msgs, &rseq);
                        break;
                    default:
                        ck_publish(&ck, len, msgs, &cseq);
                        break;
                    }
                    v[k][rep] = (double)(bench_now_ns() - t0) / (double)msgs;
                }
            }
            for (int k = 0; k < P_N; k++) g_pub[ci][li][k] = bench_median(v[k], g_reps);
            ck_peer_fini(&ck);
        }
        ra_ring_stats st;
        ra_ring_get_stats(r, &st);
        if (st.published != rseq || st.overwritten == 0)
            fprintf(stderr, "bench_ring: note: ring stats published=%llu (expected %llu)\n",
                    (unsigned long long)st.published, (unsigned long long)rseq);
        ra_ring_destroy(r);
        munmap(rmem, ra_ring_footprint(cap));
        munmap(fmem, cap);
    }
}

/* ---- 2 and 3. one producer, one reader --------------------------------------------------------
 */

enum { K_RING, K_RING_OW, K_CK, K_LINE, K_RING_B };

typedef struct pc_ctx {
    int kind;      /* K_RING (backpressure), K_RING_B (the same, batched producer), K_RING_OW
                      (overwrite), K_CK, K_LINE (latency) */
    int latency;   /* 0: throughput run; 1: paced latency run */
    uint32_t len;  /* payload bytes */
    uint64_t n;    /* messages */
    uint64_t warm; /* latency: first messages not sampled */
    uint64_t pace; /* latency: ticks between messages */
    ra_ring *ring;
    ra_reader rd;
    ck_peer ck;
    atomic_int ready;
    uint64_t t0, t1; /* ns: producer start, reader end */
    /* reader side */
    uint64_t expect, errors;
    uint64_t skipped; /* overwrite mode: messages the reader lost to laps */
    uint64_t *lat;    /* latency samples, ticks */
    uint64_t nlat;    /* samples taken */
    uint64_t laps;    /* overwrite mode: times the reader was lapped (it was descheduled) */
    /* K_LINE: the hardware floor, one stamp handed over in one cache line */
    _Alignas(128) _Atomic uint64_t line;
    char line_pad[120];
} pc_ctx;

/* Payload: [0,8) message counter, [8,16) producer rdtsc (latency runs), the rest template. */
/* Both threads meet, then keep spinning for 30 ms before the run: a new thread on a CPU shared
 * with a running process is often first held back for a whole time slice (~10 ms, seen as a
 * 12 ms latency tail on every run), which this absorbs. */
static void start_line(pc_ctx *c)
{
    /* acq_rel / acquire: only a meeting point, no data is handed over */
    atomic_fetch_add_explicit(&c->ready, 1, memory_order_acq_rel);
    while (atomic_load_explicit(&c->ready, memory_order_acquire) < 2) cpu_relax();
    const uint64_t until = bench_now_ns() + 30 * 1000 * 1000;
    while (bench_now_ns() < until) {}
}

/* K_RING_B: the producer writes PUB_BATCH messages per ra_ring_write_batch(), resuming where a
 * full ring stopped it (throughput runs only). */
static void producer_batched(pc_ctx *c)
{
    unsigned char msg[PUB_BATCH][MAXPAY];
    ra_wmsg w[PUB_BATCH];
    uint32_t len = c->len;
    LAUNDER(len);
    for (unsigned k = 0; k < PUB_BATCH; k++) memcpy(msg[k], g_src[3], len);
    start_line(c);
    c->t0 = bench_now_ns();
    for (uint64_t i = 0; i < c->n; i += PUB_BATCH) {
        size_t n = c->n - i < PUB_BATCH ? (size_t)(c->n - i) : PUB_BATCH;
        const uint64_t stamp = 0; /* throughput runs only: no send stamp (see producer_main) */
        for (size_t k = 0; k < n; k++) {
            uint64_t q = i + k;
            memcpy(msg[k], &q, 8);
            memcpy(msg[k] + 8, &stamp, 8);
            w[k] = (ra_wmsg){.data = msg[k], .len = len, .type = 1, .ts_ns = q};
        }
        for (size_t off = 0; off < n;) {
            size_t wr = 0;
            int rc = ra_ring_write_batch(c->ring, w + off, n - off, NULL, 0, &wr);
            off += wr;
            if (rc == RA_EFULL)
                for (unsigned k = 0; k < g_backoff; k++) cpu_relax();
            else if (rc != RA_OK)
                c->errors++;
        }
    }
}

static void *producer_main(void *arg)
{
    pc_ctx *c = arg;
    pin_self(g_cpu[0]);
    if (c->kind == K_RING_B) {
        producer_batched(c);
        return NULL;
    }
    unsigned char msg[MAXPAY];
    uint32_t len = c->len;
    LAUNDER(len);
    memcpy(msg, g_src[3], len);
    start_line(c);
    c->t0 = bench_now_ns();
    uint64_t next = ticks();
    for (uint64_t i = 0; i < c->n; i++) {
        if (c->latency) {
            while (ticks() < next) {}
        }
        /* the send stamp only where it is used: rdtsc costs 7-8 ns on this VM, as much as a
         * whole publish, and the Disruptor peer stamps nothing in its throughput runs */
        uint64_t stamp = c->latency ? ticks() : 0;
        memcpy(msg, &i, 8);
        memcpy(msg + 8, &stamp, 8);
        if (c->kind == K_LINE) {
            /* release: the reader's acquire load sees the whole stamp (it is the message) */
            atomic_store_explicit(&c->line, stamp, memory_order_release);
        } else if (c->kind == K_CK) {
            void *m = ck_copy(len, i, msg);
            while (!ck_ring_enqueue_spsc(&c->ck.ring, c->ck.buf, m)) cpu_relax();
        } else {
            while (ra_ring_write(c->ring, 1, i, msg, len) != RA_OK)
                for (unsigned k = 0; k < g_backoff; k++) cpu_relax();
        }
        next = stamp + c->pace;
    }
    if (c->kind == K_LINE) {
        /* release: the end mark, after the last stamp */
        atomic_store_explicit(&c->line, UINT64_MAX, memory_order_release);
    }
    return NULL;
}

static inline void consume(pc_ctx *c, const unsigned char *p, uint32_t len)
{
    uint64_t v;
    memcpy(&v, p, 8);
    if (c->latency) {
        uint64_t stamp;
        memcpy(&stamp, p + 8, 8);
        uint64_t now = ticks_after_loads();
        if (c->expect >= c->warm) c->lat[c->nlat++] = now - stamp;
    }
    if (v > c->expect && c->kind == K_RING_OW) { /* overwrite mode: the reader was lapped */
        c->skipped += v - c->expect;
        c->expect = v;
    }
    c->errors += (v != c->expect) | (len != c->len) | (p[len - 1] != g_src[3][len - 1]);
    c->expect++;
}

static void ring_handler(const ra_msg *m, void *ctx)
{
    consume(ctx, m->data, m->len);
}

static void *reader_main(void *arg)
{
    pc_ctx *c = arg;
    pin_self(g_cpu[1]);
    start_line(c);
    const size_t batch = c->latency ? 1 : g_batch;
    if (c->kind == K_LINE) {
        /* A stamp overwritten before it was seen is simply not sampled (never at this pace). */
        uint64_t last = 0, seen = 0;
        for (;;) {
            /* acquire: pairs with the producer's release store */
            uint64_t v = atomic_load_explicit(&c->line, memory_order_acquire);
            if (v == last) continue;
            if (v == UINT64_MAX) break;
            uint64_t now = ticks_after_loads();
            if (seen++ >= c->warm) c->lat[c->nlat++] = now - v;
            last = v;
        }
        c->expect = c->n;
    } else if (c->kind == K_CK) {
        while (c->expect < c->n) {
            void *m;
            if (ck_ring_dequeue_spsc(&c->ck.ring, c->ck.buf, &m)) {
                consume(c, (const unsigned char *)m + HDR, ((const floor_hdr *)m)->len);
                free(m);
            } else if (!c->latency) {
                cpu_relax();
            }
        }
    } else if (c->latency || g_peek) {
        /* peek + advance: a message overwritten while we looked at it (the reader was
         * descheduled for a whole lap) is dropped with whatever was derived from it */
        ra_msg m;
        while (c->expect < c->n) {
            if (ra_reader_peek(&c->rd, &m) != RA_OK) {
                if (!c->latency) cpu_relax();
                continue;
            }
            const uint64_t e = c->expect, er = c->errors, sk = c->skipped, nl = c->nlat;
            consume(c, m.data, m.len);
            if (ra_reader_advance(&c->rd) != RA_OK) {
                c->expect = e;
                c->errors = er;
                c->skipped = sk;
                c->nlat = nl;
            }
        }
    } else {
        while (c->expect < c->n) {
            if (ra_reader_poll(&c->rd, ring_handler, c, batch) == 0) {
                /* empty: let a batch accumulate instead of reading the producer's lines while
                 * it writes them (latency runs poll again at once) */
                unsigned k = c->latency ? 1 : g_rbackoff;
                while (k--) cpu_relax();
            }
        }
    }
    c->t1 = bench_now_ns();
    return NULL;
}

/* One run; returns msgs/s. */
static double pc_run(pc_ctx *c)
{
    pthread_t tp, tr;
    atomic_init(&c->ready, 0);
    c->expect = 0;
    c->errors = 0;
    if (pthread_create(&tr, NULL, reader_main, c) || pthread_create(&tp, NULL, producer_main, c)) {
        fprintf(stderr, "bench_ring: pthread_create failed\n");
        exit(1);
    }
    pthread_join(tp, NULL);
    pthread_join(tr, NULL);
    return (double)c->n / ((double)(c->t1 - c->t0) / 1e9);
}

static pc_ctx *pc_new(void)
{
    pc_ctx *c = aligned_alloc(128, (sizeof(pc_ctx) + 127) & ~(size_t)127);
    if (!c) {
        perror("bench_ring: aligned_alloc");
        exit(1);
    }
    memset(c, 0, sizeof *c);
    return c;
}

/* Sets up ring or ck_ring in c for a run over `cap`; tears down with pc_fini. */
static void pc_init(pc_ctx *c, int kind, size_t cap, void *mem)
{
    c->kind = kind;
    if (kind == K_LINE) {
        atomic_init(&c->line, 0);
        return;
    }
    if (kind == K_CK) {
        ck_peer_init(&c->ck, slots_for(cap, c->len));
        return;
    }
    c->ring = ring_make(mem, cap,
                        RA_RING_PREFAULT |
                            (kind == K_RING || kind == K_RING_B ? RA_RING_BACKPRESSURE : 0));
    if (ra_reader_init(&c->rd, c->ring, RA_START_OLDEST) != RA_OK) {
        fprintf(stderr, "bench_ring: ra_reader_init failed\n");
        exit(1);
    }
}

static void pc_fini(pc_ctx *c, const char *what)
{
    if (c->errors) fail(what, c->errors);
    if (c->kind == K_LINE) return;
    if (c->kind == K_CK) {
        ck_peer_fini(&c->ck);
        return;
    }
    ra_reader_stats rs;
    ra_reader_get_stats(&c->rd, &rs);
    c->laps = rs.laps;
    if (rs.lost != c->skipped || rs.read + rs.lost != c->n) {
        fprintf(stderr, "bench_ring: ERROR: %s: reader read %llu lost %llu of %llu\n", what,
                (unsigned long long)rs.read, (unsigned long long)rs.lost, (unsigned long long)c->n);
        g_failed = 1;
    }
    ra_reader_detach(&c->rd);
    ra_ring_destroy(c->ring);
    c->ring = NULL;
}

enum { S_RING, S_CK, S_RING_B, S_N };
static double g_spsc[NSCAPS][S_N]; /* msgs/s, medians */
static uint64_t g_spsc_full[NSCAPS];

/* ck+malloc runs 10-20x longer than the ring in 1P1C, and varies little: at most 3 runs */
static int g_ck_reps;

static void bench_spsc(void)
{
    g_ck_reps = g_reps < 3 ? g_reps : 3;
    for (int ci = 0; ci < NSCAPS; ci++) {
        if (g_only_cap && g_scaps[ci] != g_only_cap) continue;
        const size_t cap = g_scaps[ci];
        void *mem = region_alloc(ra_ring_footprint(cap));
        double v[S_N][MAXREPS];
        for (int rep = 0; rep < g_reps; rep++) {
            for (int k = 0; k < S_N; k++) {
                if (k == S_CK && rep >= g_ck_reps) continue;
                pc_ctx *c = pc_new();
                c->len = 32;
                c->n = g_spsc_msgs;
                pc_init(c, k == S_RING ? K_RING : k == S_RING_B ? K_RING_B : K_CK, cap, mem);
                v[k][rep] = pc_run(c);
                if (k == S_RING) {
                    ra_ring_stats st;
                    ra_ring_get_stats(c->ring, &st);
                    g_spsc_full[ci] += st.full;
                }
                pc_fini(c, k == S_RING     ? "1P1C ring"
                           : k == S_RING_B ? "1P1C ring batched"
                                           : "1P1C ck_ring");
                free(c);
            }
        }
        g_spsc[ci][S_RING] = bench_median(v[S_RING], g_reps);
        g_spsc[ci][S_CK] = bench_median(v[S_CK], g_ck_reps);
        g_spsc[ci][S_RING_B] = bench_median(v[S_RING_B], g_reps);
        g_spsc_full[ci] /= (uint64_t)g_reps;
        munmap(mem, ra_ring_footprint(cap));
    }
}

enum { L_LINE, L_RING_OW, L_RING_BP, L_CK, L_N };
static const int g_lat_kinds[L_N] = {K_LINE, K_RING_OW, K_RING, K_CK};
static const char *const g_lat_names[L_N] = {"floor: 1 cache line", "ring overwrite",
                                             "ring backpressure", "ck+malloc"};
static double g_lat[NCAPS][L_N][4]; /* p50, p99, p99.9, max in ns */
static uint64_t g_lat_samples[NCAPS][L_N];
static uint64_t g_lat_lost[NCAPS][L_N]; /* not sampled: lapped (ring) or missed (line) */
static double g_tick_cost_ns;

static void bench_latency(void)
{
    const uint64_t per_rep = g_quick ? 20000 : 100000, warm = 10000;
    uint64_t *all = malloc(sizeof *all * per_rep * (uint64_t)g_reps);
    if (!all) exit(1);
    for (int ci = 0; ci < NCAPS; ci++) {
        if (g_only_cap && g_caps[ci] != g_only_cap) continue;
        const size_t cap = g_caps[ci];
        void *mem = region_alloc(ra_ring_footprint(cap));
        for (int k = 0; k < L_N; k++) {
            uint64_t n = 0;
            for (int rep = 0; rep < g_reps; rep++) {
                pc_ctx *c = pc_new();
                c->len = 32;
                c->latency = 1;
                c->n = per_rep + warm;
                c->warm = warm;
                c->pace = (uint64_t)((double)g_pace_ns * g_tsc_per_ns);
                c->lat = all + n;
                pc_init(c, g_lat_kinds[k], cap, mem);
                pc_run(c);
                pc_fini(c, g_lat_names[k]);
                n += c->nlat;
                g_lat_lost[ci][k] += c->kind == K_LINE ? c->n - c->warm - c->nlat : c->skipped;
                free(c);
            }
            g_lat_samples[ci][k] = n;
            if (n == 0) continue;
            qsort(all, n, sizeof *all, bench_cmp_u64);
            const double q[3] = {0.50, 0.99, 0.999};
            for (int j = 0; j < 3; j++)
                g_lat[ci][k][j] = (double)all[(uint64_t)(q[j] * (double)(n - 1))] / g_tsc_per_ns;
            g_lat[ci][k][3] = (double)all[n - 1] / g_tsc_per_ns;
        }
        munmap(mem, ra_ring_footprint(cap));
    }
    free(all);
    /* what one stamp costs: back-to-back reads, median */
    double d[MAXREPS];
    for (int rep = 0; rep < g_reps; rep++) {
        uint64_t a = ticks(), b = ticks_after_loads();
        for (int i = 0; i < 1000; i++) {
            uint64_t x = ticks(), y = ticks_after_loads();
            if (y - x < b - a) a = x, b = y;
        }
        d[rep] = (double)(b - a) / g_tsc_per_ns;
    }
    g_tick_cost_ns = bench_median(d, g_reps);
}

/* ---- report --------------------------------------------------------------------------------- */

static unsigned g_dis_slots[8], g_disb_slots[8];
static double g_dis_rate[8], g_disb_rate[8]; /* one event per publish; 16 (--disruptor-batch) */
static int g_ndis, g_ndisb;
static const char *g_dis_na;

static double rate_for(size_t cap, const unsigned *slots, const double *rate, int n)
{
    unsigned s = slots_for(cap, 32);
    for (int i = 0; i < n; i++)
        if (slots[i] == s) return rate[i];
    return 0;
}

static double disruptor_for(size_t cap)
{
    return rate_for(cap, g_dis_slots, g_dis_rate, g_ndis);
}

static double disruptor_batch_for(size_t cap)
{
    return rate_for(cap, g_disb_slots, g_disb_rate, g_ndisb);
}

static const char *met(int ok)
{
    return ok ? "MET" : "NOT MET";
}

static void report(int did_pub, int did_spsc, int did_lat)
{
    char nb[32];
    if (did_pub) {
        printf("\n== publish only: one thread, no reader, overwrite steady state; ns/msg "
               "(median of %d) ==\n",
               g_reps);
        printf("%-7s %5s %8s %10s %12s %9s %10s %11s %11s %11s %10s %10s\n", "ring", "bytes",
               "floor", "ring.write", "ring.rsv+cmt", "ring.b16", "ck+malloc", "write/floor",
               "rsv+c/floor", "b16/floor", "ck/write", "ck/b16");
        for (int ci = 0; ci < NCAPS; ci++)
            for (int li = 0; li < NLENS; li++) {
                if (g_only_cap && g_caps[ci] != g_only_cap) continue;
                const double *p = g_pub[ci][li];
                printf("%-7s %5u %8.2f %10.2f %12.2f %9.2f %10.2f %10.2fx %10.2fx %10.2fx %9.2fx "
                       "%9.2fx\n",
                       cap_name(g_caps[ci], nb, sizeof nb), g_lens[li], p[P_FLOOR], p[P_WRITE],
                       p[P_RC], p[P_BATCH], p[P_CK], p[P_WRITE] / p[P_FLOOR], p[P_RC] / p[P_FLOOR],
                       p[P_BATCH] / p[P_FLOOR], p[P_CK] / p[P_WRITE], p[P_CK] / p[P_BATCH]);
            }
        printf("(ring.b16: ra_ring_write_batch() of 16 messages, the caller's ra_wmsg set-up "
               "included)\n");
        printf("(other processes used %.0f%% of a CPU meanwhile)\n", g_noise[0]);
        printf("(ck ring slots: records the ring holds, power of two: ");
        for (int ci = 0; ci < NCAPS; ci++)
            for (int li = 0; li < NLENS; li++)
                printf("%s%u", ci || li ? ", " : "", slots_for(g_caps[ci], g_lens[li]));
        printf(")\n");
    }
    if (did_spsc) {
        printf("\n== 1P1C: producer and reader threads (cpus %d,%d), every message delivered "
               "and checked, 32-byte payload, %llu msgs; Mmsgs/s, median of %d runs (ck: %d); "
               "ring reader: %u pauses after an empty poll ==\n",
               g_cpu[0], g_cpu[1], (unsigned long long)g_spsc_msgs, g_reps, g_ck_reps, g_rbackoff);
        printf("%-7s %7s %10s %10s %10s %10s %10s %8s %8s %10s %10s %13s\n", "ring", "slots",
               "ring(bp)", "ring.b16", "ck+malloc", "disruptor", "disr.b16", "ring/ck", "b16/ck",
               "ring/disr", "b16/d.b16", "ring full/run");
        for (int ci = 0; ci < NSCAPS; ci++) {
            if (g_only_cap && g_scaps[ci] != g_only_cap) continue;
            const double *s = g_spsc[ci];
            double d = disruptor_for(g_scaps[ci]);
            double db16 = disruptor_batch_for(g_scaps[ci]);
            char db[32], rb[32], dbb[32], bb[32];
            snprintf(db, sizeof db, "n/a");
            snprintf(rb, sizeof rb, "n/a");
            snprintf(dbb, sizeof dbb, "n/a");
            snprintf(bb, sizeof bb, "n/a");
            if (d > 0) {
                snprintf(db, sizeof db, "%.2f", d / 1e6);
                snprintf(rb, sizeof rb, "%.2fx", s[S_RING] / d);
            }
            if (db16 > 0) {
                snprintf(dbb, sizeof dbb, "%.2f", db16 / 1e6);
                snprintf(bb, sizeof bb, "%.2fx", s[S_RING_B] / db16);
            }
            printf("%-7s %7u %10.2f %10.2f %10.2f %10s %10s %7.2fx %7.2fx %10s %10s %13llu\n",
                   cap_name(g_scaps[ci], nb, sizeof nb), slots_for(g_scaps[ci], 32),
                   s[S_RING] / 1e6, s[S_RING_B] / 1e6, s[S_CK] / 1e6, db, dbb, s[S_RING] / s[S_CK],
                   s[S_RING_B] / s[S_CK], rb, bb, (unsigned long long)g_spsc_full[ci]);
        }
        if (g_dis_na) printf("Disruptor: NOT RUN: %s\n", g_dis_na);
        printf("(ring.b16: the same ring, the producer writing 16 messages per "
               "ra_ring_write_batch(); disr.b16: the Disruptor producer claiming and publishing 16 "
               "events per next(16)/publish(lo, hi))\n");
        printf("(slots: records of 56 bytes the ring holds, power of two; the ck_ring and "
               "Disruptor peers get as many. ring full/run: writes refused per run, retried)\n");
        printf("(other processes used %.0f%% of a CPU meanwhile)\n", g_noise[1]);
    }
    if (did_lat) {
        printf("\n== latency writer->reader, reader spinning, 32-byte payload, one message "
               "every %llu ns; ns, all samples of %d runs ==\n",
               (unsigned long long)g_pace_ns, g_reps);
        printf("%-7s %-20s %8s %8s %8s %10s %9s %6s\n", "ring", "mode", "p50", "p99", "p99.9",
               "max", "samples", "lost");
        for (int ci = 0; ci < NCAPS; ci++)
            for (int k = 0; k < L_N; k++) {
                if (g_only_cap && g_caps[ci] != g_only_cap) continue;
                const double *l = g_lat[ci][k];
                printf("%-7s %-20s %8.0f %8.0f %8.0f %10.0f %9llu %6llu\n",
                       cap_name(g_caps[ci], nb, sizeof nb), g_lat_names[k], l[0], l[1], l[2], l[3],
                       (unsigned long long)g_lat_samples[ci][k],
                       (unsigned long long)g_lat_lost[ci][k]);
            }
        printf("(timestamps: rdtsc at %.3f GHz; one stamp pair costs %.1f ns, included above. "
               "lost: overwritten before the reader got to them (ring) or missed stamps (line): "
               "the reader was descheduled)\n",
               g_tsc_per_ns, g_tick_cost_ns);
        printf("(other processes used %.0f%% of a CPU meanwhile)\n", g_noise[2]);
    }

    printf("\n== goals ==\n");
    for (int ci = 0; ci < NCAPS && did_pub; ci++) {
        if (g_only_cap && g_caps[ci] != g_only_cap) continue;
        const double *p = g_pub[ci][1]; /* 32-byte payloads */
        cap_name(g_caps[ci], nb, sizeof nb);
        printf("publish 32B <= 1.3x memcpy floor   %-7s ring.write %.2fx floor          %s\n", nb,
               p[P_WRITE] / p[P_FLOOR], met(p[P_WRITE] <= 1.3 * p[P_FLOOR]));
        printf("publish 32B >= 2x faster than ck   %-7s ck+malloc/ring.write %.2fx      %s\n", nb,
               p[P_CK] / p[P_WRITE], met(p[P_CK] >= 2 * p[P_WRITE]));
        printf("  batched (ra_ring_write_batch, 16) %-7s ring.b16 %.2fx floor, ck/b16 %.2fx  %s, "
               "%s\n",
               nb, p[P_BATCH] / p[P_FLOOR], p[P_CK] / p[P_BATCH],
               met(p[P_BATCH] <= 1.3 * p[P_FLOOR]), met(p[P_CK] >= 2 * p[P_BATCH]));
    }
    for (int ci = 0; ci < NSCAPS && did_spsc; ci++) {
        if (g_only_cap && g_scaps[ci] != g_only_cap) continue;
        const double *s = g_spsc[ci];
        double d = disruptor_for(g_scaps[ci]);
        cap_name(g_scaps[ci], nb, sizeof nb);
        printf("1P1C >= 10x ck_ring+malloc         %-7s ring/ck %.2fx                   %s\n", nb,
               s[S_RING] / s[S_CK], met(s[S_RING] >= 10 * s[S_CK]));
        if (d > 0)
            printf("1P1C ahead of Disruptor            %-7s ring/disruptor %.2fx            %s\n",
                   nb, s[S_RING] / d,
                   s[S_RING] > 1.05 * d    ? "MET"
                   : s[S_RING] >= 0.95 * d ? "TIE (within 5%: the run-to-run noise)"
                                           : "NOT MET");
        else
            printf("1P1C ahead of Disruptor            %-7s NOT EVALUATED (%s)\n", nb,
                   g_dis_na ? g_dis_na : "no Disruptor result for this slot count");
        double db16 = disruptor_batch_for(g_scaps[ci]);
        printf("  batched (16 per call)            %-7s b16/ck %.2fx %s", nb, s[S_RING_B] / s[S_CK],
               met(s[S_RING_B] >= 10 * s[S_CK]));
        if (db16 > 0)
            printf(", b16/disruptor.b16 %.2fx %s\n", s[S_RING_B] / db16,
                   s[S_RING_B] > 1.05 * db16    ? "MET"
                   : s[S_RING_B] >= 0.95 * db16 ? "TIE (within 5%: the run-to-run noise)"
                                                : "NOT MET");
        else
            printf(", no batched Disruptor result\n");
    }
    for (int ci = 0; ci < NCAPS && did_lat; ci++) {
        if (g_only_cap && g_caps[ci] != g_only_cap) continue;
        cap_name(g_caps[ci], nb, sizeof nb);
        printf("latency p50 <= 100 ns (overwrite)  %-7s p50 %.0f ns                     %s\n", nb,
               g_lat[ci][L_RING_OW][0], met(g_lat[ci][L_RING_OW][0] <= 100));
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_ring [--reps N] [--msgs N] [--quick] [--busy-spin] [--only "
                    "publish|spsc|latency] [--pace-ns N] [--cap KIB] [--batch N] [--peek]\n"
                    "                  [--backoff N] [--rbackoff N]\n"
                    "                  [--disruptor SLOTS:MSGS_PER_S]... [--disruptor-batch "
                    "SLOTS:MSGS_PER_S]...\n"
                    "                  [--disruptor-na REASON]\n"
                    "       bench_ring --print-slots | --print-cpus\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--print-slots")) {
            for (int ci = 0; ci < NSCAPS; ci++) printf("%u\n", slots_for(g_scaps[ci], 32));
            return 0;
        } else if (!strcmp(a, "--print-cpus")) {
            pick_cpus();
            if (g_cpu[1] >= 0) printf("%d,%d\n", g_cpu[0], g_cpu[1]);
            return 0;
        } else if (!strcmp(a, "--cap") && v) {
            g_only_cap = g_caps[0] = g_scaps[0] = (size_t)strtoull(v, NULL, 10) << 10, i++;
        } else if (!strcmp(a, "--backoff") && v) {
            g_backoff = (unsigned)strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--rbackoff") && v) {
            g_rbackoff = (unsigned)strtoul(v, NULL, 10), i++;
        } else if (!strcmp(a, "--peek")) {
            g_peek = 1;
        } else if (!strcmp(a, "--batch") && v) {
            g_batch = strtoull(v, NULL, 10), i++;
        } else if (!strcmp(a, "--busy-spin")) {
            g_busy_spin = 1;
        } else if (!strcmp(a, "--quick")) {
            g_quick = 1;
        } else if (!strcmp(a, "--reps") && v) {
            g_reps = atoi(v), i++;
        } else if (!strcmp(a, "--msgs") && v) {
            g_spsc_msgs = strtoull(v, NULL, 10), i++;
        } else if (!strcmp(a, "--pace-ns") && v) {
            g_pace_ns = strtoull(v, NULL, 10), i++;
        } else if (!strcmp(a, "--only") && v) {
            only = v, i++;
        } else if (!strcmp(a, "--disruptor") && v && g_ndis < 8) {
            unsigned s = 0;
            double rate = 0;
            if (sscanf(v, "%u:%lf", &s, &rate) != 2) usage();
            g_dis_slots[g_ndis] = s;
            g_dis_rate[g_ndis++] = rate;
            i++;
        } else if (!strcmp(a, "--disruptor-batch") && v && g_ndisb < 8) {
            unsigned s = 0;
            double rate = 0;
            if (sscanf(v, "%u:%lf", &s, &rate) != 2) usage();
            g_disb_slots[g_ndisb] = s;
            g_disb_rate[g_ndisb++] = rate;
            i++;
        } else if (!strcmp(a, "--disruptor-na") && v) {
            g_dis_na = v, i++;
        } else {
            usage();
        }
    }
    if (g_reps < 1 || g_reps > MAXREPS || g_spsc_msgs == 0) usage();
    if (g_quick && g_spsc_msgs == 5000000) g_spsc_msgs = 500000;

    for (unsigned i = 0; i < NSRC; i++)
        for (unsigned j = 0; j < MAXPAY; j++) g_src[i][j] = (unsigned char)(i * 131u + j * 7u + 1u);
    pick_cpus();
    calibrate_tsc();
    pin_self(g_cpu[0]);

    char la0[64], la1[64];
    loadavg(la0, sizeof la0);
    printf("ringalloc %s ring benchmark: reps %d (median), cpus %d,%d, tsc %.3f GHz, load %s\n",
           ra_version_string(), g_reps, g_cpu[0], g_cpu[1], g_tsc_per_ns, la0);
    if (g_cpu[1] < 0) printf("WARNING: only one CPU available: threads are not pinned apart\n");
    fflush(stdout);

    int pub = !only || !strcmp(only, "publish");
    int spsc = !only || !strcmp(only, "spsc");
    int lat = !only || !strcmp(only, "latency");
    if (!pub && !spsc && !lat) usage();
    uint64_t t0 = bench_now_ns();
    noise_mark n0 = noise_now(), n1;
    if (pub) bench_publish();
    n1 = noise_now();
    g_noise[0] = noise_pct(n0, n1);
    if (spsc) bench_spsc();
    n0 = noise_now();
    g_noise[1] = noise_pct(n1, n0);
    if (lat) bench_latency();
    n1 = noise_now();
    g_noise[2] = noise_pct(n0, n1);
    report(pub, spsc, lat);
    loadavg(la1, sizeof la1);
    printf("\nload average before %s, after %s; %.1f s\n", la0, la1,
           (double)(bench_now_ns() - t0) / 1e9);
    return g_failed;
}
