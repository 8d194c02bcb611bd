/* test_rp_input.c - replay's input table and what the input layer says beyond counts: names and
 * detection from the table, UDP payloads framed with no capture in sight, damaged ITCH records,
 * filters that match nothing, time ranges that run backwards, feed sums, per-protocol types */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"
#include "feed.h"
#include "framing.h"
#include "fuzz/make_corpus.h"
#include "input.h"
#include "json.h"

#define T0 UINT64_C(1700000000000000000)

/* Reads b to its end: the last result, stats, warnings joined by '\n', the error. */
typedef struct outcome {
    int rc;
    rp_feed_stats st;
    char warn[2048], err[512];
} outcome;

static outcome read_all(const rpb *b, const rp_source_opts *o)
{
    outcome r;
    memset(&r, 0, sizeof r);
    rp_source *s;
    if (rp_source_open_mem(&s, b->p, b->len, "mem.bin", o, r.err, sizeof r.err) != 0) {
        r.rc = -1;
        return r;
    }
    rp_message m;
    while ((r.rc = rp_source_next(s, &m)) == 1) continue;
    if (r.rc < 0) snprintf(r.err, sizeof r.err, "%s", rp_source_error(s));
    r.st = *rp_source_stats(s);
    size_t k = 0;
    for (size_t i = 0; i < rp_source_warning_count(s); i++)
        k += (size_t)snprintf(r.warn + k, sizeof r.warn - k, "%s\n", rp_source_warning(s, i));
    rp_source_close(s);
    return r;
}

/* a pcap of MoldUDP64 packets (one A each, sequence 1, 2, ...) to 26477, `vlans` tags each,
 * with the given timestamps */
static void mold_capture(rpb *c, int vlans, const uint64_t *ts, size_t n)
{
    rpb_flow f = rpb_flow4(0x0A000001, 0xE9360C6F, 5000, 26477);
    rpb_pcap_hdr(c, true, false, 1);
    for (size_t i = 0; i < n; i++) {
        rpb pl = {0}, fr = {0};
        rpb_mold(&pl, "SESSION", 1 + i, 1);
        rpb_itch_record(&pl, 'A', i);
        rpb_eth_hdr(&fr, 0x0800, vlans, false);
        rpb_ip_udp(&fr, &f, pl.p, pl.len);
        rpb_pcap_pkt(c, true, false, ts[i], fr.p, fr.len, fr.len);
        rpb_free(&pl);
        rpb_free(&fr);
    }
}

static void test_table(void **state)
{
    (void)state;
    char names[128];
    assert_string_equal(rp_format_names(names, sizeof names, ", "),
                        "pcap, pcapng, itch, rtk, dbn, dbn-frag");
    for (rp_format f = RP_FMT_PCAP; f <= RP_FMT_RTK + 2; f++) {
        rp_format back = RP_FMT_AUTO;
        assert_non_null(rp_input_at(f));
        assert_int_equal(rp_format_parse(rp_format_name(f), &back), 0);
        assert_int_equal(back, f);
    }
    rp_format f = RP_FMT_AUTO;
    assert_int_equal(rp_format_parse("itch50", &f), 0); /* an alias */
    assert_int_equal(f, RP_FMT_ITCH);
    assert_null(rp_input_at(RP_FMT_AUTO));
    assert_null(rp_input_at((rp_format)(RP_FMT_RTK + 3)));
    assert_string_equal(rp_format_name(RP_FMT_AUTO), "unknown");
    assert_string_equal(rp_framing_name(RP_FRAMING_IEXTP), "iextp");
    /* a magic number wins over the ITCH heuristic, which is tried last */
    rpb b = {0};
    rpb_itch_record(&b, 'S', 1);
    assert_int_equal(rp_source_detect(b.p, b.len), RP_FMT_ITCH);
    b.len = 0;
    rpb_pcap_hdr(&b, true, false, 1);
    assert_int_equal(rp_source_detect(b.p, b.len), RP_FMT_PCAP);
    /* DBN by its magic, whatever the version; a fragment (no magic) never */
    assert_int_equal(rp_format_parse("dbn", &f), 0);
    assert_int_equal(rp_source_detect((const uint8_t *)"DBN\x09....", 8), f);
    assert_int_equal(rp_format_parse("dbn-frag", &f), 0);
    assert_true(rp_input_at(f)->forced_only);
    rpb_free(&b);
}

