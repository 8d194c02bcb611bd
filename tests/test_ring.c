/* test_ring.c - the tick ring's contract, rule by rule (single-threaded; see test_ring_stress.c) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"

#define CAP 4096u

/* payload of message `seq`: deterministic bytes so any delivered message can be checked */
static void fill(unsigned char *p, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++) p[i] = (unsigned char)(seq * 131u + i * 7u + 1u);
}

static int check(const unsigned char *p, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(seq * 131u + i * 7u + 1u)) return 0;
    return 1;
}

static ra_ring *mk(size_t cap, uint32_t flags)
{
    ra_ring_config cfg = {.capacity = cap, .flags = flags};
    ra_ring *r = NULL;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    assert_non_null(r);
    return r;
}

static uint64_t put(ra_ring *r, uint32_t len)
{
    unsigned char buf[4096];
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    fill(buf, len, s.next_seq);
    assert_int_equal(ra_ring_write(r, (uint16_t)(s.next_seq & 0xffff), s.next_seq * 10, buf, len),
                     RA_OK);
    return s.next_seq;
}

static void expect_msg(ra_reader *rd, uint64_t seq, uint32_t len)
{
    unsigned char buf[4096];
    ra_msg m;
    assert_int_equal(ra_reader_read(rd, buf, sizeof buf, &m), RA_OK);
    assert_int_equal(m.seq, seq);
    assert_int_equal(m.len, len);
    assert_int_equal(m.type, (uint16_t)(seq & 0xffff));
    assert_int_equal(m.ts_ns, seq * 10);
    assert_ptr_equal(m.data, buf);
    assert_true(check(buf, len, seq));
}

static void expect_rc(ra_reader *rd, int rc)
{
    unsigned char buf[4096];
    ra_msg m;
    assert_int_equal(ra_reader_read(rd, buf, sizeof buf, &m), rc);
}

static void check_invariant(const ra_reader *rd)
{
    ra_reader_stats s;
    ra_reader_get_stats(rd, &s);
    assert_int_equal(s.read + s.lost, rd->expect_seq - rd->start_seq);
}

/* ---- create, config, memory ------------------------------------------------------------------ */

static void test_create_rejects_bad_config(void **state)
{
    (void)state;
    ra_ring *r = (ra_ring *)1;
    ra_ring_config cfg = {.capacity = 3000};
    assert_int_equal(ra_ring_create(&r, &cfg), RA_EINVAL);
    assert_null(r);
    cfg.capacity = 2048; /* power of two but below the minimum */
    assert_int_equal(ra_ring_create(&r, &cfg), RA_EINVAL);
    cfg.capacity = CAP;
    cfg.flags = 1u << 20;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_EINVAL);
    assert_int_equal(ra_ring_create(&r, NULL), RA_EINVAL);
    assert_int_equal(ra_ring_create(NULL, &cfg), RA_EINVAL);
    assert_int_equal(ra_ring_footprint(3000), 0);
    assert_true(ra_ring_footprint(CAP) > CAP);
    /* caller memory too small, then misaligned */
    size_t foot = ra_ring_footprint(CAP);
    unsigned char *mem = aligned_alloc(64, foot + 64);
    cfg.flags = 0;
    cfg.mem = mem;
    cfg.mem_len = foot - 1;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_EINVAL);
    cfg.mem = mem + 8;
    cfg.mem_len = foot;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_EINVAL);
    free(mem);
}

static void test_caller_memory(void **state)
{
    (void)state;
    size_t foot = ra_ring_footprint(CAP);
    unsigned char *mem = aligned_alloc(64, foot);
    memset(mem, 0xAB, foot);
    ra_ring_config cfg = {.capacity = CAP, .mem = mem, .mem_len = foot};
    ra_ring *r;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, r, RA_START_OLDEST), RA_OK);
    for (int i = 0; i < 200; i++) put(r, 50);
    expect_rc(&rd, RA_LAPPED);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    expect_msg(&rd, s.oldest_seq, 50);
    ra_ring_destroy(r); /* must not free caller memory */
    mem[0] = 1;
    free(mem);
}

static void test_hugepages_and_prefault(void **state)
{
    (void)state;
    ra_ring *r = mk(1u << 21, RA_RING_HUGEPAGES | RA_RING_PREFAULT);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    /* with no huge pages reserved the ring falls back silently; either way it works */
    FILE *f = fopen("/proc/meminfo", "r");
    long free_huge = -1;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "HugePages_Free: %ld", &free_huge) == 1) break;
        fclose(f);
    }
    if (free_huge == 0) assert_false(s.hugepages);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    put(r, 100);
    expect_msg(&rd, 0, 100);
    ra_ring_destroy(r);
}

static void test_strerror_and_version(void **state)
{
    (void)state;
    assert_non_null(strstr(ra_strerror(RA_OK), "RA_OK"));
    assert_non_null(strstr(ra_strerror(RA_LAPPED), "RA_LAPPED"));
    assert_non_null(strstr(ra_strerror(RA_ETOOBIG), "RA_ETOOBIG"));
    assert_non_null(strstr(ra_strerror(RA_EFULL), "RA_EFULL"));
    assert_string_equal(ra_strerror(12345), "unknown status");
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", RA_VERSION_MAJOR, RA_VERSION_MINOR, RA_VERSION_PATCH);
    assert_string_equal(ra_version_string(), v);
    assert_int_equal(ra_version_number(), RA_VERSION_NUMBER);
}

/* ---- sequence numbers, basic read --------------------------------------------------------------
 */

static void test_sequence_and_roundtrip(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    expect_rc(&rd, RA_EMPTY);
    for (uint64_t i = 0; i < 1000; i++) {
        uint32_t len = (uint32_t)(i % 97);
        assert_int_equal(put(r, len), i);
        expect_msg(&rd, i, len);
    }
    expect_rc(&rd, RA_EMPTY);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.published, 1000);
    assert_int_equal(s.next_seq, 1000);
    assert_int_equal(s.capacity, CAP);
    check_invariant(&rd);
    ra_ring_destroy(r);
}

