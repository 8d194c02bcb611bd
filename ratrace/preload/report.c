/* report.c - the interposer's exit report: DIR/PID.rtd for ratrace, or one line on stderr */
/*
 * The dump is text, one record per line, written with write(2) from a static buffer (no stdio,
 * no malloc: the report runs in a destructor, while exit() tears the process down). ratrace
 * (ratrace/dump.c) reads it, resolves the addresses and writes the reports. Records:
 *   ratrace-dump 1
 *   pid P / ppid P / mode count|sample|full / sample_bytes N / exe PATH
 *   allocs N / frees N / bytes_allocated N / bytes_freed N / bytes_current N / bytes_peak N
 *   hist K N                      size bucket K (0: size 0, K: 2^(K-1) .. 2^K - 1), allocations
 *   thread TID ALLOCS FREES BYTES_ALLOCATED BYTES_FREED
 *   lost KIND COUNT BYTES         KIND: definite indirect possible reachable
 *   leak TAG COUNT BYTES          definitely lost blocks by tag: sID (a stack) or pHEX (a caller)
 *   module LO HI BIAS PATH        hex; every loaded object (PATH of the executable: /proc/self/exe)
 *   peak_at N                     live bytes at the last peak snapshot (sample and full mode)
 *   stack ID COUNT BYTES EST_COUNT EST_BYTES LIVE PEAK DEPTH FRAME...  frames in hex, innermost
 *                                 first; LIVE, PEAK: bytes of its blocks alive now, at peak_at
 *   end
 *   live_blocks N                 blocks allocated and not freed (when the dump was taken)
 *   time_clock tsc|clock_gettime  with RATRACE_TIME=1, then per function that was called:
 *   time FN CALLS NS              calls of the real FN (malloc, free, ...), nanoseconds in them
 *   time_hist FN K N              N calls took 2^(K-1) .. 2^K - 1 ns (K 0: 0 ns)
 * The file is written as PID.tmp and renamed, so a reader never sees half a dump. With
 * RATRACE_INTERVAL=N a reporter thread also writes PID.snap every N seconds, and with
 * RATRACE_REPORT_SIGNAL=S whenever the process gets signal S: the same records less the leak
 * scan (the process runs on), with a "snapshot 1" line. Each snapshot replaces the last one
 * (temporary name, rename); ratrace takes it away (renames it) before reading it.
 */
#include "preload.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct out {
    int fd;
    size_t len;
    char buf[1 << 16];
};
static struct out out;

static void flush(void)
{
    size_t off = 0;
    while (off < out.len) {
        ssize_t w = write(out.fd, out.buf + off, out.len - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    out.len = 0;
}

static void put(const char *s, size_t n)
{
    while (n) {
        if (out.len == sizeof out.buf) flush();
        size_t k = sizeof out.buf - out.len < n ? sizeof out.buf - out.len : n;
        memcpy(out.buf + out.len, s, k);
        out.len += k;
        s += k;
        n -= k;
    }
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

static void put_num(uint64_t v, unsigned base)
{
    char tmp[24];
    int i = sizeof tmp;
    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    put(" ", 1);
    put(tmp + i, sizeof tmp - (size_t)i);
}

static void line(const char *key, int nvals, const uint64_t *vals)
{
    puts_(key);
    for (int i = 0; i < nvals; i++) put_num(vals[i], 10);
    put("\n", 1);
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    const char *exe = ctx;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo) lo = a;
        if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
    }
    const char *name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : exe;
    if (hi == 0 || !*name || !strncmp(name, "linux-vdso", 10)) return 0;
    puts_("module");
    put_num(lo, 16);
    put_num(hi, 16);
    put_num(info->dlpi_addr, 16);
    put(" ", 1);
    puts_(name);
    put("\n", 1);
    return 0;
}

static void stack_cb(void *ctx, uint64_t id, const uintptr_t *frames, uint32_t depth,
                     const struct rt__stack_counts *c)
{
    (void)ctx;
    uint64_t v[8] = {id,
                     c->count,
                     c->bytes,
                     c->est_count,
                     c->est_bytes,
                     c->live > 0 ? (uint64_t)c->live : 0,
                     c->peak > 0 ? (uint64_t)c->peak : 0,
                     depth};
    puts_("stack");
    for (int i = 0; i < 8; i++) put_num(v[i], 10);
    for (uint32_t i = 0; i < depth; i++) put_num(frames[i], 16);
    put("\n", 1);
}

static void put_totals(const char *exe)
{
    static const char *modes[] = {"count", "sample", "full"};
    puts_("ratrace-dump 1\nmode ");
    puts_(modes[rt__opt.mode]);
    puts_("\nexe ");
    puts_(exe);
    put("\n", 1);
    uint64_t v[4] = {(uint64_t)getpid(), (uint64_t)getppid(), rt__opt.sample_bytes, 0};
    line("pid", 1, &v[0]);
    line("ppid", 1, &v[1]);
    line("sample_bytes", 1, &v[2]);
    uint64_t tot[4] = {0, 0, 0, 0}, hist[RT__HIST] = {0};
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        uint64_t tv[5] = {(uint64_t)t->tid, atomic_load(&t->allocs), atomic_load(&t->frees),
                          atomic_load(&t->bytes_alloc), atomic_load(&t->bytes_freed)};
        for (int i = 0; i < 4; i++) tot[i] += tv[i + 1];
        for (int k = 0; k < RT__HIST; k++) hist[k] += atomic_load(&t->hist[k]);
        if (tv[1]) line("thread", 5, tv);
    }
    line("allocs", 1, &tot[0]);
    line("frees", 1, &tot[1]);
    line("bytes_allocated", 1, &tot[2]);
    line("bytes_freed", 1, &tot[3]);
    uint64_t cur = rt__bytes_current(), peak = rt__bytes_peak();
    line("bytes_current", 1, &cur);
    line("bytes_peak", 1, &peak);
    uint64_t live = rt__live_blocks();
    line("live_blocks", 1, &live);
    for (int k = 0; k < RT__HIST; k++) {
        uint64_t kv[2] = {(uint64_t)k, hist[k]};
        if (hist[k]) line("hist", 2, kv);
    }
}

