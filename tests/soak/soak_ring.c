/* soak_ring.c - long run of the tick ring: one producer, readers of different speeds (make soak)
 *
 * usage: soak_ring SECONDS [DELAYS_NS] [CAPACITY]
 *   DELAYS_NS  comma-separated simulated work per message, one reader each (default
 *              0,200,2000,50000: a reader that keeps up, two that fall behind at times, one that
 *              is lapped all the time); CAPACITY: ring bytes (default 1 MiB)
 *
 * The producer writes checksummed messages of 12..600 bytes (its seq inside, an FNV-1a sum of the
 * rest) as fast as it can, alternating write and reserve/commit with a shrink; every reader
 * copies each message out, verifies length, seq and checksum, and checks that seq strictly
 * increases. Every second the main thread samples the ring and reader stats and the process
 * VmRSS. At the end the producer stops, the readers drain, and the run passes when, for every
 * reader, read + lost == published and its own count of delivered plus skipped seqs agrees, no
 * message was corrupt or out of order, and RSS did not grow after warm-up (the largest sample of
 * the second half is within 1 MiB of the largest of the first half). Prints one verdict line
 * (and exits 0 on PASS, 1 on FAIL).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringalloc/ringalloc.h"

#define MAXLEN   600u
#define MAXREAD  16
#define MAXSAMPL 100000

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t msg_len(uint64_t seq)
{
    return 12 + (uint32_t)((seq * 2654435761u) % (MAXLEN - 12));
}

static void make_msg(unsigned char *p, uint64_t seq, uint32_t len)
{
    memcpy(p, &seq, 8);
    for (uint32_t i = 12; i < len; i++) p[i] = (unsigned char)(seq ^ (i * 29u));
    uint32_t sum = fnv1a(p + 12, len - 12);
    memcpy(p + 8, &sum, 4);
}

static int msg_ok(const unsigned char *p, uint32_t len, uint64_t seq)
{
    uint64_t s;
    uint32_t sum;
    if (len != msg_len(seq)) return 0;
    memcpy(&s, p, 8);
    memcpy(&sum, p + 8, 4);
    return s == seq && sum == fnv1a(p + 12, len - 12);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void work_ns(uint64_t ns)
{
    if (ns == 0) return;
    if (ns >= 50000) {
        struct timespec t = {.tv_sec = 0, .tv_nsec = (long)ns};
        nanosleep(&t, NULL);
        return;
    }
    uint64_t t0 = now_ns();
    while (now_ns() - t0 < ns) {}
}

static long vm_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

typedef struct reader {
    pthread_t th;
    ra_ring *ring;
    uint64_t delay_ns;
    ra_reader rd;
    /* written by the reader thread, read by main after join (and as rough progress before:
       relaxed atomics, no ordering needed for a progress line) */
    _Atomic uint64_t delivered, corrupt, disorder, skipped;
    uint64_t last;
    int have_last;
} reader;

static atomic_int stop_readers; /* release by main after the producer's last commit */

