/* fuzz_ring.c - differential fuzzing of the tick ring against a model of its contract */

/* The input is a program: each byte pair picks an operation (write, reserve+commit with shrink,
 * read / peek / advance / poll on one of three readers, change of resume policy or slack, reader
 * re-init)
 * and its argument (a batch write too). A model tracks the intact records with the documented
 * layout rules (24-byte header, 8-byte records, no wrap: padding or implicit skip, retire oldest
 * until the new record fits, intent = high-water mark of reservations), and every ring answer must
 * match it: stats, each delivered message (seq, type, length, payload bytes) and each lap's exact
 * loss. Any mismatch aborts. Single-threaded: concurrency is covered by tests/test_ring_stress.c.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/ring.h"

#define CAP  4096u
#define NRD  3
#define QMAX 1024

typedef struct mrec {
    uint64_t pos, seq;
    uint32_t size, len;
} mrec;

typedef struct model {
    mrec q[QMAX];
    size_t qh, qn;
    uint64_t tail, next, overwritten, intent;
} model;

typedef struct mreader {
    uint64_t expect;
    uint64_t slack; /* ra_reader_set_resume_slack */
    int resume_newest;
    int peeked; /* 1 when a peek is outstanding */
    uint64_t peek_seq;
} mreader;

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_ring: %s:%d: %s\n", __FILE__, __LINE__, #c);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static unsigned char byte_of(uint64_t seq, uint32_t i)
{
    return (unsigned char)(seq * 151u + i * 13u + 5u);
}

static const mrec *find(const model *m, uint64_t seq)
{
    if (!m->qn) return NULL;
    uint64_t first = m->q[m->qh].seq;
    if (seq < first || seq >= first + m->qn) return NULL;
    return &m->q[(m->qh + (seq - first)) % QMAX];
}

static uint64_t oldest(const model *m)
{
    return m->qn ? m->q[m->qh].seq : m->next;
}

/* the model of reserve: where the record goes, and what it retires */
static uint64_t model_reserve(model *m, uint32_t max_len)
{
    uint32_t size = (24u + max_len + 7u) & ~7u;
    uint64_t to_end = CAP - (m->tail % CAP);
    uint64_t pos = size <= to_end ? m->tail : m->tail + to_end;
    while (m->qn && pos + size - m->q[m->qh].pos > CAP) {
        m->qh = (m->qh + 1) % QMAX;
        m->qn--;
        m->overwritten++;
    }
    if (pos + size > m->intent) m->intent = pos + size;
    return pos;
}

static void model_commit(model *m, uint64_t pos, uint32_t len)
{
    REQUIRE(m->qn < QMAX);
    uint32_t size = (24u + len + 7u) & ~7u;
    m->q[(m->qh + m->qn) % QMAX] = (mrec){pos, m->next, size, len};
    m->qn++;
    m->tail = pos + size;
    m->next++;
}

static void check_stats(const ra_ring *r, const model *m)
{
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    REQUIRE(s.published == m->next);
    REQUIRE(s.next_seq == m->next);
    REQUIRE(s.overwritten == m->overwritten);
    REQUIRE(s.oldest_seq == oldest(m));
    REQUIRE(s.used_bytes == (m->qn ? m->tail - m->q[m->qh].pos : 0));
}

/* where a reader resuming at the oldest record with `slack` bytes lands: the first record at
 * least slack bytes past the oldest, or the newest when none is */
static uint64_t slack_land(const model *m, uint64_t slack)
{
    const mrec *first = &m->q[m->qh];
    for (size_t i = 0; i + 1 < m->qn; i++) {
        const mrec *rec = &m->q[(m->qh + i) % QMAX];
        if (rec->pos - first->pos >= slack) return rec->seq;
    }
    return m->next - 1;
}

/* a lapped reader must land on the model's oldest (or newest, or slack) message and lose exactly
 * the gap */
static void check_lap(const ra_reader *rd, mreader *mr, const model *m, uint64_t lost0)
{
    uint64_t land = mr->resume_newest ? m->next - 1 : slack_land(m, mr->slack);
    REQUIRE(mr->expect < oldest(m));
    REQUIRE(rd->expect_seq == land);
    REQUIRE(rd->lost - lost0 == land - mr->expect);
    mr->expect = land;
    mr->peeked = 0;
}

