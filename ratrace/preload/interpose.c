/* interpose.c - libringalloc-trace.so: malloc & co. forwarded to the next allocator, and counted */
/*
 * Design notes
 *
 * Forwarding. Each hook calls the next definition of the same function (dlsym(RTLD_NEXT), so
 * glibc's, or another preloaded allocator's) and then records the result: counters in the calling
 * thread's record, the block in the live-block registry (registry.c: malloc, calloc and realloc
 * blocks get a 16-byte header, with glibc behind) or table (table.c: the others), and in sample
 * and full mode a stack (stacks.c). A free removes the block before the real free, an allocation
 * adds it after the real allocation, so neither ever holds an address the allocator could hand out
 * again. A call that is not recorded (nested, untraced process) still strips the header of a
 * header block, and drops its registry slot. realloc counts as one free and one allocation, as
 * memcheck counts it. reallocarray is implemented here on top of the realloc hook: glibc's own
 * calls its internal realloc, which no interposer sees.
 *
 * Bootstrap. The first call resolves the real functions. dlsym itself may call calloc or malloc;
 * those nested calls (recognised by rt__tls.in_resolve) are served from a static buffer, whose
 * blocks are never freed (free ignores them) and never tracked.
 *
 * Reentrancy. rt__tls.busy is set for the whole of a hook: any allocation made meanwhile by the
 * tracer's own callees (libunwind, pthread_getattr_np) or by a signal handler that interrupted
 * the hook only forwards. So the tracer never re-enters its locks on one thread.
 *
 * Options come from the environment (RATRACE_*), read by the constructor, which runs after
 * libc is initialised. Calls made before it (ld.so, earlier constructors) are counted with the
 * defaults (count mode). A process whose PID differs from RATRACE_ROOT_PID when
 * RATRACE_FOLLOW_FORK=0 is not traced: it only forwards (an exec keeps the PID, so an exec'ed
 * program stays traced). fork: the prepare handler takes every tracer lock so that the child
 * starts with consistent tables; a child that is not followed turns tracing off.
 *
 * Exit. The report is written by an ELF destructor, which runs in exit() after the atexit and
 * C++ static destructors. _exit() and death by a signal run no destructor: no report then.
 */
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/ratrace.h"

struct rt__options rt__opt = {.depth = 32, .summary = 1, .follow_fork = 1, .sample_bytes = 524288};
atomic_int rt__disabled;
struct rt__real rt__real;
int rt__real_is_glibc;
__thread struct rt__tls rt__tls RT__TLS;

/* blocks from malloc, calloc and realloc carry a header (registry.c); set once by resolve() */
static int use_hdr;

/* 0: not resolved, 1: some thread resolves, 2: ready */
static atomic_int resolve_state;

/* ---- bootstrap buffer: calloc/malloc calls made by dlsym while it resolves ------------------- */
#define BOOT_SIZE (1u << 16)
static _Alignas(64) unsigned char boot_buf[BOOT_SIZE];
static atomic_size_t boot_used;

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot_buf && (const unsigned char *)p < boot_buf + BOOT_SIZE;
}

/* 16-byte header holding the size, then the block, aligned to align (a power of two >= 16). */
static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16) align = 16;
    if (n > BOOT_SIZE) return NULL;
    size_t need = n + 16 + align, off = atomic_fetch_add(&boot_used, need);
    if (off + need > BOOT_SIZE) return NULL;
    uintptr_t p = ((uintptr_t)(boot_buf + off + 16) + align - 1) & ~(uintptr_t)(align - 1);
    memcpy((void *)(p - 16), &n, sizeof n);
    return (void *)p; /* boot_buf is zeroed .bss, so calloc needs no memset */
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - 16, sizeof n);
    return n;
}

static void *sym(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        static const char msg[] = "ratrace: no next definition of an allocation function\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        abort();
    }
    return f;
}

#define RESOLVE(field, name)                                                                       \
    do {                                                                                           \
        void *f_ = sym(name);                                                                      \
        memcpy(&rt__real.field, &f_, sizeof f_);                                                   \
    } while (0)

