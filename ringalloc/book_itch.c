/* book_itch.c - order book: applying ITCH 5.0 messages (R, S, A/F, E, C, X, D, U) */
/*
 * Every message starts with type (1), stock locate (2), tracking number (2) and a 48-bit
 * timestamp (6); the fields below are offsets from the type byte, big-endian. A message
 * shorter than its type's layout counts short_message and is ignored; longer is accepted.
 * The A/F stock field names the symbol: the stock locate only caches the lookup (checked
 * against the 8-byte field), so a feed without R messages still gets its symbols.
 */
#include <string.h>

#include "book_int.h"
#include "ringalloc/byteorder.h"

enum {
    ITCH_LOCATE = 1,
    ITCH_TS = 5,
    ITCH_REF = 11, /* A F E C X D: order reference; U: original reference */
    ITCH_ADD_SIDE = 19,
    ITCH_ADD_SHARES = 20,
    ITCH_ADD_STOCK = 24,
    ITCH_ADD_PRICE = 32,
    ITCH_EXEC_SHARES = 19, /* E C X */
    ITCH_U_NEW_REF = 19,
    ITCH_U_SHARES = 27,
    ITCH_U_PRICE = 31,
    ITCH_S_EVENT = 11,
    ITCH_R_STOCK = 11,
};

/* Minimal length of each booked type (0: not booked). */
static const uint8_t itch_min_len[128] = {
    ['S'] = 12, ['R'] = 39, ['A'] = 36, ['F'] = 40, ['E'] = 31,
    ['C'] = 36, ['X'] = 23, ['D'] = 19, ['U'] = 35};

static uint64_t itch_stock_key(const uint8_t *p)
{
    uint64_t k;
    memcpy(&k, p, sizeof k);
    return k;
}

static size_t itch_stock_len(const uint8_t *p)
{
    size_t n = 8;
    while (n && (p[n - 1] == ' ' || p[n - 1] == 0)) n--;
    return n;
}

/* The symbol of the stock field at p (locate cache first). @return UINT32_MAX on no memory. */
static uint32_t itch_sym(ra_book *b, const uint8_t *m, const uint8_t *stock)
{
    uint64_t key = itch_stock_key(stock);
    unsigned loc = ra_load_be16(m + ITCH_LOCATE);
    uint32_t c = b->locate[loc];
    if (c && b->syms[c - 1].key == key) return c - 1;
    uint32_t s = ra__book_sym_get(b, key, (const char *)stock, itch_stock_len(stock));
    if (s != UINT32_MAX) b->locate[loc] = s + 1;
    return s;
}

static int itch_add(ra_book *b, const uint8_t *m)
{
    unsigned sc = m[ITCH_ADD_SIDE];
    if (sc != 'B' && sc != 'S') {
        ra__book_error(b, RA_BOOK_ERR_BAD_ORDER);
        return RA_OK;
    }
    uint32_t sym = itch_sym(b, m, m + ITCH_ADD_STOCK);
    if (sym == UINT32_MAX) return RA_ENOMEM;
    int side = sc == 'B' ? RA_BOOK_BID : RA_BOOK_ASK;
    int rc =
        ra__book_add(b, sym, ra_load_be64(m + ITCH_REF), side,
                     (int64_t)ra_load_be32(m + ITCH_ADD_PRICE), ra_load_be32(m + ITCH_ADD_SHARES));
    ra__book_touch(b, sym, side);
    return rc;
}

/* E, C, X, D: take shares off an order (all of them for D). */
static int itch_reduce(ra_book *b, const uint8_t *m, unsigned t)
{
    ra__book_hent *e = ra__book_lookup(b, ra_load_be64(m + ITCH_REF));
    if (!e) {
        ra__book_error(b, RA_BOOK_ERR_UNKNOWN_REF);
        return RA_OK;
    }
    uint32_t sym = e->o->sym;
    int side = e->o->side;
    if (t == 'D') {
        ra__book_remove(b, e);
        b->st.deletes++;
    } else if (t == 'X') {
        ra__book_reduce(b, e, ra_load_be32(m + ITCH_EXEC_SHARES), RA_BOOK_ERR_CANCEL_TOO_LARGE);
        b->st.cancels++;
    } else {
        ra__book_reduce(b, e, ra_load_be32(m + ITCH_EXEC_SHARES), RA_BOOK_ERR_EXEC_TOO_LARGE);
        b->st.executions++;
    }
    ra__book_touch(b, sym, side);
    return RA_OK;
}

