/* test_rp_dbn.c - the Databento DBN parser (replay/dbn.c) and input (replay/in_dbn.c) on
 * hand-built metadata and records: versions 1, 2 and 3, ts_out, symbol mappings, record times,
 * fragments, and every input error with its byte offset */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dbn.h"
#include "fuzz/make_corpus.h"
#include "source.h"

#define T0 UINT64_C(1704205800000000000)

static const char *const syms[] = {"AAPL", "MSFT", "A.VERY.LONG.SYMBOL.NAME"};

/* What a whole read of b gives: rc, messages, and the first few messages (copied). */
typedef struct got {
    int rc;
    char err[512];
    rp_feed_stats st;
    size_t n;
    uint16_t type[8];
    uint32_t len[8];
    uint64_t ts[8];
    uint8_t first[8][2];
} got;

static got read_all(const rpb *b, const char *format, uint8_t dbn_version)
{
    got g;
    memset(&g, 0, sizeof g);
    rp_source_opts o = {.dbn_version = dbn_version};
    if (format) assert_int_equal(rp_format_parse(format, &o.format), 0);
    rp_source *s;
    if (rp_source_open_mem(&s, b->p, b->len, "t.dbn", &o, g.err, sizeof g.err) != 0) {
        g.rc = -1;
        return g;
    }
    rp_message m;
    while ((g.rc = rp_source_next(s, &m)) == 1) {
        if (g.n < 8) {
            g.type[g.n] = m.type;
            g.len[g.n] = m.len;
            g.ts[g.n] = m.ts_ns;
            memcpy(g.first[g.n], m.data, 2);
        }
        g.n++;
    }
    if (g.rc < 0) snprintf(g.err, sizeof g.err, "%s", rp_source_error(s));
    g.st = *rp_source_stats(s);
    rp_source_close(s);
    return g;
}

/* The metadata of each version, parsed alone: every fixed field, the lists, the mappings. */
static void test_meta_versions(void **state)
{
    (void)state;
    for (unsigned v = 1; v <= 3; v++) {
        rpb b = {0};
        rpb_dbn_meta(&b, v, v == 2, syms, 3);
        uint8_t version;
        uint32_t len, at = 0;
        char why[200];
        assert_int_equal(rp_dbn_prelude(b.p, b.len, &version, &len), 0);
        assert_int_equal(version, v);
        assert_int_equal(len + RP_DBN_PRELUDE, b.len);
        assert_int_equal(b.len % 8, 0);
        rp_dbn_meta m;
        assert_int_equal(rp_dbn_meta_parse(v, b.p + 8, len, &m, &at, why, sizeof why), 0);
        assert_string_equal(m.dataset, "TEST.DS");
        assert_string_equal(rp_dbn_schema_name(m.schema), "mbo");
        assert_int_equal(m.start, T0);
        assert_int_equal(m.end, T0 + UINT64_C(86400000000000));
        assert_int_equal(m.limit, 0);
        assert_int_equal(m.record_count, UINT64_MAX);
        assert_string_equal(rp_dbn_stype_name(m.stype_in), "raw_symbol");
        assert_string_equal(rp_dbn_stype_name(m.stype_out), "instrument_id");
        assert_int_equal(m.ts_out, v == 2);
        assert_int_equal(m.symbol_cstr_len, v == 1 ? 22 : 71);
        assert_int_equal(m.count[RP_DBN_SYMBOLS], 3);
        assert_int_equal(m.count[RP_DBN_PARTIAL], 0);
        assert_int_equal(m.count[RP_DBN_NOT_FOUND], 0);
        assert_int_equal(m.count[RP_DBN_MAPPINGS], 3);
        assert_int_equal(m.intervals, 3);
        char sym[RP_DBN_SYMBOL_CAP];
        assert_string_equal(rp_dbn_symbol(&m, RP_DBN_SYMBOLS, 1, sym), "MSFT");
        /* 22 bytes in version 1: the long symbol is cut to 21 characters and its NUL */
        assert_string_equal(rp_dbn_symbol(&m, RP_DBN_SYMBOLS, 2, sym),
                            v == 1 ? "A.VERY.LONG.SYMBOL.NA" : "A.VERY.LONG.SYMBOL.NAME");
        assert_string_equal(rp_dbn_symbol(&m, RP_DBN_SYMBOLS, 3, sym), "");
        rp_dbn_walk w;
        uint32_t n, d0, d1;
        char raw[RP_DBN_SYMBOL_CAP];
        rp_dbn_walk_init(&m, &w);
        assert_int_equal(rp_dbn_walk_mapping(&m, &w, raw, &n), 1);
        assert_string_equal(raw, "AAPL");
        assert_int_equal(rp_dbn_walk_mapping(&m, &w, raw, &n), 1); /* skips AAPL's intervals */
        assert_string_equal(raw, "MSFT");
        assert_int_equal(n, 1);
        assert_int_equal(rp_dbn_walk_interval(&m, &w, &d0, &d1, sym), 1);
        assert_int_equal(d0, 20240102);
        assert_int_equal(d1, 20240103);
        assert_string_equal(sym, "1001");
        assert_int_equal(rp_dbn_walk_interval(&m, &w, &d0, &d1, sym), 0);
        assert_int_equal(rp_dbn_walk_mapping(&m, &w, raw, &n), 1);
        assert_int_equal(rp_dbn_walk_mapping(&m, &w, raw, &n), 0);
        rpb_free(&b);
    }
}

