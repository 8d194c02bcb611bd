/* gen_dbn.c - `replay gen --format dbn`: a deterministic synthetic DBN v3 MBO file
 *
 * Design notes
 * - The same choices as the pcap generator where they apply: one splitmix64 stream seeded with
 *   --seed (rp_gen_rand), the same symbol names (rp_gen_symbol), the session starting at 09:30
 *   US/Eastern on 2024-01-02, each record 1..20000 ns after the one before. Same options, same
 *   bytes.
 * - Metadata: dataset "RPGEN.SYNTH", schema mbo, stype raw_symbol -> instrument_id, no ts_out,
 *   71-byte symbols; the symbols list names every symbol and each maps, for the session's day,
 *   to its instrument id (1..K, written in decimal). end is an upper bound of the last ts_event
 *   (each record adds at most 20000 ns), limit 0. The metadata is zero-padded to 8 bytes.
 * - Records (56 bytes each, rtype 0xa0): the flow keeps its own book (gen_book.h: at most
 *   RP__MAX_LIVE live orders, books that never lock or cross, prices around a drifting mid) and
 *   sends adds, cancels, modifies (new size and price, same side) and fills of the best order of
 *   a side, each followed by the cancel of what it filled (fills and trades leave the book to
 *   that cancel, as at the venue); trades (order id 0) are at the mid. ts_recv is
 *   the record's time (increasing); ts_event is 0.5..5 us earlier, ts_in_delta a few us.
 *   Prices are 1e-9 units, $10..$410. Every record has F_LAST (0x80): one event each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"
#include "dbn.h"
#include "gen.h"
#include "gen_book.h"
#include "outfile.h"
#include "util.h"

#define RP__MAX_LIVE   4096u
#define RP__START_NS   UINT64_C(1704205800000000000) /* 2024-01-02 09:30 US/Eastern (14:30 UTC) */
#define RP__MAX_STEP   20000u                        /* ns between records, at most */
#define RP__MBO_LEN    56u
#define RP__CSTR       71u
#define RP__DAY        20240102u
#define RP__PRICE_UNIT INT64_C(1000000000) /* 1e-9 units per dollar */

typedef struct rp__dgen {
    uint64_t rng, t_ns, next_id;
    uint32_t seq;
    rp_gbook book; /* the flow's own book (gen_book.h): symbols are instrument ids */
    bool pending;  /* a fill was sent: the cancel of what it filled comes next */
    rp_gpos fill;  /* that order (nothing moves in between) */
    uint32_t filled;
} rp__dgen;

static uint64_t rp__below(rp__dgen *g, uint64_t n)
{
    return rp_gen_rand(&g->rng) % n;
}

static void rp__cstr(FILE *f, const char *s)
{
    char buf[RP__CSTR] = {0};
    memcpy(buf, s, strnlen(s, RP__CSTR - 1));
    fwrite(buf, 1, RP__CSTR, f);
}

static void rp__le32(FILE *f, uint32_t v)
{
    uint8_t b[4];
    ra_store_le32(b, v);
    fwrite(b, 1, 4, f);
}

/* The symbol name of instrument i (trailing spaces removed). */
static void rp__name(unsigned i, char out[9])
{
    uint8_t raw[8];
    rp_gen_symbol(i, raw);
    size_t n = 8;
    while (n > 0 && raw[n - 1] == ' ') n--;
    memcpy(out, raw, n);
    out[n] = '\0';
}