/* UDP payloads handed straight to the framer, keyed by flow: what a socket reader does */
static void test_framer_without_capture(void **state)
{
    (void)state;
    rp_feed_stats st;
    memset(&st, 0, sizeof st);
    rp_framer fr;
    rp_framer_init(&fr, RP_FRAMING_AUTO, &st);
    rp_udp u = {.af = 4, .src = {10, 0, 0, 1}, .dst = {233, 54, 12, 111}, .sport = 1, .dport = 2};
    uint8_t key[RP_KEY_MAX];
    size_t klen = rp_udp_flow_key(&u, key);
    rpb pl = {0}, msgs = {0};
    rpb_mold(&pl, "S1", 1, 1); /* the flow's first payload: detected as MoldUDP64 */
    rpb_itch_record(&pl, 'S', 0);
    assert_int_equal(rp_framer_payload(&fr, key, klen, pl.p, pl.len, true, 6), RP_FRAMER_OK);
    rp_message m[4];
    assert_int_equal(rp_framer_take(&fr, m, 4), 1);
    pl.len = 0;
    rpb_mold(&pl, "S1", 2, 3);
    rpb_itch_record(&pl, 'P', 1);
    rpb_be16(&pl, 600); /* damaged: runs past the end of a whole payload */
    rpb_zero(&pl, 10);
    assert_int_equal(rp_framer_payload(&fr, key, klen, pl.p, pl.len, true, 7), RP_FRAMER_DAMAGED);
    assert_non_null(strstr(fr.fr.why, "message 2 of 3: length 600"));
    rp_mark mk;
    assert_true(rp_framer_take_mark(&fr, &mk));
    assert_true(mk.count == 3 && mk.seq == 2 && mk.ts_ns == 7);
    assert_int_equal(rp_framer_take(&fr, m, 4), 1); /* the message before the bad length */
    assert_true(m[0].type == 'P' && m[0].seq == 2 && m[0].ts_ns == 7);
    assert_int_equal(rp_framer_take(&fr, m, 4), 0);
    pl.len = 0;
    rpb_mold(&pl, "S1", 5, 1); /* the header's count advanced the stream: no gap */
    rpb_itch_record(&pl, 'A', 2);
    assert_int_equal(rp_framer_payload(&fr, key, klen, pl.p, pl.len, true, 8), RP_FRAMER_OK);
    assert_int_equal(rp_framer_take(&fr, m, 4), 1);
    /* another flow: IEX-TP, its 'P' is not ITCH's */
    u.dport = 3;
    klen = rp_udp_flow_key(&u, key);
    pl.len = 0;
    rpb_iex_msg(&msgs, 'P', 42);
    rpb_iex(&pl, 1, 2, 1, 1, &msgs);
    assert_int_equal(rp_framer_payload(&fr, key, klen, pl.p, pl.len, true, 9), RP_FRAMER_OK);
    assert_int_equal(rp_framer_take(&fr, m, 4), 1);
    assert_true(st.messages == 4 && st.decode_errors == 1 && st.gaps == 0);
    assert_true(st.by_proto[RP_PROTO_ITCH]['P'] == 1 && st.by_proto[RP_PROTO_IEXTP]['P'] == 1);
    rp_flow_info fl[2];
    assert_int_equal(rp_framer_flows(&fr, fl, 2), 2);
    assert_string_equal(fl[0].src, "10.0.0.1:1");
    assert_string_equal(fl[0].dst, "233.54.12.111:2");
    assert_true(fl[0].packets == 3 && fl[0].messages == 3 && fl[1].dport == 3);
    char desc[64];
    assert_int_equal(rp_framer_stream_desc(&fr, fl[1].stream, desc, sizeof desc), 0);
    assert_string_equal(desc, "udp 10.0.0.1:1 > 233.54.12.111:3");
    rp_framer_free(&fr);
    rpb_free(&pl);
    rpb_free(&msgs);
}