/* ---- exact overwrite accounting
 * ------------------------------------------------------------------ */

static void test_overwrite_exact_counts(void **state)
{
    (void)state;
    /* 40-byte payloads: 24 + 40 = 64-byte records, exactly 64 per 4096 bytes */
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    ra_ring_stats s;
    for (int i = 0; i < 64; i++) put(r, 40);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 0);
    assert_int_equal(s.oldest_seq, 0);
    assert_int_equal(s.used_bytes, CAP);
    put(r, 40); /* the 65th retires exactly one */
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 1);
    assert_int_equal(s.overwritten_bytes, 40);
    assert_int_equal(s.oldest_seq, 1);
    for (int i = 65; i < 100; i++) put(r, 40);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.published, 100);
    assert_int_equal(s.published_bytes, 4000);
    assert_int_equal(s.overwritten, 36);
    assert_int_equal(s.overwritten_bytes, 36 * 40);
    assert_int_equal(s.oldest_seq, 36);
    assert_int_equal(s.overwritten, s.oldest_seq);
    assert_int_equal(s.next_seq, s.published);
    /* the reader at seq 0 is lapped once, loses exactly 36, then reads 36..99 */
    expect_rc(&rd, RA_LAPPED);
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    assert_int_equal(rs.lost, 36);
    assert_int_equal(rs.laps, 1);
    assert_int_equal(rs.read, 0);
    check_invariant(&rd);
    for (uint64_t i = 36; i < 100; i++) expect_msg(&rd, i, 40);
    expect_rc(&rd, RA_EMPTY);
    ra_reader_get_stats(&rd, &rs);
    assert_int_equal(rs.read + rs.lost, 100);
    check_invariant(&rd);

    /* a 1000-byte message (1024-byte record) retires 16 of the 64-byte ones */
    put(r, 1000);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 52);
    assert_int_equal(s.oldest_seq, 52);
    expect_msg(&rd, 100, 1000);
    ra_ring_destroy(r);
}

static void test_wrap_with_padding_counts(void **state)
{
    (void)state;
    /* 1000-byte payloads: 1024-byte records. 4 fill the ring; then 13-byte payloads (40-byte
     * records) make the tail unaligned to 1024, so the next big record needs a padding record. */
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    ra_ring_stats s;
    for (int i = 0; i < 4; i++) put(r, 1000); /* seq 0..3 at 0, 1024, 2048, 3072 */
    put(r, 13);                               /* seq 4 at 4096: retires seq 0 */
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 1);
    for (int i = 0; i < 3; i++) put(r, 1000); /* seq 5..7 at 4136, 5160, 6184 */
    ra_ring_get_stats(r, &s);
    /* seq 7 ends at 7208: head must pass 7208 - 4096 = 3112, so seq 1, 2, 3 are gone too */
    assert_int_equal(s.overwritten, 4);
    assert_int_equal(s.oldest_seq, 4);
    /* seq 8: tail 7208 (offset 3112), 984 bytes to the end < 1024: pad 984, record at 8192;
     * end 9216 - 4096 = 5120 retires seq 4 (4096..4136) and seq 5 (4136..5160) */
    put(r, 1000);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 6);
    assert_int_equal(s.oldest_seq, 6);
    assert_int_equal(s.used_bytes, 9216 - 5160);
    expect_rc(&rd, RA_LAPPED);
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    assert_int_equal(rs.lost, 6);
    expect_msg(&rd, 6, 1000);
    expect_msg(&rd, 7, 1000);
    expect_msg(&rd, 8, 1000); /* across the padding record */
    expect_rc(&rd, RA_EMPTY);
    check_invariant(&rd);
    ra_ring_destroy(r);
}

static void test_implicit_skip_at_end(void **state)
{
    (void)state;
    /* leave 16 bytes (< a header) at the end: the next record starts at the wrap */
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    for (int i = 0; i < 4; i++) put(r, 1000); /* 4096: full, tail at wrap */
    expect_msg(&rd, 0, 1000);
    expect_msg(&rd, 1, 1000);
    expect_msg(&rd, 2, 1000);
    expect_msg(&rd, 3, 1000);
    put(r, 1000 - 16 - 8); /* 1000-byte record -> 1000 bytes: ends 16 before the next 1024 edge */
    put(r, 960);           /* 984-byte record */
    put(r, 1000);          /* at offset 3064? checks the reader's arithmetic either way */
    for (uint64_t q = 4; q < 7; q++) {
        unsigned char buf[2048];
        ra_msg m;
        assert_int_equal(ra_reader_read(&rd, buf, sizeof buf, &m), RA_OK);
        assert_int_equal(m.seq, q);
        assert_true(check(buf, m.len, q));
    }
    /* now force an exact 16-byte remainder: tail at 4096*2 - 16 */
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    ra_ring_destroy(r);

    r = mk(CAP, 0);
    ra_reader_init(&rd, r, RA_START_OLDEST);
    put(r, 1000);      /* 0..1024 */
    put(r, 1000);      /* 1024..2048 */
    put(r, 1000);      /* 2048..3072 */
    put(r, 1000 - 24); /* 3072..4072 (976 + 24 = 1000 bytes) */
    put(r, 40);        /* 24 bytes remain: a 64-byte record wraps with a pad header */
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.used_bytes, 4096 + 64 - 1024); /* seq 0 retired */
    ra_ring_destroy(r);

    r = mk(CAP, 0);
    ra_reader_init(&rd, r, RA_START_OLDEST);
    put(r, 1000);
    put(r, 1000);
    put(r, 1000);
    put(r, 1000 - 8); /* 3072..4088: 8 bytes remain, fewer than a header */
    expect_msg(&rd, 0, 1000);
    expect_msg(&rd, 1, 1000);
    expect_msg(&rd, 2, 1000);
    expect_msg(&rd, 3, 992);
    expect_rc(&rd, RA_EMPTY); /* cursor at 4088 == tail: must not skip past the tail */
    put(r, 40);               /* implicit skip to 4096 */
    expect_msg(&rd, 4, 40);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 1);
    assert_int_equal(s.used_bytes, 4096 + 64 - 1024);
    check_invariant(&rd);
    ra_ring_destroy(r);
}

