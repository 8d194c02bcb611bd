/* test_rp_source.c - replay's input layer end to end: real captures with their expected counts,
 * the same zstd-compressed (one and several frames), stdin pipes, generated pcap/pcapng variants,
 * --format/--framing overrides, BPF filters, every input error, truncation, bounded memory */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "fuzz/make_corpus.h"
#include "source.h"

static char tmpdir[256];

/* ---- helpers -----------------------------------------------------------------------------------
 */

static const char *shared_dir(void)
{
    const char *d = getenv("SHARED_DATA");
    return d && *d ? d : "../shared/data";
}

static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof path[i], "%s/%s", tmpdir, name);
    return path[i];
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    chmod(p, 0700);
    return remove(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_rp_source_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* What reading a source to its end gave. */
typedef struct result {
    int rc; /* the last rp_source_next() result (0 or -1), or -1 when open failed */
    char err[768];
    rp_feed_stats st;
    uint64_t delivered; /* messages seen by the caller */
    uint64_t sum;       /* hash over every message's fields and bytes */
    char by_type[512];
    char format[16], framing[16];
    bool compressed;
    int linktype;
} result;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

static void drain(rp_source *s, result *r)
{
    rp_message m;
    r->sum = 0xcbf29ce484222325u;
    while ((r->rc = rp_source_next(s, &m)) == 1) {
        r->delivered++;
        r->sum = fnv(r->sum, &m.type, sizeof m.type);
        r->sum = fnv(r->sum, &m.len, sizeof m.len);
        r->sum = fnv(r->sum, &m.seq, sizeof m.seq);
        r->sum = fnv(r->sum, &m.stream, sizeof m.stream);
        r->sum = fnv(r->sum, &m.ts_ns, sizeof m.ts_ns);
        r->sum = fnv(r->sum, m.data, m.len);
    }
    if (r->rc < 0) snprintf(r->err, sizeof r->err, "%s", rp_source_error(s));
    r->st = *rp_source_stats(s);
    size_t off = 0;
    for (int t = 0; t < 256; t++) {
        if (!r->st.by_type[t]) continue;
        off += (size_t)snprintf(r->by_type + off, sizeof r->by_type - off,
                                r->st.type_is_char ? "%s%c:%" PRIu64 : "%s0x%02x:%" PRIu64,
                                off ? " " : "", t, r->st.by_type[t]);
    }
    snprintf(r->format, sizeof r->format, "%s", rp_source_format_name(s));
    snprintf(r->framing, sizeof r->framing, "%s", rp_source_framing_name(s));
    r->compressed = rp_source_compressed(s);
    r->linktype = rp_source_linktype(s);
}

static result run_path(const char *path, const rp_source_opts *opts)
{
    result r;
    memset(&r, 0, sizeof r);
    rp_source *s;
    if (rp_source_open(&s, path, opts, r.err, sizeof r.err) != 0) {
        r.rc = -1;
        return r;
    }
    drain(s, &r);
    rp_source_close(s);
    return r;
}

static result run_mem(const rpb *b, const rp_source_opts *opts)
{
    result r;
    memset(&r, 0, sizeof r);
    rp_source *s;
    if (rp_source_open_mem(&s, b->p, b->len, "mem.bin", opts, r.err, sizeof r.err) != 0) {
        r.rc = -1;
        return r;
    }
    drain(s, &r);
    rp_source_close(s);
    return r;
}

/* The warning lines of a source, joined (after reading it to its end). */
static void warnings_of(const rpb *b, const rp_source_opts *o, char *out, size_t outcap)
{
    rp_source *s;
    char err[512];
    out[0] = '\0';
    assert_int_equal(rp_source_open_mem(&s, b->p, b->len, "mem.bin", o, err, sizeof err), 0);
    rp_message m;
    while (rp_source_next(s, &m) == 1) continue;
    size_t k = 0;
    for (size_t i = 0; i < rp_source_warning_count(s) && k < outcap; i++)
        k += (size_t)snprintf(out + k, outcap - k, "%s\n", rp_source_warning(s, i));
    rp_source_close(s);
}

static bool read_file(const char *path, rpb *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) rpb_put(out, buf, n);
    fclose(f);
    return true;
}

/* zstd-compresses data into `frames` frames (content checksums on). */
static void zcompress(const void *data, size_t len, int frames, rpb *out)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_non_null(cc);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
    size_t per = frames > 1 ? len / (size_t)frames + 1 : len;
    const uint8_t *p = data;
    size_t off = 0;
    do {
        size_t n = len - off < per ? len - off : per;
        size_t bound = ZSTD_compressBound(n);
        uint8_t *dst = malloc(bound);
        assert_non_null(dst);
        size_t z = ZSTD_compress2(cc, dst, bound, p + off, n);
        assert_false(ZSTD_isError(z));
        rpb_put(out, dst, z);
        free(dst);
        off += n;
    } while (off < len);
    ZSTD_freeCCtx(cc);
}

static void write_or_fail(const rpb *b, const char *path)
{
    assert_int_equal(rpb_write(b, path), 0);
}

/* ---- generated captures ------------------------------------------------------------------------
 */

#define T0 UINT64_C(1700000000123456789)

typedef struct cap {
    rpb b;
    bool ng, ns, be;
    uint64_t ts;
} cap;

static void cap_begin(cap *c, bool ng, bool ns, bool be, uint32_t linktype)
{
    memset(c, 0, sizeof *c);
    c->ng = ng;
    c->ns = ns;
    c->be = be;
    c->ts = T0;
    if (ng)
        rpb_pcapng_hdr(&c->b, linktype);
    else
        rpb_pcap_hdr(&c->b, ns, be, linktype);
}

