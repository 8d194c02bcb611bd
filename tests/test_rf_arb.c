/* test_rf_arb.c - ringfeed's A/B arbitration (tools/ringfeed/arb.c) driven by synthetic
 * sequences: duplicates, holes filled by the other line, gaps only where every line missed,
 * the window, heartbeats, mid-stream start, random loss on interleaved lines */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arb.h"

static const uint8_t KEY[] = "MSESSION01";
#define KLEN    (sizeof(KEY) - 1)
#define FOREVER UINT64_MAX

static int offer(rf_arb *a, unsigned line, uint64_t first, uint64_t count, uint64_t now)
{
    return rf_arb_offer(a, KEY, KLEN, line, first, count, now);
}

static void test_one_line_counts_gaps_at_once(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 1, FOREVER), 0);
    assert_int_equal(offer(&a, 0, 1, 3, 0), RF_ARB_DELIVER);
    assert_int_equal(offer(&a, 0, 4, 3, 0), RF_ARB_DELIVER);
    assert_int_equal(offer(&a, 0, 10, 3, 0), RF_ARB_DELIVER); /* 7..9 skipped */
    assert_int_equal(a.gaps, 1);
    assert_int_equal(a.missing, 3);
    assert_int_equal(offer(&a, 0, 4, 3, 0), RF_ARB_DUP); /* a replay of old numbers */
    assert_int_equal(a.duplicates, 1);
    assert_int_equal(a.backward, 1);
    rf_arb_free(&a);
}

static void test_mid_stream_start_is_no_gap(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 2, FOREVER), 0);
    assert_int_equal(offer(&a, 1, 1000000, 5, 0), RF_ARB_DELIVER);
    assert_int_equal(offer(&a, 0, 1000000, 5, 0), RF_ARB_DUP);
    assert_int_equal(offer(&a, 0, 1000005, 5, 0), RF_ARB_DELIVER);
    rf_arb_flush(&a);
    assert_int_equal(a.gaps, 0);
    assert_int_equal(a.missing, 0);
    rf_arb_free(&a);
}

static void test_other_line_fills_hole(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 2, FOREVER), 0);
    /* line 0's batch first: it lost [4, 7) */
    assert_int_equal(offer(&a, 0, 1, 3, 0), RF_ARB_DELIVER);
    assert_int_equal(offer(&a, 0, 7, 3, 0), RF_ARB_DELIVER);
    assert_int_equal(rf_arb_expire(&a, 0), 1); /* open: line 1 has not moved past it */
    /* then line 1's batch */
    assert_int_equal(offer(&a, 1, 1, 3, 0), RF_ARB_DUP);
    assert_int_equal(offer(&a, 1, 4, 3, 0), RF_ARB_DELIVER);
    assert_int_equal(offer(&a, 1, 7, 3, 0), RF_ARB_DUP);
    assert_int_equal(rf_arb_expire(&a, 0), 0);
    assert_int_equal(a.line[1].gaps_filled, 1);
    assert_int_equal(a.line[0].gaps_filled, 0);
    assert_int_equal(a.duplicates, 2);
    assert_int_equal(a.gaps, 0);
    rf_arb_free(&a);
}

static void test_gap_when_every_line_missed(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 2, FOREVER), 0);
    offer(&a, 0, 1, 2, 0);
    offer(&a, 0, 5, 2, 0); /* line 0 lost [3, 5) */
    offer(&a, 1, 1, 2, 0);
    assert_int_equal(a.gaps, 0); /* line 1 has not moved past */
    offer(&a, 1, 5, 2, 0);       /* neither has it */
    assert_int_equal(a.gaps, 1);
    assert_int_equal(a.missing, 2);
    rf_arb_free(&a);
}

static void test_window_declares_hole(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 2, 5000000), 0);
    offer(&a, 0, 1, 1, 1000);
    offer(&a, 0, 3, 1, 2000); /* 2 missing on line 0; line 1 is silent */
    assert_int_equal(rf_arb_expire(&a, 2000 + 4999999), 1);
    assert_int_equal(a.gaps, 0);
    assert_int_equal(rf_arb_expire(&a, 2000 + 5000000), 0);
    assert_int_equal(a.gaps, 1);
    assert_int_equal(a.missing, 1);
    /* after the window, the late copy is a duplicate (the gap stays counted) */
    assert_int_equal(offer(&a, 1, 2, 1, 2000 + 6000000), RF_ARB_DUP);
    rf_arb_free(&a);
}

