/* stacks.c - allocation stacks: capture (libunwind or frame pointers), sampling, the stack table */
/*
 * Capture. unw_backtrace (libunwind, DWARF CFI with a per-thread cache of frame descriptions)
 * works on every binary; RATRACE_UNWIND=fp walks the frame-pointer chain instead, which is
 * cheaper but only right when the program and its libraries keep frame pointers (Debian's
 * binaries do not). The walk stops at any frame pointer outside the thread's stack, misaligned,
 * or not moving up. The tracer's own frames are cut off, so a stack starts at the caller of
 * malloc.
 *
 * Sampling (sample mode) follows jemalloc's heap profiler: each thread counts down the bytes it
 * allocates from an interval drawn from an exponential distribution of mean N
 * (RATRACE_SAMPLE_BYTES); the allocation that crosses zero is sampled and a new interval drawn. An
 * allocation of s bytes is thus sampled with probability p = 1 - exp(-s/N), and stands for 1/p
 * allocations and s/p bytes (the est_* counts), which makes the totals per stack unbiased.
 *
 * The stack table is SHARDS shards chosen by the stack's hash, each with its own lock, an
 * open-addressing index of entry numbers, entries in mapped chunks that never move, and a frame
 * array grown with mremap. A stack id is shard << 32 | (entry + 1); ids never change, so the
 * live-block records can keep them, and a free can find its stack's live bytes without a lock.
 */
#include "preload.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define SHARDS 16

#define CHUNK_SHIFT 12 /* entries live in chunks of 4096 that never move */
#define CHUNK       (1u << CHUNK_SHIFT)
#define MAX_CHUNKS  4096

struct entry {
    uint64_t hash;
    uint32_t depth, off; /* frames[off .. off + depth) */
    uint64_t count, bytes, est_count, est_bytes;
    _Atomic int64_t live; /* (estimated) bytes of this stack's blocks alive now */
    int64_t peak;         /* live at the last peak snapshot */
};

struct shard {
    atomic_int lock;
    uint32_t *index; /* entry + 1, 0 = empty */
    size_t index_cap, n, nframes, frames_cap;
    uintptr_t *frames;
    struct entry *chunks[MAX_CHUNKS];
};
static struct shard shards[SHARDS];

static inline struct entry *entry_at(struct shard *s, size_t e)
{
    return &s->chunks[e >> CHUNK_SHIFT][e & (CHUNK - 1)];
}

/* ---- the tracer's own text, cut from the top of every stack -----------------------------------
 */
static uintptr_t own_lo, own_hi;
static atomic_int own_state;

static int own_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    uintptr_t self = *(uintptr_t *)ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (self >= lo && self < hi) {
            own_lo = lo;
            own_hi = hi;
            return 1;
        }
    }
    return 0;
}

void rt__own_text(uintptr_t *lo, uintptr_t *hi)
{
    if (atomic_load_explicit(&own_state, memory_order_acquire) != 2) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&own_state, &expect, 1)) {
            uintptr_t self = (uintptr_t)&rt__own_text;
            dl_iterate_phdr(own_cb, &self);
            atomic_store_explicit(&own_state, 2, memory_order_release);
        } else {
            while (atomic_load_explicit(&own_state, memory_order_acquire) != 2) {}
        }
    }
    *lo = own_lo;
    *hi = own_hi;
}

/* ---- capture -----------------------------------------------------------------------------------
 */
static int fp_walk(void **buf, int max)
{
    if (!rt__tls.stack_hi) {
        pthread_attr_t a;
        void *addr;
        size_t size;
        rt__tls.stack_hi = 1; /* no bounds known: the walk stops at once */
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            if (pthread_attr_getstack(&a, &addr, &size) == 0) {
                rt__tls.stack_lo = (uintptr_t)addr;
                rt__tls.stack_hi = (uintptr_t)addr + size;
            }
            pthread_attr_destroy(&a);
        }
    }
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    int n = 0;
    while (n < max && fp >= rt__tls.stack_lo && fp + 16 <= rt__tls.stack_hi && !(fp & 7)) {
        const uintptr_t *f = (const uintptr_t *)fp;
        if (!f[1]) break;
        buf[n++] = (void *)f[1];
        if (f[0] <= fp) break;
        fp = f[0];
    }
    return n;
}

