/* stats.c - Prometheus text and JSON writers over the stats of every allocator */
/*
 * Design notes
 *
 * Every source is first read into a snapshot (its get_stats function), so the output is written
 * from one consistent copy per object and the writers never touch a live allocator. The metrics
 * of each kind are described once, in a table of {field, Prometheus name, type, help, offset};
 * both writers walk the same tables, so the JSON keys and the Prometheus families cannot drift
 * from the stats structs. Prometheus wants each family written once with all its samples, so the
 * writer loops family by family over the snapshots of that kind. Duplicate name labels within a
 * kind would make duplicate series: they are refused (RA_EINVAL) before anything is written.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/arena.h"
#include "ringalloc/book.h"
#include "ringalloc/pool.h"
#include "ringalloc/ring.h"
#include "ringalloc/slab.h"
#include "ringalloc/stats.h"

struct ra__metric {
    const char *field; /* JSON key: the stats struct's field name */
    const char *prom;  /* family name after "ringalloc_<kind>_" */
    const char *type;  /* "counter" or "gauge" */
    const char *help;
    size_t off;   /* offset in the stats struct */
    bool is_bool; /* a bool field (else uint64_t) */
};

/* one table row: the field's name, offset and whether it is a bool come from the struct itself */
// clang-format off
#define RA__M(S, f, prom, type, help) \
    { #f, prom, type, help, offsetof(S, f), sizeof(((S *)0)->f) == sizeof(bool) }
// clang-format on

static const struct ra__metric ra__ring_metrics[] = {
    RA__M(ra_ring_stats, published, "published_total", "counter", "Messages committed."),
    RA__M(ra_ring_stats, published_bytes, "published_bytes_total", "counter",
          "Payload bytes committed."),
    RA__M(ra_ring_stats, overwritten, "overwritten_total", "counter",
          "Messages retired to make room (overwrite mode)."),
    RA__M(ra_ring_stats, overwritten_bytes, "overwritten_bytes_total", "counter",
          "Payload bytes of the retired messages."),
    RA__M(ra_ring_stats, too_big, "too_big_total", "counter",
          "Reservations refused: larger than the largest message."),
    RA__M(ra_ring_stats, full, "full_total", "counter",
          "Reservations refused: no room (backpressure mode)."),
    RA__M(ra_ring_stats, oldest_seq, "oldest_seq", "gauge",
          "Sequence number of the oldest intact or unconsumed message."),
    RA__M(ra_ring_stats, next_seq, "next_seq", "gauge", "Sequence number of the next commit."),
    RA__M(ra_ring_stats, used_bytes, "used_bytes", "gauge",
          "Bytes between the oldest intact record and the tail."),
    RA__M(ra_ring_stats, capacity, "capacity_bytes", "gauge", "Data bytes of the ring."),
    RA__M(ra_ring_stats, hugepages, "hugepages", "gauge", "1 when the data lives in huge pages."),
};

static const struct ra__metric ra__pool_metrics[] = {
    RA__M(ra_pool_stats, allocs, "allocs_total", "counter",
          "Blocks handed out, fallbacks included."),
    RA__M(ra_pool_stats, frees, "frees_total", "counter", "Blocks given back, fallbacks included."),
    RA__M(ra_pool_stats, in_use, "in_use", "gauge", "Blocks in use."),
    RA__M(ra_pool_stats, high_water, "high_water", "gauge", "Peak of blocks in use."),
    RA__M(ra_pool_stats, fallbacks, "fallbacks_total", "counter",
          "Allocations served by malloc because the pool was empty."),
    RA__M(ra_pool_stats, fallback_frees, "fallback_frees_total", "counter",
          "Fallback blocks given back."),
    RA__M(ra_pool_stats, failed, "failed_total", "counter", "Allocations that returned NULL."),
    RA__M(ra_pool_stats, capacity, "capacity", "gauge", "Blocks in the pool."),
    RA__M(ra_pool_stats, block_size, "block_size_bytes", "gauge", "Bytes per block as laid out."),
    RA__M(ra_pool_stats, align, "align_bytes", "gauge", "Alignment of every block."),
    RA__M(ra_pool_stats, bytes_reserved, "reserved_bytes", "gauge", "Bytes of block memory."),
    RA__M(ra_pool_stats, threadsafe, "threadsafe", "gauge", "1 for a thread-safe pool."),
    RA__M(ra_pool_stats, hugepages, "hugepages", "gauge", "1 when the blocks live in huge pages."),
    RA__M(ra_pool_stats, hugepages_fallback, "hugepages_fallback", "gauge",
          "1 when huge pages were asked for but none were available."),
};

static const struct ra__metric ra__slab_metrics[] = {
    RA__M(ra_slab_stats, allocs, "allocs_total", "counter",
          "Successful allocations (classes, fallbacks, large)."),
    RA__M(ra_slab_stats, frees, "frees_total", "counter", "Blocks given back."),
    RA__M(ra_slab_stats, in_use, "in_use", "gauge", "Blocks in use."),
    RA__M(ra_slab_stats, failed, "failed_total", "counter", "Allocations that returned NULL."),
    RA__M(ra_slab_stats, fallbacks, "fallbacks_total", "counter",
          "Allocations served by malloc because their class was empty."),
    RA__M(ra_slab_stats, large_allocs, "large_allocs_total", "counter",
          "Requests above the largest class, served by malloc."),
    RA__M(ra_slab_stats, large_frees, "large_frees_total", "counter", "Large blocks given back."),
    RA__M(ra_slab_stats, large_in_use, "large_in_use", "gauge", "Large blocks in use."),
    RA__M(ra_slab_stats, large_bytes, "large_bytes", "gauge", "Bytes of the large blocks in use."),
    RA__M(ra_slab_stats, bytes_reserved, "reserved_bytes", "gauge", "Bytes of the class area."),
    RA__M(ra_slab_stats, threadsafe, "threadsafe", "gauge", "1 for a thread-safe slab."),
    RA__M(ra_slab_stats, hugepages, "hugepages", "gauge",
          "1 when the class area lives in huge pages."),
    RA__M(ra_slab_stats, hugepages_fallback, "hugepages_fallback", "gauge",
          "1 when huge pages were asked for but none were available."),
};

static const struct ra__metric ra__class_metrics[] = {
    RA__M(ra_slab_class_stats, allocs, "allocs_total", "counter",
          "Blocks handed out from the class pool."),
    RA__M(ra_slab_class_stats, frees, "frees_total", "counter",
          "Blocks given back to the class pool."),
    RA__M(ra_slab_class_stats, in_use, "in_use", "gauge", "Blocks of the class in use."),
    RA__M(ra_slab_class_stats, high_water, "high_water", "gauge", "Peak of blocks in use."),
    RA__M(ra_slab_class_stats, capacity, "capacity", "gauge", "Blocks in the class."),
    RA__M(ra_slab_class_stats, failed, "failed_total", "counter",
          "Class exhausted: NULL returned."),
    RA__M(ra_slab_class_stats, fallbacks, "fallbacks_total", "counter",
          "Class exhausted: served by malloc."),
    RA__M(ra_slab_class_stats, fallback_frees, "fallback_frees_total", "counter",
          "Fallback blocks of the class given back."),
};

static const struct ra__metric ra__arena_metrics[] = {
    RA__M(ra_arena_stats, bytes_used, "used_bytes", "gauge",
          "Bytes handed out since the last reset, padding included."),
    RA__M(ra_arena_stats, bytes_reserved, "reserved_bytes", "gauge", "Bytes of the chunks held."),
    RA__M(ra_arena_stats, chunks, "chunks", "gauge", "Chunks held."),
    RA__M(ra_arena_stats, resets, "resets_total", "counter", "Resets."),
    RA__M(ra_arena_stats, rewinds, "rewinds_total", "counter", "Rewinds to a mark."),
    RA__M(ra_arena_stats, high_water, "high_water_bytes", "gauge", "Peak of used bytes."),
    RA__M(ra_arena_stats, failed, "failed_total", "counter", "Allocations that returned NULL."),
    RA__M(ra_arena_stats, allocs, "allocs_total", "counter", "Successful allocations."),
    RA__M(ra_arena_stats, max_bytes, "max_bytes", "gauge", "Cap on bytes held (0: none)."),
};

/* A ring reader's values: its ra_reader_stats and its lag (ra_reader_lag). */
struct ra__reader_vals {
    uint64_t read, lost, laps, lag;
};

static const struct ra__metric ra__reader_metrics[] = {
    RA__M(struct ra__reader_vals, read, "read_total", "counter", "Messages the reader delivered."),
    RA__M(struct ra__reader_vals, lost, "lost_total", "counter",
          "Sequence numbers the reader skipped because it was lapped."),
    RA__M(struct ra__reader_vals, laps, "laps_total", "counter",
          "Times the producer overtook the reader."),
    RA__M(struct ra__reader_vals, lag, "lag", "gauge",
          "Messages committed that the reader has neither read nor lost."),
};

static const struct ra__metric ra__book_metrics[] = {
    RA__M(ra_book_stats, messages, "messages_total", "counter", "Messages applied."),
    RA__M(ra_book_stats, not_booked, "not_booked_total", "counter",
          "Messages of types the book does not use."),
    RA__M(ra_book_stats, orders_live, "orders_live", "gauge", "Orders on the book."),
    RA__M(ra_book_stats, orders_high_water, "orders_high_water", "gauge", "Peak of live orders."),
    RA__M(ra_book_stats, levels, "levels", "gauge", "Price levels on the book."),
    RA__M(ra_book_stats, levels_high_water, "levels_high_water", "gauge", "Peak of levels."),
    RA__M(ra_book_stats, symbols, "symbols", "gauge", "Symbols of the session."),
    RA__M(ra_book_stats, adds, "adds_total", "counter", "Orders added."),
    RA__M(ra_book_stats, executions, "executions_total", "counter", "Executions booked."),
    RA__M(ra_book_stats, cancels, "cancels_total", "counter", "Partial cancels booked."),
    RA__M(ra_book_stats, deletes, "deletes_total", "counter", "Deletes booked."),
    RA__M(ra_book_stats, replaces, "replaces_total", "counter", "Replaces and modifies."),
    RA__M(ra_book_stats, bbo_changes, "bbo_changes_total", "counter", "Top of book changes."),
    RA__M(ra_book_stats, errors_total, "errors_all_total", "counter",
          "Inconsistent messages, every kind."),
    RA__M(ra_book_stats, fallbacks, "fallbacks_total", "counter",
          "Orders taken from malloc because the pool was empty."),
    RA__M(ra_book_stats, grows, "grows_total", "counter", "Order pools added."),
    RA__M(ra_book_stats, sys_allocs, "sys_allocs_total", "counter",
          "Large level arrays taken from malloc."),
    RA__M(ra_book_stats, sessions, "sessions_total", "counter", "Session resets."),
    RA__M(ra_book_stats, missed, "missed_total", "counter", "Messages reported lost."),
    RA__M(ra_book_stats, complete, "complete", "gauge", "1 while no loss was reported."),
    RA__M(ra_book_stats, capacity, "capacity", "gauge", "Orders the pools hold."),
};

#define RA__N(t) (sizeof(t) / sizeof((t)[0]))

/* families: thread arenas are arenas; a book also gives a pool and an arena sample */
enum { RA__F_RING, RA__F_POOL, RA__F_SLAB, RA__F_ARENA, RA__F_READER, RA__F_BOOK };

struct ra__snap {
    int fam;                 /* RA__F_* */
    char name[64];           /* the name label */
    bool thread;             /* a per-thread arena */
    unsigned long long tid;  /* its thread id */
    unsigned long long sess; /* its sessions */
    union {
        ra_ring_stats ring;
        ra_pool_stats pool;
        ra_slab_stats *slab; /* large: on the heap */
        ra_book_stats *book; /* large: on the heap */
        ra_arena_stats arena;
        struct ra__reader_vals reader;
    } u;
};

struct ra__snaps {
    struct ra__snap *v;
    size_t n, cap;
};

static struct ra__snap *ra__snap_add(struct ra__snaps *s)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        struct ra__snap *nv = realloc(s->v, ncap * sizeof *nv);
        if (nv == NULL) return NULL;
        s->v = nv;
        s->cap = ncap;
    }
    struct ra__snap *x = &s->v[s->n++];
    memset(x, 0, sizeof *x);
    return x;
}

