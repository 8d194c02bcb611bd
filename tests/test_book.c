/* test_book.c - the order book: hand-built ITCH and MBO sequences, errors, memory modes, and
 * invariants (and a naive reference book) on the Nasdaq snippet and on a generated flow */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"
#include "support/book_gen.h"

static uint8_t M[64];

static ra_book *mk(size_t max_orders, int on_empty, uint32_t flags)
{
    ra_book *b = NULL;
    ra_book_config c = {
        .max_orders = max_orders, .on_empty = on_empty, .flags = flags, .grow_orders = 2};
    assert_int_equal(ra_book_create(&b, &c), RA_OK);
    return b;
}

static void ok(const ra_book *b)
{
    char why[256] = "";
    int rc = ra_book_check(b, why, sizeof why);
    if (rc != 0) fail_msg("invariant: %s", why);
}

static int add(ra_book *b, uint64_t ref, char side, uint32_t qty, const char *stock, uint32_t px)
{
    return ra_book_itch(b, M, itch_add(M, 'A', 1, 1000, ref, (uint8_t)side, qty, stock, px));
}

static int red(ra_book *b, char type, uint64_t ref, uint32_t qty, uint32_t px)
{
    return ra_book_itch(b, M, itch_reduce(M, type, 1, 2000, ref, qty, px));
}

static int del(ra_book *b, uint64_t ref)
{
    return ra_book_itch(b, M, itch_delete(M, 1, 3000, ref));
}

static int rep(ra_book *b, uint64_t ref, uint64_t nref, uint32_t qty, uint32_t px)
{
    return ra_book_itch(b, M, itch_replace(M, 1, 4000, ref, nref, qty, px));
}

static int event(ra_book *b, char code)
{
    itch_head(M, 'S', 0, 5000);
    M[11] = (uint8_t)code;
    return ra_book_itch(b, M, 12);
}

static ra_book_top top_of(const ra_book *b, const char *name)
{
    size_t s = 0;
    ra_book_top t = {0};
    assert_int_equal(ra_book_find(b, name, &s), RA_OK);
    assert_non_null(ra_book_symbol(b, s, &t));
    return t;
}

static void expect_top(const ra_book *b, const char *name, int64_t bpx, uint64_t bq, uint32_t bn,
                       int64_t apx, uint64_t aq, uint32_t an)
{
    ra_book_top t = top_of(b, name);
    assert_int_equal(t.bid_qty, bq);
    assert_int_equal(t.bid_orders, bn);
    if (bq) assert_int_equal(t.bid_px, bpx);
    assert_int_equal(t.ask_qty, aq);
    assert_int_equal(t.ask_orders, an);
    if (aq) assert_int_equal(t.ask_px, apx);
    ok(b);
}

static ra_book_stats stats(const ra_book *b)
{
    ra_book_stats s;
    ra_book_get_stats(b, &s);
    return s;
}

/* ---- hand-built ITCH sequences -----------------------------------------------------------------
 */

static void test_add_execute_cancel_delete(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    assert_int_equal(add(b, 1, 'B', 100, "AAPL", 1000000), RA_OK);
    expect_top(b, "AAPL", 1000000, 100, 1, 0, 0, 0);
    assert_int_equal(add(b, 2, 'B', 200, "AAPL", 1000000), RA_OK);
    assert_int_equal(add(b, 3, 'B', 50, "AAPL", 999900), RA_OK);
    assert_int_equal(add(b, 4, 'S', 70, "AAPL", 1000100), RA_OK);
    expect_top(b, "AAPL", 1000000, 300, 2, 1000100, 70, 1);
    assert_int_equal(red(b, 'E', 1, 30, 0), RA_OK); /* partial execution */
    expect_top(b, "AAPL", 1000000, 270, 2, 1000100, 70, 1);
    assert_int_equal(red(b, 'C', 1, 70, 999000), RA_OK); /* at another price: rest of order 1 */
    expect_top(b, "AAPL", 1000000, 200, 1, 1000100, 70, 1);
    assert_int_equal(red(b, 'X', 2, 150, 0), RA_OK); /* partial cancel */
    expect_top(b, "AAPL", 1000000, 50, 1, 1000100, 70, 1);
    assert_int_equal(del(b, 2), RA_OK); /* the last order of the best level */
    expect_top(b, "AAPL", 999900, 50, 1, 1000100, 70, 1);
    assert_int_equal(del(b, 4), RA_OK); /* the ask side empties */
    expect_top(b, "AAPL", 999900, 50, 1, 0, 0, 0);
    ra_book_stats s = stats(b);
    assert_int_equal(s.orders_live, 1);
    assert_int_equal(s.levels, 1);
    assert_int_equal(s.orders_high_water, 4);
    assert_int_equal(s.errors_total, 0);
    assert_int_equal(s.pool.in_use, 1);
    assert_int_equal(s.executions, 2);
    assert_int_equal(s.itch['E'] + s.itch['C'] + s.itch['X'] + s.itch['D'], 5);
    ra_book_order o;
    assert_int_equal(ra_book_order_find(b, 3, &o), RA_OK);
    assert_int_equal(o.qty, 50);
    assert_int_equal(o.px, 999900);
    assert_int_equal(o.side, RA_BOOK_BID);
    assert_int_equal(ra_book_order_find(b, 1, &o), RA_ENOENT);
    ra_book_destroy(b);
}

