/* book.c - order book: create, destroy, session reset, order memory and the order table */
/*
 * Design notes (docs/book.md has the rest):
 * - Orders are 48-byte blocks of ra_pool (fast-path inline alloc/free). RA_BOOK_GROW keeps a
 *   list of pools: allocation tries the pool that served last, then every pool, then adds one
 *   of grow_orders blocks. Each order records the index of its pool, so a free goes straight to
 *   it. RA_BOOK_FALLBACK and RA_BOOK_MALLOC take orders from malloc (pool index
 *   RA__BOOK_MALLOCED).
 * - The order table maps a reference to its order: open addressing with linear probing over
 *   2^k slots, kept at most half full; deletion shifts the following entries back (no
 *   tombstones), so probe chains never grow with churn. It starts sized for
 *   RA__BOOK_TABLE_START orders (for max_orders at once under RA_BOOK_PREFAULT) and doubles when
 *   the live orders would pass half of it: set-up costs the same for any max_orders, and a small
 *   feed touches little memory. The pool is lazy too (blocks are carved as they are first used),
 *   so max_orders is a capacity, not memory taken up front.
 * - Reset: orders from malloc are freed by walking the table (fallbacks are rare; the
 *   RA_BOOK_MALLOC variant exists for comparisons), the table is cleared, the pools are
 *   recreated when orders were still live (the pool has no bulk free: a new pool is the
 *   emptied one), and the arena is reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book_int.h"
#include "osmem.h"

static int book_pool_add(ra_book *b, size_t blocks)
{
    if (b->npools >= RA__BOOK_MALLOCED - 1) return RA_ENOMEM;
    ra_pool **np = realloc(b->pools, (b->npools + 1) * sizeof *np);
    if (!np) return RA_ENOMEM;
    b->pools = np;
    uint32_t pf = 0;
    if (b->cfg.flags & RA_BOOK_HUGEPAGES) pf |= RA_POOL_HUGEPAGES;
    if (b->cfg.flags & RA_BOOK_PREFAULT) pf |= RA_POOL_PREFAULT;
    ra_pool_config pc = {.block_size = sizeof(ra__book_ord),
                         .align = 16,
                         .capacity = blocks,
                         .flags = pf,
                         .on_empty = RA_ON_EMPTY_NULL,
                         .name = "book-orders"};
    int rc = ra_pool_create(&b->pools[b->npools], &pc);
    if (rc != RA_OK) return rc;
    b->st.capacity += blocks;
    b->cur = b->npools++;
    return RA_OK;
}

static void book_pools_destroy(ra_book *b)
{
    for (uint32_t i = 0; i < b->npools; i++) ra_pool_destroy(b->pools[i]);
    b->npools = 0;
    b->cur = 0;
    b->st.capacity = 0;
}

static void book_place(ra_book *b, ra__book_hent *t, uint64_t ref, ra__book_ord *o);

static int book_table_alloc(ra_book *b, uint64_t orders)
{
    uint64_t slots = 16;
    unsigned shift = 4;
    for (; slots < 2 * orders; shift++) slots <<= 1;
    struct ra__region reg, old_reg = b->tabreg;
    uint32_t opts = RA__REGION_HUGE | (b->cfg.flags & RA_BOOK_PREFAULT ? RA__REGION_PREFAULT : 0);
    if (!ra__region_get(&reg, slots * sizeof(ra__book_hent), 64, opts)) return RA_ENOMEM;
    ra__book_hent *t = reg.base, *old = b->tab; /* an anonymous mapping: zeroed */
    b->tabreg = reg;
    uint64_t old_slots = old ? b->mask + 1 : 0;
    b->tab = t;
    b->mask = slots - 1;
    b->shift = shift;
    b->maxd = 0;
    b->maxd_limit = slots < 2 * (uint64_t)b->cfg.max_orders ? RA__BOOK_PROBE_MAX : UINT64_MAX;
    for (uint64_t i = 0; i < old_slots; i++) /* rehash (growth only) */
        if (old[i].o) book_place(b, t, old[i].ref, old[i].o);
    ra__region_put(&old_reg);
    return RA_OK;
}

