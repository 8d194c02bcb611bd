/* hist.h - log-linear latency histogram (HDR-style): constant memory, bounded relative error */
#ifndef RP_HIST_H
#define RP_HIST_H

#include <stdint.h>

/* Values below 2^RP_HIST_SUB_BITS are counted exactly; above, each power of two is split into
 * 2^RP_HIST_SUB_BITS equal buckets, so a reported value is at most 1/128 (0.78%) above the true
 * one. Every uint64_t value has a bucket (nothing saturates). */
#define RP_HIST_SUB_BITS 7
#define RP_HIST_SUB      (1u << RP_HIST_SUB_BITS)
#define RP_HIST_BUCKETS  ((64 - RP_HIST_SUB_BITS + 1) * RP_HIST_SUB)

typedef struct rp_hist {
    uint64_t count;    /* values recorded */
    uint64_t min, max; /* exact extremes (min is UINT64_MAX when empty) */
    uint64_t buckets[RP_HIST_BUCKETS];
} rp_hist;

/* rp_hist_init() : empties h. */
void rp_hist_init(rp_hist *h);

/* rp_hist_record() : counts one value. Never fails. */
void rp_hist_record(rp_hist *h, uint64_t v);

/* rp_hist_merge() : adds every value of src to dst. */
void rp_hist_merge(rp_hist *dst, const rp_hist *src);

/* rp_hist_bucket() : the bucket index of v (exposed for tests). */
unsigned rp_hist_bucket(uint64_t v);

/* rp_hist_bucket_low() / rp_hist_bucket_high() : the smallest and largest value in bucket i.
 * @return the bound; i must be < RP_HIST_BUCKETS. */
uint64_t rp_hist_bucket_low(unsigned i);
uint64_t rp_hist_bucket_high(unsigned i);

/* rp_hist_percentile() : the value at percentile p (0 < p <= 100): the largest value of the bucket
 * holding the ceil(p/100 * count)-th smallest value, clamped to [min, max]. So for a sorted array
 * a of the recorded values, a[rank-1] <= result <= a[rank-1] * (1 + 1/128).
 * p is rounded to 0.0001 percent.
 * @return the value, or 0 when h is empty (p <= 0 is treated as the minimum). */
uint64_t rp_hist_percentile(const rp_hist *h, double p);

#endif /* RP_HIST_H */