static void test_replace_loses_priority(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    add(b, 1, 'S', 100, "MSFT", 500000);
    add(b, 2, 'S', 100, "MSFT", 500000);
    add(b, 3, 'S', 100, "MSFT", 500100);
    uint64_t refs[4];
    size_t sym = 0;
    assert_int_equal(ra_book_find(b, "MSFT", &sym), RA_OK);
    assert_int_equal(ra_book_level_orders(b, sym, RA_BOOK_ASK, 0, refs, 4), 2);
    assert_int_equal(refs[0], 1);
    assert_int_equal(refs[1], 2);
    /* same price, new reference: goes behind order 2 */
    assert_int_equal(rep(b, 1, 10, 300, 500000), RA_OK);
    assert_int_equal(ra_book_level_orders(b, sym, RA_BOOK_ASK, 0, refs, 4), 2);
    assert_int_equal(refs[0], 2);
    assert_int_equal(refs[1], 10);
    expect_top(b, "MSFT", 0, 0, 0, 500000, 400, 2);
    /* moves price: to the back of the 500100 level, the best level keeps order 2 alone */
    assert_int_equal(rep(b, 10, 11, 50, 500100), RA_OK);
    expect_top(b, "MSFT", 0, 0, 0, 500000, 100, 1);
    assert_int_equal(ra_book_level_orders(b, sym, RA_BOOK_ASK, 1, refs, 4), 2);
    assert_int_equal(refs[0], 3);
    assert_int_equal(refs[1], 11);
    ra_book_order o;
    assert_int_equal(ra_book_order_find(b, 11, &o), RA_OK);
    assert_int_equal(o.ahead, 1);
    assert_int_equal(o.side, RA_BOOK_ASK);
    assert_int_equal(ra_book_order_find(b, 10, &o), RA_ENOENT);
    ra_book_level lv[4];
    assert_int_equal(ra_book_depth(b, sym, RA_BOOK_ASK, lv, 4), 2);
    assert_int_equal(lv[0].px, 500000);
    assert_int_equal(lv[1].px, 500100);
    assert_int_equal(lv[1].qty, 150);
    assert_int_equal(lv[1].orders, 2);
    assert_int_equal(stats(b).replaces, 2);
    ra_book_destroy(b);
}

static void test_depth_order(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    const uint32_t px[] = {1000, 1300, 1100, 1200, 1050, 900};
    for (uint64_t i = 0; i < 6; i++) add(b, 100 + i, 'B', 10, "X", px[i]);
    for (uint64_t i = 0; i < 6; i++) add(b, 200 + i, 'S', 10, "X", 2000 + px[i]);
    ok(b);
    ra_book_level lv[8];
    assert_int_equal(ra_book_depth(b, 0, RA_BOOK_BID, lv, 3), 3);
    assert_int_equal(lv[0].px, 1300);
    assert_int_equal(lv[1].px, 1200);
    assert_int_equal(lv[2].px, 1100);
    assert_int_equal(ra_book_depth(b, 0, RA_BOOK_ASK, lv, 8), 6);
    assert_int_equal(lv[0].px, 2900);
    assert_int_equal(lv[5].px, 3300);
    assert_int_equal(ra_book_depth(b, 1, RA_BOOK_ASK, lv, 8), 0); /* no such symbol */
    assert_int_equal(ra_book_depth(b, 0, 7, lv, 8), 0);           /* no such side */
    ra_book_destroy(b);
}

