/* book_mbo.c - order book: applying DBN MBO records (add, cancel, modify, trade, fill, clear) */
/*
 * The record (rtype 0xA0, 56 bytes, little-endian): header length (1, in 4-byte words), rtype
 * (1), publisher_id (2), instrument_id (4), ts_event (8); then order_id (8) at 16, price (i64,
 * 1e-9) at 24, size (4) at 32, flags (1) at 36, channel_id (1) at 37, action (1) at 38, side (1)
 * at 39 ('B' bid, 'A' ask, 'N' none). The semantics follow Databento's reference book: trades and
 * fills leave the book alone (the venue follows a fill with the cancel that removes the
 * quantity), a modify of an unknown order adds it, a modify keeps its priority only when the
 * price stays and the size does not grow.
 */
#include <stdio.h>

#include "book_int.h"
#include "ringalloc/byteorder.h"

#define MBO_LEN   56u
#define MBO_RTYPE 0xA0u

enum {
    MBO_RT = 1,
    MBO_INSTR = 4,
    MBO_TS = 8,
    MBO_ID = 16,
    MBO_PX = 24,
    MBO_SIZE = 32,
    MBO_ACTION = 38,
    MBO_SIDE = 39,
};

/* The symbol of an instrument, named from ra_book_name_instrument() or by its number. */
static uint32_t mbo_sym(ra_book *b, uint32_t id)
{
    uint64_t key = (UINT64_C(1) << 63) | id;
    uint32_t s = ra__book_sym_find(b, key);
    if (s != UINT32_MAX) return s;
    char name[RA_BOOK_NAME_MAX];
    int n = 0;
    size_t i = 0;
    while (i < b->nnames && b->names[i].id != id) i++;
    if (i < b->nnames)
        n = snprintf(name, sizeof name, "%s", b->names[i].name);
    else
        n = snprintf(name, sizeof name, "%u", (unsigned)id);
    return ra__book_sym_get(b, key, name, (size_t)n);
}

/* M: new price and size for a live order. */
static int mbo_modify(ra_book *b, ra__book_hent *e, int64_t px, uint64_t size)
{
    ra__book_ord *o = e->o;
    if (px == o->lvl->px && size <= o->qty && size > 0) {
        ra__book_reduce(b, e, o->qty - size, RA_BOOK_ERR_CANCEL_TOO_LARGE);
        return RA_OK;
    }
    return ra__book_move(b, e, o->ref, px, size);
}

static int mbo_apply(ra_book *b, const uint8_t *r, unsigned action, uint32_t sym)
{
    uint64_t id = ra_load_le64(r + MBO_ID), size = ra_load_le32(r + MBO_SIZE);
    int64_t px = (int64_t)ra_load_le64(r + MBO_PX);
    unsigned sc = r[MBO_SIDE];
    int side = sc == 'B' ? RA_BOOK_BID : RA_BOOK_ASK;
    ra__book_hent *e = action == 'A' ? NULL : ra__book_lookup(b, id);
    if (e && e->o->sym != sym) e = NULL; /* another instrument's order: not this one */
    switch (action) {
    case 'A':
        if (sc != 'B' && sc != 'A') break;
        return ra__book_add(b, sym, id, side, px, size);
    case 'C':
        if (!e) {
            ra__book_error(b, RA_BOOK_ERR_UNKNOWN_REF);
            return RA_OK;
        }
        ra__book_reduce(b, e, size, RA_BOOK_ERR_CANCEL_TOO_LARGE);
        b->st.cancels++;
        return RA_OK;
    default: /* 'M' */
        b->st.replaces++;
        if (e) return mbo_modify(b, e, px, size);
        ra__book_error(b, RA_BOOK_ERR_REPLACE_MISSING);
        if (sc != 'B' && sc != 'A') break;
        return ra__book_add(b, sym, id, side, px, size);
    }
    ra__book_error(b, RA_BOOK_ERR_BAD_ORDER);
    return RA_OK;
}

int ra_book_mbo(ra_book *b, const void *rec, size_t len)
{
    if (!b || !rec || len == 0) return RA_EINVAL;
    const uint8_t *r = rec;
    b->st.messages++;
    if (len < MBO_LEN || (size_t)r[0] * 4 < MBO_LEN) {
        ra__book_error(b, RA_BOOK_ERR_SHORT);
        return RA_OK;
    }
    unsigned action = r[MBO_ACTION];
    if (action < 128) b->st.mbo[action]++;
    if (r[MBO_RT] != MBO_RTYPE) {
        ra__book_error(b, RA_BOOK_ERR_BAD_ACTION);
        return RA_OK;
    }
    b->ts = ra_load_le64(r + MBO_TS);
    if (action == 'T' || action == 'F' || action == 'N') {
        b->st.not_booked++;
        return RA_OK;
    }
    if (action != 'A' && action != 'C' && action != 'M' && action != 'R') {
        ra__book_error(b, RA_BOOK_ERR_BAD_ACTION);
        return RA_OK;
    }
    uint32_t sym = mbo_sym(b, ra_load_le32(r + MBO_INSTR));
    if (sym == UINT32_MAX) return RA_ENOMEM;
    int rc = RA_OK;
    if (action == 'R')
        ra__book_clear_sym(b, sym);
    else
        rc = mbo_apply(b, r, action, sym);
    ra__book_touch(b, sym, -1);
    return rc;
}
