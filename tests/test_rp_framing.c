/* test_rp_framing.c - replay's packet decoders over built byte buffers: link layers, IP, UDP,
 * MoldUDP64, IEX-TP, framing detection, gap counting, stream table, ITCH checks */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "framing.h"
#include "link.h"
#include "fuzz/make_corpus.h"
#include "itch.h"

static const uint8_t hello[] = "hello, market";

static rpb_flow flow_a(void)
{
    return rpb_flow4(0x0A000001, 0xE9360C6F, 5000, 26477); /* 10.0.0.1 -> 233.54.12.111 */
}

/* checks that u is the hello payload of flow_a */
static void assert_hello(const rp_udp *u)
{
    assert_int_equal(u->len, sizeof hello);
    assert_memory_equal(u->payload, hello, sizeof hello);
    assert_int_equal(u->af, 4);
    assert_int_equal(u->sport, 5000);
    assert_int_equal(u->dport, 26477);
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {233, 54, 12, 111};
    assert_memory_equal(u->src, src, 4);
    assert_memory_equal(u->dst, dst, 4);
}

static void test_ethernet_ipv4(void **state)
{
    (void)state;
    rpb b = {0};
    rpb_flow f = flow_a();
    rpb_eth_udp(&b, &f, hello, sizeof hello);
    rp_udp u;
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_hello(&u);
    assert_true(u.complete);

    /* a 1-byte payload in a frame padded to 60 bytes: the padding is not payload */
    rpb_free(&b);
    rpb_eth_udp(&b, &f, "x", 1);
    assert_int_equal(b.len, 60);
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_int_equal(u.len, 1);
    assert_int_equal(u.payload[0], 'x');

    /* every cut of the frame before the payload end is handled without reading past it */
    rpb_free(&b);
    rpb_eth_udp(&b, &f, hello, sizeof hello);
    for (size_t n = 0; n < 14 + 20 + 8; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b.p, n);
        assert_int_equal(rp_link_udp(RP_DLT_EN10MB, cut, n, &u), RP_LINK_MALFORMED);
        free(cut);
    }
    /* cut inside the payload (snaplen): UDP, incomplete */
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, 14 + 20 + 8 + 3, &u), RP_LINK_UDP);
    assert_int_equal(u.len, 3);
    assert_false(u.complete);
    rpb_free(&b);
}

static void test_vlan_qinq(void **state)
{
    (void)state;
    rpb_flow f = flow_a();
    rpb ip = {0};
    rpb_ip_udp(&ip, &f, hello, sizeof hello);
    struct {
        int tags;
        bool qinq;
        int want;
    } cases[] = {{1, false, RP_LINK_UDP},
                 {2, true, RP_LINK_UDP},
                 {2, false, RP_LINK_UDP},
                 {8, false, RP_LINK_UDP},
                 {9, false, RP_LINK_MALFORMED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rpb b = {0};
        rpb_eth_hdr(&b, 0x0800, cases[i].tags, cases[i].qinq);
        rpb_put(&b, ip.p, ip.len);
        rp_udp u;
        assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), cases[i].want);
        if (cases[i].want == RP_LINK_UDP) assert_hello(&u);
        rpb_free(&b);
    }
    /* the 0x9100 tag type */
    rpb b = {0};
    rpb_eth_hdr(&b, 0x9100, 0, false);
    rpb_be16(&b, 7);
    rpb_be16(&b, 0x0800);
    rpb_put(&b, ip.p, ip.len);
    rp_udp u;
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_hello(&u);
    /* a tag cut short */
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, 16, &u), RP_LINK_MALFORMED);
    rpb_free(&b);
    rpb_free(&ip);
}