static void ra__snaps_free(struct ra__snaps *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].fam == RA__F_SLAB)
            free(s->v[i].u.slab);
        else if (s->v[i].fam == RA__F_BOOK)
            free(s->v[i].u.book);
    free(s->v);
}

static void ra__copy_name(char *dst, const char *src)
{
    snprintf(dst, 64, "%s", src);
}

struct ra__ta_ctx {
    struct ra__snaps *s;
    int rc;
};

static void ra__ta_visit(const ra_arena_thread_info *ti, void *ctx)
{
    struct ra__ta_ctx *c = ctx;
    struct ra__snap *x = ra__snap_add(c->s);
    if (x == NULL) {
        c->rc = RA_ENOMEM;
        return;
    }
    x->fam = RA__F_ARENA;
    x->thread = true;
    x->tid = (unsigned long long)ti->thread_id;
    x->sess = (unsigned long long)ti->sessions;
    ra__copy_name(x->name, ti->name);
    x->u.arena = ti->stats;
}

/* A book: its own sample, then its order pools as pool "<name>-orders" and its session arena as
 * arena "<name>-session". */
static int ra__collect_book(struct ra__snaps *s, const ra_stats_source *q)
{
    ra_book_stats *bs = malloc(sizeof *bs);
    if (bs == NULL) return RA_ENOMEM;
    ra_book_get_stats(q->obj, bs);
    struct ra__snap *x = ra__snap_add(s);
    if (x == NULL) {
        free(bs);
        return RA_ENOMEM;
    }
    x->fam = RA__F_BOOK;
    x->u.book = bs;
    ra__copy_name(x->name, q->name ? q->name : "book");
    char base[64];
    memcpy(base, x->name, sizeof base);
    if ((x = ra__snap_add(s)) == NULL) return RA_ENOMEM;
    x->fam = RA__F_POOL;
    snprintf(x->name, sizeof x->name, "%.40s-orders", base);
    x->u.pool = bs->pool;
    if ((x = ra__snap_add(s)) == NULL) return RA_ENOMEM;
    x->fam = RA__F_ARENA;
    snprintf(x->name, sizeof x->name, "%.40s-session", base);
    x->u.arena = bs->arena;
    return RA_OK;
}

