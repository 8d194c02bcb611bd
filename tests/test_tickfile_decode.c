/* test_tickfile_decode.c - tick file decoder: marks, versions, the record check, API contract */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"
#include "ringalloc/tickfile.h"
#include "support/ticktest.h"

/* Decodes p[0..n) in chunks of `chunk` bytes with next_event(): kinds in order, marks, and the
 * data records' fields (payload bytes checked against want). @return the finish status. */
static int decode_events(const uint8_t *p, size_t n, size_t chunk, uint16_t *kinds,
                         ra_tick_mark *marks, size_t *nk, size_t *nm, const recset *want)
{
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    size_t at = 0, nd = 0;
    *nk = *nm = 0;
    int rc;
    for (;;) {
        ra_tick_record rec;
        ra_tick_mark m;
        uint16_t kind = 0xEEEE;
        while ((rc = ra_tick_decoder_next_event(d, &rec, &m, &kind)) == RA_OK) {
            kinds[(*nk)++] = kind;
            if (kind == RA_TICK_KIND_MARK) {
                marks[(*nm)++] = m;
            } else {
                assert_int_equal(kind, RA_TICK_KIND_DATA);
                assert_true(nd < want->n);
                if (!same_record(&rec, &want->r[nd])) fail_msg("record %zu differs", nd);
                nd++;
            }
        }
        if (rc != RA_EMPTY) break;
        if (at == n) {
            rc = ra_tick_decoder_finish(d);
            break;
        }
        size_t k = chunk < n - at ? chunk : n - at;
        assert_int_equal(ra_tick_decoder_push(d, p + at, k), RA_OK);
        at += k;
    }
    ra_tick_decoder_destroy(d);
    return rc;
}

/* ---- marks (1.1) --------------------------------------------------------------------------- */

enum { NREC = 300, NMARKS = 100 };

/* Writes the records of s with a mark before every third one (one with unknown flag bits);
 * want[] gets the marks, order[] the kinds in file order. @return the number of kinds. */
static size_t write_marked(tspec_buf *out, const recset *s, bool z, ra_tick_mark *want,
                           uint16_t *order)
{
    ra_tick_writer_config cfg = cfg_for(z);
    cfg.frame_bytes = 2048; /* marks also end frames */
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, out, &cfg), RA_OK);
    size_t no = 0, nm = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (i % 3 == 0) {
            want[nm] = (ra_tick_mark){.ts_ns = s->r[i].ts_ns,
                                      .seq = s->r[i].seq,
                                      .stream = s->r[i].stream,
                                      .count = (uint32_t)(i % 6 ? 3 : 0),
                                      .flags = (uint16_t)(i % 6 ? 0 : RA_TICK_MARK_HEARTBEAT),
                                      .framing = (uint16_t)(1 + i % 2)};
            if (i == 9) want[nm].flags = 0xFFFF; /* unknown bits are kept */
            assert_int_equal(ra_tick_write_mark(w, &want[nm]), RA_OK);
            nm++;
            order[no++] = RA_TICK_KIND_MARK;
        }
        assert_int_equal(ra_tick_write(w, &s->r[i]), RA_OK);
        order[no++] = RA_TICK_KIND_DATA;
    }
    assert_int_equal(nm, NMARKS);
    ra_tick_writer_stats ws;
    ra_tick_writer_get_stats(w, &ws);
    assert_int_equal(ws.records, s->n); /* marks are not data records */
    if (z) assert_true(ws.frames > 3);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    return no;
}

/* next_event() in any chunking: the kinds in file order, every field of every mark, offsets
 * growing. */