static void put_time(void)
{
    static struct rt__time_total tt; /* large: not on the reporter thread's stack */
    rt__time_sum(&tt);
    puts_(rt__time_tsc ? "time_clock tsc\n" : "time_clock clock_gettime\n");
    for (int f = 0; f < RT__FNS; f++) {
        if (!tt.calls[f]) continue;
        puts_("time ");
        puts_(rt__fn_names[f]);
        put_num(tt.calls[f], 10);
        put_num(tt.ns[f], 10);
        put("\n", 1);
        for (int k = 0; k < RT__TIME_HIST; k++) {
            if (!tt.hist[f][k]) continue;
            puts_("time_hist ");
            puts_(rt__fn_names[f]);
            put_num((uint64_t)k, 10);
            put_num(tt.hist[f][k], 10);
            put("\n", 1);
        }
    }
}

static void put_leaks(const struct rt__leaks *l)
{
    static const char *kinds[RT__KINDS] = {"definite", "indirect", "possible", "reachable"};
    for (int k = 0; k < RT__KINDS; k++) {
        puts_("lost ");
        puts_(kinds[k]);
        put_num(l->count[k], 10);
        put_num(l->bytes[k], 10);
        put("\n", 1);
    }
    for (size_t i = 0; i < l->nsites; i++) {
        const struct rt__leak_site *s = &l->sites[i];
        puts_(s->tag & RT__TAG_PC ? "leak p" : "leak s");
        char tmp[24];
        int n = sizeof tmp;
        uint64_t v = s->tag & ~RT__TAG_PC;
        do {
            tmp[--n] = "0123456789abcdef"[s->tag & RT__TAG_PC ? v % 16 : v % 10];
            v /= s->tag & RT__TAG_PC ? 16 : 10;
        } while (v);
        put(tmp + n, sizeof tmp - (size_t)n);
        put_num(s->count, 10);
        put_num(s->bytes, 10);
        put("\n", 1);
    }
}

static void summary(const struct rt__leaks *l)
{
    out.fd = 2;
    uint64_t a = 0, f = 0;
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        a += atomic_load(&t->allocs);
        f += atomic_load(&t->frees);
    }
    uint64_t pid = (uint64_t)getpid();
    puts_("ratrace[");
    put_num(pid, 10);
    puts_(" ]: allocs");
    put_num(a, 10);
    puts_(", frees");
    put_num(f, 10);
    puts_(", bytes peak");
    put_num(rt__bytes_peak(), 10);
    puts_(", current");
    put_num(rt__bytes_current(), 10);
    puts_("; definitely lost");
    put_num(l->bytes[RT__UNREACHED], 10);
    puts_(" bytes in");
    put_num(l->count[RT__UNREACHED], 10);
    puts_(" blocks, indirectly lost");
    put_num(l->bytes[RT__INDIRECT], 10);
    puts_(", possibly lost");
    put_num(l->bytes[RT__POSSIBLE], 10);
    puts_(", still reachable");
    put_num(l->bytes[RT__REACHABLE], 10);
    puts_(" bytes\n");
    flush();
}

