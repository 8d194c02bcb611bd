/* make_corpus.c - writes the seed corpora of replay's fuzz targets (tests/fuzz/corpus/fuzz_*)
 *
 * The seeds are generated here from the public specs (through make_corpus.h), never copied from
 * captures. Regenerate with tests/fuzz/make_corpus.sh; crashers found by fuzzing are added to the
 * corpus directories by hand (named regress-*), and this program leaves them alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "make_corpus.h"

static const char *root;

static void emit(const char *target, const char *name, const rpb *b)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
    if (rpb_write(b, path) != 0) {
        perror(path);
        exit(1);
    }
}

/* zstd of b into `frames` frames, content checksums on */
static void zstd_of(const rpb *b, int frames, rpb *out)
{
    size_t per = frames > 1 ? b->len / (size_t)frames + 1 : b->len;
    size_t off = 0;
    do {
        size_t n = b->len - off < per ? b->len - off : per;
        size_t cap = ZSTD_compressBound(n);
        uint8_t *dst = malloc(cap);
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        if (!dst || !cc) exit(1);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        size_t z = ZSTD_compress2(cc, dst, cap, b->p + off, n);
        if (ZSTD_isError(z)) exit(1);
        rpb_put(out, dst, z);
        ZSTD_freeCCtx(cc);
        free(dst);
        off += n;
    } while (off < b->len);
}

static void mold_payload(rpb *pl, const char *session, uint64_t seq, const char *types)
{
    rpb_mold(pl, session, seq, (unsigned)strlen(types));
    for (const char *t = types; *t; t++) rpb_itch_record(pl, *t, seq);
}

static void iex_payload(rpb *pl, uint64_t seq, const char *types)
{
    rpb msgs = {0};
    for (const char *t = types; *t; t++) rpb_iex_msg(&msgs, *t, *t == 'Q' ? 42 : 38);
    rpb_iex(pl, 1, 0x43cd0000, seq, (unsigned)strlen(types), &msgs);
    rpb_free(&msgs);
}

/* a small capture: MoldUDP64 (VLAN), IEX-TP, plain UDP, IPv6, ARP, a fragment */
static void capture(rpb *b, bool ng, bool ns, bool be)
{
    rpb_flow fm = rpb_flow4(0x0A000001, 0xE9360C6F, 5000, 26477);
    rpb_flow fi = rpb_flow4(0x0A000002, 0xE04300C7, 10378, 16642);
    rpb_flow fu = rpb_flow4(0x0A000003, 0x0A000004, 4000, 9999);
    rpb_flow f6 = rpb_flow6(1, 2, 7000, 7001);
    if (ng)
        rpb_pcapng_hdr(b, 1);
    else
        rpb_pcap_hdr(b, ns, be, 1);
    uint64_t ts = UINT64_C(1700000000123456789);
    for (int i = 0; i < 7; i++, ts += 1001) {
        rpb pl = {0}, fr = {0};
        switch (i) {
        case 0:
            mold_payload(&pl, "000010059B", 1, "ADF");
            rpb_eth_hdr(&fr, 0x0800, 1, false);
            rpb_ip_udp(&fr, &fm, pl.p, pl.len);
            break;
        case 1:
            iex_payload(&pl, 1, "QT");
            rpb_eth_udp(&fr, &fi, pl.p, pl.len);
            break;
        case 2:
            rpb_put(&pl, "hello", 5);
            rpb_eth_udp(&fr, &fu, pl.p, pl.len);
            break;
        case 3:
            rpb_eth_hdr(&fr, 0x0806, 0, false);
            rpb_zero(&fr, 28);
            break;
        case 4:
            mold_payload(&pl, "000010059B", 9, "E");
            rpb_eth_udp(&fr, &fm, pl.p, pl.len);
            break;
        case 5:
            rpb_eth_hdr(&fr, 0x0800, 0, false);
            rpb_ipv4_hdr(&fr, &fm, 17, 16, 185);
            rpb_zero(&fr, 16);
            break;
        default:
            mold_payload(&pl, "SESS2", 1, "SR");
            rpb_eth_udp(&fr, &f6, pl.p, pl.len);
            break;
        }
        if (ng)
            rpb_pcapng_pkt(b, ts / 1000, fr.p, fr.len);
        else
            rpb_pcap_pkt(b, ns, be, ts, fr.p, fr.len, fr.len);
        rpb_free(&pl);
        rpb_free(&fr);
    }
}

