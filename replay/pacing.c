/* pacing.c - replay pacing: the send schedule as a pure function of anchors and message index
 *
 * Design: timed modes never sleep "for the gap since the previous message" (which drifts by every
 * oversleep and rounding error); each message's due time is computed afresh from two anchors taken
 * once, the capture timestamp of the first message and the monotonic clock when it was sent. The
 * producer sleeps until that absolute time (clock_nanosleep TIMER_ABSTIME) and, when it is already
 * late, sends at once, so a stall is caught up instead of shifting the rest of the schedule.
 * Looping adds pass * span to the elapsed capture time, so pass 2 continues where pass 1 ended.
 * Arithmetic is in long double (64-bit mantissa on x86-64) so ns offsets up to months are exact
 * before the final rounding.
 */
#include "pacing.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define RP__SLEEP_SLICE_NS 50000000u

int rp_pace_parse_speed(const char *text, rp_pace *p)
{
    if (!text || !*text) return -1;
    if (strcmp(text, "max") == 0) {
        p->mode = RP_PACE_MAX;
        p->speed = 0;
        return 0;
    }
    if (strcmp(text, "realtime") == 0) {
        p->mode = RP_PACE_SPEED;
        p->speed = 1.0;
        return 0;
    }
    size_t n = strlen(text);
    if (n < 2 || (text[n - 1] != 'x' && text[n - 1] != 'X')) return -1;
    if (!((text[0] >= '0' && text[0] <= '9') || text[0] == '.')) return -1; /* no sign, no space */
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno != 0 || end != text + n - 1 || !isfinite(v) || !(v > 0.0)) return -1;
    p->mode = RP_PACE_SPEED;
    p->speed = v;
    return 0;
}

static uint64_t rp__add_sat(uint64_t base, long double off)
{
    if (!(off > 0.0L)) return base;
    long double r = roundl(off);
    if (r >= (long double)(UINT64_MAX - base)) return UINT64_MAX;
    return base + (uint64_t)r;
}

uint64_t rp_pace_target(const rp_pace *p, uint64_t pass, uint64_t index, uint64_t ts_ns)
{
    switch (p->mode) {
    case RP_PACE_SPEED: {
        if (!(p->speed > 0.0)) return p->start_ns;
        uint64_t within = ts_ns > p->first_ts_ns ? ts_ns - p->first_ts_ns : 0;
        long double elapsed = (long double)pass * (long double)p->span_ns + (long double)within;
        return rp__add_sat(p->start_ns, elapsed / (long double)p->speed);
    }
    case RP_PACE_PPS:
        if (!(p->pps > 0.0)) return p->start_ns;
        return rp__add_sat(p->start_ns, (long double)index * 1e9L / (long double)p->pps);
    case RP_PACE_MBPS:
        if (!(p->mbps > 0.0)) return p->start_ns;
        return rp__add_sat(p->start_ns, (long double)index * 8000.0L / (long double)p->mbps);
    case RP_PACE_MAX:
    default:
        return p->start_ns;
    }
}

void rp_pace_sleep_until(uint64_t target, uint64_t spin_ns)
{
    uint64_t wake_at = target > spin_ns ? target - spin_ns : 0;
    for (;;) {
        uint64_t now = rp_now_ns();
        if (now >= target || rp_stop_requested()) return;
        if (now >= wake_at) continue; /* the spin */
        uint64_t wake = wake_at - now > RP__SLEEP_SLICE_NS ? now + RP__SLEEP_SLICE_NS : wake_at;
        struct timespec ts = {.tv_sec = (time_t)(wake / 1000000000u),
                              .tv_nsec = (long)(wake % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); /* EINTR: loop re-checks */
    }
}