static void test_session_reset(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    add(b, 1, 'B', 100, "AAA", 1000);
    add(b, 2, 'S', 100, "AAA", 1100);
    add(b, 3, 'B', 100, "BBB", 2000);
    assert_int_equal(event(b, 'O'), RA_OK); /* other events: no reset */
    assert_int_equal(ra_book_symbols(b), 2);
    assert_int_equal(event(b, 'C'), RA_OK);
    ra_book_stats s = stats(b);
    assert_int_equal(ra_book_symbols(b), 0);
    assert_int_equal(s.orders_live, 0);
    assert_int_equal(s.levels, 0);
    assert_int_equal(s.sessions, 1);
    assert_int_equal(s.pool.in_use, 0);
    assert_int_equal(s.orders_high_water, 3);
    ok(b);
    assert_int_equal(ra_book_saved_symbols(b), 2);
    ra_book_top t;
    const char *n = ra_book_saved_symbol(b, 0, &t);
    assert_string_equal(n, "AAA");
    assert_int_equal(t.bid_px, 1000);
    assert_int_equal(t.ask_px, 1100);
    assert_int_equal(t.ask_orders, 1);
    assert_null(ra_book_saved_symbol(b, 2, &t));
    /* the next session starts from zero: an old reference is unknown */
    assert_int_equal(del(b, 1), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_UNKNOWN_REF], 1);
    add(b, 1, 'S', 5, "BBB", 3000);
    expect_top(b, "BBB", 0, 0, 0, 3000, 5, 1);
    ra_book_destroy(b);
}

static void test_error_kinds(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    add(b, 1, 'B', 100, "E", 1000);
    add(b, 2, 'B', 100, "E", 1000);
    add(b, 3, 'S', 100, "E", 1200);
    assert_int_equal(red(b, 'E', 99, 1, 0), RA_OK);
    assert_int_equal(del(b, 98), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_UNKNOWN_REF], 2);
    assert_int_equal(red(b, 'E', 1, 150, 0), RA_OK); /* order 1 has 100: removed */
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_EXEC_TOO_LARGE], 1);
    expect_top(b, "E", 1000, 100, 1, 1200, 100, 1);
    assert_int_equal(red(b, 'X', 2, 101, 0), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_CANCEL_TOO_LARGE], 1);
    expect_top(b, "E", 0, 0, 0, 1200, 100, 1);
    assert_int_equal(rep(b, 77, 78, 10, 1000), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_REPLACE_MISSING], 1);
    assert_int_equal(add(b, 3, 'B', 5, "E", 900), RA_OK); /* live reference */
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_DUPLICATE_REF], 1);
    add(b, 4, 'B', 5, "E", 900);
    assert_int_equal(rep(b, 4, 3, 5, 900), RA_OK); /* new reference live: order 4 is gone */
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_DUPLICATE_REF], 2);
    expect_top(b, "E", 0, 0, 0, 1200, 100, 1);
    add(b, 5, 'B', 10, "E", 1200); /* bid at the ask: crossed */
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_CROSSED], 1);
    add(b, 6, 'B', 10, "E", 1300); /* still crossed: counted once */
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_CROSSED], 1);
    del(b, 5);
    del(b, 6);
    add(b, 7, 'B', 10, "E", 1250); /* crossed again */
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_CROSSED], 2);
    add(b, 8, 'Z', 10, "E", 1000);
    add(b, 9, 'B', 0, "E", 1000);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_BAD_ORDER], 2);
    assert_int_equal(ra_book_itch(b, M, itch_add(M, 'A', 1, 1, 10, 'B', 1, "E", 1) - 1), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_SHORT], 1);
    ok(b);
    M[0] = 'Q'; /* cross trade: counted, not booked */
    assert_int_equal(ra_book_itch(b, M, 40), RA_OK);
    assert_int_equal(stats(b).not_booked, 1);
    assert_int_equal(stats(b).itch['Q'], 1);
    assert_int_equal(ra_book_itch(b, M, 0), RA_EINVAL);
    assert_int_equal(ra_book_itch(NULL, M, 10), RA_EINVAL);
    uint64_t total = 0;
    ra_book_stats s = stats(b);
    for (int k = 0; k < RA_BOOK_ERR_COUNT; k++) total += s.errors[k];
    assert_int_equal(total, s.errors_total);
    assert_string_equal(ra_book_error_name(RA_BOOK_ERR_CROSSED), "crossed");
    assert_string_equal(ra_book_error_name(RA_BOOK_ERR_POOL_FULL), "pool_full");
    assert_string_equal(ra_book_error_name(-1), "unknown");
    assert_string_equal(ra_book_error_name(RA_BOOK_ERR_COUNT), "unknown");
    ra_book_destroy(b);
}

/* ---- memory modes ------------------------------------------------------------------------------
 */

static void test_fail_fast(void **state)
{
    (void)state;
    ra_book *b = mk(2, RA_BOOK_FAIL, 0);
    assert_int_equal(add(b, 1, 'B', 1, "F", 10), RA_OK);
    assert_int_equal(add(b, 2, 'B', 1, "F", 11), RA_OK);
    assert_int_equal(add(b, 3, 'B', 1, "F", 12), RA_ENOMEM); /* not applied, counted */
    assert_int_equal(rep(b, 1, 4, 1, 13), RA_OK);            /* a replace needs no new order */
    ra_book_stats s = stats(b);
    assert_int_equal(s.errors[RA_BOOK_ERR_POOL_FULL], 1);
    assert_int_equal(s.orders_live, 2);
    assert_int_equal(s.capacity, 2);
    expect_top(b, "F", 13, 1, 1, 0, 0, 0);
    del(b, 2);
    assert_int_equal(add(b, 3, 'B', 1, "F", 12), RA_OK);
    ok(b);
    ra_book_destroy(b);
}

