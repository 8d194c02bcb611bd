/* sample.c - ringstat's view of the shared rings: finding them, sampling them, what is derived
 *
 * Design notes.
 * - Finding rings: every regular file of /dev/shm is offered to ra_ring_attach(), which opens it
 *   read-only and checks its header (magic, layout version, sizes); files that are not rings are
 *   refused (RA_ECORRUPT, RA_EINVAL) and skipped in silence, as are files of other users that
 *   cannot be opened. A ring of another layout version, or one still being created, is mentioned.
 * - Vanishing rings: a ring is attached once and kept; at each update its name is looked up
 *   again (stat: the same device and inode), so a ring that was unlinked is dropped with a
 *   message and one that was replaced is attached again. The mapping of an attached ring stays
 *   valid after an unlink, so sampling never touches freed memory.
 * - Memory written by another process is outside input: the library checks the control fields it
 *   reads; a file that shrank under the mapping raises SIGBUS, which is caught around each
 *   ring's sampling (sigsetjmp) and drops that ring with a message instead of killing ringstat.
 * - Rates come from two samples of the ring's counters (published, published_bytes) on
 *   CLOCK_MONOTONIC; ages (heartbeats) are on CLOCK_REALTIME, the clock the writer stores.
 * - Registered readers: ra_ring_shm_readers() with reclaim, so slots of dead readers are freed
 *   when the ring lets ringstat write its registry; the stale ones are still shown (alive false).
 */
#include "sample.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attach.h"
#include "util.h"

void rs_rates(const ra_ring_stats *prev, const ra_ring_stats *cur, uint64_t dt_ns, double *msgs,
              double *mb)
{
    *msgs = *mb = 0;
    if (dt_ns == 0 || cur->published < prev->published ||
        cur->published_bytes < prev->published_bytes)
        return;
    double dt = (double)dt_ns / 1e9;
    *msgs = (double)(cur->published - prev->published) / dt;
    *mb = (double)(cur->published_bytes - prev->published_bytes) / 1e6 / dt;
}

uint64_t rs_lag(uint64_t next_seq, uint64_t pos)
{
    return next_seq > pos ? next_seq - pos : 0;
}

uint64_t rs_age(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* ---- the set ----------------------------------------------------------------------------------
 */

static void rs__ring_free(rs_ring *r)
{
    ra_ring_destroy(r->ring);
    free(r->readers);
    memset(r, 0, sizeof(*r));
}

/* Removes ring i (its resources freed). */
static void rs__drop(rs_set *set, size_t i)
{
    rs__ring_free(&set->rings[i]);
    memmove(&set->rings[i], &set->rings[i + 1], (set->n - i - 1) * sizeof(*set->rings));
    set->n--;
}

static int rs__by_name(const void *a, const void *b)
{
    return strcmp(((const rs_ring *)a)->name, ((const rs_ring *)b)->name);
}

/* Whether to say that `name` has status st now: not when that was the last thing said about it.
 * Records st (RA_OK forgets what was said). */
static bool rs__news(rs_set *set, const char *name, int st)
{
    for (size_t i = 0; i < set->nnotes; i++) {
        if (strcmp(set->notes[i].name, name) != 0) continue;
        bool news = set->notes[i].status != st;
        set->notes[i].status = st;
        return news;
    }
    if (st == RA_OK) return false;
    if (set->nnotes == set->notes_cap) {
        size_t cap = set->notes_cap ? 2 * set->notes_cap : 8;
        rs_note *nn = realloc(set->notes, cap * sizeof(*nn));
        if (!nn) return true; /* say it again rather than nothing */
        set->notes = nn;
        set->notes_cap = cap;
    }
    rs_note *n = &set->notes[set->nnotes++];
    snprintf(n->name, sizeof(n->name), "%s", name);
    n->status = st;
    return true;
}

/* Attaches `name` and adds it. @return 1 added, 0 not a ring (or gone), -1 out of memory;
 * `named`: the user asked for it, so every failure is reported. */
static int rs__add(rs_set *set, const char *name, bool named, FILE *err)
{
    char path[512];
    struct stat sb;
    tl_ring_path(path, sizeof(path), name);
    if (strlen(name) >= sizeof(set->rings[0].name)) return 0;
    ra_ring *ring = NULL;
    int st = stat(path, &sb) != 0 ? RA_ENOENT : tl_attach(&ring, name, 0, false);
    bool news = rs__news(set, name, st);
    if (st != RA_OK) {
        bool quiet =
            !named && (st == RA_ECORRUPT || st == RA_EINVAL || st == RA_EPERM || st == RA_ENOENT);
        if (!news || quiet) return 0;
        if (st == RA_ENOENT)
            fprintf(err, "ringstat: %s: no such ring (%s)\n", name, path);
        else
            fprintf(err, "ringstat: %s: not shown: %s\n", name, ra_strerror(st));
        return 0;
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 16;
        rs_ring *nr = realloc(set->rings, cap * sizeof(*nr));
        if (!nr) {
            ra_ring_destroy(ring);
            return -1;
        }
        set->rings = nr;
        set->cap = cap;
    }
    rs_ring *r = &set->rings[set->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->ring = ring;
    r->dev = sb.st_dev;
    r->ino = sb.st_ino;
    return 1;
}

/* Whether ring i is still the file its name holds; drops it (with a message) when not.
 * @return true when it stays. */
static bool rs__still_there(rs_set *set, size_t i, FILE *err)
{
    rs_ring *r = &set->rings[i];
    struct stat sb;
    bool exists = stat(r->path, &sb) == 0;
    if (exists && sb.st_dev == r->dev && sb.st_ino == r->ino) return true;
    fprintf(err, "ringstat: %s: the ring %s\n", r->name,
            exists ? "was replaced (attached again)" : "vanished (unlinked)");
    rs__drop(set, i);
    return false;
}

/* Whether `name` is in the set. */
static bool rs__has(const rs_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->rings[i].name, name) == 0) return true;
    return false;
}

