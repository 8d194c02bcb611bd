/* output.h - what ringstat prints: the human table, JSON, CSV rows and Prometheus metrics */
#ifndef RS_OUTPUT_H
#define RS_OUTPUT_H

#include <stdio.h>

#include "sample.h"

/* rs_print_human() : each ring as a block of lines on f. */
void rs_print_human(FILE *f, const rs_set *set);

/* rs_print_json() : {"rings": [...]} (keys in docs/tools.md) on f in one piece.
 * @return 0, or -1 when out of memory or the write failed. */
int rs_print_json(FILE *f, const rs_set *set);

/* rs_print_csv_header() / rs_print_csv() : the CSV header line, and one row per ring of a sample
 * taken at CLOCK_REALTIME `now_ns` (columns in docs/tools.md). */
void rs_print_csv_header(FILE *f);
void rs_print_csv(FILE *f, const rs_set *set, uint64_t now_ns);

/* rs_print_prometheus() : the node_exporter textfile metrics of the set on f. */
void rs_print_prometheus(FILE *f, const rs_set *set);

/* rs_prom_label() : writes s as the inside of a Prometheus label value: '\\', '"' and newline
 * escaped. */
void rs_prom_label(FILE *f, const char *s);

#endif /* RS_OUTPUT_H */