static void fill(ra_book *b, uint64_t n)
{
    for (uint64_t i = 1; i <= n; i++)
        assert_int_equal(
            add(b, i * 7, i & 1 ? 'B' : 'S', 1, "G", i & 1 ? 100 - (uint32_t)i : 200 + (uint32_t)i),
            RA_OK);
    ok(b);
}

static void test_fallback_and_grow(void **state)
{
    (void)state;
    ra_book *b = mk(4, RA_BOOK_FALLBACK, 0);
    fill(b, 40);
    ra_book_stats s = stats(b);
    assert_int_equal(s.fallbacks, 36);
    assert_int_equal(s.orders_live, 40);
    assert_int_equal(s.pool.in_use, 4);
    for (uint64_t i = 1; i <= 40; i += 2) del(b, i * 7);
    ok(b);
    assert_int_equal(stats(b).orders_live, 20);
    ra_book_reset(b); /* frees the malloc'd orders (LeakSanitizer checks) */
    ok(b);
    ra_book_destroy(b);

    b = mk(4, RA_BOOK_GROW, 0); /* grow_orders 2 */
    fill(b, 40);
    s = stats(b);
    assert_int_equal(s.grows, 18);
    assert_int_equal(s.capacity, 40);
    assert_int_equal(s.pool.in_use, 40);
    assert_int_equal(s.pool.capacity, 40);
    assert_int_equal(s.fallbacks, 0);
    for (uint64_t i = 1; i <= 40; i++) assert_int_equal(red(b, 'E', i * 7, 1, 0), RA_OK);
    ok(b);
    assert_int_equal(stats(b).orders_live, 0);
    assert_int_equal(stats(b).errors_total, 0);
    fill(b, 10); /* the blocks come back: no new pool */
    assert_int_equal(stats(b).grows, 18);
    ra_book_destroy(b);

    b = mk(4, RA_BOOK_FAIL, RA_BOOK_MALLOC);
    fill(b, 40); /* every order from malloc: no capacity limit */
    assert_int_equal(stats(b).orders_live, 40);
    assert_int_equal(stats(b).fallbacks, 0);
    ra_book_destroy(b); /* frees them */
}

static void test_create_and_incomplete(void **state)
{
    (void)state;
    ra_book *b = NULL;
    ra_book_config c = {.on_empty = 9};
    assert_int_equal(ra_book_create(&b, &c), RA_EINVAL);
    assert_null(b);
    c = (ra_book_config){.flags = 1u << 20};
    assert_int_equal(ra_book_create(&b, &c), RA_EINVAL);
    c = (ra_book_config){.max_orders = (size_t)1 << 31};
    assert_int_equal(ra_book_create(&b, &c), RA_EINVAL);
    assert_int_equal(ra_book_create(NULL, NULL), RA_EINVAL);
    b = mk(0, RA_BOOK_FAIL, 0);
    ra_book_stats s = stats(b);
    assert_int_equal(s.capacity, RA_BOOK_DEFAULT_ORDERS);
    assert_true(s.complete);
    add(b, 1, 'B', 1, "Z", 1);
    ra_book_mark_incomplete(b, 12);
    ra_book_mark_incomplete(b, 3);
    s = stats(b);
    assert_false(s.complete);
    assert_int_equal(s.missed, 15);
    assert_int_equal(s.orders_live, 1); /* not cleared */
    ra_book_destroy(b);
    ra_book_destroy(NULL);
}

/* ---- BBO callback ------------------------------------------------------------------------------
 */

struct bbo_log {
    int calls;
    uint64_t ts;
    size_t sym;
    char name[RA_BOOK_NAME_MAX];
    ra_book_top top;
};

static void on_bbo(void *ctx, size_t sym, const char *name, uint64_t ts, const ra_book_top *t)
{
    struct bbo_log *l = ctx;
    l->calls++;
    l->sym = sym;
    l->ts = ts;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->top = *t;
}

static void test_bbo_callback(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    struct bbo_log l = {0};
    ra_book_on_bbo(b, on_bbo, &l);
    add(b, 1, 'B', 100, "CB", 1000);
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.ts, 1000);
    assert_string_equal(l.name, "CB");
    assert_int_equal(l.top.bid_px, 1000);
    add(b, 2, 'B', 100, "CB", 900); /* below the best: no change */
    assert_int_equal(l.calls, 1);
    red(b, 'X', 1, 10, 0); /* qty of the best changes */
    assert_int_equal(l.calls, 2);
    assert_int_equal(l.ts, 2000);
    assert_int_equal(l.top.bid_qty, 90);
    del(b, 2); /* deep level: no change */
    assert_int_equal(l.calls, 2);
    assert_int_equal(stats(b).bbo_changes, 2);
    ra_book_on_bbo(b, NULL, NULL);
    del(b, 1);
    assert_int_equal(l.calls, 2);
    assert_int_equal(stats(b).bbo_changes, 3);
    ra_book_destroy(b);
}