static void resolve(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&resolve_state, &expect, 1)) {
        while (atomic_load_explicit(&resolve_state, memory_order_acquire) != 2) sched_yield();
        return;
    }
    rt__tls.in_resolve = 1;
    RESOLVE(malloc, "malloc");
    RESOLVE(calloc, "calloc");
    RESOLVE(realloc, "realloc");
    RESOLVE(free, "free");
    RESOLVE(posix_memalign, "posix_memalign");
    RESOLVE(aligned_alloc, "aligned_alloc");
    RESOLVE(memalign, "memalign");
    RESOLVE(valloc, "valloc");
    RESOLVE(pvalloc, "pvalloc");
    RESOLVE(malloc_usable_size, "malloc_usable_size");
    Dl_info di;
    void *m;
    memcpy(&m, &rt__real.malloc, sizeof m);
    if (dladdr(m, &di) && di.dli_fname && strstr(di.dli_fname, "/libc.so")) rt__real_is_glibc = 1;
    const char *live = getenv("RATRACE_LIVE_TABLE"); /* the table for every block: measurements */
    use_hdr = rt__real_is_glibc && !(live && *live == '1') && rt__reg_init() == 0;
    rt__tls.in_resolve = 0;
    atomic_store_explicit(&resolve_state, 2, memory_order_release);
}

/* @return 1 when the call must be served from the bootstrap buffer. */
static inline int need_boot(void)
{
    if (rt__likely(atomic_load_explicit(&resolve_state, memory_order_acquire) == 2)) return 0;
    if (rt__tls.in_resolve) return 1;
    resolve();
    return 0;
}

/* @return 1 when the call is recorded (then busy is set: call leave()). */
static inline int enter(void)
{
    if (rt__tls.busy || atomic_load_explicit(&rt__disabled, memory_order_relaxed)) return 0;
    rt__tls.busy = 1;
    return 1;
}

static inline void leave(void)
{
    rt__tls.busy = 0;
}

/* ---- block headers (layout in preload.h, the reasons in registry.c): the real block is 16 bytes
 * larger, the program's pointer 16 bytes in. Only with glibc behind (use_hdr). */
#define HDR RT__HDR

static inline int hdr_is(const void *p)
{
    return use_hdr && rt__hdr_is(p);
}

/* The program's pointer into a new real block r of a block of n bytes (NULL stays NULL); not
 * registered yet. */
static inline void *hdr_put(void *r, size_t n)
{
    if (!r) return NULL;
    rt__hdr_write((char *)r + HDR, RT__NO_SLOT, n, 0);
    return (char *)r + HDR;
}

/* n + HDR, or 0 when n is too large for a header (the caller then fails with ENOMEM). */
static inline size_t hdr_size(size_t n)
{
    return n < RT__HDR_MAX_SIZE ? n + HDR : 0;
}

/* Records a new block p of n bytes allocated for the function at caller. */
static void on_alloc(void *p, size_t n, uintptr_t caller, int hdr)
{
    struct rt__thread *t = rt__tls.thread ? rt__tls.thread : rt__thread_self();
    rt__count_alloc(t, n);
    uint64_t tag = caller | RT__TAG_PC;
    if (rt__opt.mode != RT__MODE_COUNT) {
        tag = rt__stack_tag(n, caller);
        rt__stack_peak(rt__bytes_current());
    }
    char *real = hdr ? (char *)p - HDR : p;
    if (hdr) {
        rt__hdr_write(p, rt__reg_add((uintptr_t)p), n, tag);
    } else {
        rt__table_insert((uintptr_t)p, n, tag);
    }
    if (rt__real_is_glibc) {
        /* glibc chunk header: size word before the block; 0x4 = from a thread arena, whose heap
         * is aligned to HEAP_MAX_SIZE (64 MiB on 64-bit). */
        size_t h;
        memcpy(&h, real - sizeof h, sizeof h);
        if ((h & 6) == 4) {
            uintptr_t base = (uintptr_t)real & ~(((uintptr_t)64 << 20) - 1);
            if (base != rt__tls.arena_base) {
                rt__tls.arena_base = base;
                rt__note_arena(base);
            }
        }
    }
}

/* Forgets block p (hdr: a header block): @return 1 with its record in *old when it was
 * tracked. */
