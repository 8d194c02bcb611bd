/* scan.c - leak detection at exit: roots, marking and memcheck's four kinds of blocks */
/*
 * What counts, with memcheck's meanings (mc_leakcheck.c is the model, step for step):
 * - still reachable: a chain of start-pointers leads from a root to the block;
 * - possibly lost: a chain leads to it, but some link is an interior pointer;
 * - definitely lost (a leak): no pointer to the block, start or interior, anywhere;
 * - indirectly lost: not reachable, but pointed to by a lost block.
 *
 * Roots are every readable and writable mapping of the process (/proc/self/maps: data and bss of
 * every module, memory a program maps itself, other threads' stacks and their static TLS), less:
 * - the tracer's own mappings and its library's image (its tables point at every block);
 * - the blocks themselves (a block is scanned only once reached), and the malloc heaps, whose
 *   freed chunks hold stale pointers: glibc's brk heap ([heap]) and its thread-arena heaps
 *   (64 MiB aligned, size in their heap_info header; seen in block headers, mem.c);
 * - device mappings other than /dev/zero (memcheck skips them too);
 * - the stacks of threads that have exited (glibc keeps them cached, with stale frames);
 * - the calling thread's stack below sp (dead frames): that stack is scanned from sp up, and the
 *   caller spills its callee-saved registers above sp first (interpose.c, rt_fini).
 * Words are read at 8-byte alignment. A word that points into a block (start or interior, or at
 * the start of a zero-sized block) is a pointer to it.
 *
 * Threads still running are stopped for the root scan (stop.c): their stack counts from their
 * stack pointer up and their registers count. Limits: a thread that blocks the signal, does
 * not answer in time, or was inside the tracer's own code has its whole stack scanned
 * (including dead frames: a leak can then be missed, never invented) and its registers are not
 * seen (a block held only there would be reported). Blocks allocated or freed by other threads
 * between the table snapshot and the stop are not seen. With an allocator other than glibc's the
 * heaps cannot be told apart: freed memory is then scanned too (leaks can be missed).
 *
 * Marking follows memcheck: roots mark a block reachable through a start pointer, possibly
 * reached through an interior one; reached blocks are scanned in turn (through a possibly
 * reached block, every link counts as interior). Then each unreached block, in address order,
 * starts a "clique": every unreached block it leads to becomes indirectly lost (a clique leader
 * reached later from another unreached block becomes indirect too). The unreached rest is
 * definitely lost.
 */
#include "preload.h"

#include <errno.h>
#include <setjmp.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HEAP_MAX ((uintptr_t)64 << 20)

struct map {
    uintptr_t lo, hi;
    char r, w, shared, skip; /* skip: never a root (heap, device, own, dead stack) */
    char guard_below;        /* the mapping right below is PROT_NONE (a thread stack's guard) */
};

struct scan {
    struct rt__block *b; /* sorted by ptr */
    size_t n, b_bytes;
    unsigned char *state;
    size_t state_bytes;
    size_t *stack;
    size_t sp, stack_cap;
    uintptr_t lo, hi; /* [first block start, last block end) */
    struct map *maps;
    size_t nmaps, maps_bytes;
    char *mapsbuf;
    size_t mapsbuf_bytes;
    uintptr_t (*extra)[2]; /* more roots: TCB and static TLS of exited threads */
    size_t nextra, extra_cap;
    uintptr_t tls[64][2]; /* static TLS blocks: offset below the thread pointer, size */
    size_t ntls;
};

/* ---- blocks --------------------------------------------------------------------------------- */
static void sift(struct rt__block *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && a[c + 1].ptr > a[c].ptr) c++;
        if (a[i].ptr >= a[c].ptr) return;
        struct rt__block t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void sort_blocks(struct rt__block *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) sift(a, i, n);
    for (size_t k = n; k-- > 1;) {
        struct rt__block t = a[0];
        a[0] = a[k];
        a[k] = t;
        sift(a, 0, k);
    }
}

/* @return the index of the block containing address a, or -1. */
static long find(const struct scan *s, uintptr_t a)
{
    if (a < s->lo || a >= s->hi) return -1;
    size_t lo = 0, hi = s->n; /* the last block with ptr <= a */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->b[mid].ptr <= a)
            lo = mid;
        else
            hi = mid;
    }
    const struct rt__block *b = &s->b[lo];
    if (a == b->ptr || (a > b->ptr && a - b->ptr < b->size)) return (long)lo;
    return -1;
}

static void push(struct scan *s, size_t i)
{
    if (s->sp == s->stack_cap) {
        size_t cap = s->stack_cap * 2;
        size_t *q = rt__remap(s->stack, s->stack_cap * sizeof *q, cap * sizeof *q);
        if (!q) return; /* out of memory: the block stays as marked, unscanned */
        s->stack = q;
        s->stack_cap = cap;
    }
    s->stack[s->sp++] = i;
}

