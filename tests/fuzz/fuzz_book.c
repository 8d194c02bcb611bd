/* fuzz_book.c - libFuzzer target: order books (ringalloc/book*.c) fed arbitrary feed messages,
 * with every invariant checked after every message
 *
 * The input is a small program. Its first byte sets the book: the order pool's size (8 to 71
 * orders, so that it fills) and what an empty pool does (fail, fall back, grow). Then each step
 * starts with an opcode byte:
 *   0 raw ITCH: a length byte, then that many bytes, passed as one message (the parser's bounds)
 *   1 raw MBO: up to 56 bytes, passed as one record
 *   2 built ITCH: an A/F/E/C/X/D/U/R/S/P message from the next bytes, with references from a
 *     small set and stocks from four names, so that they meet live orders
 *   3 built MBO: an add/cancel/modify/clear/trade/fill of a small order id set
 *   4 the session ends (ra_book_reset); 5 a loss is reported (ra_book_mark_incomplete)
 * After each step ra_book_check() must hold and the statistics must add up; the reading
 * functions (tops, depth, level orders, saved tops) run over every symbol.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/book.h"
#include "ringalloc/byteorder.h"

#define MAX_STEPS 4096u /* steps per input: also a bound on live orders and levels */

typedef struct in {
    const uint8_t *p;
    size_t n;
} in;

static unsigned take(in *s)
{
    if (!s->n) return 0;
    s->n--;
    return *s->p++;
}

static const char *const stocks[4] = {"AAPL    ", "MSFT    ", "ZVZZT   ", "A       "};

/* One ITCH message of type t built from the input: small refs, prices, shares. @return length */
static size_t build_itch(in *s, uint8_t *m)
{
    static const char types[] = "AFECXDURSP";
    char t = types[take(s) % (sizeof types - 1)];
    uint64_t ref = take(s) % 24, ref2 = take(s) % 24;
    uint32_t px = 1000 + take(s) % 16 * 100, qty = take(s) % 8 * 50;
    unsigned k = take(s);
    memset(m, 0, 64);
    m[0] = (uint8_t)t;
    ra_store_be48(m + 5, (uint64_t)k * 1000);
    switch (t) {
    case 'A':
    case 'F':
        ra_store_be64(m + 11, ref);
        m[19] = (k & 1) ? 'B' : 'S';
        if (k & 64) m[19] = 'Z'; /* a bad side now and then */
        ra_store_be32(m + 20, qty);
        memcpy(m + 24, stocks[k >> 1 & 3], 8);
        ra_store_be32(m + 32, px);
        return t == 'A' ? 36 : 40;
    case 'E':
        ra_store_be64(m + 11, ref);
        ra_store_be32(m + 19, qty);
        return 31;
    case 'C':
        ra_store_be64(m + 11, ref);
        ra_store_be32(m + 19, qty);
        m[31] = 'Y';
        ra_store_be32(m + 32, px);
        return 36;
    case 'X':
        ra_store_be64(m + 11, ref);
        ra_store_be32(m + 19, qty);
        return 23;
    case 'D':
        ra_store_be64(m + 11, ref);
        return 19;
    case 'U':
        ra_store_be64(m + 11, ref);
        ra_store_be64(m + 19, ref2);
        ra_store_be32(m + 27, qty);
        ra_store_be32(m + 31, px);
        return 35;
    case 'R':
        memcpy(m + 11, stocks[k & 3], 8);
        return 39;
    case 'S':
        m[11] = (k & 1) ? 'C' : 'O';
        return 12;
    default: /* 'P': counted, not booked */
        return 44;
    }
}

/* One MBO record built from the input. */
static void build_mbo(in *s, uint8_t *m)
{
    static const char actions[] = "ACMRTFNZ";
    memset(m, 0, 56);
    m[0] = 14; /* length in 4-byte words */
    m[1] = 0xa0;
    unsigned k = take(s);
    ra_store_le32(m + 4, 1 + (k & 3));                    /* instrument_id */
    ra_store_le64(m + 8, (uint64_t)take(s) * 1000000);    /* ts_event */
    ra_store_le64(m + 16, take(s) % 24);                  /* order_id */
    ra_store_le64(m + 24, (1000 + take(s) % 16) * 10000); /* price */
    ra_store_le32(m + 32, take(s) % 8 * 10);              /* size */
    m[38] = (uint8_t)actions[take(s) % (sizeof actions - 1)];
    m[39] = (k & 4) ? 'B' : (k & 8) ? 'A' : 'N';
}

