/* report.h - replay's reports: the human summary and the --json object, for runs and for gen */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "gen.h"
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

#endif /* RP_REPORT_H */
