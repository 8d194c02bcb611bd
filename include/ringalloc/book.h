/* book.h - full-depth order books (per order, per price level) from ITCH 5.0 and DBN MBO */
#ifndef RINGALLOC_BOOK_H
#define RINGALLOC_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/arena.h"
#include "ringalloc/pool.h"
#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The contract, in brief (docs/book.md has the design and the measurements).
 *
 * - A book holds every live order of every symbol of one feed: each price level keeps its
 *   orders in time priority with their aggregate quantity and count. Finding an order by its
 *   reference is O(1) (an open-addressing table sized from max_orders); the best bid and ask of
 *   a symbol are O(1).
 * - Memory: orders are blocks of an ra_pool (no malloc per order); symbols, price levels and
 *   the per-symbol level arrays live in an ra_arena that ra_book_reset() empties at the end of
 *   each session (no free of individual objects). A level array too large for the arena's
 *   regular chunks comes from malloc (counted in `sys_allocs`).
 * - When the order pool is empty, cfg->on_empty decides (enum ra_book_on_empty): fail fast
 *   (default: the message is not applied, the call returns RA_ENOMEM and the error
 *   RA_BOOK_ERR_POOL_FULL is counted), fall back to malloc for that order (counted in
 *   `fallbacks`), or grow: add a further pool of grow_orders blocks (counted in `grows`).
 * - Prices stay integers in the feed's units: ITCH 1/10000, DBN 1e-9. Quantities are shares or
 *   contracts.
 * - Inconsistent feed data never crashes the book: it is counted by kind (enum ra_book_error)
 *   and the message is applied as far as it makes sense (see each kind).
 * - A sequence gap or a ring overwrite loss does not clear the book: ra_book_mark_incomplete()
 *   records it (`complete` false, `missed` messages).
 * - Symbols: an ITCH symbol is the stock field of R, A and F messages with trailing spaces
 *   removed (an A/F for an unknown stock creates it); a DBN symbol is an instrument_id, named
 *   by ra_book_name_instrument() or else by its decimal id. Symbol indexes (0 .. symbols-1) are
 *   stable until the next reset.
 * - A book is used by one thread at a time. Nothing in it blocks or makes a system call on the
 *   hot path, except a pool growth or a malloc fallback that the configuration asked for.
 * ------------------------------------------------------------------------------------------- */

typedef struct ra_book ra_book;

/* What an apply call does when the order pool is empty. */
enum ra_book_on_empty {
    RA_BOOK_FAIL = 0,     /* return RA_ENOMEM, count RA_BOOK_ERR_POOL_FULL (default) */
    RA_BOOK_FALLBACK = 1, /* take the order from malloc (counted in `fallbacks`) */
    RA_BOOK_GROW = 2,     /* add a pool of grow_orders blocks (counted in `grows`) */
};

enum ra_book_flags {
    RA_BOOK_HUGEPAGES = 1u << 0, /* order pool in huge pages when available (the order table
                                    always asks for huge or transparent huge pages) */
    RA_BOOK_PREFAULT = 1u << 1,  /* back the order pool and table at create (and the pool again
                                    at each reset), the table sized for max_orders at once: no
                                    page fault or table growth on the hot path */
    RA_BOOK_MALLOC = 1u << 2,    /* every order from malloc/free instead of the pool: the same
                                    book code for allocator comparisons (LD_PRELOAD) */
};

#define RA_BOOK_DEFAULT_ORDERS (1u << 21) /* max_orders 0: holds a full Nasdaq day (1.65M peak) */
#define RA_BOOK_NAME_MAX       32u        /* symbol name buffer, NUL included */

enum ra_book_side { RA_BOOK_BID = 0, RA_BOOK_ASK = 1 };

/* Inconsistent data, counted in ra_book_stats.errors[kind]. */
#define RA_BOOK_ERROR_LIST(X)                                                                      \
    X(RA_BOOK_ERR_UNKNOWN_REF, "unknown_ref")       /* E/C/X/D (MBO C) of an order not booked */   \
    X(RA_BOOK_ERR_EXEC_TOO_LARGE, "exec_too_large") /* executed > open qty: order removed */       \
    X(RA_BOOK_ERR_CANCEL_TOO_LARGE, "cancel_too_large") /* cancelled > open qty: removed */        \
    X(RA_BOOK_ERR_REPLACE_MISSING, "replace_missing")   /* U / MBO M of an unknown order */        \
    X(RA_BOOK_ERR_DUPLICATE_REF, "duplicate_ref") /* add (or U new ref) already live: ignored */   \
    X(RA_BOOK_ERR_CROSSED, "crossed")             /* a book became crossed (bid >= ask) */         \
    X(RA_BOOK_ERR_BAD_ORDER, "bad_order")         /* side not B/S, or quantity 0: ignored */       \
    X(RA_BOOK_ERR_SHORT, "short_message")         /* shorter than its type: ignored */             \
    X(RA_BOOK_ERR_BAD_ACTION, "bad_action")       /* MBO action or rtype unknown: ignored */       \
    X(RA_BOOK_ERR_POOL_FULL, "pool_full")         /* order pool empty (fail fast) */               \
    X(RA_BOOK_ERR_NO_MEMORY, "no_memory") /* arena/malloc failed for a symbol or level: ignored */