static void check_events(const tspec_buf *f, const recset *s, const ra_tick_mark *want,
                         const uint16_t *order, size_t no)
{
    static const size_t chunks[] = {1, 7, 64, 1000, 1u << 20};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        uint16_t kinds[NREC + NMARKS];
        ra_tick_mark marks[NMARKS];
        size_t nk, nmk;
        assert_int_equal(decode_events(f->p, f->len, chunks[c], kinds, marks, &nk, &nmk, s), RA_OK);
        assert_int_equal(nk, no);
        assert_memory_equal(kinds, order, no * sizeof order[0]);
        assert_int_equal(nmk, NMARKS);
        for (size_t k = 0; k < NMARKS; k++) {
            assert_int_equal(marks[k].ts_ns, want[k].ts_ns);
            assert_int_equal(marks[k].seq, want[k].seq);
            assert_int_equal(marks[k].stream, want[k].stream);
            assert_int_equal(marks[k].count, want[k].count);
            assert_int_equal(marks[k].flags, want[k].flags);
            assert_int_equal(marks[k].framing, want[k].framing);
            if (k && marks[k].offset <= marks[k - 1].offset) fail_msg("mark %zu offset", k);
        }
    }
}

/* The reader over a file hands out the same marks among the same records. */
static void check_reader_events(const tspec_buf *f, const recset *s, const ra_tick_mark *want)
{
    char path[] = "/tmp/test_tickfile_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f->p, f->len), (ssize_t)f->len);
    close(fd);
    ra_tick_reader *r;
    ra_tick_error err;
    assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_OK);
    assert_int_equal(ra_tick_reader_info(r)->version_minor, RA_TICK_VERSION_MINOR);
    ra_tick_record rec;
    ra_tick_mark m;
    uint16_t kind;
    size_t nd = 0, nmk = 0;
    int rc;
    while ((rc = ra_tick_reader_next_event(r, &rec, &m, &kind)) == RA_OK) {
        if (kind == RA_TICK_KIND_MARK) {
            assert_true(nmk < NMARKS);
            assert_int_equal(m.seq, want[nmk].seq);
            nmk++;
        } else {
            assert_true(nd < s->n);
            assert_true(same_record(&rec, &s->r[nd]));
            nd++;
        }
    }
    assert_int_equal(rc, RA_EMPTY);
    assert_int_equal(nd, s->n);
    assert_int_equal(nmk, NMARKS);
    assert_int_equal(ra_tick_reader_next_event(r, &rec, NULL, &kind), RA_EINVAL);
    ra_tick_reader_close(r);
    unlink(path);
}

/* Marks written between data records come back in order through next_event() (decoder and
 * reader), are skipped by next(), and are not counted by the end record. */
static void test_marks(void **state)
{
    (void)state;
    recset s = make_records(NREC, 21, true);
    ra_tick_mark want[NMARKS];
    uint16_t order[NREC + NMARKS];
    for (int z = 0; z < 2; z++) {
        tspec_buf out = {0};
        size_t no = write_marked(&out, &s, z, want, order);
        /* next(): the data records only, and a clean end (the end record's counts hold) */
        got g;
        decode(out.p, out.len, 0, &g);
        assert_int_equal(g.status, RA_OK);
        assert_records(&g, &s, s.n);
        got_free(&g);
        check_events(&out, &s, want, order, no);
        check_reader_events(&out, &s, want);
        tspec_free(&out);
    }
    free_records(&s);
}

/* A mark's payload as the spec gives it: u32 count, u16 flags, u16 framing; 4 more bytes, as a
 * newer minor might append. */
static const uint8_t mark_payload[12] = {3,    0,    0,    0,    0x01, 0x00,
                                         0x02, 0x00, 0xAA, 0xBB, 0xCC, 0xDD};

/* A mark made from the spec, longer than 1.1's (a newer minor): next_event() reads its fields,
 * next() (a 1.0 reader's view) skips it. */
