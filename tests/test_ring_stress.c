/* test_ring_stress.c - one writer, several readers on variable-length checksummed messages */

/* Every delivered message is verified (its seq written inside the payload, its length, an FNV-1a
 * checksum of the rest); each reader checks that seq strictly increases and, at the end, that
 * read + lost == published. One reader is slow on purpose so that it is lapped. A second test
 * runs the backpressure mode with one reader and checks that nothing at all is lost.
 * RA_STRESS_MSGS overrides the message count (defaults are smaller under sanitizers). */

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ringalloc/ring.h"

#if defined(__SANITIZE_THREAD__)
#define DEFAULT_MSGS 200000u
#elif defined(__SANITIZE_ADDRESS__)
#define DEFAULT_MSGS 300000u
#else
#define DEFAULT_MSGS 3000000u
#endif
#define MAXLEN 600u

static uint64_t n_msgs(void)
{
    const char *e = getenv("RA_STRESS_MSGS");
    return e && *e ? strtoull(e, NULL, 10) : DEFAULT_MSGS;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* payload: u64 seq | u32 checksum of the bytes after it | bytes derived from seq */
static uint32_t make_msg(unsigned char *p, uint64_t seq)
{
    uint32_t len = 12 + (uint32_t)((seq * 2654435761u) % (MAXLEN - 12));
    memcpy(p, &seq, 8);
    for (uint32_t i = 12; i < len; i++) p[i] = (unsigned char)(seq ^ (i * 29u));
    uint32_t sum = fnv1a(p + 12, len - 12);
    memcpy(p + 8, &sum, 4);
    return len;
}

static int verify_msg(const unsigned char *p, uint32_t len, uint64_t seq)
{
    if (len < 12 || len != 12 + (uint32_t)((seq * 2654435761u) % (MAXLEN - 12))) return 0;
    uint64_t s;
    uint32_t sum;
    memcpy(&s, p, 8);
    memcpy(&sum, p + 8, 4);
    return s == seq && sum == fnv1a(p + 12, len - 12);
}

enum mode { M_READ, M_SLOW, M_PEEK, M_POLL };

typedef struct reader_arg {
    ra_ring *ring;
    atomic_int *done;
    pthread_barrier_t *start; /* every reader attaches before the first publish */
    enum mode mode;
    uint64_t read, lost, laps, bad, order, delivered;
    uint64_t last_seq;
    int have_last;
} reader_arg;

typedef struct poll_batch {
    uint64_t seq[64];
    int ok[64];
    int n;
} poll_batch;

static void on_poll(const ra_msg *m, void *ctx)
{
    poll_batch *b = ctx;
    unsigned char buf[MAXLEN];
    ra_msg_copy(buf, m); /* the audited racy copy; judged only if the poll says it was intact */
    b->seq[b->n] = m->seq;
    b->ok[b->n] = m->len <= MAXLEN && verify_msg(buf, m->len, m->seq);
    b->n++;
}

static void account(reader_arg *a, uint64_t seq, int ok)
{
    if (!ok) a->bad++;
    if (a->have_last && seq <= a->last_seq) a->order++;
    a->last_seq = seq;
    a->have_last = 1;
    a->delivered++;
}

static void spin_ns(long ns)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < ns);
}

static void *reader_main(void *vp)
{
    reader_arg *a = vp;
    ra_reader rd;
    int rc0 = ra_reader_init(&rd, a->ring, RA_START_OLDEST);
    pthread_barrier_wait(a->start);
    if (rc0 != RA_OK) {
        a->bad++;
        return NULL;
    }
    unsigned char buf[MAXLEN];
    for (;;) {
        /* acquire: after the producer's last commit, one more drain sees everything */
        int finished = atomic_load_explicit(a->done, memory_order_acquire);
        int rc;
        ra_msg m;
        switch (a->mode) {
        case M_READ:
        case M_SLOW:
            rc = ra_reader_read(&rd, buf, sizeof buf, &m);
            if (rc == RA_OK) {
                account(a, m.seq, verify_msg(buf, m.len, m.seq));
                if (a->mode == M_SLOW && (m.seq & 63) == 0) spin_ns(20000);
            }
            break;
        case M_PEEK:
            rc = ra_reader_peek(&rd, &m);
            if (rc == RA_OK) {
                uint64_t seq = m.seq;
                uint32_t len = m.len;
                ra_msg_copy(buf, &m);
                rc = ra_reader_advance(&rd);
                if (rc == RA_OK) account(a, seq, verify_msg(buf, len, seq));
            }
            break;
        default: {
            poll_batch b = {.n = 0};
            ra_reader_stats before;
            ra_reader_get_stats(&rd, &before);
            size_t n = ra_reader_poll(&rd, on_poll, &b, 64);
            for (size_t i = 0; i < n; i++) account(a, b.seq[i], b.ok[i]);
            ra_reader_stats after;
            ra_reader_get_stats(&rd, &after);
            rc = after.laps != before.laps ? RA_LAPPED : (n ? RA_OK : RA_EMPTY);
            break;
        }
        }
        if (rc == RA_EMPTY && finished) break;
        if (rc != RA_OK && rc != RA_EMPTY && rc != RA_LAPPED) {
            a->bad++;
            break;
        }
    }
    ra_reader_stats s;
    ra_reader_get_stats(&rd, &s);
    a->read = s.read;
    a->lost = s.lost;
    a->laps = s.laps;
    ra_reader_detach(&rd);
    return NULL;
}