static void cap_add_cut(cap *c, const rpb *frame, size_t caplen)
{
    if (c->ng)
        rpb_pcapng_pkt(&c->b, c->ts / 1000, frame->p, caplen);
    else
        rpb_pcap_pkt(&c->b, c->ns, c->be, c->ts, frame->p, caplen, frame->len);
    c->ts += 1001;
}

static void cap_add(cap *c, const rpb *frame)
{
    cap_add_cut(c, frame, frame->len);
}

/* Ethernet frame with `vlans` tags around IP/UDP carrying payload pl */
static void eth_frame(rpb *out, const rpb_flow *f, const rpb *pl, int vlans)
{
    rpb_eth_hdr(out, f->af == 6 ? 0x86DD : 0x0800, vlans, false);
    rpb_ip_udp(out, f, pl->p, pl->len);
}

static rpb_flow flow_mold(void)
{
    return rpb_flow4(0x0A000001, 0xE9360C6F, 5000, 26477);
}

static rpb_flow flow_iex(void)
{
    return rpb_flow4(0x0A000002, 0xE04300C7, 10378, 16642);
}

/* The mixed capture: MoldUDP64 (with a gap, a backward jump, heartbeats, end of session, VLAN),
 * IEX-TP, plain UDP, IPv6 MoldUDP64, ARP and a non-first fragment. Expected results below. */
static void mixed_capture(cap *c, bool ng, bool ns, bool be)
{
    cap_begin(c, ng, ns, be, 1);
    rpb_flow fm = flow_mold(), fi = flow_iex();
    rpb_flow fu = rpb_flow4(0x0A000003, 0x0A000004, 4000, 9999);
    rpb_flow f6 = rpb_flow6(1, 2, 7000, 7001);
    rpb pl = {0}, fr = {0}, msgs = {0};
#define EMIT(vlans, flow)                                                                          \
    do {                                                                                           \
        eth_frame(&fr, &(flow), &pl, (vlans));                                                     \
        cap_add(c, &fr);                                                                           \
        fr.len = pl.len = msgs.len = 0;                                                            \
    } while (0)
    /* 1: MoldUDP64 seq 1, A D F, one VLAN tag */
    rpb_mold(&pl, "000010059B", 1, 3);
    rpb_itch_record(&pl, 'A', 1);
    rpb_itch_record(&pl, 'D', 2);
    rpb_itch_record(&pl, 'F', 3);
    EMIT(1, fm);
    /* 2: heartbeat, next 4 */
    rpb_mold(&pl, "000010059B", 4, 0);
    EMIT(1, fm);
    /* 3: IEX-TP seq 1: Q T */
    rpb_iex_msg(&msgs, 'Q', 42);
    rpb_iex_msg(&msgs, 'T', 38);
    rpb_iex(&pl, 1, 0x43cd0000, 1, 2, &msgs);
    EMIT(0, fi);
    /* 4: ARP */
    rpb_eth_hdr(&fr, 0x0806, 0, false);
    rpb_zero(&fr, 28);
    cap_add(c, &fr);
    fr.len = 0;
    /* 5: plain UDP */
    rpb_put(&pl, "hello", 5);
    EMIT(0, fu);
    /* 6: MoldUDP64 seq 10 (4..9 missing): E */
    rpb_mold(&pl, "000010059B", 10, 1);
    rpb_itch_record(&pl, 'E', 6);
    EMIT(0, fm);
    /* 7: a non-first IPv4 fragment of the MoldUDP64 flow */
    rpb_eth_hdr(&fr, 0x0800, 0, false);
    rpb_ipv4_hdr(&fr, &fm, 17, 40, 185);
    rpb_zero(&fr, 40);
    cap_add(c, &fr);
    fr.len = 0;
    /* 8: IEX-TP heartbeat, next 3 */
    rpb_iex(&pl, 1, 0x43cd0000, 3, 0, NULL);
    EMIT(0, fi);
    /* 9: MoldUDP64 seq 5 (backward): X */
    rpb_mold(&pl, "000010059B", 5, 1);
    rpb_itch_record(&pl, 'X', 9);
    EMIT(0, fm);
    /* 10: end of session at 6 */
    rpb_mold(&pl, "000010059B", 6, 0xFFFF);
    EMIT(0, fm);
    /* 11: IPv6 MoldUDP64, another session: S R */
    rpb_mold(&pl, "SESS2", 1, 2);
    rpb_itch_record(&pl, 'S', 11);
    rpb_itch_record(&pl, 'R', 11);
    EMIT(0, f6);
#undef EMIT
    rpb_free(&pl);
    rpb_free(&fr);
    rpb_free(&msgs);
}

static void assert_mixed(const result *r)
{
    if (r->rc != 0) print_message("error: %s\n", r->err);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->st.packets, 11);
    assert_int_equal(r->st.messages, 10);
    assert_int_equal(r->delivered, 10);
    assert_int_equal(r->st.heartbeats, 3);
    assert_int_equal(r->st.gaps, 1);
    assert_int_equal(r->st.missing, 6);
    assert_int_equal(r->st.backward, 1);
    assert_int_equal(r->st.non_udp, 1);
    assert_int_equal(r->st.fragments, 1);
    assert_int_equal(r->st.decode_errors, 0);
    assert_false(r->st.truncated);
    assert_string_equal(r->by_type, "A:1 D:1 E:1 F:1 Q:1 R:1 S:1 T:1 X:1");
    assert_int_equal(rp_feed_protocols(&r->st), 2); /* ITCH and IEX-TP types kept apart */
    assert_int_equal(r->st.by_proto[RP_PROTO_IEXTP]['Q'] + r->st.by_proto[RP_PROTO_ITCH]['A'], 2);
    assert_string_equal(r->framing, "mixed");
    assert_int_equal(r->linktype, 1);
}