/* ---- start modes and resume
 * ----------------------------------------------------------------------- */

static void test_start_modes(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader o, n, x;
    /* on an empty ring, every mode starts at seq 0 */
    ra_reader_init(&o, r, RA_START_OLDEST);
    ra_reader_init(&n, r, RA_START_NEWEST);
    ra_reader_init(&x, r, RA_START_NEXT);
    put(r, 10);
    expect_msg(&o, 0, 10);
    expect_msg(&n, 0, 10);
    expect_msg(&x, 0, 10);
    for (int i = 1; i < 10; i++) put(r, 10);
    ra_reader_init(&o, r, RA_START_OLDEST);
    ra_reader_init(&n, r, RA_START_NEWEST);
    ra_reader_init(&x, r, RA_START_NEXT);
    expect_msg(&o, 0, 10);
    expect_msg(&n, 9, 10);
    expect_rc(&n, RA_EMPTY);
    expect_rc(&x, RA_EMPTY);
    put(r, 10);
    expect_msg(&x, 10, 10);
    expect_msg(&n, 10, 10);
    /* after overwrite, OLDEST starts at oldest_seq and nothing counts as lost */
    for (int i = 0; i < 500; i++) put(r, 10);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_true(s.oldest_seq > 0);
    ra_reader_init(&o, r, RA_START_OLDEST);
    expect_msg(&o, s.oldest_seq, 10);
    ra_reader_stats rs;
    ra_reader_get_stats(&o, &rs);
    assert_int_equal(rs.lost, 0);
    assert_int_equal(o.start_seq, s.oldest_seq);
    check_invariant(&o);
    assert_int_equal(ra_reader_init(&o, r, (enum ra_start)7), RA_EINVAL);
    assert_int_equal(ra_reader_init(NULL, r, RA_START_OLDEST), RA_EINVAL);
    ra_ring_destroy(r);
}

static void test_resume_newest(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    assert_int_equal(ra_reader_set_resume(&rd, RA_START_NEWEST), RA_OK);
    assert_int_equal(ra_reader_set_resume(&rd, RA_START_NEXT), RA_EINVAL);
    put(r, 40);
    expect_msg(&rd, 0, 40);
    for (int i = 0; i < 300; i++) put(r, 40); /* seq 1..300 */
    expect_rc(&rd, RA_LAPPED);
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    assert_int_equal(rs.lost, 299); /* skipped 1..299, resumes at the newest, 300 */
    expect_msg(&rd, 300, 40);
    expect_rc(&rd, RA_EMPTY);
    check_invariant(&rd);
    ra_ring_destroy(r);
}

/* ---- too big ------------------------------------------------------------------------------------
 */

static void test_too_big(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    uint32_t max = ra_ring_max_msg(r);
    assert_int_equal(max, CAP / 4 - RA_RING_HDR_SIZE);
    static unsigned char big[CAP];
    assert_int_equal(ra_ring_write(r, 1, 1, big, max + 1), RA_ETOOBIG);
    assert_null(ra_ring_reserve(r, max + 1));
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.too_big, 2);
    assert_int_equal(s.published, 0);
    assert_int_equal(ra_ring_write(r, 1, 1, big, max), RA_OK);
    assert_int_equal(ra_ring_write(r, 1, 1, NULL, 5), RA_EINVAL);
    assert_int_equal(ra_ring_write(r, 1, 1, NULL, 0), RA_OK); /* empty messages are fine */

    /* read with a buffer too small: RA_ETOOBIG, m.len says what is needed, nothing consumed */
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    unsigned char small[16];
    ra_msg m = {0};
    assert_int_equal(ra_reader_read(&rd, small, sizeof small, &m), RA_ETOOBIG);
    assert_int_equal(m.len, max);
    assert_int_equal(ra_reader_read(&rd, big, sizeof big, &m), RA_OK);
    assert_int_equal(m.seq, 0);
    assert_int_equal(m.len, max);
    assert_int_equal(ra_reader_read(&rd, small, sizeof small, &m), RA_OK);
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.len, 0);
    ra_ring_destroy(r);
}

/* ---- reserve / commit
 * ------------------------------------------------------------------------------ */

static void test_reserve_commit_shrink(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    assert_int_equal(ra_ring_commit(r, 1, 1, 1), UINT64_MAX); /* no reservation */
    unsigned char *p = ra_ring_reserve(r, 1000);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % RA_RING_ALIGN, 0);
    assert_int_equal(ra_ring_commit(r, 1001, 1, 1), UINT64_MAX); /* larger than reserved */
    fill(p, 10, 0);
    assert_int_equal(ra_ring_commit(r, 10, 0, 0), 0);          /* shrinks to 10 */
    assert_int_equal(ra_ring_commit(r, 10, 0, 0), UINT64_MAX); /* reservation used up */
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.used_bytes, 40); /* 24 + 10 -> 40: shrunk, not 1024 */
    assert_int_equal(s.published_bytes, 10);
    expect_msg(&rd, 0, 10);
    /* the next record follows the shrunk one directly */
    p = ra_ring_reserve(r, 100);
    fill(p, 20, 1);
    assert_int_equal(ra_ring_commit(r, 20, 1, 10), 1);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.used_bytes, 40 + 48);
    expect_msg(&rd, 1, 20);
    /* re-reserving abandons the first reservation */
    (void)ra_ring_reserve(r, 500);
    p = ra_ring_reserve(r, 30);
    fill(p, 30, 2);
    assert_int_equal(ra_ring_commit(r, 30, 2, 20), 2);
    expect_msg(&rd, 2, 30);
    ra_ring_destroy(r);
}