/* One word found in a root (definite = 1) or in a reached block. clique < 0: marking from roots;
 * else the clique phase with that leader. */
static inline void consider(struct scan *s, uintptr_t w, int definite, long clique)
{
    long j = find(s, w);
    if (j < 0) return;
    unsigned char *st = &s->state[j];
    if (clique >= 0) {
        if (*st == RT__UNREACHED && j != clique) {
            *st = RT__INDIRECT;
            push(s, (size_t)j);
        }
    } else if (w == s->b[j].ptr && definite && *st != RT__REACHABLE) {
        *st = RT__REACHABLE;
        push(s, (size_t)j);
    } else if (*st == RT__UNREACHED) {
        *st = RT__POSSIBLE;
        push(s, (size_t)j);
    }
}

static void scan_words(struct scan *s, uintptr_t lo, uintptr_t hi, int definite, long clique)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (; lo + 8 <= hi; lo += 8) {
        uintptr_t w;
        memcpy(&w, (const void *)lo, sizeof w);
        if (w >= s->lo && w < s->hi) consider(s, w, definite, clique);
    }
}

static void drain(struct scan *s, long clique)
{
    while (s->sp) {
        size_t i = s->stack[--s->sp];
        int definite = clique < 0 && s->state[i] == RT__REACHABLE;
        scan_words(s, s->b[i].ptr, s->b[i].ptr + s->b[i].size, definite, clique);
    }
}

/* A root range, less the blocks inside it. */
static void scan_root(struct scan *s, uintptr_t lo, uintptr_t hi)
{
    if (lo >= hi) return;
    size_t k = 0, top = s->n; /* first block ending after lo */
    while (k < top) {
        size_t mid = k + (top - k) / 2;
        if (s->b[mid].ptr + s->b[mid].size <= lo)
            k = mid + 1;
        else
            top = mid;
    }
    for (; lo < hi; k++) {
        uintptr_t end = k < s->n && s->b[k].ptr < hi ? s->b[k].ptr : hi;
        if (end > lo) scan_words(s, lo, end, 1, -1);
        if (k >= s->n) break;
        uintptr_t bend = s->b[k].ptr + s->b[k].size;
        if (bend > lo) lo = bend;
    }
}

/* ---- /proc/self/maps
 * ----------------------------------------------------------------------------- */
static uintptr_t hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else
            return v;
    }
}

/* Reads the whole file into a mapped buffer; @return its length, or 0 (then *buf is NULL). */
static size_t read_file(const char *path, char **buf, size_t *cap)
{
    *cap = 1 << 16;
    *buf = rt__map(*cap);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    while (*buf && fd >= 0) {
        if (len + 4096 > *cap) {
            char *q = rt__remap(*buf, *cap, *cap * 2);
            if (!q) break;
            *buf = q;
            *cap *= 2;
        }
        ssize_t r = read(fd, *buf + len, *cap - len - 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
    }
    if (fd >= 0) close(fd);
    if (*buf) (*buf)[len] = 0;
    return len;
}

static void parse_line(struct map *m, const char *p)
{
    m->lo = hex(&p);
    p++;
    m->hi = hex(&p);
    p++;
    m->r = p[0] == 'r';
    m->w = p[1] == 'w';
    m->shared = p[3] == 's';
    for (int field = 0; field < 4 && *p && *p != '\n'; field++) { /* perms offset dev inode */
        while (*p && *p != ' ' && *p != '\n') p++;
        while (*p == ' ') p++;
    }
    if (!strncmp(p, "[heap]", 6)) m->skip = 1;
    if (!strncmp(p, "/dev/", 5) && strncmp(p, "/dev/zero", 9) && strncmp(p, "/dev/shm/", 9))
        m->skip = 1;
}

static int load_maps(struct scan *s)
{
    char *buf;
    size_t cap, len = read_file("/proc/self/maps", &buf, &cap);
    if (!buf) return -1;
    s->mapsbuf = buf; /* kept mapped (and listed) until the scan ends */
    s->mapsbuf_bytes = cap;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    s->maps_bytes = (lines + 1) * sizeof *s->maps;
    s->maps = rt__map(s->maps_bytes);
    if (s->maps) {
        for (const char *p = buf; *p && s->nmaps <= lines;) {
            struct map *m = &s->maps[s->nmaps++];
            parse_line(m, p);
            if (s->nmaps > 1 && m[-1].hi == m->lo && !m[-1].r && !m[-1].w) m->guard_below = 1;
            const char *nl = strchr(p, '\n');
            if (!nl) break;
            p = nl + 1;
        }
    }
    return s->maps ? 0 : -1;
}

static struct map *map_at(struct scan *s, uintptr_t a)
{
    for (size_t i = 0; i < s->nmaps; i++)
        if (a >= s->maps[i].lo && a < s->maps[i].hi) return &s->maps[i];
    return NULL;
}

/* ---- roots --------------------------------------------------------------------------------------
 */
static int own_image_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct scan *s = ctx;
    uintptr_t lo, hi;
    rt__own_text(&lo, &hi);
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && lo >= a && lo < a + ph->p_memsz) mine = 1;
    }
    for (int i = 0; mine && i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        for (size_t k = 0; k < s->nmaps; k++)
            if (s->maps[k].lo < a + ph->p_memsz && s->maps[k].hi > a) s->maps[k].skip = 1;
    }
    return mine;
}