/* an ITCH 5.0 file of n records cycling through several types */
static void itch_file(rpb *b, int n)
{
    const char types[] = "SRAFDEXUPQ";
    for (int i = 0; i < n; i++) rpb_itch_record(b, types[i % 10], (uint64_t)i * 1000);
}

/* ---- real captures -----------------------------------------------------------------------------
 */

typedef struct expect {
    const char *file;
    const char *format;
    uint64_t packets, messages, heartbeats, gaps, missing;
    const char *by_type;
    const char *framing;
} expect;

/* from ../shared/data/README.md */
static const expect expected[] = {
    {"iex_TOPS16.pcapng", "pcap", 13022, 57674, 237, 0, 0,
     "A:642 B:3 D:10 H:7803 O:7801 P:7802 Q:27217 S:6 T:6390", "iextp"},
    {"omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap", "pcap", 2, 39, 0, 1, 4244620,
     "A:36 D:1 F:2", "moldudp64"},
    {"nasdaq_12302019_SNIPPET.NASDAQ_ITCH50", "itch", 1000, 1000, 0, 0, 0,
     "A:367 C:1 D:167 E:28 F:193 I:4 P:4 Q:4 S:1 U:225 X:6", "none"},
    {"omi_cme_mdp3_v1.9_MdIncrementalRefreshBook.pcap", "pcap", 1, 1, 0, 0, 0, "", "udp"},
    {"omi_eurex_eobi_t7_v6.0_ProductSummary.pcap", "pcap", 1, 1, 0, 0, 0, "", "udp"},
};
#define N_EXPECTED (sizeof expected / sizeof expected[0])

static void check_counts(const expect *e, const result *r, const char *what)
{
    print_message("%-60s %s: packets %" PRIu64 " messages %" PRIu64 " heartbeats %" PRIu64
                  " gaps %" PRIu64 " missing %" PRIu64 " by_type {%s}\n",
                  e->file, what, r->st.packets, r->st.messages, r->st.heartbeats, r->st.gaps,
                  r->st.missing, r->by_type);
    if (r->rc != 0) print_message("error: %s\n", r->err);
    assert_int_equal(r->rc, 0);
    assert_string_equal(r->format, e->format);
    assert_int_equal(r->st.packets, e->packets);
    assert_int_equal(r->st.messages, e->messages);
    assert_int_equal(r->delivered, e->messages);
    assert_int_equal(r->st.heartbeats, e->heartbeats);
    assert_int_equal(r->st.gaps, e->gaps);
    assert_int_equal(r->st.missing, e->missing);
    assert_int_equal(r->st.backward, 0);
    assert_int_equal(r->st.decode_errors, 0);
    assert_false(r->st.truncated);
    assert_string_equal(r->by_type, e->by_type);
    assert_string_equal(r->framing, e->framing);
}

static void test_shared_files(void **state)
{
    (void)state;
    int found = 0;
    for (size_t i = 0; i < N_EXPECTED; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", shared_dir(), expected[i].file);
        if (access(path, R_OK) != 0) {
            print_message("skip %s: not found in %s\n", expected[i].file, shared_dir());
            continue;
        }
        found++;
        result r = run_path(path, NULL);
        check_counts(&expected[i], &r, "plain");
        assert_false(r.compressed);
        /* the same bytes through a buffer and through a FILE* give the same messages */
        rpb b = {0};
        assert_true(read_file(path, &b));
        result rm = run_mem(&b, NULL);
        check_counts(&expected[i], &rm, "memory");
        assert_true(rm.sum == r.sum);
        FILE *fp = fmemopen(b.p, b.len, "rb");
        assert_non_null(fp);
        rp_source *s;
        result rs;
        memset(&rs, 0, sizeof rs);
        assert_int_equal(rp_source_open_stream(&s, fp, "fmemopen", NULL, rs.err, sizeof rs.err), 0);
        drain(s, &rs);
        rp_source_close(s);
        fclose(fp);
        check_counts(&expected[i], &rs, "stream");
        assert_true(rs.sum == r.sum);
        rpb_free(&b);
    }
    if (!found) skip();
}

static void test_shared_files_zstd(void **state)
{
    (void)state;
    int found = 0;
    for (size_t i = 0; i < N_EXPECTED; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", shared_dir(), expected[i].file);
        rpb b = {0};
        if (!read_file(path, &b)) {
            print_message("skip %s: not found in %s\n", expected[i].file, shared_dir());
            continue;
        }
        found++;
        result plain = run_path(path, NULL);
        for (int frames = 1; frames <= 3; frames += 2) {
            rpb z = {0};
            zcompress(b.p, b.len, frames, &z);
            const char *zp = tmp_path(frames == 1 ? "one.zst" : "three.zst");
            write_or_fail(&z, zp);
            result r = run_path(zp, NULL);
            check_counts(&expected[i], &r, frames == 1 ? "zstd" : "zstd, 3 frames");
            assert_true(r.compressed);
            assert_true(r.sum == plain.sum);
            assert_int_equal(r.st.bytes, b.len); /* decompressed bytes */
            rpb_free(&z);
        }
        rpb_free(&b);
    }
    if (!found) skip();
}

/* ---- generated inputs --------------------------------------------------------------------------
 */