static void itch(rpb *b, int n)
{
    const char types[] = "SRAFDEXUPQ";
    for (int i = 0; i < n; i++) rpb_itch_record(b, types[i % 10], (uint64_t)i * 1000);
}

/* [u16 BE length][payload] records, the fuzz_moldudp64/fuzz_iextp input format */
static void lenrec(rpb *out, const rpb *pl)
{
    rpb_be16(out, pl->len);
    rpb_put(out, pl->p, pl->len);
}

static void framing_seeds(void)
{
    rpb_flow f4 = rpb_flow4(0x0A000001, 0xE9360C6F, 5000, 26477);
    rpb_flow f6 = rpb_flow6(1, 2, 7000, 7001);
    rpb pl = {0}, ip = {0}, b = {0};
    mold_payload(&pl, "000010059B", 1, "AD");
    rpb_ip_udp(&ip, &f4, pl.p, pl.len);
    /* selector bytes index fuzz_framing's link type list: 0 Ethernet, 1 SLL, 2 SLL2, 3 raw, 7 NULL
     */
    rpb_u8(&b, 0);
    rpb_eth_udp(&b, &f4, pl.p, pl.len);
    emit("fuzz_framing", "eth_mold", &b);
    b.len = 0;
    rpb_u8(&b, 0);
    rpb_eth_hdr(&b, 0x0800, 2, true);
    rpb_put(&b, ip.p, ip.len);
    emit("fuzz_framing", "eth_qinq", &b);
    b.len = 0;
    rpb_u8(&b, 1);
    rpb_zero(&b, 14);
    rpb_be16(&b, 0x0800);
    rpb_put(&b, ip.p, ip.len);
    emit("fuzz_framing", "sll", &b);
    b.len = 0;
    rpb_u8(&b, 2);
    rpb_be16(&b, 0x0800);
    rpb_zero(&b, 18);
    rpb_put(&b, ip.p, ip.len);
    emit("fuzz_framing", "sll2", &b);
    b.len = 0;
    rpb_u8(&b, 3);
    rpb_put(&b, ip.p, ip.len);
    emit("fuzz_framing", "raw4", &b);
    b.len = 0;
    pl.len = 0;
    iex_payload(&pl, 7, "QTQ");
    rpb_u8(&b, 0);
    rpb_eth_udp(&b, &f6, pl.p, pl.len);
    emit("fuzz_framing", "eth_ipv6_iex", &b);
    b.len = 0;
    rpb_u8(&b, 0);
    rpb_eth_hdr(&b, 0x0800, 0, false);
    rpb_ipv4_hdr(&b, &f4, 17, 16, 0x2000); /* first fragment */
    rpb_udp(&b, &f4, pl.p, 8);
    emit("fuzz_framing", "first_fragment", &b);
    b.len = 0;
    rpb_u8(&b, 7);
    rpb_le32(&b, 2);
    rpb_put(&b, ip.p, ip.len);
    emit("fuzz_framing", "null_loopback", &b);
    rpb_free(&pl);
    rpb_free(&ip);
    rpb_free(&b);
}

static void mold_seeds(void)
{
    rpb pl = {0}, b = {0};
    mold_payload(&pl, "000010059B", 1, "SRA");
    lenrec(&b, &pl);
    pl.len = 0;
    rpb_mold(&pl, "000010059B", 4, 0); /* heartbeat */
    lenrec(&b, &pl);
    pl.len = 0;
    mold_payload(&pl, "000010059B", 10, "FD"); /* gap */
    lenrec(&b, &pl);
    pl.len = 0;
    mold_payload(&pl, "000010059B", 5, "X"); /* backward */
    lenrec(&b, &pl);
    pl.len = 0;
    rpb_mold(&pl, "000010059B", 6, 0xFFFF); /* end of session */
    lenrec(&b, &pl);
    emit("fuzz_moldudp64", "session", &b);
    b.len = pl.len = 0;
    rpb_mold(&pl, "S", 1, 3); /* count past the messages */
    rpb_itch_record(&pl, 'A', 0);
    lenrec(&b, &pl);
    emit("fuzz_moldudp64", "count_overrun", &b);
    b.len = pl.len = 0;
    rpb_mold(&pl, "S", 1, 2); /* length past the end, wrong ITCH size */
    rpb_itch_record_len(&pl, 'A', 0, 30);
    rpb_be16(&pl, 900);
    lenrec(&b, &pl);
    emit("fuzz_moldudp64", "length_overrun", &b);
    rpb_free(&pl);
    rpb_free(&b);
}