/* ---- MBO ---------------------------------------------------------------------------------------
 */

static size_t mbo(uint8_t *r, char action, char side, uint32_t instr, uint64_t id, int64_t px,
                  uint32_t size)
{
    memset(r, 0, 56);
    r[0] = 14; /* 56 bytes in 4-byte words */
    r[1] = 0xA0;
    ra_store_le32(r + 4, instr);
    ra_store_le64(r + 8, 777);
    ra_store_le64(r + 16, id);
    ra_store_le64(r + 24, (uint64_t)px);
    ra_store_le32(r + 32, size);
    r[38] = (uint8_t)action;
    r[39] = (uint8_t)side;
    return 56;
}

static void test_mbo(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    uint8_t r[56];
    const int64_t P = 5000000000000; /* 5000.00 in 1e-9 */
    assert_int_equal(ra_book_name_instrument(b, 42, "ESZ4"), RA_OK);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'A', 'B', 42, 1, P, 3)), RA_OK);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'A', 'B', 42, 2, P, 2)), RA_OK);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'A', 'A', 42, 3, P + 250000000, 4)), RA_OK);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'A', 'A', 7, 4, 100, 1)), RA_OK);
    expect_top(b, "ESZ4", P, 5, 2, P + 250000000, 4, 1);
    expect_top(b, "7", 0, 0, 0, 100, 1, 1);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'C', 'B', 42, 1, P, 1)), RA_OK); /* partial */
    expect_top(b, "ESZ4", P, 4, 2, P + 250000000, 4, 1);
    /* modify: smaller at the same price keeps priority */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'M', 'B', 42, 1, P, 1)), RA_OK);
    uint64_t refs[3];
    assert_int_equal(ra_book_level_orders(b, 0, RA_BOOK_BID, 0, refs, 3), 2);
    assert_int_equal(refs[0], 1);
    /* modify: larger loses it */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'M', 'B', 42, 1, P, 6)), RA_OK);
    assert_int_equal(ra_book_level_orders(b, 0, RA_BOOK_BID, 0, refs, 3), 2);
    assert_int_equal(refs[0], 2);
    assert_int_equal(refs[1], 1);
    expect_top(b, "ESZ4", P, 8, 2, P + 250000000, 4, 1);
    /* trade and fill leave the book alone */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'T', 'A', 42, 0, P, 2)), RA_OK);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'F', 'B', 42, 2, P, 2)), RA_OK);
    expect_top(b, "ESZ4", P, 8, 2, P + 250000000, 4, 1);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'C', 'B', 42, 2, P, 2)), RA_OK); /* all of it */
    expect_top(b, "ESZ4", P, 6, 1, P + 250000000, 4, 1);
    /* modify to a new price */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'M', 'B', 42, 1, P - 250000000, 6)), RA_OK);
    expect_top(b, "ESZ4", P - 250000000, 6, 1, P + 250000000, 4, 1);
    /* modify of an unknown order adds it */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'M', 'A', 42, 9, P + 500000000, 1)), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_REPLACE_MISSING], 1);
    assert_int_equal(stats(b).orders_live, 4);
    /* clear empties one instrument */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'R', 'N', 42, 0, 0, 0)), RA_OK);
    expect_top(b, "ESZ4", 0, 0, 0, 0, 0, 0);
    expect_top(b, "7", 0, 0, 0, 100, 1, 1);
    assert_int_equal(stats(b).orders_live, 1);
    /* errors */
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'C', 'B', 42, 55, P, 1)), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_UNKNOWN_REF], 1);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'Z', 'B', 42, 55, P, 1)), RA_OK);
    mbo(r, 'A', 'B', 42, 56, P, 1);
    r[1] = 0x01; /* not MBO */
    assert_int_equal(ra_book_mbo(b, r, 56), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_BAD_ACTION], 2);
    assert_int_equal(ra_book_mbo(b, r, mbo(r, 'A', 'N', 42, 57, P, 1)), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_BAD_ORDER], 1);
    assert_int_equal(ra_book_mbo(b, r, 40), RA_OK);
    assert_int_equal(stats(b).errors[RA_BOOK_ERR_SHORT], 1);
    ra_book_stats s = stats(b);
    assert_int_equal(s.mbo['A'], 6);
    assert_int_equal(s.mbo['T'] + s.mbo['F'], 2);
    /* renaming a live instrument renames its symbol */
    assert_int_equal(ra_book_name_instrument(b, 7, "NQZ4"), RA_OK);
    expect_top(b, "NQZ4", 0, 0, 0, 100, 1, 1);
    ok(b);
    ra_book_destroy(b);
}

