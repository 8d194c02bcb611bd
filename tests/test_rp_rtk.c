/* test_rp_rtk.c - replay and tick files: marks redo the feed accounting, convert round-trips
 * captures with awkward packets (malformed messages, heartbeats, gaps at heartbeats, backward
 * packets, end of session, several sessions and framings), cuts and damage name the offset */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/tickfile.h"
#include "convert.h"
#include "framing.h"
#include "fuzz/make_corpus.h"
#include "source.h"

/* ---- helpers --------------------------------------------------------------------------------- */

typedef struct seen {
    int rc; /* last rp_source_next_event() result: 0 end, -1 error */
    rp_feed_stats st;
    uint64_t messages, marks, hash;
    char framing[16];
    char err[768];
} seen;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

/* Reads everything through rp_source_next_event(), hashing every field of messages and marks. */
static void drain(rp_source *s, seen *r)
{
    rp_message m;
    rp_mark k;
    r->hash = 0xcbf29ce484222325u;
    while ((r->rc = rp_source_next_event(s, &m, &k)) > 0) {
        if (r->rc == 2) {
            r->marks++;
            uint64_t v[4] = {k.stream, k.seq, k.count,
                             (uint64_t)k.heartbeat << 1 | k.end_of_session};
            r->hash = fnv(r->hash, v, sizeof v);
            continue;
        }
        r->messages++;
        uint64_t v[5] = {m.stream, m.seq, m.ts_ns, m.type, m.len};
        r->hash = fnv(fnv(r->hash, v, sizeof v), m.data, m.len);
    }
    r->st = *rp_source_stats(s);
    snprintf(r->framing, sizeof r->framing, "%s", rp_source_framing_name(s));
    snprintf(r->err, sizeof r->err, "%s", rp_source_error(s));
}

static seen read_mem(const void *p, size_t n)
{
    seen r;
    memset(&r, 0, sizeof r);
    rp_source *s;
    if (rp_source_open_mem(&s, p, n, "mem.rtk", NULL, r.err, sizeof r.err) != 0) {
        r.rc = -2; /* open failed */
        return r;
    }
    drain(s, &r);
    rp_source_close(s);
    return r;
}

static seen read_path(const char *path)
{
    seen r;
    memset(&r, 0, sizeof r);
    rp_source *s;
    if (rp_source_open(&s, path, NULL, r.err, sizeof r.err) != 0) {
        r.rc = -2;
        return r;
    }
    drain(s, &r);
    rp_source_close(s);
    return r;
}

static int mem_sink(void *ctx, const void *p, size_t n)
{
    rpb_put(ctx, p, n);
    return 0;
}

static void write_file(const char *path, const rpb *b)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b->p, 1, b->len, f), b->len);
    assert_int_equal(fclose(f), 0);
}

static void assert_same_feed(const seen *a, const seen *b)
{
    assert_int_equal(a->rc, 0);
    assert_int_equal(b->rc, 0);
    assert_int_equal(a->st.messages, b->st.messages);
    assert_memory_equal(a->st.by_type, b->st.by_type, sizeof a->st.by_type);
    assert_int_equal(a->st.type_is_char, b->st.type_is_char);
    assert_int_equal(a->st.heartbeats, b->st.heartbeats);
    assert_int_equal(a->st.gaps, b->st.gaps);
    assert_int_equal(a->st.missing, b->st.missing);
    assert_int_equal(a->st.backward, b->st.backward);
    assert_int_equal(a->messages, b->messages);
    assert_int_equal(a->marks, b->marks);
    assert_int_equal(a->hash, b->hash);
    assert_string_equal(a->framing, b->framing);
}

/* ---- a capture with awkward packets, through convert and back -------------------------------- */

