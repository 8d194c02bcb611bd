/* threads.c - per-thread counters and size histogram, process bytes current and peak */
/*
 * Each thread gets a record from a pool mapped once (MAX_THREADS records) on its first traced
 * call; records are never reused, so a report lists every thread that allocated. Only the owner
 * writes its record: a counter update is a relaxed load and store (plain moves on x86, no lock
 * prefix); readers (the report, ra_trace_snapshot) load relaxed. Threads beyond the pool share
 * one overflow record updated with atomic adds.
 *
 * bytes current and peak are process-wide: one atomic add per call on a shared counter. The peak
 * is taken where the live bytes stop rising: a free compares the value it took the bytes down
 * from with the peak (a compare-and-swap when that is higher), and a reader compares the current
 * value. Every maximum of the live bytes is followed by a free or is the current value, so the
 * peak is exact, and a program that only grows pays no compare-and-swap per allocation. A
 * per-thread current could not give the process peak.
 */
#include "preload.h"

#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ringalloc/ratrace.h"

#define MAX_THREADS 4096

static struct rt__thread *_Atomic pool;
static atomic_uint pool_used;
static atomic_int pool_lock;
static _Atomic(struct rt__thread *) head;
static struct rt__thread overflow = {.shared = 1};
static atomic_int overflow_linked;

static _Atomic int64_t bytes_cur;
static _Atomic int64_t bytes_peak;

static void push(struct rt__thread *t)
{
    struct rt__thread *h = atomic_load_explicit(&head, memory_order_relaxed);
    do {
        t->next = h;
    } while (!atomic_compare_exchange_weak_explicit(&head, &h, t, memory_order_release,
                                                    memory_order_relaxed));
}

struct rt__thread *rt__thread_self(void)
{
    if (rt__tls.thread) return rt__tls.thread;
    if (!atomic_load_explicit(&pool, memory_order_acquire)) {
        rt__lock(&pool_lock);
        if (!pool) pool = rt__map(MAX_THREADS * sizeof *pool);
        rt__unlock(&pool_lock);
    }
    unsigned i = atomic_fetch_add_explicit(&pool_used, 1, memory_order_relaxed);
    struct rt__thread *t;
    if (pool && i < MAX_THREADS) {
        t = &pool[i];
        t->tid = (pid_t)syscall(SYS_gettid);
        t->stack_hint = (uintptr_t)__builtin_frame_address(0);
        t->tp = (uintptr_t)pthread_self();
        push(t);
    } else {
        t = &overflow;
        if (!atomic_exchange(&overflow_linked, 1)) push(t);
    }
    rt__tls.thread = t;
    return t;
}

struct rt__thread *rt__thread_list(void)
{
    return atomic_load_explicit(&head, memory_order_acquire);
}

void rt__thread_atfork_child(void)
{
    if (rt__tls.thread && !rt__tls.thread->shared) {
        rt__tls.thread->tid = (pid_t)syscall(SYS_gettid);
        rt__tls.thread->stack_hint = (uintptr_t)__builtin_frame_address(0);
    }
}

static inline unsigned bucket(size_t n)
{
    return n ? 64 - (unsigned)__builtin_clzll((unsigned long long)n) : 0;
}

/* Records cur, a value the process's live bytes had, in the peak. */
static void note_peak(int64_t cur)
{
    int64_t peak = atomic_load_explicit(&bytes_peak, memory_order_relaxed);
    while (cur > peak && !atomic_compare_exchange_weak_explicit(
                             &bytes_peak, &peak, cur, memory_order_relaxed, memory_order_relaxed)) {
    }
}

void rt__count_alloc(struct rt__thread *t, size_t n)
{
    rt__add(&t->allocs, 1, t->shared);
    rt__add(&t->bytes_alloc, n, t->shared);
    rt__add(&t->hist[bucket(n)], 1, t->shared);
    atomic_fetch_add_explicit(&bytes_cur, (int64_t)n, memory_order_relaxed);
}

void rt__count_free(struct rt__thread *t, size_t n)
{
    rt__add(&t->frees, 1, t->shared);
    rt__add(&t->bytes_freed, n, t->shared);
    note_peak(atomic_fetch_sub_explicit(&bytes_cur, (int64_t)n, memory_order_relaxed));
}

void rt__count_undo_free(struct rt__thread *t, size_t n)
{
    rt__add(&t->frees, (uint64_t)-1, t->shared);
    rt__add(&t->bytes_freed, (uint64_t)0 - n, t->shared);
    atomic_fetch_add_explicit(&bytes_cur, (int64_t)n, memory_order_relaxed);
}

uint64_t rt__bytes_current(void)
{
    int64_t v = atomic_load_explicit(&bytes_cur, memory_order_relaxed);
    return v > 0 ? (uint64_t)v : 0;
}

uint64_t rt__live_blocks(void)
{
    uint64_t a = 0, f = 0;
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        a += atomic_load_explicit(&t->allocs, memory_order_relaxed);
        f += atomic_load_explicit(&t->frees, memory_order_relaxed);
    }
    return a > f ? a - f : 0;
}

uint64_t rt__bytes_peak(void)
{
    note_peak(atomic_load_explicit(&bytes_cur, memory_order_relaxed));
    return (uint64_t)atomic_load_explicit(&bytes_peak, memory_order_relaxed);
}

RT__EXPORT void ra__trace_reset_peak_impl(void)
{
    atomic_store_explicit(&bytes_peak, atomic_load(&bytes_cur), memory_order_relaxed);
}