static void test_shrunk_reservation_never_exposes_scribble(void **state)
{
    (void)state;
    /* A reader sits on an old record; the producer reserves a big region covering it, scribbles
     * over all of it, then commits only a few bytes. The reader must report a lap, not deliver
     * the scribbled record: the intent stays at the high-water mark. */
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    for (int i = 0; i < 64; i++) put(r, 40); /* full: tail 4096, reader at 0 */
    unsigned char *p = ra_ring_reserve(r, 1000);
    memset(p, 0x5A, 1000); /* physically overwrites records 0..15 */
    assert_int_equal(ra_ring_commit(r, 8, 7, 7), 64);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.overwritten, 16); /* retired for the whole reservation */
    expect_rc(&rd, RA_LAPPED);
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    assert_int_equal(rs.lost, 16);
    for (uint64_t q = 16; q < 64; q++) expect_msg(&rd, q, 40);
    ra_ring_destroy(r);
}

/* ---- peek / advance / poll
 * --------------------------------------------------------------------------- */

static void test_peek_advance(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    assert_int_equal(ra_reader_advance(&rd), RA_EINVAL); /* nothing peeked */
    ra_msg m;
    assert_int_equal(ra_reader_peek(&rd, &m), RA_EMPTY);
    put(r, 33);
    put(r, 34);
    assert_int_equal(ra_reader_peek(&rd, &m), RA_OK);
    assert_int_equal(m.seq, 0);
    assert_true(check(m.data, 33, 0));
    assert_int_equal(ra_reader_peek(&rd, &m), RA_OK); /* peek does not consume */
    assert_int_equal(m.seq, 0);
    unsigned char copy[64];
    ra_msg_copy(copy, &m);
    assert_true(check(copy, 33, 0));
    assert_int_equal(ra_reader_advance(&rd), RA_OK);
    assert_int_equal(ra_reader_advance(&rd), RA_EINVAL); /* one advance per peek */
    assert_int_equal(ra_reader_peek(&rd, &m), RA_OK);
    assert_int_equal(m.seq, 1);
    assert_int_equal(ra_reader_advance(&rd), RA_OK);

    /* peek, then the producer overwrites the message, then advance: RA_LAPPED */
    put(r, 40);
    assert_int_equal(ra_reader_peek(&rd, &m), RA_OK);
    assert_int_equal(m.seq, 2);
    for (int i = 0; i < 100; i++) put(r, 40); /* seq 3..102 */
    assert_int_equal(ra_reader_advance(&rd), RA_LAPPED);
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(rs.laps, 1);
    assert_int_equal(rs.read, 2);
    assert_int_equal(rs.lost, s.oldest_seq - 2); /* the peeked message counts as lost */
    check_invariant(&rd);
    assert_int_equal(ra_reader_peek(&rd, &m), RA_OK);
    assert_int_equal(m.seq, s.oldest_seq);
    ra_ring_destroy(r);
}

typedef struct poll_ctx {
    uint64_t next;
    int bad;
    int calls;
    ra_ring *ring; /* for a handler that writes */
} poll_ctx;

static void on_msg(const ra_msg *m, void *vctx)
{
    poll_ctx *c = vctx;
    if (m->seq != c->next || !check(m->data, m->len, m->seq)) c->bad++;
    c->next = m->seq + 1;
    c->calls++;
}

static void test_poll(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    poll_ctx c = {0};
    assert_int_equal(ra_reader_poll(&rd, on_msg, &c, 10), 0);
    for (int i = 0; i < 25; i++) put(r, (uint32_t)(i * 3));
    assert_int_equal(ra_reader_poll(&rd, on_msg, &c, 10), 10);
    assert_int_equal(ra_reader_poll(&rd, on_msg, &c, 100), 15);
    assert_int_equal(ra_reader_poll(&rd, on_msg, &c, 100), 0);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.next, 25);
    /* lapped before the poll: the lap is counted, nothing handed */
    for (int i = 0; i < 300; i++) put(r, 40);
    uint64_t laps0 = rd.laps;
    assert_int_equal(ra_reader_poll(&rd, on_msg, &c, 1), 0);
    assert_int_equal(rd.laps, laps0 + 1);
    check_invariant(&rd);
    ra_ring_destroy(r);
}

/* ---- backpressure
 * -------------------------------------------------------------------------------------- */