static void mold_pkt(rpb *cap, const rpb_flow *f, uint64_t ts, const char *session, uint64_t seq,
                     unsigned count, const char *types, const size_t *lens)
{
    rpb pl = {0}, frame = {0};
    rpb_mold(&pl, session, seq, count);
    for (size_t i = 0; types && types[i]; i++) {
        if (lens && lens[i] != (size_t)-1)
            rpb_itch_record_len(&pl, types[i], ts, lens[i]);
        else
            rpb_itch_record(&pl, types[i], ts);
    }
    rpb_eth_udp(&frame, f, pl.p, pl.len);
    rpb_pcap_pkt(cap, true, false, ts, frame.p, frame.len, frame.len);
    rpb_free(&pl);
    rpb_free(&frame);
}

static void awkward_capture(rpb *cap)
{
    rpb_flow a = rpb_flow4(0x0a000001, 0xe9360c6f, 5000, 26477);
    rpb_flow b = rpb_flow4(0x0a000002, 0xe04300c7, 5001, 16642);
    rpb_flow c = rpb_flow6(1, 2, 7000, 7001);
    rpb_pcap_hdr(cap, true, false, 1);
    uint64_t t = UINT64_C(1704205800000000000);
    const size_t bad[] = {(size_t)-1, 10, (size_t)-1}; /* an 'A' of 10 bytes: a decode error */
    mold_pkt(cap, &a, t++, "S1", 1, 3, "AAD", bad);
    mold_pkt(cap, &a, t++, "S1", 4, 0, NULL, NULL);  /* heartbeat */
    mold_pkt(cap, &a, t++, "S1", 8, 2, "EC", NULL);  /* gap: 4 missing */
    mold_pkt(cap, &a, t++, "S1", 12, 0, NULL, NULL); /* gap found by a heartbeat: 2 missing */
    mold_pkt(cap, &a, t++, "S1", 5, 2, "XU", NULL);  /* backward */
    const size_t empty[] = {0};
    mold_pkt(cap, &a, t++, "S1", 7, 1, "A", empty);           /* a zero-length message only */
    mold_pkt(cap, &a, t++, "S2", 100, 1, "P", NULL);          /* another session on the same flow */
    mold_pkt(cap, &a, t++, "S1", 8, RP_MOLD_EOS, NULL, NULL); /* end of session */
    /* IEX-TP: data, heartbeat, a gap */
    uint64_t iseq[] = {1, 3, 10};
    unsigned icount[] = {2, 0, 1};
    for (int i = 0; i < 3; i++) {
        rpb msgs = {0}, pl = {0}, frame = {0};
        for (unsigned k = 0; k < icount[i]; k++) rpb_iex_msg(&msgs, "QT"[k], 20 + k);
        rpb_iex(&pl, 1, 42, iseq[i], icount[i], icount[i] ? &msgs : NULL);
        rpb_eth_udp(&frame, &b, pl.p, pl.len);
        rpb_pcap_pkt(cap, true, false, t++, frame.p, frame.len, frame.len);
        rpb_free(&msgs);
        rpb_free(&pl);
        rpb_free(&frame);
    }
    /* plain UDP payloads (udp framing), and an ARP frame */
    for (int i = 0; i < 2; i++) {
        rpb frame = {0};
        rpb_eth_udp(&frame, &c, "\x01\x02\x03 not a framing", 18);
        rpb_pcap_pkt(cap, true, false, t++, frame.p, frame.len, frame.len);
        rpb_free(&frame);
    }
    rpb arp = {0};
    rpb_eth_hdr(&arp, 0x0806, 0, false);
    rpb_zero(&arp, 46);
    rpb_pcap_pkt(cap, true, false, t++, arp.p, arp.len, arp.len);
    rpb_free(&arp);
}

static char tmpl[64];

static const char *tmp_file(const char *name)
{
    static char path[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof path[i], "%s/%s", tmpl, name);
    return path[i];
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpl, sizeof tmpl, "/tmp/test_rp_rtk_XXXXXX");
    return mkdtemp(tmpl) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"cap.pcap", "cap.rtk", "cap.rtk.zst", "two.rtk.zst"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp_file(names[i]));
    rmdir(tmpl);
    return 0;
}

