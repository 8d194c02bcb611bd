/* cons_book.c - the book consumer (--book): full-depth order books (book.h) built from the ring
 *
 * Design notes.
 * - Reader 0 runs it with --book (rp_run_config.first); --readers N adds check consumers beside
 *   it. It works the same at every pacing mode: on_msg copies each message out of the ring (after
 *   its RP_STAMP_BYTES prefix on a private ring) with ra_msg_copy(), the audited racy copy, into
 *   a burst slot of RP__SLOT bytes (every ITCH 5.0 message and a DBN MBO record fit); on_burst
 *   applies the first n intact ones; on_loss forgets the rest.
 * - DBN instruments are named from the inputs' symbol mappings (rp_cons_book_names(), before
 *   the run, in the main thread), so `top` is keyed by raw symbol.
 * - Protocol, per message: type 0xA0 (the DBN MBO rtype, which no ITCH type byte equals) of at
 *   least 56 bytes goes to ra_book_mbo(), everything else to ra_book_itch(), which counts what
 *   it does not book. A message longer than a slot is of no type the book uses: it is counted
 *   (`skipped`), not applied.
 * - Loss: a lap (ring overwrite) marks the book incomplete with the messages lost; after the
 *   run, rp_cons_book_finish() adds what the feed itself missed (sequence gaps) and the
 *   duplicates the producer dropped (producer.c "Duplicates"). The book is never cleared for it.
 * - Pool exhaustion under --book-on-empty fail (the default): the book stops applying at the
 *   first refused order (what it would show from there on is wrong), keeps draining the ring,
 *   and its verdict is a failure that names --book-orders (replay exits 3).
 * - Output: `book` in the JSON report and a "Book:" block in the summary (report_top_*): the
 *   library's counters, pool and arena statistics, and per symbol the top (or --book-depth N
 *   levels a side); --symbol keeps one symbol. `top` is the live book at the end, or the tops
 *   saved just before the last session reset when the reset emptied it (system event 'C').
 *   --bbo writes each top change (ra_book_on_bbo) as a CSV row or a JSON line.
 */
#include "consumer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/book.h"
#include "ringalloc/stats.h"
#include "dbn.h"
#include "run.h"

#define RP__SLOT       64u   /* message bytes a burst slot holds */
#define RP__MBO_RTYPE  0xA0u /* DBN MBO */
#define RP__MBO_LEN    56u
#define RP__HUMAN_SYMS 20u /* symbols the summary lists (all with --symbol) */

typedef struct rp__slot {
    uint8_t data[RP__SLOT];
    uint32_t len; /* the message's length (may exceed RP__SLOT: then not copied) */
    uint16_t type;
} rp__slot;

typedef struct rp__bk {
    ra_book *b;
    const rp_book_opts *o;
    uint32_t prefix; /* RP_STAMP_BYTES, or 0 on a shared ring */
    unsigned n;
    rp__slot burst[RP_CONS_BURST];
    uint64_t applied, skipped, lost, duplicates, feed_missing, mbo;
    bool full; /* the pool refused an order under RA_BOOK_FAIL: applying stopped */
} rp__bk;

static void rp__bk_destroy(void *state)
{
    rp__bk *k = state;
    if (k) ra_book_destroy(k->b);
    free(k);
}

/* --bbo: one row per top change (of --symbol only, when given). */
static void rp__bbo(void *ctx, size_t sym, const char *name, uint64_t ts, const ra_book_top *t)
{
    const rp__bk *k = ctx;
    (void)sym;
    if (k->o->symbol && strcmp(name, k->o->symbol) != 0) return;
    if (k->o->bbo_json) {
        fprintf(k->o->bbo, "{\"ts\":%" PRIu64 ",\"symbol\":", ts);
        rp_json_write_string(k->o->bbo, name);
        fprintf(k->o->bbo,
                ",\"bid_px\":%" PRId64 ",\"bid_qty\":%" PRIu64 ",\"bid_orders\":%" PRIu32
                ",\"ask_px\":%" PRId64 ",\"ask_qty\":%" PRIu64 ",\"ask_orders\":%" PRIu32 "}\n",
                t->bid_px, t->bid_qty, t->bid_orders, t->ask_px, t->ask_qty, t->ask_orders);
    } else
        fprintf(k->o->bbo,
                "%" PRIu64 ",%s,%" PRId64 ",%" PRIu64 ",%" PRIu32 ",%" PRId64 ",%" PRIu64
                ",%" PRIu32 "\n",
                ts, name, t->bid_px, t->bid_qty, t->bid_orders, t->ask_px, t->ask_qty,
                t->ask_orders);
}