/* ---- a naive reference book: every live order in an array, aggregates recomputed ------------- */

typedef struct nv_order {
    uint64_t ref, seq;
    char sym[9];
    int side;
    uint32_t px, qty;
} nv_order;

typedef struct nv_book {
    nv_order *o;
    size_t n, cap;
    uint64_t seq;
} nv_book;

static nv_order *nv_find(nv_book *v, uint64_t ref)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->o[i].ref == ref) return &v->o[i];
    return NULL;
}

static void nv_drop(nv_book *v, nv_order *o)
{
    *o = v->o[--v->n];
}

static void nv_add(nv_book *v, uint64_t ref, const char *sym, int side, uint32_t px, uint32_t qty)
{
    if (qty == 0 || nv_find(v, ref)) return;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 256;
        v->o = realloc(v->o, v->cap * sizeof *v->o);
        assert_non_null(v->o);
    }
    nv_order *o = &v->o[v->n++];
    *o = (nv_order){.ref = ref, .seq = v->seq++, .side = side, .px = px, .qty = qty};
    memcpy(o->sym, sym, 8);
    o->sym[8] = 0;
    for (int k = 7; k >= 0 && (o->sym[k] == ' ' || o->sym[k] == 0); k--) o->sym[k] = 0;
}

/* Applies one ITCH message by the protocol's definitions. */
static void nv_apply(nv_book *v, const uint8_t *m)
{
    nv_order *o = NULL;
    switch (m[0]) {
    case 'A':
    case 'F':
        if (m[19] == 'B' || m[19] == 'S')
            nv_add(v, ra_load_be64(m + 11), (const char *)m + 24, m[19] == 'B' ? 0 : 1,
                   ra_load_be32(m + 32), ra_load_be32(m + 20));
        break;
    case 'E':
    case 'C':
    case 'X':
        if ((o = nv_find(v, ra_load_be64(m + 11))) == NULL) break;
        if (ra_load_be32(m + 19) >= o->qty)
            nv_drop(v, o);
        else
            o->qty -= ra_load_be32(m + 19);
        break;
    case 'D':
        if ((o = nv_find(v, ra_load_be64(m + 11))) != NULL) nv_drop(v, o);
        break;
    case 'U':
        if ((o = nv_find(v, ra_load_be64(m + 11))) == NULL) break;
        nv_order old = *o;
        nv_drop(v, o);
        nv_add(v, ra_load_be64(m + 19), old.sym, old.side, ra_load_be32(m + 31),
               ra_load_be32(m + 27));
        break;
    case 'S':
        if (m[11] == 'C') v->n = 0;
        break;
    }
}

/* The naive book against the real one: live orders, every symbol's top and its best levels'
 * queues. */
static void nv_compare(const nv_book *v, const ra_book *b, size_t at)
{
    ok(b);
    ra_book_stats s = stats(b);
    if (s.orders_live != v->n)
        fail_msg("message %zu: %llu live, naive %zu", at, (unsigned long long)s.orders_live, v->n);
    for (size_t sym = 0; sym < ra_book_symbols(b); sym++) {
        ra_book_top t;
        const char *name = ra_book_symbol(b, sym, &t);
        for (int side = 0; side < 2; side++) {
            uint32_t best = 0, n = 0;
            uint64_t qty = 0, first = UINT64_MAX, first_ref = 0;
            for (size_t i = 0; i < v->n; i++) {
                const nv_order *o = &v->o[i];
                if (o->side != side || strcmp(o->sym, name) != 0) continue;
                int better = n == 0 || (side == 0 ? o->px > best : o->px < best);
                if (better) best = o->px, n = 0, qty = 0, first = UINT64_MAX;
                if (o->px != best) continue;
                n++;
                qty += o->qty;
                if (o->seq < first) first = o->seq, first_ref = o->ref;
            }
            uint64_t got_q = side == 0 ? t.bid_qty : t.ask_qty;
            uint32_t got_n = side == 0 ? t.bid_orders : t.ask_orders;
            int64_t got_px = side == 0 ? t.bid_px : t.ask_px;
            if (got_q != qty || got_n != n || (n && got_px != best))
                fail_msg("message %zu: %s side %d: %lld %llu %u, naive %u %llu %u", at, name, side,
                         (long long)got_px, (unsigned long long)got_q, got_n, best,
                         (unsigned long long)qty, n);
            uint64_t ref = 0;
            if (n) assert_int_equal(ra_book_level_orders(b, sym, side, 0, &ref, 1), 1);
            if (n && ref != first_ref)
                fail_msg("message %zu: %s: first in queue %llu, naive %llu", at, name,
                         (unsigned long long)ref, (unsigned long long)first_ref);
        }
    }
}

