/* strategy.c - the smallest strategy-side program: attaches to the shared ring that ringfeed
 * writes (ringfeed --shm NAME), counts what arrives by message type and measures the
 * wire-to-here latency, until ringfeed closes the ring.
 *
 * Build (public headers and library only):
 *     cc -O2 -o strategy strategy.c $(pkg-config --cflags --libs ringalloc)
 * Run:
 *     ringfeed --shm feed udp://239.1.1.1:5000 &   # the feed handler
 *     ./strategy feed                              # any number of these, in any process
 *
 * Each record is one message (ringfeed --write messages, the default): its type is the message
 * type byte (ITCH 'A', 'E', ...), its ts_ns the kernel receive time of its packet on
 * CLOCK_REALTIME, so now - ts_ns is the time from the wire to this reader. With -v every message
 * is printed; the summary goes to stdout at the end of stream.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* clock_gettime, usleep under -std=c11 */
#endif
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ringalloc/ring_shm.h>
#include <ringalloc/status.h>

typedef struct counts {
    uint64_t by_type[65536];
    uint64_t messages, bytes, lat_sum_ns, lat_max_ns;
    int verbose;
} counts;

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Called for each message, in place: this is where a strategy would act on it. */
static void on_message(const ra_msg *m, void *ctx)
{
    counts *c = ctx;
    uint64_t now = realtime_ns(), lat = now > m->ts_ns ? now - m->ts_ns : 0;
    c->messages++;
    c->bytes += m->len;
    c->by_type[m->type]++;
    c->lat_sum_ns += lat;
    if (lat > c->lat_max_ns) c->lat_max_ns = lat;
    if (c->verbose)
        printf("seq %" PRIu64 " type %c len %u latency %" PRIu64 " ns\n", m->seq,
               m->type > 32 && m->type < 127 ? m->type : '?', m->len, lat);
}

int main(int argc, char **argv)
{
    static counts c;
    int arg = 1;
    if (arg < argc && strcmp(argv[arg], "-v") == 0) c.verbose = 1, arg++;
    if (arg != argc - 1) {
        fprintf(stderr, "usage: strategy [-v] RING_NAME\n");
        return 1;
    }
    ra_ring *ring = NULL;
    int st;
    for (int tries = 0; (st = ra_ring_attach(&ring, argv[arg], 0)) != RA_OK; tries++) {
        if ((st != RA_ENOENT && st != RA_ENOTREADY) || tries == 1000) {
            fprintf(stderr, "strategy: %s: %s\n", argv[arg], ra_strerror(st));
            return 1;
        }
        usleep(10000); /* the feed handler has not created it yet */
    }
    ra_reader rd;
    if ((st = ra_reader_init(&rd, ring, RA_START_OLDEST)) != RA_OK) {
        fprintf(stderr, "strategy: %s\n", ra_strerror(st));
        return 1;
    }
    for (;;) {
        int why = RA_OK;
        ra_reader_poll_ex(&rd, on_message, &c, 1024, &why);
        if (why == RA_EMPTY) why = ra_reader_wait(&rd, 1000000000);
        if (why == RA_OK || why == RA_ETIMEDOUT || why == RA_LAPPED) continue;
        if (why != RA_CLOSED) fprintf(stderr, "strategy: stopped by %s\n", ra_strerror(why));
        break;
    }
    ra_reader_stats rs;
    ra_reader_get_stats(&rd, &rs);
    printf("%" PRIu64 " messages, %" PRIu64 " bytes, lost %" PRIu64 ", latency mean %" PRIu64
           " ns, max %" PRIu64 " ns\n",
           c.messages, c.bytes, rs.lost, c.messages ? c.lat_sum_ns / c.messages : 0, c.lat_max_ns);
    for (unsigned t = 0; t < 65536; t++)
        if (c.by_type[t])
            printf(t > 32 && t < 127 ? "  %c %" PRIu64 "\n" : "  0x%04x %" PRIu64 "\n", t,
                   c.by_type[t]);
    ra_ring_destroy(ring);
    return 0;
}