/* The batch producer: runs of 1..BATCH_MAX consecutive messages through ra_ring_write_batch(),
 * resumed after a refusal where it stopped. @return the times it was refused. */
#define BATCH_MAX 40u
static uint64_t write_batches(ra_ring *r, uint64_t n)
{
    static unsigned char bufs[BATCH_MAX][MAXLEN];
    ra_wmsg w[BATCH_MAX];
    uint64_t refused = 0;
    for (uint64_t seq = 0; seq < n;) {
        uint64_t k = 1 + (seq * 7) % BATCH_MAX;
        if (k > n - seq) k = n - seq;
        for (uint64_t t = 0; t < k; t++) {
            uint32_t len = make_msg(bufs[t], seq + t);
            w[t] = (ra_wmsg){
                .data = bufs[t], .len = len, .type = (uint16_t)(seq + t), .ts_ns = seq + t};
        }
        size_t off = 0;
        while (off < k) {
            size_t wr = 0;
            int rc = ra_ring_write_batch(r, w + off, (size_t)k - off, NULL, 0, &wr);
            off += wr;
            if (rc == RA_EFULL) {
                refused++;
                sched_yield();
            } else {
                assert_int_equal(rc, RA_OK);
                assert_int_equal(off, k);
            }
        }
        seq += k;
    }
    return refused;
}

static void run(uint32_t flags, const enum mode *modes, int nreaders, size_t capacity, int batch)
{
    ra_ring_config cfg = {.capacity = capacity, .flags = flags};
    ra_ring *r;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    atomic_int done;
    atomic_init(&done, 0);
    reader_arg args[8];
    pthread_t th[8];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)nreaders + 1);
    for (int i = 0; i < nreaders; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].ring = r;
        args[i].done = &done;
        args[i].start = &start;
        args[i].mode = modes[i];
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    }
    pthread_barrier_wait(&start);
    uint64_t n = n_msgs(), refused = 0;
    unsigned char msg[MAXLEN];
    if (batch) refused = write_batches(r, n);
    for (uint64_t seq = 0; seq < n && !batch; seq++) {
        uint32_t len = make_msg(msg, seq);
        if (seq % 3 == 0) { /* exercise both producer paths */
            for (;;) {
                unsigned char *p = ra_ring_reserve(r, MAXLEN);
                if (p) {
                    memcpy(p, msg, len);
                    assert_int_equal(ra_ring_commit(r, len, (uint16_t)seq, seq), seq);
                    break;
                }
                refused++;
                sched_yield(); /* the reader needs the core more than we do */
            }
        } else {
            while (ra_ring_write(r, (uint16_t)seq, seq, msg, len) == RA_EFULL) {
                refused++;
                sched_yield();
            }
        }
    }
    /* release: readers that see done also see every commit */
    atomic_store_explicit(&done, 1, memory_order_release);
    for (int i = 0; i < nreaders; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.published, n);
    if (!(flags & RA_RING_BACKPRESSURE)) assert_int_equal(s.overwritten, s.oldest_seq);
    for (int i = 0; i < nreaders; i++) {
        reader_arg *a = &args[i];
        printf("reader %d (mode %d): read %llu lost %llu laps %llu bad %llu order %llu\n", i,
               (int)a->mode, (unsigned long long)a->read, (unsigned long long)a->lost,
               (unsigned long long)a->laps, (unsigned long long)a->bad,
               (unsigned long long)a->order);
        assert_int_equal(a->bad, 0);
        assert_int_equal(a->order, 0);
        assert_int_equal(a->delivered, a->read);
        assert_int_equal(a->read + a->lost, n);
        if (flags & RA_RING_BACKPRESSURE) {
            assert_int_equal(a->lost, 0);
            assert_int_equal(a->read, n);
        }
    }
    printf("published %llu, overwritten %llu, producer refused %llu times\n",
           (unsigned long long)s.published, (unsigned long long)s.overwritten,
           (unsigned long long)refused);
    ra_ring_destroy(r);
}