int ra_book_create(ra_book **out, const ra_book_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    ra_book_config c = cfg ? *cfg : (ra_book_config){0};
    if (c.max_orders == 0) c.max_orders = RA_BOOK_DEFAULT_ORDERS;
    if (c.grow_orders == 0) c.grow_orders = c.max_orders / 4 ? c.max_orders / 4 : 1;
    if (c.arena_chunk == 0) c.arena_chunk = 1u << 20;
    if (c.on_empty < RA_BOOK_FAIL || c.on_empty > RA_BOOK_GROW ||
        (c.flags & ~(uint32_t)(RA_BOOK_HUGEPAGES | RA_BOOK_PREFAULT | RA_BOOK_MALLOC)) ||
        c.max_orders >= (UINT64_C(1) << 31) || c.grow_orders >= (UINT64_C(1) << 31))
        return RA_EINVAL;
    ra_book *b = calloc(1, sizeof *b);
    if (!b) return RA_ENOMEM;
    b->cfg = c;
    b->st.complete = true;
    ra_arena_config ac = {.chunk_size = c.arena_chunk, .name = "book-session"};
    int rc = ra_arena_create(&b->arena, &ac);
    if (rc == RA_OK) /* lazy: a small table that doubles with the live orders (ra__book_reserve) */
        rc = book_table_alloc(b, c.flags & RA_BOOK_PREFAULT || c.max_orders < RA__BOOK_TABLE_START
                                     ? c.max_orders
                                     : RA__BOOK_TABLE_START);
    if (rc == RA_OK && !(c.flags & RA_BOOK_MALLOC)) rc = book_pool_add(b, c.max_orders);
    if (rc == RA_OK && c.flags & RA_BOOK_MALLOC) b->st.capacity = c.max_orders;
    b->locate = rc == RA_OK ? calloc(65536, sizeof *b->locate) : NULL;
    if (rc == RA_OK && !b->locate) rc = RA_ENOMEM;
    if (rc != RA_OK) {
        ra_book_destroy(b);
        return rc;
    }
    *out = b;
    return RA_OK;
}

/* Frees the orders that came from malloc (walking the table), then clears the table unless the
 * book is going away (clear false). */
static void book_orders_drop(ra_book *b, bool clear)
{
    if (b->st.orders_live == 0) return;
    for (uint64_t i = 0; b->malloced_live && i <= b->mask; i++)
        if (b->tab[i].o && b->tab[i].o->pool == RA__BOOK_MALLOCED) {
            free(b->tab[i].o);
            b->malloced_live--;
        }
    if (!clear) return;
    memset(b->tab, 0, (b->mask + 1) * sizeof *b->tab);
    b->maxd = 0;
}

void ra_book_destroy(ra_book *b)
{
    if (!b) return;
    if (b->tab) book_orders_drop(b, false);
    ra__book_sides_release(b);
    book_pools_destroy(b);
    free(b->pools);
    ra__region_put(&b->tabreg);
    free(b->symtab);
    free(b->locate);
    free(b->names);
    free(b->saved);
    ra_arena_destroy(b->arena);
    free(b);
}

static void book_save_tops(ra_book *b)
{
    if (b->nsyms == 0) return;
    ra__book_saved *sv = realloc(b->saved, b->nsyms * sizeof *sv);
    if (!sv) {
        ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
        return;
    }
    b->saved = sv;
    for (uint32_t i = 0; i < b->nsyms; i++) {
        memcpy(sv[i].name, b->syms[i].name, sizeof sv[i].name);
        ra__book_sym_top(&b->syms[i], &sv[i].top);
    }
    b->nsaved = b->nsyms;
}

void ra_book_reset(ra_book *b)
{
    if (!b) return;
    book_save_tops(b);
    uint64_t live = b->st.orders_live;
    book_orders_drop(b, true);
    ra__book_sides_release(b);
    if (live && !(b->cfg.flags & RA_BOOK_MALLOC)) {
        book_pools_destroy(b);
        if (book_pool_add(b, b->cfg.max_orders) != RA_OK) ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
    }
    if (b->symtab) memset(b->symtab, 0, ((size_t)b->symmask + 1) * sizeof *b->symtab);
    memset(b->locate, 0, 65536 * sizeof *b->locate);
    ra_arena_reset(b->arena);
    b->syms = NULL;
    b->nsyms = b->syms_cap = 0;
    b->free_lvls = NULL;
    b->st.orders_live = b->st.levels = b->st.symbols = 0;
    b->st.sessions++;
}

void ra_book_mark_incomplete(ra_book *b, uint64_t missed)
{
    if (!b) return;
    b->st.complete = false;
    b->st.missed += missed;
}

void ra_book_on_bbo(ra_book *b, ra_book_bbo_fn fn, void *ctx)
{
    if (!b) return;
    b->bbo = fn;
    b->bbo_ctx = ctx;
}

void ra__book_error(ra_book *b, int kind)
{
    b->st.errors[kind]++;
    b->st.errors_total++;
}

/* ---- order memory -------------------------------------------------------------------------- */

static ra__book_ord *book_ord_malloc(ra_book *b, int *status)
{
    ra__book_ord *o = malloc(sizeof *o);
    if (!o) {
        ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
        *status = RA_ENOMEM;
        return NULL;
    }
    o->pool = RA__BOOK_MALLOCED;
    b->malloced_live++;
    return o;
}

