/* book_gen.h - a deterministic, realistic ITCH 5.0 order flow for order-book tests and benchmarks
 * (header-only) */
#ifndef TESTS_SUPPORT_BOOK_GEN_H
#define TESTS_SUPPORT_BOOK_GEN_H

/*
 * The flow: adds near the top of each symbol's book (a few ticks from a fixed mid, bids below,
 * asks above: the book never crosses), deletes, partial and full executions (E, and C at a
 * price), partial cancels (X), replaces (U: new reference, new price near the top, same side),
 * and a few messages the book does not use (P trades). 7 in 8 deletes, replaces, executions and
 * cancels act on one of the BOOK_GEN_RECENT newest live orders, the others on any. Live orders stay
 * under max_live (then no add is made). Symbols are skewed: low numbers are busier. The generator
 * keeps every live order (its own view of the book), so a test can compare the book with it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"

#define BOOK_GEN_TICK   100u  /* one cent in ITCH's 1/10000 */
#define BOOK_GEN_RECENT 4096u /* 7 in 8 removals and replaces pick among the newest this many */

typedef struct book_gen_order {
    uint64_t ref;
    uint32_t sym, qty, px;
    uint8_t side; /* 'B' or 'S' */
} book_gen_order;

typedef struct book_gen {
    uint64_t rng, next_ref, ts;
    uint32_t nsyms;
    book_gen_order *live; /* the live orders, unordered */
    size_t nlive, max_live;
} book_gen;

static inline uint64_t book_gen_rand(book_gen *g)
{
    uint64_t x = g->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g->rng = x;
    return x * UINT64_C(2685821657736338717);
}

/* @return 0, or -1 when memory ran out. */
static inline int book_gen_init(book_gen *g, uint64_t seed, uint32_t nsyms, size_t max_live)
{
    memset(g, 0, sizeof *g);
    g->rng = seed | 1;
    g->next_ref = 1;
    g->ts = UINT64_C(34200) * 1000000000u; /* 9:30 */
    g->nsyms = nsyms ? nsyms : 1;
    g->max_live = max_live ? max_live : 1;
    g->live = malloc(g->max_live * sizeof *g->live);
    return g->live ? 0 : -1;
}

static inline void book_gen_free(book_gen *g)
{
    free(g->live);
    g->live = NULL;
}

/* The symbol's 8-byte stock field: "S<number>" padded with spaces. */
static inline void book_gen_stock(uint32_t sym, char out[8])
{
    char tmp[16];
    snprintf(tmp, sizeof tmp, "S%u", (unsigned)sym);
    memset(out, ' ', 8);
    memcpy(out, tmp, strlen(tmp) < 8 ? strlen(tmp) : 8);
}

static inline uint32_t book_gen_mid(uint32_t sym)
{
    return 100000u + sym * 1000u; /* $10.00 + sym * $0.10 */
}

/* A price near the top: most within a few ticks, some deeper. */
static inline uint32_t book_gen_px(book_gen *g, uint32_t sym, uint8_t side)
{
    uint64_t r = book_gen_rand(g);
    unsigned k =
        1 + (unsigned)(r % 3) + 2 * (unsigned)__builtin_ctzll((r >> 8) | (UINT64_C(1) << 20));
    if (r >> 60 == 0) k += (unsigned)((r >> 32) % 40); /* 1 in 16: deep in the book */
    uint32_t mid = book_gen_mid(sym);
    return side == 'B' ? mid - k * BOOK_GEN_TICK : mid + k * BOOK_GEN_TICK;
}

/* ---- plain message encoders (tests build hand-made sequences with them) --------------------- */

static inline void itch_head(uint8_t *m, char type, uint16_t locate, uint64_t ts)
{
    m[0] = (uint8_t)type;
    ra_store_be16(m + 1, locate);
    ra_store_be16(m + 3, 0);
    ra_store_be48(m + 5, ts);
}

/* A (36 bytes) or F (40): stock is the 8-byte space-padded field. @return the length. */
static inline size_t itch_add(uint8_t *m, char type, uint16_t locate, uint64_t ts, uint64_t ref,
                              uint8_t side, uint32_t qty, const char *stock, uint32_t px)
{
    itch_head(m, type, locate, ts);
    ra_store_be64(m + 11, ref);
    m[19] = side;
    ra_store_be32(m + 20, qty);
    memset(m + 24, ' ', 8);
    memcpy(m + 24, stock, strlen(stock) < 8 ? strlen(stock) : 8);
    ra_store_be32(m + 32, px);
    if (type != 'F') return 36;
    memcpy(m + 36, "GENX", 4);
    return 40;
}

/* E (31 bytes), C (36: at px) or X (23). @return the length. */
static inline size_t itch_reduce(uint8_t *m, char type, uint16_t locate, uint64_t ts, uint64_t ref,
                                 uint32_t qty, uint32_t px)
{
    itch_head(m, type, locate, ts);
    ra_store_be64(m + 11, ref);
    ra_store_be32(m + 19, qty);
    if (type == 'X') return 23;
    ra_store_be64(m + 23, ts); /* match number */
    if (type == 'E') return 31;
    m[31] = 'Y';
    ra_store_be32(m + 32, px);
    return 36;
}