static int ra__collect(struct ra__snaps *s, const ra_stats_source *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const ra_stats_source *q = &src[i];
        if (q->kind == RA_STATS_THREAD_ARENAS) {
            struct ra__ta_ctx c = {s, RA_OK};
            ra_arena_thread_foreach(ra__ta_visit, &c);
            if (c.rc != RA_OK) return c.rc;
            continue;
        }
        if (q->kind == RA_STATS_BOOK && q->obj != NULL) {
            int rc = ra__collect_book(s, q);
            if (rc != RA_OK) return rc;
            continue;
        }
        if (q->obj == NULL || q->kind < RA_STATS_RING ||
            (q->kind > RA_STATS_ARENA && q->kind != RA_STATS_READER))
            return RA_EINVAL;
        struct ra__snap *x = ra__snap_add(s);
        if (x == NULL) return RA_ENOMEM;
        switch (q->kind) {
        case RA_STATS_RING:
            x->fam = RA__F_RING;
            ra__copy_name(x->name, q->name ? q->name : "ring");
            ra_ring_get_stats(q->obj, &x->u.ring);
            break;
        case RA_STATS_POOL:
            x->fam = RA__F_POOL;
            ra__copy_name(x->name, q->name ? q->name : ra_pool_name(q->obj));
            ra_pool_get_stats(q->obj, &x->u.pool);
            break;
        case RA_STATS_SLAB:
            x->fam = RA__F_SLAB;
            ra__copy_name(x->name, q->name ? q->name : ra_slab_name(q->obj));
            if ((x->u.slab = malloc(sizeof *x->u.slab)) == NULL) {
                x->fam = RA__F_RING; /* nothing to free */
                return RA_ENOMEM;
            }
            ra_slab_get_stats(q->obj, x->u.slab);
            break;
        case RA_STATS_READER: {
            ra_reader_stats rs;
            x->fam = RA__F_READER;
            ra__copy_name(x->name, q->name ? q->name : "reader");
            ra_reader_get_stats(q->obj, &rs);
            x->u.reader =
                (struct ra__reader_vals){rs.read, rs.lost, rs.laps, ra_reader_lag(q->obj)};
            break;
        }
        default:
            x->fam = RA__F_ARENA;
            ra__copy_name(x->name, q->name ? q->name : ra_arena_name(q->obj));
            ra_arena_get_stats(q->obj, &x->u.arena);
            break;
        }
    }
    /* two samples of one family with the same labels would be duplicate series */
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n; j++)
            if (s->v[i].fam == s->v[j].fam && s->v[i].thread == s->v[j].thread &&
                s->v[i].tid == s->v[j].tid && strcmp(s->v[i].name, s->v[j].name) == 0)
                return RA_EINVAL;
    return RA_OK;
}