/* IPv6 header + extension headers given as (type, 8-byte block) chain, then UDP */
static void build_ipv6(rpb *b, const rpb_flow *f, const uint8_t *ext, size_t next_hdrs,
                       const uint8_t *frag_field)
{
    rpb body = {0};
    for (size_t i = 0; i < next_hdrs; i++) {
        unsigned next = i + 1 < next_hdrs ? ext[i + 1] : 17;
        rpb_u8(&body, next);
        if (ext[i] == 44) { /* fragment header: reserved, offset/flags, id */
            rpb_u8(&body, 0);
            rpb_put(&body, frag_field, 2);
            rpb_be32(&body, 99);
        } else if (ext[i] == 51) { /* AH: length in 4-byte units minus 2 -> 12 bytes */
            rpb_u8(&body, 1);
            rpb_zero(&body, 10);
        } else { /* length in 8-byte units minus 1 -> 16 bytes */
            rpb_u8(&body, 1);
            rpb_zero(&body, 14);
        }
    }
    rpb_udp(&body, f, hello, sizeof hello);
    rpb_eth_hdr(b, 0x86DD, 0, false);
    rpb_ipv6_hdr(b, f, next_hdrs ? ext[0] : 17, body.len);
    rpb_put(b, body.p, body.len);
    rpb_free(&body);
}

static void test_ipv6(void **state)
{
    (void)state;
    rpb_flow f = rpb_flow6(1, 0xfb, 5353, 5353);
    rp_udp u;
    const uint8_t zero_frag[2] = {0, 0}, first_frag[2] = {0, 1}, later_frag[2] = {0x05, 0x08};

    rpb b = {0};
    build_ipv6(&b, &f, NULL, 0, NULL);
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_int_equal(u.af, 6);
    assert_int_equal(u.len, sizeof hello);
    assert_memory_equal(u.payload, hello, sizeof hello);
    assert_memory_equal(u.src, f.src, 16);
    assert_memory_equal(u.dst, f.dst, 16);
    assert_true(u.complete);
    rpb_free(&b);

    const uint8_t chain[] = {0, 60, 43, 51}; /* hop-by-hop, dest options, routing, AH */
    build_ipv6(&b, &f, chain, 4, NULL);
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_memory_equal(u.payload, hello, sizeof hello);
    /* the chain cut inside an extension header */
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, 14 + 40 + 20, &u), RP_LINK_MALFORMED);
    rpb_free(&b);

    const uint8_t frag[] = {0, 44};
    build_ipv6(&b, &f, frag, 2, zero_frag); /* atomic fragment: whole */
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_true(u.complete);
    rpb_free(&b);
    build_ipv6(&b, &f, frag, 2, first_frag); /* first of several */
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_false(u.complete);
    assert_memory_equal(u.payload, hello, sizeof hello);
    rpb_free(&b);
    build_ipv6(&b, &f, frag, 2, later_frag);
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_FRAGMENT);
    rpb_free(&b);

    /* ESP and TCP are not UDP */
    rpb_eth_hdr(&b, 0x86DD, 0, false);
    rpb_ipv6_hdr(&b, &f, 50, 16);
    rpb_zero(&b, 16);
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_NOT_UDP);
    b.p[14 + 6] = 6;
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_NOT_UDP);
    /* wrong version nibble */
    b.p[14] = 0x40;
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_MALFORMED);
    rpb_free(&b);
}

