/* report.h - replay's reports: the human summary and the --json object, for runs and for gen */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "gen.h"
#include "hist.h"
#include "json.h"
#include "run.h"

/* rp_type_key() : the by_type key of message type t: the character itself when is_char and it is
 * printable ASCII, else "0x%02x". buf needs 8 bytes. */
void rp_type_key(char *buf, size_t cap, unsigned t, bool is_char);

/* rp_report_human() : the tcpreplay-style summary of a run (input, feed, ring, each reader,
 * throughput, verification) written to f. */
void rp_report_human(FILE *f, const rp_run_config *cfg, const rp_run_result *res);

/* rp_report_json() : the run as one JSON object (keys in docs/replay.md), built in memory and
 * written to f in one piece.
 * @return 0, or -1 when out of memory or the write failed (nothing or everything is written as
 *         far as this process can tell). */
int rp_report_json(FILE *f, const rp_run_config *cfg, const rp_run_result *res);

/* rp_report_gen_human() / rp_report_gen_json() : what `replay gen` wrote.
 * rp_report_gen_json @return 0, or -1 as for rp_report_json. */
void rp_report_gen_human(FILE *f, const rp_gen_opts *o, const rp_gen_result *g);
int rp_report_gen_json(FILE *f, const rp_gen_opts *o, const rp_gen_result *g);

/* ---- shared by the info and convert reports ----------------------------------------------------
 */

/* rp_report_by_type_json() : a "by_type" object (keys as rp_type_key()) named key. */
void rp_report_by_type_json(rp_json *j, const char *key, const uint64_t *by_type, bool is_char);

/* rp_report_feed_json() : the "feed" object of a run: messages, untyped, the feed counts
 * (rp_report_feed_counts) and message_bytes. */
void rp_report_feed_json(rp_json *j, const rp_feed_stats *fd, uint64_t untyped, uint64_t msg_bytes);

/* rp_report_ring_members() : the members of a run's "ring" object that every writer of a ring
 * reports: capacity, max_msg, published, published_bytes, overwritten, overwritten_bytes,
 * too_big and hugepages (the caller opens and closes the object). */
void rp_report_ring_members(rp_json *j, const ra_ring_stats *ring, uint64_t max_msg);

/* rp_report_times_json() : the members "first_ts_ns" and "last_ts_ns" of fd (timestamps in input
 * order), and with `full` also "min_ts_ns", "max_ts_ns", "span_ns" (max - min) and
 * "backward_steps". */
void rp_report_times_json(rp_json *j, const rp_feed_stats *fd, bool full);

/* rp_report_damage_json() : the members "decode_errors", "fragments" and "non_udp" of fd (what
 * the input layer skipped). */
void rp_report_damage_json(rp_json *j, const rp_feed_stats *fd);

/* rp_report_feed_counts() : the feed keys that runs and info share: by_type, by_protocol (when
 * several protocols), heartbeats, gaps, missing, backward. */
void rp_report_feed_counts(rp_json *j, const rp_feed_stats *fd);

/* rp_report_by_type_line() : "<prefix>A:10 B:3 ...\n" on f, nothing when every count is 0. */
void rp_report_by_type_line(FILE *f, const char *prefix, const uint64_t *by_type, bool is_char);

/* rp_report_hist_json() : an object named key with the percentiles of h: "p50", "p99", "p999",
 * "max" (0 when empty), and with `full` also "min" (0 when empty) and "count". */
void rp_report_hist_json(rp_json *j, const char *key, const rp_hist *h, bool full);

/* A JSON document built in memory and written to its output in one write (a failure half-way
 * leaves the output untouched). */
typedef struct rp_json_doc {
    rp_json j;
    FILE *mem;
    char *buf;
    size_t len;
} rp_json_doc;

/* rp_json_doc_begin() : opens the document and its top-level object (write members with d->j).
 * @return 0, or -1 when out of memory (nothing to release). */
int rp_json_doc_begin(rp_json_doc *d);

/* rp_json_doc_end() : closes the top-level object, writes the document to f and releases it.
 * @return 0, or -1 when the memory stream failed or the write did. */
int rp_json_doc_end(rp_json_doc *d, FILE *f);

#endif /* RP_REPORT_H */
