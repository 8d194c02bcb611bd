/* preload.h - internals of libringalloc-trace.so, the allocation interposer of ratrace */
#ifndef RATRACE_PRELOAD_H
#define RATRACE_PRELOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RT__EXPORT      __attribute__((visibility("default")))
#define RT__TLS         __attribute__((tls_model("initial-exec")))
#define rt__likely(x)   __builtin_expect(!!(x), 1)
#define rt__unlikely(x) __builtin_expect(!!(x), 0)

/* ---- options (environment, read by the constructor) -------------------------------------- */
enum rt__mode { RT__MODE_COUNT = 0, RT__MODE_SAMPLE = 1, RT__MODE_FULL = 2 };
#define RT__MAX_DEPTH 128

struct rt__options {
    int mode;              /* enum rt__mode */
    int follow_fork;       /* children (other PIDs than root_pid) are traced */
    int unwind_fp;         /* frame-pointer walk instead of libunwind */
    int depth;             /* frames kept per stack, 1..RT__MAX_DEPTH */
    int summary;           /* one summary line on stderr at exit (when no dump directory) */
    pid_t root_pid;        /* the process ratrace started (0: any process is traced) */
    uint64_t sample_bytes; /* mean bytes between samples in sample mode */
    unsigned interval;     /* seconds between snapshots (0: none) */
    int report_signal;     /* a snapshot whenever this signal comes (0: none) */
    int time;              /* time each call of the real allocator (timing.c) */
    char dump_dir[512];    /* where PID.rtd goes ("" = no dump) */
};
extern struct rt__options rt__opt;
/* Set in a process that must not be traced: every call only forwards. */
extern atomic_int rt__disabled;

/* ---- the real allocator (dlsym(RTLD_NEXT)) ------------------------------------------------- */
struct rt__real {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
};
extern struct rt__real rt__real;
extern int rt__real_is_glibc; /* the next malloc is glibc's: its chunk headers can be read */

/* ---- spin lock (a few instructions; held only around table operations) ---------------------- */
void rt__lock_slow(atomic_int *l);
static inline void rt__lock(atomic_int *l)
{
    if (rt__likely(!atomic_exchange_explicit(l, 1, memory_order_acquire))) return;
    rt__lock_slow(l);
}
static inline void rt__unlock(atomic_int *l)
{
    atomic_store_explicit(l, 0, memory_order_release);
}

/* ---- memory for the tracer itself: mmap, never malloc; the ranges are kept so the leak scan
 * never takes the tracer's own tables for roots -------------------------------------------------
 */
void *rt__map(size_t len);
/* The same for a table about to be filled: populated at once (one fault instead of one per
 * page), on huge pages when the kernel has them. */
void *rt__map_table(size_t len);
/* The same with more mmap flags (MAP_NORESERVE for a reservation committed as it is touched). */
void *rt__map_flags(size_t len, int flags);
void *rt__remap(void *p, size_t old_len, size_t new_len);
void rt__unmap(void *p, size_t len);
/* Copies up to max own ranges (start, end) into out; @return how many there are. */
size_t rt__own_ranges(uintptr_t (*out)[2], size_t max);
void rt__mem_lock_all(void);
void rt__mem_unlock_all(void);

/* ---- per-thread records -----------------------------------------------------------------------
 */
#define RT__HIST 65 /* bucket 0: size 0; bucket k: sizes 2^(k-1) .. 2^k - 1 */

/* Adds v to a per-thread counter: a plain load and store by its only writer, an atomic add on a
 * record shared by several threads. */
static inline void rt__add(_Atomic uint64_t *c, uint64_t v, int shared)
{
    if (shared)
        atomic_fetch_add_explicit(c, v, memory_order_relaxed);
    else
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                              memory_order_relaxed);
}

/* ---- time per call (timing.c) ------------------------------------------------------------------
 */
enum rt__fn {
    RT__FN_MALLOC,
    RT__FN_CALLOC,
    RT__FN_REALLOC,
    RT__FN_REALLOCARRAY,
    RT__FN_FREE,
    RT__FN_POSIX_MEMALIGN,
    RT__FN_ALIGNED_ALLOC,
    RT__FN_MEMALIGN,
    RT__FN_VALLOC,
    RT__FN_PVALLOC,
    RT__FN_USABLE_SIZE,
    RT__FNS
};
extern const char *const rt__fn_names[RT__FNS];
#define RT__TIME_HIST 48 /* bucket 0: 0 ns; bucket k: 2^(k-1) .. 2^k - 1 ns; the last: longer */
struct rt__time {
    _Atomic uint64_t calls[RT__FNS], ns[RT__FNS], hist[RT__FNS][RT__TIME_HIST];
};
struct rt__time_total {
    uint64_t calls[RT__FNS], ns[RT__FNS], hist[RT__FNS][RT__TIME_HIST];
};
extern int rt__time_tsc; /* the clock is the calibrated time-stamp counter */
uint64_t rt__clock_slow(void);
static inline uint64_t rt__clock(void)
{
#if defined(__x86_64__)
    if (rt__likely(rt__time_tsc)) return __builtin_ia32_rdtsc();
#endif
    return rt__clock_slow();
}
/* Measures the clock (constructor, with RATRACE_TIME=1). */
void rt__time_init(void);
/* A timed call: t0 = rt__time_start() before it, rt__time_end(fn, t0) after. */
void rt__time_record(int fn, uint64_t t0);
static inline uint64_t rt__time_start(void)
{
    return rt__unlikely(rt__opt.time) ? rt__clock() | 1 : 0;
}
static inline void rt__time_end(int fn, uint64_t t0)
{
    if (rt__unlikely(t0)) rt__time_record(fn, t0);
}
/* Sums every thread's counts. */
void rt__time_sum(struct rt__time_total *out);