/* an ITCH file whose record 5 has its length field hit */
static void itch_damaged(rpb *b, unsigned len, size_t *at)
{
    const char types[] = "SRAFDEXUPQ";
    b->len = 0;
    for (int i = 0; i < 20; i++) rpb_itch_record(b, types[i % 10], (uint64_t)i);
    *at = 0;
    for (int i = 0; i < 4; i++) *at += 2 + ra_load_be16(b->p + *at);
    rpb_set_be16(b, *at, len); /* record 5 is a 'D', 19 bytes */
}

static void test_itch_damage(void **state)
{
    (void)state;
    rpb b = {0};
    size_t at;
    const unsigned lens[] = {24, 0, 16, 300}; /* longer, empty, shorter, far longer */
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        itch_damaged(&b, lens[i], &at);
        outcome r = read_all(&b, NULL);
        assert_int_equal(r.rc, 0);
        assert_false(r.st.truncated);
        assert_int_equal(r.st.decode_errors, 1);
        assert_int_equal(r.st.messages, 19); /* the next record was found again */
        char want[128];
        snprintf(want, sizeof want, "record 5 at byte offset %zu: length %u", at, lens[i]);
        assert_non_null(strstr(r.warn, want));
        assert_non_null(strstr(r.warn, "1 damaged record in all"));
    }
    itch_damaged(&b, 24, &at);
    rp_source_opts strict = {.strict = true};
    outcome r = read_all(&b, &strict);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "mem.bin: record 5 at byte offset"));
    assert_non_null(strstr(r.err, "contradicts type 'D' (19 bytes)"));
    /* a filter on a file without packets: said once, ignored */
    rp_source_opts f = {.filter = "udp port 1"};
    r = read_all(&b, &f);
    assert_non_null(strstr(r.warn, "filter 'udp port 1' ignored: ITCH 5.0 input has no packets"));
    rpb_free(&b);
}

static void test_filter_matching_nothing(void **state)
{
    (void)state;
    const uint64_t ts[3] = {T0, T0 + 5, T0 + 9};
    rpb c = {0};
    mold_capture(&c, 1, ts, 3);
    rp_source_opts o = {.filter = "udp port 26477"};
    outcome r = read_all(&c, &o);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.packets, 0);
    assert_non_null(strstr(r.warn, "filter 'udp port 26477' matched none of its 3 packets; 3 of "
                                   "them carry VLAN tags"));
    assert_non_null(strstr(r.warn, "try -F 'vlan and udp port 26477'"));
    o.filter = "vlan and udp port 26477";
    r = read_all(&c, &o);
    assert_int_equal(r.st.messages, 3);
    assert_string_equal(r.warn, "");
    c.len = 0;
    mold_capture(&c, 0, ts, 3);
    o.filter = "udp port 1";
    r = read_all(&c, &o);
    assert_string_equal(r.warn, "filter 'udp port 1' matched none of its 3 packets\n");
    rpb_free(&c);
}

static void test_time_range(void **state)
{
    (void)state;
    const uint64_t ts[5] = {T0 + 50, T0 + 10, T0 + 90, T0 + 70, T0 + 80};
    rpb c = {0};
    mold_capture(&c, 0, ts, 5);
    outcome r = read_all(&c, NULL);
    assert_int_equal(r.rc, 0);
    assert_true(r.st.first_ts_ns == T0 + 50 && r.st.last_ts_ns == T0 + 80);
    assert_true(r.st.min_ts_ns == T0 + 10 && r.st.max_ts_ns == T0 + 90);
    assert_int_equal(r.st.backward_steps, 2);
    rpb_free(&c);
}