/* Records: each one message; type = rtype; time = ts_recv where the rtype has one. */
static void test_records_and_times(void **state)
{
    (void)state;
    rpb b = {0};
    rpb_dbn_meta(&b, 3, false, syms, 2);
    rpb_dbn_rec(&b, 0xA0, 14, 1, T0 + 1, 40, T0 + 10, false);  /* MBO: ts_recv at 40 */
    rpb_dbn_rec(&b, 0x00, 12, 2, T0 + 2, 32, T0 + 20, false);  /* trades: at 32 */
    rpb_dbn_rec(&b, 0x21, 14, 1, T0 + 3, 0, 0, false);         /* OHLCV 1m: ts_event */
    rpb_dbn_rec(&b, 0x13, 130, 2, T0 + 4, 16, T0 + 40, false); /* definition: at 16 */
    rpb_dbn_rec(&b, 0x17, 4, 0, T0 + 5, 0, 0, false);          /* system, header only */
    rpb_dbn_rec(&b, 0xA0, 14, 1, T0 + 6, 40, T0 + 60, false);
    got g = read_all(&b, NULL, 0);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 6);
    assert_int_equal(g.st.messages, 6);
    assert_false(g.st.truncated);
    assert_false(g.st.type_is_char);
    assert_int_equal(g.st.by_type[0xA0], 2);
    assert_int_equal(g.st.by_type[0x00], 1);
    assert_int_equal(g.st.by_type[0x21], 1);
    assert_int_equal(g.st.by_type[0x13], 1);
    assert_int_equal(g.st.by_type[0x17], 1);
    static const uint16_t types[] = {0xA0, 0x00, 0x21, 0x13, 0x17, 0xA0};
    static const uint32_t lens[] = {56, 48, 56, 520, 16, 56};
    static const uint64_t ts[] = {T0 + 10, T0 + 20, T0 + 3, T0 + 40, T0 + 5, T0 + 60};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(g.type[i], types[i]);
        assert_int_equal(g.len[i], lens[i]);
        assert_int_equal(g.ts[i], ts[i]);
        assert_int_equal(g.first[i][0], lens[i] / 4); /* the record from its first byte */
    }
    assert_int_equal(g.st.bytes, b.len);
    rpb_free(&b);
}

/* ts_out: the 8-byte send time ends every record and its length counts it; it is never read as
 * the next record, nor as ts_recv. */
static void test_ts_out(void **state)
{
    (void)state;
    rpb b = {0};
    rpb_dbn_meta(&b, 2, true, syms, 1);
    rpb_dbn_rec(&b, 0xA0, 16, 1, T0 + 1, 40, T0 + 10, true);
    rpb_dbn_rec(&b, 0x17, 6, 0, T0 + 2, 0, 0, true); /* header + trailer only */
    rpb_dbn_rec(&b, 0x01, 22, 1, T0 + 3, 32, T0 + 30, true);
    got g = read_all(&b, NULL, 0);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.len[0], 64);
    assert_int_equal(g.len[1], 24);
    assert_int_equal(g.len[2], 88);
    assert_int_equal(g.ts[0], T0 + 10);
    assert_int_equal(g.ts[1], T0 + 2);
    assert_int_equal(g.ts[2], T0 + 30);
    assert_int_equal(g.st.by_type[0x01], 1);
    /* with ts_out, a record of the header alone is too short for its trailer */
    rpb_dbn_rec(&b, 0x17, 4, 0, T0 + 4, 0, 0, false);
    g = read_all(&b, NULL, 0);
    assert_int_equal(g.rc, -1);
    assert_non_null(strstr(g.err, "record 4 at byte offset"));
    assert_non_null(strstr(g.err, "ts_out trailer"));
    rpb_free(&b);
}

