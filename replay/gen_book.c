/* gen_book.c - the generators' own book: live orders per symbol and side, best prices, a mid
 *
 * Design notes.
 * - Each side keeps its orders in an array in no order, with its best price and the number of
 *   orders at it; the best is rescanned only when its last order goes. Picking an order at the
 *   best scans from a random index. Both stay cheap because the generators cap live orders.
 * - Prices: a new order rests 1..16 ticks behind the mid, mostly a few (the smaller of two
 *   draws), and a bid below the best ask (an ask above the best bid): the books never lock or
 *   cross. The mid drifts by a tick on one price in eight and is pulled back within the spread.
 * - Every random choice comes from the caller's splitmix64 state, in a fixed order: the same seed
 *   gives the same flow.
 */
#include "gen_book.h"

#include <stdlib.h>

#include "gen.h"

static uint64_t rp__below(rp_gbook *b, uint64_t n)
{
    return rp_gen_rand(b->rng) % n;
}

int rp_gbook_init(rp_gbook *b, unsigned nsyms, int64_t tick, uint64_t *rng)
{
    *b = (rp_gbook){.nsyms = nsyms, .tick = tick, .rng = rng};
    b->syms = calloc(nsyms + 1u, sizeof(*b->syms));
    return b->syms ? 0 : -1;
}

void rp_gbook_free(rp_gbook *b)
{
    for (unsigned s = 0; b->syms && s <= b->nsyms; s++) {
        free(b->syms[s].side[0].o);
        free(b->syms[s].side[1].o);
    }
    free(b->syms);
    b->syms = NULL;
}

unsigned rp_gbook_pick_symbol(rp_gbook *b)
{
    uint64_t x = rp__below(b, b->nsyms), y = rp__below(b, b->nsyms);
    return 1u + (unsigned)(x < y ? x : y);
}

static bool rp__better(int s, int64_t a, int64_t b) /* a is a better price than b on side s */
{
    return s == 0 ? a > b : a < b;
}

static void rp__rescan(rp_gside *sd, int s)
{
    sd->nbest = 0;
    for (uint32_t i = 0; i < sd->n; i++) {
        int64_t px = sd->o[i].price;
        if (sd->nbest == 0 || rp__better(s, px, sd->best)) {
            sd->best = px;
            sd->nbest = 1;
        } else if (px == sd->best) {
            sd->nbest++;
        }
    }
}

int rp_gbook_push(rp_gbook *b, unsigned sym, int s, rp_gorder o)
{
    rp_gside *sd = &b->syms[sym].side[s];
    if (sd->n == sd->cap) {
        uint32_t ncap = sd->cap ? sd->cap * 2 : 16;
        rp_gorder *n = realloc(sd->o, ncap * sizeof(*n));
        if (!n) return -1;
        sd->o = n;
        sd->cap = ncap;
    }
    sd->o[sd->n++] = o;
    if (sd->n == 1 || rp__better(s, o.price, sd->best)) {
        sd->best = o.price;
        sd->nbest = 1;
    } else if (o.price == sd->best) {
        sd->nbest++;
    }
    b->nlive++;
    return 0;
}

void rp_gbook_take(rp_gbook *b, rp_gpos p)
{
    rp_gside *sd = &b->syms[p.sym].side[p.s];
    int64_t px = sd->o[p.i].price;
    sd->o[p.i] = sd->o[--sd->n];
    b->nlive--;
    if (px == sd->best && --sd->nbest == 0) rp__rescan(sd, p.s);
}

int64_t rp_gbook_price(rp_gbook *b, unsigned sym, int s)
{
    rp_gsym *y = &b->syms[sym];
    const rp_gside *bid = &y->side[0], *ask = &y->side[1];
    const int64_t tick = b->tick;
    if (rp__below(b, 8) == 0) y->mid += rp__below(b, 2) ? tick : -tick;
    if (bid->n && y->mid < bid->best) y->mid = bid->best;
    if (ask->n && y->mid > ask->best) y->mid = ask->best;
    if (y->mid < 20 * tick) y->mid = 20 * tick;
    uint64_t x = rp__below(b, 16), z = rp__below(b, 16);
    int64_t off = (1 + (int64_t)(x < z ? x : z)) * tick;
    if (s == 0) {
        int64_t px = y->mid > off ? y->mid - off : tick;
        if (ask->n && px >= ask->best) px = ask->best - tick;
        return px > 0 ? px : 0;
    }
    int64_t px = y->mid + off;
    if (bid->n && px <= bid->best) px = bid->best + tick;
    return px;
}

rp_gpos rp_gbook_pick(rp_gbook *b, bool at_best)
{
    rp_gpos p;
    p.sym = rp_gbook_pick_symbol(b);
    while (b->syms[p.sym].side[0].n + b->syms[p.sym].side[1].n == 0) p.sym = p.sym % b->nsyms + 1;
    p.s = (int)rp__below(b, 2);
    if (b->syms[p.sym].side[p.s].n == 0) p.s ^= 1;
    const rp_gside *sd = &b->syms[p.sym].side[p.s];
    p.i = (uint32_t)rp__below(b, sd->n);
    if (at_best)
        while (sd->o[p.i].price != sd->best) p.i = (p.i + 1) % sd->n;
    return p;
}