static void *reader_main(void *vp)
{
    reader *r = vp;
    unsigned char buf[MAXLEN];
    for (;;) {
        /* acquire: once set, everything the producer committed is visible to one more drain */
        int finished = atomic_load_explicit(&stop_readers, memory_order_acquire);
        ra_msg m;
        int rc = ra_reader_read(&r->rd, buf, sizeof buf, &m);
        if (rc == RA_OK) {
            if (!msg_ok(buf, m.len, m.seq))
                atomic_fetch_add_explicit(&r->corrupt, 1, memory_order_relaxed);
            if (r->have_last && m.seq <= r->last)
                atomic_fetch_add_explicit(&r->disorder, 1, memory_order_relaxed);
            if (r->have_last && m.seq > r->last + 1)
                atomic_fetch_add_explicit(&r->skipped, m.seq - r->last - 1, memory_order_relaxed);
            if (!r->have_last && m.seq > r->rd.start_seq)
                atomic_fetch_add_explicit(&r->skipped, m.seq - r->rd.start_seq,
                                          memory_order_relaxed);
            r->last = m.seq;
            r->have_last = 1;
            atomic_fetch_add_explicit(&r->delivered, 1, memory_order_relaxed);
            work_ns(r->delay_ns);
        } else if (rc == RA_EMPTY) {
            if (finished) break;
            sched_yield();
        } else if (rc != RA_LAPPED) {
            atomic_fetch_add_explicit(&r->corrupt, 1, memory_order_relaxed);
            break;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 60;
    const char *delays = argc > 2 ? argv[2] : "0,200,2000,50000";
    size_t cap = argc > 3 ? (size_t)strtoull(argv[3], NULL, 0) : (size_t)1 << 20;
    ra_ring_config cfg = {.capacity = cap};
    ra_ring *ring;
    if (ra_ring_create(&ring, &cfg) != RA_OK) {
        fprintf(stderr, "soak_ring: cannot create a ring of %zu bytes\n", cap);
        return 2;
    }
    static reader rs[MAXREAD];
    int n = 0;
    for (const char *p = delays; *p && n < MAXREAD; n++) {
        char *end;
        rs[n].delay_ns = strtoull(p, &end, 10);
        rs[n].ring = ring;
        if (ra_reader_init(&rs[n].rd, ring, RA_START_OLDEST) != RA_OK) return 2;
        p = *end == ',' ? end + 1 : end;
    }
    for (int i = 0; i < n; i++) pthread_create(&rs[i].th, NULL, reader_main, &rs[i]);

    static long rss[MAXSAMPL];
    size_t nrss = 0;
    unsigned char msg[MAXLEN];
    uint64_t t0 = now_ns(), next_sample = t0, end = t0 + (uint64_t)(secs * 1e9), seq = 0;
    for (;; seq++) {
        uint32_t len = msg_len(seq);
        if (seq & 1) {
            make_msg(msg, seq, len);
            if (ra_ring_write(ring, (uint16_t)(seq & 0xFF), seq, msg, len) != RA_OK) break;
        } else {
            unsigned char *p = ra_ring_reserve(ring, MAXLEN);
            if (p == NULL) break;
            make_msg(p, seq, len);
            ra_ring_commit(ring, len, (uint16_t)(seq & 0xFF), seq);
        }
        if ((seq & 4095) == 0) {
            uint64_t t = now_ns();
            if (t >= next_sample) {
                if (nrss < MAXSAMPL) rss[nrss++] = vm_rss_kb();
                if ((nrss % 30) == 0) {
                    fprintf(stderr, "soak_ring: %4.0f s, %llu published", (t - t0) / 1e9,
                            (unsigned long long)seq);
                    for (int i = 0; i < n; i++)
                        fprintf(stderr, ", r%d %llu read", i,
                                (unsigned long long)atomic_load_explicit(&rs[i].delivered,
                                                                         memory_order_relaxed));
                    fprintf(stderr, ", RSS %ld kB\n", rss[nrss - 1]);
                }
                next_sample += 1000000000u;
            }
            if (t >= end) {
                seq++;
                break;
            }
        }
    }
    /* release: the readers' acquire load then sees every commit before it */
    atomic_store_explicit(&stop_readers, 1, memory_order_release);
    for (int i = 0; i < n; i++) pthread_join(rs[i].th, NULL);
    double elapsed = (now_ns() - t0) / 1e9;

    ra_ring_stats st;
    ra_ring_get_stats(ring, &st);
    int ok = st.published == seq;
    char detail[2048];
    size_t dl = 0;
    uint64_t corrupt = 0, disorder = 0;
    for (int i = 0; i < n; i++) {
        ra_reader_stats s;
        ra_reader_get_stats(&rs[i].rd, &s);
        uint64_t d = rs[i].delivered, sk = rs[i].skipped;
        int rok = s.read + s.lost == st.published && d == s.read && d + sk == st.published;
        ok = ok && rok;
        corrupt += rs[i].corrupt;
        disorder += rs[i].disorder;
        dl += (size_t)snprintf(
            detail + dl, sizeof detail - dl, "%sr%d(%lluns) read %llu lost %llu laps %llu%s",
            i ? ", " : "", i, (unsigned long long)rs[i].delay_ns, (unsigned long long)s.read,
            (unsigned long long)s.lost, (unsigned long long)s.laps, rok ? "" : " MISMATCH");
        if (dl >= sizeof detail) dl = sizeof detail - 1;
    }
    ok = ok && corrupt == 0 && disorder == 0;
    /* RSS after warm-up: the peak of the second half against the peak of the first */
    long first = 0, second = 0;
    for (size_t i = 0; i < nrss; i++) {
        if (i < nrss / 2)
            first = rss[i] > first ? rss[i] : first;
        else
            second = rss[i] > second ? rss[i] : second;
    }
    int flat = nrss < 4 || second <= first + 1024;
    ok = ok && flat;
    printf("soak_ring: %llu published, %llu overwritten; %s\n", (unsigned long long)st.published,
           (unsigned long long)st.overwritten, detail);
    printf(
        "soak_ring: %s %.0f s, %.1fM published, %d readers (%s ns): read + lost == published %s, "
        "%llu corrupt, %llu out of order; RSS %ld -> %ld kB (%s)\n",
        ok ? "PASS" : "FAIL", elapsed, st.published / 1e6, n, delays,
        dl && strstr(detail, "MISMATCH") ? "NOT for all" : "for all", (unsigned long long)corrupt,
        (unsigned long long)disorder, first, second, flat ? "flat" : "GREW");
    ra_ring_destroy(ring);
    return ok ? 0 : 1;
}
