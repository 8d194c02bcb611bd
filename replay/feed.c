/* feed.c - replay's feed statistics: the sum over inputs, protocols and their report lines
 *
 * Design notes
 * - Inputs count typed messages per protocol (by_proto) on their per-message path; by_type, the
 *   contract's key, is their sum, made when the statistics are read. So ITCH 'P' and IEX-TP 'P'
 *   of a mixed capture stay apart at no cost per message.
 * - One sum for every place that adds inputs up (a run's files and loops, convert's inputs).
 */
#include "feed.h"

#include <inttypes.h>

#include "json.h"
#include "report.h"

#include <string.h>

void rp_feed_stats_sum_types(rp_feed_stats *st)
{
    memset(st->by_type, 0, sizeof st->by_type);
    for (unsigned p = 0; p < RP_PROTO_COUNT; p++)
        if (st->protos & 1u << p)
            for (unsigned t = 0; t < 256; t++) st->by_type[t] += st->by_proto[p][t];
}

static bool rp__typed(const rp_feed_stats *st)
{
    for (unsigned t = 0; t < 256; t++)
        if (st->by_type[t]) return true;
    return false;
}

/* The union of two time ranges, src's stamps after dst's. */
static void rp__add_time(rp_feed_stats *dst, const rp_feed_stats *src)
{
    if (!src->stamped) return;
    if (!dst->stamped) {
        dst->first_ts_ns = src->first_ts_ns;
        dst->last_ts_ns = src->last_ts_ns;
        dst->min_ts_ns = src->min_ts_ns;
        dst->max_ts_ns = src->max_ts_ns;
        dst->stamped = true;
    } else {
        if (src->first_ts_ns < dst->first_ts_ns) dst->first_ts_ns = src->first_ts_ns;
        if (src->last_ts_ns > dst->last_ts_ns) dst->last_ts_ns = src->last_ts_ns;
        if (src->min_ts_ns < dst->min_ts_ns) dst->min_ts_ns = src->min_ts_ns;
        if (src->max_ts_ns > dst->max_ts_ns) dst->max_ts_ns = src->max_ts_ns;
    }
    dst->backward_steps += src->backward_steps;
}

void rp_feed_stats_add(rp_feed_stats *dst, const rp_feed_stats *src)
{
    bool dst_typed = rp__typed(dst), src_typed = rp__typed(src);
    dst->packets += src->packets;
    dst->bytes += src->bytes;
    dst->decode_errors += src->decode_errors;
    dst->fragments += src->fragments;
    dst->non_udp += src->non_udp;
    dst->messages += src->messages;
    dst->heartbeats += src->heartbeats;
    dst->gaps += src->gaps;
    dst->missing += src->missing;
    dst->backward += src->backward;
    /* flat loops over the rows in use: vectorised (a --loop over a small capture adds them per
     * pass) */
    for (unsigned p = 0; p < RP_PROTO_COUNT; p++)
        if (src->protos & 1u << p)
            for (unsigned t = 0; t < 256; t++) dst->by_proto[p][t] += src->by_proto[p][t];
    dst->protos |= src->protos;
    for (unsigned t = 0; t < 256; t++) dst->by_type[t] += src->by_type[t];
    if (src_typed) /* characters only when every typed input says so */
        dst->type_is_char = dst_typed ? dst->type_is_char && src->type_is_char : src->type_is_char;
    dst->truncated = dst->truncated || src->truncated;
    dst->framings |= src->framings;
    rp__add_time(dst, src);
}

const char *rp_proto_name(enum rp_proto p)
{
    static const char *const names[RP_PROTO_COUNT] = {"itch", "iextp", "other"};
    return (unsigned)p < RP_PROTO_COUNT ? names[p] : "?";
}

static bool rp__proto_used(const rp_feed_stats *st, unsigned p)
{
    for (unsigned t = 0; t < 256; t++)
        if (st->by_proto[p][t]) return true;
    return false;
}

unsigned rp_feed_protocols(const rp_feed_stats *st)
{
    unsigned n = 0;
    for (unsigned p = 0; p < RP_PROTO_COUNT; p++) n += rp__proto_used(st, p);
    return n;
}

/* ITCH and IEX-TP types are characters; other records follow the input's own setting. */
static bool rp__proto_char(const rp_feed_stats *st, unsigned p)
{
    return p != RP_PROTO_OTHER || st->type_is_char;
}

void rp_report_by_protocol(rp_json *j, const rp_feed_stats *st)
{
    if (rp_feed_protocols(st) < 2) return;
    rp_json_object_begin(j, "by_protocol");
    for (unsigned p = 0; p < RP_PROTO_COUNT; p++)
        if (rp__proto_used(st, p))
            rp_report_by_type_json(j, rp_proto_name((enum rp_proto)p), st->by_proto[p],
                                   rp__proto_char(st, p));
    rp_json_object_end(j);
}

void rp_report_by_protocol_lines(FILE *f, const char *prefix, const rp_feed_stats *st)
{
    if (rp_feed_protocols(st) < 2) return;
    for (unsigned p = 0; p < RP_PROTO_COUNT; p++) {
        if (!rp__proto_used(st, p)) continue;
        char pre[96];
        snprintf(pre, sizeof pre, "%s%s: ", prefix, rp_proto_name((enum rp_proto)p));
        rp_report_by_type_line(f, pre, st->by_proto[p], rp__proto_char(st, p));
    }
}