static void test_nasdaq_snippet(void **state)
{
    (void)state;
    const char *d = getenv("SHARED_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/nasdaq_12302019_SNIPPET.NASDAQ_ITCH50",
             d && *d ? d : "../shared/data");
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("skipped: %s not found\n", path);
        skip();
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ra_book *b = mk(4096, RA_BOOK_FAIL, 0);
    nv_book v = {0};
    size_t k = 0;
    for (size_t off = 0; off + 2 <= n; k++) { /* u16 big-endian length + message */
        size_t len = ra_load_be16(buf + off);
        assert_true(len > 0 && off + 2 + len <= n);
        assert_int_equal(ra_book_itch(b, buf + off + 2, len), RA_OK);
        nv_apply(&v, buf + off + 2);
        nv_compare(&v, b, k);
        off += 2 + len;
    }
    ra_book_stats s = stats(b);
    assert_int_equal(s.messages, k);
    assert_true(s.symbols > 0);
    assert_true(s.adds > 0);
    uint64_t typed = 0;
    for (int t = 0; t < 128; t++) typed += s.itch[t];
    assert_int_equal(typed, k);
    free(v.o);
    ra_book_destroy(b);
}

static void run_generated(uint32_t flags, int on_empty, size_t max_orders)
{
    book_gen g;
    assert_int_equal(book_gen_init(&g, 7, 20, 300), 0);
    ra_book *b = mk(max_orders, on_empty, flags);
    nv_book v = {0};
    uint8_t m[64];
    for (size_t k = 0; k < 6000; k++) {
        size_t len = book_gen_next(&g, m);
        assert_int_equal(ra_book_itch(b, m, len), RA_OK);
        nv_apply(&v, m);
        if (k % 7 == 0 || k > 5900)
            nv_compare(&v, b, k);
        else
            ok(b);
    }
    ra_book_stats s = stats(b);
    assert_int_equal(s.orders_live, g.nlive);
    assert_int_equal(s.errors_total, 0); /* the generator's flow is consistent and never crosses */
    for (size_t i = 0; i < g.nlive; i++) {
        ra_book_order o;
        assert_int_equal(ra_book_order_find(b, g.live[i].ref, &o), RA_OK);
        assert_int_equal(o.qty, g.live[i].qty);
        assert_int_equal(o.px, g.live[i].px);
    }
    event(b, 'C');
    assert_int_equal(stats(b).orders_live, 0);
    ok(b);
    free(v.o);
    book_gen_free(&g);
    ra_book_destroy(b);
}

static void test_generated_flow(void **state)
{
    (void)state;
    run_generated(0, RA_BOOK_FAIL, 1024); /* ra_book_check reads the whole table: keep it small */
    run_generated(RA_BOOK_MALLOC, RA_BOOK_FAIL, 1024);
    run_generated(0, RA_BOOK_GROW, 64);
    run_generated(0, RA_BOOK_FALLBACK, 64);
}

/* A book of the default capacity starts with a small order table that doubles as the live orders
 * grow (past the first size several times): every order stays found, the invariants hold. */
static void test_table_grows(void **state)
{
    (void)state;
    book_gen g;
    assert_int_equal(book_gen_init(&g, 5, 40, 100000), 0);
    ra_book *b = mk(0, RA_BOOK_FAIL, 0);
    uint8_t m[64];
    for (size_t k = 0; k < 500000; k++) {
        size_t len = book_gen_next(&g, m);
        assert_int_equal(ra_book_itch(b, m, len), RA_OK);
    }
    ra_book_stats s = stats(b);
    assert_int_equal(s.capacity, RA_BOOK_DEFAULT_ORDERS);
    assert_true(g.nlive > 40000); /* the table starts for 16384 orders: it doubled twice */
    assert_int_equal(s.orders_live, g.nlive);
    assert_int_equal(s.errors_total, 0);
    for (size_t i = 0; i < g.nlive; i++) {
        ra_book_order o;
        assert_int_equal(ra_book_order_find(b, g.live[i].ref, &o), RA_OK);
        assert_int_equal(o.qty, g.live[i].qty);
    }
    ok(b);
    book_gen_free(&g);
    ra_book_destroy(b);
}

