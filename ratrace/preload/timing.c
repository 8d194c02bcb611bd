/* timing.c - optional time per call (RATRACE_TIME=1): per-function calls, nanoseconds, histogram */
/*
 * Only the real allocator's call is timed (what the program would pay without the tracer), in
 * every hook that records (nested and untraced calls are not timed). The clock is the CPU's
 * time-stamp counter on x86-64 when /proc/cpuinfo says it is invariant (constant_tsc and
 * nonstop_tsc): a few cycles to read. Its rate is measured by the constructor against
 * CLOCK_MONOTONIC over 2 ms (a sleep, not a spin) and kept as a 32.32 fixed-point multiplier,
 * so each call's ticks become nanoseconds with a multiply and a shift. Elsewhere the clock is
 * clock_gettime(CLOCK_MONOTONIC), which the vDSO serves without a system call on most kernels.
 *
 * Each thread's counts live in a record mapped on its first timed call, written by that thread
 * only (relaxed load and store, as in threads.c); the overflow thread record's threads share one
 * record updated with atomic adds. With the option off a hook pays one predictable branch.
 */
#include "preload.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *const rt__fn_names[RT__FNS] = {
    "malloc",   "calloc", "realloc", "reallocarray",      "free", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_usable_size"};

__extension__ typedef unsigned __int128 u128;

int rt__time_tsc;
static uint64_t tsc_mult; /* nanoseconds per tick, 32.32 fixed point */
static struct rt__time shared_time;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rt__clock_slow(void)
{
    return mono_ns();
}

/* @return 1 when /proc/cpuinfo lists the flags of an invariant time-stamp counter. */
static int tsc_invariant(void)
{
#if defined(__x86_64__)
    static char buf[8192];
    FILE *f = fopen("/proc/cpuinfo", "re"); /* busy is set: stdio's buffer is not traced */
    if (!f) return 0;
    int c = 0, n = 0;
    while (fgets(buf, sizeof buf, f) && n < 64) {
        n++;
        if (strncmp(buf, "flags", 5)) continue;
        c = strstr(buf, " constant_tsc") && strstr(buf, " nonstop_tsc");
        break;
    }
    fclose(f);
    return c;
#else
    return 0;
#endif
}

void rt__time_init(void)
{
    if (!rt__opt.time || !tsc_invariant()) return;
#if defined(__x86_64__)
    uint64_t n0 = mono_ns(), t0 = __builtin_ia32_rdtsc();
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    uint64_t n1 = mono_ns(), t1 = __builtin_ia32_rdtsc();
    if (t1 <= t0 || n1 <= n0) return;
    tsc_mult = (uint64_t)(((u128)(n1 - n0) << 32) / (t1 - t0));
    rt__time_tsc = tsc_mult != 0;
#endif
}

void rt__time_record(int fn, uint64_t t0)
{
    uint64_t ns = rt__clock() - t0;
    if (rt__time_tsc) ns = (uint64_t)(((u128)ns * tsc_mult) >> 32);
    struct rt__thread *t = rt__tls.thread ? rt__tls.thread : rt__thread_self();
    if (!t->time) {
        if (t->shared)
            t->time = &shared_time;
        else if (!(t->time = rt__map(sizeof *t->time)))
            return;
    }
    struct rt__time *r = t->time;
    unsigned k = ns ? 64 - (unsigned)__builtin_clzll(ns) : 0;
    rt__add(&r->calls[fn], 1, t->shared);
    rt__add(&r->ns[fn], ns, t->shared);
    rt__add(&r->hist[fn][k < RT__TIME_HIST ? k : RT__TIME_HIST - 1], 1, t->shared);
}

void rt__time_sum(struct rt__time_total *out)
{
    memset(out, 0, sizeof *out);
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        const struct rt__time *r = t->time;
        if (!r) continue;
        for (int f = 0; f < RT__FNS; f++) {
            out->calls[f] += atomic_load_explicit(&r->calls[f], memory_order_relaxed);
            out->ns[f] += atomic_load_explicit(&r->ns[f], memory_order_relaxed);
            for (int k = 0; k < RT__TIME_HIST; k++)
                out->hist[f][k] += atomic_load_explicit(&r->hist[f][k], memory_order_relaxed);
        }
    }
}