static void test_pcap_variants(void **state)
{
    (void)state;
    uint64_t sum_ns = 0;
    for (int v = 0; v < 5; v++) {
        bool ng = v == 4, ns = v & 1, be = v & 2;
        cap c;
        mixed_capture(&c, ng, ns, be);
        result r = run_mem(&c.b, NULL);
        assert_mixed(&r);
        assert_string_equal(r.format, ng ? "pcapng" : "pcap");
        /* ns files keep their nanoseconds; us files (and this pcapng) have them cut to us */
        uint64_t first = ns ? T0 : T0 / 1000 * 1000;
        assert_int_equal(r.st.first_ts_ns, first);
        if (ns) {
            assert_int_equal(r.st.last_ts_ns, T0 + 10 * 1001);
            if (sum_ns == 0) sum_ns = r.sum;
            assert_true(r.sum == sum_ns); /* byte order does not change a thing */
        }
        rpb_free(&c.b);
    }
}

static void test_message_fields(void **state)
{
    (void)state;
    cap c;
    mixed_capture(&c, false, true, false);
    rp_source *s;
    char err[512];
    assert_int_equal(rp_source_open_mem(&s, c.b.p, c.b.len, "mixed", NULL, err, sizeof err), 0);
    assert_int_equal(rp_source_size(s), c.b.len);
    rp_message m;
    struct {
        uint16_t type;
        uint32_t len;
        uint64_t seq;
        int pkt; /* 1-based packet number, for the timestamp */
    } want[] = {{'A', 36, 1, 1},  {'D', 19, 2, 1},         {'F', 40, 3, 1},  {'Q', 42, 1, 3},
                {'T', 38, 2, 3},  {RP_TYPE_NONE, 5, 1, 5}, {'E', 31, 10, 6}, {'X', 23, 5, 9},
                {'S', 12, 1, 11}, {'R', 39, 2, 11}};
    uint32_t mold_stream = 0, iex_stream = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(rp_source_next(s, &m), 1);
        assert_int_equal(m.type, want[i].type);
        assert_int_equal(m.len, want[i].len);
        assert_int_equal(m.seq, want[i].seq);
        assert_int_equal(m.ts_ns, T0 + (uint64_t)(want[i].pkt - 1) * 1001);
        if (m.type != RP_TYPE_NONE) assert_int_equal(m.data[0], m.type);
        if (i == 0) mold_stream = m.stream;
        if (i == 3) iex_stream = m.stream;
        if (i == 5) assert_memory_equal(m.data, "hello", 5);
        if (i == 6 || i == 7) assert_int_equal(m.stream, mold_stream);
        if (i == 4) assert_int_equal(m.stream, iex_stream);
        if (i == 8) assert_int_not_equal(m.stream, mold_stream);
    }
    assert_int_not_equal(mold_stream, iex_stream);
    assert_int_equal(rp_source_next(s, &m), 0);
    assert_int_equal(rp_source_next(s, &m), 0); /* stays at the end */
    assert_int_equal(rp_source_stats(s)->bytes, c.b.len);
    assert_int_equal(rp_source_offset(s), c.b.len);
    rp_flow_info fl[8]; /* busiest first: MoldUDP64 (5 packets), IEX-TP (2), udp, IPv6 (1 each) */
    assert_int_equal(rp_source_flows(s, fl, 8), 4);
    assert_string_equal(fl[0].src, "10.0.0.1:5000");
    assert_string_equal(fl[0].dst, "233.54.12.111:26477");
    assert_true(fl[0].dport == 26477 && fl[0].framing == RP_FRAMING_MOLDUDP64);
    assert_true(fl[0].packets == 5 && fl[0].messages == 5 && fl[0].stream == mold_stream - 1);
    assert_true(fl[1].framing == RP_FRAMING_IEXTP && fl[1].packets == 2 && fl[1].messages == 2);
    assert_true(fl[2].framing == RP_FRAMING_UDP && fl[2].messages == 1);
    assert_true(strcmp(fl[3].src, "[fe80:0:0:0:0:0:0:1]:7000") == 0 && fl[3].messages == 2);
    assert_int_equal(rp_source_flows(s, fl, 1), 4); /* only the busiest written */
    rp_source_close(s);
    rpb_free(&c.b);
}

static void test_link_types_through_libpcap(void **state)
{
    (void)state;
    rpb_flow f = flow_mold();
    rpb pl = {0}, ip = {0}, fr = {0};
    rpb_mold(&pl, "LT", 1, 2);
    rpb_itch_record(&pl, 'A', 1);
    rpb_itch_record(&pl, 'P', 1);
    rpb_ip_udp(&ip, &f, pl.p, pl.len);
    const uint32_t lts[] = {276, 113, 101, 228, 0};
    for (size_t i = 0; i < sizeof lts / sizeof lts[0]; i++) {
        fr.len = 0;
        if (lts[i] == 276) { /* SLL2 */
            rpb_be16(&fr, 0x0800);
            rpb_zero(&fr, 18);
        } else if (lts[i] == 113) { /* SLL */
            rpb_zero(&fr, 14);
            rpb_be16(&fr, 0x0800);
        } else if (lts[i] == 0) { /* BSD loopback */
            rpb_le32(&fr, 2);
        }
        rpb_put(&fr, ip.p, ip.len);
        cap c;
        cap_begin(&c, false, false, false, lts[i]);
        cap_add(&c, &fr);
        cap_add(&c, &fr);
        result r = run_mem(&c.b, NULL);
        if (r.rc != 0) print_message("link type %u: %s\n", lts[i], r.err);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.st.messages, 4);
        assert_int_equal(r.st.backward, 1); /* the same packet twice */
        assert_string_equal(r.by_type, "A:2 P:2");
        assert_string_equal(r.framing, "moldudp64");
        rpb_free(&c.b);
    }
    /* a link type we cannot decode is refused at open */
    cap c;
    cap_begin(&c, false, false, false, 105); /* 802.11 */
    cap_add(&c, &fr);
    result r = run_mem(&c.b, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "mem.bin: unsupported link type 105"));
    rpb_free(&c.b);
    rpb_free(&pl);
    rpb_free(&ip);
    rpb_free(&fr);
}