static void *rp__bk_create(const rp_cons_env *env)
{
    static const rp_book_opts dflt = {0};
    rp__bk *k = calloc(1, sizeof(*k));
    if (!k) return NULL;
    k->o = env->arg ? env->arg : &dflt;
    k->prefix = env->ts_stamp ? 0 : RP_STAMP_BYTES;
    ra_book_config bc = {.max_orders = k->o->max_orders,
                         .on_empty = k->o->on_empty,
                         .flags = k->o->malloc_orders ? RA_BOOK_MALLOC : RA_BOOK_HUGEPAGES};
    if (ra_book_create(&k->b, &bc) != RA_OK) {
        free(k);
        return NULL;
    }
    for (size_t i = 0; i < k->o->nnames; i++)
        (void)ra_book_name_instrument(k->b, k->o->names[i].id, k->o->names[i].name); /* a name */
    if (k->o->bbo) {
        if (!k->o->bbo_json)
            fputs("ts,symbol,bid_px,bid_qty,bid_orders,ask_px,ask_qty,ask_orders\n", k->o->bbo);
        ra_book_on_bbo(k->b, rp__bbo, k);
    }
    return k;
}

static int rp__name_put(void *ctx, uint32_t id, const char *raw)
{
    rp_book_opts *o = ctx;
    if ((o->nnames & (o->nnames - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power */
        rp_book_name *n = realloc(o->names, (o->nnames ? 2 * o->nnames : 1) * sizeof *n);
        if (!n) return -1;
        o->names = n;
    }
    o->names[o->nnames].id = id;
    snprintf(o->names[o->nnames].name, sizeof o->names[o->nnames].name, "%s", raw);
    o->nnames++;
    return 0;
}

int rp_cons_book_names(rp_book_opts *o, const char *const *files, size_t nfiles,
                       const struct rp_source_opts *src)
{
    for (size_t i = 0; i < nfiles; i++) {
        rp_source *s;
        char err[256];
        if (strcmp(files[i], "-") == 0 || rp_source_open(&s, files[i], src, err, sizeof err) != 0)
            continue;
        const rp_dbn_meta *m = rp_source_dbn_meta(s);
        int rc = m ? rp_dbn_each_instrument(m, rp__name_put, o) : 0;
        rp_source_close(s);
        if (rc != 0) return -1;
    }
    return 0;
}

static void rp__bk_on_msg(const ra_msg *m, void *ctx)
{
    rp__bk *k = ctx;
    if (k->n >= RP_CONS_BURST || m->len < k->prefix) return;
    rp__slot *s = &k->burst[k->n++];
    s->len = m->len - k->prefix;
    s->type = m->type;
    if (s->len > RP__SLOT) return;
    ra_msg body = *m;
    body.data = (const uint8_t *)m->data + k->prefix;
    body.len = s->len;
    ra_msg_copy(s->data, &body);
}

static void rp__bk_on_burst(void *state, size_t n, uint64_t now, bool waited)
{
    rp__bk *k = state;
    (void)now;
    (void)waited;
    for (size_t i = 0; i < n && i < k->n; i++) {
        const rp__slot *s = &k->burst[i];
        if (s->len > RP__SLOT || s->len == 0) {
            k->skipped++;
            continue;
        }
        if (k->full) continue;
        bool mbo = s->type == RP__MBO_RTYPE && s->len >= RP__MBO_LEN;
        int rc = mbo ? ra_book_mbo(k->b, s->data, s->len) : ra_book_itch(k->b, s->data, s->len);
        k->mbo += mbo;
        if (rc == RA_ENOMEM && k->o->on_empty == RA_BOOK_FAIL) k->full = true;
        k->applied += rc == RA_OK;
    }
    k->n = 0;
}

static void rp__bk_on_loss(void *state, uint64_t lost)
{
    rp__bk *k = state;
    if (lost > k->lost) ra_book_mark_incomplete(k->b, lost - k->lost);
    k->lost = lost;
    k->n = 0;
}

static void rp__bk_interval(void *state, rp_cons_interval *out)
{
    (void)state;
    out->has_latency = false;
    out->p50_ns = out->p99_ns = 0;
}

void rp_cons_book_finish(void *state, uint64_t feed_missing, uint64_t duplicates)
{
    rp__bk *k = state;
    if (!k) return;
    if (feed_missing) ra_book_mark_incomplete(k->b, feed_missing);
    k->feed_missing = feed_missing;
    k->duplicates = duplicates;
}

static bool rp__bk_verify(const void *state, const rp_reader_counts *rc, uint64_t published,
                          char *why, size_t cap)
{
    const rp__bk *k = state;
    if (k->full) {
        ra_book_stats st;
        ra_book_get_stats(k->b, &st);
        snprintf(why, cap,
                 "the book's order pool is full (%" PRIu64 " live orders): raise --book-orders, "
                 "or use --book-on-empty grow",
                 st.orders_live);
        return false;
    }
    if (!rc->error && rc->read + rc->lost == published) return true;
    snprintf(why, cap, "read %" PRIu64 " + lost %" PRIu64 " vs published %" PRIu64 "%s%s", rc->read,
             rc->lost, published, rc->error ? ", stopped by " : "",
             rc->error ? ra_strerror(rc->error) : "");
    return false;
}

static void rp__bk_json(const void *state, rp_json *j)
{
    const rp__bk *k = state;
    rp_json_u64(j, "applied", k->applied);
    rp_json_u64(j, "skipped", k->skipped);
}

static void rp__bk_human(const void *state, FILE *f, bool paced)
{
    const rp__bk *k = state;
    (void)paced;
    fprintf(f, "           book: %" PRIu64 " messages applied, %" PRIu64 " skipped\n", k->applied,
            k->skipped);
}

/* ---- the book section ------------------------------------------------------------------------ */

/* The symbols the report shows: the live ones, or those saved before the last reset when the
 * reset emptied the book. */
static size_t rp__nsyms(const rp__bk *k, bool *saved)
{
    size_t n = ra_book_symbols(k->b);
    *saved = n == 0;
    return n ? n : ra_book_saved_symbols(k->b);
}

static const char *rp__sym(const rp__bk *k, bool saved, size_t i, ra_book_top *t)
{
    const char *name = saved ? ra_book_saved_symbol(k->b, i, t) : ra_book_symbol(k->b, i, t);
    if (name && k->o->symbol && strcmp(name, k->o->symbol) != 0) return NULL;
    return name;
}

static void rp__levels_json(rp_json *j, const char *key, const rp__bk *k, size_t sym, int side)
{
    ra_book_level lv[64];
    size_t want = k->o->depth < 64 ? k->o->depth : 64;
    size_t n = ra_book_depth(k->b, sym, side, lv, want);
    rp_json_array_begin(j, key);
    for (size_t i = 0; i < n; i++) {
        rp_json_object_begin(j, NULL);
        rp_json_i64(j, "px", lv[i].px);
        rp_json_u64(j, "qty", lv[i].qty);
        rp_json_u64(j, "orders", lv[i].orders);
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
}

/* One side of a symbol's top: SIDE_px, SIDE_qty and SIDE_orders. */
static void rp__side_json(rp_json *j, const char *side, int64_t px, uint64_t qty, uint64_t orders)
{
    char k[16];
    snprintf(k, sizeof k, "%s_px", side);
    rp_json_i64(j, k, px);
    snprintf(k, sizeof k, "%s_qty", side);
    rp_json_u64(j, k, qty);
    snprintf(k, sizeof k, "%s_orders", side);
    rp_json_u64(j, k, orders);
}

static void rp__top_json(rp_json *j, const rp__bk *k)
{
    bool saved;
    size_t n = rp__nsyms(k, &saved);
    rp_json_object_begin(j, "top");
    for (size_t i = 0; i < n; i++) {
        ra_book_top t;
        const char *name = rp__sym(k, saved, i, &t);
        if (!name) continue;
        rp_json_object_begin(j, name);
        rp__side_json(j, "bid", t.bid_px, t.bid_qty, t.bid_orders);
        rp__side_json(j, "ask", t.ask_px, t.ask_qty, t.ask_orders);
        rp_json_object_end(j);
    }
    rp_json_object_end(j);
    if (!k->o->depth) return;
    rp_json_object_begin(j, "depth"); /* live symbols only: a reset keeps no levels */
    for (size_t i = 0; !saved && i < n; i++) {
        const char *name = rp__sym(k, false, i, NULL);
        if (!name) continue;
        rp_json_object_begin(j, name);
        rp__levels_json(j, "bids", k, i, RA_BOOK_BID);
        rp__levels_json(j, "asks", k, i, RA_BOOK_ASK);
        rp_json_object_end(j);
    }
    rp_json_object_end(j);
}

/* ra_stats_fields callback: one member of the open object; skip names one the caller wrote */
struct rp__fields {
    rp_json *j;
    const char *skip;
};

static void rp__field_json(void *ctx, const char *name, unsigned long long v, bool is_bool)
{
    const struct rp__fields *c = ctx;
    if (c->skip && strcmp(name, c->skip) == 0) return;
    if (is_bool)
        rp_json_bool(c->j, name, v != 0);
    else
        rp_json_u64(c->j, name, v);
}

/* The book's report: the library's scalar book stats (symbols counted here: a reset that kept
 * the top keeps its symbols), errors by kind, the order pool and session arena as their stats
 * structs, the top per symbol. */
static void rp__bk_top_json(const void *state, rp_json *j)
{
    const rp__bk *k = state;
    ra_book_stats st;
    ra_book_get_stats(k->b, &st);
    bool saved;
    rp_json_object_begin(j, "book");
    rp_json_u64(j, "symbols", rp__nsyms(k, &saved));
    rp_json_u64(j, "duplicates", k->duplicates);
    rp_json_bool(j, "pool_full", k->full);
    struct rp__fields c = {j, "symbols"};
    (void)ra_stats_fields(RA_STATS_BOOK, &st, rp__field_json, &c);
    c.skip = NULL;
    rp_json_object_begin(j, "errors");
    for (int e = 0; e < RA_BOOK_ERR_COUNT; e++) rp_json_u64(j, ra_book_error_name(e), st.errors[e]);
    rp_json_object_end(j);
    rp_json_object_begin(j, "pool");
    (void)ra_stats_fields(RA_STATS_POOL, &st.pool, rp__field_json, &c);
    rp_json_object_end(j);
    rp_json_object_begin(j, "arena");
    (void)ra_stats_fields(RA_STATS_ARENA, &st.arena, rp__field_json, &c);
    rp_json_object_end(j);
    rp__top_json(j, k);
    rp_json_object_end(j);
}

/* A price in the feed's units as a decimal: ITCH 4 places, DBN 9. */
static void rp__px(char *buf, size_t cap, int64_t px, bool dbn)
{
    int64_t unit = dbn ? INT64_C(1000000000) : 10000;
    const char *sign = px < 0 ? "-" : "";
    uint64_t a = px < 0 ? (uint64_t)0 - (uint64_t)px : (uint64_t)px;
    snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, sign, a / (uint64_t)unit, dbn ? 9 : 4,
             a % (uint64_t)unit);
}

static void rp__bk_top_human(const void *state, FILE *f)
{
    const rp__bk *k = state;
    ra_book_stats st;
    ra_book_get_stats(k->b, &st);
    bool saved;
    size_t n = rp__nsyms(k, &saved);
    fprintf(f,
            "Book:      %zu symbols, %s, %" PRIu64 " orders live (high water %" PRIu64 "), %" PRIu64
            " levels, %" PRIu64 " duplicates dropped\n",
            n, st.complete ? "complete" : "INCOMPLETE", st.orders_live, st.orders_high_water,
            st.levels, k->duplicates);
    if (!st.complete) fprintf(f, "           %" PRIu64 " messages missed\n", st.missed);
    fprintf(f, "           errors %" PRIu64, st.errors_total);
    for (int e = 0; e < RA_BOOK_ERR_COUNT; e++)
        if (st.errors[e]) fprintf(f, ", %s %" PRIu64, ra_book_error_name(e), st.errors[e]);
    fprintf(f, "%s\n", k->full ? " (order pool full: raise --book-orders)" : "");
    fprintf(f,
            "           pool %" PRIu64 " of %" PRIu64 " orders in use (%" PRIu64
            " bytes reserved), arena %" PRIu64 " bytes (high water %" PRIu64 ")\n",
            st.pool.in_use, st.capacity, st.pool.bytes_reserved, st.arena.bytes_used,
            st.arena.high_water);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        ra_book_top t;
        const char *name = rp__sym(k, saved, i, &t);
        if (!name || (!k->o->symbol && shown++ >= RP__HUMAN_SYMS)) continue;
        char b[32], a[32];
        rp__px(b, sizeof b, t.bid_px, k->mbo > 0);
        rp__px(a, sizeof a, t.ask_px, k->mbo > 0);
        fprintf(f,
                "           %-8s bid %" PRIu64 " @ %s (%" PRIu32 ")  ask %" PRIu64 " @ %s (%" PRIu32
                ")\n",
                name, t.bid_qty, b, t.bid_orders, t.ask_qty, a, t.ask_orders);
    }
    if (shown > RP__HUMAN_SYMS)
        fprintf(f, "           ... %zu more (--json has them all)\n", shown - RP__HUMAN_SYMS);
}

const rp_consumer_ops rp_cons_book = {.name = "book",
                                      RP_CONSUMER_OPS(rp__bk_),
                                      .report_top_json = rp__bk_top_json,
                                      .report_top_human = rp__bk_top_human};