/* Prelude and metadata (version 3). @return the bytes written. */
static uint64_t rp__metadata(FILE *f, const rp_gen_opts *o)
{
    unsigned k = o->symbols;
    uint32_t body = RP_DBN_FIXED + 4 + 3 * 4 + k * RP__CSTR + 4 + k * (RP__CSTR + 4 + 8 + RP__CSTR);
    uint32_t pad = (8 - (RP_DBN_PRELUDE + body) % 8) % 8;
    uint8_t fixed[RP_DBN_PRELUDE + RP_DBN_FIXED] = {'D', 'B', 'N', 3};
    ra_store_le32(fixed + 4, body + pad);
    uint8_t *m = fixed + RP_DBN_PRELUDE;
    memcpy(m, "RPGEN.SYNTH", 11);
    ra_store_le16(m + 16, 0); /* mbo */
    ra_store_le64(m + 18, RP__START_NS);
    ra_store_le64(m + 26, RP__START_NS + (o->messages + 1) * RP__MAX_STEP);
    m[42] = 1; /* stype_in raw_symbol; stype_out 0 instrument_id; ts_out 0 */
    ra_store_le16(m + 45, RP__CSTR);
    fwrite(fixed, 1, sizeof fixed, f);
    rp__le32(f, 0); /* schema definition length */
    rp__le32(f, k);
    char name[9], id[16];
    for (unsigned i = 1; i <= k; i++) {
        rp__name(i, name);
        rp__cstr(f, name);
    }
    rp__le32(f, 0); /* partial */
    rp__le32(f, 0); /* not found */
    rp__le32(f, k);
    for (unsigned i = 1; i <= k; i++) {
        rp__name(i, name);
        snprintf(id, sizeof id, "%u", i);
        rp__cstr(f, name);
        rp__le32(f, 1);
        rp__le32(f, RP__DAY);
        rp__le32(f, RP__DAY + 1);
        rp__cstr(f, id);
    }
    static const uint8_t zeros[8] = {0};
    fwrite(zeros, 1, pad, f);
    return RP_DBN_PRELUDE + body + pad;
}

/* One MBO record of order o on side s of instrument `instrument`: size, action, the time. */
static void rp__mbo(rp__dgen *g, uint8_t r[RP__MBO_LEN], unsigned instrument, int s,
                    const rp_gorder *o, uint32_t size, char action)
{
    uint64_t lat = 500 + rp__below(g, 4500);
    memset(r, 0, RP__MBO_LEN);
    r[0] = RP__MBO_LEN / 4;
    r[1] = 0xA0;
    ra_store_le16(r + 2, 1); /* publisher */
    ra_store_le32(r + 4, instrument);
    ra_store_le64(r + 8, g->t_ns - lat); /* ts_event */
    ra_store_le64(r + 16, o->ref);
    ra_store_le64(r + 24, (uint64_t)o->price);
    ra_store_le32(r + 32, size);
    r[36] = 0x80; /* F_LAST */
    r[38] = (uint8_t)action;
    r[39] = s == 0 ? 'B' : 'A';
    ra_store_le64(r + 40, g->t_ns); /* ts_recv */
    ra_store_le32(r + 48, (uint32_t)(lat / 2));
    ra_store_le32(r + 52, g->seq++);
}

static uint32_t rp__size(rp__dgen *g)
{
    return 100u * (1 + (uint32_t)rp__below(g, 10));
}

/* A cancel of n of the order at p (all of it: the order goes). */
static void rp__cancel(rp__dgen *g, uint8_t r[RP__MBO_LEN], rp_gpos p, uint32_t n)
{
    rp_gorder *o = rp_gbook_at(&g->book, p);
    rp__mbo(g, r, p.sym, p.s, o, n, 'C');
    o->shares -= n;
    if (o->shares == 0) rp_gbook_take(&g->book, p);
}

/* An add, or at the cap a cancel. @return 0, or -1 when out of memory. */
static int rp__add(rp__dgen *g, uint8_t r[RP__MBO_LEN])
{
    unsigned sym = rp_gbook_pick_symbol(&g->book);
    int s = (int)rp__below(g, 2);
    rp_gorder o = {.ref = g->next_id++, .shares = rp__size(g)};
    o.price = rp_gbook_price(&g->book, sym, s);
    if (o.price == 0) o.price = rp_gbook_price(&g->book, sym, s ^= 1);
    if (rp_gbook_push(&g->book, sym, s, o) != 0) return -1;
    rp__mbo(g, r, sym, s, &o, o.shares, 'A');
    return 0;
}

/* A modify: new size and price on the same side (priority lost). @return 0, or -1 (memory). */
static int rp__modify(rp__dgen *g, uint8_t r[RP__MBO_LEN])
{
    rp_gpos p = rp_gbook_pick(&g->book, false);
    const rp_gside *sd = &g->book.syms[p.sym].side[p.s];
    rp_gorder o = *rp_gbook_at(&g->book, p);
    rp_gbook_take(&g->book, p);
    o.shares = rp__size(g);
    o.price = rp_gbook_price(&g->book, p.sym, p.s);
    if (o.price == 0) o.price = sd->n ? sd->best : g->book.tick; /* joins the best */
    if (rp_gbook_push(&g->book, p.sym, p.s, o) != 0) return -1;
    rp__mbo(g, r, p.sym, p.s, &o, o.shares, 'M');
    return 0;
}

