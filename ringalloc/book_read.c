/* book_read.c - order book: reading it (symbols, tops, depth, orders), stats and invariants */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "book_int.h"

size_t ra_book_symbols(const ra_book *b)
{
    return b ? b->nsyms : 0;
}

const char *ra_book_symbol(const ra_book *b, size_t sym, ra_book_top *top)
{
    if (!b || sym >= b->nsyms) return NULL;
    if (top) ra__book_sym_top(&b->syms[sym], top);
    return b->syms[sym].name;
}

int ra_book_find(const ra_book *b, const char *name, size_t *sym)
{
    if (!b || !name || !sym) return RA_EINVAL;
    for (uint32_t s = 0; s < b->nsyms; s++)
        if (strcmp(b->syms[s].name, name) == 0) {
            *sym = s;
            return RA_OK;
        }
    return RA_ENOENT;
}

static const ra__book_side *book_side(const ra_book *b, size_t sym, int side)
{
    if (!b || sym >= b->nsyms || (side != RA_BOOK_BID && side != RA_BOOK_ASK)) return NULL;
    return &b->syms[sym].side[side];
}

size_t ra_book_depth(const ra_book *b, size_t sym, int side, ra_book_level *levels, size_t n)
{
    const ra__book_side *sd = book_side(b, sym, side);
    if (!sd || !levels) return 0;
    size_t k = 0;
    for (; k < n && k < sd->n; k++) {
        const ra__book_lvl *l = sd->v[sd->n - 1 - k].l;
        levels[k] = (ra_book_level){.px = l->px, .qty = l->qty, .orders = l->count};
    }
    return k;
}

size_t ra_book_level_orders(const ra_book *b, size_t sym, int side, size_t level, uint64_t *refs,
                            size_t n)
{
    const ra__book_side *sd = book_side(b, sym, side);
    if (!sd || !refs || level >= sd->n) return 0;
    size_t k = 0;
    for (const ra__book_ord *o = sd->v[sd->n - 1 - level].l->head; o && k < n; o = o->next)
        refs[k++] = o->ref;
    return k;
}

int ra_book_order_find(const ra_book *b, uint64_t ref, ra_book_order *o)
{
    if (!b || !o) return RA_EINVAL;
    const ra__book_hent *e = ra__book_lookup(b, ref);
    if (!e) return RA_ENOENT;
    const ra__book_ord *x = e->o;
    uint32_t ahead = 0;
    for (const ra__book_ord *p = x->prev; p; p = p->prev) ahead++;
    *o = (ra_book_order){.ref = x->ref,
                         .sym = x->sym,
                         .side = x->side,
                         .px = x->lvl->px,
                         .qty = x->qty,
                         .ahead = ahead};
    return RA_OK;
}

size_t ra_book_saved_symbols(const ra_book *b)
{
    return b ? b->nsaved : 0;
}

const char *ra_book_saved_symbol(const ra_book *b, size_t i, ra_book_top *top)
{
    if (!b || i >= b->nsaved) return NULL;
    if (top) *top = b->saved[i].top;
    return b->saved[i].name;
}

void ra_book_get_stats(const ra_book *b, ra_book_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!b) return;
    *s = b->st;
    for (uint32_t i = 0; i < b->npools; i++) {
        ra_pool_stats p;
        ra_pool_get_stats(b->pools[i], &p);
        if (i == 0) {
            s->pool = p;
            continue;
        }
        s->pool.allocs += p.allocs;
        s->pool.frees += p.frees;
        s->pool.in_use += p.in_use;
        s->pool.high_water += p.high_water;
        s->pool.failed += p.failed;
        s->pool.capacity += p.capacity;
        s->pool.bytes_reserved += p.bytes_reserved;
    }
    ra_arena_get_stats(b->arena, &s->arena);
}

#define RA__BOOK_ERR_NAME(name, text) text,
static const char *const book_err_names[] = {RA_BOOK_ERROR_LIST(RA__BOOK_ERR_NAME)};
#undef RA__BOOK_ERR_NAME

const char *ra_book_error_name(int kind)
{
    return kind >= 0 && kind < RA_BOOK_ERR_COUNT ? book_err_names[kind] : "unknown";
}

/* ---- invariants ---------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int book_fail(char *why, size_t cap, const char *fmt,
                                                           ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Checks one level of symbol s; adds its orders to *orders. */
static int book_check_level(const ra_book *b, uint32_t s, int k, const ra__book_lvl *l,
                            uint64_t *orders, char *why, size_t cap)
{
    const char *nm = b->syms[s].name;
    uint64_t qty = 0;
    uint32_t n = 0;
    const ra__book_ord *prev = NULL;
    for (const ra__book_ord *o = l->head; o; prev = o, o = o->next) {
        n++;
        qty += o->qty;
        if (o->prev != prev || o->lvl != l || o->sym != s || o->side != k || o->qty == 0)
            return book_fail(why, cap, "%s: order %llu badly linked", nm,
                             (unsigned long long)o->ref);
        const ra__book_hent *e = ra__book_lookup(b, o->ref);
        if (!e || e->o != o)
            return book_fail(why, cap, "%s: order %llu not found by its reference", nm,
                             (unsigned long long)o->ref);
        if (n > b->st.orders_live) return book_fail(why, cap, "%s: level list loops", nm);
    }
    if (n == 0) return book_fail(why, cap, "%s: empty level at %lld", nm, (long long)l->px);
    if (l->tail != prev) return book_fail(why, cap, "%s: level tail wrong", nm);
    if (n != l->count || qty != l->qty)
        return book_fail(why, cap, "%s: level %lld has %u orders/%llu qty, counts %u/%llu", nm,
                         (long long)l->px, n, (unsigned long long)qty, l->count,
                         (unsigned long long)l->qty);
    *orders += n;
    return 0;
}

int ra_book_check(const ra_book *b, char *why, size_t cap)
{
    if (!b) return book_fail(why, cap, "no book");
    uint64_t orders = 0, levels = 0, slots = 0;
    for (uint32_t s = 0; s < b->nsyms; s++)
        for (int k = 0; k < 2; k++) {
            const ra__book_side *sd = &b->syms[s].side[k];
            for (uint32_t i = 0; i < sd->n; i++) {
                const ra__book_lvl *l = sd->v[i].l;
                int64_t key = k == RA_BOOK_BID ? l->px : ~l->px;
                if (sd->v[i].key != key || (i && sd->v[i - 1].key >= key))
                    return book_fail(why, cap, "%s: levels out of order", b->syms[s].name);
                if (book_check_level(b, s, k, l, &orders, why, cap) != 0) return -1;
            }
            levels += sd->n;
        }
    for (uint64_t i = 0; i <= b->mask; i++) slots += b->tab[i].o != NULL;
    if (orders != b->st.orders_live || slots != orders || levels != b->st.levels)
        return book_fail(why, cap,
                         "%llu orders on levels, %llu in the table, %llu live; "
                         "%llu levels, %llu counted",
                         (unsigned long long)orders, (unsigned long long)slots,
                         (unsigned long long)b->st.orders_live, (unsigned long long)levels,
                         (unsigned long long)b->st.levels);
    uint64_t in_use = 0;
    for (uint32_t i = 0; i < b->npools; i++) {
        ra_pool_stats p;
        ra_pool_get_stats(b->pools[i], &p);
        in_use += p.in_use;
    }
    if (in_use + b->malloced_live != orders)
        return book_fail(why, cap, "pool in_use %llu + malloc %llu != %llu live orders",
                         (unsigned long long)in_use, (unsigned long long)b->malloced_live,
                         (unsigned long long)orders);
    return 0;
}
