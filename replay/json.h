/* json.h - a tiny streaming JSON writer (objects, arrays, numbers, escaped strings) */
#ifndef RP_JSON_H
#define RP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define RP_JSON_MAX_DEPTH 16

/* Writes indented JSON to f. Keys are written for members of objects and must be NULL for array
 * elements and the top-level value. Nesting deeper than RP_JSON_MAX_DEPTH is a programming error
 * (asserted). Strings are escaped so that the output is valid JSON (and valid UTF-8) whatever
 * bytes they hold: see rp_json_write_string(). Write errors are left in f (check ferror). */
typedef struct rp_json {
    FILE *f;
    int depth;
    bool has_items[RP_JSON_MAX_DEPTH]; /* the container at each depth already holds an item */
} rp_json;

void rp_json_init(rp_json *j, FILE *f);
void rp_json_object_begin(rp_json *j, const char *key);
void rp_json_object_end(rp_json *j);
void rp_json_array_begin(rp_json *j, const char *key);
void rp_json_array_end(rp_json *j);
void rp_json_u64(rp_json *j, const char *key, uint64_t v);
void rp_json_i64(rp_json *j, const char *key, int64_t v);
/* rp_json_f64() : v with `decimals` digits after the point; NaN and infinities become null. */
void rp_json_f64(rp_json *j, const char *key, double v, int decimals);
void rp_json_bool(rp_json *j, const char *key, bool v);
/* rp_json_str() : an escaped string; NULL becomes null. */
void rp_json_str(rp_json *j, const char *key, const char *s);
void rp_json_null(rp_json *j, const char *key);

/* rp_json_write_string() : writes s as a quoted JSON string: '"', '\\' and control characters are
 * escaped, well-formed UTF-8 passes through, and every byte of an ill-formed sequence is written
 * as \u00XX (its Latin-1 reading), so arbitrary file names still give valid JSON. */
void rp_json_write_string(FILE *f, const char *s);

#endif /* RP_JSON_H */
