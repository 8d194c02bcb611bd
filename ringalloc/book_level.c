/* book_level.c - order book: symbols, price levels in time priority, and the book operations */
/*
 * Design notes:
 * - Each side of a symbol is an array of (key, level) sorted by key ascending with the best
 *   level last (key = price for bids, ~price for asks), so the best is v[n-1] (O(1)) and the
 *   activity near the top touches the end of the array: a search scans the RA__BOOK_SCAN best
 *   levels, then binary-searches the rest; adding or removing a level near the top moves only
 *   the few entries after it.
 * - Level arrays grow by doubling in the session arena; an array past RA__BOOK_SYS_BYTES comes
 *   from malloc instead (counted in sys_allocs) and is freed at reset. Levels themselves are
 *   arena objects recycled through a free list.
 * - Symbols are an arena array indexed by symbol number, found by key through a small
 *   open-addressing table (malloc, kept and cleared at reset) and, for ITCH, a stock-locate
 *   cache.
 */
#include <stdlib.h>
#include <string.h>

#include "book_int.h"

#define RA__BOOK_SYS_BYTES (64u * 1024) /* level arrays larger than this come from malloc */

static uint32_t book_sym_hash(uint64_t key)
{
    return (uint32_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32);
}

static int book_symtab_grow(ra_book *b)
{
    uint32_t slots = b->symtab ? 2 * (b->symmask + 1) : 4096;
    uint32_t *t = calloc(slots, sizeof *t);
    if (!t) return -1;
    free(b->symtab);
    b->symtab = t;
    b->symmask = slots - 1;
    for (uint32_t s = 0; s < b->nsyms; s++) {
        uint32_t i = book_sym_hash(b->syms[s].key) & b->symmask;
        while (t[i]) i = (i + 1) & b->symmask;
        t[i] = s + 1;
    }
    return 0;
}

static uint32_t book_sym_new(ra_book *b, uint64_t key, const char *name, size_t name_len)
{
    if (b->nsyms == b->syms_cap) {
        uint32_t cap = b->syms_cap ? 2 * b->syms_cap : 256;
        ra__book_sym *ns = ra_arena_alloc(b->arena, cap * sizeof *ns, 64);
        if (!ns) return UINT32_MAX;
        if (b->nsyms) memcpy(ns, b->syms, b->nsyms * sizeof *ns);
        b->syms = ns;
        b->syms_cap = cap;
    }
    if ((!b->symtab || 2 * (b->nsyms + 1) > b->symmask + 1) && book_symtab_grow(b) != 0)
        return UINT32_MAX;
    ra__book_sym *s = &b->syms[b->nsyms];
    memset(s, 0, sizeof *s);
    s->key = key;
    if (name_len >= RA_BOOK_NAME_MAX) name_len = RA_BOOK_NAME_MAX - 1;
    memcpy(s->name, name, name_len);
    uint32_t i = book_sym_hash(key) & b->symmask;
    while (b->symtab[i]) i = (i + 1) & b->symmask;
    b->symtab[i] = b->nsyms + 1;
    b->st.symbols = ++b->nsyms;
    return b->nsyms - 1;
}

/* @return the index of the symbol of key, or UINT32_MAX when there is none. */
uint32_t ra__book_sym_find(const ra_book *b, uint64_t key)
{
    if (!b->symtab) return UINT32_MAX;
    uint32_t i = book_sym_hash(key) & b->symmask;
    for (uint32_t s; (s = b->symtab[i]) != 0; i = (i + 1) & b->symmask)
        if (b->syms[s - 1].key == key) return s - 1;
    return UINT32_MAX;
}

/* The symbol of key, created (named name) when new. @return its index, or UINT32_MAX when
 * memory ran out (counted). */
uint32_t ra__book_sym_get(ra_book *b, uint64_t key, const char *name, size_t name_len)
{
    uint32_t s = ra__book_sym_find(b, key);
    if (s != UINT32_MAX) return s;
    s = book_sym_new(b, key, name, name_len);
    if (s == UINT32_MAX) ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
    return s;
}

void ra__book_sym_top(const ra__book_sym *s, ra_book_top *t)
{
    memset(t, 0, sizeof *t);
    const ra__book_side *bd = &s->side[RA_BOOK_BID], *as = &s->side[RA_BOOK_ASK];
    if (bd->n) {
        const ra__book_lvl *l = bd->v[bd->n - 1].l;
        t->bid_px = l->px;
        t->bid_qty = l->qty;
        t->bid_orders = l->count;
    }
    if (as->n) {
        const ra__book_lvl *l = as->v[as->n - 1].l;
        t->ask_px = l->px;
        t->ask_qty = l->qty;
        t->ask_orders = l->count;
    }
}