static void test_feed_sum(void **state)
{
    (void)state;
    rp_feed_stats a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    rp_feed_stamp(&b, 300);
    rp_feed_stamp(&b, 100);
    b.messages = 2;
    b.by_proto[RP_PROTO_IEXTP]['Q'] = 2;
    b.protos = 1u << RP_PROTO_IEXTP;
    b.type_is_char = true;
    b.truncated = true;
    rp_feed_stats_sum_types(&b);
    rp_feed_stats_add(&a, &b); /* into nothing: a copy of the counts */
    assert_true(a.messages == 2 && a.by_type['Q'] == 2 && a.type_is_char && a.truncated);
    assert_true(a.min_ts_ns == 100 && a.max_ts_ns == 300 && a.backward_steps == 1);
    rp_feed_stats c;
    memset(&c, 0, sizeof c);
    rp_feed_stamp(&c, 50);
    c.by_proto[RP_PROTO_OTHER][1] = 1; /* typed, not characters */
    c.protos = 1u << RP_PROTO_OTHER;
    rp_feed_stats_sum_types(&c);
    rp_feed_stats_add(&a, &c);
    assert_false(a.type_is_char);
    assert_true(a.first_ts_ns == 50 && a.last_ts_ns == 100 && a.min_ts_ns == 50);
    assert_int_equal(rp_feed_protocols(&a), 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    rp_json j;
    rp_json_init(&j, mem);
    rp_json_object_begin(&j, NULL);
    rp_report_by_protocol(&j, &a);
    rp_json_object_end(&j);
    fclose(mem);
    assert_non_null(strstr(buf, "\"by_protocol\""));
    assert_non_null(strstr(buf, "\"iextp\": {\n      \"Q\": 2\n"));
    assert_non_null(strstr(buf, "\"other\": {\n      \"0x01\": 1\n"));
    free(buf);
}

/* Reads an open source to its end: messages delivered, hashed with their sequence numbers. */
static uint64_t drain_hash(rp_source *s, uint64_t *n)
{
    rp_message m;
    uint64_t h = 0xcbf29ce484222325u;
    *n = 0;
    while (rp_source_next(s, &m) == 1) {
        (*n)++;
        h = (h ^ m.seq ^ (uint64_t)m.stream << 40) * 0x100000001b3u;
        for (uint32_t i = 0; i < m.len; i++) h = (h ^ m.data[i]) * 0x100000001b3u;
    }
    return h;
}

/* --loop's rewind: a classic pcap in memory reads again from its first packet with fresh counts
 * (no gap, no backward step from the sequence numbers starting over); other inputs say they
 * cannot (1), unchanged, and are reopened by the caller. */
static void test_rewind(void **state)
{
    (void)state;
    uint64_t ts[5] = {T0, T0 + 10, T0 + 20, T0 + 30, T0 + 40};
    rpb c = {0};
    mold_capture(&c, 1, ts, 5);
    rp_source *s;
    char err[512];
    assert_int_equal(rp_source_open_mem(&s, c.p, c.len, "mem.pcap", NULL, err, sizeof err), 0);
    uint64_t n1, n2;
    uint64_t h1 = drain_hash(s, &n1);
    rp_feed_stats first = *rp_source_stats(s);
    for (int pass = 0; pass < 3; pass++) {
        assert_int_equal(rp_source_rewind(s), 0);
        assert_int_equal(rp_source_stats(s)->messages, 0);
        uint64_t h2 = drain_hash(s, &n2);
        assert_true(n1 == 5 && n2 == 5 && h1 == h2);
        const rp_feed_stats *st = rp_source_stats(s);
        assert_true(st->packets == first.packets && st->bytes == first.bytes && st->gaps == 0 &&
                    st->backward == 0 && st->by_type['A'] == 5 && st->first_ts_ns == T0);
        assert_memory_equal(st, &first, sizeof first);
    }
    rp_source_close(s);

    /* an ITCH file: no rewind (the caller reopens); the source reads on as before */
    rpb itch = {0};
    for (int i = 0; i < 4; i++) rpb_itch_record(&itch, 'D', 1 + (uint64_t)i);
    assert_int_equal(rp_source_open_mem(&s, itch.p, itch.len, "mem.itch", NULL, err, sizeof err),
                     0);
    assert_int_equal(rp_source_rewind(s), 1);
    (void)drain_hash(s, &n1);
    assert_int_equal(n1, 4);
    rp_source_close(s);
    rpb_free(&itch);
    rpb_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_framer_without_capture),
        cmocka_unit_test(test_itch_damage), cmocka_unit_test(test_filter_matching_nothing),
        cmocka_unit_test(test_time_range),  cmocka_unit_test(test_feed_sum),
        cmocka_unit_test(test_rewind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