static void test_sll_sll2_raw_null(void **state)
{
    (void)state;
    rpb_flow f = flow_a();
    rpb ip = {0};
    rpb_ip_udp(&ip, &f, hello, sizeof hello);
    rp_udp u;

    rpb b = {0}; /* SLL: packet type, ARPHRD, address length, address[8], protocol */
    rpb_be16(&b, 0);
    rpb_be16(&b, 1);
    rpb_be16(&b, 6);
    rpb_zero(&b, 8);
    rpb_be16(&b, 0x0800);
    rpb_put(&b, ip.p, ip.len);
    assert_int_equal(rp_link_udp(RP_DLT_LINUX_SLL, b.p, b.len, &u), RP_LINK_UDP);
    assert_hello(&u);
    assert_int_equal(rp_link_udp(RP_DLT_LINUX_SLL, b.p, 15, &u), RP_LINK_MALFORMED);
    rpb_free(&b);

    /* SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length, addr[8] */
    rpb_be16(&b, 0x0800);
    rpb_be16(&b, 0);
    rpb_be32(&b, 2);
    rpb_be16(&b, 1);
    rpb_u8(&b, 0);
    rpb_u8(&b, 6);
    rpb_zero(&b, 8);
    rpb_put(&b, ip.p, ip.len);
    assert_int_equal(rp_link_udp(RP_DLT_LINUX_SLL2, b.p, b.len, &u), RP_LINK_UDP);
    assert_hello(&u);
    b.p[0] = 0x08; /* ARP */
    b.p[1] = 0x06;
    assert_int_equal(rp_link_udp(RP_DLT_LINUX_SLL2, b.p, b.len, &u), RP_LINK_NOT_UDP);
    rpb_free(&b);

    /* raw IP under each of its link type numbers */
    const int raw[] = {RP_DLT_RAW, RP_LINKTYPE_RAW, RP_DLT_IPV4};
    for (size_t i = 0; i < 3; i++) {
        assert_true(rp_link_supported(raw[i]));
        assert_int_equal(rp_link_udp(raw[i], ip.p, ip.len, &u), RP_LINK_UDP);
        assert_hello(&u);
    }
    rpb_flow f6 = rpb_flow6(1, 2, 3, 4);
    rpb ip6 = {0};
    rpb_ip_udp(&ip6, &f6, hello, sizeof hello);
    assert_int_equal(rp_link_udp(RP_DLT_RAW, ip6.p, ip6.len, &u), RP_LINK_UDP);
    assert_int_equal(u.af, 6);
    assert_int_equal(rp_link_udp(RP_DLT_IPV6, ip6.p, ip6.len, &u), RP_LINK_UDP);
    assert_int_equal(rp_link_udp(RP_DLT_IPV4, ip6.p, ip6.len, &u), RP_LINK_MALFORMED);
    assert_int_equal(rp_link_udp(RP_DLT_RAW, ip6.p, 0, &u), RP_LINK_MALFORMED);

    /* BSD loopback: 4-byte address family */
    rpb_le32(&b, 2);
    rpb_put(&b, ip.p, ip.len);
    assert_int_equal(rp_link_udp(RP_DLT_NULL, b.p, b.len, &u), RP_LINK_UDP);
    assert_hello(&u);
    assert_int_equal(rp_link_udp(RP_DLT_LOOP, b.p, 3, &u), RP_LINK_MALFORMED);
    rpb_free(&b);

    /* link types we do not decode */
    assert_false(rp_link_supported(105));
    assert_int_equal(rp_link_udp(105, ip.p, ip.len, &u), RP_LINK_MALFORMED);
    rpb_free(&ip);
    rpb_free(&ip6);
}

