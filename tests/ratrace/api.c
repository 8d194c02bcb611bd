/* api.c - ratrace.h in a program's own test: "exactly 96 allocations" around a region */
/*
 * usage: api traced|untraced   (exit 0 when the counters say what they must)
 * Under ratrace the region's counters are exact; without the tracer every call says "not
 * traced" and returns zeros (the weak references are NULL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/ratrace.h"

#define N 96

static int region(ra_trace_counters *d)
{
    static void *p[N];
    ra_trace_counters a, b;
    int active = ra_trace_snapshot(&a);
    for (int i = 0; i < N; i++) p[i] = malloc(100);
    for (int i = 0; i < N; i++) free(p[i]);
    ra_trace_snapshot(&b);
    ra_trace_diff(&a, &b, d);
    return active;
}

static int peak_region(ra_trace_counters *c, uint64_t *before)
{
    ra_trace_counters a;
    ra_trace_snapshot(&a);
    *before = a.bytes_current;
    ra_trace_reset_peak();
    void *big = malloc(1 << 20);
    free(big);
    return ra_trace_snapshot(c);
}

int main(int argc, char **argv)
{
    int want = argc > 1 && !strcmp(argv[1], "traced");
    ra_trace_counters d, c;
    uint64_t before;
    int active = region(&d);
    peak_region(&c, &before);
    int bad = active != want || ra_trace_active() != want;
    if (want) {
        bad |= d.allocs != N || d.frees != N || d.bytes_allocated != N * 100;
        bad |= d.thread_allocs != N || d.thread_frees != N || d.thread_bytes_allocated != N * 100;
        bad |= c.bytes_peak != before + (1 << 20) || c.bytes_current != before;
    } else {
        bad |= d.allocs || d.frees || d.bytes_allocated || c.bytes_peak || c.live_blocks;
    }
    printf("api: active %d, region allocs %llu frees %llu bytes %llu; peak %llu over %llu: %s\n",
           active, (unsigned long long)d.allocs, (unsigned long long)d.frees,
           (unsigned long long)d.bytes_allocated, (unsigned long long)c.bytes_peak,
           (unsigned long long)before, bad ? "WRONG" : "ok");
    return bad;
}
