/* hist.c - log-linear latency histogram (HDR-style)
 *
 * Design: a value v < 2^S (S = RP_HIST_SUB_BITS) has its own bucket v. A larger value with its
 * highest set bit at position e (e >= S) is identified by e and the S bits that follow the leading
 * one (its "mantissa"): bucket (e - S + 1) * 2^S + mantissa. Bucket k * 2^S + m (k >= 1) therefore
 * covers [(2^S + m) << (k - 1), ((2^S + m + 1) << (k - 1)) - 1], a width of 2^(k-1) over a lower
 * bound of at least 2^(S + k - 1): relative width <= 2^-S. Buckets are contiguous and monotonic in
 * value, so a percentile is a cumulative walk. Recording is a few shifts and one increment; the
 * histogram is private to one thread (readers merge nothing while running).
 */
#include "hist.h"

#include <math.h>
#include <string.h>

void rp_hist_init(rp_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned rp_hist_bucket(uint64_t v)
{
    if (v < RP_HIST_SUB) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* position of the leading one, >= S */
    unsigned shift = e - RP_HIST_SUB_BITS;
    unsigned mant = (unsigned)(v >> shift) & (RP_HIST_SUB - 1u);
    return (shift + 1u) * RP_HIST_SUB + mant;
}

uint64_t rp_hist_bucket_low(unsigned i)
{
    if (i < RP_HIST_SUB) return i;
    unsigned k = i / RP_HIST_SUB, m = i % RP_HIST_SUB;
    return (uint64_t)(RP_HIST_SUB + m) << (k - 1u);
}

uint64_t rp_hist_bucket_high(unsigned i)
{
    if (i < RP_HIST_SUB) return i;
    unsigned k = i / RP_HIST_SUB;
    /* low + width - 1; for the last bucket this is exactly UINT64_MAX, no overflow */
    return rp_hist_bucket_low(i) + ((UINT64_C(1) << (k - 1u)) - 1u);
}

void rp_hist_record(rp_hist *h, uint64_t v)
{
    h->buckets[rp_hist_bucket(v)]++;
    h->count++;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
}

void rp_hist_merge(rp_hist *dst, const rp_hist *src)
{
    if (src->count == 0) return;
    for (unsigned i = 0; i < RP_HIST_BUCKETS; i++) dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
}

uint64_t rp_hist_percentile(const rp_hist *h, double p)
{
    if (h->count == 0) return 0;
    if (!(p > 0.0)) return h->min;
    if (p >= 100.0) return h->max;
    /* rank of the wanted value among the sorted values, 1-based: ceil(p/100 * count), in integer
     * arithmetic over parts per million so that 99.9% of 1000 is exactly 999 */
    uint64_t ppm = (uint64_t)llround(p * 10000.0);
    uint64_t rank =
        (h->count / 1000000u) * ppm + ((h->count % 1000000u) * ppm + 999999u) / 1000000u;
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < RP_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = rp_hist_bucket_high(i);
            if (v > h->max) v = h->max;
            if (v < h->min) v = h->min;
            return v;
        }
    }
    return h->max; /* unreachable while count equals the bucket total */
}
