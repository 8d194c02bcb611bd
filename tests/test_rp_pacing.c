/* test_rp_pacing.c - the replay pacing schedule: speed parsing, realtime, Nx, pps, anchors, loop */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pacing.h"

#define SEC UINT64_C(1000000000)

static rp_pace pace(rp_pace_mode mode, double speed, double pps)
{
    rp_pace p = {.mode = mode, .speed = speed, .pps = pps};
    p.start_ns = 5 * SEC + 17;                     /* arbitrary monotonic anchor */
    p.first_ts_ns = UINT64_C(1704205800000000000); /* 2024-01-02 14:30 UTC */
    return p;
}

static void test_parse_speed(void **state)
{
    (void)state;
    rp_pace p = {0};
    assert_int_equal(rp_pace_parse_speed("max", &p), 0);
    assert_int_equal(p.mode, RP_PACE_MAX);
    assert_int_equal(rp_pace_parse_speed("realtime", &p), 0);
    assert_int_equal(p.mode, RP_PACE_SPEED);
    assert_true(p.speed == 1.0);
    assert_int_equal(rp_pace_parse_speed("10x", &p), 0);
    assert_true(p.speed == 10.0);
    assert_int_equal(rp_pace_parse_speed("0.5x", &p), 0);
    assert_true(p.speed == 0.5);
    assert_int_equal(rp_pace_parse_speed(".25X", &p), 0);
    assert_true(p.speed == 0.25);
    const char *bad[] = {"",    "x",     "10",   "0x",   "-2x",    "+2x",       " 2x",
                         "2xx", "fastx", "nanx", "infx", "1e999x", "realtime2", "MAX"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        p.mode = RP_PACE_PPS;
        p.speed = 3.0;
        assert_int_equal(rp_pace_parse_speed(bad[i], &p), -1);
        assert_int_equal(p.mode, RP_PACE_PPS); /* untouched on failure */
        assert_true(p.speed == 3.0);
    }
    assert_int_equal(rp_pace_parse_speed(NULL, &p), -1);
}

static void test_max_is_always_due(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_MAX, 0, 0);
    assert_int_equal(rp_pace_target(&p, 0, 0, p.first_ts_ns), p.start_ns);
    assert_int_equal(rp_pace_target(&p, 3, 123456, p.first_ts_ns + 99 * SEC), p.start_ns);
}

static void test_realtime(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_SPEED, 1.0, 0);
    assert_int_equal(rp_pace_target(&p, 0, 0, p.first_ts_ns), p.start_ns);
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + 1), p.start_ns + 1);
    assert_int_equal(rp_pace_target(&p, 0, 2, p.first_ts_ns + 2500 * SEC), p.start_ns + 2500 * SEC);
    /* messages of one packet share its timestamp and its due time; index does not matter */
    assert_int_equal(rp_pace_target(&p, 0, 7, p.first_ts_ns + 40), p.start_ns + 40);
    assert_int_equal(rp_pace_target(&p, 0, 8, p.first_ts_ns + 40), p.start_ns + 40);
    /* a timestamp before the anchor is due at the anchor, not earlier */
    assert_int_equal(rp_pace_target(&p, 0, 9, p.first_ts_ns - 5 * SEC), p.start_ns);
    assert_int_equal(rp_pace_target(&p, 0, 9, 0), p.start_ns);
}

static void test_speed_multiplier(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_SPEED, 10.0, 0);
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + 10 * SEC), p.start_ns + SEC);
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + 15), p.start_ns + 2); /* 1.5 rounds */
    p.speed = 0.5;
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + 3 * SEC), p.start_ns + 6 * SEC);
    p.speed = 3.0;
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + 1),
                     p.start_ns); /* 0.33 rounds to 0 */
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + 2), p.start_ns + 1);
}

/* No drift: the due time of message k is a function of k alone. Accumulating per-message gaps
 * that each round (1/3 ns, 1000/3 ns...) would be off by hundreds of ns after a million steps. */