static void test_ipv4_fragments_and_non_udp(void **state)
{
    (void)state;
    rpb_flow f = flow_a();
    rp_udp u;
    rpb udp = {0};
    rpb_udp(&udp, &f, hello, sizeof hello);

    /* first fragment: MF set, offset 0, UDP length says 8 + 1000 but only the hello is here */
    rpb b = {0};
    rpb_eth_hdr(&b, 0x0800, 0, false);
    rpb_ipv4_hdr(&b, &f, 17, udp.len, 0x2000);
    rpb_put(&b, udp.p, udp.len);
    rpb_set_be16(&b, 14 + 20 + 4, 8 + 1000);
    assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_UDP);
    assert_int_equal(u.len, sizeof hello);
    assert_false(u.complete);
    rpb_free(&b);

    /* later fragments */
    const unsigned later[] = {0x2000 | 185, 185, 1};
    for (size_t i = 0; i < 3; i++) {
        rpb_eth_hdr(&b, 0x0800, 0, false);
        rpb_ipv4_hdr(&b, &f, 17, udp.len, later[i]);
        rpb_put(&b, udp.p, udp.len);
        assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_FRAGMENT);
        rpb_free(&b);
    }

    /* TCP, ICMP; ARP and an 802.3 length field */
    const unsigned protos[] = {6, 1};
    for (size_t i = 0; i < 2; i++) {
        rpb_eth_hdr(&b, 0x0800, 0, false);
        rpb_ipv4_hdr(&b, &f, protos[i], 20, 0);
        rpb_zero(&b, 20);
        assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_NOT_UDP);
        rpb_free(&b);
    }
    const unsigned types[] = {0x0806, 0x0040};
    for (size_t i = 0; i < 2; i++) {
        rpb_eth_hdr(&b, types[i], 0, false);
        rpb_zero(&b, 46);
        assert_int_equal(rp_link_udp(RP_DLT_EN10MB, b.p, b.len, &u), RP_LINK_NOT_UDP);
        rpb_free(&b);
    }

    /* malformed: IHL below 5, total length below IHL, UDP length below 8 */
    rpb_ipv4_hdr(&b, &f, 17, udp.len, 0);
    rpb_put(&b, udp.p, udp.len);
    b.p[0] = 0x44;
    assert_int_equal(rp_link_udp(RP_DLT_RAW, b.p, b.len, &u), RP_LINK_MALFORMED);
    b.p[0] = 0x4F; /* IHL 60, longer than the 42-byte packet */
    assert_int_equal(rp_link_udp(RP_DLT_RAW, b.p, b.len, &u), RP_LINK_MALFORMED);
    b.p[0] = 0x45;
    rpb_set_be16(&b, 2, 19);
    assert_int_equal(rp_link_udp(RP_DLT_RAW, b.p, b.len, &u), RP_LINK_MALFORMED);
    rpb_set_be16(&b, 2, 20 + (unsigned)udp.len);
    rpb_set_be16(&b, 20 + 4, 7);
    assert_int_equal(rp_link_udp(RP_DLT_RAW, b.p, b.len, &u), RP_LINK_MALFORMED);
    /* IP total length beyond the capture: incomplete, payload is what is there */
    rpb_set_be16(&b, 20 + 4, 8 + sizeof hello);
    rpb_set_be16(&b, 2, 1500);
    assert_int_equal(rp_link_udp(RP_DLT_RAW, b.p, b.len, &u), RP_LINK_UDP);
    assert_false(u.complete);
    assert_int_equal(u.len, sizeof hello);
    /* total length 0 (segmentation offload): what was captured */
    rpb_set_be16(&b, 2, 0);
    assert_int_equal(rp_link_udp(RP_DLT_RAW, b.p, b.len, &u), RP_LINK_UDP);
    assert_true(u.complete);
    assert_int_equal(u.len, sizeof hello);
    rpb_free(&b);
    rpb_free(&udp);
}

/* ---- MoldUDP64 ---------------------------------------------------------------------------------
 */

static void test_mold_messages(void **state)
{
    (void)state;
    rpb b = {0};
    rpb_mold(&b, "000010059B", 1000, 3);
    rpb_itch_record(&b, 'A', 1);
    rpb_itch_record(&b, 'D', 2);
    rpb_itch_record(&b, 'F', 3);
    rp_frame f;
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OK);
    assert_int_equal(f.first_seq, 1000);
    assert_int_equal(f.count, 3);
    assert_int_equal(f.complete, 3);
    assert_false(f.heartbeat);
    assert_int_equal(f.klen, 11);
    assert_int_equal(f.key[0], 'M');
    assert_memory_equal(f.key + 1, "000010059B", 10);

    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t len;
    const char types[] = "ADF";
    const uint16_t lens[] = {36, 19, 40};
    for (int i = 0; i < 3; i++) {
        assert_true(rp_frame_next(&f, &c, &m, &len));
        assert_int_equal(m[0], types[i]);
        assert_int_equal(len, lens[i]);
        assert_int_equal(rp_itch_timestamp(m, len), (uint64_t)i + 1);
    }
    assert_false(rp_frame_next(&f, &c, &m, &len));

    /* trailing bytes after the announced messages are ignored */
    rpb_zero(&b, 5);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OK);
    assert_int_equal(f.complete, 3);
    rpb_free(&b);
}