static const void *ra__base(const struct ra__snap *x)
{
    switch (x->fam) {
    case RA__F_RING:
        return &x->u.ring;
    case RA__F_POOL:
        return &x->u.pool;
    case RA__F_SLAB:
        return x->u.slab;
    case RA__F_READER:
        return &x->u.reader;
    case RA__F_BOOK:
        return x->u.book;
    default:
        return &x->u.arena;
    }
}

static unsigned long long ra__value(const void *base, const struct ra__metric *m)
{
    const unsigned char *p = (const unsigned char *)base + m->off;
    if (m->is_bool) {
        bool b;
        memcpy(&b, p, sizeof b);
        return b ? 1 : 0;
    }
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return (unsigned long long)v;
}

static const char *const ra__fam_prefix[] = {"ring", "pool", "slab", "arena", "reader", "book"};

/* A label value or JSON string with its escapes (Prometheus: \\ \" \n; JSON adds control chars). */
static void ra__put_escaped(FILE *f, const char *s, bool json)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (json && c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void ra__prom_labels(FILE *f, const struct ra__snap *x)
{
    fputs("{name=\"", f);
    ra__put_escaped(f, x->name, false);
    fputc('"', f);
    if (x->thread) fprintf(f, ",thread=\"%llu\"", x->tid);
}

static void ra__prom_family(FILE *f, const struct ra__snaps *s, int fam, const struct ra__metric *t,
                            size_t nt)
{
    for (size_t k = 0; k < nt; k++) {
        bool any = false;
        for (size_t i = 0; i < s->n; i++) {
            const struct ra__snap *x = &s->v[i];
            if (x->fam != fam) continue;
            if (!any) {
                fprintf(f, "# HELP ringalloc_%s_%s %s\n", ra__fam_prefix[fam], t[k].prom,
                        t[k].help);
                fprintf(f, "# TYPE ringalloc_%s_%s %s\n", ra__fam_prefix[fam], t[k].prom,
                        t[k].type);
                any = true;
            }
            fprintf(f, "ringalloc_%s_%s", ra__fam_prefix[fam], t[k].prom);
            ra__prom_labels(f, x);
            fprintf(f, "} %llu\n", ra__value(ra__base(x), &t[k]));
        }
    }
}

static void ra__prom_classes(FILE *f, const struct ra__snaps *s)
{
    const struct ra__metric *t = ra__class_metrics;
    for (size_t k = 0; k < RA__N(ra__class_metrics); k++) {
        bool any = false;
        for (size_t i = 0; i < s->n; i++) {
            const struct ra__snap *x = &s->v[i];
            if (x->fam != RA__F_SLAB) continue;
            for (uint32_t c = 0; c < x->u.slab->nclasses; c++) {
                const ra_slab_class_stats *cs = &x->u.slab->classes[c];
                if (!any) {
                    fprintf(f, "# HELP ringalloc_slab_class_%s %s\n", t[k].prom, t[k].help);
                    fprintf(f, "# TYPE ringalloc_slab_class_%s %s\n", t[k].prom, t[k].type);
                    any = true;
                }
                fprintf(f, "ringalloc_slab_class_%s", t[k].prom);
                ra__prom_labels(f, x);
                fprintf(f, ",size=\"%llu\"} %llu\n", (unsigned long long)cs->size,
                        ra__value(cs, &t[k]));
            }
        }
    }
}

/* ringalloc_book_errors_total{name=...,kind=...}: every book, every kind. */
static void ra__prom_book_errors(FILE *f, const struct ra__snaps *s)
{
    bool any = false;
    for (size_t i = 0; i < s->n; i++) {
        const struct ra__snap *x = &s->v[i];
        if (x->fam != RA__F_BOOK) continue;
        if (!any) {
            fputs("# HELP ringalloc_book_errors_total Inconsistent messages by kind.\n"
                  "# TYPE ringalloc_book_errors_total counter\n",
                  f);
            any = true;
        }
        for (int k = 0; k < RA_BOOK_ERR_COUNT; k++) {
            fputs("ringalloc_book_errors_total", f);
            ra__prom_labels(f, x);
            fprintf(f, ",kind=\"%s\"} %llu\n", ra_book_error_name(k),
                    (unsigned long long)x->u.book->errors[k]);
        }
    }
}

static int ra__finish(FILE *f, int rc)
{
    if (rc == RA_OK && (fflush(f) != 0 || ferror(f))) rc = RA_EIO;
    return rc;
}

RA_API int ra_stats_write_prometheus(FILE *f, const ra_stats_source *src, size_t n)
{
    if (f == NULL || (src == NULL && n > 0)) return RA_EINVAL;
    struct ra__snaps s = {0};
    int rc = ra__collect(&s, src, n);
    if (rc == RA_OK) {
        ra__prom_family(f, &s, RA__F_RING, ra__ring_metrics, RA__N(ra__ring_metrics));
        ra__prom_family(f, &s, RA__F_POOL, ra__pool_metrics, RA__N(ra__pool_metrics));
        ra__prom_family(f, &s, RA__F_SLAB, ra__slab_metrics, RA__N(ra__slab_metrics));
        ra__prom_classes(f, &s);
        ra__prom_family(f, &s, RA__F_ARENA, ra__arena_metrics, RA__N(ra__arena_metrics));
        ra__prom_family(f, &s, RA__F_READER, ra__reader_metrics, RA__N(ra__reader_metrics));
        ra__prom_family(f, &s, RA__F_BOOK, ra__book_metrics, RA__N(ra__book_metrics));
        ra__prom_book_errors(f, &s);
        rc = ra__finish(f, rc);
    }
    ra__snaps_free(&s);
    return rc;
}

static void ra__visit(const void *base, const struct ra__metric *t, size_t nt,
                      ra_stats_field_fn *fn, void *ctx)
{
    for (size_t k = 0; k < nt; k++) fn(ctx, t[k].field, ra__value(base, &t[k]), t[k].is_bool);
}

/* the table of each kind that ra_stats_fields() serves */
static const struct {
    const struct ra__metric *t;
    size_t n;
} ra__kind_tables[] = {
    [RA_STATS_RING] = {ra__ring_metrics, RA__N(ra__ring_metrics)},
    [RA_STATS_POOL] = {ra__pool_metrics, RA__N(ra__pool_metrics)},
    [RA_STATS_SLAB] = {ra__slab_metrics, RA__N(ra__slab_metrics)},
    [RA_STATS_ARENA] = {ra__arena_metrics, RA__N(ra__arena_metrics)},
    [RA_STATS_BOOK] = {ra__book_metrics, RA__N(ra__book_metrics)},
};

RA_API int ra_stats_fields(int kind, const void *stats, ra_stats_field_fn *fn, void *ctx)
{
    if (stats == NULL || fn == NULL || kind < 0 || (size_t)kind >= RA__N(ra__kind_tables) ||
        ra__kind_tables[kind].t == NULL)
        return RA_EINVAL;
    ra__visit(stats, ra__kind_tables[kind].t, ra__kind_tables[kind].n, fn, ctx);
    return RA_OK;
}

static void ra__json_field(void *f, const char *name, unsigned long long v, bool is_bool)
{
    if (is_bool)
        fprintf(f, ",\"%s\":%s", name, v ? "true" : "false");
    else
        fprintf(f, ",\"%s\":%llu", name, v);
}

static void ra__json_fields(FILE *f, const void *base, const struct ra__metric *t, size_t nt)
{
    ra__visit(base, t, nt, ra__json_field, f);
}

RA_API int ra_stats_write_json(FILE *f, const ra_stats_source *src, size_t n)
{
    if (f == NULL || (src == NULL && n > 0)) return RA_EINVAL;
    struct ra__snaps s = {0};
    int rc = ra__collect(&s, src, n);
    if (rc == RA_OK) {
        fputs("{\"ringalloc\":[", f);
        for (size_t i = 0; i < s.n; i++) {
            const struct ra__snap *x = &s.v[i];
            fprintf(f, "%s{\"kind\":\"%s\",\"name\":\"", i ? "," : "", ra__fam_prefix[x->fam]);
            ra__put_escaped(f, x->name, true);
            fputc('"', f);
            if (x->thread) fprintf(f, ",\"thread\":%llu,\"sessions\":%llu", x->tid, x->sess);
            switch (x->fam) {
            case RA__F_RING:
                ra__json_fields(f, &x->u.ring, ra__ring_metrics, RA__N(ra__ring_metrics));
                break;
            case RA__F_POOL:
                ra__json_fields(f, &x->u.pool, ra__pool_metrics, RA__N(ra__pool_metrics));
                break;
            case RA__F_SLAB:
                ra__json_fields(f, x->u.slab, ra__slab_metrics, RA__N(ra__slab_metrics));
                fputs(",\"classes\":[", f);
                for (uint32_t c = 0; c < x->u.slab->nclasses; c++) {
                    const ra_slab_class_stats *cs = &x->u.slab->classes[c];
                    fprintf(f, "%s{\"size\":%llu", c ? "," : "", (unsigned long long)cs->size);
                    ra__json_fields(f, cs, ra__class_metrics, RA__N(ra__class_metrics));
                    fputc('}', f);
                }
                fputc(']', f);
                break;
            case RA__F_READER:
                ra__json_fields(f, &x->u.reader, ra__reader_metrics, RA__N(ra__reader_metrics));
                break;
            case RA__F_BOOK:
                ra__json_fields(f, x->u.book, ra__book_metrics, RA__N(ra__book_metrics));
                fputs(",\"errors\":{", f);
                for (int k = 0; k < RA_BOOK_ERR_COUNT; k++)
                    fprintf(f, "%s\"%s\":%llu", k ? "," : "", ra_book_error_name(k),
                            (unsigned long long)x->u.book->errors[k]);
                fputc('}', f);
                break;
            default:
                ra__json_fields(f, &x->u.arena, ra__arena_metrics, RA__N(ra__arena_metrics));
                break;
            }
            fputc('}', f);
        }
        fputs("]}\n", f);
        rc = ra__finish(f, rc);
    }
    ra__snaps_free(&s);
    return rc;
}

RA_API int ra_stats_write_textfile(const char *path, const ra_stats_source *src, size_t n)
{
    if (path == NULL || (src == NULL && n > 0)) return RA_EINVAL;
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (tmp == NULL) return RA_ENOMEM;
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        free(tmp);
        return RA_EIO;
    }
    int rc = ra_stats_write_prometheus(f, src, n);
    if (fclose(f) != 0 && rc == RA_OK) rc = RA_EIO;
    if (rc == RA_OK && rename(tmp, path) != 0) rc = RA_EIO;
    if (rc != RA_OK) {
        int e = errno;
        (void)remove(tmp);
        errno = e;
    }
    free(tmp);
    return rc;
}