static void test_convert_awkward_capture(void **state)
{
    (void)state;
    rpb cap = {0};
    awkward_capture(&cap);
    write_file(tmp_file("cap.pcap"), &cap);
    seen src = read_path(tmp_file("cap.pcap"));
    assert_int_equal(src.rc, 0);
    assert_int_equal(src.st.decode_errors, 2);
    assert_int_equal(src.st.heartbeats, 3 + 1); /* two MoldUDP64 + end of session, one IEX-TP */
    assert_int_equal(src.st.gaps, 3);           /* 4..8, at the heartbeat 10..12, IEX-TP 3..10 */
    assert_int_equal(src.st.missing, 4 + 2 + 7);
    assert_int_equal(src.st.backward, 1); /* seq 5 below 12 (the end of session is on time) */
    assert_int_equal(src.st.non_udp, 1);
    assert_string_equal(src.framing, "mixed");
    assert_int_equal(src.marks, 11);

    const char *outs[] = {tmp_file("cap.rtk"), tmp_file("cap.rtk.zst")};
    for (int z = 0; z < 2; z++) {
        const char *in[] = {tmp_file("cap.pcap")};
        rp_convert_opts o = {.inputs = in, .ninputs = 1, .output = outs[z], .compress = z == 1};
        rp_convert_result res;
        char err[512];
        assert_int_equal(rp_convert(&o, &res, err, sizeof err), RP_CONVERT_OK);
        assert_int_equal(res.marks, 11);
        assert_int_equal(res.feed.gaps, src.st.gaps);
        assert_int_equal(res.streams, 4); /* S1, S2, the IEX-TP session, the UDP flow */
        assert_true(res.out_bytes > 0);
        seen conv = read_path(outs[z]);
        assert_same_feed(&src, &conv);
        assert_int_equal(conv.st.packets, conv.st.messages); /* records, for a tick file */
    }
    /* two inputs: the second one's streams get new ids, so no gap appears between them */
    const char *two[] = {tmp_file("cap.pcap"), tmp_file("cap.rtk")};
    rp_convert_opts o = {
        .inputs = two, .ninputs = 2, .output = tmp_file("two.rtk.zst"), .compress = true};
    rp_convert_result res;
    char err[512];
    assert_int_equal(rp_convert(&o, &res, err, sizeof err), RP_CONVERT_OK);
    assert_string_equal(res.formats, "pcap,rtk");
    seen both = read_path(tmp_file("two.rtk.zst"));
    assert_int_equal(both.rc, 0);
    assert_int_equal(both.st.gaps, 2 * src.st.gaps);
    assert_int_equal(both.st.missing, 2 * src.st.missing);
    assert_int_equal(both.st.backward, 2 * src.st.backward);
    assert_int_equal(both.st.heartbeats, 2 * src.st.heartbeats);
    assert_int_equal(both.messages, 2 * src.messages);
    /* a missing input fails before any output exists */
    const char *bad[] = {tmp_file("cap.pcap"), tmp_file("nonexistent.pcap")};
    o = (rp_convert_opts){.inputs = bad, .ninputs = 2, .output = tmp_file("cap.rtk")};
    unlink(tmp_file("cap.rtk"));
    assert_int_equal(rp_convert(&o, &res, err, sizeof err), RP_CONVERT_EINPUT);
    assert_non_null(strstr(err, "nonexistent.pcap"));
    assert_int_equal(access(tmp_file("cap.rtk"), F_OK), -1);
    rpb_free(&cap);
}

/* ---- marks on hand-made tick files ------------------------------------------------------------
 */

typedef struct tf {
    rpb b;
    ra_tick_writer *w;
} tf;