static int on_free(void *p, int hdr, struct rt__block *old)
{
    if (hdr ? !rt__reg_remove(rt__hdr_read(p, old), (uintptr_t)p)
            : !rt__table_remove((uintptr_t)p, old))
        return 0;
    struct rt__thread *t = rt__tls.thread ? rt__tls.thread : rt__thread_self();
    rt__count_free(t, old->size);
    rt__stack_live(old->tag, old->size, -1);
    return 1;
}

/* A call that is not recorded (nested in the tracer, or an untraced process) on a header block:
 * its slot is dropped (a store, no lock) so the registry never lists a freed block. */
static void *forget_hdr(void *p)
{
    struct rt__block old;
    rt__reg_remove(rt__hdr_read(p, &old), (uintptr_t)p);
    return (char *)p - HDR;
}

#define CALLER() ((uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0)))

RT__EXPORT void *malloc(size_t n)
{
    if (rt__unlikely(need_boot())) return boot_alloc(n, 16);
    if (!enter()) return rt__real.malloc(n);
    uint64_t t0 = rt__time_start();
    int hdr = use_hdr && hdr_size(n);
    void *p = hdr ? hdr_put(rt__real.malloc(hdr_size(n)), n) : rt__real.malloc(n);
    rt__time_end(RT__FN_MALLOC, t0);
    if (p) on_alloc(p, n, CALLER(), hdr);
    if (!p) errno = ENOMEM;
    leave();
    return p;
}