/* The pool that served last is empty: try the other pools, then on_empty. */
ra__book_ord *ra__book_ord_slow(ra_book *b, int *status)
{
    for (uint32_t i = 0; i < b->npools; i++) {
        ra__book_ord *o = ra_pool_alloc(b->pools[i]);
        if (o) {
            b->cur = i;
            o->pool = (uint16_t)i;
            return o;
        }
    }
    if (b->cfg.on_empty == RA_BOOK_FALLBACK || (b->cfg.flags & RA_BOOK_MALLOC)) {
        ra__book_ord *o = book_ord_malloc(b, status);
        if (o && !(b->cfg.flags & RA_BOOK_MALLOC)) b->st.fallbacks++;
        return o;
    }
    if (b->cfg.on_empty == RA_BOOK_GROW) {
        if (book_pool_add(b, b->cfg.grow_orders) == RA_OK) {
            b->st.grows++;
            ra__book_ord *o = ra_pool_alloc(b->pools[b->cur]);
            if (o) o->pool = (uint16_t)b->cur;
            if (o) return o;
        }
        ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
        *status = RA_ENOMEM;
        return NULL;
    }
    ra__book_error(b, RA_BOOK_ERR_POOL_FULL);
    *status = RA_ENOMEM;
    return NULL;
}

void ra__book_ord_free_malloced(ra_book *b, ra__book_ord *o)
{
    b->malloced_live--;
    free(o);
}

/* ---- the order table ----------------------------------------------------------------------- */

/* Puts (ref, o) in the first free slot from ref's home. */
static void book_place(ra_book *b, ra__book_hent *t, uint64_t ref, ra__book_ord *o)
{
    uint64_t i = ra__book_home(b, ref), d = 0;
    for (; t[i].o; d++) i = (i + 1) & b->mask;
    t[i].ref = ref;
    t[i].o = o;
    if (d > b->maxd) b->maxd = d;
}

/* The slow part of ra__book_reserve(): the table doubles before it would be more than half
 * full, and while it is smaller than its size for max_orders, also when an insert had to probe
 * more than RA__BOOK_PROBE_MAX slots (references that wrap a small table many times cluster).
 * @return 0, or -1 when it could not grow (counted). */
int ra__book_grow_table(ra_book *b)
{
    if (book_table_alloc(b, b->mask + 1) == RA_OK) return 0;
    ra__book_error(b, RA_BOOK_ERR_NO_MEMORY);
    return -1;
}

/* One probe from ref's home to the first free slot: a live ref lies before it.
 * @return 0, or -1 when ref is already in the table (nothing changed). */
int ra__book_insert(ra_book *b, uint64_t ref, ra__book_ord *o)
{
    ra__book_hent *t = b->tab;
    uint64_t i = ra__book_home(b, ref), d = 0;
    for (; t[i].o; d++, i = (i + 1) & b->mask)
        if (t[i].ref == ref) return -1;
    t[i].ref = ref;
    t[i].o = o;
    if (d > b->maxd) b->maxd = d;
    return 0;
}

/* Backward-shift deletion: a later entry moves into the hole when its home slot does not lie
 * cyclically in (hole, its slot]; only entries at most maxd past the hole can. */
void ra__book_erase(ra_book *b, ra__book_hent *e)
{
    uint64_t hole = (uint64_t)(e - b->tab), i = hole;
    for (;;) {
        i = (i + 1) & b->mask;
        ra__book_hent *n = &b->tab[i];
        if (n->o == NULL || ((i - hole) & b->mask) > b->maxd) break;
        uint64_t home = ra__book_home(b, n->ref);
        if (((i - home) & b->mask) >= ((i - hole) & b->mask)) {
            b->tab[hole] = *n;
            hole = i;
        }
    }
    b->tab[hole].o = NULL;
}

int ra_book_name_instrument(ra_book *b, uint32_t instrument_id, const char *name)
{
    if (!b || !name) return RA_EINVAL;
    size_t i = 0;
    while (i < b->nnames && b->names[i].id != instrument_id) i++;
    if (i == b->nnames) {
        if (b->nnames == b->names_cap) {
            size_t cap = b->names_cap ? 2 * b->names_cap : 16;
            ra__book_name *nn = realloc(b->names, cap * sizeof *nn);
            if (!nn) return RA_ENOMEM;
            b->names = nn;
            b->names_cap = cap;
        }
        b->nnames++;
        b->names[i].id = instrument_id;
    }
    snprintf(b->names[i].name, sizeof b->names[i].name, "%s", name);
    uint64_t key = (UINT64_C(1) << 63) | instrument_id;
    for (uint32_t s = 0; s < b->nsyms; s++)
        if (b->syms[s].key == key) memcpy(b->syms[s].name, b->names[i].name, RA_BOOK_NAME_MAX);
    return RA_OK;
}