static void test_mold_heartbeat_end(void **state)
{
    (void)state;
    rpb b = {0};
    rp_frame f;
    rpb_mold(&b, "SESSION1", 77, 0);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OK);
    assert_true(f.heartbeat);
    assert_false(f.end_of_session);
    assert_int_equal(f.count, 0);
    assert_int_equal(f.first_seq, 77);
    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t len;
    assert_false(rp_frame_next(&f, &c, &m, &len));
    rpb_free(&b);

    rpb_mold(&b, "SESSION1", 78, 0xFFFF);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OK);
    assert_true(f.heartbeat);
    assert_true(f.end_of_session);
    assert_int_equal(f.count, 0);
    assert_false(rp_frame_next(&f, &c, &m, &len));
    rpb_free(&b);
}

static void test_mold_malformed(void **state)
{
    (void)state;
    rpb b = {0};
    rp_frame f;
    /* short header */
    rpb_mold(&b, "S", 1, 1);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, 19, &f), RP_FRAME_SHORT);
    assert_non_null(strstr(f.why, "19"));
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, 0, &f), RP_FRAME_SHORT);
    rpb_free(&b);

    /* count 5 but only 3 messages */
    rpb_mold(&b, "S", 1, 5);
    rpb_itch_record(&b, 'A', 0);
    rpb_itch_record(&b, 'A', 0);
    rpb_itch_record(&b, 'A', 0);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OVERRUN);
    assert_int_equal(f.complete, 3);
    assert_non_null(strstr(f.why, "message 4 of 5"));
    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t len;
    int n = 0;
    while (rp_frame_next(&f, &c, &m, &len)) n++;
    assert_int_equal(n, 3);
    /* a length prefix cut after one byte */
    rpb_u8(&b, 0);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OVERRUN);
    assert_int_equal(f.complete, 3);
    rpb_free(&b);

    /* second message's length runs past the end */
    rpb_mold(&b, "S", 1, 2);
    rpb_itch_record(&b, 'A', 0);
    rpb_be16(&b, 500);
    rpb_zero(&b, 10);
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, b.p, b.len, &f), RP_FRAME_OVERRUN);
    assert_int_equal(f.complete, 1);
    assert_non_null(strstr(f.why, "length 500"));
    assert_non_null(strstr(f.why, "payload offset 58"));
    assert_non_null(strstr(f.why, "runs past the end"));
    rpb_free(&b);

    /* a framing without header */
    uint8_t x[40] = {0};
    assert_int_equal(rp_frame_decode(RP_FRAMING_UDP, x, sizeof x, &f), RP_FRAME_BADHDR);
}

/* ---- IEX-TP ------------------------------------------------------------------------------------
 */