struct rt__thread {
    _Atomic uint64_t allocs, frees, bytes_alloc, bytes_freed;
    _Atomic uint64_t hist[RT__HIST];
    pid_t tid;
    int shared;              /* the overflow record shared by threads beyond the pool (atomics) */
    uintptr_t stack_hint;    /* an address in the thread's stack (its first traced call) */
    uintptr_t tp;            /* its thread pointer (pthread_self(): the TCB, static TLS below) */
    atomic_int stop_state;   /* enum rt__stop, for the leak scan at exit (stop.c) */
    uintptr_t stop_sp;       /* the stack pointer where the signal stopped it */
    uintptr_t stop_regs[32]; /* its general registers then */
    struct rt__time *time;   /* time per call (mapped on the first timed call) */
    struct rt__thread *next;
};

/* Thread-local state; initial-exec TLS (the library is preloaded, so static TLS has room). */
struct rt__tls {
    int busy;                     /* inside a hook: nested calls only forward */
    int in_resolve;               /* this thread runs dlsym for the real allocator */
    struct rt__thread *thread;    /* this thread's record (NULL until its first traced call) */
    int64_t until_sample;         /* bytes left before the next sample (sample mode) */
    uint64_t rng;                 /* xorshift state for the sampling intervals */
    uintptr_t arena_base;         /* last glibc arena heap seen by this thread */
    uintptr_t stack_lo, stack_hi; /* frame-pointer walk bounds (0: not known yet) */
    uint32_t reg_chunk, reg_next; /* the registry chunk this thread fills, its next slot */
    int reg_have;                 /* reg_chunk is set */
};
extern __thread struct rt__tls rt__tls RT__TLS;

struct rt__thread *rt__thread_self(void);
struct rt__thread *rt__thread_list(void);
void rt__thread_atfork_child(void);
void rt__count_alloc(struct rt__thread *t, size_t n);
void rt__count_free(struct rt__thread *t, size_t n);
void rt__count_undo_free(struct rt__thread *t, size_t n);
uint64_t rt__bytes_current(void);
/* Blocks allocated and not freed: the allocations counted less the frees. */
uint64_t rt__live_blocks(void);
uint64_t rt__bytes_peak(void);
/* Records a glibc arena heap base seen in a block header (excluded from leak-scan roots). */
void rt__note_arena(uintptr_t base);
size_t rt__arena_bases(uintptr_t *out, size_t max);

/* ---- live-block table -------------------------------------------------------------------------
 */
/* tag: a stack id (> 0, bit 63 clear) or a caller address with RT__TAG_PC set; 0 = unknown. */
#define RT__TAG_PC (1ull << 63)
struct rt__block {
    uintptr_t ptr;
    uint64_t size;
    uint64_t tag;
};
void rt__table_insert(uintptr_t p, uint64_t size, uint64_t tag);
int rt__table_remove(uintptr_t p, struct rt__block *out);
/* Copies every live block into a new rt__map()ed array (*out, *cap_bytes for rt__unmap).
 * @return the number of blocks; 0 with *out NULL when there is none or mmap failed. */
size_t rt__table_snapshot(struct rt__block **out, size_t *cap_bytes);
uint64_t rt__table_count(void);
void rt__table_lock_all(void);
void rt__table_unlock_all(void);

/* ---- block headers and the live-block registry (registry.c) ------------------------------------
 * A header block's 16-byte header, right before the program's pointer p:
 *   word 0: slot << 37 | size      (the registry slot; the size asked for, below 2^37)
 *   word 1: tag49 << 15 | MAGIC    (the tag in 49 bits; MAGIC has bit 3 set, see registry.c) */
#define RT__HDR           16
#define RT__HDR_MAGIC     0x5a38u
#define RT__HDR_SIZE_BITS 37
#define RT__HDR_MAX_SIZE  (1ull << RT__HDR_SIZE_BITS) /* larger blocks get no header */
#define RT__NO_SLOT       ((1ull << (64 - RT__HDR_SIZE_BITS)) - 1)
#define RT__TAG49_PC      (1ull << 48)

static inline int rt__hdr_is(const void *p)
{
    uint64_t w;
    __builtin_memcpy(&w, (const char *)p - 8, sizeof w);
    return (w & 0x7fff) == RT__HDR_MAGIC;
}