void ra__book_sides_release(ra_book *b)
{
    for (uint32_t s = 0; s < b->nsyms; s++)
        for (int k = 0; k < 2; k++)
            if (b->syms[s].side[k].sys) free(b->syms[s].side[k].v);
}

/* ---- levels -------------------------------------------------------------------------------- */

static inline int64_t book_key(int side, int64_t px)
{
    return side == RA_BOOK_BID ? px : ~px;
}

/* Index of the first entry whose key is >= key (n when none): scans the best levels first. */
static inline uint32_t book_find(const ra__book_side *sd, int64_t key)
{
    uint32_t n = sd->n, stop = n > RA__BOOK_SCAN ? n - RA__BOOK_SCAN : 0;
    uint32_t i = n;
    while (i > stop && sd->v[i - 1].key >= key) i--;
    if (i > stop || i == 0 || sd->v[i - 1].key < key) return i;
    uint32_t lo = 0, hi = i; /* v[hi-1] >= key is known; binary search in [0, hi) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sd->v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int book_side_grow(ra_book *b, ra__book_side *sd)
{
    uint32_t cap = sd->cap ? 2 * sd->cap : 16;
    size_t bytes = (size_t)cap * sizeof *sd->v;
    ra__book_slot *v;
    int sys = bytes > RA__BOOK_SYS_BYTES;
    v = sys ? malloc(bytes) : ra_arena_alloc(b->arena, bytes, 16);
    if (!v) return -1;
    if (sd->n) memcpy(v, sd->v, sd->n * sizeof *v);
    if (sd->sys) free(sd->v);
    if (sys) b->st.sys_allocs++;
    sd->v = v;
    sd->cap = cap;
    sd->sys = sys;
    return 0;
}

/* The level at px on one side, created when absent. @return it, or NULL (no memory). */
static ra__book_lvl *book_level_get(ra_book *b, ra__book_side *sd, int side, int64_t px)
{
    int64_t key = book_key(side, px);
    if (sd->n && sd->v[sd->n - 1].key == key) return sd->v[sd->n - 1].l; /* the best, most often */
    uint32_t i = book_find(sd, key);
    if (i < sd->n && sd->v[i].key == key) return sd->v[i].l;
    if (sd->n == sd->cap && book_side_grow(b, sd) != 0) return NULL;
    ra__book_lvl *l = b->free_lvls;
    if (l)
        b->free_lvls = (ra__book_lvl *)(void *)l->head;
    else if (!(l = ra_arena_alloc(b->arena, sizeof *l, 8)))
        return NULL;
    l->px = px;
    l->qty = 0;
    l->count = 0;
    l->head = l->tail = NULL;
    memmove(&sd->v[i + 1], &sd->v[i], (sd->n - i) * sizeof *sd->v);
    sd->v[i].key = key;
    sd->v[i].l = l;
    sd->n++;
    if (++b->st.levels > b->st.levels_high_water) b->st.levels_high_water = b->st.levels;
    return l;
}

static void book_level_drop(ra_book *b, ra__book_side *sd, int side, ra__book_lvl *l)
{
    uint32_t i = sd->n - 1; /* most often the best level */
    if (sd->v[i].l != l) i = book_find(sd, book_key(side, l->px));
    memmove(&sd->v[i], &sd->v[i + 1], (sd->n - i - 1) * sizeof *sd->v);
    sd->n--;
    l->head = (ra__book_ord *)(void *)b->free_lvls;
    b->free_lvls = l;
    b->st.levels--;
}

static inline void book_append(ra__book_lvl *l, ra__book_ord *o)
{
    o->lvl = l;
    o->next = NULL;
    o->prev = l->tail;
    if (l->tail)
        l->tail->next = o;
    else
        l->head = o;
    l->tail = o;
    l->qty += o->qty;
    l->count++;
}

/* Unlinks o from its level; drops the level when it empties. */
static inline void book_unlink(ra_book *b, ra__book_ord *o)
{
    ra__book_lvl *l = o->lvl;
    if (o->prev)
        o->prev->next = o->next;
    else
        l->head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        l->tail = o->prev;
    l->qty -= o->qty;
    if (--l->count == 0) book_level_drop(b, &b->syms[o->sym].side[o->side], o->side, l);
}

/* ---- operations ---------------------------------------------------------------------------- */

/* @return RA_OK (a duplicate reference is counted and ignored) or RA_ENOMEM. */
int ra__book_add(ra_book *b, uint32_t sym, uint64_t ref, int side, int64_t px, uint64_t qty)
{
    if (qty == 0 || qty > UINT32_MAX) {
        ra__book_error(b, RA_BOOK_ERR_BAD_ORDER);
        return RA_OK;
    }
    int status = RA_OK;
    ra__book_ord *o = ra__book_ord_alloc(b, &status);
    if (!o) return status;
    if (ra__book_reserve(b) !=
        0) { /* after the alloc: a full pool under fail fast never grows it */
        ra__book_ord_free(b, o);
        return RA_ENOMEM;
    }
    if (ra__book_insert(b, ref, o) != 0) {
        ra__book_ord_free(b, o);
        ra__book_error(b, RA_BOOK_ERR_DUPLICATE_REF);
        return RA_OK;
    }
    ra__book_lvl *l = book_level_get(b, &b->syms[sym].side[side], side, px);
    if (!l) {
        ra__book_erase(b, ra__book_lookup(b, ref));
        ra__book_ord_free(b, o);
        ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
        return RA_ENOMEM;
    }
    o->ref = ref;
    o->qty = (uint32_t)qty;
    o->sym = sym;
    o->side = (uint8_t)side;
    book_append(l, o);
    b->st.adds++;
    if (++b->st.orders_live > b->st.orders_high_water) b->st.orders_high_water = b->st.orders_live;
    return RA_OK;
}

void ra__book_remove(ra_book *b, ra__book_hent *e)
{
    ra__book_ord *o = e->o;
    book_unlink(b, o);
    ra__book_erase(b, e);
    ra__book_ord_free(b, o);
    b->st.orders_live--;
}

/* Takes qty off the order of entry e (execution or cancel): removed when nothing is left; more
 * than it holds counts too_large_kind and removes it. Priority is kept. */
void ra__book_reduce(ra_book *b, ra__book_hent *e, uint64_t qty, int too_large_kind)
{
    ra__book_ord *o = e->o;
    if (qty >= o->qty) {
        if (qty > o->qty) ra__book_error(b, too_large_kind);
        ra__book_remove(b, e);
        return;
    }
    o->qty -= (uint32_t)qty;
    o->lvl->qty -= qty;
}

/* Moves the order of entry e to (new_ref, px, qty) at the back of its new level: same symbol
 * and side. @return RA_OK (a new_ref already live is counted, and the order removed) or
 * RA_ENOMEM (the order is removed). */
int ra__book_move(ra_book *b, ra__book_hent *e, uint64_t new_ref, int64_t px, uint64_t qty)
{
    ra__book_ord *o = e->o;
    book_unlink(b, o);
    if (qty == 0 || qty > UINT32_MAX || (new_ref != o->ref && ra__book_lookup(b, new_ref))) {
        ra__book_error(b, qty == 0 || qty > UINT32_MAX ? RA_BOOK_ERR_BAD_ORDER
                                                       : RA_BOOK_ERR_DUPLICATE_REF);
        ra__book_erase(b, e);
        ra__book_ord_free(b, o);
        b->st.orders_live--;
        return RA_OK;
    }
    ra__book_lvl *l = book_level_get(b, &b->syms[o->sym].side[o->side], o->side, px);
    if (!l) {
        ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
        ra__book_erase(b, e);
        ra__book_ord_free(b, o);
        b->st.orders_live--;
        return RA_ENOMEM;
    }
    if (new_ref != o->ref) {
        ra__book_erase(b, e);
        ra__book_insert(b, new_ref, o);
        o->ref = new_ref;
    }
    o->qty = (uint32_t)qty;
    book_append(l, o);
    return RA_OK;
}

/* Removes every order of symbol sym (MBO clear). */
void ra__book_clear_sym(ra_book *b, uint32_t sym)
{
    for (int k = 0; k < 2; k++) {
        ra__book_side *sd = &b->syms[sym].side[k];
        while (sd->n) {
            ra__book_ord *o = sd->v[sd->n - 1].l->head;
            ra__book_remove(b, ra__book_lookup(b, o->ref));
        }
    }
}

/* The top of sym changed (s->top holds it): counts a book that became crossed and the change,
 * and calls the callback. */
void ra__book_top_changed(ra_book *b, uint32_t sym)
{
    ra__book_sym *s = &b->syms[sym];
    const ra__book_top1 *bd = &s->top[RA_BOOK_BID], *as = &s->top[RA_BOOK_ASK];
    int crossed = bd->qty && as->qty && bd->px >= as->px;
    if (crossed && !s->crossed) ra__book_error(b, RA_BOOK_ERR_CROSSED);
    s->crossed = crossed;
    b->st.bbo_changes++;
    if (!b->bbo) return;
    ra_book_top t = {.bid_px = bd->px,
                     .bid_qty = bd->qty,
                     .bid_orders = (uint32_t)bd->n,
                     .ask_px = as->px,
                     .ask_qty = as->qty,
                     .ask_orders = (uint32_t)as->n};
    b->bbo(b->bbo_ctx, sym, s->name, b->ts, &t);
}