static void test_backpressure(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, RA_RING_BACKPRESSURE);
    ra_reader rd, second;
    assert_int_equal(ra_reader_init(&rd, r, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_init(&second, r, RA_START_OLDEST), RA_EINVAL); /* one consumer */
    unsigned char buf[64];
    fill(buf, 40, 0);
    uint64_t written = 0;
    for (;;) { /* fill: 64 records of 64 bytes fit, the 65th is refused */
        unsigned char b[40];
        fill(b, 40, written);
        int rc = ra_ring_write(r, (uint16_t)written, written * 10, b, 40);
        if (rc == RA_EFULL) break;
        assert_int_equal(rc, RA_OK);
        written++;
    }
    assert_int_equal(written, 64);
    assert_null(ra_ring_reserve(r, 40));
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.full, 2);
    assert_int_equal(s.overwritten, 0);
    assert_int_equal(s.oldest_seq, 0);
    assert_int_equal(s.used_bytes, CAP);
    /* drain half, the producer gets room back once the consumer releases */
    for (uint64_t i = 0; i < 32; i++) expect_msg(&rd, i, 40);
    for (int i = 0; i < 40; i++) {
        unsigned char b[40];
        fill(b, 40, written);
        int rc = ra_ring_write(r, (uint16_t)written, written * 10, b, 40);
        if (rc == RA_EFULL) break;
        written++;
    }
    assert_true(written >= 64 + 16); /* at least the first released quarter came back */
    /* drain everything, in order, nothing lost */
    for (uint64_t i = 32; i < written; i++) expect_msg(&rd, i, 40);
    expect_rc(&rd, RA_EMPTY);
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    assert_int_equal(rs.lost, 0);
    assert_int_equal(rs.laps, 0);
    assert_int_equal(rs.read, written);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.oldest_seq, written);
    assert_int_equal(s.used_bytes, 0);
    /* a long lossless run through a reader that keeps up */
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t q = put(r, (uint32_t)(i % 200));
        expect_msg(&rd, q, (uint32_t)(i % 200));
    }
    /* detach lets another reader attach and continue exactly where the first stopped */
    put(r, 5);
    ra_reader_detach(&rd);
    assert_int_equal(ra_reader_init(&second, r, RA_START_OLDEST), RA_OK);
    expect_msg(&second, written + 10000, 5);
    ra_ring_destroy(r);
}

/* ---- randomized check against a model of the layout
 * ------------------------------------------------- */

typedef struct model_rec {
    uint64_t pos, seq;
    uint32_t size;
} model_rec;

static void test_random_against_model(void **state)
{
    (void)state;
    /* The model keeps the list of intact records using the documented layout rules (8-byte
     * records, no wrap, pad/skip at the end, retire oldest until the new one fits); the ring's
     * counters and every reader's deliveries must agree with it. */
    enum { NRD = 3, N = 60000 };
    static model_rec q[4096];
    size_t qh = 0, qn = 0; /* circular list of intact records */
    uint64_t tail = 0, next = 0, overwritten = 0;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd[NRD];
    for (int i = 0; i < NRD; i++) ra_reader_init(&rd[i], r, RA_START_OLDEST);
    ra_reader_set_resume(&rd[2], RA_START_NEWEST);
    uint64_t rng = 88172645463325252ull;
    for (int step = 0; step < N; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint32_t len = (uint32_t)(rng % 5 == 0 ? rng % 1000 : rng % 120);
        uint32_t size = (uint32_t)((24 + len + 7) & ~7u);
        uint64_t to_end = CAP - (tail % CAP);
        uint64_t pos = size <= to_end ? tail : tail + to_end;
        while (qn && pos + size - q[qh].pos > CAP) {
            qh = (qh + 1) % 4096;
            qn--;
            overwritten++;
        }
        q[(qh + qn) % 4096] = (model_rec){pos, next, size};
        qn++;
        tail = pos + size;
        assert_int_equal(put(r, len), next);
        next++;
        ra_ring_stats s;
        ra_ring_get_stats(r, &s);
        assert_int_equal(s.overwritten, overwritten);
        assert_int_equal(s.oldest_seq, q[qh].seq);
        assert_int_equal(s.used_bytes, tail - q[qh].pos);
        /* readers read at different rates */
        for (int i = 0; i < NRD; i++) {
            unsigned every = i == 0 ? 1 : (i == 1 ? 97 : 131);
            if ((rng >> (8 + i)) % every) continue;
            for (int k = 0; k < 40; k++) {
                unsigned char buf[1024];
                ra_msg m;
                uint64_t want = rd[i].expect_seq;
                uint64_t lost0 = rd[i].lost;
                int rc = ra_reader_read(&rd[i], buf, sizeof buf, &m);
                if (rc == RA_EMPTY) break;
                if (rc == RA_LAPPED) {
                    /* exactly the model's oldest (or newest) became the next expected seq */
                    uint64_t land = i == 2 ? next - 1 : q[qh].seq;
                    assert_true(want < q[qh].seq);
                    assert_int_equal(rd[i].expect_seq, land);
                    assert_int_equal(rd[i].lost - lost0, land - want);
                    continue;
                }
                assert_int_equal(rc, RA_OK);
                assert_int_equal(m.seq, want);
                assert_true(check(buf, m.len, m.seq));
                check_invariant(&rd[i]);
            }
        }
    }
    for (int i = 0; i < NRD; i++) {
        for (;;) {
            unsigned char buf[1024];
            ra_msg m;
            int rc = ra_reader_read(&rd[i], buf, sizeof buf, &m);
            if (rc == RA_EMPTY) break;
        }
        ra_reader_stats rs;
        ra_reader_get_stats(&rd[i], &rs);
        assert_int_equal(rs.read + rs.lost, next);
    }
    ra_ring_destroy(r);
}

/* ---- batch writes ------------------------------------------------------------------------------
 */

static void test_batch_reader_sees_each_message(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, r, RA_START_OLDEST), RA_OK);
    unsigned char d[5][100];
    ra_wmsg w[5];
    const uint32_t lens[5] = {0, 1, 33, 64, 100};
    for (int i = 0; i < 5; i++) {
        fill(d[i], lens[i], (uint64_t)i);
        w[i] = (ra_wmsg){.data = lens[i] ? d[i] : NULL,
                         .len = lens[i],
                         .type = (uint16_t)(7 + i),
                         .ts_ns = 1000u + (uint64_t)i};
    }
    const unsigned char pre[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t written = 99;
    assert_int_equal(ra_ring_write_batch(r, w, 5, pre, sizeof pre, &written), RA_OK);
    assert_int_equal(written, 5);
    for (uint64_t i = 0; i < 5; i++) {
        unsigned char buf[200];
        ra_msg m;
        assert_int_equal(ra_reader_read(&rd, buf, sizeof buf, &m), RA_OK);
        assert_int_equal(m.seq, i);
        assert_int_equal(m.type, 7 + i);
        assert_int_equal(m.ts_ns, 1000 + i);
        assert_int_equal(m.len, 8 + lens[i]);
        assert_memory_equal(buf, pre, 8);
        assert_true(check(buf + 8, lens[i], i));
    }
    expect_rc(&rd, RA_EMPTY);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.published, 5);
    assert_int_equal(s.published_bytes, 5 * 8 + 0 + 1 + 33 + 64 + 100);
    /* an empty batch writes nothing and succeeds; written may be NULL */
    assert_int_equal(ra_ring_write_batch(r, w, 0, NULL, 0, NULL), RA_OK);
    assert_int_equal(ra_ring_write_batch(r, NULL, 0, NULL, 0, &written), RA_OK);
    assert_int_equal(written, 0);
    ra_ring_destroy(r);
}

