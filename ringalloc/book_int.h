/* book_int.h - internal: the order book's structures, shared by book*.c */
#ifndef RINGALLOC_BOOK_INT_H
#define RINGALLOC_BOOK_INT_H

#include <stdint.h>

#include "osmem.h"
#include "ringalloc/book.h"

#define RA__BOOK_MALLOCED 0xFFFFu /* ra__book_ord.pool of an order from malloc */
#define RA__BOOK_SCAN     8u      /* levels scanned from the best before a binary search */
/* Orders the order table is first sized for (without RA_BOOK_PREFAULT): it doubles as the live
 * orders grow, so a small feed touches little memory whatever max_orders is. */
#define RA__BOOK_TABLE_START (1u << 14)
/* Until the table has its size for max_orders, an insert that probes further than this doubles
 * it (ra__book_reserve). */
#define RA__BOOK_PROBE_MAX 32u

typedef struct ra__book_ord ra__book_ord;

/* A price level: its orders in time priority (head trades first). On the free list `head`
 * links the next free level. */
typedef struct ra__book_lvl {
    int64_t px;
    uint64_t qty;
    uint32_t count;
    ra__book_ord *head, *tail;
} ra__book_lvl;

/* An order: one pool block (48 bytes). Its price is its level's. */
struct ra__book_ord {
    uint64_t ref;
    ra__book_ord *prev, *next;
    ra__book_lvl *lvl;
    uint32_t qty;
    uint32_t sym;
    uint8_t side;
    uint16_t pool; /* index of the pool that owns it, or RA__BOOK_MALLOCED */
};

/* One entry of a side's level array: sorted by key ascending, the best level last. The key is
 * the price for bids and ~price for asks, so that "higher key = better" on both sides. */
typedef struct ra__book_slot {
    int64_t key;
    ra__book_lvl *l;
} ra__book_slot;

typedef struct ra__book_side {
    ra__book_slot *v;
    uint32_t n, cap;
    int sys; /* v came from malloc (a large array): freed at reset */
} ra__book_side;

/* The top of one side as the last message left it: px, qty and orders of its best level (all 0
 * when the side is empty). */
typedef struct ra__book_top1 {
    int64_t px;
    uint64_t qty;
    uint64_t n;
} ra__book_top1;

typedef struct ra__book_sym {
    uint64_t key; /* ITCH: the 8-byte stock field; DBN: instrument id | 2^63 */
    ra__book_side side[2];
    ra__book_top1 top[2]; /* the current top (kept by ra__book_touch) */
    int crossed;
    char name[RA_BOOK_NAME_MAX];
} ra__book_sym;

typedef struct ra__book_hent {
    uint64_t ref;
    ra__book_ord *o; /* NULL: empty slot */
} ra__book_hent;

typedef struct ra__book_name {
    uint32_t id;
    char name[RA_BOOK_NAME_MAX];
} ra__book_name;

typedef struct ra__book_saved {
    char name[RA_BOOK_NAME_MAX];
    ra_book_top top;
} ra__book_saved;

struct ra_book {
    ra_book_config cfg;
    ra_pool **pools;
    uint32_t npools, cur;
    ra__book_hent *tab;       /* order table, open addressing with linear probing */
    struct ra__region tabreg; /* its memory (huge pages or THP when available) */
    uint64_t mask;            /* slots - 1 */
    unsigned shift;           /* log2(slots) */
    uint64_t maxd;       /* longest displacement from a home slot since the table was cleared */
    uint64_t maxd_limit; /* a longer one doubles the table (RA__BOOK_PROBE_MAX until full size) */
    ra_arena *arena;
    ra__book_sym *syms; /* arena */
    uint32_t nsyms, syms_cap;
    uint32_t *symtab; /* key hash -> sym + 1 (malloc) */
    uint32_t symmask;
    uint32_t *locate; /* ITCH stock locate -> sym + 1 (a cache checked against the key) */
    ra__book_lvl *free_lvls;
    uint64_t malloced_live; /* live orders from malloc (RA_BOOK_MALLOC or fallbacks) */
    uint64_t ts;            /* timestamp of the message being applied */
    ra_book_bbo_fn bbo;
    void *bbo_ctx;
    ra__book_name *names; /* DBN instrument names (malloc, kept across resets) */
    size_t nnames, names_cap;
    ra__book_saved *saved; /* tops just before the last reset (malloc) */
    size_t nsaved;
    ra_book_stats st; /* the counters (pool/arena parts filled by ra_book_get_stats) */
};

/* The home slot of ref: its low bits folded with the next ones. Feeds number orders in sequence
 * (ITCH references grow through the day) and act mostly on recent orders, so the orders touched
 * at one time sit in consecutive slots: few pages and cache lines. */
