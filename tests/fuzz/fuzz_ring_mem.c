/* fuzz_ring_mem.c - the tick ring's readers over arbitrary ring memory (a damaged shared ring) */

/* A reader of a shared ring trusts nothing in the memory: every control field and record header
 * it uses may hold anything another process wrote. This target builds a ring in its own memory
 * (exactly ra_ring_footprint bytes, so that AddressSanitizer sees any access outside), writes
 * some valid messages, overwrites parts of the control block and the data with fuzz bytes, and
 * runs readers (read, peek/advance, poll, poll_ex, wait with a zero timeout) for a bounded number
 * of calls, with more fuzz patches applied between the calls. Every call must return one of its
 * documented statuses, every message handed must lie inside the data, and nothing may crash,
 * hang or read out of bounds.
 *
 * Input: byte 0: flags (bit 0 backpressure, bits 1-2 start of reader 0, bit 3 resume newest),
 * byte 1: messages written first; then patches {u16 offset, u8 length, bytes}, the first half
 * applied before the readers start, the rest one per reader step. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/ring.h"
#include "ringalloc/ring_shm.h"

#define CAP   4096u
#define NRD   3
#define STEPS 64

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_ring_mem: %s:%d: %s\n", __FILE__, __LINE__, #c);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fz {
    const uint8_t *p;
    size_t n, at;
    unsigned char *mem;
    size_t foot;
    const unsigned char *data; /* the ring's data area */
} fz;

/* Applies the next patch of the input to the ring memory. @return false when none is left. */
static bool patch(fz *f)
{
    if (f->n - f->at < 3) return false;
    size_t off = ((size_t)f->p[f->at] | (size_t)f->p[f->at + 1] << 8) % f->foot;
    size_t len = f->p[f->at + 2];
    f->at += 3;
    if (len > f->n - f->at) len = f->n - f->at;
    if (len > f->foot - off) len = f->foot - off;
    memcpy(f->mem + off, f->p + f->at, len);
    f->at += len;
    return true;
}

static void check_msg(const fz *f, const ra_msg *m, bool in_ring)
{
    if (!in_ring) return;
    const unsigned char *d = m->data;
    REQUIRE(d >= f->data && d + m->len <= f->data + CAP);
}

typedef struct pctx {
    const fz *f;
    size_t n;
} pctx;

static void on_msg(const ra_msg *m, void *ctx)
{
    pctx *c = ctx;
    check_msg(c->f, m, true);
    unsigned char tmp[CAP];
    ra_msg_copy(tmp, m);
    c->n++;
}

static bool known(int rc)
{
    return rc == RA_OK || rc == RA_EMPTY || rc == RA_LAPPED || rc == RA_CLOSED || rc == RA_ECORRUPT;
}

/* One call on reader rd, chosen by op. */
static void step(fz *f, ra_reader *rd, unsigned op)
{
    unsigned char buf[CAP];
    ra_msg m;
    int rc, why = 0;
    pctx c = {f, 0};
    switch (op % 6) {
    case 0:
        rc = ra_reader_read(rd, buf, sizeof buf, &m);
        REQUIRE(known(rc));
        if (rc == RA_OK) REQUIRE(m.data == buf && m.len <= ra_ring_max_msg(rd->ring));
        break;
    case 1:
        rc = ra_reader_read(rd, buf, 16, &m);
        REQUIRE(known(rc) || rc == RA_ETOOBIG);
        break;
    case 2:
        rc = ra_reader_peek(rd, &m);
        REQUIRE(known(rc));
        if (rc == RA_OK) {
            check_msg(f, &m, true);
            ra_msg_copy(buf, &m);
            rc = ra_reader_advance(rd);
            REQUIRE(rc == RA_OK || rc == RA_LAPPED);
        }
        break;
    case 3:
        (void)ra_reader_poll(rd, on_msg, &c, 1 + op % 7);
        break;
    case 4:
        REQUIRE(ra_reader_poll_ex(rd, on_msg, &c, 100, &why) <= 100);
        REQUIRE(known(why));
        break;
    default:
        rc = ra_reader_wait(rd, 0);
        REQUIRE(rc == RA_OK || rc == RA_ETIMEDOUT || rc == RA_CLOSED || rc == RA_ECORRUPT);
        break;
    }
    ra_reader_stats st;
    ra_reader_get_stats(rd, &st);
    (void)ra_reader_lag(rd);
}

/* Writes n messages of assorted lengths (some wrap, some retire old ones). */
static void write_some(ra_ring *r, unsigned n)
{
    unsigned char buf[512];
    memset(buf, 0xa5, sizeof buf);
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = (i * 97u + 13u) % 400u;
        if (ra_ring_write(r, (uint16_t)i, i, buf, len) != RA_OK) break; /* backpressure: full */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    fz f = {.p = data, .n = size, .at = 2};
    f.foot = ra_ring_footprint(CAP);
    f.mem = aligned_alloc(64, f.foot);
    REQUIRE(f.mem);
    memset(f.mem, 0, f.foot);
    const unsigned flags = data[0];
    ra_ring_config cfg = {.capacity = CAP, .mem = f.mem, .mem_len = f.foot};
    if (flags & 1) cfg.flags = RA_RING_BACKPRESSURE;
    ra_ring *r;
    REQUIRE(ra_ring_create(&r, &cfg) == RA_OK);
    write_some(r, data[1]);
    f.data = f.mem + (f.foot - CAP);

    /* half of the patches now, the rest while the readers run */
    size_t total = 0;
    for (size_t at = f.at; at + 3 <= f.n; total++) at += 3 + (size_t)data[at + 2];
    for (size_t i = 0; i < total / 2; i++) patch(&f);

    ra_reader rd[NRD];
    bool ok[NRD];
    size_t nrd = (flags & 1) ? 1 : NRD; /* one consumer in backpressure mode */
    for (size_t i = 0; i < nrd; i++) {
        enum ra_start st = (enum ra_start)((i + ((flags >> 1) & 3)) % 3);
        int rc = ra_reader_init(&rd[i], r, st);
        /* a damaged `attached` word reads as a consumer already there */
        REQUIRE(rc == RA_OK || rc == RA_ECORRUPT || ((flags & 1) && rc == RA_EINVAL));
        ok[i] = rc == RA_OK;
        if (ok[i] && (flags & 8)) ra_reader_set_resume(&rd[i], RA_START_NEWEST);
        if (ok[i] && i == 2) ra_reader_set_resume_slack(&rd[i], 512);
    }
    for (unsigned s = 0; s < STEPS; s++) {
        for (size_t i = 0; i < nrd; i++)
            if (ok[i]) step(&f, &rd[i], s * 7u + (unsigned)i * 3u + flags);
        patch(&f);
    }
    for (size_t i = 0; i < nrd; i++)
        if (ok[i]) ra_reader_detach(&rd[i]);
    ra_ring_destroy(r);
    free(f.mem);
    return 0;
}
