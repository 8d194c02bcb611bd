/* ring_wait.c - the end of a stream and waiting for it: close, heartbeat, writer death, wait */

/* Design notes (docs/ring.md, "Shared rings", has the long version).
 *
 * End of stream. ra_ring_close stores ctl->closed (release) after the last tail. A reader that
 * finds nothing to read (ra__dry, called from ra__next only then) loads closed (acquire); when
 * set, the tail it loads afterwards is final: once the reader is there, RA_CLOSED, sticky.
 *
 * Writer death (shared rings). On the same dry path, at most every RA__CHECK_NS (a coarse clock
 * read decides), the reader looks at /proc/PID/stat of the writer: the pid gone, a zombie, or a
 * start time (field 22) other than the header's means dead. It then reloads tail: what was
 * committed is still read; after it, RA_EDEAD, sticky. RA_CLOSED wins (closed is checked
 * first). The heartbeat is only shown. A pid in another pid namespace cannot be checked: a
 * ring is shared within one.
 *
 * Waiting (ra_reader_wait). The futex word is wait->seq, the count of sleepers wait->waiters.
 *   producer (ra__publish_tail): store tail; [barrier]; load waiters; if > 0: bump seq, wake.
 *   waiter  (ra__sleep):         add to waiters; barrier; load seq = v; load tail, closed;
 *                                if nothing: futex_wait(seq, v, slice); take from waiters.
 * A store-buffer (Dekker) pattern: with a full barrier between each side's store and load, the
 * producer sees the waiter or the waiter sees the tail. If the producer saw it, its bump follows
 * its tail store: a waiter that read v before the bump does not sleep (the futex compares) or
 * is woken; one that read it after sees the tail. The producer's barrier is asymmetric: it is
 * only a compiler barrier, and the waiter calls membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED),
 * which runs a full barrier on every CPU running a thread of a process that registered for it,
 * as every producer process does (ra__wake_needs_fence, once per process); a thread not running
 * passed a context switch, a full barrier too. So a commit with nobody waiting pays one load of
 * a line that changes only when readers start or stop waiting, and a predicted branch. When the
 * registration fails (an old kernel, Valgrind), the producer fences on every commit (the header
 * says so) and waiters need nothing more. A waiter whose membarrier fails, or that may not write
 * the waiters page, sleeps in 1 ms slices instead: latency, not correctness. Every sleep is a
 * slice of at most RA__SLICE_NS, so a wrong count in the (reader-writable) waiters page, or a
 * writer that dies, costs a waiter at most a slice. FUTEX_WAIT, not FUTEX_WAIT_PRIVATE: the word
 * is shared between processes.
 */

#include "ringalloc/ring_shm.h"
#include "ring_priv.h"
#include "ring_shm_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RA__NS          1000000000ull
#define RA__CHECK_NS    (100u * 1000000u) /* the writer's liveness at most this often */
#define RA__SLICE_NS    (100u * 1000000u) /* the longest sleep of a waiter */
#define RA__SHORT_SLICE (1000000u)        /* the sleep of a waiter that cannot announce itself */

static uint64_t ra__clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * RA__NS + (uint64_t)ts.tv_nsec;
}

/* ---- the producer side ----------------------------------------------------------------------- */

/* 0: not yet asked, 1: registered for the asymmetric barrier, 2: refused */
static _Atomic int ra__mb_state;

bool ra__wake_needs_fence(void)
{
    /* relaxed: a cached answer of an idempotent system call */
    int st = atomic_load_explicit(&ra__mb_state, memory_order_relaxed);
    if (st == 0) {
        long rc = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0);
        st = rc == 0 ? 1 : 2;
        atomic_store_explicit(&ra__mb_state, st, memory_order_relaxed); /* relaxed: as above */
    }
    return st != 1;
}