static void test_overwrite_stress(void **state)
{
    (void)state;
    const enum mode modes[] = {M_READ, M_SLOW, M_PEEK, M_POLL};
    run(0, modes, 4, 1u << 16, 0);
}

static void test_backpressure_stress(void **state)
{
    (void)state;
    const enum mode modes[] = {M_READ};
    run(RA_RING_BACKPRESSURE, modes, 1, 1u << 14, 0);
}

static void test_backpressure_poll_stress(void **state)
{
    (void)state;
    const enum mode modes[] = {M_POLL};
    run(RA_RING_BACKPRESSURE, modes, 1, 1u << 14, 0);
}

/* The same with the producer writing batches (ra_ring_write_batch) */
static void test_overwrite_batch_stress(void **state)
{
    (void)state;
    const enum mode modes[] = {M_READ, M_SLOW, M_PEEK, M_POLL};
    run(0, modes, 4, 1u << 16, 1);
}

static void test_backpressure_batch_stress(void **state)
{
    (void)state;
    const enum mode modes[] = {M_POLL};
    run(RA_RING_BACKPRESSURE, modes, 1, 1u << 14, 1);
}

/* ---- reader statistics from another thread ---------------------------------------------------
 * A monitoring thread reads a reader's counters (ra_reader_get_stats, ra_reader_lag) while the
 * reader runs. Under TSan this checks that the counters' accesses are race-free; everywhere it
 * checks that each counter only grows (the reader resumes at the oldest record, so lost is
 * monotonic) and that the last snapshot equals what the reader's own thread sees. */

typedef struct watch {
    const ra_reader *rd;
    atomic_int stop;
    _Atomic uint64_t samples;
    int bad;
    ra_reader_stats last;
} watch;

static void *watcher(void *arg)
{
    watch *w = arg;
    ra_reader_stats prev = {0, 0, 0}, s;
    for (;;) {
        int stop = atomic_load(&w->stop); /* read before the sample: the last one is after stop */
        ra_reader_get_stats(w->rd, &s);
        (void)ra_reader_lag(w->rd);
        if (s.read < prev.read || s.lost < prev.lost || s.laps < prev.laps) w->bad++;
        prev = s;
        atomic_fetch_add(&w->samples, 1);
        if (stop) break;
    }
    w->last = prev;
    return NULL;
}

static void stats_on_msg(const ra_msg *m, void *ctx)
{
    uint64_t *next = ctx;
    if (m->seq >= *next) *next = m->seq + 1;
}

static void test_reader_stats_from_another_thread(void **state)
{
    (void)state;
    ra_ring_config cfg = {.capacity = 1u << 14};
    ra_ring *r = NULL;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, r, RA_START_OLDEST), RA_OK);
    watch w = {.rd = &rd};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, watcher, &w), 0);
    unsigned char buf[MAXLEN];
    uint64_t seq = 0, next = 0;
    const uint64_t n = n_msgs() / 10;
    for (uint64_t i = 0; seq < n || atomic_load(&w.samples) < 2; i++) {
        /* the producer outruns the reader (3 to 1), so it laps; every way of reading runs */
        for (int k = 0; k < 3; k++, seq++) {
            uint32_t len = make_msg(buf, seq);
            assert_int_equal(ra_ring_write(r, 1, seq, buf, len), RA_OK);
        }
        ra_msg m;
        if (i % 3 == 0) {
            (void)ra_reader_read(&rd, buf, sizeof buf, &m);
        } else if (i % 3 == 1) {
            (void)ra_reader_poll(&rd, stats_on_msg, &next, 2);
        } else if (ra_reader_peek(&rd, &m) == RA_OK) {
            (void)ra_reader_advance(&rd);
        }
    }
    atomic_store(&w.stop, 1);
    pthread_join(t, NULL);
    ra_reader_stats own;
    ra_reader_get_stats(&rd, &own);
    assert_int_equal(w.bad, 0);
    assert_true(own.laps > 0);
    assert_int_equal(w.last.read, own.read);
    assert_int_equal(w.last.lost, own.lost);
    assert_int_equal(w.last.laps, own.laps);
    assert_int_equal(own.read + own.lost, rd.expect_seq - rd.start_seq);
    assert_int_equal(ra_reader_lag(&rd), seq - rd.expect_seq);
    ra_ring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overwrite_stress),
        cmocka_unit_test(test_backpressure_stress),
        cmocka_unit_test(test_backpressure_poll_stress),
        cmocka_unit_test(test_overwrite_batch_stress),
        cmocka_unit_test(test_backpressure_batch_stress),
        cmocka_unit_test(test_reader_stats_from_another_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