/* Fills frames with the caller's stack (return addresses, innermost first); @return the depth. */
static uint32_t capture(uintptr_t *frames)
{
    void *buf[RT__MAX_DEPTH + 16];
    int max = rt__opt.depth + 16;
    int n = rt__opt.unwind_fp ? fp_walk(buf, max) : unw_backtrace(buf, max);
    uintptr_t lo, hi;
    rt__own_text(&lo, &hi);
    int k = 0;
    while (k < n && (uintptr_t)buf[k] >= lo && (uintptr_t)buf[k] < hi) k++;
    uint32_t d = 0;
    for (; k < n && d < (uint32_t)rt__opt.depth; k++) frames[d++] = (uintptr_t)buf[k];
    return d;
}

/* ---- the table ----------------------------------------------------------------------------------
 */
static uint64_t hash_frames(const uintptr_t *f, uint32_t d)
{
    uint64_t h = 0x84222325cbf29ce4ull ^ d;
    for (uint32_t i = 0; i < d; i++) {
        h = (h ^ f[i]) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return h;
}

/* Grows an array to hold need elements; @return 0, or -1 when memory ran out. */
static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t cap2 = *cap ? *cap : 1024;
    while (cap2 < need) cap2 *= 2;
    void *q = *p ? rt__remap(*p, *cap * elem, cap2 * elem) : rt__map(cap2 * elem);
    if (!q) return -1;
    *p = q;
    *cap = cap2;
    return 0;
}

static int grow_index(struct shard *s)
{
    size_t cap = s->index_cap ? s->index_cap * 2 : 4096;
    uint32_t *ix = rt__map(cap * sizeof *ix);
    if (!ix) return -1;
    for (size_t e = 0; e < s->n; e++) {
        size_t i = entry_at(s, e)->hash & (cap - 1);
        while (ix[i]) i = (i + 1) & (cap - 1);
        ix[i] = (uint32_t)(e + 1);
    }
    rt__unmap(s->index, s->index_cap * sizeof *s->index);
    s->index = ix;
    s->index_cap = cap;
    return 0;
}

/* Finds or adds the stack and adds the counts; call with the shard locked. @return the entry
 * number, or -1 when memory ran out. */
static long intern(struct shard *s, uint64_t h, const uintptr_t *f, uint32_t d)
{
    if ((s->n + 1) * 2 > s->index_cap && grow_index(s)) return -1;
    size_t mask = s->index_cap - 1, i = h & mask;
    for (; s->index[i]; i = (i + 1) & mask) {
        struct entry *e = entry_at(s, s->index[i] - 1);
        if (e->hash == h && e->depth == d && !memcmp(s->frames + e->off, f, d * sizeof *f))
            return (long)s->index[i] - 1;
    }
    if (s->n >= (size_t)MAX_CHUNKS * CHUNK || s->nframes + d >= UINT32_MAX) return -1;
    if (!s->chunks[s->n >> CHUNK_SHIFT] &&
        !(s->chunks[s->n >> CHUNK_SHIFT] = rt__map(CHUNK * sizeof(struct entry))))
        return -1;
    if (reserve((void **)&s->frames, &s->frames_cap, s->nframes + d, sizeof *s->frames)) return -1;
    memcpy(s->frames + s->nframes, f, d * sizeof *f);
    struct entry *en = entry_at(s, s->n);
    en->hash = h;
    en->depth = d;
    en->off = (uint32_t)s->nframes;
    s->nframes += d;
    s->index[i] = (uint32_t)(s->n + 1);
    return (long)s->n++;
}

static uint64_t record(const uintptr_t *f, uint32_t d, uint64_t n, uint64_t est_count,
                       uint64_t est_bytes)
{
    uint64_t h = hash_frames(f, d);
    unsigned si = (unsigned)(h >> 60) & (SHARDS - 1);
    struct shard *s = &shards[si];
    rt__lock(&s->lock);
    long e = intern(s, h, f, d);
    if (e >= 0) {
        struct entry *en = entry_at(s, (size_t)e);
        en->count++;
        en->bytes += n;
        en->est_count += est_count;
        en->est_bytes += est_bytes;
        atomic_fetch_add_explicit(&en->live, (int64_t)est_bytes, memory_order_relaxed);
    }
    rt__unlock(&s->lock);
    return e < 0 ? 0 : ((uint64_t)si << 32) | (uint64_t)(e + 1);
}

/* ---- sampling
 * ------------------------------------------------------------------------------------ */
static int64_t next_interval(void)
{
    uint64_t x = rt__tls.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rt__tls.rng = x;
    double u = 1.0 - (double)(x >> 11) * 0x1.0p-53; /* (0, 1] */
    double v = -log(u) * (double)rt__opt.sample_bytes;
    return v < 1.0 ? 1 : v > 9e18 ? INT64_MAX : (int64_t)v;
}