static void check(const ra_book *b)
{
    char why[256];
    if (ra_book_check(b, why, sizeof why) != 0) {
        fprintf(stderr, "book invariant: %s\n", why);
        abort();
    }
    ra_book_stats st;
    ra_book_get_stats(b, &st);
    uint64_t e = 0;
    for (int k = 0; k < RA_BOOK_ERR_COUNT; k++) e += st.errors[k];
    if (e != st.errors_total || st.orders_live > st.orders_high_water ||
        st.levels > st.levels_high_water || st.symbols != ra_book_symbols(b))
        abort();
    uint64_t live = 0;
    for (size_t i = 0; i < ra_book_symbols(b); i++) {
        ra_book_top top;
        const char *name = ra_book_symbol(b, i, &top);
        size_t j;
        if (!name || ra_book_find(b, name, &j) != RA_OK || j != i) abort();
        for (int side = 0; side < 2; side++) {
            static ra_book_level lv[MAX_STEPS];
            static uint64_t refs[MAX_STEPS];
            size_t n = ra_book_depth(b, i, side, lv, MAX_STEPS);
            for (size_t l = 0; l < n; l++) {
                size_t k = ra_book_level_orders(b, i, side, l, refs, MAX_STEPS);
                if (k != lv[l].orders) abort();
                live += k;
                for (size_t o = 0; o < k; o++) {
                    ra_book_order ord;
                    if (ra_book_order_find(b, refs[o], &ord) != RA_OK || ord.sym != i ||
                        ord.side != side || ord.px != lv[l].px || ord.ahead != o)
                        abort();
                }
            }
            uint64_t q = side ? top.ask_qty : top.bid_qty;
            if ((n == 0) != (q == 0) || (n && q != lv[0].qty)) abort();
        }
    }
    if (live != st.orders_live) abort();
    for (size_t i = 0; i < ra_book_saved_symbols(b); i++)
        if (!ra_book_saved_symbol(b, i, NULL)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in s = {data, size};
    unsigned cfgb = take(&s);
    ra_book_config cfg = {.max_orders = 8 + (cfgb & 63),
                          .on_empty = (int)(cfgb >> 6) % 3,
                          .grow_orders = 8,
                          .arena_chunk = 4096};
    ra_book *b;
    if (ra_book_create(&b, &cfg) != RA_OK) abort();
    uint8_t m[256];
    for (unsigned steps = 0; s.n && steps < MAX_STEPS; steps++) {
        unsigned op = take(&s) % 6;
        if (op == 0) {
            size_t len = take(&s);
            if (len > s.n) len = s.n;
            memcpy(m, s.p, len);
            s.p += len;
            s.n -= len;
            int rc = ra_book_itch(b, m, len);
            if (rc != RA_OK && rc != RA_ENOMEM && !(rc == RA_EINVAL && len == 0)) abort();
        } else if (op == 1) {
            size_t len = s.n < 56 ? s.n : 56;
            memcpy(m, s.p, len);
            s.p += len;
            s.n -= len;
            int rc = ra_book_mbo(b, m, len);
            if (rc != RA_OK && rc != RA_ENOMEM && !(rc == RA_EINVAL && len == 0)) abort();
        } else if (op == 2) {
            size_t len = build_itch(&s, m);
            if (ra_book_itch(b, m, len) == RA_EINVAL) abort();
        } else if (op == 3) {
            build_mbo(&s, m);
            if (ra_book_mbo(b, m, 56) == RA_EINVAL) abort();
        } else if (op == 4) {
            ra_book_reset(b);
            if (ra_book_symbols(b) != 0) abort();
        } else {
            ra_book_mark_incomplete(b, take(&s));
        }
        check(b);
    }
    ra_book_destroy(b);
    return 0;
}
