/* bench_util.h - what the benchmark programs share: the clock, comparators and the median
 * (header-only) */
#ifndef RINGALLOC_BENCH_UTIL_H
#define RINGALLOC_BENCH_UTIL_H

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v); 0 when n is 0. */
static inline double bench_median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The process's malloc, as LD_PRELOAD made it: "jemalloc", "tcmalloc", "mimalloc" or "glibc". */
static inline const char *bench_which_malloc(void)
{
    if (dlsym(RTLD_DEFAULT, "mallctl") != NULL) return "jemalloc";
    if (dlsym(RTLD_DEFAULT, "tc_malloc") != NULL) return "tcmalloc";
    if (dlsym(RTLD_DEFAULT, "mi_malloc") != NULL) return "mimalloc";
    return "glibc";
}

#endif /* RINGALLOC_BENCH_UTIL_H */
