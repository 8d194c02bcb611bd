/* feed.h - replay's feed statistics: the counts every input keeps, their sum, time range, protocols
 */
#ifndef RP_FEED_H
#define RP_FEED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The protocols whose message types by_protocol keeps apart (ITCH 'P' and IEX-TP 'P' differ). */
enum rp_proto {
    RP_PROTO_ITCH = 0, /* ITCH 5.0 files, MoldUDP64 inner messages, tick files of ITCH */
    RP_PROTO_IEXTP,    /* IEX-TP inner messages (TOPS, DEEP, DEEP+) */
    RP_PROTO_OTHER,    /* tick file records of other sources */
    RP_PROTO_COUNT
};

/* Counts per source, following docs/counting.md. */
typedef struct rp_feed_stats {
    uint64_t packets;       /* capture packets read (records for files) */
    uint64_t bytes;         /* input bytes consumed (decompressed) */
    uint64_t decode_errors; /* malformed packets/messages skipped */
    uint64_t fragments;     /* non-first IPv4 fragments skipped */
    uint64_t non_udp;       /* packets that were not UDP over IPv4/IPv6 (skipped) */
    uint64_t messages;      /* messages delivered by rp_source_next() */
    uint64_t heartbeats;    /* framing packets carrying no message */
    uint64_t gaps, missing, backward;
    uint64_t by_type[256]; /* messages by type byte (untyped messages are not counted); the sum
                              of by_proto, refreshed by rp_source_stats() */
    bool type_is_char;     /* by_type keys print as the character (ITCH, IEX-TP) or "0x%02x" */
    bool truncated;        /* the last record was cut short (a warning, not an error) */
    uint64_t first_ts_ns, last_ts_ns; /* the first and the last timestamp, in input order */
    uint64_t min_ts_ns, max_ts_ns;    /* the smallest and the largest (0 and 0 when none) */
    uint64_t backward_steps; /* timestamps below the one before (time, not sequence numbers) */
    uint64_t by_proto[RP_PROTO_COUNT][256]; /* typed messages by protocol and type byte */
    unsigned protos;   /* bit (1u << rp_proto) per row of by_proto that may be nonzero: whoever
                          counts into a row sets its bit, and the sums read only those rows */
    unsigned framings; /* bit (1u << rp_framing) per framing met */
    bool stamped;      /* a timestamp was seen (the four above are set) */
} rp_feed_stats;

/* rp_feed_stamp() : one more timestamp in input order (a packet's, a file record's): updates
 * first, last, min, max and backward_steps. Inline: it runs once per packet. */
static inline void rp_feed_stamp(rp_feed_stats *st, uint64_t ts)
{
    if (!st->stamped) {
        st->stamped = true;
        st->first_ts_ns = st->min_ts_ns = st->max_ts_ns = ts;
    } else {
        if (ts < st->last_ts_ns) st->backward_steps++;
        if (ts < st->min_ts_ns) st->min_ts_ns = ts;
        if (ts > st->max_ts_ns) st->max_ts_ns = ts;
    }
    st->last_ts_ns = ts;
}

/* rp_feed_stats_sum_types() : sets by_type to the sum of by_proto. */
void rp_feed_stats_sum_types(rp_feed_stats *st);

/* rp_feed_stats_add() : adds src's counts to dst (a run over several inputs or loops): counts
 * add up, truncated ORs, by_type keys print as characters only when every input with typed
 * messages says so, the time range is the union (first_ts_ns the earliest first, last_ts_ns the
 * latest last, as min and max). */
void rp_feed_stats_add(rp_feed_stats *dst, const rp_feed_stats *src);

/* rp_proto_name() : "itch", "iextp", "other" (the by_protocol keys).
 * @return the name, or "?" for a value out of range. */
const char *rp_proto_name(enum rp_proto p);

/* rp_feed_protocols() : how many protocols have typed messages in st. by_protocol is written only
 * when this is more than one. */
unsigned rp_feed_protocols(const rp_feed_stats *st);

struct rp_json;

/* rp_report_by_protocol() : "by_protocol": {"itch": {by_type...}, "iextp": {...}} into j, only
 * when st holds more than one protocol (nothing otherwise). */
void rp_report_by_protocol(struct rp_json *j, const rp_feed_stats *st);

/* rp_report_by_protocol_lines() : one "<prefix><proto>: A:1 B:2" line per protocol on f, only
 * when st holds more than one protocol. */
void rp_report_by_protocol_lines(FILE *f, const char *prefix, const rp_feed_stats *st);

#endif /* RP_FEED_H */
