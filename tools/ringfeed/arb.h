/* arb.h - ringfeed's A/B arbitration: first arrival wins, duplicates dropped, gaps only when
 * every line missed the numbers */
#ifndef RF_ARB_H
#define RF_ARB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing.h"

#define RF_ARB_LINES   16u  /* endpoints one arbiter takes */
#define RF_ARB_HOLES   512u /* open holes per stream; one more declares the oldest at once */
#define RF_ARB_STREAMS 64u  /* sequencing streams (sessions) tracked */

/* Sequence numbers [lo, hi) that no line has supplied yet, open since since_ns. */
typedef struct rf_hole {
    uint64_t lo, hi, since_ns;
} rf_hole;

/* One sequencing stream (a MoldUDP64 session, an IEX-TP channel and session) across the lines. */
typedef struct rf_arb_stream {
    bool started;
    uint64_t next;                   /* one past the highest number delivered */
    uint64_t line_end[RF_ARB_LINES]; /* per line: one past the highest number it sent (0: none) */
    rf_hole holes[RF_ARB_HOLES];     /* open holes, oldest first */
    size_t nholes;
    uint64_t hb_seq; /* the last heartbeat delivered: its number and line */
    unsigned hb_line;
    bool hb_any;
} rf_arb_stream;

/* Per-line counts. */
typedef struct rf_arb_line {
    uint64_t packets;     /* packets offered by this line */
    uint64_t delivered;   /* of them, delivered (first arrivals) */
    uint64_t duplicates;  /* of them, dropped as duplicates */
    uint64_t gaps_filled; /* of them, packets that filled a hole another line had left */
    uint64_t backward;    /* packets starting below the end of this line's previous packet */
} rf_arb_line;

/* The arbiter. Fields other than the counts are its own. */
typedef struct rf_arb {
    unsigned nlines;
    uint64_t window_ns; /* a hole older than this is declared a gap */
    rp_streams keys;    /* stream key -> index into st */
    rf_arb_stream *st;
    size_t nst;
    /* counts */
    uint64_t duplicates, gaps, missing, backward;
    rf_arb_line line[RF_ARB_LINES];
} rf_arb;

/* rf_arb_init() : an arbiter over nlines (1..RF_ARB_LINES) lines with the given window.
 * @return 0, or -1 for a bad nlines or when out of memory. */
int rf_arb_init(rf_arb *a, unsigned nlines, uint64_t window_ns);

void rf_arb_free(rf_arb *a);

/* What rf_arb_offer() decides for one packet. */
enum rf_arb_verdict {
    RF_ARB_DELIVER = 0, /* a first arrival: pass it on */
    RF_ARB_DUP = 1,     /* every number in it was delivered already (or, for a heartbeat, another
                           line's heartbeat for the same number was): drop it */
};

/* rf_arb_offer() : one sequenced packet of stream key[0..klen) from line `line`, carrying
 * sequence numbers [first, first + count) (count 0: a heartbeat announcing `first` as the next
 * number), at monotonic time now_ns. The first packet of a stream starts it (a receiver starting
 * mid-stream sees no gap). A packet above the highest number delivered opens a hole for the
 * numbers skipped; a packet covering part of an open hole fills that part (gaps_filled). Holes
 * every line has moved past, or older than the window, are declared gaps (gaps, missing).
 * A packet that cannot be tracked (too many streams, bad key) is delivered.
 * @return enum rf_arb_verdict. */
int rf_arb_offer(rf_arb *a, const uint8_t *key, size_t klen, unsigned line, uint64_t first,
                 uint64_t count, uint64_t now_ns);

/* rf_arb_expire() : declares the holes older than the window at now_ns (call it when no packet
 * came for a while). @return the number of holes still open in all streams. */
size_t rf_arb_expire(rf_arb *a, uint64_t now_ns);

/* rf_arb_flush() : declares every open hole a gap (end of run). */
void rf_arb_flush(rf_arb *a);

#endif /* RF_ARB_H */