static void check_msg(const ra_msg *msg, const void *data, mreader *mr, const model *m)
{
    const mrec *rec = find(m, mr->expect);
    REQUIRE(rec != NULL);
    REQUIRE(msg->seq == mr->expect);
    REQUIRE(msg->len == rec->len);
    REQUIRE(msg->type == (uint16_t)(msg->seq * 3));
    REQUIRE(msg->ts_ns == msg->seq + 1000);
    const unsigned char *p = data;
    for (uint32_t i = 0; i < msg->len; i++) REQUIRE(p[i] == byte_of(msg->seq, i));
}

typedef struct poll_ctx {
    mreader *mr;
    const model *m;
    int n;
} poll_ctx;

static void on_poll(const ra_msg *msg, void *vp)
{
    poll_ctx *c = vp;
    check_msg(msg, msg->data, c->mr, c->m);
    c->mr->expect++;
    c->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ra_ring_config cfg = {.capacity = CAP};
    ra_ring *r;
    REQUIRE(ra_ring_create(&r, &cfg) == RA_OK);
    uint32_t max = ra_ring_max_msg(r);
    static model m;
    memset(&m, 0, sizeof m);
    ra_reader rd[NRD];
    mreader mr[NRD];
    memset(mr, 0, sizeof mr);
    for (int i = 0; i < NRD; i++) REQUIRE(ra_reader_init(&rd[i], r, RA_START_OLDEST) == RA_OK);
    unsigned char buf[CAP];

    for (size_t k = 0; k + 1 < size; k += 2) {
        uint8_t op = data[k], arg = data[k + 1];
        int who = op % NRD;
        ra_reader *R = &rd[who];
        mreader *M = &mr[who];
        switch ((op >> 2) % 9) {
        case 1: { /* a batch of 1..12 messages; a too-big one stops it, the rest is not written */
            static unsigned char bb[12][CAP];
            ra_wmsg w[12];
            size_t n = 1 + arg % 12u, want = n;
            for (size_t i = 0; i < n; i++) {
                uint32_t len = (op & 0x80) ? (uint32_t)(arg * 4u + i * 97u) % (max + 40u)
                                           : (uint32_t)(arg * (i + 1) * 37u) % 100u;
                if (len > max && want == n) want = i;
                for (uint32_t j = 0; j < len && len <= max; j++) bb[i][j] = byte_of(m.next + i, j);
                w[i] = (ra_wmsg){bb[i], len, (uint16_t)((m.next + i) * 3), m.next + i + 1000};
            }
            size_t written = 99;
            int rc = ra_ring_write_batch(r, w, n, NULL, 0, &written);
            REQUIRE(rc == (want == n ? RA_OK : RA_ETOOBIG));
            REQUIRE(written == want);
            for (size_t i = 0; i < want; i++)
                model_commit(&m, model_reserve(&m, w[i].len), w[i].len);
            break;
        }
        case 0: { /* write; lengths skewed small, sometimes large, sometimes too big */
            uint32_t len = (op & 0x80) ? (uint32_t)arg * 4u + (op & 3u) : arg % 64u;
            if (len > max) {
                REQUIRE(ra_ring_write(r, 0, 0, buf, len) == RA_ETOOBIG);
                break;
            }
            for (uint32_t i = 0; i < len; i++) buf[i] = byte_of(m.next, i);
            uint64_t pos = model_reserve(&m, len);
            REQUIRE(ra_ring_write(r, (uint16_t)(m.next * 3), m.next + 1000, buf, len) == RA_OK);
            model_commit(&m, pos, len);
            break;
        }
        case 2: { /* reserve big, scribble over all of it, commit less */
            uint32_t rmax = (uint32_t)arg * 3u % (max + 1);
            uint32_t len = rmax ? (uint32_t)(op * 7u) % (rmax + 1) : 0;
            unsigned char *p = ra_ring_reserve(r, rmax);
            REQUIRE(p != NULL);
            uint64_t pos = model_reserve(&m, rmax);
            memset(p, 0xEE, rmax);
            for (uint32_t i = 0; i < len; i++) p[i] = byte_of(m.next, i);
            if (op & 0x80) {
                uint64_t seq = 0;
                REQUIRE(ra_ring_commit_seq(r, rmax + 1, 0, 0, &seq) == RA_EINVAL); /* too long */
                REQUIRE(ra_ring_commit_seq(r, len, (uint16_t)(m.next * 3), m.next + 1000, &seq) ==
                        RA_OK);
                REQUIRE(seq == m.next);
                REQUIRE(ra_ring_commit_seq(r, 0, 0, 0, &seq) == RA_EINVAL); /* used up */
            } else {
                REQUIRE(ra_ring_commit(r, len, (uint16_t)(m.next * 3), m.next + 1000) == m.next);
            }
            model_commit(&m, pos, len);
            break;
        }
        case 3:
        case 4: { /* read, sometimes into a buffer that is too small */
            size_t cap = (arg & 1) ? (size_t)(arg >> 1) : sizeof buf;
            ra_msg msg;
            uint64_t lost0 = R->lost;
            int rc = ra_reader_read(R, buf, cap, &msg);
            M->peeked = 0;
            if (rc == RA_EMPTY) {
                REQUIRE(M->expect == m.next);
            } else if (rc == RA_LAPPED) {
                check_lap(R, M, &m, lost0);
            } else if (rc == RA_ETOOBIG) {
                const mrec *rec = find(&m, M->expect);
                REQUIRE(rec && rec->len > cap && msg.len == rec->len);
            } else {
                REQUIRE(rc == RA_OK);
                check_msg(&msg, buf, M, &m);
                REQUIRE(msg.data == buf);
                M->expect++;
            }
            break;
        }
        case 5: { /* peek */
            ra_msg msg;
            uint64_t lost0 = R->lost;
            int rc = ra_reader_peek(R, &msg);
            M->peeked = 0;
            if (rc == RA_EMPTY) {
                REQUIRE(M->expect == m.next);
            } else if (rc == RA_LAPPED) {
                check_lap(R, M, &m, lost0);
            } else {
                REQUIRE(rc == RA_OK);
                check_msg(&msg, msg.data, M, &m);
                M->peeked = 1;
                M->peek_seq = msg.seq;
            }
            break;
        }
        case 6: { /* advance */
            uint64_t lost0 = R->lost;
            int rc = ra_reader_advance(R);
            if (!M->peeked) {
                REQUIRE(rc == RA_EINVAL);
            } else if (find(&m, M->peek_seq) == NULL) {
                REQUIRE(rc == RA_LAPPED); /* overwritten while in use */
                check_lap(R, M, &m, lost0);
            } else {
                REQUIRE(rc == RA_OK);
                M->expect++;
            }
            M->peeked = 0;
            break;
        }
        case 7: { /* poll */
            poll_ctx c = {M, &m, 0};
            uint64_t lost0 = R->lost, laps0 = R->laps;
            uint64_t expect0 = M->expect;
            int why = 99;
            size_t n = ra_reader_poll_ex(R, on_poll, &c, arg % 8u, &why);
            M->peeked = 0;
            REQUIRE(n == (size_t)c.n);
            if (R->laps != laps0) { /* lapped before the first message (single-threaded) */
                REQUIRE(n == 0 && why == RA_LAPPED);
                M->expect = expect0;
                check_lap(R, M, &m, lost0);
            } else if (n == arg % 8u) {
                REQUIRE(why == RA_OK);
            } else {
                REQUIRE(why == RA_EMPTY && M->expect == m.next);
            }
            break;
        }
        default: /* policy changes and re-initialisation */
            if (arg & 1) {
                int newest = (arg >> 1) & 1;
                REQUIRE(ra_reader_set_resume(R, newest ? RA_START_NEWEST : RA_START_OLDEST) ==
                        RA_OK);
                M->resume_newest = newest;
                if (!newest) { /* with 0 to 3584 bytes of slack */
                    M->slack = (uint64_t)(arg >> 2) % 8u * 512u;
                    REQUIRE(ra_reader_set_resume_slack(R, M->slack) == RA_OK);
                }
            } else {
                enum ra_start st = (enum ra_start)((arg >> 1) % 3);
                REQUIRE(ra_reader_init(R, r, st) == RA_OK);
                M->resume_newest = 0;
                M->slack = 0;
                M->peeked = 0;
                if (st == RA_START_OLDEST)
                    M->expect = oldest(&m);
                else if (st == RA_START_NEWEST)
                    M->expect = m.next ? m.next - 1 : 0;
                else
                    M->expect = m.next;
                REQUIRE(R->expect_seq == M->expect);
            }
            break;
        }
        check_stats(r, &m);
        for (int i = 0; i < NRD; i++) {
            ra_reader_stats s;
            ra_reader_get_stats(&rd[i], &s);
            REQUIRE(s.read + s.lost == rd[i].expect_seq - rd[i].start_seq);
        }
    }
    ra_ring_destroy(r);
    return 0;
}