static inline void rt__hdr_write(void *p, uint64_t slot, uint64_t size, uint64_t tag)
{
    uint64_t t49 =
        tag & RT__TAG_PC ? RT__TAG49_PC | (tag & (RT__TAG49_PC - 1)) : tag & (RT__TAG49_PC - 1);
    uint64_t h[2] = {slot << RT__HDR_SIZE_BITS | size, t49 << 15 | RT__HDR_MAGIC};
    __builtin_memcpy((char *)p - RT__HDR, h, sizeof h);
}

/* The block record of header block p; @return its slot. */
static inline uint64_t rt__hdr_read(const void *p, struct rt__block *b)
{
    uint64_t h[2];
    __builtin_memcpy(h, (const char *)p - RT__HDR, sizeof h);
    uint64_t t49 = h[1] >> 15;
    b->ptr = (uintptr_t)p;
    b->size = h[0] & (RT__HDR_MAX_SIZE - 1);
    b->tag = t49 & RT__TAG49_PC ? (t49 & (RT__TAG49_PC - 1)) | RT__TAG_PC : t49;
    return h[0] >> RT__HDR_SIZE_BITS;
}

/* Maps the registry's reservation; @return 0 or -1 (then no block gets a header). */
int rt__reg_init(void);
/* Registers header block p; @return its slot number, RT__NO_SLOT when the registry is full. */
uint64_t rt__reg_add(uintptr_t p);
/* Unregisters header block p of that slot; @return 1, or 0 when p is not registered there. */
int rt__reg_remove(uint64_t slot, uintptr_t p);
/* Copies up to max registered blocks (records from their headers) to out; @return how many. */
size_t rt__reg_copy(struct rt__block *out, size_t max);
/* The number of registered blocks (a pass over the registry). */
size_t rt__reg_count(void);
void rt__reg_lock(void);
void rt__reg_unlock(void);

/* ---- stacks ------------------------------------------------------------------------------------
 */
/* The tag for a new block of n bytes: a stack id when this allocation is recorded (full mode, or
 * a sample), else the caller's address. */
uint64_t rt__stack_tag(size_t n, uintptr_t caller);
void rt__stack_lock_all(void);
void rt__stack_unlock_all(void);
/* Adds (sign 1) or removes (sign -1) a block of n bytes to its stack's live bytes (tags that
 * are no stack id are ignored). */
void rt__stack_live(uint64_t tag, size_t n, int sign);
/* Copies each stack's live bytes to its peak when cur passes the next mark (see stacks.c). */
void rt__stack_peak(uint64_t cur);
/* The process's live bytes at the last peak snapshot. */
uint64_t rt__stack_peak_at(void);
struct rt__stack_counts {
    uint64_t count, bytes, est_count, est_bytes; /* allocations; est_: sample mode estimates */
    int64_t live, peak;                          /* bytes alive now, at the peak snapshot */
};
/* Calls fn for each recorded stack. */
typedef void (*rt__stack_fn)(void *ctx, uint64_t id, const uintptr_t *frames, uint32_t depth,
                             const struct rt__stack_counts *c);
void rt__stack_each(rt__stack_fn fn, void *ctx);
void rt__own_text(uintptr_t *lo, uintptr_t *hi);

/* ---- stopping the other threads for the leak scan (stop.c) --------------------------------------
 */
enum rt__stop { RT__STOP_NONE = 0, RT__STOP_PENDING, RT__STOP_STOPPED, RT__STOP_BUSY };
/* Signals every other thread with a record and waits (briefly) until each is stopped in the
 * handler (RT__STOP_STOPPED: stop_sp and stop_regs hold its state) or answered busy. @return the
 * number of threads signalled (0 when no signal was free). */
int rt__stop_others(void);
/* Lets the stopped threads go on. */
void rt__resume_others(void);

/* ---- leak scan ---------------------------------------------------------------------------------
 */
enum rt__kind { RT__UNREACHED = 0, RT__INDIRECT, RT__POSSIBLE, RT__REACHABLE, RT__KINDS };
struct rt__leak_site {
    uint64_t tag;
    uint64_t count, bytes;
};
struct rt__leaks {
    uint64_t count[RT__KINDS], bytes[RT__KINDS];
    struct rt__leak_site *sites; /* definitely lost, by tag (rt__map()ed) */
    size_t nsites, sites_cap_bytes;
};
/* Scans the roots (data, bss, mapped memory, stacks: the calling thread's from sp up) for
 * pointers into live blocks and classifies every block as memcheck does. @return 0, or -1 when
 * memory for the scan could not be mapped (l then holds zeros). */
int rt__leak_scan(struct rt__leaks *l, uintptr_t sp);

/* ---- report ------------------------------------------------------------------------------------
 */
/* Writes DIR/PID.rtd (or a summary line on stderr); sp: the caller's stack pointer. */
void rt__report(uintptr_t sp);
/* Starts the thread writing DIR/PID.snap every RATRACE_INTERVAL seconds and on
 * RATRACE_REPORT_SIGNAL (when a dump directory and either is set), and the signal's handler. */
void rt__start_reporter(void);

#endif