/* Adds every ring of /dev/shm not in the set yet. @return 0, or -1 (message printed). */
static int rs__scan(rs_set *set, FILE *err)
{
    DIR *d = opendir("/dev/shm");
    if (!d) {
        fprintf(err, "ringstat: cannot read /dev/shm: %s\n", strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)) continue;
        if (rs__has(set, e->d_name)) continue;
        if (rs__add(set, e->d_name, false, err) < 0) rc = -1;
    }
    closedir(d);
    if (rc != 0) fprintf(err, "ringstat: out of memory\n");
    return rc;
}

int rs_set_update(rs_set *set, const char *const *names, size_t nnames, FILE *err)
{
    for (size_t i = set->n; i-- > 0;) rs__still_there(set, i, err);
    int missing = 0;
    if (nnames == 0 && rs__scan(set, err) != 0) return -1;
    for (size_t k = 0; k < nnames; k++) {
        if (rs__has(set, names[k])) continue;
        int added = rs__add(set, names[k], true, err);
        if (added < 0) {
            fprintf(err, "ringstat: out of memory\n");
            return -1;
        }
        missing += added == 0;
    }
    if (set->n > 1) qsort(set->rings, set->n, sizeof(*set->rings), rs__by_name);
    return missing;
}

/* ---- sampling ---------------------------------------------------------------------------------
 */

static sigjmp_buf rs__jmp;
static volatile sig_atomic_t rs__guarded;

static void rs__on_sigbus(int sig)
{
    if (rs__guarded) siglongjmp(rs__jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The registered readers of r. @return 0, 1 when the registry is corrupt, -1 out of memory. */
static int rs__readers(rs_ring *r)
{
    for (;;) {
        int n = ra_ring_shm_readers(r->ring, r->readers, r->readers_cap, true);
        if (n < 0) return 1;
        if ((size_t)n <= r->readers_cap) {
            r->nreaders = (size_t)n;
            return 0;
        }
        ra_shm_reader_info *nr = realloc(r->readers, (size_t)n * sizeof(*nr));
        if (!nr) return -1;
        r->readers = nr;
        r->readers_cap = (size_t)n;
    }
}

/* Samples ring r. @return 0, 1 when it is corrupt, -1 out of memory. */
static int rs__sample_one(rs_ring *r)
{
    ra_ring_stats st;
    ra_shm_info info;
    uint64_t now = rp_now_ns();
    /* the readers first: a reader's position then never passes the ring's next_seq read after */
    int rc = rs__readers(r);
    if (rc != 0) return rc;
    ra_ring_get_stats(r->ring, &st);
    if (ra_ring_shm_info(r->ring, &info) != RA_OK) return 1;
    bool same = r->t_ns && info.epoch == r->info.epoch;
    r->prev = r->st;
    r->prev_t_ns = r->t_ns;
    r->has_prev = same;
    r->st = st;
    r->t_ns = now;
    r->info = info;
    if (same)
        rs_rates(&r->prev, &r->st, now - r->prev_t_ns, &r->msgs_per_sec, &r->mb_per_sec);
    else
        r->msgs_per_sec = r->mb_per_sec = 0;
    r->has_heartbeat = info.heartbeat_ns != 0;
    r->heartbeat_age_ns = r->has_heartbeat ? rs_age(rp_realtime_ns(), info.heartbeat_ns) : 0;
    return 0;
}

int rs_set_sample(rs_set *set, FILE *err)
{
    static bool installed;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = rs__on_sigbus;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, NULL);
        installed = true;
    }
    for (size_t i = set->n; i-- > 0;) {
        rs_ring *r = &set->rings[i];
        int rc;
        if (sigsetjmp(rs__jmp, 1) == 0) {
            rs__guarded = 1;
            rc = rs__sample_one(r);
        } else {
            rc = 2;
        }
        rs__guarded = 0;
        if (rc < 0) {
            fprintf(err, "ringstat: out of memory\n");
            return -1;
        }
        if (rc == 0) continue;
        fprintf(err, "ringstat: %s: dropped: %s\n", r->name,
                rc == 2 ? "its file shrank under the mapping (SIGBUS)"
                        : "impossible header or registry (corrupt)");
        rs__drop(set, i);
    }
    return 0;
}

void rs_set_free(rs_set *set)
{
    for (size_t i = 0; i < set->n; i++) rs__ring_free(&set->rings[i]);
    free(set->rings);
    free(set->notes);
    memset(set, 0, sizeof(*set));
}
