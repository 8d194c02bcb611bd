/* test_tickfile_damage.c - tick file decoder on damaged input: cuts, bit flips, lying fields */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "ringalloc/ringalloc.h"
#include "ringalloc/tickfile.h"
#include "support/ticktest.h"

/* ---- truncation ----------------------------------------------------------------------------- */

/* A small file; its item boundaries (header end, each record, the end record). */
static void small_file(tspec_buf *f, recset *s, bool z, size_t nrec)
{
    *s = make_records(nrec, 5, true);
    for (size_t i = 0; i < nrec; i++)
        if (s->r[i].len > 40) s->r[i].len = 40;
    ra_tick_writer_config cfg = cfg_for(z);
    cfg.level = 1;
    cfg.frame_bytes = 300;
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, f, &cfg), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 1, "a stream"), RA_OK);
    for (size_t i = 0; i < nrec; i++) assert_int_equal(ra_tick_write(w, &s->r[i]), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
}

static void test_truncated_plain(void **state)
{
    (void)state;
    tspec_buf f = {0};
    recset s;
    small_file(&f, &s, false, 12);
    got full;
    decode(f.p, f.len, 0, &full);
    assert_int_equal(full.status, RA_OK);
    size_t hs = (size_t)full.r[0].offset;
    size_t bounds[16], nb = 0;
    for (size_t i = 0; i < full.n; i++) bounds[nb++] = (size_t)full.r[i].offset;
    bounds[nb++] = f.len - 48; /* the end record */
    for (size_t cut = 0; cut < f.len; cut++) {
        for (int pass = 0; pass < 2; pass++) {
            got g;
            decode(f.p, cut, pass ? 1 : 0, &g);
            if (cut == 0) {
                assert_int_equal(g.status, RA_EFORMAT);
                got_free(&g);
                continue;
            }
            if (g.status != RA_ETRUNC) fail_msg("cut %zu: %s", cut, ra_strerror(g.status));
            size_t want = 0, whole = 0;
            if (cut >= hs) {
                for (size_t k = 0; k < nb && bounds[k] <= cut; k++) want = bounds[k];
                for (size_t k = 0; k < full.n; k++)
                    whole += full.r[k].offset + 32 + ((full.r[k].len + 7) & ~7u) <= cut;
            }
            if (g.err.offset != want)
                fail_msg("cut %zu: offset %llu, want %zu (%s)", cut,
                         (unsigned long long)g.err.offset, want, g.err.msg);
            assert_int_equal(g.n, whole);
            assert_records(&g, &s, g.n);
            assert_int_equal(g.err.comp_offset, RA_TICK_NO_OFFSET);
            got_free(&g);
        }
    }
    got_free(&full);
    tspec_free(&f);
    free_records(&s);
}

