/* util.h - replay's small shared helpers: clock, number parsing, byte formatting, the stop flag */
#ifndef RP_UTIL_H
#define RP_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* rp_now_ns() : CLOCK_MONOTONIC in ns. */
uint64_t rp_now_ns(void);

/* rp_realtime_ns() : CLOCK_REALTIME in ns (the clock of shared rings' record timestamps). */
uint64_t rp_realtime_ns(void);

/* rp_sleep_ns() : sleeps ns nanoseconds (resumed after a signal). */
void rp_sleep_ns(uint64_t ns);

/* rp_cpus() : CPUs this process may run on (its affinity mask, else the online count; >= 1). */
unsigned rp_cpus(void);

/* rp_parse_u64() : a strict unsigned decimal: digits only, no sign, no space, no overflow.
 * @return 0 with *out set, or -1. */
int rp_parse_u64(const char *s, uint64_t *out);

/* rp_parse_positive() : a positive finite decimal such as "0.5" or "1000".
 * @return 0 with *out set, or -1. */
int rp_parse_positive(const char *s, double *out);

/* rp_parse_size() : a byte count with an optional K, M, G or T suffix (powers of 1024).
 * @return 0 with *out set, or -1 (empty, not a number, overflow, unknown suffix). */
int rp_parse_size(const char *text, uint64_t *out);

/* rp_fmt_bytes() : "12.3 MB" style (decimal units: B, kB, MB, GB) into buf. */
void rp_fmt_bytes(char *buf, size_t cap, double bytes);

/* rp_draw_progress() : the progress line on stderr (a TTY): "<prefix>done / total  pct  msgs
 * rate ETA", or without total and ETA when total is 0 (unknown); secs is the time so far. */
void rp_draw_progress(const char *prefix, uint64_t done, uint64_t total, uint64_t msgs,
                      double secs);

/* rp_ends_with() : whether s ends with suffix. */
bool rp_ends_with(const char *s, const char *suffix);

/* rp_note_name() : adds name to a ','-separated list of distinct names in list (cap bytes);
 * an empty or NULL name, or one that does not fit, is left out. */
void rp_note_name(char *list, size_t cap, const char *name);

/* rp_note_warning() : appends "warning: <path>: <what>\n" to the lines in buf (cap bytes); a line
 * that does not fit is dropped. */
void rp_note_warning(char *buf, size_t cap, const char *path, const char *what);

/* rp_print_lines() : prints each '\n'-terminated line of text on stderr as "<prog>: <line>". */
void rp_print_lines(const char *prog, const char *text);

/* ---- the stop request (SIGINT, SIGTERM) ------------------------------------------------------ */

/* rp_stop_install() : makes SIGINT and SIGTERM call rp_stop_request(). */
void rp_stop_install(void);

/* rp_stop_request() : asks whatever runs (a replay, a convert) to stop. Async-signal-safe. */
void rp_stop_request(void);

/* rp_shm_path() : the file of the shared ring `name` in `dir` (NULL: /dev/shm), "DIR/NAME",
 * into buf: what readers attach to and what --unlink removes. @return buf. */
const char *rp_shm_path(char *buf, size_t cap, const char *dir, const char *name);

/* the flag behind rp_stop_request(): use the functions */
extern atomic_int rp_stop_flag;

/* rp_stop_requested() : whether a stop was asked for (inline: the producer asks per batch). */
static inline bool rp_stop_requested(void)
{
    return atomic_load_explicit(&rp_stop_flag, memory_order_relaxed) != 0; /* a request */
}

#endif /* RP_UTIL_H */