/* A fragment: records without prelude or metadata, read only when the format says so. */
static void test_fragment(void **state)
{
    (void)state;
    rpb b = {0};
    rpb_dbn_rec(&b, 0xA0, 14, 1, T0 + 1, 40, T0 + 10, false);
    rpb_dbn_rec(&b, 0x01, 20, 1, T0 + 2, 32, T0 + 20, false);
    got g = read_all(&b, "dbn-frag", 1);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.ts[1], T0 + 20);
    assert_int_equal(g.st.by_type[0x01], 1);
    g = read_all(&b, NULL, 0);
    assert_int_equal(g.rc, -1);
    assert_non_null(strstr(g.err, "t.dbn: unrecognised format"));
    rpb_free(&b);
}

/* expects the read of b to fail with `what` in the message, naming the file and an offset */
static void expect_error(const rpb *b, const char *what)
{
    got g = read_all(b, NULL, 0);
    assert_int_equal(g.rc, -1);
    if (!strstr(g.err, what) || !strstr(g.err, "t.dbn: ") || !strstr(g.err, "byte offset "))
        fail_msg("want '%s', got '%s'", what, g.err);
}

/* Every input error: exit 2 material, with the file and the byte offset. */
static void test_errors(void **state)
{
    (void)state;
    rpb b = {0}, c = {0};
    rpb_dbn_meta(&b, 3, false, syms, 2);
    size_t meta = b.len;
    rpb_dbn_rec(&b, 0xA0, 14, 1, T0 + 1, 40, T0 + 10, false);
    rpb_dbn_rec(&b, 0xA0, 14, 1, T0 + 2, 40, T0 + 20, false);
    /* truncated metadata */
    rpb_put(&c, b.p, meta - 9);
    expect_error(&c, "DBN metadata cut short at byte offset");
    /* a record length of 0, and one word past the end */
    c.len = 0;
    rpb_put(&c, b.p, b.len);
    char want[160];
    c.p[meta + 56] = 0;
    snprintf(want, sizeof want, "record 2 at byte offset %zu: length 0 words", meta + 56);
    expect_error(&c, want);
    c.p[meta + 56] = 15;
    snprintf(want, sizeof want,
             "record 2 at byte offset %zu: length 15 words (60 bytes) runs past the end of the "
             "input (56 bytes left)",
             meta + 56);
    expect_error(&c, want);
    /* an unknown version */
    c.p[meta + 56] = 14;
    c.p[3] = 4;
    expect_error(&c, "unknown DBN version 4 at byte offset 3");
    c.p[3] = 0;
    expect_error(&c, "unknown DBN version 0 at byte offset 3");
    c.p[3] = 3;
    /* a metadata length that lies: short (a list runs past it), long (it swallows a record),
     * beyond the input, and below the fixed fields */
    ra_store_le32(c.p + 4, (uint32_t)meta - 8 - 100);
    expect_error(&c, "DBN metadata, byte offset");
    ra_store_le32(c.p + 4, (uint32_t)meta - 8 + 56);
    expect_error(&c, "not zero padding");
    ra_store_le32(c.p + 4, 0x7FFFFF);
    expect_error(&c, "DBN metadata cut short");
    ra_store_le32(c.p + 4, 50);
    expect_error(&c, "DBN metadata length 50 at byte offset 4 is out of range");
    /* a count that lies: far more symbols than the metadata holds */
    ra_store_le32(c.p + 4, (uint32_t)meta - 8);
    ra_store_le32(c.p + 8 + 104, 0x10000000);
    expect_error(&c, "the symbols needs");
    rpb_free(&c);
    rpb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_versions), cmocka_unit_test(test_records_and_times),
        cmocka_unit_test(test_ts_out),        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