/* The probability that sampling picks an allocation of n bytes. */
static double sample_p(size_t n)
{
    double p = 1.0 - exp(-(double)n / (double)rt__opt.sample_bytes);
    return p < 1e-12 ? 1e-12 : p;
}

void rt__stack_live(uint64_t tag, size_t n, int sign)
{
    if (!tag || (tag & RT__TAG_PC) || (tag >> 32) >= SHARDS) return;
    struct shard *s = &shards[tag >> 32];
    size_t e = (size_t)(tag & 0xffffffffu) - 1;
    if (!s->chunks[e >> CHUNK_SHIFT]) return;
    double w = rt__opt.mode == RT__MODE_SAMPLE ? (double)n / sample_p(n) + 0.5 : (double)n;
    atomic_fetch_add_explicit(&entry_at(s, e)->live, sign * (int64_t)w, memory_order_relaxed);
}

/* Peak snapshots: when the process's live bytes pass the mark, each stack's live bytes are
 * copied to its peak, and the mark moves 2% (at least 64 KiB) higher. So the copy is never more
 * than 2% below the real peak, and a program growing to G bytes takes about log1.02(G / 64 KiB)
 * snapshots, each one pass over the stacks. */
static atomic_int peak_lock;
static _Atomic int64_t peak_mark, peak_at;

void rt__stack_peak(uint64_t cur)
{
    if ((int64_t)cur <= atomic_load_explicit(&peak_mark, memory_order_relaxed) ||
        atomic_exchange_explicit(&peak_lock, 1, memory_order_acquire))
        return;
    if ((int64_t)cur > atomic_load_explicit(&peak_mark, memory_order_relaxed)) {
        int64_t step = (int64_t)cur / 50 > 65536 ? (int64_t)cur / 50 : 65536;
        atomic_store_explicit(&peak_mark, (int64_t)cur + step, memory_order_relaxed);
        atomic_store_explicit(&peak_at, (int64_t)cur, memory_order_relaxed);
        for (int si = 0; si < SHARDS; si++) {
            struct shard *s = &shards[si];
            rt__lock(&s->lock);
            for (size_t e = 0; e < s->n; e++) {
                struct entry *en = entry_at(s, e);
                en->peak = atomic_load_explicit(&en->live, memory_order_relaxed);
            }
            rt__unlock(&s->lock);
        }
    }
    atomic_store_explicit(&peak_lock, 0, memory_order_release);
}

uint64_t rt__stack_peak_at(void)
{
    return (uint64_t)atomic_load_explicit(&peak_at, memory_order_relaxed);
}

uint64_t rt__stack_tag(size_t n, uintptr_t caller)
{
    uint64_t est_count = 1, est_bytes = n;
    if (rt__opt.mode == RT__MODE_SAMPLE) {
        if (!rt__tls.rng) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            rt__tls.rng = ((uint64_t)ts.tv_nsec << 20) ^ (uintptr_t)&ts ^ 0x9E3779B97F4A7C15ull;
            rt__tls.until_sample = next_interval();
        }
        rt__tls.until_sample -= (int64_t)n;
        if (rt__tls.until_sample > 0) return caller | RT__TAG_PC;
        rt__tls.until_sample = next_interval();
        double p = sample_p(n);
        est_count = (uint64_t)(1.0 / p + 0.5);
        est_bytes = (uint64_t)((double)n / p + 0.5);
    }
    uintptr_t frames[RT__MAX_DEPTH];
    uint32_t d = capture(frames);
    if (!d) return caller | RT__TAG_PC;
    uint64_t id = record(frames, d, n, est_count, est_bytes);
    return id ? id : caller | RT__TAG_PC;
}

void rt__stack_lock_all(void)
{
    for (int i = 0; i < SHARDS; i++) rt__lock(&shards[i].lock);
}

void rt__stack_unlock_all(void)
{
    for (int i = SHARDS - 1; i >= 0; i--) rt__unlock(&shards[i].lock);
}

void rt__stack_each(rt__stack_fn fn, void *ctx)
{
    for (int si = 0; si < SHARDS; si++) {
        struct shard *s = &shards[si];
        rt__lock(&s->lock);
        for (size_t e = 0; e < s->n; e++) {
            struct entry *en = entry_at(s, e);
            struct rt__stack_counts c = {en->count,
                                         en->bytes,
                                         en->est_count,
                                         en->est_bytes,
                                         atomic_load_explicit(&en->live, memory_order_relaxed),
                                         en->peak};
            fn(ctx, ((uint64_t)si << 32) | (uint64_t)(e + 1), s->frames + en->off, en->depth, &c);
        }
        rt__unlock(&s->lock);
    }
}