static void test_mark_spec(void **state)
{
    (void)state;
    tspec_buf b = {0};
    tspec_hdr o = tspec_hdr_default();
    tspec_header(&b, &o);
    size_t first = b.len;
    tspec_record(&b, 32, 12, 0, RA_TICK_KIND_MARK, 5, 77, 1234, mark_payload);
    tspec_record(&b, 32, 1, 'A', 0, 5, 77, 1234, "x");
    tspec_end(&b, 32, 1, 1);
    uint16_t kinds[4];
    ra_tick_mark marks[2];
    size_t nk, nmk;
    recset one = {&(ra_tick_record){
                      .ts_ns = 1234, .seq = 77, .data = "x", .len = 1, .stream = 5, .type = 'A'},
                  NULL, 1};
    assert_int_equal(decode_events(b.p, b.len, 5, kinds, marks, &nk, &nmk, &one), RA_OK);
    assert_int_equal(nk, 2);
    assert_int_equal(nmk, 1);
    assert_int_equal(marks[0].count, 3);
    assert_int_equal(marks[0].flags, RA_TICK_MARK_HEARTBEAT);
    assert_int_equal(marks[0].framing, RA_TICK_FRAMING_IEXTP);
    assert_int_equal(marks[0].stream, 5);
    assert_int_equal(marks[0].seq, 77);
    assert_int_equal(marks[0].ts_ns, 1234);
    assert_int_equal(marks[0].offset, first);
    got g;
    decode(b.p, b.len, 3, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 1);
    got_free(&g);
    tspec_free(&b);
}

/* A mark shorter than RA_TICK_MARK_LEN is corrupt, for next_event() and next() alike. */
static void test_mark_short(void **state)
{
    (void)state;
    tspec_buf b = {0};
    tspec_hdr o = tspec_hdr_default();
    tspec_header(&b, &o);
    size_t first = b.len;
    tspec_record(&b, 32, 7, 0, RA_TICK_KIND_MARK, 5, 77, 1234, mark_payload);
    tspec_end(&b, 32, 0, 0);
    uint16_t kinds[4];
    ra_tick_mark marks[2];
    size_t nk, nmk;
    recset none = {NULL, NULL, 0};
    assert_int_equal(decode_events(b.p, b.len, 64, kinds, marks, &nk, &nmk, &none), RA_ECORRUPT);
    got g;
    assert_int_equal(decode_status(&b, &g), RA_ECORRUPT);
    assert_int_equal(g.err.offset, first);
    assert_non_null(strstr(g.err.msg, "short mark"));
    got_free(&g);
    tspec_free(&b);
}

/* The writer's bytes for a mark equal the spec's. */
static void test_mark_writer_bytes(void **state)
{
    (void)state;
    tspec_buf out = {0}, b = {0};
    ra_tick_writer_config cfg = cfg_for(false);
    cfg.creator = "test";
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &out, &cfg), RA_OK);
    ra_tick_mark mk = {.ts_ns = 1234, .seq = 77, .stream = 5, .count = 3, .flags = 1, .framing = 2};
    assert_int_equal(ra_tick_write_mark(w, &mk), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    tspec_hdr o = tspec_hdr_default();
    tspec_header(&b, &o);
    tspec_record(&b, 32, 8, 0, RA_TICK_KIND_MARK, 5, 77, 1234, mark_payload);
    tspec_end(&b, 32, 0, 0);
    assert_int_equal(out.len, b.len);
    assert_memory_equal(out.p, b.p, b.len);
    assert_int_equal(ra_tick_write_mark(NULL, &mk), RA_EINVAL);
    tspec_free(&out);
    tspec_free(&b);
}

/* ---- versions and forward compatibility ----------------------------------------------------- */

/* A newer major: refused before anything else of the header is trusted. */
static void test_version_newer_major(void **state)
{
    (void)state;
    for (unsigned major = 2; major < 70000; major = major * 7 + 1) {
        tspec_hdr o = tspec_hdr_default();
        o.major = major & 0xFFFF;
        o.minor = 0;
        o.rhs = 999; /* a newer major may change anything after byte 16 */
        tspec_buf b = {0};
        tspec_header(&b, &o);
        got g;
        assert_int_equal(decode_status(&b, &g), RA_EVERSION);
        assert_int_equal(g.err.offset, 8);
        char want[32];
        snprintf(want, sizeof want, "version %u.0", major & 0xFFFF);
        assert_non_null(strstr(g.err.msg, want));
        assert_non_null(strstr(g.err.msg, "newer"));
        got_free(&g);
        tspec_free(&b);
    }
}