static int tls_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct scan *s = ctx;
    uintptr_t tp = (uintptr_t)pthread_self(), a = (uintptr_t)info->dlpi_tls_data;
    for (int i = 0; i < info->dlpi_phnum && a; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_TLS && a < tp && tp - a < ((uintptr_t)1 << 20) && s->ntls < 64) {
            s->tls[s->ntls][0] = tp - a;
            s->tls[s->ntls][1] = ph->p_memsz;
            s->ntls++;
        }
    }
    return 0;
}

static void add_extra(struct scan *s, uintptr_t lo, uintptr_t hi)
{
    if (s->nextra == s->extra_cap) {
        size_t cap = s->extra_cap ? s->extra_cap * 2 : 256;
        void *q = s->extra
                      ? rt__remap(s->extra, s->extra_cap * sizeof *s->extra, cap * sizeof *s->extra)
                      : rt__map(cap * sizeof *s->extra);
        if (!q) return;
        s->extra = q;
        s->extra_cap = cap;
    }
    s->extra[s->nextra][0] = lo;
    s->extra[s->nextra][1] = hi;
    s->nextra++;
}

/* An exited thread's stack is no root, but its descriptor (at the thread pointer, up to the end
 * of the mapping, holding the dtv and pthread_setspecific values) and its static TLS blocks are:
 * glibc keeps them with the cached stack, and memcheck sees them. The TLS blocks sit at the same
 * offsets below the thread pointer in every thread, taken from the calling thread. */
static void dead_thread_roots(struct scan *s, uintptr_t tp, const struct map *m)
{
    add_extra(s, tp, m->hi);
    for (size_t k = 0; k < s->ntls; k++)
        if (tp - s->tls[k][0] >= m->lo)
            add_extra(s, tp - s->tls[k][0], tp - s->tls[k][0] + s->tls[k][1]);
}

/* Marks as skipped every mapping the roots must not include (see the notes at the top); the
 * calling thread's stack mapping is skipped too and scanned from sp by the caller. */
static void skip_non_roots(struct scan *s, uintptr_t sp)
{
    static uintptr_t own[1024][2];
    size_t nown = rt__own_ranges(own, 1024);
    for (size_t i = 0; i < s->nmaps; i++)
        for (size_t k = 0; k < nown; k++)
            if (s->maps[i].lo < own[k][1] && s->maps[i].hi > own[k][0]) s->maps[i].skip = 1;
    dl_iterate_phdr(own_image_cb, s);
    static uintptr_t bases[1024];
    size_t nb = rt__arena_bases(bases, 1024);
    for (size_t k = 0; k < nb; k++) {
        struct map *m = map_at(s, bases[k]);
        if (!m || !m->r) continue;
        size_t size;
        memcpy(&size, (const void *)(bases[k] + 16), sizeof size); /* heap_info.size */
        uintptr_t end = bases[k] + (size < HEAP_MAX ? size : HEAP_MAX);
        for (size_t i = 0; i < s->nmaps; i++)
            if (s->maps[i].lo < end && s->maps[i].hi > bases[k]) s->maps[i].skip = 1;
    }
    dl_iterate_phdr(tls_cb, s); /* now: no loader lock may be taken once threads are stopped */
    struct map *self = map_at(s, sp);
    if (self) self->skip = 1;
    pid_t pid = getpid();
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        if (t->shared || !t->stack_hint) continue;
        if (syscall(SYS_tgkill, pid, t->tid, 0) == 0) continue; /* alive: a root */
        struct map *m = map_at(s, t->stack_hint);
        if (!m || m == self || !m->guard_below) continue;
        m->skip = 1;
        if (t->tp >= m->lo && t->tp < m->hi) dead_thread_roots(s, t->tp, m);
    }
}

/* A mapping can fault when read although listed readable (a file truncated under a mapping,
 * memory unmapped meanwhile by another thread): the fault handler skips the rest of it. */
static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
    (void)sig;
    siglongjmp(fault_jump, 1);
}