static void test_iextp(void **state)
{
    (void)state;
    rpb msgs = {0}, b = {0};
    rpb_iex_msg(&msgs, 'Q', 42);
    rpb_iex_msg(&msgs, 'T', 38);
    rpb_iex(&b, 1, 0x43cd0000, 500, 2, &msgs);
    rp_frame f;
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, b.p, b.len, &f), RP_FRAME_OK);
    assert_int_equal(f.first_seq, 500);
    assert_int_equal(f.count, 2);
    assert_int_equal(f.complete, 2);
    assert_int_equal(f.klen, 9);
    assert_int_equal(f.key[0], 'I');
    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t len;
    assert_true(rp_frame_next(&f, &c, &m, &len));
    assert_int_equal(m[0], 'Q');
    assert_int_equal(len, 42);
    assert_true(rp_frame_next(&f, &c, &m, &len));
    assert_int_equal(m[0], 'T');
    assert_int_equal(len, 38);
    assert_false(rp_frame_next(&f, &c, &m, &len));

    /* different channel or session: a different stream key */
    rp_frame g;
    rpb other = {0};
    rpb_iex(&other, 2, 0x43cd0000, 500, 2, &msgs);
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, other.p, other.len, &g), RP_FRAME_OK);
    assert_memory_not_equal(f.key, g.key, 9);
    rpb_free(&other);

    /* heartbeat */
    rpb hb = {0};
    rpb_iex(&hb, 1, 0x43cd0000, 502, 0, NULL);
    assert_int_equal(hb.len, 40);
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, hb.p, hb.len, &f), RP_FRAME_OK);
    assert_true(f.heartbeat);
    assert_int_equal(f.first_seq, 502);

    /* version, short header */
    hb.p[0] = 2;
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, hb.p, hb.len, &f), RP_FRAME_BADHDR);
    assert_non_null(strstr(f.why, "version 2"));
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, b.p, 39, &f), RP_FRAME_SHORT);

    /* payload length beyond the datagram; message length beyond the payload length */
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, b.p, b.len - 1, &f), RP_FRAME_OVERRUN);
    assert_non_null(strstr(f.why, "payload length"));
    assert_int_equal(f.complete, 1);
    b.p[12] = (uint8_t)(b.p[12] - 1); /* payload length one short: second message overruns */
    assert_int_equal(rp_frame_decode(RP_FRAMING_IEXTP, b.p, b.len, &f), RP_FRAME_OVERRUN);
    assert_non_null(strstr(f.why, "message 2 of 2"));
    assert_int_equal(f.complete, 1);
    rpb_free(&b);
    rpb_free(&hb);
    rpb_free(&msgs);
}

/* ---- detection ---------------------------------------------------------------------------------
 */

static void test_detect(void **state)
{
    (void)state;
    rpb b = {0};
    rpb_mold(&b, "000010059B", 1, 2);
    rpb_itch_record(&b, 'S', 0);
    rpb_itch_record(&b, 'R', 0);
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_MOLDUDP64);
    /* one byte more or less: the lengths no longer add up */
    assert_int_equal(rp_frame_detect(b.p, b.len - 1, true), RP_FRAMING_UDP);
    rpb_u8(&b, 0);
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_UDP);
    /* cut by the capture: consistent as far as it goes */
    assert_int_equal(rp_frame_detect(b.p, b.len - 10, false), RP_FRAMING_MOLDUDP64);
    assert_int_equal(rp_frame_detect(b.p, 25, false), RP_FRAMING_UDP); /* no whole message */
    /* a non-printable session is not MoldUDP64 */
    b.p[3] = 0x01;
    assert_int_equal(rp_frame_detect(b.p, b.len - 1, true), RP_FRAMING_UDP);
    rpb_free(&b);

    rpb_mold(&b, "SESS", 9, 0); /* heartbeat */
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_MOLDUDP64);
    rpb_u8(&b, 0);
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_UDP);
    rpb_free(&b);
    rpb_mold(&b, "SESS", 9, 0xFFFF);
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_MOLDUDP64);
    rpb_free(&b);

    rpb msgs = {0};
    rpb_iex_msg(&msgs, 'Q', 42);
    rpb_iex(&b, 1, 7, 1, 1, &msgs);
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_IEXTP);
    assert_int_equal(rp_frame_detect(b.p, b.len - 4, false), RP_FRAMING_UDP); /* no whole msg */
    assert_int_equal(rp_frame_detect(b.p, b.len - 4, true), RP_FRAMING_UDP);
    b.p[0] = 2; /* version */
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_UDP);
    rpb_free(&b);
    rpb_iex_msg(&msgs, 'T', 38);
    rpb_iex(&b, 1, 7, 1, 2, &msgs);
    assert_int_equal(rp_frame_detect(b.p, b.len - 4, false), RP_FRAMING_IEXTP);
    b.p[14] = 3; /* count 3, lengths add up to 2 messages */
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_UDP);
    rpb_free(&b);
    rpb_iex(&b, 1, 7, 1, 0, NULL);
    assert_int_equal(rp_frame_detect(b.p, b.len, true), RP_FRAMING_IEXTP);
    rpb_free(&b);
    rpb_free(&msgs);

    /* other payloads */
    assert_int_equal(rp_frame_detect(hello, sizeof hello, true), RP_FRAMING_UDP);
    assert_int_equal(rp_frame_detect(hello, 0, true), RP_FRAMING_UDP);
    const char text[] = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n";
    assert_int_equal(rp_frame_detect((const uint8_t *)text, sizeof text - 1, true), RP_FRAMING_UDP);
}