static void test_itch_file(void **state)
{
    (void)state;
    rpb b = {0};
    itch_file(&b, 100);
    result r = run_mem(&b, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.format, "itch");
    assert_int_equal(r.st.messages, 100);
    assert_string_equal(r.by_type, "A:10 D:10 E:10 F:10 P:10 Q:10 R:10 S:10 U:10 X:10");
    assert_int_equal(r.st.first_ts_ns, 0);
    assert_int_equal(r.st.last_ts_ns, 99000);
    assert_int_equal(r.linktype, -1);
    /* a record whose length does not match its type, an empty one, an unknown type */
    rpb_itch_record_len(&b, 'A', 0, 30);
    rpb_be16(&b, 0);
    rpb_itch_record_len(&b, 'z', 0, 13);
    rpb_itch_record(&b, 'S', 5);
    r = run_mem(&b, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.packets, 104);
    assert_int_equal(r.st.messages, 102);
    assert_int_equal(r.st.decode_errors, 2);
    assert_int_equal(r.st.by_type['z'], 1);
    assert_int_equal(r.st.by_type['S'], 11);
    rpb_free(&b);
}

static void test_format_and_framing_override(void **state)
{
    (void)state;
    /* an ITCH file starting with a bad record is not detected, but --format itch reads it */
    rpb b = {0};
    rpb_itch_record_len(&b, 'A', 0, 20);
    itch_file(&b, 20);
    result r = run_mem(&b, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "unrecognised format"));
    rp_source_opts o = {.format = RP_FMT_ITCH};
    r = run_mem(&b, &o);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.messages, 20);
    assert_int_equal(r.st.decode_errors, 1);
    rpb_free(&b);

    /* --format pcap on an ITCH file: libpcap refuses it, naming the file */
    itch_file(&b, 20);
    o.format = RP_FMT_PCAP;
    r = run_mem(&b, &o);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "mem.bin: not a readable pcap file"));
    o.format = RP_FMT_RTK;
    r = run_mem(&b, &o);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "mem.bin: tick file, byte offset 0: not a tick file"));
    rpb_free(&b);

    /* --framing udp: every UDP payload is one untyped message */
    cap c;
    mixed_capture(&c, false, true, false);
    rp_source_opts u = {.framing = RP_FRAMING_UDP};
    r = run_mem(&c.b, &u);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.messages, 9); /* 11 packets - ARP - fragment */
    assert_int_equal(r.st.heartbeats, 0);
    assert_string_equal(r.by_type, "");
    assert_string_equal(r.framing, "udp");
    /* --framing iextp: the MoldUDP64 and plain payloads are not IEX-TP */
    u.framing = RP_FRAMING_IEXTP;
    r = run_mem(&c.b, &u);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.messages, 2);
    assert_int_equal(r.st.heartbeats, 1);
    assert_int_equal(r.st.decode_errors, 7);
    rpb_free(&c.b);

    /* name parsing */
    rp_format f = RP_FMT_RTK;
    assert_int_equal(rp_format_parse("pcapng", &f), 0);
    assert_int_equal(f, RP_FMT_PCAPNG);
    assert_int_equal(rp_format_parse("PCAP", &f), -1);
    assert_int_equal(f, RP_FMT_PCAPNG);
    rp_framing fr = RP_FRAMING_AUTO;
    assert_int_equal(rp_framing_parse("moldudp64", &fr), 0);
    assert_int_equal(fr, RP_FRAMING_MOLDUDP64);
    assert_int_equal(rp_framing_parse("mold", &fr), -1);

    /* detection by magic */
    const uint8_t ng[4] = {0x0A, 0x0D, 0x0D, 0x0A}, rtk[4] = {0x89, 'R', 'T', 'K'};
    assert_int_equal(rp_source_detect(ng, 4), RP_FMT_PCAPNG);
    assert_int_equal(rp_source_detect(rtk, 4), RP_FMT_RTK);
    assert_int_equal(rp_source_detect(rtk, 2), RP_FMT_AUTO);
}

static void test_filter(void **state)
{
    (void)state;
    cap c;
    mixed_capture(&c, false, false, false);
    rp_source_opts o = {.filter = "udp dst port 16642"};
    result r = run_mem(&c.b, &o);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.packets, 2);
    assert_int_equal(r.st.messages, 2);
    assert_int_equal(r.st.heartbeats, 1);
    assert_string_equal(r.by_type, "Q:1 T:1");
    assert_string_equal(r.framing, "iextp");
    o.filter = "vlan";
    r = run_mem(&c.b, &o);
    assert_int_equal(r.st.packets, 2);
    assert_int_equal(r.st.messages, 3);
    o.filter = "ip6 or arp";
    r = run_mem(&c.b, &o);
    assert_int_equal(r.st.packets, 2);
    assert_int_equal(r.st.non_udp, 1);
    assert_string_equal(r.by_type, "R:1 S:1");
    o.filter = "udp port nonsense((";
    r = run_mem(&c.b, &o);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "mem.bin: bad filter \"udp port nonsense((\""));
    rpb_free(&c.b);

    /* on a real capture, if present */
    char path[1024];
    snprintf(path, sizeof path, "%s/iex_TOPS16.pcapng", shared_dir());
    if (access(path, R_OK) == 0) {
        o.filter = "udp dst port 16642 and dst host 224.67.0.199";
        r = run_path(path, &o);
        assert_int_equal(r.st.packets, 13022);
        o.filter = "udp port 26477";
        r = run_path(path, &o);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.st.packets, 0);
    } else {
        print_message("skip the iex_TOPS16.pcapng filter check: not in %s\n", shared_dir());
    }
}