static void scan_roots(struct scan *s, uintptr_t sp)
{
    struct sigaction sa, old_segv, old_bus;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    volatile size_t i = 0;
    if (sigsetjmp(fault_jump, 1)) i++; /* mapping i faulted: go on after it */
    for (; i < s->nmaps; i++) {
        const struct map *m = &s->maps[i];
        if (m->r && m->w && !m->skip) scan_root(s, m->lo, m->hi);
    }
    const struct map *self = map_at(s, sp);
    if (self && i == s->nmaps) {
        i++;
        scan_root(s, sp, self->hi);
    }
    for (; i > s->nmaps && i - s->nmaps - 1 < s->nextra; i++)
        scan_root(s, s->extra[i - s->nmaps - 1][0], s->extra[i - s->nmaps - 1][1]);
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
}

/* Threads stopped by rt__stop_others(): their stack is a root from the stopped stack pointer
 * (less the 128-byte red zone) up, and their saved registers are roots; the rest of the stack
 * mapping is not. */
static void stopped_thread_roots(struct scan *s, uintptr_t sp)
{
    const struct map *self = map_at(s, sp);
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        if (atomic_load(&t->stop_state) != RT__STOP_STOPPED) continue;
        struct map *m = map_at(s, t->stop_sp);
        if (!m || m == self) continue;
        m->skip = 1;
        add_extra(s, t->stop_sp - 128 > m->lo ? t->stop_sp - 128 : m->lo, m->hi);
        add_extra(s, (uintptr_t)t->stop_regs, (uintptr_t)(t->stop_regs + 32));
    }
}

/* ---- classification -----------------------------------------------------------------------------
 */
static void add_site(struct rt__leaks *l, uint64_t tag, uint64_t size, size_t cap)
{
    size_t mask = cap - 1, i = (size_t)((tag * 0x9E3779B97F4A7C15ull) >> 20) & mask;
    while (l->sites[i].count && l->sites[i].tag != tag) i = (i + 1) & mask;
    l->sites[i].tag = tag;
    l->sites[i].count++;
    l->sites[i].bytes += size;
}

static void classify(struct scan *s, struct rt__leaks *l)
{
    size_t lost = 0;
    for (size_t i = 0; i < s->n; i++) {
        l->count[s->state[i]]++;
        l->bytes[s->state[i]] += s->b[i].size;
        lost += s->state[i] == RT__UNREACHED;
    }
    size_t cap = 16;
    while (cap < lost * 2) cap *= 2;
    l->sites_cap_bytes = cap * sizeof *l->sites;
    l->sites = lost ? rt__map(l->sites_cap_bytes) : NULL;
    if (!l->sites) return;
    for (size_t i = 0; i < s->n; i++)
        if (s->state[i] == RT__UNREACHED) add_site(l, s->b[i].tag, s->b[i].size, cap);
    for (size_t i = 0; i < cap; i++)
        if (l->sites[i].count) l->sites[l->nsites++] = l->sites[i];
}

static int prepare(struct scan *s)
{
    s->n = rt__table_snapshot(&s->b, &s->b_bytes);
    if (!s->n) return 0;
    sort_blocks(s->b, s->n);
    s->lo = s->b[0].ptr;
    for (size_t i = 0; i < s->n; i++) {
        uintptr_t end = s->b[i].ptr + (s->b[i].size ? s->b[i].size : 1);
        if (end > s->hi) s->hi = end;
    }
    s->state_bytes = s->n;
    s->state = rt__map(s->state_bytes);
    s->stack_cap = s->n + 16;
    s->stack = rt__map(s->stack_cap * sizeof *s->stack);
    return s->state && s->stack && load_maps(s) == 0 ? 0 : -1;
}

int rt__leak_scan(struct rt__leaks *l, uintptr_t sp)
{
    memset(l, 0, sizeof *l);
    struct scan s;
    memset(&s, 0, sizeof s);
    int rc = prepare(&s);
    if (rc == 0 && s.n) {
        skip_non_roots(&s, sp);
        int stopped = rt__stop_others();
        if (stopped) stopped_thread_roots(&s, sp);
        scan_roots(&s, sp);
        if (stopped) rt__resume_others();
        drain(&s, -1);
        for (size_t i = 0; i < s.n; i++) {
            if (s.state[i] != RT__UNREACHED) continue;
            push(&s, i);
            drain(&s, (long)i);
        }
        classify(&s, l);
    }
    rt__unmap(s.b, s.b_bytes);
    rt__unmap(s.state, s.state_bytes);
    rt__unmap(s.stack, s.stack_cap * sizeof *s.stack);
    rt__unmap(s.maps, s.maps_bytes);
    rt__unmap(s.mapsbuf, s.mapsbuf_bytes);
    rt__unmap(s.extra, s.extra_cap * sizeof *s.extra);
    return rc;
}