#define RA__BOOK_ERR_ENUM(name, text) name,
enum ra_book_error { RA_BOOK_ERROR_LIST(RA__BOOK_ERR_ENUM) RA_BOOK_ERR_COUNT };
#undef RA__BOOK_ERR_ENUM

typedef struct ra_book_config {
    size_t max_orders;  /* live orders the pool holds (0: RA_BOOK_DEFAULT_ORDERS) */
    int on_empty;       /* enum ra_book_on_empty */
    size_t grow_orders; /* RA_BOOK_GROW: blocks per added pool (0: max_orders / 4) */
    uint32_t flags;     /* enum ra_book_flags */
    size_t arena_chunk; /* first arena chunk, bytes (0: 1 MiB) */
} ra_book_config;

/* The top of one side is px/qty/orders of its best level; qty and orders are 0 (and px 0) when
 * the side is empty. */
typedef struct ra_book_top {
    int64_t bid_px;
    uint64_t bid_qty;
    uint32_t bid_orders;
    int64_t ask_px;
    uint64_t ask_qty;
    uint32_t ask_orders;
} ra_book_top;

typedef struct ra_book_level {
    int64_t px;
    uint64_t qty;    /* sum of the open quantity of its orders */
    uint32_t orders; /* orders on the level */
} ra_book_level;

typedef struct ra_book_order {
    uint64_t ref;   /* order reference (ITCH) or order_id (DBN) */
    size_t sym;     /* symbol index */
    int side;       /* enum ra_book_side */
    int64_t px;     /* price */
    uint64_t qty;   /* open quantity */
    uint32_t ahead; /* orders ahead of it on its level (time priority) */
} ra_book_order;

typedef struct ra_book_stats {
    uint64_t messages;          /* apply calls (ITCH messages and MBO records) */
    uint64_t itch[128];         /* ITCH messages by type byte (ASCII) */
    uint64_t mbo[128];          /* MBO records by action byte (ASCII) */
    uint64_t not_booked;        /* well-formed messages of types the book does not use */
    uint64_t orders_live;       /* orders on the book now */
    uint64_t orders_high_water; /* peak of orders_live over the book's life */
    uint64_t levels;            /* price levels now (both sides, every symbol) */
    uint64_t levels_high_water; /* peak of levels */
    uint64_t symbols;           /* symbols now */
    uint64_t adds, executions, cancels, deletes, replaces; /* booked events */
    uint64_t bbo_changes; /* top changes seen (counted whether or not a callback is set) */
    uint64_t errors[RA_BOOK_ERR_COUNT];
    uint64_t errors_total;
    uint64_t fallbacks;   /* orders taken from malloc because the pool was empty */
    uint64_t grows;       /* pools added (RA_BOOK_GROW) */
    uint64_t sys_allocs;  /* large level arrays taken from malloc */
    uint64_t sessions;    /* resets (system event 'C' or ra_book_reset()) */
    uint64_t missed;      /* messages reported lost by ra_book_mark_incomplete() */
    bool complete;        /* no loss reported since create */
    uint64_t capacity;    /* orders the pools hold (grown pools included) */
    ra_pool_stats pool;   /* the first order pool (summed over grown pools) */
    ra_arena_stats arena; /* the session arena */
} ra_book_stats;

/* Called when the best bid or ask (price, quantity or order count) of a symbol changes after a
 * message; ts is the ITCH 48-bit timestamp (ns since midnight) or the DBN ts_event. */
typedef void (*ra_book_bbo_fn)(void *ctx, size_t sym, const char *name, uint64_t ts,
                               const ra_book_top *top);

/*! ra_book_create() : makes an empty book (cfg NULL: defaults).
 * @return RA_OK and *out set; RA_EINVAL (unknown flags or on_empty, max_orders >= 2^31) or
 *         RA_ENOMEM; *out is NULL on failure. */
RA_API int ra_book_create(ra_book **out, const ra_book_config *cfg);

/*! ra_book_destroy() : frees the book and all its memory. NULL is accepted.
 * @return nothing; cannot fail. */
RA_API void ra_book_destroy(ra_book *b);

/*! ra_book_itch() : applies one ITCH 5.0 message (msg starts at its type byte, len its length).
 * Booked: R (symbol), S (event 'C' ends the session: ra_book_reset() after saving the tops),
 * A/F, E, C, X, D, U. Every other type is counted and ignored.
 * @return RA_OK (inconsistent data included: it is counted); RA_ENOMEM when the order pool is
 *         empty under RA_BOOK_FAIL (or malloc failed: the message is not applied, counted);
 *         RA_EINVAL for b or msg NULL or len 0. */
RA_API int ra_book_itch(ra_book *b, const void *msg, size_t len);