/* Version 0.x does not exist. */
static void test_version_zero(void **state)
{
    (void)state;
    tspec_hdr o = tspec_hdr_default();
    o.major = 0;
    tspec_buf b = {0};
    tspec_header(&b, &o);
    got g;
    assert_int_equal(decode_status(&b, &g), RA_EFORMAT);
    assert_int_equal(g.err.offset, 8);
    got_free(&g);
    tspec_free(&b);
}

/* A newer minor: bigger record headers, header extension bytes, an unknown optional flag and an
 * unknown skippable record kind are all accepted. */
static void test_version_newer_minor(void **state)
{
    (void)state;
    static const uint32_t ids[] = {3};
    static const char *const descs[] = {"s3"};
    tspec_hdr o = tspec_hdr_default();
    o.minor = 9;
    o.rhs = 48;
    o.extension = 21;
    o.flags = 0x00008001u;
    o.nstreams = 1;
    o.ids = ids;
    o.descs = descs;
    tspec_buf b = {0};
    tspec_header(&b, &o);
    size_t first = b.len;
    tspec_record(&b, 48, 4, 'A', 0, 3, 10, 100, "abcd");
    tspec_record(&b, 48, 9, 0, 0x0123, 3, 0, 0, "an index?");
    tspec_record(&b, 48, 2, 0, RA_TICK_KIND_STREAM, 4, 0, 0, "s4");
    tspec_record(&b, 48, 0, 'B', 0, 4, 11, 101, "");
    tspec_end(&b, 48, 2, 4);
    for (size_t chunk = 1; chunk < 100; chunk += 13) {
        got g;
        decode(b.p, b.len, chunk, &g);
        assert_int_equal(g.status, RA_OK);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.r[0].len, 4);
        assert_memory_equal(g.r[0].data, "abcd", 4);
        assert_int_equal(g.r[0].seq, 10);
        assert_int_equal(g.r[0].ts_ns, 100);
        assert_int_equal(g.r[0].stream, 3);
        assert_int_equal(g.r[0].offset, first);
        assert_int_equal(g.r[1].offset, first + 56 + 64 + 56);
        assert_int_equal(g.r[1].type, 'B');
        assert_int_equal(g.r[1].stream, 4);
        assert_int_equal(g.nstreams, 2);
        got_free(&g);
    }
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    assert_int_equal(ra_tick_decoder_push(d, b.p, b.len), RA_OK);
    assert_int_equal(ra_tick_decoder_read_header(d), RA_OK);
    assert_int_equal(ra_tick_decoder_info(d)->version_minor, 9);
    assert_int_equal(ra_tick_decoder_info(d)->flags, 0x00008001u);
    assert_int_equal(ra_tick_decoder_info(d)->record_header_size, 48);
    ra_tick_decoder_destroy(d);
    tspec_free(&b);
}

/* A "must understand" header flag or record kind this reader lacks: RA_EVERSION where it is. */
static void test_version_required(void **state)
{
    (void)state;
    tspec_hdr o = tspec_hdr_default();
    o.minor = 1;
    o.flags = 0x00010000u;
    tspec_buf b = {0};
    tspec_header(&b, &o);
    got g;
    assert_int_equal(decode_status(&b, &g), RA_EVERSION);
    assert_int_equal(g.err.offset, 16);
    got_free(&g);
    tspec_free(&b);
    o = tspec_hdr_default();
    tspec_header(&b, &o);
    size_t at = b.len;
    tspec_record(&b, 32, 0, 0, 0x8001, 0, 0, 0, "");
    tspec_end(&b, 32, 0, 0);
    assert_int_equal(decode_status(&b, &g), RA_EVERSION);
    assert_int_equal(g.err.offset, at);
    got_free(&g);
    tspec_free(&b);
}