/* ra_book_itch_many() gives the book that one call per message gives. */
static void test_itch_many(void **state)
{
    (void)state;
    enum { N = 4000 };
    static uint8_t buf[N * 48];
    static const void *msgs[N];
    static size_t lens[N];
    book_gen g;
    assert_int_equal(book_gen_init(&g, 11, 30, 400), 0);
    size_t off = 0;
    for (size_t i = 0; i < N; i++) {
        msgs[i] = buf + off;
        lens[i] = book_gen_next(&g, buf + off);
        off += lens[i];
    }
    ra_book *one = mk(1024, RA_BOOK_FAIL, 0), *many = mk(1024, RA_BOOK_FAIL, 0);
    for (size_t i = 0; i < N; i++) assert_int_equal(ra_book_itch(one, msgs[i], lens[i]), RA_OK);
    for (size_t i = 0; i < N; i += 37) /* uneven batches */
        assert_int_equal(ra_book_itch_many(many, msgs + i, lens + i, N - i < 37 ? N - i : 37),
                         RA_OK);
    ok(many);
    ra_book_stats a = stats(one), c = stats(many);
    assert_int_equal(a.orders_live, c.orders_live);
    assert_int_equal(a.orders_live, g.nlive);
    assert_int_equal(a.messages, c.messages);
    assert_int_equal(a.levels, c.levels);
    assert_int_equal(ra_book_symbols(one), ra_book_symbols(many));
    for (size_t s = 0; s < ra_book_symbols(one); s++) {
        ra_book_top t1, t2;
        size_t s2 = 0;
        const char *name = ra_book_symbol(one, s, &t1);
        assert_int_equal(ra_book_find(many, name, &s2), RA_OK);
        ra_book_symbol(many, s2, &t2);
        assert_memory_equal(&t1, &t2, sizeof t1);
    }
    for (size_t i = 0; i < g.nlive; i++) {
        ra_book_order o1, o2;
        assert_int_equal(ra_book_order_find(one, g.live[i].ref, &o1), RA_OK);
        assert_int_equal(ra_book_order_find(many, g.live[i].ref, &o2), RA_OK);
        assert_int_equal(o1.qty, o2.qty);
        assert_int_equal(o1.ahead, o2.ahead);
    }
    assert_int_equal(ra_book_itch_many(many, NULL, NULL, 0), RA_OK);
    assert_int_equal(ra_book_itch_many(many, NULL, lens, 3), RA_EINVAL);
    book_gen_free(&g);
    ra_book_destroy(one);
    ra_book_destroy(many);
}

static void test_stats_writers(void **state)
{
    (void)state;
    ra_book *b = mk(64, RA_BOOK_FAIL, 0);
    add(b, 1, 'B', 100, "ST", 1000);
    add(b, 2, 'B', 100, "ST", 1000);
    del(b, 77); /* unknown_ref */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ra_stats_source src = {.kind = RA_STATS_BOOK, .name = "itch", .obj = b};
    assert_int_equal(ra_stats_write_prometheus(f, &src, 1), RA_OK);
    assert_int_equal(ra_stats_write_json(f, &src, 1), RA_OK);
    fclose(f);
    assert_non_null(strstr(buf, "ringalloc_book_orders_live{name=\"itch\"} 2\n"));
    assert_non_null(
        strstr(buf, "ringalloc_book_errors_total{name=\"itch\",kind=\"unknown_ref\"} 1\n"));
    assert_non_null(strstr(buf, "ringalloc_book_complete{name=\"itch\"} 1\n"));
    assert_non_null(strstr(buf, "ringalloc_pool_in_use{name=\"itch-orders\"} 2\n"));
    assert_non_null(strstr(buf, "ringalloc_arena_resets_total{name=\"itch-session\"} 0\n"));
    assert_non_null(strstr(buf, "{\"kind\":\"book\",\"name\":\"itch\",\"messages\":3,"));
    assert_non_null(strstr(buf, "\"errors\":{\"unknown_ref\":1,\"exec_too_large\":0,"));
    assert_non_null(strstr(buf, "{\"kind\":\"pool\",\"name\":\"itch-orders\",\"allocs\":2,"));
    free(buf);
    src.obj = NULL;
    f = open_memstream(&buf, &len);
    assert_int_equal(ra_stats_write_json(f, &src, 1), RA_EINVAL);
    fclose(f);
    free(buf);
    ra_book_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_execute_cancel_delete),
        cmocka_unit_test(test_replace_loses_priority),
        cmocka_unit_test(test_depth_order),
        cmocka_unit_test(test_session_reset),
        cmocka_unit_test(test_error_kinds),
        cmocka_unit_test(test_fail_fast),
        cmocka_unit_test(test_fallback_and_grow),
        cmocka_unit_test(test_create_and_incomplete),
        cmocka_unit_test(test_bbo_callback),
        cmocka_unit_test(test_mbo),
        cmocka_unit_test(test_nasdaq_snippet),
        cmocka_unit_test(test_generated_flow),
        cmocka_unit_test(test_table_grows),
        cmocka_unit_test(test_itch_many),
        cmocka_unit_test(test_stats_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