/*! ra_book_itch_many() : applies n ITCH messages (msgs[i] of lens[i] bytes) in order, as n calls
 * of ra_book_itch() would, while it prefetches the order-table slots, orders and queue neighbours
 * of the messages a few places ahead: a reader that takes messages in batches hides part of the
 * cache misses of a large book.
 * @return RA_OK when every message gave RA_OK, else the last other status (every message is
 *         applied all the same); RA_EINVAL for b NULL, or msgs or lens NULL with n > 0. */
RA_API int ra_book_itch_many(ra_book *b, const void *const *msgs, const size_t *lens, size_t n);

/*! ra_book_mbo() : applies one DBN MBO record (rtype 0xA0, 56 bytes, little-endian, starting
 * at its length byte). Actions: A add, C cancel (size is the quantity cancelled), M modify (new
 * price and size: priority lost unless the size shrinks at the same price; an unknown order is
 * added, counted as replace_missing), R clear the instrument's book, T trade and F fill (no
 * change to the book: the venue sends the cancel), N none.
 * @return as ra_book_itch(); a record of another rtype counts bad_action and returns RA_OK. */
RA_API int ra_book_mbo(ra_book *b, const void *rec, size_t len);

/*! ra_book_name_instrument() : names DBN instrument id (kept across resets; the book's symbol
 * for it, if any, is renamed). name longer than RA_BOOK_NAME_MAX - 1 is truncated.
 * @return RA_OK; RA_EINVAL for NULL arguments; RA_ENOMEM. */
RA_API int ra_book_name_instrument(ra_book *b, uint32_t instrument_id, const char *name);

/*! ra_book_reset() : ends the session: every order and level is gone, the arena is reset and
 * the pool emptied without a free of each object; symbols are forgotten. The tops as they stood
 * are saved first (ra_book_saved_symbols()). Stats counters keep counting.
 * @return nothing; cannot fail. */
RA_API void ra_book_reset(ra_book *b);

/*! ra_book_mark_incomplete() : records a loss of `missed` messages (gap, overwrite): `complete`
 * becomes false; the book is kept. @return nothing; cannot fail. */
RA_API void ra_book_mark_incomplete(ra_book *b, uint64_t missed);

/*! ra_book_on_bbo() : sets (fn NULL: clears) the top-of-book change callback.
 * @return nothing; cannot fail. */
RA_API void ra_book_on_bbo(ra_book *b, ra_book_bbo_fn fn, void *ctx);

/*! ra_book_symbols() : symbols of the current session. @return the count. */
RA_API size_t ra_book_symbols(const ra_book *b);

/*! ra_book_symbol() : name and top of symbol sym (top may be NULL).
 * @return the name (owned by the book, valid until the next reset), or NULL when sym is out of
 *         range. */
RA_API const char *ra_book_symbol(const ra_book *b, size_t sym, ra_book_top *top);

/*! ra_book_find() : the index of the symbol named name (ITCH stock without trailing spaces, or
 * the DBN name). @return RA_OK and *sym; RA_ENOENT when there is none; RA_EINVAL for NULL. */
RA_API int ra_book_find(const ra_book *b, const char *name, size_t *sym);

/*! ra_book_depth() : the n best levels of one side of symbol sym, best first.
 * @return the number of levels written (0 for an empty side or sym out of range). */
RA_API size_t ra_book_depth(const ra_book *b, size_t sym, int side, ra_book_level *levels,
                            size_t n);

/*! ra_book_level_orders() : references of the orders on level `level` (0 = best) of one side,
 * in time priority (first = first to trade). @return the number written (at most n; 0 when the
 * level does not exist). */
RA_API size_t ra_book_level_orders(const ra_book *b, size_t sym, int side, size_t level,
                                   uint64_t *refs, size_t n);

/*! ra_book_order_find() : one live order by reference (O(1), plus O(ahead) to count the orders
 * ahead of it).
 * @return RA_OK and *o filled; RA_ENOENT when no such order is live. */
RA_API int ra_book_order_find(const ra_book *b, uint64_t ref, ra_book_order *o);

/*! ra_book_saved_symbols() / ra_book_saved_symbol() : the tops as they stood just before the
 * last reset (what a report shows when the session ended with system event 'C'); empty before
 * any reset. ra_book_saved_symbol() @return the name, or NULL when i is out of range. */
RA_API size_t ra_book_saved_symbols(const ra_book *b);
RA_API const char *ra_book_saved_symbol(const ra_book *b, size_t i, ra_book_top *top);

/*! ra_book_get_stats() : a snapshot. @return nothing; *s is always filled. */
RA_API void ra_book_get_stats(const ra_book *b, ra_book_stats *s);

/*! ra_book_error_name() : "unknown_ref", ... for an enum ra_book_error.
 * @return a static string; "unknown" out of range. */
RA_API const char *ra_book_error_name(int kind);

/*! ra_book_check() : verifies the invariants: each level's qty is the sum of its orders and its
 * count their number, no level is empty, levels are strictly ordered best first, every order is
 * found by its reference, live orders match the pool's in_use (pool mode) and the count of
 * orders on levels. For tests; O(orders).
 * @return 0 when all hold; -1 with the first violation described in why (cap bytes). */
RA_API int ra_book_check(const ra_book *b, char *why, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_BOOK_H */