/* ---- stdin -------------------------------------------------------------------------------------
 */

typedef struct writer {
    int fd;
    const rpb *data;
} writer;

static void *write_all(void *arg)
{
    writer *w = arg;
    size_t off = 0;
    while (off < w->data->len) { /* small writes: the reader sees short reads */
        size_t n = w->data->len - off < 777 ? w->data->len - off : 777;
        ssize_t k = write(w->fd, w->data->p + off, n);
        if (k <= 0) break;
        off += (size_t)k;
    }
    close(w->fd);
    return NULL;
}

/* reads `data` as "-" with stdin a pipe fed by a thread */
static result run_stdin(const rpb *data, const rp_source_opts *opts)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(p[0], STDIN_FILENO) >= 0);
    close(p[0]);
    writer w = {p[1], data};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_all, &w), 0);
    result r;
    memset(&r, 0, sizeof r);
    rp_source *s;
    if (rp_source_open(&s, "-", opts, r.err, sizeof r.err) == 0) {
        assert_int_equal(rp_source_size(s), 0);
        drain(s, &r);
        rp_source_close(s);
    } else {
        r.rc = -1;
    }
    /* let the writer finish even if the reader stopped early */
    int fl = fcntl(STDIN_FILENO, F_GETFL);
    fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
    char sink[4096];
    while (read(STDIN_FILENO, sink, sizeof sink) > 0) continue;
    pthread_join(th, NULL);
    dup2(saved, STDIN_FILENO);
    close(saved);
    return r;
}

static void test_stdin_pipe(void **state)
{
    (void)state;
    cap c;
    mixed_capture(&c, false, true, true);
    result r = run_stdin(&c.b, NULL);
    assert_mixed(&r);
    rpb z = {0};
    zcompress(c.b.p, c.b.len, 2, &z);
    r = run_stdin(&z, NULL);
    assert_mixed(&r);
    assert_true(r.compressed);
    rpb_free(&z);
    rpb_free(&c.b);

    rpb b = {0};
    itch_file(&b, 5000);
    zcompress(b.p, b.len, 3, &z);
    r = run_stdin(&z, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.format, "itch");
    assert_int_equal(r.st.messages, 5000);
    rpb empty = {0};
    r = run_stdin(&empty, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "<stdin>: empty"));
    rpb_free(&z);
    rpb_free(&b);
}

/* ---- errors ------------------------------------------------------------------------------------
 */

static void test_errors_open(void **state)
{
    (void)state;
    result r = run_path(tmp_path("no-such-file.pcap"), NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "no-such-file.pcap: cannot open: No such file or directory"));

    r = run_path(tmpdir, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "is a directory"));
    assert_non_null(strstr(r.err, tmpdir));

    rpb b = {0};
    write_or_fail(&b, tmp_path("empty.pcap"));
    r = run_path(tmp_path("empty.pcap"), NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "empty.pcap: empty file"));

    rpb z = {0};
    zcompress("", 0, 1, &z);
    write_or_fail(&z, tmp_path("empty.zst"));
    r = run_path(tmp_path("empty.zst"), NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "empty.zst: empty after zstd decompression"));
    rpb_free(&z);

    rpb_put(&b, RA_TICK_MAGIC, RA_TICK_MAGIC_LEN);
    rpb_zero(&b, 60);
    r = run_mem(&b, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "mem.bin: tick file, byte offset 8: tick file version 0.0"));
    rpb_free(&b);

    /* truncated pcap header: magic recognised, 10 of 24 bytes */
    rpb_pcap_hdr(&b, false, false, 1);
    b.len = 10;
    write_or_fail(&b, tmp_path("hdr.pcap"));
    r = run_path(tmp_path("hdr.pcap"), NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "hdr.pcap: truncated pcap file header: 10 of 24 bytes"));
    rpb_free(&b);
    rpb_pcapng_hdr(&b, 1);
    b.len = 20;
    r = run_mem(&b, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "truncated pcapng section header block"));
    rpb_free(&b);

    /* unreadable */
    itch_file(&b, 3);
    write_or_fail(&b, tmp_path("secret.itch"));
    chmod(tmp_path("secret.itch"), 0);
    int fd = open(tmp_path("secret.itch"), O_RDONLY);
    if (fd >= 0) {
        close(fd);
        print_message("skip the unreadable-file check: running with privileges\n");
    } else {
        r = run_path(tmp_path("secret.itch"), NULL);
        assert_int_equal(r.rc, -1);
        assert_non_null(strstr(r.err, "secret.itch: cannot open: Permission denied"));
    }
    rpb_free(&b);
}