static int itch_replace(ra_book *b, const uint8_t *m)
{
    ra__book_hent *e = ra__book_lookup(b, ra_load_be64(m + ITCH_REF));
    if (!e) {
        ra__book_error(b, RA_BOOK_ERR_REPLACE_MISSING);
        return RA_OK;
    }
    uint32_t sym = e->o->sym;
    int side = e->o->side;
    int rc =
        ra__book_move(b, e, ra_load_be64(m + ITCH_U_NEW_REF),
                      (int64_t)ra_load_be32(m + ITCH_U_PRICE), ra_load_be32(m + ITCH_U_SHARES));
    b->st.replaces++;
    ra__book_touch(b, sym, side);
    return rc;
}

static int itch_directory(ra_book *b, const uint8_t *m)
{
    return itch_sym(b, m, m + ITCH_R_STOCK) == UINT32_MAX ? RA_ENOMEM : RA_OK;
}

int ra_book_itch(ra_book *b, const void *msg, size_t len)
{
    if (!b || !msg || len == 0) return RA_EINVAL;
    const uint8_t *m = msg;
    unsigned t = m[0];
    b->st.messages++;
    if (t < 128) b->st.itch[t]++;
    size_t need = t < 128 ? itch_min_len[t] : 0;
    if (need == 0) {
        b->st.not_booked++;
        return RA_OK;
    }
    if (len < need) {
        ra__book_error(b, RA_BOOK_ERR_SHORT);
        return RA_OK;
    }
    b->ts = ra_load_be48(m + ITCH_TS);
    switch (t) {
    case 'A':
    case 'F':
        return itch_add(b, m);
    case 'E':
    case 'C':
    case 'X':
    case 'D':
        return itch_reduce(b, m, t);
    case 'U':
        return itch_replace(b, m);
    case 'R':
        return itch_directory(b, m);
    default: /* 'S' */
        if (m[ITCH_S_EVENT] == 'C') ra_book_reset(b);
        return RA_OK;
    }
}

/* ---- many messages, with prefetch ---------------------------------------------------------- */

/* The order reference a message acts on (E, C, X, D, U), or 0. */
static inline uint64_t itch_target(const void *msg, size_t len)
{
    const uint8_t *m = msg;
    unsigned t = len >= 19 ? m[0] : 0;
    return t == 'E' || t == 'C' || t == 'X' || t == 'D' || t == 'U' ? ra_load_be64(m + ITCH_REF)
                                                                    : 0;
}

/* Stage 1: the table slot; stage 2: the order, when the slot holds it; stage 3: its level and
 * its neighbours in the queue. Prefetches change nothing: a stale guess costs only a load. */
static inline void itch_prefetch(const ra_book *b, const void *msg, size_t len, int stage)
{
    uint64_t ref = itch_target(msg, len);
    if (!ref) return;
    const ra__book_hent *e = &b->tab[ra__book_home(b, ref)];
    if (stage == 1) {
        __builtin_prefetch(e);
        return;
    }
    const ra__book_ord *o = e->ref == ref ? e->o : NULL;
    if (!o) return;
    if (stage == 2) {
        __builtin_prefetch(o);
        return;
    }
    __builtin_prefetch(o->lvl);
    if (o->prev) __builtin_prefetch(o->prev);
    if (o->next) __builtin_prefetch(o->next);
}

int ra_book_itch_many(ra_book *b, const void *const *msgs, const size_t *lens, size_t n)
{
    if (!b || (n && (!msgs || !lens))) return RA_EINVAL;
    int rc = RA_OK;
    for (size_t i = 0; i < n; i++) {
        if (i + 12 < n) itch_prefetch(b, msgs[i + 12], lens[i + 12], 1);
        if (i + 6 < n) itch_prefetch(b, msgs[i + 6], lens[i + 6], 2);
        if (i + 2 < n) itch_prefetch(b, msgs[i + 2], lens[i + 2], 3);
        int r = ra_book_itch(b, msgs[i], lens[i]);
        if (r != RA_OK) rc = r;
    }
    return rc;
}