static void test_partial_fill_splits_hole(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 2, FOREVER), 0);
    offer(&a, 0, 1, 1, 0);
    offer(&a, 0, 10, 1, 0); /* hole [2, 10) */
    /* line 1 fills [5, 7): the hole splits, and [2, 5), which line 1 has moved past, is a gap */
    assert_int_equal(offer(&a, 1, 5, 2, 0), RF_ARB_DELIVER);
    assert_int_equal(rf_arb_expire(&a, 0), 1); /* [7, 10) */
    assert_int_equal(a.gaps, 1);
    assert_int_equal(offer(&a, 1, 7, 3, 0), RF_ARB_DELIVER);
    assert_int_equal(rf_arb_expire(&a, 0), 0);
    rf_arb_flush(&a);
    assert_int_equal(a.gaps, 1);
    assert_int_equal(a.missing, 3);
    assert_int_equal(a.line[1].gaps_filled, 2);
    rf_arb_free(&a);
}

static void test_heartbeats_pass_once(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 2, FOREVER), 0);
    offer(&a, 0, 1, 4, 0);
    offer(&a, 1, 1, 4, 0);
    assert_int_equal(offer(&a, 0, 5, 0, 0), RF_ARB_DELIVER);
    assert_int_equal(offer(&a, 1, 5, 0, 0), RF_ARB_DUP);
    assert_int_equal(offer(&a, 0, 5, 0, 0), RF_ARB_DELIVER); /* line 0's next heartbeat */
    assert_int_equal(offer(&a, 1, 5, 0, 0), RF_ARB_DUP);
    /* a heartbeat announcing a later number shows messages every line missed */
    assert_int_equal(offer(&a, 0, 9, 0, 0), RF_ARB_DELIVER);
    offer(&a, 1, 9, 0, 0);
    assert_int_equal(a.gaps, 1);
    assert_int_equal(a.missing, 4);
    rf_arb_free(&a);
}

static void test_streams_are_apart(void **state)
{
    (void)state;
    rf_arb a;
    assert_int_equal(rf_arb_init(&a, 1, FOREVER), 0);
    static const uint8_t other[] = "MSESSION02";
    assert_int_equal(offer(&a, 0, 1, 1, 0), RF_ARB_DELIVER);
    assert_int_equal(rf_arb_offer(&a, other, 10, 0, 1, 1, 0), RF_ARB_DELIVER);
    assert_int_equal(a.duplicates, 0);
    rf_arb_free(&a);
    assert_int_equal(rf_arb_init(&a, 0, 0), -1);
    assert_int_equal(rf_arb_init(&a, RF_ARB_LINES + 1, 0), -1);
}

static uint64_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Two or three lines with independent random loss; each line's packets arrive in order, in
 * batches of random size that interleave (lines stay within a batch of each other, so fewer
 * than RF_ARB_HOLES holes are open at a time). Missing must be exactly the messages of packets
 * every line lost (the last packet is never lost: nothing after it would show the loss). */
static void test_random_loss_interleaved(void **state)
{
    (void)state;
    enum { N = 20000, PER = 3 };
    static uint8_t lost[3][N];
    for (unsigned lines = 2; lines <= 3; lines++) {
        uint64_t seed = 42 + lines, both = 0, gaps = 0, received = 0;
        for (unsigned p = 0; p < N; p++) {
            bool all = true;
            for (unsigned l = 0; l < lines; l++) {
                lost[l][p] = p + 1 < N && rnd(&seed) % 100 < 20;
                all = all && lost[l][p];
                received += !lost[l][p];
            }
            both += all ? PER : 0;
            gaps += all && (p == 0 || !lost[0][p - 1] || !lost[1][p - 1] ||
                            (lines == 3 && !lost[2][p - 1]));
        }
        rf_arb a;
        assert_int_equal(rf_arb_init(&a, lines, FOREVER), 0);
        unsigned pos[3] = {0, 0, 0};
        uint64_t delivered = 0;
        for (bool left = true; left;) {
            left = false;
            unsigned batch = (unsigned)(rnd(&seed) % 40); /* each line's next batch */
            for (unsigned l = 0; l < lines; l++) {
                unsigned take = batch;
                for (; take && pos[l] < N; pos[l]++) {
                    if (lost[l][pos[l]]) continue;
                    take--;
                    delivered += offer(&a, l, 1 + (uint64_t)pos[l] * PER, PER, 0) == RF_ARB_DELIVER;
                }
                left = left || pos[l] < N;
            }
        }
        rf_arb_flush(&a);
        assert_int_equal(a.missing, both);
        assert_int_equal(a.gaps, gaps);
        assert_int_equal(delivered + both / PER, N);
        assert_int_equal(a.duplicates, received - delivered);
        rf_arb_free(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line_counts_gaps_at_once),
        cmocka_unit_test(test_mid_stream_start_is_no_gap),
        cmocka_unit_test(test_other_line_fills_hole),
        cmocka_unit_test(test_gap_when_every_line_missed),
        cmocka_unit_test(test_window_declares_hole),
        cmocka_unit_test(test_partial_fill_splits_hole),
        cmocka_unit_test(test_heartbeats_pass_once),
        cmocka_unit_test(test_streams_are_apart),
        cmocka_unit_test(test_random_loss_interleaved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
