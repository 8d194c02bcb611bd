/* bench_book.c - the order book alone: a generated ITCH 5.0 flow, in memory, through ra_book */
/*
 * What it measures: ns per message (and messages per second) of ra_book_itch() over a stream of
 * --messages generated messages (tests/support/book_gen.h: adds near the top, deletes,
 * executions, partial cancels, replaces, a few trades; live orders bounded by --live; never
 * crossing), input already in memory, one thread. Each run starts from an empty book
 * (ra_book_reset, untimed); the first run is a warm-up.
 *   --pool    orders from the book's ra_pool (the default)
 *   --malloc  the same book code with orders from malloc/free (RA_BOOK_MALLOC): run it under
 *             LD_PRELOAD to compare jemalloc, tcmalloc and mimalloc (bench/run-book.sh)
 *   --batch   the messages through ra_book_itch_many(), 64 at a time (prefetching ahead)
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): on a shared machine wall time also
 * counts the time other processes hold the core (the median wall time is printed beside).
 * Output: "allocator NAME" (with --malloc), "messages N", "wall_median_ns W", then
 * "result book IMPL BEST_NS MEDIAN_NS" (CPU ns per message). Exit 1 when the final book does not
 * match the generator's own view or its invariants fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/support/book_gen.h"
#include "bench_util.h"
#include "ringalloc/ringalloc.h"

typedef struct opts {
    size_t messages, live, reps;
    uint32_t symbols;
    int malloc_orders, batch;
} opts;

#define BATCH 64 /* messages per ra_book_itch_many() call with --batch */

/* The whole flow as u16 length + message records. @return the buffer (NULL: no memory). */
static uint8_t *make_flow(const opts *o, size_t *bytes, book_gen *g)
{
    uint8_t *buf = malloc(o->messages * 46);
    if (!buf || book_gen_init(g, 42, o->symbols, o->live) != 0) return NULL;
    size_t off = 0;
    for (size_t i = 0; i < o->messages; i++) {
        size_t len = book_gen_next(g, buf + off + 2);
        ra_store_be16(buf + off, (uint16_t)len);
        off += 2 + len;
    }
    *bytes = off;
    return buf;
}

/* The thread's CPU time in ns: on a shared machine wall time also counts the time other
 * processes hold the core. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The flow through ra_book_itch_many(), BATCH messages per call. */
static void run_batched(ra_book *b, const uint8_t *buf, size_t bytes)
{
    const void *msgs[BATCH];
    size_t lens[BATCH], k = 0;
    for (size_t off = 0; off < bytes;) {
        lens[k] = ra_load_be16(buf + off);
        msgs[k++] = buf + off + 2;
        off += 2 + lens[k - 1];
        if (k == BATCH || off >= bytes) {
            ra_book_itch_many(b, msgs, lens, k);
            k = 0;
        }
    }
}

static double run_once(ra_book *b, const opts *o, const uint8_t *buf, size_t bytes, double *wall)
{
    ra_book_reset(b);
    uint64_t w0 = bench_now_ns(), t0 = cpu_ns();
    if (o->batch) run_batched(b, buf, bytes);
    for (size_t off = 0; !o->batch && off < bytes;) {
        size_t len = ra_load_be16(buf + off);
        ra_book_itch(b, buf + off + 2, len);
        off += 2 + len;
    }
    size_t messages = o->messages;
    uint64_t t1 = cpu_ns();
    *wall = (double)(bench_now_ns() - w0) / (double)messages;
    return (double)(t1 - t0) / (double)messages;
}

/* The final book against the generator's view: live orders and every order's state. */
static int verify(const ra_book *b, const book_gen *g)
{
    char why[256];
    if (ra_book_check(b, why, sizeof why) != 0) {
        fprintf(stderr, "bench_book: invariant failed: %s\n", why);
        return -1;
    }
    ra_book_stats st;
    ra_book_get_stats(b, &st);
    if (st.orders_live != g->nlive || st.errors_total != 0) {
        fprintf(stderr, "bench_book: %llu live orders (generator %zu), %llu errors\n",
                (unsigned long long)st.orders_live, g->nlive, (unsigned long long)st.errors_total);
        return -1;
    }
    for (size_t i = 0; i < g->nlive; i += 61) { /* a sample: ra_book_order_find counts `ahead` */
        ra_book_order o;
        if (ra_book_order_find(b, g->live[i].ref, &o) != RA_OK || o.qty != g->live[i].qty ||
            o.px != g->live[i].px) {
            fprintf(stderr, "bench_book: order %llu differs from the generator\n",
                    (unsigned long long)g->live[i].ref);
            return -1;
        }
    }
    return 0;
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.messages = 6000000, .live = 400000, .reps = 5, .symbols = 500};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--malloc") == 0)
            o->malloc_orders = 1;
        else if (strcmp(a, "--pool") == 0)
            o->malloc_orders = 0;
        else if (strcmp(a, "--batch") == 0)
            o->batch = 1;
        else if (strcmp(a, "--quick") == 0)
            o->messages = 1000000, o->reps = 3;
        else if (v && strcmp(a, "--messages") == 0 && ++i)
            o->messages = strtoull(v, NULL, 10);
        else if (v && strcmp(a, "--live") == 0 && ++i)
            o->live = strtoull(v, NULL, 10);
        else if (v && strcmp(a, "--reps") == 0 && ++i)
            o->reps = strtoull(v, NULL, 10);
        else if (v && strcmp(a, "--symbols") == 0 && ++i)
            o->symbols = (uint32_t)strtoul(v, NULL, 10);
        else {
            fprintf(stderr,
                    "usage: bench_book [--pool|--malloc] [--batch] [--messages N] [--live N] "
                    "[--symbols N] [--reps N] [--quick]\n");
            return -1;
        }
    }
    if (o->reps < 1 || o->reps > 64 || o->messages == 0) return -1;
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0) return 2;
    book_gen g;
    size_t bytes = 0;
    uint8_t *buf = make_flow(&o, &bytes, &g);
    ra_book *b = NULL;
    ra_book_config cfg = {.flags = RA_BOOK_PREFAULT | RA_BOOK_HUGEPAGES |
                                   (o.malloc_orders ? RA_BOOK_MALLOC : 0u)};
    if (!buf || ra_book_create(&b, &cfg) != RA_OK) {
        fprintf(stderr, "bench_book: out of memory\n");
        return 1;
    }
    if (o.malloc_orders) printf("allocator %s\n", bench_which_malloc());
    printf("messages %zu\n", o.messages);
    double v[64], w[64];
    run_once(b, &o, buf, bytes, &w[0]); /* warm-up */
    for (size_t r = 0; r < o.reps; r++) v[r] = run_once(b, &o, buf, bytes, &w[r]);
    int rc = verify(b, &g) == 0 ? 0 : 1;
    double best = v[0];
    for (size_t r = 1; r < o.reps; r++) best = v[r] < best ? v[r] : best;
    printf("wall_median_ns %.2f\n", bench_median(w, (int)o.reps));
    printf("result book %s%s %.2f %.2f\n", o.malloc_orders ? "malloc" : "pool",
           o.batch ? "_batch" : "", best, bench_median(v, (int)o.reps));
    ra_book_destroy(b);
    book_gen_free(&g);
    free(buf);
    return rc;
}