/* The next record's bytes into r. @return 0, or -1 when out of memory. */
static int rp__event(rp__dgen *g, uint8_t r[RP__MBO_LEN])
{
    g->t_ns += 1 + rp__below(g, RP__MAX_STEP);
    if (g->pending) { /* the venue's cancel of what the fill took */
        g->pending = false;
        rp__cancel(g, r, g->fill, g->filled);
        return 0;
    }
    uint64_t k = rp__below(g, 100);
    if (g->book.nlive == 0 || (k < 40 && g->book.nlive < RP__MAX_LIVE)) return rp__add(g, r);
    if (k >= 80 && k < 92) { /* a trade at the mid: not an order of the book */
        unsigned sym = rp_gbook_pick_symbol(&g->book);
        int s = (int)rp__below(g, 2);
        rp_gorder t = {.ref = 0, .shares = rp__size(g), .price = g->book.syms[sym].mid};
        rp__mbo(g, r, sym, s, &t, t.shares, 'T');
        return 0;
    }
    if (k >= 65 && k < 80) return rp__modify(g, r);
    if (k >= 92) { /* a fill of the best order of a side, in full or in part */
        rp_gpos p = rp_gbook_pick(&g->book, true);
        const rp_gorder *o = rp_gbook_at(&g->book, p);
        uint32_t n = o->shares > 1 && rp__below(g, 2) ? 1 + (uint32_t)rp__below(g, o->shares - 1)
                                                      : o->shares;
        rp__mbo(g, r, p.sym, p.s, o, n, 'F');
        g->pending = true;
        g->fill = p;
        g->filled = n;
        return 0;
    }
    rp_gpos p = rp_gbook_pick(&g->book, false);
    rp__cancel(g, r, p, rp_gbook_at(&g->book, p)->shares);
    return 0;
}

/* Writes every record. @return 0, 1 when interrupted, -1 on a write error, -2 out of memory. */
static int rp__records(rp__dgen *g, FILE *f, const rp_gen_opts *o, rp_gen_result *res)
{
    uint8_t r[RP__MBO_LEN];
    for (uint64_t i = 0; i < o->messages; i++) {
        if ((i & 0xFFFF) == 0 && (rp_stop_requested() || ferror(f))) return ferror(f) ? -1 : 1;
        if (rp__event(g, r) != 0) return -2;
        fwrite(r, 1, sizeof r, f);
    }
    res->packets = res->data_packets = res->messages = o->messages;
    res->by_type[0xA0] = o->messages;
    res->file_bytes += o->messages * RP__MBO_LEN;
    res->first_seq = 1;
    res->next_seq = o->messages + 1;
    return ferror(f) ? -1 : 0;
}

int rp_gen_dbn_write(const rp_gen_opts *opts, rp_gen_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    if (!opts->out || opts->symbols < 1 || opts->symbols > RP_GEN_MAX_SYMBOLS ||
        opts->messages < 1) {
        snprintf(err, errlen, "gen: invalid options");
        return -1;
    }
    rp__dgen *g = calloc(1, sizeof *g);
    rp_outfile of = {0};
    int rc = -1;
    if (!g || rp_gbook_init(&g->book, opts->symbols, RP__PRICE_UNIT / 100, &g->rng) != 0) {
        snprintf(err, errlen, "%s: out of memory", opts->out);
        goto out;
    }
    if (rp_outfile_open(&of, opts->out, opts->force, err, errlen) != 0) goto out;
    g->rng = opts->seed;
    g->t_ns = RP__START_NS;
    g->next_id = 1000;
    g->seq = 1;
    for (unsigned s = 1; s <= opts->symbols; s++)
        g->book.syms[s].mid = (10 + (int64_t)rp__below(g, 400)) * RP__PRICE_UNIT;
    res->file_bytes = rp__metadata(of.f, opts);
    int grc = rp__records(g, of.f, opts, res);
    if (grc > 0) {
        snprintf(err, errlen, "interrupted: %s not written", opts->out);
        rc = 1;
    } else if (grc == -2) {
        snprintf(err, errlen, "%s: out of memory", opts->out);
    } else if (grc < 0 || fflush(of.f) != 0) {
        snprintf(err, errlen, "%s: write error: %s", opts->out, strerror(errno));
    } else if (rp_outfile_commit(&of, err, errlen) == 0) {
        rc = 0;
    }
out:
    rp_outfile_abort(&of);
    if (g) rp_gbook_free(&g->book);
    free(g);
    if (rc != 0) memset(res, 0, sizeof(*res));
    return rc;
}
