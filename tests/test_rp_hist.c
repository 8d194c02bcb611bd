/* test_rp_hist.c - the replay latency histogram: buckets, percentiles against sorted arrays */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hist.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void) /* splitmix64: deterministic, so failures reproduce */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact percentile of a sorted array: the ceil(ppm/1e6 * n)-th smallest value. */
static uint64_t exact(const uint64_t *sorted, size_t n, unsigned ppm)
{
    uint64_t rank = ((uint64_t)n * ppm + 999999u) / 1000000u;
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static void check_against_sorted(uint64_t *v, size_t n)
{
    rp_hist *h = malloc(sizeof(*h));
    assert_non_null(h);
    rp_hist_init(h);
    for (size_t i = 0; i < n; i++) rp_hist_record(h, v[i]);
    qsort(v, n, sizeof(v[0]), cmp_u64);
    assert_int_equal(h->count, n);
    assert_int_equal(h->min, v[0]);
    assert_int_equal(h->max, v[n - 1]);
    const double ps[] = {0.0001, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    const unsigned ppm[] = {1,      10000,  100000, 250000, 500000, 750000,
                            900000, 990000, 999000, 999900, 1000000};
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        uint64_t want = exact(v, n, ppm[k]);
        uint64_t got = rp_hist_percentile(h, ps[k]);
        /* never below the true value, at most one bucket width (<= 1/128 of it) above */
        assert_true(got >= want);
        assert_true(got - want <= want / RP_HIST_SUB);
        if (want < RP_HIST_SUB) assert_int_equal(got, want); /* small values are exact */
    }
    assert_int_equal(rp_hist_percentile(h, 100), v[n - 1]);
    free(h);
}

static void test_buckets_contiguous(void **state)
{
    (void)state;
    /* bucket i+1 starts right after bucket i ends, from 0 up to UINT64_MAX */
    assert_int_equal(rp_hist_bucket_low(0), 0);
    for (unsigned i = 0; i + 1 < RP_HIST_BUCKETS; i++) {
        assert_true(rp_hist_bucket_low(i) <= rp_hist_bucket_high(i));
        assert_int_equal(rp_hist_bucket_high(i) + 1, rp_hist_bucket_low(i + 1));
        assert_int_equal(rp_hist_bucket(rp_hist_bucket_low(i)), i);
        assert_int_equal(rp_hist_bucket(rp_hist_bucket_high(i)), i);
        /* relative width bound */
        uint64_t w = rp_hist_bucket_high(i) - rp_hist_bucket_low(i);
        assert_true(w <= rp_hist_bucket_low(i) / RP_HIST_SUB);
    }
    assert_int_equal(rp_hist_bucket_high(RP_HIST_BUCKETS - 1), UINT64_MAX);
    assert_int_equal(rp_hist_bucket(UINT64_MAX), RP_HIST_BUCKETS - 1);
}

static void test_empty(void **state)
{
    (void)state;
    rp_hist h;
    rp_hist_init(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(rp_hist_percentile(&h, 50), 0);
    assert_int_equal(rp_hist_percentile(&h, 100), 0);
}

static void test_single_value(void **state)
{
    (void)state;
    rp_hist h;
    rp_hist_init(&h);
    rp_hist_record(&h, 123456789);
    /* clamped to [min, max]: one value is reported exactly at every percentile */
    assert_int_equal(rp_hist_percentile(&h, 0.001), 123456789);
    assert_int_equal(rp_hist_percentile(&h, 50), 123456789);
    assert_int_equal(rp_hist_percentile(&h, 99.9), 123456789);
    assert_int_equal(rp_hist_percentile(&h, 0), 123456789);
}

static void test_uniform_small(void **state)
{
    (void)state;
    size_t n = 1000;
    uint64_t *v = malloc(n * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = n - i; /* 1..1000, reversed */
    check_against_sorted(v, n);
    /* exact ranks in the linear region: p50 of 1..1000 is 500 */
    rp_hist h;
    rp_hist_init(&h);
    for (uint64_t i = 1; i <= 100; i++) rp_hist_record(&h, i);
    assert_int_equal(rp_hist_percentile(&h, 50), 50);
    assert_int_equal(rp_hist_percentile(&h, 99), 99);
    assert_int_equal(rp_hist_percentile(&h, 99.9), 100);
    free(v);
}

static void test_random_distributions(void **state)
{
    (void)state;
    size_t n = 200000;
    uint64_t *v = malloc(n * sizeof(*v));
    assert_non_null(v);
    /* log-uniform over 1 ns .. 2^40 ns: exercises every exponent */
    for (size_t i = 0; i < n; i++) v[i] = (rng() >> (24 + rng() % 40)) + 1;
    check_against_sorted(v, n);
    /* latency-like: a tight body near 300 ns and a long tail of rare stalls */
    for (size_t i = 0; i < n; i++)
        v[i] = 250 + rng() % 100 + ((rng() % 1000) == 0 ? rng() % 50000000 : 0);
    check_against_sorted(v, n);
    /* huge values near the top of the range */
    for (size_t i = 0; i < n; i++) v[i] = UINT64_MAX - (rng() % 1000000000000u);
    check_against_sorted(v, n);
    free(v);
}

static void test_merge(void **state)
{
    (void)state;
    rp_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
    assert_true(a && b && all);
    rp_hist_init(a);
    rp_hist_init(b);
    rp_hist_init(all);
    for (int i = 0; i < 5000; i++) {
        uint64_t x = rng() % 100000, y = rng() % 7000000;
        rp_hist_record(a, x);
        rp_hist_record(b, y);
        rp_hist_record(all, x);
        rp_hist_record(all, y);
    }
    rp_hist_merge(a, b);
    assert_int_equal(a->count, all->count);
    assert_int_equal(a->min, all->min);
    assert_int_equal(a->max, all->max);
    assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
    rp_hist_init(b);
    rp_hist_merge(all, b); /* merging an empty histogram changes nothing */
    assert_int_equal(all->min, a->min);
    free(a);
    free(b);
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_contiguous),   cmocka_unit_test(test_empty),
        cmocka_unit_test(test_single_value),         cmocka_unit_test(test_uniform_small),
        cmocka_unit_test(test_random_distributions), cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