RT__EXPORT void *calloc(size_t k, size_t n)
{
    size_t total;
    if (__builtin_mul_overflow(k, n, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (rt__unlikely(need_boot())) return boot_alloc(total, 16);
    if (!enter()) return rt__real.calloc(k, n);
    uint64_t t0 = rt__time_start();
    int hdr = use_hdr && hdr_size(total);
    void *p = hdr ? hdr_put(rt__real.calloc(1, hdr_size(total)), total) : rt__real.calloc(k, n);
    rt__time_end(RT__FN_CALLOC, t0);
    if (p) on_alloc(p, total, CALLER(), hdr);
    if (!p) errno = ENOMEM;
    leave();
    return p;
}

RT__EXPORT void free(void *p)
{
    if (!p || is_boot(p)) return;
    if (rt__unlikely(need_boot())) return; /* cannot happen: only boot blocks exist then */
    int hdr = hdr_is(p);
    if (!enter()) {
        rt__real.free(hdr ? forget_hdr(p) : p);
        return;
    }
    struct rt__block old;
    on_free(p, hdr, &old);
    uint64_t t0 = rt__time_start();
    rt__real.free(hdr ? (char *)p - HDR : p);
    rt__time_end(RT__FN_FREE, t0);
    leave();
}

/* realloc not recorded (nested or untraced) */
static void *realloc_quiet(void *p, size_t n)
{
    if (!p || !hdr_is(p)) return rt__real.realloc(p, n);
    if (n == 0) { /* glibc frees and returns NULL */
        rt__real.free(forget_hdr(p));
        return NULL;
    }
    if (!hdr_size(n)) {
        errno = ENOMEM;
        return NULL;
    }
    return hdr_put(rt__real.realloc(forget_hdr(p), hdr_size(n)), n);
}

/* The real realloc of p (or NULL), tracked with a header or not (hdr); NULL with p untouched on
 * failure, and NULL when n is 0 and p is not NULL (p freed, as glibc does). */
static void *realloc_real(void *p, size_t n, int hdr, int fn)
{
    uint64_t t0 = rt__time_start();
    void *q;
    if (!hdr) {
        q = rt__real.realloc(p, n);
    } else if (n == 0 && p) {
        rt__real.free((char *)p - HDR);
        q = NULL;
    } else {
        void *r = p ? (char *)p - HDR : NULL;
        q = hdr_size(n) ? hdr_put(rt__real.realloc(r, hdr_size(n)), n) : NULL;
        if (!q) errno = ENOMEM;
    }
    rt__time_end(fn, t0);
    return q;
}

static void *realloc_at(void *p, size_t n, uintptr_t caller, int fn)
{
    if (rt__unlikely(need_boot())) {
        void *q = boot_alloc(n, 16);
        if (q && p) memcpy(q, p, boot_size(p) < n ? boot_size(p) : n);
        return q;
    }
    if (p && is_boot(p)) { /* leaves the bootstrap buffer */
        void *q = malloc(n);
        if (q) memcpy(q, p, boot_size(p) < n ? boot_size(p) : n);
        return q;
    }
    if (!enter()) return realloc_quiet(p, n);
    int hdr = p ? hdr_is(p) : use_hdr && hdr_size(n);
    struct rt__block old;
    int known = p && on_free(p, hdr, &old);
    void *q = realloc_real(p, n, hdr, fn);
    if (q) {
        on_alloc(q, n, caller, hdr);
    } else if (known && n != 0) { /* failed: p is untouched */
        rt__count_undo_free(rt__tls.thread, old.size);
        rt__stack_live(old.tag, old.size, 1);
        if (hdr) {
            rt__hdr_write(p, rt__reg_add((uintptr_t)p), old.size, old.tag);
        } else {
            rt__table_insert((uintptr_t)p, old.size, old.tag);
        }
    }
    leave();
    return q;
}

RT__EXPORT void *realloc(void *p, size_t n)
{
    return realloc_at(p, n, CALLER(), RT__FN_REALLOC);
}

RT__EXPORT void *reallocarray(void *p, size_t k, size_t n)
{
    size_t total;
    if (__builtin_mul_overflow(k, n, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_at(p, total, CALLER(), RT__FN_REALLOCARRAY);
}

/* The aligned allocators give blocks without a header (the live-block table keeps them). */
RT__EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (rt__unlikely(need_boot())) {
        *out = boot_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    if (!enter()) return rt__real.posix_memalign(out, align, n);
    uint64_t t0 = rt__time_start();
    int rc = rt__real.posix_memalign(out, align, n);
    rt__time_end(RT__FN_POSIX_MEMALIGN, t0);
    if (rc == 0 && *out) on_alloc(*out, n, CALLER(), 0);
    leave();
    return rc;
}

/* The aligned allocators taking (align, n) or n: one body. */
#define ALIGNED_HOOK(name, params, args, boot_align, fn)                                           \
    RT__EXPORT void *name params                                                                   \
    {                                                                                              \
        if (rt__unlikely(need_boot())) return boot_alloc(n, boot_align);                           \
        if (!enter()) return rt__real.name args;                                                   \
        uint64_t t0 = rt__time_start();                                                            \
        void *p = rt__real.name args;                                                              \
        rt__time_end(fn, t0);                                                                      \
        if (p) on_alloc(p, n, CALLER(), 0);                                                        \
        leave();                                                                                   \
        return p;                                                                                  \
    }
ALIGNED_HOOK(aligned_alloc, (size_t align, size_t n), (align, n), align, RT__FN_ALIGNED_ALLOC)
ALIGNED_HOOK(memalign, (size_t align, size_t n), (align, n), align, RT__FN_MEMALIGN)
ALIGNED_HOOK(valloc, (size_t n), (n), 4096, RT__FN_VALLOC)
ALIGNED_HOOK(pvalloc, (size_t n), (n), 4096, RT__FN_PVALLOC)

RT__EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (is_boot(p)) return boot_size(p);
    if (rt__unlikely(need_boot())) return 0;
    int hdr = hdr_is(p);
    void *real = hdr ? (char *)p - HDR : p;
    if (!rt__opt.time || !enter()) return rt__real.malloc_usable_size(real) - (hdr ? HDR : 0);
    uint64_t t0 = rt__time_start();
    size_t n = rt__real.malloc_usable_size(real) - (hdr ? HDR : 0);
    rt__time_end(RT__FN_USABLE_SIZE, t0);
    leave();
    return n;
}

/* ---- public API (ratrace.h finds these through weak references) ----------------------------- */
RT__EXPORT int ra__trace_snapshot_impl(ra_trace_counters *out)
{
    memset(out, 0, sizeof *out);
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        out->allocs += atomic_load_explicit(&t->allocs, memory_order_relaxed);
        out->frees += atomic_load_explicit(&t->frees, memory_order_relaxed);
        out->bytes_allocated += atomic_load_explicit(&t->bytes_alloc, memory_order_relaxed);
    }
    out->bytes_current = rt__bytes_current();
    out->bytes_peak = rt__bytes_peak();
    out->live_blocks = rt__live_blocks();
    struct rt__thread *self = rt__tls.thread;
    if (self && !self->shared) {
        out->thread_allocs = atomic_load_explicit(&self->allocs, memory_order_relaxed);
        out->thread_frees = atomic_load_explicit(&self->frees, memory_order_relaxed);
        out->thread_bytes_allocated =
            atomic_load_explicit(&self->bytes_alloc, memory_order_relaxed);
    }
    return !atomic_load_explicit(&rt__disabled, memory_order_relaxed);
}

/* ---- options, fork, constructor and destructor ------------------------------------------------
 */
static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s) return dflt;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return *end ? dflt : (uint64_t)v;
}