/* DIR/PID + ext; @return 0 or -1 when the path does not fit. */
static int dump_path(char *path, size_t cap, const char *ext)
{
    char num[24];
    int i = sizeof num;
    uint64_t v = (uint64_t)getpid();
    num[--i] = 0;
    do {
        num[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t need = strlen(rt__opt.dump_dir) + 1 + strlen(num + i) + strlen(ext) + 1;
    if (need > cap) return -1;
    strcpy(path, rt__opt.dump_dir);
    strcat(path, "/");
    strcat(path, num + i);
    strcat(path, ext);
    return 0;
}

/* One dump (l == NULL: a snapshot of a running process, without the leak scan), written to a
 * temporary name and renamed, under a lock: the reporter thread and exit may overlap. */
static void write_dump(const struct rt__leaks *l)
{
    static atomic_int lock;
    static char exe[4096], path[1100], final[1100];
    const char *ext = l ? ".rtd" : ".snap";
    rt__lock(&lock);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    if (dump_path(path, sizeof path, ".tmp") == 0 && dump_path(final, sizeof final, ext) == 0) {
        out.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out.fd >= 0) {
            put_totals(exe);
            if (l) put_leaks(l);
            if (!l) puts_("snapshot 1\n");
            if (rt__opt.time) put_time();
            dl_iterate_phdr(module_cb, exe);
            if (rt__opt.mode != RT__MODE_COUNT) {
                uint64_t at = rt__stack_peak_at();
                line("peak_at", 1, &at);
                rt__stack_each(stack_cb, NULL);
            }
            puts_("end\n");
            flush();
            close(out.fd);
            rename(path, final);
        }
    }
    rt__unlock(&lock);
}

void rt__report(uintptr_t sp)
{
    struct rt__leaks l;
    rt__leak_scan(&l, sp);
    if (rt__opt.dump_dir[0])
        write_dump(&l);
    else if (rt__opt.summary)
        summary(&l);
    rt__unmap(l.sites, l.sites_cap_bytes);
}

/* ---- the reporter thread: snapshots every RATRACE_INTERVAL seconds and on RATRACE_REPORT_SIGNAL
 * The signal handler only sets report_req and wakes the thread through a futex on it (both
 * async-signal-safe, no file descriptor the program could close or reuse); the thread writes the
 * snapshot. The thread is never traced itself; it ends when the process forked (a child has no
 * reporter: only its exit report). */
static atomic_int report_req;

static void on_report_signal(int sig)
{
    (void)sig;
    int saved = errno;
    atomic_store_explicit(&report_req, 1, memory_order_release);
    syscall(SYS_futex, &report_req, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the signal asked for a report or the deadline (0: none) passed. */
static void wait_request(uint64_t deadline)
{
    while (!atomic_load_explicit(&report_req, memory_order_acquire)) {
        uint64_t now = now_ns();
        if (deadline && now >= deadline) return;
        uint64_t left = deadline ? deadline - now : (uint64_t)3600 * 1000000000u;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        syscall(SYS_futex, &report_req, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    }
}

static void *reporter(void *arg)
{
    pid_t owner = (pid_t)(intptr_t)arg;
    rt__tls.busy = 1;
    uint64_t step = (uint64_t)rt__opt.interval * 1000000000u, next = step ? now_ns() + step : 0;
    for (;;) {
        wait_request(next);
        if (getpid() != owner || atomic_load(&rt__disabled)) return NULL;
        atomic_store_explicit(&report_req, 0, memory_order_relaxed);
        write_dump(NULL);
        while (next && next <= now_ns()) next += step;
    }
}

void rt__start_reporter(void)
{
    if ((!rt__opt.interval && !rt__opt.report_signal) || !rt__opt.dump_dir[0]) return;
    pthread_attr_t a;
    pthread_t t;
    if (pthread_attr_init(&a)) return;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256 * 1024);
    int rc = pthread_create(&t, &a, reporter, (void *)(intptr_t)getpid());
    pthread_attr_destroy(&a);
    if (rc || !rt__opt.report_signal) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_report_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(rt__opt.report_signal, &sa, NULL);
}
