/* readers.c - ringfeed's in-process reader threads: read the ring to its close, check the
 * sequence numbers, count
 *
 * Design: each reader polls in place and sleeps in ra_reader_wait() when the ring is empty, so
 * an idle feed costs the readers nothing. A record whose sequence number is not the one after
 * the last (a lap aside, which the ring reports and counts in `lost`) is counted out of order: a
 * correct ring never gives one.
 */
#include <pthread.h>
#include <stdlib.h>

#include "handler.h"

#define RF__WAIT_NS 100000000 /* a reader re-checks at least every 100 ms */

typedef struct rf__reader {
    pthread_t th;
    ra_ring *ring;
    ra_reader rd;
    uint64_t expect;
    bool started;
    rf_reader_counts c;
} rf__reader;

struct rf_readers {
    unsigned n;
    rf__reader r[];
};

static void rf__on_msg(const ra_msg *m, void *ctx)
{
    rf__reader *r = ctx;
    if (r->started && m->seq != r->expect) r->c.out_of_order++;
    r->started = true;
    r->expect = m->seq + 1;
    r->c.bytes += m->len;
}

static void *rf__reader_main(void *arg)
{
    rf__reader *r = arg;
    for (;;) {
        int why = RA_OK;
        ra_reader_poll_ex(&r->rd, rf__on_msg, r, 256, &why);
        if (why == RA_LAPPED) {
            r->started = false;
            continue;
        }
        if (why == RA_OK) continue;
        if (why == RA_EMPTY) why = ra_reader_wait(&r->rd, RF__WAIT_NS);
        if (why == RA_OK || why == RA_ETIMEDOUT) continue;
        if (why != RA_CLOSED) r->c.error = why;
        break;
    }
    ra_reader_stats s;
    ra_reader_get_stats(&r->rd, &s);
    r->c.read = s.read;
    r->c.lost = s.lost;
    r->c.laps = s.laps;
    return NULL;
}

int rf_readers_start(rf_readers **out, ra_ring *ring, unsigned n)
{
    *out = NULL;
    if (n == 0 || n > 64) return -1;
    rf_readers *rs = calloc(1, sizeof(*rs) + n * sizeof(rf__reader));
    if (!rs) return -1;
    for (unsigned i = 0; i < n; i++) {
        rf__reader *r = &rs->r[i];
        r->ring = ring;
        if (ra_reader_init(&r->rd, ring, RA_START_OLDEST) != RA_OK ||
            pthread_create(&r->th, NULL, rf__reader_main, r) != 0) {
            ra_ring_close(ring);
            rs->n = i;
            rf_reader_counts tmp[64];
            rf_readers_join(rs, tmp);
            return -1;
        }
    }
    rs->n = n;
    *out = rs;
    return 0;
}

void rf_readers_join(rf_readers *rs, rf_reader_counts *out)
{
    if (!rs) return;
    for (unsigned i = 0; i < rs->n; i++) {
        pthread_join(rs->r[i].th, NULL);
        out[i] = rs->r[i].c;
    }
    free(rs);
}