static void test_batch_refusals(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    unsigned char d[2000];
    fill(d, sizeof d, 0);
    ra_wmsg w[4] = {{d, 10, 1, 1}, {d, 20, 2, 2}, {d, 30, 3, 3}, {d, 40, 4, 4}};
    size_t written = 99;
    unsigned char pre[8] = {0};
    assert_int_equal(ra_ring_write_batch(r, NULL, 1, NULL, 0, &written), RA_EINVAL);
    assert_int_equal(written, 0);
    assert_int_equal(ra_ring_write_batch(r, w, 4, NULL, 8, &written), RA_EINVAL);
    assert_int_equal(written, 0);
    /* a NULL payload with a length stops the batch before it */
    w[2].data = NULL;
    assert_int_equal(ra_ring_write_batch(r, w, 4, NULL, 0, &written), RA_EINVAL);
    assert_int_equal(written, 2);
    w[2].data = d;
    /* too big (the prefix counts): refused, counted once, nothing after it written */
    uint32_t max = ra_ring_max_msg(r);
    w[1].len = max - 7;
    assert_int_equal(ra_ring_write_batch(r, w, 4, pre, 8, &written), RA_ETOOBIG);
    assert_int_equal(written, 1);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.too_big, 1);
    assert_int_equal(s.published, 3);
    w[1].len = max - 8; /* exactly the largest */
    assert_int_equal(ra_ring_write_batch(r, w, 4, pre, 8, &written), RA_OK);
    assert_int_equal(written, 4);
    ra_ring_get_stats(r, &s);
    assert_int_equal(s.too_big, 1);
    assert_int_equal(s.published, 7);
    /* a batch abandons an open reservation, as write does */
    assert_non_null(ra_ring_reserve(r, 16));
    assert_int_equal(ra_ring_write_batch(r, w, 1, NULL, 0, &written), RA_OK);
    assert_int_equal(ra_ring_commit(r, 16, 0, 0), UINT64_MAX);
    ra_ring_destroy(r);
}

/* A batch leaves the ring exactly as the same writes one by one: two rings in caller memory get
 * the same random traffic, one through ra_ring_write, the other through ra_ring_write_batch
 * (random batch sizes and prefixes, some messages too big), and their whole memory (control block
 * and data: headers, padding, positions, statistics) must stay byte-identical; readers drain both
 * alike (backpressure: freeing room at the same points) and must see the same messages. */