/* formats replay knows of but does not read: named, with what to do */
static void test_errors_known_formats(void **state)
{
    (void)state;
    char want[512];
    rpb b = {0}, z = {0};
    result r;
    static const char dbn[] = "DBN\x03 metadata and records, long enough to look at";
    rpb_put(&b, dbn, sizeof dbn - 1);
    write_or_fail(&b, tmp_path("x.dbn"));
    r = run_path(tmp_path("x.dbn"), NULL);
    assert_int_equal(r.rc, -1);
    /* DBN is read: this one's metadata length (" met") is out of range */
    assert_non_null(strstr(r.err, "x.dbn: DBN metadata length 1952804128 at byte offset 4"));
    zcompress(b.p, b.len, 1, &z);
    r = run_mem(&z, NULL);
    assert_non_null(strstr(r.err, "mem.bin: DBN metadata length 1952804128 at byte offset 4"));
    rpb_free(&z);
    rpb_le32(&z, 0x184D2A50); /* DBZ: a skippable frame "DBZ" + version, then zstd frames */
    rpb_le32(&z, 8);
    rpb_put(&z, "DBZ\x01\0\0\0\0", 8);
    zcompress(dbn + 4, 20, 1, &z);
    r = run_mem(&z, NULL);
    assert_non_null(
        strstr(r.err, "mem.bin: Databento DBZ (legacy DBN, version 1) at byte offset 0"));
    rpb_free(&z);
    static const uint8_t gz[] = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 'x', 'y', 'z'};
    rpb_put(&z, gz, sizeof gz);
    write_or_fail(&z, tmp_path("x.pcap.gz"));
    r = run_path(tmp_path("x.pcap.gz"), NULL);
    snprintf(want, sizeof want,
             "%s: gzip-compressed input at byte offset 0: decompress it first, "
             "e.g. `zcat %s | replay -`",
             tmp_path("x.pcap.gz"), tmp_path("x.pcap.gz"));
    assert_non_null(strstr(r.err, want));
    rpb_free(&z);
    b.len = 0;
    rpb_put(&b, "NOPE, not a capture at all", 26);
    r = run_mem(&b, NULL);
    assert_non_null(strstr(r.err, "mem.bin: unrecognised format, starts with 4e 4f 50 45"));
    zcompress(b.p, b.len, 1, &z);
    r = run_mem(&z, NULL);
    assert_non_null(strstr(r.err, "mem.bin: unrecognised format after zstd decompression"));
    rpb_free(&z);
    rpb_free(&b);
}

static void test_errors_corrupt_zstd(void **state)
{
    (void)state;
    rpb b = {0}, z = {0};
    itch_file(&b, 20000); /* ~600 kB: several zstd blocks */
    zcompress(b.p, b.len, 1, &z);
    assert_true(z.len > 2000);
    for (size_t i = z.len / 2; i < z.len / 2 + 16; i++) z.p[i] ^= 0x5A;
    write_or_fail(&z, tmp_path("bad.zst"));
    result r = run_path(tmp_path("bad.zst"), NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "bad.zst: corrupted zstd frame near compressed byte offset"));

    /* garbage after a good frame */
    rpb_free(&z);
    zcompress(b.p, 4 * 339, 1, &z); /* 40 records: 4 rounds of the 10 types */
    rpb_put(&z, "garbage!", 8);
    r = run_mem(&z, NULL);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err, "corrupted zstd frame"));
    assert_int_equal(r.delivered, 40); /* the good frame's records came first */
    rpb_free(&z);
    rpb_free(&b);
}

static void test_errors_in_packets(void **state)
{
    (void)state;
    rpb_flow f = flow_mold();
    rpb pl = {0}, fr = {0};
    cap c;
    cap_begin(&c, false, true, false, 1);
    rpb_mold(&pl, "S", 1, 1);
    rpb_itch_record(&pl, 'A', 0);
    eth_frame(&fr, &f, &pl, 0);
    cap_add(&c, &fr);
    size_t second = c.b.len;
    pl.len = fr.len = 0;
    rpb_mold(&pl, "S", 2, 3);
    rpb_itch_record(&pl, 'A', 0);
    rpb_be16(&pl, 500); /* runs past the end of a datagram captured whole */
    rpb_zero(&pl, 30);
    eth_frame(&fr, &f, &pl, 0);
    cap_add(&c, &fr);
    rpb bad = {0};
    rpb_put(&bad, fr.p, fr.len);
    pl.len = fr.len = 0;
    rpb_mold(&pl, "S", 5, 1); /* next expected after 2 + 3: no gap */
    rpb_itch_record(&pl, 'D', 0);
    eth_frame(&fr, &f, &pl, 0);
    cap_add(&c, &fr);
    write_or_fail(&c.b, tmp_path("overrun.pcap"));
    /* a damaged packet: a decode error, the messages before the bad length, then the next one */
    result r = run_path(tmp_path("overrun.pcap"), NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.decode_errors, 1);
    assert_int_equal(r.delivered, 3);
    assert_int_equal(r.st.gaps + r.st.backward, 0);
    char want[256], warn[2048];
    warnings_of(&c.b, NULL, warn, sizeof warn);
    snprintf(want, sizeof want, "packet 2 at byte offset %zu: MoldUDP64 message 2 of 3: length 500",
             second);
    assert_non_null(strstr(warn, want));
    assert_non_null(strstr(warn, "1 damaged packet in all"));
    /* --strict: an input error, naming packet and offset */
    rp_source_opts strict = {.strict = true};
    r = run_path(tmp_path("overrun.pcap"), &strict);
    assert_int_equal(r.rc, -1);
    snprintf(want, sizeof want, "overrun.pcap: packet 2 at byte offset %zu: MoldUDP64 message 2",
             second);
    assert_non_null(strstr(r.err, want));
    assert_non_null(strstr(r.err, "runs past the end"));
    assert_int_equal(r.delivered, 1);

    /* the same packet cut by the capture's snaplen: a decode error, the whole message is used */
    cap c2;
    cap_begin(&c2, false, true, false, 1);
    cap_add_cut(&c2, &bad, bad.len - 4);
    r = run_mem(&c2.b, &strict);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.st.decode_errors, 1);
    assert_int_equal(r.delivered, 1);
    rpb_free(&c2.b);
    rpb_free(&bad);

    /* a pcap record with an impossible capture length in the middle of the file */
    c.b.len = second;
    rpb_le32(&c.b, 1);
    rpb_le32(&c.b, 0);
    rpb_le32(&c.b, 0x7FFFFFF0);
    rpb_le32(&c.b, 0x7FFFFFF0);
    rpb_zero(&c.b, 64);
    r = run_mem(&c.b, NULL);
    assert_int_equal(r.rc, -1);
    snprintf(want, sizeof want, "mem.bin: packet 2 at byte offset %zu: ", second);
    assert_non_null(strstr(r.err, want));
    assert_int_equal(r.delivered, 1);
    assert_false(r.st.truncated);
    rpb_free(&c.b);
    rpb_free(&pl);
    rpb_free(&fr);
}