static void tf_open(tf *t, const char *format, const char *framing)
{
    memset(t, 0, sizeof *t);
    ra_tick_writer_config c = {.source_format = format, .framing = framing};
    assert_int_equal(ra_tick_writer_open_sink(&t->w, mem_sink, &t->b, &c), RA_OK);
}

static void tf_mark(tf *t, uint32_t stream, uint64_t seq, uint32_t count, uint16_t flags)
{
    ra_tick_mark m = {.ts_ns = 5,
                      .seq = seq,
                      .stream = stream,
                      .count = count,
                      .flags = flags,
                      .framing = RA_TICK_FRAMING_MOLDUDP64};
    assert_int_equal(ra_tick_write_mark(t->w, &m), RA_OK);
}

static void tf_msg(tf *t, uint32_t stream, uint64_t seq, uint16_t type)
{
    ra_tick_record r = {
        .ts_ns = 7, .seq = seq, .data = "abc", .len = 3, .stream = stream, .type = type};
    assert_int_equal(ra_tick_write(t->w, &r), RA_OK);
}

static void test_marks_accounting(void **state)
{
    (void)state;
    tf t;
    tf_open(&t, "pcap", "");
    assert_int_equal(ra_tick_writer_add_stream(t.w, 7, "moldudp64 session X"), RA_OK);
    tf_mark(&t, 7, 10, 5, 0); /* first: sets the expectation (15) */
    for (int i = 0; i < 3; i++) tf_msg(&t, 7, 10 + (uint64_t)i * 2, 'A'); /* holes: not gaps */
    tf_mark(&t, 7, 20, 0, RA_TICK_MARK_HEARTBEAT); /* gap of 5, at a heartbeat */
    tf_mark(&t, 7, 18, 1, 0);                      /* backward */
    tf_mark(&t, 9, 1, 1, 0);                       /* another stream: its own first packet */
    tf_mark(&t, RP_NO_STREAM, 99, 0, RA_TICK_MARK_HEARTBEAT | RA_TICK_MARK_END_OF_SESSION);
    tf_msg(&t, 9, 1, 0xFFFF); /* untyped */
    assert_int_equal(ra_tick_writer_close(t.w), RA_OK);
    seen r = read_mem(t.b.p, t.b.len);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.messages, 4);
    assert_int_equal(r.st.by_type['A'], 3);
    assert_true(r.st.type_is_char); /* marks say ITCH-like framing */
    assert_int_equal(r.st.gaps, 1);
    assert_int_equal(r.st.missing, 5);
    assert_int_equal(r.st.backward, 1);
    assert_int_equal(r.st.heartbeats, 2); /* the untracked one counts too */
    assert_int_equal(r.marks, 5);
    assert_string_equal(r.framing, "mixed"); /* MoldUDP64 marks and an untyped record */

    /* the stream table and header through the source */
    rp_source *s;
    char err[256];
    assert_int_equal(rp_source_open_mem(&s, t.b.p, t.b.len, "x", NULL, err, sizeof err), 0);
    char desc[64];
    assert_int_equal(rp_source_stream_desc(s, 7, desc, sizeof desc), 0);
    assert_string_equal(desc, "moldudp64 session X");
    assert_int_equal(rp_source_stream_desc(s, 8, desc, sizeof desc), -1);
    assert_non_null(rp_source_tick_info(s));
    assert_string_equal(rp_source_tick_info(s)->source_format, "pcap");
    assert_string_equal(rp_source_format_name(s), "rtk");
    assert_int_equal(rp_source_linktype(s), -1);
    rp_source_close(s);
    rpb_free(&t.b);

    /* by_type keys: characters for ITCH-derived files, 0x.. for others without marks */
    static const struct {
        const char *format, *framing;
        bool is_char;
    } cases[] = {{"pcap", "", false},         {"itch", "", true},     {"pcap,itch", "", true},
                 {"pcap", "moldudp64", true}, {"pcap", "udp", false}, {"itchy", "", false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tf_open(&t, cases[i].format, cases[i].framing);
        tf_msg(&t, 0, 1, 'A');
        assert_int_equal(ra_tick_writer_close(t.w), RA_OK);
        r = read_mem(t.b.p, t.b.len);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.st.type_is_char, cases[i].is_char);
        assert_string_equal(r.framing, "none");
        rpb_free(&t.b);
    }
}

