/* pacing.h - replay pacing: the send schedule as a pure function of anchors and message index */
#ifndef RP_PACING_H
#define RP_PACING_H

#include <stdint.h>

typedef enum rp_pace_mode {
    RP_PACE_MAX = 0, /* as fast as possible */
    RP_PACE_SPEED,   /* capture timestamps scaled by 1/speed (speed 1 = realtime) */
    RP_PACE_PPS,     /* a fixed rate of messages per second */
    RP_PACE_MBPS,    /* a fixed rate of bytes (replay --send --mbps: UDP payload bytes) */
} rp_pace_mode;

typedef struct rp_pace {
    rp_pace_mode mode;
    double speed;         /* RP_PACE_SPEED: multiplier, > 0 (2 = twice as fast as captured) */
    double pps;           /* RP_PACE_PPS: messages per second, > 0 */
    double mbps;          /* RP_PACE_MBPS: megabits (10^6 bits) per second, > 0 */
    uint64_t start_ns;    /* anchor: monotonic clock when the first message was due */
    uint64_t first_ts_ns; /* anchor: capture timestamp of the first message */
    uint64_t span_ns;     /* capture-time length of one pass (last ts - first ts), for --loop */
} rp_pace;

/* rp_pace_parse_speed() : parses a --speed value: "max", "realtime", or "<x>x" with x a positive
 * decimal (e.g. "10x", "0.5x"), into p->mode and p->speed (anchors untouched).
 * @return 0, or -1 when the text is none of these (p unchanged). */
int rp_pace_parse_speed(const char *text, rp_pace *p);

/* rp_pace_target() : when message `index` (0-based, counted over all passes) of pass `pass`
 * (0-based loop number) with capture timestamp ts_ns is due, on the monotonic clock.
 *   RP_PACE_MAX:   start_ns (always already due).
 *   RP_PACE_SPEED: start_ns + (pass * span_ns + ts_ns - first_ts_ns) / speed; a timestamp before
 *                  first_ts_ns counts as first_ts_ns (due at once, never earlier than the anchor).
 *   RP_PACE_PPS:   start_ns + index * 1e9 / pps.
 *   RP_PACE_MBPS:  start_ns + index * 8000 / mbps, with index counting bytes (those before the
 *                  packet) instead of messages.
 * The result depends only on the arguments (no state), so rounding never accumulates: message
 * one million is due exactly where the formula says, however the earlier ones were rounded.
 * @return the due time in ns; saturates at UINT64_MAX instead of overflowing. */
uint64_t rp_pace_target(const rp_pace *p, uint64_t pass, uint64_t index, uint64_t ts_ns);

/* rp_pace_sleep_until() : returns at monotonic time target (ns), or early on rp_stop_request():
 * sleeps with clock_nanosleep(TIMER_ABSTIME) in slices of at most 50 ms until target - spin_ns,
 * then spins on the clock for the rest (spin_ns 0: no spin). Returns at once when target has
 * passed. */
void rp_pace_sleep_until(uint64_t target, uint64_t spin_ns);

#endif /* RP_PACING_H */