static void test_truncated_last_record(void **state)
{
    (void)state;
    for (int ng = 0; ng < 2; ng++) {
        cap c;
        mixed_capture(&c, ng, true, false);
        for (size_t cut = 1; cut < 60; cut += 7) {
            rpb t = {0};
            rpb_put(&t, c.b.p, c.b.len - cut);
            result r = run_mem(&t, NULL);
            assert_int_equal(r.rc, 0);
            assert_true(r.st.truncated);
            assert_int_equal(r.st.packets, 10); /* the cut packet is not counted */
            assert_int_equal(r.st.messages, 8);
            /* and compressed, then cut inside the zstd frame */
            rpb z = {0};
            zcompress(t.p, t.len, 1, &z);
            z.len -= 3;
            r = run_mem(&z, NULL);
            assert_int_equal(r.rc, 0);
            assert_true(r.st.truncated);
            assert_true(r.st.packets <= 10);
            rpb_free(&z);
            rpb_free(&t);
        }
        /* a whole capture whose zstd frame lacks its last bytes (the checksum): every packet
           is there, but the input was cut */
        rpb z = {0};
        zcompress(c.b.p, c.b.len, 1, &z);
        z.len -= 2;
        result r = run_mem(&z, NULL);
        assert_int_equal(r.rc, 0);
        assert_true(r.st.truncated);
        assert_int_equal(r.st.packets, 11);
        z.len += 2;
        r = run_mem(&z, NULL);
        assert_false(r.st.truncated);
        rpb_free(&z);
        rpb_free(&c.b);
    }

    rpb b = {0};
    itch_file(&b, 10);
    size_t whole = b.len;
    for (size_t cut = 1; cut <= 12; cut++) { /* the last record is 'Q': 2 + 40 bytes */
        b.len = whole - cut;
        result r = run_mem(&b, NULL);
        assert_int_equal(r.rc, 0);
        assert_true(r.st.truncated);
        assert_int_equal(r.st.messages, 9);
    }
    b.len = whole - 42 + 1; /* a lone byte of the length field */
    result r = run_mem(&b, NULL);
    assert_true(r.st.truncated);
    assert_int_equal(r.st.messages, 9);
    b.len = whole;
    r = run_mem(&b, NULL);
    assert_false(r.st.truncated);
    assert_int_equal(r.st.messages, 10);
    rpb_free(&b);
}

/* ---- memory ------------------------------------------------------------------------------------
 */

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void test_memory_bounded(void **state)
{
    (void)state;
    /* ~30 MB of pcap, written as 30 zstd frames of ~1 MB, never whole in memory */
    const char *path = tmp_path("big.pcap.zst");
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    rpb_flow f = flow_mold();
    rpb pl = {0}, fr = {0}, chunk = {0}, z = {0};
    uint64_t seq = 1, packets = 0;
    rpb_pcap_hdr(&chunk, true, false, 1);
    for (int frame = 0; frame < 30; frame++) {
        while (chunk.len < 1000000) {
            pl.len = fr.len = 0;
            rpb_mold(&pl, "BIG", seq, 20);
            for (int i = 0; i < 20; i++) rpb_itch_record(&pl, 'A', seq + (uint64_t)i);
            seq += 20;
            eth_frame(&fr, &f, &pl, 0);
            rpb_pcap_pkt(&chunk, true, false, T0 + packets * 1000, fr.p, fr.len, fr.len);
            packets++;
        }
        z.len = 0;
        zcompress(chunk.p, chunk.len, 1, &z);
        assert_int_equal(fwrite(z.p, 1, z.len, out), z.len);
        chunk.len = 0;
    }
    assert_int_equal(fclose(out), 0);
    rpb_free(&pl);
    rpb_free(&fr);
    rpb_free(&chunk);
    rpb_free(&z);

    size_t base = heap_in_use(), peak = 0;
    rp_source *s;
    char err[512];
    assert_int_equal(rp_source_open(&s, path, NULL, err, sizeof err), 0);
    rp_message m;
    int rc;
    uint64_t n = 0;
    while ((rc = rp_source_next(s, &m)) == 1) {
        if (++n % 50000 == 0) {
            size_t used = heap_in_use() - base;
            if (used > peak) peak = used;
        }
    }
    const rp_feed_stats *st = rp_source_stats(s);
    print_message("%" PRIu64 " MB decompressed, heap grew by at most %zu kB while reading\n",
                  st->bytes >> 20, peak >> 10);
    assert_int_equal(rc, 0);
    assert_int_equal(st->packets, packets);
    assert_int_equal(st->messages, packets * 20);
    assert_int_equal(st->gaps + st->backward, 0);
    assert_true(st->bytes > 30000000);
    assert_true(peak < 8u << 20);
    rp_source_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_shared_files_zstd),
        cmocka_unit_test(test_pcap_variants),
        cmocka_unit_test(test_message_fields),
        cmocka_unit_test(test_link_types_through_libpcap),
        cmocka_unit_test(test_itch_file),
        cmocka_unit_test(test_format_and_framing_override),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_stdin_pipe),
        cmocka_unit_test(test_errors_open),
        cmocka_unit_test(test_errors_known_formats),
        cmocka_unit_test(test_errors_corrupt_zstd),
        cmocka_unit_test(test_errors_in_packets),
        cmocka_unit_test(test_truncated_last_record),
        cmocka_unit_test(test_memory_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