/* ---- checks and contracts ------------------------------------------------------------------ */

/* The spec's check functions: CRC-32C's check value; every single-bit flip of a record header
 * changes the record check. */
static void test_record_check(void **state)
{
    (void)state;
    assert_int_equal(tspec_crc32c((const uint8_t *)"123456789", 9), 0xE3069283u); /* the spec's */
    rng_state = 12345;
    for (int n = 0; n < 20000; n++) {
        uint8_t h[32];
        for (int i = 0; i < 32; i++) h[i] = (uint8_t)rnd();
        if (n % 2) memset(h, 0, 32);
        if (n % 4 == 1) h[0] = (uint8_t)n;
        ra_store_le32(h + 12, tspec_check(h));
        uint32_t c = tspec_check(h);
        for (int bit = 0; bit < 256; bit++) {
            if (bit / 8 >= 12 && bit / 8 < 16) continue; /* the check itself */
            h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_true(tspec_check(h) != c);
            h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
}

static void test_decoder_contract(void **state)
{
    (void)state;
    recset s = make_records(50, 2, false);
    ra_tick_writer_config cfg = cfg_for(false);
    tspec_buf f = {0};
    write_file(&f, &s, &cfg);
    ra_tick_decoder *d;
    ra_tick_record rec;
    assert_int_equal(ra_tick_decoder_create(NULL), RA_EINVAL);
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EMPTY);
    assert_int_equal(ra_tick_decoder_read_header(d), RA_EMPTY);
    assert_int_equal(ra_tick_decoder_push(d, NULL, 5), RA_EINVAL);
    assert_int_equal(ra_tick_decoder_push(d, f.p, 100), RA_OK);
    assert_int_equal(ra_tick_decoder_push(d, f.p + 100, 10), RA_EINVAL); /* not drained */
    assert_int_equal(ra_tick_decoder_finish(d), RA_EINVAL);              /* not drained */
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EMPTY);
    assert_int_equal(ra_tick_decoder_push(d, f.p + 100, f.len - 100), RA_OK);
    size_t n = 0;
    while (ra_tick_decoder_next(d, &rec) == RA_OK) n++;
    assert_int_equal(n, s.n);
    assert_int_equal(ra_tick_decoder_finish(d), RA_OK);
    assert_int_equal(ra_tick_decoder_finish(d), RA_OK);
    assert_int_equal(ra_tick_decoder_push(d, f.p, 1), RA_EINVAL); /* after finish */
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EMPTY);
    /* reset: the same decoder reads another stream; errors are sticky until then */
    ra_tick_decoder_reset(d);
    assert_int_equal(ra_tick_decoder_push(d, "junkjunk", 8), RA_OK);
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EFORMAT);
    assert_int_equal(ra_tick_decoder_next(d, &rec), RA_EFORMAT);
    assert_int_equal(ra_tick_decoder_push(d, f.p, 1), RA_EFORMAT);
    assert_int_equal(ra_tick_decoder_finish(d), RA_EFORMAT);
    ra_tick_decoder_reset(d);
    assert_int_equal(ra_tick_decoder_error(d)->status, RA_OK);
    got g;
    decode_with(d, f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_records(&g, &s, s.n);
    got_free(&g);
    ra_tick_decoder_destroy(d);
    ra_tick_decoder_destroy(NULL);
    tspec_free(&f);
    free_records(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_mark_spec),
        cmocka_unit_test(test_mark_short),
        cmocka_unit_test(test_mark_writer_bytes),
        cmocka_unit_test(test_version_newer_major),
        cmocka_unit_test(test_version_zero),
        cmocka_unit_test(test_version_newer_minor),
        cmocka_unit_test(test_version_required),
        cmocka_unit_test(test_record_check),
        cmocka_unit_test(test_decoder_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