static void iex_seeds(void)
{
    rpb pl = {0}, b = {0};
    iex_payload(&pl, 1, "QTQ");
    lenrec(&b, &pl);
    pl.len = 0;
    iex_payload(&pl, 4, ""); /* heartbeat */
    lenrec(&b, &pl);
    pl.len = 0;
    iex_payload(&pl, 9, "T"); /* gap */
    lenrec(&b, &pl);
    emit("fuzz_iextp", "session", &b);
    b.len = 0;
    pl.len = 0;
    iex_payload(&pl, 1, "QQ");
    pl.p[12] = (uint8_t)(pl.p[12] + 5); /* payload length past the end */
    lenrec(&b, &pl);
    emit("fuzz_iextp", "payload_overrun", &b);
    b.len = 0;
    pl.p[12] = (uint8_t)(pl.p[12] - 6); /* second message past the payload length */
    lenrec(&b, &pl);
    emit("fuzz_iextp", "message_overrun", &b);
    rpb_free(&pl);
    rpb_free(&b);
}

/* DBN: versions 1 to 3, ts_out, zstd in two frames, a fragment, and damage: a record length of
 * 0 and one past the end, an unknown version, a metadata length that lies, metadata cut short */
static void dbn_seeds(void)
{
    static const char *const syms[] = {"ESH1", "AAPL", "A.LONGER.SYMBOL"};
    rpb b = {0}, z = {0};
    for (unsigned v = 1; v <= 3; v++) {
        b.len = 0;
        rpb_dbn_meta(&b, v, v == 2, syms, v);
        size_t meta = b.len;
        rpb_dbn_rec(&b, 0xA0, v == 2 ? 16 : 14, 1, 1000, 40, 1010, v == 2);
        rpb_dbn_rec(&b, 0x01, v == 2 ? 22 : 20, 2, 2000, 32, 2020, v == 2);
        rpb_dbn_rec(&b, 0x13, v == 2 ? 132 : 130, 1, 3000, 16, 3030, v == 2);
        rpb_dbn_rec(&b, 0x17, v == 2 ? 6 : 4, 0, 4000, 0, 0, v == 2);
        char name[32];
        snprintf(name, sizeof name, "v%u%s", v, v == 2 ? "_ts_out" : "");
        emit("fuzz_dbn", name, &b);
        if (v != 3) continue;
        emit("fuzz_detect", "dbn", &b);
        zstd_of(&b, 2, &z);
        emit("fuzz_dbn", "v3.zst", &z);
        z.len = 0;
        rpb_put(&z, b.p + meta, b.len - meta);
        emit("fuzz_dbn", "fragment", &z);
        z.len = 0;
        b.p[meta] = 0;
        emit("fuzz_dbn", "record_len_0", &b);
        b.p[meta] = 0xFF;
        emit("fuzz_dbn", "record_len_past_end", &b);
        b.p[meta] = 14;
        b.p[3] = 9;
        emit("fuzz_dbn", "unknown_version", &b);
        b.p[3] = 3;
        ra_store_le32(b.p + 4, (uint32_t)(meta - 8 + 56));
        emit("fuzz_dbn", "meta_len_long", &b);
        ra_store_le32(b.p + 4, (uint32_t)(meta - 8 - 80));
        emit("fuzz_dbn", "meta_len_short", &b);
        b.len = meta - 20;
        emit("fuzz_dbn", "meta_cut", &b);
    }
    rpb_free(&b);
    rpb_free(&z);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
        return 1;
    }
    root = argv[1];
    rpb b = {0}, z = {0};

    framing_seeds();
    mold_seeds();
    iex_seeds();
    dbn_seeds();

    itch(&b, 12);
    emit("fuzz_itch", "records", &b);
    emit("fuzz_detect", "itch", &b);
    zstd_of(&b, 2, &z);
    emit("fuzz_itch", "records.zst", &z);
    emit("fuzz_zstd", "itch_two_frames.zst", &z);
    z.len = 0;
    b.len -= 5;
    emit("fuzz_itch", "truncated", &b);
    b.len = 0;
    rpb_itch_record_len(&b, 'A', 0, 20); /* wrong size, empty, unknown type */
    rpb_be16(&b, 0);
    rpb_itch_record_len(&b, 'z', 0, 13);
    emit("fuzz_itch", "bad_records", &b);
    b.len = 0;

    static const struct {
        const char *name;
        bool ng, ns, be;
    } caps[] = {{"us_le.pcap", false, false, false},
                {"ns_le.pcap", false, true, false},
                {"us_be.pcap", false, false, true},
                {"ns_be.pcap", false, true, true},
                {"capture.pcapng", true, false, false}};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        capture(&b, caps[i].ng, caps[i].ns, caps[i].be);
        emit("fuzz_pcap", caps[i].name, &b);
        if (i == 1 || i == 4) emit("fuzz_detect", caps[i].name, &b);
        if (i == 1) {
            zstd_of(&b, 1, &z);
            emit("fuzz_pcap", "ns_le.pcap.zst", &z);
            emit("fuzz_detect", "ns_le.pcap.zst", &z);
            emit("fuzz_zstd", "pcap.zst", &z);
            z.len -= 7;
            emit("fuzz_zstd", "cut.zst", &z);
            z.len = 0;
            b.len -= 9;
            emit("fuzz_pcap", "truncated.pcap", &b);
        }
        b.len = 0;
    }

    /* zstd: a skippable frame before a frame, an empty frame, a corrupted frame */
    rpb_le32(&z, 0x184D2A50);
    rpb_le32(&z, 4);
    rpb_le32(&z, 0xdeadbeef);
    rpb_put(&b, "plain bytes after a skippable frame", 35);
    zstd_of(&b, 1, &z);
    emit("fuzz_zstd", "skippable.zst", &z);
    z.len = 0;
    b.len = 0;
    zstd_of(&b, 1, &z);
    emit("fuzz_zstd", "empty.zst", &z);
    z.len = 0;
    itch(&b, 200);
    zstd_of(&b, 1, &z);
    z.p[z.len / 2] ^= 0x55;
    emit("fuzz_zstd", "corrupt.zst", &z);
    emit("fuzz_zstd", "plain", &b);
    z.len = b.len = 0;

    rpb_put(&b, "RTK\x01", 4);
    rpb_zero(&b, 28);
    emit("fuzz_detect", "rtk", &b);
    b.len = 0;
    rpb_put(&b, "DBN\x03 not any format replay reads", 32);
    emit("fuzz_detect", "unknown", &b);
    b.len = 0;
    static const uint8_t gz[] = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 'x'};
    rpb_put(&b, gz, sizeof gz);
    emit("fuzz_detect", "gzip", &b);
    b.len = 0;
    rpb_le32(&z, 0x184D2A50); /* Databento DBZ: a skippable frame "DBZ" + version, zstd frames */
    rpb_le32(&z, 8);
    rpb_put(&z, "DBZ\x01\0\0\0\0", 8);
    rpb_put(&b, "records", 7);
    zstd_of(&b, 1, &z);
    emit("fuzz_detect", "dbz", &z);
    z.len = b.len = 0;

    /* damage: a MoldUDP64 length past the end of a whole datagram (the flow's second packet,
     * the 5th of the capture: its message behind Ethernet, IPv4, UDP and the MoldUDP64 header),
     * and an ITCH file record whose length field lies */
    capture(&b, false, true, false);
    size_t off = 24;
    for (int i = 0; i < 4; i++) off += 16 + ra_load_le32(b.p + off + 8);
    rpb_set_be16(&b, off + 16 + 14 + 20 + 8 + 20, 4000);
    emit("fuzz_pcap", "damaged.pcap", &b);
    b.len = 0;
    itch(&b, 30);
    rpb_set_be16(&b, (2 + 12) + (2 + 39), 60); /* the third record, an 'A' of 36 bytes */
    emit("fuzz_itch", "damaged_length", &b);
    rpb_free(&b);
    rpb_free(&z);
    return 0;
}