/* ---- gaps and streams --------------------------------------------------------------------------
 */

static void test_gaps(void **state)
{
    (void)state;
    rp_seq s = {0};
    rp_gaps g = {0};
    rp_seq_track(&s, 100, 3, &g); /* first packet: sets expected 103 */
    assert_int_equal(s.expected, 103);
    assert_int_equal(g.gaps + g.missing + g.backward, 0);
    rp_seq_track(&s, 103, 2, &g); /* in order */
    assert_int_equal(g.gaps, 0);
    rp_seq_track(&s, 105, 0, &g); /* heartbeat with the next number */
    assert_int_equal(g.gaps, 0);
    assert_int_equal(s.expected, 105);
    rp_seq_track(&s, 110, 1, &g); /* 105..109 missing */
    assert_int_equal(g.gaps, 1);
    assert_int_equal(g.missing, 5);
    rp_seq_track(&s, 120, 0, &g); /* heartbeat announcing a gap */
    assert_int_equal(g.gaps, 2);
    assert_int_equal(g.missing, 14);
    rp_seq_track(&s, 50, 10, &g); /* backward; expectation follows the packet */
    assert_int_equal(g.backward, 1);
    assert_int_equal(s.expected, 60);
    rp_seq_track(&s, 60, 1, &g);
    assert_int_equal(g.gaps, 2);
    assert_int_equal(g.backward, 1);
    rp_seq_track(&s, 60, 1, &g); /* duplicate */
    assert_int_equal(g.backward, 2);
    assert_int_equal(g.missing, 14);

    /* absurd jumps saturate instead of wrapping */
    rp_seq_track(&s, UINT64_MAX - 1, 0, &g);
    rp_seq_track(&s, 0, 1, &g);
    rp_seq_track(&s, UINT64_MAX - 1, 0, &g);
    assert_int_equal(g.gaps, 4);
    assert_true(g.missing == UINT64_MAX);
}

static void test_streams(void **state)
{
    (void)state;
    rp_streams t;
    rp_streams_init(&t, 3000);
    bool created;
    uint8_t key[RP_KEY_MAX];
    for (uint32_t i = 0; i < 3000; i++) {
        memset(key, 0, sizeof key);
        memcpy(key, &i, sizeof i);
        rp_stream *s = rp_streams_get(&t, key, 4 + i % 37, &created);
        assert_non_null(s);
        assert_true(created);
        assert_int_equal(s->seq.expected, 0);
        s->id = i * 7;
        s->framing = RP_FRAMING_IEXTP;
    }
    for (uint32_t i = 0; i < 3000; i++) {
        memset(key, 0, sizeof key);
        memcpy(key, &i, sizeof i);
        rp_stream *s = rp_streams_get(&t, key, 4 + i % 37, &created);
        assert_non_null(s);
        assert_false(created);
        assert_int_equal(s->id, i * 7);
        assert_int_equal(s->framing, RP_FRAMING_IEXTP);
    }
    /* the same bytes with another length are another key; the table is full */
    uint32_t one = 1;
    memset(key, 0, sizeof key);
    memcpy(key, &one, sizeof one);
    assert_null(rp_streams_get(&t, key, 3, &created));
    assert_false(created);
    assert_non_null(rp_streams_get(&t, key, 5, &created)); /* 4 + 1 % 37: exists */
    assert_false(created);
    assert_null(rp_streams_get(&t, key, 0, &created));
    assert_null(rp_streams_get(&t, key, RP_KEY_MAX + 1, &created));
    rp_streams_free(&t);

    /* flow keys: direction and port matter */
    rp_udp a = {.af = 4, .sport = 1, .dport = 2}, b2 = a;
    a.src[0] = 10;
    b2.dst[0] = 10;
    uint8_t ka[RP_KEY_MAX], kb[RP_KEY_MAX];
    size_t la = rp_udp_flow_key(&a, ka), lb = rp_udp_flow_key(&b2, kb);
    assert_int_equal(la, 13);
    assert_int_equal(lb, 13);
    assert_memory_not_equal(ka, kb, la);
    a.af = 6;
    assert_int_equal(rp_udp_flow_key(&a, ka), 37);
}