static void test_anchor_no_drift(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_SPEED, 3.0, 0);
    uint64_t prev = p.start_ns;
    for (uint64_t k = 0; k <= 3000000; k += 1) {
        uint64_t t = rp_pace_target(&p, 0, k, p.first_ts_ns + k * 1000); /* 1 us apart */
        assert_true(t >= prev);                                          /* monotonic */
        prev = t;
        if (k % 3 == 0) assert_int_equal(t, p.start_ns + k / 3 * 1000); /* exact every 3rd */
    }
    rp_pace q = pace(RP_PACE_PPS, 0, 3.0); /* 333,333,333.33 ns apart */
    assert_int_equal(rp_pace_target(&q, 0, 3000000, 0), q.start_ns + 1000000 * SEC);
    assert_int_equal(rp_pace_target(&q, 0, 1, 0), q.start_ns + 333333333);
    assert_int_equal(rp_pace_target(&q, 0, 2, 0), q.start_ns + 666666667);
    /* the anchor moves everything, and only by itself */
    rp_pace r = p;
    r.start_ns += 12345;
    for (uint64_t k = 0; k < 1000; k += 37)
        assert_int_equal(rp_pace_target(&r, 0, k, r.first_ts_ns + k * 777),
                         rp_pace_target(&p, 0, k, p.first_ts_ns + k * 777) + 12345);
}

static void test_pps(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_PPS, 0, 1000.0);
    assert_int_equal(rp_pace_target(&p, 0, 0, 123), p.start_ns);
    assert_int_equal(rp_pace_target(&p, 0, 1, 0), p.start_ns + 1000000);
    assert_int_equal(rp_pace_target(&p, 0, 2500, 0), p.start_ns + 2500000000u);
    /* timestamps are ignored under pps */
    assert_int_equal(rp_pace_target(&p, 0, 10, p.first_ts_ns + 99 * SEC), p.start_ns + 10000000);
    p.pps = 1e9 * 4; /* faster than 1 ns apart */
    assert_int_equal(rp_pace_target(&p, 0, 8, 0), p.start_ns + 2);
    p.pps = 0.5;
    assert_int_equal(rp_pace_target(&p, 0, 3, 0), p.start_ns + 6 * SEC);
}

static void test_loop(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_SPEED, 2.0, 0);
    p.span_ns = 10 * SEC;
    /* pass 1 repeats the timestamps of pass 0, continuing where pass 0 ended */
    assert_int_equal(rp_pace_target(&p, 0, 0, p.first_ts_ns), p.start_ns);
    assert_int_equal(rp_pace_target(&p, 0, 5, p.first_ts_ns + 10 * SEC), p.start_ns + 5 * SEC);
    assert_int_equal(rp_pace_target(&p, 1, 6, p.first_ts_ns), p.start_ns + 5 * SEC);
    assert_int_equal(rp_pace_target(&p, 1, 7, p.first_ts_ns + 4 * SEC), p.start_ns + 7 * SEC);
    assert_int_equal(rp_pace_target(&p, 4, 99, p.first_ts_ns + 4 * SEC), p.start_ns + 22 * SEC);
    /* under pps the global index carries across passes */
    rp_pace q = pace(RP_PACE_PPS, 0, 100.0);
    q.span_ns = 10 * SEC;
    assert_int_equal(rp_pace_target(&q, 3, 250, 0), q.start_ns + 2500000000u);
}

static void test_saturates(void **state)
{
    (void)state;
    rp_pace p = pace(RP_PACE_SPEED, 1e-12, 0);
    assert_int_equal(rp_pace_target(&p, 0, 1, p.first_ts_ns + SEC * 1000000), UINT64_MAX);
    rp_pace q = pace(RP_PACE_PPS, 0, 1e-9);
    assert_int_equal(rp_pace_target(&q, 0, UINT64_MAX, 0), UINT64_MAX);
    /* a mode with an invalid rate falls back to "due now" rather than dividing by zero */
    rp_pace z = pace(RP_PACE_PPS, 0, 0);
    assert_int_equal(rp_pace_target(&z, 0, 5, 0), z.start_ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_speed),
        cmocka_unit_test(test_max_is_always_due),
        cmocka_unit_test(test_realtime),
        cmocka_unit_test(test_speed_multiplier),
        cmocka_unit_test(test_anchor_no_drift),
        cmocka_unit_test(test_pps),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_saturates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