void ra__wake(const ra_ring *r)
{
    ra__ring_wait *w = r->wait;
    /* release: a waiter that sees the new value sees the tail stored before it */
    atomic_fetch_add_explicit(&w->seq, 1, memory_order_release);
    (void)syscall(SYS_futex, &w->seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

RA_API void ra_ring_close(ra_ring *r)
{
    if (!r || r->ro) return;
    /* release: a reader that sees closed sees the final tail */
    atomic_store_explicit(&r->ctl->closed, 1, memory_order_release);
    /* seq_cst fence: the closed store before the look at the waiters (close is rare: no need
     * for the asymmetric barrier here; and every waiter is woken, whatever the count says) */
    atomic_thread_fence(memory_order_seq_cst);
    ra__wake(r);
}

RA_API void ra_ring_heartbeat(ra_ring *r)
{
    if (!r || r->ro || !r->shm) return;
    /* relaxed: a value for display */
    atomic_store_explicit(&r->shm->hdr->heartbeat_ns, ra__clock_ns(CLOCK_REALTIME),
                          memory_order_relaxed);
}

/* ---- writer liveness ------------------------------------------------------------------------- */

/* Reads the state (field 3) and start time (field 22) of /proc/PID/stat.
 * @return 1 found, 0 no such process, -1 cannot tell. */
static int ra__proc_stat(int32_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ESRCH ? 0 : -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n <= 0) return n == 0 || e == ESRCH ? 0 : -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
    if (!p || p[1] != ' ') return -1;
    p += 2;
    *state = *p;
    for (int f = 3; f < 22; f++) {
        p = strchr(p, ' ');
        if (!p) return -1;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 1;
}

bool ra__proc_start(int32_t pid, uint64_t *start)
{
    char st;
    return ra__proc_stat(pid, &st, start) == 1;
}

bool ra__pid_alive(int32_t pid, uint64_t start)
{
    if (pid <= 0) return false;
    char st;
    uint64_t s = 0;
    int k = ra__proc_stat(pid, &st, &s);
    if (k < 0) return kill(pid, 0) == 0 || errno == EPERM; /* no /proc: the pid alone */
    if (k == 0 || st == 'Z' || st == 'X' || st == 'x') return false;
    return !start || s == start; /* start 0: not recorded */
}

/* ---- the reader's end of data ---------------------------------------------------------------- */

/* The stream has ended (end: RA_CLOSED or RA_EDEAD) unless more was committed before the end:
 * reloads tail. @return RA_OK (read on), end (sticky) or RA_ECORRUPT. */
static int ra__final(ra_reader *rd, int end)
{
    /* acquire: the records below the final tail are visible */
    uint64_t tail = atomic_load_explicit(&rd->ring->ctl->tail, memory_order_acquire);
    /* after close, the final tail covers every record, the newest too (a reader started at
     * RA_START_NEXT may stand past a tail it loaded earlier: not so once closed) */
    if (tail < rd->cursor && end == RA_CLOSED) end = RA_ECORRUPT;
    if (rd->cursor < tail) {
        rd->cached_tail = tail;
        return RA_OK;
    }
    rd->state = end;
    return end;
}

/* Whether the writer of a shared ring died, looked at no more than every RA__CHECK_NS. */
static bool ra__writer_dead(ra_reader *rd)
{
    const struct ra__shm *s = rd->ring->shm;
    if (!s || s->writer) return false;
    uint64_t now = ra__clock_ns(CLOCK_MONOTONIC_COARSE);
    if (now < rd->check_ns) return false;
    rd->check_ns = now + RA__CHECK_NS;
    return !ra__pid_alive(s->writer_pid, s->writer_start);
}

int ra__dry(ra_reader *rd)
{
    if (rd->state) return rd->state;
    const ra__ring_ctl *ctl = rd->ring->ctl;
    /* acquire: pairs with ra_ring_close's release, so the tail loaded next is final */
    if (atomic_load_explicit(&ctl->closed, memory_order_acquire)) return ra__final(rd, RA_CLOSED);
    if (!ra__writer_dead(rd)) return RA_EMPTY;
    /* acquire: as above; a writer that closed and then died closed the stream */
    if (atomic_load_explicit(&ctl->closed, memory_order_acquire)) return ra__final(rd, RA_CLOSED);
    return ra__final(rd, RA_EDEAD);
}

/* ---- ra_reader_wait -------------------------------------------------------------------------- */

/* What the reader would find now: RA_OK (something to read), RA_EMPTY, or the end. */
static int ra__ready(ra_reader *rd)
{
    if (rd->state) return rd->state;
    if (rd->pending) return RA_OK; /* a peeked message */
    /* acquire: a record below tail is complete */
    uint64_t tail = atomic_load_explicit(&rd->ring->ctl->tail, memory_order_acquire);
    if (rd->cursor < tail) return RA_OK;
    rd->cached_tail = tail;
    return ra__dry(rd);
}

/* The full barrier of a waiter between its announcement and its look at the tail (see the
 * notes). @return false when none is available: the waiter sleeps in short slices. */
static bool ra__waiter_barrier(const ra_ring *r)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (r->wfence) return true; /* the producer fences: the fence above pairs with it */
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0) return true;
    return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0;
}

/* Sleeps at most slice_ns unless there is something to read or the stream ended.
 * @return what ra__ready says after the announcement (RA_EMPTY: slept). */
static int ra__sleep(ra_reader *rd, uint64_t slice_ns)
{
    const ra_ring *r = rd->ring;
    ra__ring_wait *w = r->wait;
    if (r->shm && !r->shm->wait_rw) { /* may not announce itself: poll */
        if (slice_ns > RA__SHORT_SLICE) slice_ns = RA__SHORT_SLICE;
        struct timespec ts = {0, (long)slice_ns};
        nanosleep(&ts, NULL);
        return RA_EMPTY;
    }
    /* seq_cst: the announcement comes before the loads below (the Dekker pattern above) */
    atomic_fetch_add_explicit(&w->waiters, 1, memory_order_seq_cst);
    if (!ra__waiter_barrier(r) && slice_ns > RA__SHORT_SLICE) slice_ns = RA__SHORT_SLICE;
    /* acquire: a bump seen here comes with the tail stored before it */
    uint32_t v = atomic_load_explicit(&w->seq, memory_order_acquire);
    int rc = ra__ready(rd);
    if (rc == RA_EMPTY) {
        struct timespec ts = {(time_t)(slice_ns / RA__NS), (long)(slice_ns % RA__NS)};
        (void)syscall(SYS_futex, &w->seq, FUTEX_WAIT, v, &ts, NULL, 0);
    }
    /* relaxed: only a count; a waiter missed by it wakes at the end of its slice */
    atomic_fetch_sub_explicit(&w->waiters, 1, memory_order_relaxed);
    return rc;
}

RA_API int ra_reader_wait(ra_reader *rd, int64_t timeout_ns)
{
    if (!rd || !rd->ring) return RA_EINVAL;
    uint64_t start = ra__clock_ns(CLOCK_MONOTONIC);
    uint64_t deadline = timeout_ns < 0 ? UINT64_MAX : start + (uint64_t)timeout_ns;
    for (;;) {
        int rc = ra__ready(rd);
        if (rc != RA_EMPTY) return rc;
        uint64_t now = ra__clock_ns(CLOCK_MONOTONIC);
        if (now >= deadline) return RA_ETIMEDOUT;
        uint64_t slice = deadline - now < RA__SLICE_NS ? deadline - now : RA__SLICE_NS;
        if ((rc = ra__sleep(rd, slice)) != RA_EMPTY) return rc;
    }
}