static void batch_differential(size_t cap, uint32_t flags, uint64_t seed)
{
    size_t foot = ra_ring_footprint(cap);
    unsigned char *ma = aligned_alloc(64, foot), *mb = aligned_alloc(64, foot);
    assert_non_null(ma);
    assert_non_null(mb);
    memset(ma, 0, foot);
    memset(mb, 0, foot);
    ra_ring_config ca = {.capacity = cap, .flags = flags, .mem = ma, .mem_len = foot};
    ra_ring_config cb = {.capacity = cap, .flags = flags, .mem = mb, .mem_len = foot};
    ra_ring *a, *b;
    assert_int_equal(ra_ring_create(&a, &ca), RA_OK);
    assert_int_equal(ra_ring_create(&b, &cb), RA_OK);
    ra_reader ra, rb;
    assert_int_equal(ra_reader_init(&ra, a, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_init(&rb, b, RA_START_OLDEST), RA_OK);
    const uint32_t max = ra_ring_max_msg(a);
    static unsigned char data[64][4096];
    unsigned char one[4096 + 16], pre[16];
    ra_wmsg w[64];
    uint64_t rng = seed;
#define NEXT() (rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng)
    for (int round = 0; round < 3000; round++) {
        size_t n = NEXT() % 40;
        uint32_t pre_len = (uint32_t)(NEXT() % 4 == 0 ? 0 : NEXT() % 3 == 0 ? 8 : NEXT() % 17);
        for (uint32_t i = 0; i < pre_len; i++) pre[i] = (unsigned char)NEXT();
        for (size_t i = 0; i < n; i++) {
            uint64_t x = NEXT();
            uint32_t len = (uint32_t)(x % 50 == 0  ? max - pre_len + 1 + x % 3 /* too big */
                                      : x % 7 == 0 ? x % (max - pre_len + 1)
                                                   : x % 90);
            if (len + pre_len > max && x % 50 != 0) len = max - pre_len;
            fill(data[i], len + pre_len <= max ? len : 0, x); /* too big: never read */
            w[i] = (ra_wmsg){.data = data[i], .len = len, .type = (uint16_t)x, .ts_ns = x >> 7};
        }
        /* ring a: one write per message, stopping at the first refusal as a batch does */
        size_t done_a = 0;
        int rc_a = RA_OK;
        for (; done_a < n; done_a++) {
            memcpy(one, pre, pre_len);
            if (w[done_a].len + pre_len <= max)
                memcpy(one + pre_len, w[done_a].data, w[done_a].len);
            rc_a = w[done_a].len + pre_len > max
                       ? (ra_ring_write(a, w[done_a].type, w[done_a].ts_ns, one, max + 1))
                       : ra_ring_write(a, w[done_a].type, w[done_a].ts_ns, one,
                                       pre_len + w[done_a].len);
            if (rc_a != RA_OK) break;
        }
        size_t done_b = 999;
        int rc_b = ra_ring_write_batch(b, w, n, pre_len ? pre : NULL, pre_len, &done_b);
        assert_int_equal(rc_b, rc_a);
        assert_int_equal(done_b, done_a);
        assert_memory_equal(ma, mb, foot);
        ra_ring_stats sa, sb;
        ra_ring_get_stats(a, &sa);
        ra_ring_get_stats(b, &sb);
        assert_memory_equal(&sa, &sb, sizeof sa);
        /* drain some (or, now and then, everything) from both */
        size_t drain = NEXT() % 3 == 0 ? SIZE_MAX : NEXT() % 30;
        for (size_t k = 0; k < drain; k++) {
            unsigned char ba[4096], bb[4096];
            ra_msg m1, m2;
            int r1 = ra_reader_read(&ra, ba, sizeof ba, &m1);
            int r2 = ra_reader_read(&rb, bb, sizeof bb, &m2);
            assert_int_equal(r1, r2);
            if (r1 == RA_EMPTY) break;
            if (r1 != RA_OK) continue;
            assert_int_equal(m1.seq, m2.seq);
            assert_int_equal(m1.len, m2.len);
            assert_int_equal(m1.type, m2.type);
            assert_int_equal(m1.ts_ns, m2.ts_ns);
            assert_memory_equal(ba, bb, m1.len);
        }
        assert_memory_equal(ma, mb, foot);
    }
#undef NEXT
    ra_ring_stats s;
    ra_ring_get_stats(b, &s);
    printf("batch vs writes, capacity %zu%s: published %llu, overwritten %llu, too_big %llu, "
           "full %llu\n",
           cap, flags & RA_RING_BACKPRESSURE ? " (backpressure)" : "",
           (unsigned long long)s.published, (unsigned long long)s.overwritten,
           (unsigned long long)s.too_big, (unsigned long long)s.full);
    assert_true(s.published > 10000);
    assert_true(s.too_big > 0);
    if (flags & RA_RING_BACKPRESSURE)
        assert_true(s.full > 0);
    else
        assert_true(s.overwritten > 0);
    ra_ring_destroy(a);
    ra_ring_destroy(b);
    free(ma);
    free(mb);
}

static void test_batch_matches_writes(void **state)
{
    (void)state;
    batch_differential(CAP, 0, 88172645463325252ull);
    batch_differential(CAP * 4, 0, 1234567ull);
    batch_differential(CAP, RA_RING_BACKPRESSURE, 99991ull);
    batch_differential(CAP * 2, RA_RING_BACKPRESSURE, 4242ull);
}

/* ---- poll_ex, commit_seq, resume slack ------------------------------------------------------- */

/* a handler that, on its second message, overwrites the whole ring (the producer's calls are
 * allowed in a handler on the producer's thread): that message is torn while in use */
static void on_msg_then_overrun(const ra_msg *m, void *vctx)
{
    poll_ctx *c = vctx;
    on_msg(m, vctx);
    if (c->calls == 2) {
        for (int i = 0; i < 300; i++) put(c->ring, 40);
    }
}

static void test_poll_ex_tells_empty_from_lapped(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    poll_ctx c = {0};
    int why = 99;
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg, &c, 10, &why), 0);
    assert_int_equal(why, RA_EMPTY);
    for (int i = 0; i < 25; i++) put(r, 16);
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg, &c, 10, &why), 10);
    assert_int_equal(why, RA_OK); /* max reached */
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg, &c, 100, &why), 15);
    assert_int_equal(why, RA_EMPTY);
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg, &c, 0, &why), 0);
    assert_int_equal(why, RA_OK);
    assert_int_equal(c.bad, 0);

    /* lapped before the poll: 0 as for an empty ring, but RA_LAPPED, and lost grew */
    for (int i = 0; i < 300; i++) put(r, 40);
    ra_reader_stats s0, s1;
    ra_reader_get_stats(&rd, &s0);
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg, &c, 5, &why), 0);
    assert_int_equal(why, RA_LAPPED);
    ra_reader_get_stats(&rd, &s1);
    assert_int_equal(s1.laps, s0.laps + 1);
    assert_true(s1.lost > s0.lost);
    check_invariant(&rd);
    c.next = rd.expect_seq; /* it reads on from the oldest intact message */
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg, &c, 3, NULL), 3);
    assert_int_equal(c.bad, 0);

    /* torn while the handler used it: the message before counts, the torn one is lost */
    ra_reader_poll(&rd, on_msg, &c, 1000); /* drain */
    put(r, 40);
    put(r, 40);
    poll_ctx t = {.next = rd.expect_seq, .ring = r};
    ra_reader_get_stats(&rd, &s0);
    assert_int_equal(ra_reader_poll_ex(&rd, on_msg_then_overrun, &t, 10, &why), 1);
    assert_int_equal(why, RA_LAPPED);
    ra_reader_get_stats(&rd, &s1);
    assert_int_equal(t.calls, 2);
    assert_int_equal(s1.read, s0.read + 1);
    assert_int_equal(s1.laps, s0.laps + 1);
    check_invariant(&rd);
    ra_ring_destroy(r);
}

