/* test_ring_shm_stress.c - a shared ring between processes: one writer, four readers, checksums */

/* One writer process publishes checksummed messages of varying length into a shared ring (write,
 * write_batch and reserve/commit mixed) and closes it; four reader processes attach by name and
 * read until RA_CLOSED, each its own way: read, poll, peek/advance, and a slow one that sleeps
 * now and then (so it is lapped). Readers wait with ra_reader_wait when the ring is empty; two
 * register in the registry. Each reader reports its counts to the parent through a pipe: every
 * reader must end with read + lost == published exactly and no message failing its checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringalloc/ringalloc.h"
#include "support/testutil.h"

#define CAP     (64u * 1024u)
#define NREAD   4
#define MAX_LEN 300u

static char g_name[64];

typedef struct result {
    uint64_t read, lost, laps, bad, published;
    int end; /* the status that ended the reader */
} result;

/* the payload of message seq: its length, then bytes from seq, then a checksum of them */
static uint32_t msg_len(uint64_t seq)
{
    return 12u + (uint32_t)((seq * 2654435761u) % (MAX_LEN - 12u));
}

static uint32_t fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void make_msg(unsigned char *p, uint64_t seq)
{
    uint32_t len = msg_len(seq);
    memcpy(p, &seq, 8);
    for (uint32_t i = 8; i < len - 4; i++) p[i] = (unsigned char)(seq ^ (i * 29u));
    uint32_t h = fnv(p, len - 4);
    memcpy(p + len - 4, &h, 4);
}

static bool msg_ok(const ra_msg *m, const unsigned char *p)
{
    uint64_t seq;
    uint32_t h;
    if (m->len != msg_len(m->seq) || m->type != (uint16_t)m->seq) return false;
    memcpy(&seq, p, 8);
    memcpy(&h, p + m->len - 4, 4);
    return seq == m->seq && h == fnv(p, m->len - 4);
}

/* ---- the writer ------------------------------------------------------------------------------ */

static void writer(uint64_t n, int ready_fd)
{
    ra_ring_config cfg = {.capacity = CAP};
    ra_ring *w;
    if (ra_ring_create_shm(&w, g_name, &cfg, NULL) != RA_OK) _exit(2);
    char c;
    for (int i = 0; i < NREAD; i++) /* every reader attached */
        if (read(ready_fd, &c, 1) != 1) _exit(3);
    unsigned char buf[8][MAX_LEN];
    for (uint64_t seq = 0; seq < n;) {
        unsigned kind = (unsigned)(seq % 13);
        if (kind < 9 || n - seq < 8) {
            make_msg(buf[0], seq);
            if (ra_ring_write(w, (uint16_t)seq, seq, buf[0], msg_len(seq)) != RA_OK) _exit(4);
            seq++;
        } else if (kind < 11) {
            ra_wmsg m[8];
            for (int k = 0; k < 8; k++) {
                make_msg(buf[k], seq + (uint64_t)k);
                m[k] = (ra_wmsg){buf[k], msg_len(seq + (uint64_t)k), (uint16_t)(seq + (uint64_t)k),
                                 seq + (uint64_t)k};
            }
            if (ra_ring_write_batch(w, m, 8, NULL, 0, NULL) != RA_OK) _exit(5);
            seq += 8;
        } else {
            unsigned char *p = ra_ring_reserve(w, MAX_LEN);
            if (!p) _exit(6);
            make_msg(p, seq);
            if (ra_ring_commit(w, msg_len(seq), (uint16_t)seq, seq) != seq) _exit(7);
            seq++;
        }
        if (seq % 4096 < 8) sched_yield(); /* let the readers in on two cores */
    }
    ra_ring_close(w);
    ra_ring_destroy(w);
    _exit(0);
}

/* ---- the readers ----------------------------------------------------------------------------- */

/* poll's handler: a message's verdict counts once the next one is handed (poll validated it
 * after the handler returned) or the poll ends without a lap */
typedef struct rctx {
    result *res;
    bool pending; /* the last message handed failed its checks */
} rctx;

static void on_msg(const ra_msg *m, void *ctx)
{
    unsigned char copy[MAX_LEN];
    rctx *c = ctx;
    if (c->pending) c->res->bad++;
    c->pending = m->len > MAX_LEN;
    if (c->pending) return;
    ra_msg_copy(copy, m);
    c->pending = !msg_ok(m, copy);
}