static inline uint64_t ra__book_home(const ra_book *b, uint64_t ref)
{
    return (ref ^ (ref >> b->shift)) & b->mask;
}

/* book.c: orders and the order table */
ra__book_ord *ra__book_ord_slow(ra_book *b, int *status);
void ra__book_ord_free_malloced(ra_book *b, ra__book_ord *o);
int ra__book_grow_table(ra_book *b);
int ra__book_insert(ra_book *b, uint64_t ref, ra__book_ord *o);
void ra__book_erase(ra_book *b, ra__book_hent *e);
void ra__book_error(ra_book *b, int kind);

/* Every entry lies at most b->maxd slots past its home (the longest displacement an insert made
 * since the table was last cleared): a look-up stops there, and so does the backward shift of a
 * deletion, even inside a long run of consecutive references.
 * @return the entry of ref, or NULL when it is not live. */
static inline ra__book_hent *ra__book_lookup(const ra_book *b, uint64_t ref)
{
    uint64_t i = ra__book_home(b, ref);
    for (uint64_t d = 0; d <= b->maxd; d++, i = (i + 1) & b->mask) {
        ra__book_hent *e = &b->tab[i];
        if (e->o == NULL) return NULL;
        if (e->ref == ref) return e;
    }
    return NULL;
}

/* Makes room for one more order in the table (ra__book_grow_table() when it must grow).
 * @return 0, or -1 when it had to grow and could not (counted). */
static inline int ra__book_reserve(ra_book *b)
{
    if (__builtin_expect(2 * (b->st.orders_live + 1) <= b->mask + 1 && b->maxd <= b->maxd_limit, 1))
        return 0;
    return ra__book_grow_table(b);
}

/* An order block from the pool that served last (inline), else ra__book_ord_slow().
 * @return it, or NULL with *status RA_ENOMEM (counted). */
static inline ra__book_ord *ra__book_ord_alloc(ra_book *b, int *status)
{
    if (__builtin_expect(b->npools != 0, 1)) {
        ra__book_ord *o = ra_pool_alloc(b->pools[b->cur]);
        if (__builtin_expect(o != NULL, 1)) {
            o->pool = (uint16_t)b->cur;
            return o;
        }
    }
    return ra__book_ord_slow(b, status);
}

static inline void ra__book_ord_free(ra_book *b, ra__book_ord *o)
{
    if (__builtin_expect(o->pool != RA__BOOK_MALLOCED, 1))
        ra_pool_free(b->pools[o->pool], o);
    else
        ra__book_ord_free_malloced(b, o);
}

/* book_level.c: symbols, levels and the book operations */
uint32_t ra__book_sym_find(const ra_book *b, uint64_t key);
uint32_t ra__book_sym_get(ra_book *b, uint64_t key, const char *name, size_t name_len);
void ra__book_sym_top(const ra__book_sym *s, ra_book_top *t);
int ra__book_add(ra_book *b, uint32_t sym, uint64_t ref, int side, int64_t px, uint64_t qty);
void ra__book_reduce(ra_book *b, ra__book_hent *e, uint64_t qty, int too_large_kind);
void ra__book_remove(ra_book *b, ra__book_hent *e);
int ra__book_move(ra_book *b, ra__book_hent *e, uint64_t new_ref, int64_t px, uint64_t qty);
void ra__book_clear_sym(ra_book *b, uint32_t sym);
void ra__book_top_changed(ra_book *b, uint32_t sym);
void ra__book_sides_release(ra_book *b);

/* Reads side k's best level again into s->top[k]. @return 1 when it changed, else 0. */
static inline int ra__book_side_moved(ra__book_sym *s, int k)
{
    const ra__book_side *sd = &s->side[k];
    ra__book_top1 now = {0, 0, 0}, *t = &s->top[k];
    if (sd->n) {
        const ra__book_lvl *l = sd->v[sd->n - 1].l;
        now.px = l->px;
        now.qty = l->qty;
        now.n = l->count;
    }
    if ((((uint64_t)t->px ^ (uint64_t)now.px) | (t->qty ^ now.qty) | (t->n ^ now.n)) == 0) return 0;
    *t = now;
    return 1;
}

/* After a message on one side of sym (side -1: either side may have changed): a changed top goes
 * to ra__book_top_changed() (crossing, count, callback). Only the side the message touched is
 * read again: s->top always holds the current top. */
static inline void ra__book_touch(ra_book *b, uint32_t sym, int side)
{
    ra__book_sym *s = &b->syms[sym];
    int changed = side >= 0 ? ra__book_side_moved(s, side)
                            : ra__book_side_moved(s, 0) | ra__book_side_moved(s, 1);
    if (changed) ra__book_top_changed(b, sym);
}

#endif /* RINGALLOC_BOOK_INT_H */