static void test_commit_seq(void **state)
{
    (void)state;
    ra_ring *r = mk(CAP, 0);
    uint64_t seq = 77;
    assert_int_equal(ra_ring_commit_seq(r, 8, 1, 2, &seq), RA_EINVAL); /* no reservation */
    assert_int_equal(seq, 77);
    put(r, 8);
    put(r, 8);
    unsigned char *p = ra_ring_reserve(r, 32);
    assert_non_null(p);
    assert_int_equal(ra_ring_commit_seq(r, 33, 2, 20, &seq), RA_EINVAL); /* more than reserved */
    assert_int_equal(seq, 77);
    ra_ring_stats st;
    ra_ring_get_stats(r, &st);
    assert_int_equal(st.published, 2); /* nothing published */
    fill(p, 20, 2);
    assert_int_equal(ra_ring_commit_seq(r, 20, 2, 20, &seq), RA_OK); /* the reservation stayed */
    assert_int_equal(seq, 2);
    assert_int_equal(ra_ring_commit_seq(r, 20, 2, 20, &seq), RA_EINVAL); /* and is used up */
    p = ra_ring_reserve(r, 8);
    fill(p, 8, 3);
    assert_int_equal(ra_ring_commit_seq(r, 8, 3, 30, NULL), RA_OK); /* seq_out may be NULL */
    ra_reader rd;
    ra_reader_init(&rd, r, RA_START_OLDEST);
    expect_msg(&rd, 0, 8);
    expect_msg(&rd, 1, 8);
    expect_msg(&rd, 2, 20);
    expect_msg(&rd, 3, 8);
    expect_rc(&rd, RA_EMPTY);
    ra_ring_destroy(r);
}

/* Sustained overload: the producer writes 8 messages for each one a reader takes. A reader that
 * resumes at the exact oldest record sits on the next record to be overwritten and is lapped again
 * at once; one with half the ring as slack reads on for many rounds before its next lap. Both
 * keep exact accounting: read + lost == published once drained. */
static void test_resume_slack(void **state)
{
    (void)state;
    const size_t cap = 65536;
    ra_ring *r = mk(cap, 0);
    ra_reader rds[2]; /* 0: exact oldest, 1: with slack */
    for (int i = 0; i < 2; i++) ra_reader_init(&rds[i], r, RA_START_OLDEST);
    assert_int_equal(ra_reader_set_resume_slack(&rds[1], cap), RA_EINVAL);
    assert_int_equal(ra_reader_set_resume_slack(NULL, 0), RA_EINVAL);
    assert_int_equal(ra_reader_set_resume_slack(&rds[1], cap / 2), RA_OK);
    unsigned char buf[256];
    ra_msg m;
    uint64_t next[2] = {0, 0};
    for (int round = 0; round < 4000; round++) {
        for (int k = 0; k < 8; k++) put(r, 32);
        for (int i = 0; i < 2; i++) {
            int rc = ra_reader_read(&rds[i], buf, sizeof buf, &m);
            assert_true(rc == RA_OK || rc == RA_LAPPED);
            if (rc == RA_OK) {
                assert_true(m.seq >= next[i]); /* in order; gaps only after laps */
                assert_true(check(buf, m.len, m.seq));
                next[i] = m.seq + 1;
            }
            check_invariant(&rds[i]);
        }
    }
    ra_ring_stats st;
    ra_ring_get_stats(r, &st);
    ra_reader_stats s[2];
    for (int i = 0; i < 2; i++) {
        while (ra_reader_read(&rds[i], buf, sizeof buf, &m) == RA_OK) {}
        ra_reader_get_stats(&rds[i], &s[i]);
        assert_int_equal(s[i].read + s[i].lost, st.published);
        assert_true(s[i].laps > 0);
    }
    print_message("overload 8:1, %zu-byte ring: exact oldest %llu laps, %llu lost; slack %zu: "
                  "%llu laps, %llu lost\n",
                  cap, (unsigned long long)s[0].laps, (unsigned long long)s[0].lost, cap / 2,
                  (unsigned long long)s[1].laps, (unsigned long long)s[1].lost);
    assert_true(s[1].laps * 10 < s[0].laps);
    /* 0 restores the exact oldest; in backpressure mode the call is accepted and changes nothing */
    assert_int_equal(ra_reader_set_resume_slack(&rds[1], 0), RA_OK);
    assert_int_equal(rds[1].slack, 0);
    ra_ring_destroy(r);
    r = mk(CAP, RA_RING_BACKPRESSURE);
    ra_reader c;
    assert_int_equal(ra_reader_init(&c, r, RA_START_OLDEST), RA_OK);
    for (int i = 0; i < 20; i++) put(r, 100);
    for (int i = 0; i < 20; i++) expect_msg(&c, (uint64_t)i, 100);
    expect_rc(&c, RA_EMPTY); /* hands the room back: released is the cursor */
    uint64_t released = c.released;
    assert_int_equal(ra_reader_set_resume_slack(&c, 1000), RA_OK);
    assert_int_equal(c.released, released);
    ra_ring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_config),
        cmocka_unit_test(test_caller_memory),
        cmocka_unit_test(test_hugepages_and_prefault),
        cmocka_unit_test(test_strerror_and_version),
        cmocka_unit_test(test_sequence_and_roundtrip),
        cmocka_unit_test(test_overwrite_exact_counts),
        cmocka_unit_test(test_wrap_with_padding_counts),
        cmocka_unit_test(test_implicit_skip_at_end),
        cmocka_unit_test(test_start_modes),
        cmocka_unit_test(test_resume_newest),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_reserve_commit_shrink),
        cmocka_unit_test(test_shrunk_reservation_never_exposes_scribble),
        cmocka_unit_test(test_peek_advance),
        cmocka_unit_test(test_poll),
        cmocka_unit_test(test_backpressure),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_batch_reader_sees_each_message),
        cmocka_unit_test(test_batch_refusals),
        cmocka_unit_test(test_batch_matches_writes),
        cmocka_unit_test(test_poll_ex_tells_empty_from_lapped),
        cmocka_unit_test(test_commit_seq),
        cmocka_unit_test(test_resume_slack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