/* One step of reader `kind`. @return the status that ends reading, or 0 to go on. */
static int reader_step(int kind, ra_reader *rd, result *res, uint64_t *n)
{
    unsigned char buf[MAX_LEN];
    ra_msg m;
    int rc;
    if (kind == 1) { /* poll: a message found torn after the handler ends the batch as a lap */
        rctx c = {res, false};
        ra_reader_poll_ex(rd, on_msg, &c, 64, &rc);
        if (c.pending && rc != RA_LAPPED) res->bad++; /* after a lap it may have been torn */
        if (rc == RA_OK || rc == RA_LAPPED) return 0;
    } else if (kind == 2) {
        rc = ra_reader_peek(rd, &m);
        if (rc == RA_OK) {
            ra_msg_copy(buf, &m);
            bool ok = m.len <= MAX_LEN && msg_ok(&m, buf);
            if (ra_reader_advance(rd) == RA_OK && !ok) res->bad++;
            return 0;
        }
    } else {
        rc = ra_reader_read(rd, buf, sizeof buf, &m);
        if (rc == RA_OK) {
            if (!msg_ok(&m, buf)) res->bad++;
            if (kind == 3 && ++*n % 512 == 0) {
                struct timespec ts = {0, 2000000}; /* the slow reader */
                nanosleep(&ts, NULL);
            }
            return 0;
        }
    }
    if (rc == RA_LAPPED) return 0;
    if (rc != RA_EMPTY) return rc;
    rc = ra_reader_wait(rd, -1);
    return rc == RA_OK ? 0 : rc;
}

static void reader(int kind, int ready_fd, int out_fd)
{
    ra_ring *a = NULL;
    for (int i = 0; i < 10000 && ra_ring_attach(&a, g_name, 0) != RA_OK; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (!a) _exit(2);
    ra_reader rd;
    if (ra_reader_init(&rd, a, RA_START_OLDEST) != RA_OK) _exit(3);
    if (kind >= 2 && ra_reader_register(&rd) != RA_OK) _exit(4);
    if (write(ready_fd, "r", 1) != 1) _exit(5);
    result res = {0};
    uint64_t n = 0;
    int end;
    while ((end = reader_step(kind, &rd, &res, &n)) == 0) {}
    ra_reader_stats st;
    ra_reader_get_stats(&rd, &st);
    ra_ring_stats rs;
    ra_ring_get_stats(a, &rs);
    res.read = st.read;
    res.lost = st.lost;
    res.laps = st.laps;
    res.published = rs.published;
    res.end = end;
    ra_reader_detach(&rd);
    ra_ring_destroy(a);
    if (write(out_fd, &res, sizeof res) != (ssize_t)sizeof res) _exit(6);
    _exit(0);
}

static void test_processes(void **state)
{
    (void)state;
    snprintf(g_name, sizeof g_name, "ratest-%ld-stress", (long)getpid());
    const uint64_t n = 400000 / scale();
    int ready[2], out[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(out), 0);
    pid_t w = fork();
    assert_true(w >= 0);
    if (w == 0) writer(n, ready[0]);
    pid_t rp[NREAD];
    for (int k = 0; k < NREAD; k++) {
        rp[k] = fork();
        assert_true(rp[k] >= 0);
        if (rp[k] == 0) reader(k, ready[1], out[1]);
    }
    int st;
    assert_int_equal(waitpid(w, &st, 0), w);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    uint64_t laps = 0;
    for (int k = 0; k < NREAD; k++) {
        assert_int_equal(waitpid(rp[k], &st, 0), rp[k]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        result r;
        assert_int_equal(read(out[0], &r, sizeof r), (ssize_t)sizeof r);
        assert_int_equal(r.end, RA_CLOSED);
        assert_int_equal(r.published, n);
        assert_int_equal(r.read + r.lost, n);
        assert_int_equal(r.bad, 0);
        laps += r.laps;
    }
    fprintf(stderr, "shm stress: %llu messages, %d readers, %llu laps in all\n",
            (unsigned long long)n, NREAD, (unsigned long long)laps);
    assert_int_equal(ra_ring_unlink(g_name), RA_OK);
    close(ready[0]);
    close(ready[1]);
    close(out[0]);
    close(out[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
