/* stats.h - write the stats of rings, pools, slabs and arenas as Prometheus text or JSON */
#ifndef RINGALLOC_STATS_H
#define RINGALLOC_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * One call writes any mix of allocators, each described by a tagged ra_stats_source.
 *
 * Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector
 * reads it: every metric family is written once, "# HELP" then "# TYPE" then one sample per
 * source, named ringalloc_<kind>_<field> (counters end in _total), labelled name="..." (label
 * values escaped). Slab classes add the family ringalloc_slab_class_* with a size="..." label;
 * per-thread arenas (RA_STATS_THREAD_ARENAS) are written as arenas with a thread="<tid>" label.
 * Booleans are 0/1 gauges.
 *
 * JSON: {"ringalloc":[{"kind":"pool","name":"orders", <every stats field>}, ...]}; field names
 * are those of the stats structs (ra_ring_stats, ra_pool_stats, ...); slabs carry "classes":[...],
 * thread arenas "thread" and "sessions".
 *
 * Threading: each object is read with its own get_stats function, under that function's rules
 * (thread-safe pools, rings and ring readers: any thread; single-threaded pools, slabs and arenas:
 * their own thread; RA_STATS_THREAD_ARENAS: any thread, published snapshots).
 *
 * Ring readers (RA_STATS_READER) give the families ringalloc_reader_read_total, _lost_total,
 * _laps_total and ringalloc_reader_lag (messages committed and not yet read or lost); in JSON
 * {"kind":"reader","name":...,"read","lost","laps","lag"}.
 *
 * Order books (RA_STATS_BOOK, name NULL: "book") give the families ringalloc_book_* (the scalar
 * fields of ra_book_stats; errors_total is ringalloc_book_errors_all_total) and
 * ringalloc_book_errors_total{kind="unknown_ref",...}; in JSON {"kind":"book",...,"errors":{kind:
 * count}}. Their order pools (summed) and session arena are written as a pool "<name>-orders" and
 * an arena "<name>-session".
 * ------------------------------------------------------------------------------------------- */

enum ra_stats_kind {
    RA_STATS_RING = 1,      /* obj is a const ra_ring * (ra_ring_get_stats) */
    RA_STATS_POOL = 2,      /* obj is a const ra_pool * */
    RA_STATS_SLAB = 3,      /* obj is a const ra_slab * */
    RA_STATS_ARENA = 4,     /* obj is a const ra_arena * */
    RA_STATS_THREAD_ARENAS, /* every per-thread arena (ra_arena_thread); obj unused */
    RA_STATS_READER = 6,    /* obj is a const ra_reader * (ra_reader_get_stats, ra_reader_lag) */
    RA_STATS_BOOK = 7,      /* obj is a const ra_book * (ra_book_get_stats): see below */
};

typedef struct ra_stats_source {
    int kind;         /* enum ra_stats_kind */
    const char *name; /* the name label; NULL: the object's own name ("ring" for rings,
                         "reader" for readers) */
    const void *obj;  /* the object */
} ra_stats_source;

/*! ra_stats_write_prometheus() : writes the n sources to f in the Prometheus text format.
 * @return RA_OK; RA_EINVAL (f NULL, src NULL with n > 0, unknown kind, obj NULL) before
 *         anything is written; RA_ENOMEM; RA_EIO when writing to f failed. */
RA_API int ra_stats_write_prometheus(FILE *f, const ra_stats_source *src, size_t n);

/*! ra_stats_write_json() : writes the n sources to f as one JSON object and a newline.
 * @return as ra_stats_write_prometheus(). */
RA_API int ra_stats_write_json(FILE *f, const ra_stats_source *src, size_t n);

/*! ra_stats_write_textfile() : the textfile collector convention: writes the Prometheus text to
 * "<path>.tmp.<pid>" and renames it over path, so the collector never reads a partial file
 * (path should end in ".prom" and live in the collector's directory).
 * @return as ra_stats_write_prometheus(); RA_EIO also when the file cannot be created or renamed
 *         (errno tells why; the temporary file is removed). */
/*! ra_stats_fields() : calls fn once for every scalar field of one stats struct, with the names
 * and in the order of the JSON writer, so a caller can put the stats in a document of its own.
 * kind says what stats points to: RA_STATS_RING an ra_ring_stats, RA_STATS_POOL an
 * ra_pool_stats, RA_STATS_SLAB an ra_slab_stats (its own fields, not the classes),
 * RA_STATS_ARENA an ra_arena_stats, RA_STATS_BOOK an ra_book_stats (the scalar fields: not
 * errors, pool or arena). Booleans come as 0 or 1 with is_bool set.
 * @return RA_OK, or RA_EINVAL (stats or fn NULL, another kind): fn is then not called. */
typedef void ra_stats_field_fn(void *ctx, const char *name, unsigned long long value, bool is_bool);
RA_API int ra_stats_fields(int kind, const void *stats, ra_stats_field_fn *fn, void *ctx);

RA_API int ra_stats_write_textfile(const char *path, const ra_stats_source *src, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_STATS_H */