static void test_truncated_zstd(void **state)
{
    (void)state;
    tspec_buf f = {0};
    recset s;
    small_file(&f, &s, true, 30);
    got full;
    decode(f.p, f.len, 0, &full);
    assert_int_equal(full.status, RA_OK);
    assert_true(full.st.frames >= 3);
    for (size_t cut = 0; cut < f.len; cut++) {
        got g;
        decode(f.p, cut, cut % 3 ? 0 : 1, &g);
        if (cut == 0) {
            assert_int_equal(g.status, RA_EFORMAT);
            got_free(&g);
            continue;
        }
        if (g.status != RA_ETRUNC) fail_msg("cut %zu: %s", cut, g.err.msg);
        assert_records(&g, &s, g.n);
        if (cut >= 4) assert_int_equal(g.err.comp_offset, cut);
        assert_true(g.err.offset <= full.st.bytes);
        got_free(&g);
    }
    /* the last byte missing: everything delivered, but the last checksum is not verified */
    got g;
    decode(f.p, f.len - 1, 0, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    assert_int_equal(g.n, s.n);
    assert_non_null(strstr(g.err.msg, "zstd frame"));
    got_free(&g);
    got_free(&full);
    tspec_free(&f);
    free_records(&s);
}

/* ---- damage --------------------------------------------------------------------------------- */

static void test_bitflips_plain(void **state)
{
    (void)state;
    tspec_buf f = {0};
    recset s;
    small_file(&f, &s, false, 10);
    got full;
    decode(f.p, f.len, 0, &full);
    size_t hs = (size_t)full.r[0].offset; /* the stream is in the header */
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    size_t detected = 0;
    for (size_t bit = 0; bit < f.len * 8; bit++) {
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ra_tick_decoder_reset(d);
        got g;
        decode_with(d, f.p, f.len, bit % 2 ? 0 : 64, &g);
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t at = bit / 8;
        /* where did the flip land? */
        int where = 0; /* 0 header/stream/end record, 1 record header, 2 payload, 3 padding */
        size_t rec = 0;
        for (size_t k = 0; k < full.n; k++) {
            size_t o = (size_t)full.r[k].offset, l = full.r[k].len;
            if (at >= o && at < o + 32 + ((l + 7) & ~(size_t)7)) {
                where = at < o + 32 ? 1 : at < o + 32 + l ? 2 : 3;
                rec = k;
            }
        }
        if (at < hs) where = 0;
        if (where == 0) {
            if (g.status >= 0) fail_msg("bit %zu in header/special record undetected", bit);
        } else if (where == 1) {
            assert_int_equal(g.status, RA_ECORRUPT);
            assert_int_equal(g.err.offset, full.r[rec].offset);
            assert_non_null(strstr(g.err.msg, "check"));
        } else {
            /* plain files do not protect payload bytes: a payload flip shows in that record
             * only; padding is ignored */
            assert_int_equal(g.status, RA_OK);
            assert_int_equal(g.n, s.n);
            for (size_t k = 0; k < s.n; k++)
                if (!(where == 2 && k == rec)) assert_true(same_record(&g.r[k], &s.r[k]));
        }
        detected += g.status < 0;
        got_free(&g);
    }
    assert_true(detected > f.len * 4);
    ra_tick_decoder_destroy(d);
    got_free(&full);
    tspec_free(&f);
    free_records(&s);
}

static void test_bitflips_zstd(void **state)
{
    (void)state;
    tspec_buf f = {0};
    recset s;
    small_file(&f, &s, true, 10); /* random payloads: stored as raw literals, no entropy guard */
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    size_t checksum_errors = 0;
    for (size_t bit = 0; bit < f.len * 8; bit++) {
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ra_tick_decoder_reset(d);
        got g;
        decode_with(d, f.p, f.len, bit % 3 ? 0 : 7, &g);
        f.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (g.status == RA_OK) {
            /* accepted only when the content is intact */
            assert_records(&g, &s, s.n);
        } else {
            assert_true(g.status < 0);
            if (strstr(g.err.msg, "checksum")) {
                checksum_errors++;
                assert_int_equal(g.status, RA_ECORRUPT);
                assert_true(g.err.comp_offset != RA_TICK_NO_OFFSET);
                assert_true(g.err.frame_offset <= g.err.comp_offset);
            }
        }
        got_free(&g);
    }
    assert_true(checksum_errors > 100);
    /* and explicitly: the last 4 bytes are the last frame's checksum */
    f.p[f.len - 2] ^= 0x10;
    got g;
    decode(f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_non_null(strstr(g.err.msg, "checksum"));
    assert_int_equal(g.err.comp_offset, f.len); /* the problem lies before comp_offset */
    got_free(&g);
    ra_tick_decoder_destroy(d);
    tspec_free(&f);
    free_records(&s);
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void test_empty_and_short(void **state)
{
    (void)state;
    got g;
    decode((const uint8_t *)"", 0, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    assert_non_null(strstr(g.err.msg, "empty"));
    got_free(&g);
    decode((const uint8_t *)"\x89RT", 3, 1, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    got_free(&g);
    decode((const uint8_t *)"\x28\xb5", 2, 1, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    got_free(&g);
    decode((const uint8_t *)"XYZ", 3, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    decode((const uint8_t *)"\x89RTK\r\n\x1a", 7, 0, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    assert_int_equal(g.err.offset, 0);
    got_free(&g);
    decode((const uint8_t *)"\x89RTX\r\n\x1a\n", 8, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    decode((const uint8_t *)"\x89RTX\r", 5, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    /* zstd with empty content, and zstd holding something else */
    uint8_t z[64];
    size_t zn = ZSTD_compress(z, sizeof z, "", 0, 1);
    decode(z, zn, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    got_free(&g);
    zn = ZSTD_compress(z, sizeof z, "\xd4\xc3\xb2\xa1 a pcap file", 17, 1);
    decode(z, zn, 0, &g);
    assert_int_equal(g.status, RA_EFORMAT);
    assert_non_null(strstr(g.err.msg, "zstd"));
    assert_int_equal(ra_tick_probe(z, zn), RA_TICK_PROBE_NO);
    got_free(&g);
    /* zstd garbage after the magic */
    uint8_t junk[32];
    memset(junk, 0xff, sizeof junk);
    memcpy(junk, "\x28\xb5\x2f\xfd", 4);
    decode(junk, sizeof junk, 0, &g);
    assert_true(g.status == RA_ECORRUPT || g.status == RA_EFORMAT);
    got_free(&g);
    /* probe */
    assert_int_equal(ra_tick_probe("", 0), RA_TICK_PROBE_MORE);
    assert_int_equal(ra_tick_probe("\x89R", 2), RA_TICK_PROBE_MORE);
    assert_int_equal(ra_tick_probe("\x89RTK\r\n\x1a\n", 8), RA_TICK_PROBE_PLAIN);
    assert_int_equal(ra_tick_probe("GET / HTTP", 10), RA_TICK_PROBE_NO);
    assert_int_equal(ra_tick_probe("\x28\xb5\x2f", 3), RA_TICK_PROBE_MORE);
}

/* Header with one field patched (CRC recomputed unless told otherwise). */
static void header_case(void (*patch)(tspec_buf *), int want, uint64_t want_off)
{
    tspec_hdr o = tspec_hdr_default();
    tspec_buf b = {0};
    tspec_header(&b, &o);
    tspec_end(&b, 32, 0, 0);
    patch(&b);
    got g;
    decode(b.p, b.len, 0, &g);
    if (g.status != want) fail_msg("%s, want %s", g.err.msg, ra_strerror(want));
    assert_int_equal(g.err.offset, want_off);
    got_free(&g);
    tspec_free(&b);
}

static void p_hs_huge(tspec_buf *b)
{
    ra_store_le32(b->p + 12, 0xFFFFFFF8u);
}
static void p_hs_small(tspec_buf *b)
{
    ra_store_le32(b->p + 12, 64);
}
static void p_hs_odd(tspec_buf *b)
{
    ra_store_le32(b->p + 12, ra_load_le32(b->p + 12) + 4);
}
static void p_crc(tspec_buf *b)
{
    b->p[70] ^= 1;
}
static void p_rhs(tspec_buf *b)
{
    ra_store_le32(b->p + 20, 24);
    tspec_fix_crc(b->p, b->len);
}
static void p_maxp(tspec_buf *b)
{
    ra_store_le32(b->p + 32, RA_TICK_MAX_PAYLOAD + 1);
    tspec_fix_crc(b->p, b->len);
}
static void p_nstreams(tspec_buf *b)
{
    ra_store_le32(b->p + 36, 3);
    tspec_fix_crc(b->p, b->len);
}
static void p_names(tspec_buf *b)
{
    b->p[41] = 0xFF;
    tspec_fix_crc(b->p, b->len);
}
static void p_nul(tspec_buf *b)
{
    b->p[65] = 0;
    tspec_fix_crc(b->p, b->len);
}
static void p_streams_huge(tspec_buf *b)
{
    ra_store_le32(b->p + 36, 0xFFFFFFFFu);
    tspec_fix_crc(b->p, b->len);
}

static void test_bad_headers(void **state)
{
    (void)state;
    header_case(p_hs_huge, RA_ECORRUPT, 12);
    header_case(p_hs_small, RA_ECORRUPT, 12);
    header_case(p_hs_odd, RA_ECORRUPT, 12);
    header_case(p_crc, RA_ECORRUPT, 92);
    header_case(p_rhs, RA_ECORRUPT, 20);
    header_case(p_maxp, RA_ECORRUPT, 32);
    header_case(p_nstreams, RA_ECORRUPT, 88);
    header_case(p_names, RA_ECORRUPT, 40);
    header_case(p_nul, RA_ECORRUPT, 64);
    header_case(p_streams_huge, RA_ECORRUPT, 36);
}

static void test_huge_lengths(void **state)
{
    (void)state;
    tspec_hdr o = tspec_hdr_default();
    o.max_payload = RA_TICK_MAX_PAYLOAD;
    uint32_t lens[] = {0xFFFFFFFFu, RA_TICK_MAX_PAYLOAD + 1, 0x80000000u};
    for (size_t k = 0; k < 3; k++) {
        tspec_buf b = {0};
        tspec_header(&b, &o);
        tspec_record(&b, 32, 3, 'A', 0, 0, 0, 0, "abc");
        size_t at = b.len;
        tspec_record(&b, 32, 0, 'A', 0, 0, 0, 0, "");
        ra_store_le32(b.p + at, lens[k]);
        ra_store_le32(b.p + at + 12,
                      tspec_check(b.p + at)); /* a well-formed header with a huge length */
        got g;
        decode(b.p, b.len, 5, &g);
        assert_int_equal(g.status, RA_ECORRUPT);
        assert_int_equal(g.err.offset, at);
        assert_non_null(strstr(g.err.msg, "impossible record length"));
        assert_int_equal(g.n, 1);
        got_free(&g);
        tspec_free(&b);
    }
    /* the largest legal record, cut short: a truncation, and memory follows the bytes seen */
    tspec_buf b = {0};
    tspec_header(&b, &o);
    size_t at = b.len;
    tspec_record(&b, 32, 0, 'A', 0, 0, 0, 0, "");
    ra_store_le32(b.p + at, RA_TICK_MAX_PAYLOAD);
    ra_store_le32(b.p + at + 12, tspec_check(b.p + at));
    tspec_put(&b, "some bytes", 10);
    got g;
    decode(b.p, b.len, 3, &g);
    assert_int_equal(g.status, RA_ETRUNC);
    assert_int_equal(g.err.offset, at);
    assert_non_null(strstr(g.err.msg, "16777248"));
    got_free(&g);
    /* a file with a smaller max_payload refuses a record within the hard limit */
    tspec_free(&b);
    o.max_payload = 100;
    tspec_header(&b, &o);
    at = b.len;
    char big[101] = {0};
    tspec_record(&b, 32, 101, 'A', 0, 0, 0, 0, big);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.err.offset, at);
    got_free(&g);
    tspec_free(&b);
}

static void test_end_record(void **state)
{
    (void)state;
    tspec_hdr o = tspec_hdr_default();
    got g;
    /* counts that do not match the file */
    tspec_buf b = {0};
    tspec_header(&b, &o);
    tspec_record(&b, 32, 3, 'A', 0, 0, 0, 0, "abc");
    size_t at = b.len;
    tspec_end(&b, 32, 2, 3);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.err.offset, at);
    got_free(&g);
    tspec_free(&b);
    /* data after the end record: plain, and two zstd files concatenated */
    tspec_header(&b, &o);
    tspec_end(&b, 32, 0, 0);
    size_t end = b.len;
    tspec_record(&b, 32, 3, 'A', 0, 0, 0, 0, "abc");
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.err.offset, end);
    assert_non_null(strstr(g.err.msg, "after the end"));
    got_free(&g);
    tspec_free(&b);
    recset s = make_records(5, 1, false);
    ra_tick_writer_config cfg = cfg_for(true);
    write_file(&b, &s, &cfg);
    size_t one = b.len;
    write_file(&b, &s, &cfg);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_ECORRUPT);
    assert_int_equal(g.n, 5);
    assert_true(g.err.comp_offset > one);
    got_free(&g);
    /* a zstd skippable frame after the end is fine */
    b.len = one;
    uint8_t skip[12] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
    tspec_put(&b, skip, sizeof skip);
    decode(b.p, b.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 5);
    got_free(&g);
    tspec_free(&b);
    free_records(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_plain), cmocka_unit_test(test_truncated_zstd),
        cmocka_unit_test(test_bitflips_plain),  cmocka_unit_test(test_bitflips_zstd),
        cmocka_unit_test(test_empty_and_short), cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_huge_lengths),    cmocka_unit_test(test_end_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