/* ---- cuts and damage ------------------------------------------------------------------------- */

static void small_tick_file(rpb *out, bool compress)
{
    rpb_free(out);
    ra_tick_writer *w;
    ra_tick_writer_config c = {.compress = compress, .frame_bytes = 512, .source_format = "itch"};
    assert_int_equal(ra_tick_writer_open_sink(&w, mem_sink, out, &c), RA_OK);
    for (uint64_t i = 0; i < 60; i++) {
        char p[40];
        memset(p, (int)i, sizeof p);
        ra_tick_record r = {
            .ts_ns = i, .seq = i + 1, .data = p, .len = (uint32_t)(i % 40), .type = 'A'};
        assert_int_equal(ra_tick_write(w, &r), RA_OK);
    }
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
}

/* Every prefix of a file opens with an error naming it, or reads a prefix of the messages and
 * ends cleanly with truncated set: never an error in the middle, never a crash. */
static void test_cuts(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        rpb f = {0};
        small_tick_file(&f, z);
        seen whole = read_mem(f.p, f.len);
        assert_int_equal(whole.rc, 0);
        assert_false(whole.st.truncated);
        assert_int_equal(whole.messages, 60);
        uint64_t last = 0;
        for (size_t n = 0; n < f.len; n++) {
            uint8_t *copy = malloc(n + 1);
            memcpy(copy, f.p, n);
            seen r = read_mem(copy, n);
            if (r.rc == -2) {
                assert_non_null(strstr(r.err, "mem.rtk"));
                assert_int_equal(last, 0); /* only before the first message is readable */
            } else {
                if (r.rc != 0) fail_msg("cut at %zu: %s", n, r.err);
                assert_true(r.st.truncated);
                assert_true(r.messages >= last); /* a longer prefix never reads less */
                last = r.messages;
            }
            free(copy);
        }
        assert_true(last >= 59);
        rpb_free(&f);
    }
}

static void test_damage(void **state)
{
    (void)state;
    rpb f = {0};
    small_tick_file(&f, false);
    uint32_t hs = (uint32_t)f.p[12] | (uint32_t)f.p[13] << 8;
    /* a record header: the check catches it, at the record's offset */
    f.p[hs + 16] ^= 1;
    seen r = read_mem(f.p, f.len);
    assert_int_equal(r.rc, -1);
    char want[64];
    snprintf(want, sizeof want, "mem.rtk: tick file, byte offset %u: record check", hs);
    assert_non_null(strstr(r.err, want));
    f.p[hs + 16] ^= 1;
    /* a newer major version */
    f.p[8] = 3;
    r = read_mem(f.p, f.len);
    assert_int_equal(r.rc, -2);
    assert_non_null(strstr(r.err, "byte offset 8: tick file version 3."));
    assert_non_null(strstr(r.err, "newer than this reader"));
    rpb_free(&f);
    /* compressed: a damaged block is a zstd error naming the compressed offset */
    small_tick_file(&f, true);
    for (size_t i = f.len / 2; i < f.len / 2 + 8; i++) f.p[i] ^= 0x33;
    r = read_mem(f.p, f.len);
    assert_true(r.rc == -1 || r.rc == -2);
    assert_non_null(strstr(r.err, "mem.rtk"));
    assert_non_null(strstr(r.err, "offset"));
    rpb_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert_awkward_capture),
        cmocka_unit_test(test_marks_accounting),
        cmocka_unit_test(test_cuts),
        cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