/* ---- ITCH --------------------------------------------------------------------------------------
 */

static void test_itch(void **state)
{
    (void)state;
    /* the specification's types and sizes: spot checks, exactly its 23 types, their sum */
    const char *types = "SRHYLVWKJhAFECXDUPQBINO";
    assert_int_equal(rp_itch_size('S'), 12);
    assert_int_equal(rp_itch_size('A'), 36);
    assert_int_equal(rp_itch_size('P'), 44);
    assert_int_equal(rp_itch_size('h'), 21);
    assert_int_equal(rp_itch_size('I'), 50);
    size_t known = 0, sum = 0;
    for (unsigned t = 1; t < 256; t++) {
        if (!rp_itch_size((uint8_t)t)) continue;
        assert_non_null(strchr(types, (int)t));
        known++;
        sum += rp_itch_size((uint8_t)t);
    }
    assert_int_equal(known, 23);
    assert_int_equal(sum, 694);
    assert_int_equal(rp_itch_size('Z'), 0);
    assert_int_equal(rp_itch_size(0), 0);

    rpb b = {0};
    rpb_itch_msg_len(&b, 'A', UINT64_C(0x123456789abc), 36);
    assert_int_equal(rp_itch_check(b.p, 36), RP_ITCH_OK);
    assert_int_equal(rp_itch_check(b.p, 35), RP_ITCH_BADSIZE);
    assert_int_equal(rp_itch_check(b.p, 0), RP_ITCH_EMPTY);
    assert_int_equal(rp_itch_timestamp(b.p, 36), UINT64_C(0x123456789abc));
    assert_int_equal(rp_itch_timestamp(b.p, 10), 0);
    b.p[0] = 'z';
    assert_int_equal(rp_itch_check(b.p, 36), RP_ITCH_UNKNOWN);
    rpb_free(&b);

    rpb_itch_record(&b, 'S', 5);
    rpb_itch_record(&b, 'R', 6);
    const uint8_t *m;
    size_t len;
    assert_int_equal(rp_itch_record(b.p, b.len, &m, &len), 14);
    assert_int_equal(len, 12);
    assert_ptr_equal(m, b.p + 2);
    assert_int_equal(rp_itch_record(b.p, 13, &m, &len), 0);
    assert_int_equal(rp_itch_record(b.p, 1, &m, &len), 0);
    assert_int_equal(rp_itch_record(b.p + 14, b.len - 14, &m, &len), 41);

    assert_true(rp_itch_detect(b.p, b.len));
    assert_true(rp_itch_detect(b.p, 3));  /* just a length and a type */
    assert_false(rp_itch_detect(b.p, 2)); /* not even that */
    rpb_itch_record_len(&b, 'A', 7, 30);  /* third record: wrong size */
    assert_false(rp_itch_detect(b.p, b.len));
    assert_true(rp_itch_detect(b.p, 14 + 41)); /* not looked at when outside the window */
    rpb_free(&b);
    rpb_itch_record_len(&b, '[', 0, 20); /* unknown type */
    assert_false(rp_itch_detect(b.p, b.len));
    rpb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_sll_sll2_raw_null),
        cmocka_unit_test(test_ipv4_fragments_and_non_udp),
        cmocka_unit_test(test_mold_messages),
        cmocka_unit_test(test_mold_heartbeat_end),
        cmocka_unit_test(test_mold_malformed),
        cmocka_unit_test(test_iextp),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_itch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