static inline size_t itch_delete(uint8_t *m, uint16_t locate, uint64_t ts, uint64_t ref)
{
    itch_head(m, 'D', locate, ts);
    ra_store_be64(m + 11, ref);
    return 19;
}

static inline size_t itch_replace(uint8_t *m, uint16_t locate, uint64_t ts, uint64_t ref,
                                  uint64_t new_ref, uint32_t qty, uint32_t px)
{
    itch_head(m, 'U', locate, ts);
    ra_store_be64(m + 11, ref);
    ra_store_be64(m + 19, new_ref);
    ra_store_be32(m + 27, qty);
    ra_store_be32(m + 31, px);
    return 35;
}

/* ---- the generator --------------------------------------------------------------------------- */

static inline uint64_t book_gen_ts(book_gen *g)
{
    return g->ts += 1 + book_gen_rand(g) % 2000;
}

static inline size_t book_gen_add(book_gen *g, uint8_t *m)
{
    uint64_t r = book_gen_rand(g);
    uint32_t sym = (uint32_t)(((r % g->nsyms) * ((r >> 20) % g->nsyms)) / g->nsyms);
    book_gen_order o = {.ref = g->next_ref++, .sym = sym, .side = (r >> 40) & 1 ? 'B' : 'S'};
    o.qty = 100 * (1 + (uint32_t)((r >> 44) % 10));
    o.px = book_gen_px(g, sym, o.side);
    g->live[g->nlive++] = o;
    char stock[9];
    book_gen_stock(sym, stock);
    stock[8] = 0;
    return itch_add(m, (r >> 56) % 16 == 0 ? 'F' : 'A', (uint16_t)(sym + 1), book_gen_ts(g), o.ref,
                    o.side, o.qty, stock, o.px);
}

/* Drops live[i] from the generator's view. */
static inline void book_gen_drop(book_gen *g, size_t i)
{
    g->live[i] = g->live[--g->nlive];
}

/* E, C or X on live[i] (a random quantity up to all of it) */
static inline size_t book_gen_reduce(book_gen *g, uint8_t *m, size_t i, char type)
{
    book_gen_order *o = &g->live[i];
    uint32_t q = 1 + (uint32_t)(book_gen_rand(g) % o->qty);
    if (type != 'X' && q < o->qty && book_gen_rand(g) % 2) q = o->qty; /* half trade it all */
    size_t len = itch_reduce(m, type, (uint16_t)(o->sym + 1), book_gen_ts(g), o->ref, q, o->px);
    o->qty -= q;
    if (o->qty == 0) book_gen_drop(g, i);
    return len;
}

static inline size_t book_gen_replace(book_gen *g, uint8_t *m, size_t i)
{
    book_gen_order *o = &g->live[i];
    uint64_t old = o->ref;
    o->ref = g->next_ref++;
    o->px = book_gen_px(g, o->sym, o->side);
    o->qty = 100 * (1 + (uint32_t)(book_gen_rand(g) % 10));
    return itch_replace(m, (uint16_t)(o->sym + 1), book_gen_ts(g), old, o->ref, o->qty, o->px);
}

/* A live order to act on: most often a recent one (most orders of a real feed are cancelled,
 * replaced or traded soon after they are added), else any. The newest orders sit at the end of
 * `live` (adds append; a removal moves the last one into the hole). */
static inline size_t book_gen_pick(book_gen *g)
{
    uint64_t r = book_gen_rand(g);
    size_t recent = g->nlive < BOOK_GEN_RECENT ? g->nlive : BOOK_GEN_RECENT;
    if (r % 8 != 0) return g->nlive - 1 - (size_t)((r >> 8) % recent);
    return (size_t)((r >> 8) % g->nlive);
}

/* Writes the next message at m (room for 64 bytes). @return its length. */
static inline size_t book_gen_next(book_gen *g, uint8_t *m)
{
    unsigned r = (unsigned)(book_gen_rand(g) % 100);
    if (g->nlive == 0 || (r < 48 && g->nlive < g->max_live)) return book_gen_add(g, m);
    size_t i = book_gen_pick(g);
    if (r < 80) {
        size_t len = itch_delete(m, (uint16_t)(g->live[i].sym + 1), book_gen_ts(g), g->live[i].ref);
        book_gen_drop(g, i);
        return len;
    }
    if (r < 90) return book_gen_replace(g, m, i);
    if (r < 94) return book_gen_reduce(g, m, i, 'E');
    if (r < 95) return book_gen_reduce(g, m, i, 'C');
    if (r < 99) return book_gen_reduce(g, m, i, 'X');
    itch_head(m, 'P', (uint16_t)(g->live[i].sym + 1),
              book_gen_ts(g)); /* hidden trade: not booked */
    memset(m + 11, 0, 33);
    return 44;
}

#endif /* TESTS_SUPPORT_BOOK_GEN_H */
