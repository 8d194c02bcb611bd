/* ratrace.h - read ratrace's allocation counters from inside a traced program (test assertions) */
#ifndef RINGALLOC_RATRACE_H
#define RINGALLOC_RATRACE_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Counters of the whole process since it started (or since fork, for a child: a child starts
 * with its parent's counts), and of the calling thread. realloc counts as one free and one
 * allocation. Bytes are the sizes the program asked for. */
typedef struct ra_trace_counters {
    uint64_t allocs;          /* successful allocations, every function, every thread */
    uint64_t frees;           /* frees of blocks the tracer saw allocated */
    uint64_t bytes_allocated; /* total bytes of those allocations */
    uint64_t bytes_current;   /* bytes in live blocks now */
    uint64_t bytes_peak;      /* highest bytes_current so far */
    uint64_t live_blocks;     /* blocks allocated and not freed */
    uint64_t thread_allocs;   /* the calling thread's allocations */
    uint64_t thread_frees;    /* the calling thread's frees */
    uint64_t thread_bytes_allocated;
} ra_trace_counters;

/* Defined by libringalloc-trace.so; a weak reference, so NULL when the tracer is not loaded. */
extern int ra__trace_snapshot_impl(ra_trace_counters *out) __attribute__((weak));
extern void ra__trace_reset_peak_impl(void) __attribute__((weak));

/*! ra_trace_active() : whether the program runs under ratrace (libringalloc-trace.so preloaded
 * and tracing this process). @return 1 or 0; never fails. */
static inline int ra_trace_active(void)
{
    ra_trace_counters c;
    return ra__trace_snapshot_impl ? ra__trace_snapshot_impl(&c) : 0;
}

/*! ra_trace_snapshot() : fills *out with the current counters. Take one before and one after a
 * region and subtract (ra_trace_diff) to assert on the region, e.g. "exactly 96 allocations".
 * Counters of other threads running meanwhile are in the process totals, not in thread_*.
 * @return 1 when the counters are live, 0 when the tracer is not loaded (then *out is zeroed). */
static inline int ra_trace_snapshot(ra_trace_counters *out)
{
    if (ra__trace_snapshot_impl) return ra__trace_snapshot_impl(out);
    memset(out, 0, sizeof *out);
    return 0;
}

/*! ra_trace_reset_peak() : sets bytes_peak to bytes_current, so that a later snapshot's
 * bytes_peak is the peak of the region that follows ("peak under 10 MiB"). Without the tracer
 * it does nothing. @return nothing; never fails. */
static inline void ra_trace_reset_peak(void)
{
    if (ra__trace_reset_peak_impl) ra__trace_reset_peak_impl();
}

/*! ra_trace_diff() : after - before, field by field (bytes_peak and bytes_current and
 * live_blocks are taken from after, as levels, not differences). @return nothing; never fails. */
static inline void ra_trace_diff(const ra_trace_counters *before, const ra_trace_counters *after,
                                 ra_trace_counters *out)
{
    out->allocs = after->allocs - before->allocs;
    out->frees = after->frees - before->frees;
    out->bytes_allocated = after->bytes_allocated - before->bytes_allocated;
    out->bytes_current = after->bytes_current;
    out->bytes_peak = after->bytes_peak;
    out->live_blocks = after->live_blocks;
    out->thread_allocs = after->thread_allocs - before->thread_allocs;
    out->thread_frees = after->thread_frees - before->thread_frees;
    out->thread_bytes_allocated = after->thread_bytes_allocated - before->thread_bytes_allocated;
}

#ifdef __cplusplus
}
#endif

#endif
