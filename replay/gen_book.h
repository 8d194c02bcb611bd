/* gen_book.h - the generators' own book (gen.c, gen_dbn.c): live orders per symbol and side with
 * their best price, so that generated order flow describes books that never lock or cross */
#ifndef RP_GEN_BOOK_H
#define RP_GEN_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rp_gorder {
    uint64_t ref; /* order reference (ITCH) or order id (DBN) */
    uint32_t shares;
    int64_t price; /* in the feed's units */
} rp_gorder;

typedef struct rp_gside { /* the live orders of one side of one symbol, in no order */
    rp_gorder *o;
    uint32_t n, cap;
    int64_t best;   /* the best price (highest bid, lowest ask) when n > 0 */
    uint32_t nbest; /* orders at it */
} rp_gside;

typedef struct rp_gsym {
    rp_gside side[2]; /* 0 buy, 1 sell */
    int64_t mid;      /* where new orders gather; kept within the spread */
} rp_gsym;

typedef struct rp_gpos { /* where a live order is */
    unsigned sym;        /* 1-based */
    int s;               /* side */
    uint32_t i;
} rp_gpos;

typedef struct rp_gbook {
    rp_gsym *syms; /* 1-based: syms[1..nsyms] */
    unsigned nsyms;
    size_t nlive;  /* live orders over all symbols */
    int64_t tick;  /* price step (one cent in the feed's units) */
    uint64_t *rng; /* the generator's splitmix64 state (rp_gen_rand) */
} rp_gbook;

/* rp_gbook_init() : an empty book of nsyms symbols (mids 0: set them). @return 0, or -1 when out
 * of memory. */
int rp_gbook_init(rp_gbook *b, unsigned nsyms, int64_t tick, uint64_t *rng);

/* rp_gbook_free() : releases it (a zeroed book too). @return nothing. */
void rp_gbook_free(rp_gbook *b);

/* rp_gbook_pick_symbol() : a symbol, 1-based: the smaller of two uniform draws, so that low
 * numbers (the well-known names) trade more. @return it. */
unsigned rp_gbook_pick_symbol(rp_gbook *b);

/* rp_gbook_price() : the price of a new order on side s of symbol sym: 1 + k ticks from the
 * mid (k in 0..15, mostly small), never at or through the other side's best. The mid first
 * drifts a tick now and then and is kept within the spread (and at least 20 ticks).
 * @return the price, or 0 when side s has no room (a bid under an ask of one tick). */
int64_t rp_gbook_price(rp_gbook *b, unsigned sym, int s);

/* rp_gbook_push() : adds o to side s of sym. @return 0, or -1 when out of memory. */
int rp_gbook_push(rp_gbook *b, unsigned sym, int s, rp_gorder o);

/* rp_gbook_take() : removes the order at p. @return nothing. */
void rp_gbook_take(rp_gbook *b, rp_gpos p);

/* rp_gbook_pick() : a live order (nlive > 0): a random side of a symbol drawn as by
 * rp_gbook_pick_symbol() (the next symbol with orders when that one has none); at_best picks one
 * at that side's best price. @return where it is. */
rp_gpos rp_gbook_pick(rp_gbook *b, bool at_best);

/* rp_gbook_at() : the order at p. @return it (valid until the book changes). */
static inline rp_gorder *rp_gbook_at(rp_gbook *b, rp_gpos p)
{
    return &b->syms[p.sym].side[p.s].o[p.i];
}

#endif /* RP_GEN_BOOK_H */
