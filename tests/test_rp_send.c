/* test_rp_send.c - replay --send's pure parts: the MoldUDP64 packer, the --mbps schedule, the
 * --drop choice, and udp://HOST:PORT parsing (no packet is sent) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "framing.h"
#include "moldpack.h"
#include "pacing.h"
#include "send.h"
#include "sendsock.h"

/* Decodes pkt[0..n) as MoldUDP64 and checks its session, first sequence number and messages. */
static void check_packet(const uint8_t *pkt, size_t n, const char *session, uint64_t seq,
                         const uint8_t *const *msgs, const size_t *lens, uint32_t count)
{
    rp_frame f;
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, pkt, n, &f), RP_FRAME_OK);
    assert_memory_equal(pkt, session, 10);
    assert_int_equal(f.first_seq, seq);
    assert_int_equal(f.count, count);
    rp_frame_cursor c = {0, 0};
    const uint8_t *m;
    uint16_t len;
    for (uint32_t i = 0; i < count; i++) {
        assert_true(rp_frame_next(&f, &c, &m, &len));
        assert_int_equal(len, lens[i]);
        assert_memory_equal(m, msgs[i], lens[i]);
    }
    assert_false(rp_frame_next(&f, &c, &m, &len));
}

static void test_moldpack_groups_to_the_limit(void **state)
{
    (void)state;
    static rp_moldpack p;
    rp_moldpack_init(&p, "ABC", 20 + 3 * (2 + 10), 7); /* room for three 10-byte messages */
    uint8_t a[10], b[10], c[10], d[10];
    memset(a, 'a', 10), memset(b, 'b', 10), memset(c, 'c', 10), memset(d, 'd', 10);
    const uint8_t *m1[] = {a, b, c};
    const size_t l1[] = {10, 10, 10};
    assert_int_equal(rp_moldpack_add(&p, a, 10), 0);
    assert_int_equal(rp_moldpack_add(&p, b, 10), 0);
    assert_int_equal(rp_moldpack_add(&p, c, 10), 0);
    assert_false(rp_moldpack_fits(&p, 10));
    assert_int_equal(rp_moldpack_add(&p, d, 10), -1); /* refused: take first */
    const uint8_t *pkt;
    size_t n = rp_moldpack_take(&p, &pkt);
    assert_int_equal(n, 20 + 36);
    check_packet(pkt, n, "ABC       ", 7, m1, l1, 3);
    assert_int_equal(rp_moldpack_take(&p, &pkt), 0); /* empty: nothing */
    /* a gap of 5, then d: numbered 10 + 5 */
    assert_int_equal(rp_moldpack_skip(&p, 5), 0);
    assert_int_equal(rp_moldpack_add(&p, d, 10), 0);
    assert_int_equal(rp_moldpack_skip(&p, 1), -1); /* not inside a packet */
    const uint8_t *m2[] = {d};
    const size_t l2[] = {10};
    n = rp_moldpack_take(&p, &pkt);
    check_packet(pkt, n, "ABC       ", 15, m2, l2, 1);
    uint8_t hb[RP_MOLD_HDR];
    assert_int_equal(rp_moldpack_heartbeat(&p, hb), RP_MOLD_HDR);
    rp_frame f;
    assert_int_equal(rp_frame_decode(RP_FRAMING_MOLDUDP64, hb, sizeof hb, &f), RP_FRAME_OK);
    assert_true(f.heartbeat);
    assert_int_equal(f.first_seq, 16);
}

static void test_moldpack_big_message_alone(void **state)
{
    (void)state;
    static rp_moldpack p;
    static uint8_t big[3000];
    memset(big, 'x', sizeof big);
    rp_moldpack_init(&p, "SESSION0123456", 100, 1); /* session cut to 10 bytes */
    assert_true(rp_moldpack_fits(&p, sizeof big));  /* an empty packet takes it */
    assert_int_equal(rp_moldpack_add(&p, big, sizeof big), 0);
    assert_false(rp_moldpack_fits(&p, 1));
    const uint8_t *pkt;
    size_t n = rp_moldpack_take(&p, &pkt);
    const uint8_t *m[] = {big};
    const size_t l[] = {sizeof big};
    check_packet(pkt, n, "SESSION012", 1, m, l, 1);
    assert_false(rp_moldpack_fits(&p, RP_MOLDPACK_MAX)); /* no UDP payload holds it */
}

static void test_mbps_schedule(void **state)
{
    (void)state;
    rp_pace p = {.mode = RP_PACE_MBPS, .mbps = 8.0, .start_ns = 1000};
    /* 8 Mbps = 1 byte per microsecond: byte offset b is due b us after the start */
    assert_int_equal(rp_pace_target(&p, 0, 0, 0), 1000);
    assert_int_equal(rp_pace_target(&p, 0, 1500, 0), 1000 + 1500000);
    assert_int_equal(rp_pace_target(&p, 3, UINT64_C(1000000000), 99),
                     1000 + UINT64_C(1) * 1000000000 * 1000);
    p.mbps = 0;
    assert_int_equal(rp_pace_target(&p, 0, 123, 0), 1000);
}

static void test_drop_pick(void **state)
{
    (void)state;
    unsigned dropped = 0, same = 0, other_seed = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        bool d = rp_send_drop_pick(42, i, 0.25);
        dropped += d;
        same += d == rp_send_drop_pick(42, i, 0.25);
        other_seed += d != rp_send_drop_pick(43, i, 0.25);
        assert_false(rp_send_drop_pick(42, i, 0.0));
        assert_true(rp_send_drop_pick(42, i, 1.0));
    }
    assert_int_equal(same, 100000);         /* a pure function */
    assert_in_range(dropped, 24000, 26000); /* the fraction asked for */
    assert_true(other_seed > 10000);        /* another seed picks other packets */
}

static void test_sock_parse(void **state)
{
    (void)state;
    rp_sock s;
    char err[256];
    assert_int_equal(rp_sock_parse("udp://127.0.0.1:5000", &s, err, sizeof err), 0);
    assert_int_equal(s.port, 5000);
    assert_false(s.multicast);
    assert_int_equal(s.fd, -1);
    assert_int_equal(ntohs(((struct sockaddr_in *)&s.addr)->sin_port), 5000);
    assert_int_equal(rp_sock_parse("udp://239.1.2.3:0", &s, err, sizeof err), 0);
    assert_true(s.multicast);
    assert_int_equal(s.port, 0);
    assert_int_equal(rp_sock_parse("udp://[ff02::1]:7", &s, err, sizeof err), 0);
    assert_true(s.multicast);
    assert_int_equal(s.addr.ss_family, AF_INET6);
    const char *bad[] = {"tcp://1.2.3.4:5",     "udp://1.2.3.4",    "udp://:5",
                         "udp://1.2.3.4:65536", "udp://1.2.3.4:-1", "udp://[::1:5",
                         "udp://1.2.3.4:5x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rp_sock_parse(bad[i], &s, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moldpack_groups_to_the_limit),
        cmocka_unit_test(test_moldpack_big_message_alone),
        cmocka_unit_test(test_mbps_schedule),
        cmocka_unit_test(test_drop_pick),
        cmocka_unit_test(test_sock_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