static void read_options(void)
{
    const char *m = getenv("RATRACE_MODE");
    if (m && !strcmp(m, "sample")) rt__opt.mode = RT__MODE_SAMPLE;
    if (m && !strcmp(m, "full")) rt__opt.mode = RT__MODE_FULL;
    const char *u = getenv("RATRACE_UNWIND");
    rt__opt.unwind_fp = u && !strcmp(u, "fp");
    rt__opt.follow_fork = (int)env_u64("RATRACE_FOLLOW_FORK", 1) != 0;
    rt__opt.summary = (int)env_u64("RATRACE_SUMMARY", 1) != 0;
    rt__opt.root_pid = (pid_t)env_u64("RATRACE_ROOT_PID", 0);
    uint64_t depth = env_u64("RATRACE_DEPTH", 32);
    rt__opt.depth = depth < 1 ? 1 : depth > RT__MAX_DEPTH ? RT__MAX_DEPTH : (int)depth;
    uint64_t sb = env_u64("RATRACE_SAMPLE_BYTES", 524288);
    rt__opt.sample_bytes = sb ? sb : 1;
    uint64_t iv = env_u64("RATRACE_INTERVAL", 0);
    rt__opt.interval = iv > 86400 ? 86400 : (unsigned)iv;
    uint64_t sig = env_u64("RATRACE_REPORT_SIGNAL", 0);
    rt__opt.report_signal = sig < 65 ? (int)sig : 0;
    rt__opt.time = env_u64("RATRACE_TIME", 0) != 0;
    const char *d = getenv("RATRACE_DUMP");
    if (d && strlen(d) < sizeof rt__opt.dump_dir) strcpy(rt__opt.dump_dir, d);
}

static void traced_here(void)
{
    if (!rt__opt.follow_fork && rt__opt.root_pid && getpid() != rt__opt.root_pid)
        atomic_store(&rt__disabled, 1);
}

static void fork_prepare(void)
{
    rt__tls.busy++;
    rt__stack_lock_all();
    rt__table_lock_all();
    rt__reg_lock();
    rt__mem_lock_all();
}

static void fork_parent(void)
{
    rt__mem_unlock_all();
    rt__reg_unlock();
    rt__table_unlock_all();
    rt__stack_unlock_all();
    rt__tls.busy--;
}

static void fork_child(void)
{
    rt__mem_unlock_all();
    rt__reg_unlock();
    rt__table_unlock_all();
    rt__stack_unlock_all();
    rt__thread_atfork_child();
    traced_here();
    rt__tls.busy--;
}

__attribute__((constructor)) static void rt_init(void)
{
    need_boot();
    rt__tls.busy++;
    read_options();
    traced_here();
    rt__time_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    if (!atomic_load(&rt__disabled)) rt__start_reporter();
    rt__tls.busy--;
}

/* noinline and small: its frame holds the callee-saved registers (spilled by
 * __builtin_unwind_init) and lies above the stack pointer handed to the scan. */
__attribute__((destructor, noinline)) static void rt_fini(void)
{
    __builtin_unwind_init();
    volatile uintptr_t here = 0;
    uintptr_t sp = (uintptr_t)&here;
#if defined(__x86_64__)
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
#endif
    if (atomic_load(&rt__disabled)) return;
    rt__tls.busy++;
    if (!getenv("RT_NOSCAN")) rt__report(sp);
    rt__tls.busy--;
}
