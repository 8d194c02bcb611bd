/* ring_shm.c - named tick rings in shared memory: create, attach, unlink, info, registry */

/* Design notes (docs/ring.md, "Shared rings", has the long version; the file layout is in
 * ring_shm_layout.h).
 *
 * Create builds the whole file under a temporary name in the same directory (O_EXCL, mode set
 * with fchmod so the umask does not narrow it), gives it all its space with posix_fallocate (a
 * full /dev/shm fails here, as RA_ENOSPC, and the file is removed; never a SIGBUS later), maps
 * it, writes header and control block, stores `ready` last, and only then links it to its name:
 * link() for an exclusive create (EEXIST: someone else has the name), rename() to replace. So a
 * half-made ring never carries the name; `ready` still guards a file made some other way.
 *
 * Attach opens the file for reading and writing when it may (else read-only), maps it whole with
 * PROT_READ, checks the header (ra__shm_check), and makes writable only what this reader owns:
 * the consumer page (RA_ATTACH_CONSUMER), the waiters page, and the registry once it registers.
 * A ring attached read-only (no write permission on the file) still reads; it waits by polling
 * in short sleeps and cannot register or consume.
 *
 * The registry: slots of one line pair each. A reader claims a slot with a CAS of its pid from
 * 0, publishes its counters with relaxed stores at the end of each read call, and frees the slot
 * at detach. A monitor that asks for it (ra_ring_shm_readers with reclaim) frees the slots of
 * dead processes (pid gone, a zombie, or another start time) with a CAS back to 0.
 */

#include "ringalloc/ring_shm.h"
#include "ring_priv.h"
#include "ring_shm_layout.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define RA__SHM_DIR      "/dev/shm"
#define RA__NAME_MAX     200u
#define RA__HUGETLBFS    0x958458f6ul /* statfs f_type of hugetlbfs */
#define RA__MAX_UNIT     (1u << 30)
#define RA__DEFAULT_REGS 64u

/* ---- names, errors, layout ------------------------------------------------------------------- */

/* True when name is a plain file name: not empty, no '/', not "." or "..", short enough. */
static bool ra__plain_name(const char *name)
{
    size_t n = name ? strnlen(name, RA__NAME_MAX + 1) : 0;
    return n && n <= RA__NAME_MAX && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

/* The path of ring `name`: DIR/NAME for a plain name, else name itself (attach, unlink).
 * @return RA_OK or RA_EINVAL. */
static int ra__ring_path(char *buf, size_t n, const char *dir, const char *name)
{
    if (!name || !*name) return RA_EINVAL;
    int len;
    if (strchr(name, '/'))
        len = snprintf(buf, n, "%s", name);
    else if (ra__plain_name(name))
        len = snprintf(buf, n, "%s/%s", dir ? dir : RA__SHM_DIR, name);
    else
        return RA_EINVAL;
    return len > 0 && (size_t)len < n ? RA_OK : RA_EINVAL;
}

static int ra__errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return RA_ENOENT;
    case EACCES:
    case EPERM:
    case EROFS:
        return RA_EPERM;
    case EEXIST:
        return RA_EEXIST;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return RA_ENOSPC;
    case ENOMEM:
        return RA_ENOMEM;
    default:
        return RA_EIO;
    }
}

/* The section offsets and file size of a ring, from capacity, registry slots and unit: the one
 * copy of the layout rule, used to build a header and to check one. */
static void ra__shm_layout(ra__shm_hdr *h)
{
    uint64_t u = h->unit;
    h->ctl_off = RA__SHM_CTL_OFF;
    h->cons_off = u;
    h->wait_off = 2 * u;
    h->reg_off = 3 * u;
    h->data_off = RA__ALIGN_UP(h->reg_off + (uint64_t)h->max_registered * RA__LINE, u);
    h->file_size = RA__ALIGN_UP(h->data_off + h->capacity, u);
}

/* Checks a mapped header and control block of a file of `size` bytes.
 * @return RA_OK, RA_ECORRUPT, RA_EVERSION or RA_ENOTREADY. */
static int ra__shm_check(const ra__shm_hdr *h, uint64_t size)
{
    if (size < RA__SHM_CTL_OFF + sizeof(ra__ring_ctl) || h->magic != RA__SHM_MAGIC)
        return RA_ECORRUPT;
    if (h->version != RA__SHM_VERSION) return RA_EVERSION;
    /* acquire: pairs with the writer's release of ready; every field below is complete */
    if (atomic_load_explicit(&((ra__shm_hdr *)(uintptr_t)h)->ready, memory_order_acquire) != 1)
        return RA_ENOTREADY;
    const uint32_t known = RA_RING_BACKPRESSURE | RA_RING_HUGEPAGES | RA_RING_PREFAULT;
    uint64_t cap = h->capacity;
    if (h->hdr_size != sizeof *h || h->unit < RA__PAGE || h->unit > RA__MAX_UNIT ||
        (h->unit & (h->unit - 1)) || !cap || (cap & (cap - 1)) || cap < RA_RING_MIN_CAPACITY ||
        cap > size || (h->flags & ~known) || h->max_registered == 0 ||
        h->max_registered > RA__SHM_MAX_REG || h->clock > RA_SHM_CLOCK_OTHER ||
        h->writer_pid <= 0 || h->wake > RA__WAKE_FENCE)
        return RA_ECORRUPT;
    ra__shm_hdr want = *h;
    ra__shm_layout(&want);
    if (memcmp(&want.ctl_off, &h->ctl_off, 5 * sizeof h->ctl_off) != 0 ||
        want.file_size != h->file_size || h->file_size != size)
        return RA_ECORRUPT;
    const ra__ring_ctl *c = (const ra__ring_ctl *)((const unsigned char *)h + h->ctl_off);
    if (c->magic != RA__MAGIC || c->capacity != cap || c->flags != h->flags ||
        c->max_msg != ra__ring_max_msg(cap))
        return RA_ECORRUPT;
    return RA_OK;
}

/* The file system's page size under dir (the section alignment) and whether it is hugetlbfs.
 * @return RA_OK, RA_ENOENT, RA_EPERM or RA_EIO. */
static int ra__fs_unit(const char *dir, size_t *unit, bool *huge)
{
    struct statfs fs;
    if (statfs(dir, &fs) != 0) return ra__errno_status(errno);
    long pg = sysconf(_SC_PAGESIZE);
    size_t u = pg > (long)RA__PAGE ? (size_t)pg : RA__PAGE;
    *huge = (unsigned long)fs.f_type == RA__HUGETLBFS;
    if (*huge && fs.f_bsize > 0 && (size_t)fs.f_bsize > u) u = (size_t)fs.f_bsize;
    *unit = u;
    return u <= RA__MAX_UNIT ? RA_OK : RA_EIO;
}

/* A handle's shm part for path. @return it, or NULL when out of memory. */
static struct ra__shm *ra__shm_new(const char *path)
{
    size_t n = strlen(path) + 1;
    struct ra__shm *s = calloc(1, sizeof *s + n);
    if (s) memcpy(s->path, path, n);
    return s;
}

/* Points the handle r at the mapped file (header checked): control block, data, sections. */
static void ra__shm_bind(ra_ring *r, struct ra__shm *s, ra__shm_hdr *h)
{
    unsigned char *base = (unsigned char *)h;
    s->hdr = h;
    s->reg = (ra__reg_slot *)(base + h->reg_off);
    s->nreg = h->max_registered;
    s->clock = h->clock;
    s->writer_pid = h->writer_pid;
    s->writer_start = h->writer_start;
    s->epoch = h->epoch;
    s->unit = h->unit;
    r->shm = s;
    r->cons = (ra__ring_cons *)(base + h->cons_off);
    r->wait = (ra__ring_wait *)(base + h->wait_off);
}

/* ---- create ---------------------------------------------------------------------------------- */

/* The epoch of the ring currently at path (0 when none can be read). */
static uint64_t ra__old_epoch(const char *path)
{
    ra__shm_hdr h;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t got = pread(fd, &h, sizeof h, 0);
    close(fd);
    return got == (ssize_t)sizeof h && h.magic == RA__SHM_MAGIC ? h.epoch : 0;
}

/* Opens a fresh temporary file beside path and gives it `size` bytes of allocated space.
 * @return the descriptor (tmp holds its path), or a negative status (nothing left behind). */
static int ra__make_tmp(const char *path, char *tmp, size_t tmpn, unsigned mode, uint64_t size)
{
    static _Atomic unsigned counter;
    const char *slash = strrchr(path, '/');
    int dirlen = (int)(slash - path);
    int fd = -1;
    for (int i = 0; i < 16 && fd < 0; i++) {
        /* relaxed: only a unique number */
        unsigned k = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
        int n = snprintf(tmp, tmpn, "%.*s/.ra-tmp-%ld-%u-%s", dirlen, path, (long)getpid(), k,
                         slash + 1);
        if (n < 0 || (size_t)n >= tmpn) return RA_EINVAL;
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) return ra__errno_status(errno);
    }
    if (fd < 0) return RA_EIO;
    int rc = RA_OK, e;
    if (fchmod(fd, mode) != 0 || ftruncate(fd, (off_t)size) != 0)
        rc = ra__errno_status(errno);
    else if ((e = posix_fallocate(fd, 0, (off_t)size)) != 0)
        rc = e == EINVAL || e == EOPNOTSUPP ? RA_EIO : ra__errno_status(e);
    if (rc != RA_OK) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    return fd;
}

/* Writes the header of a new ring into the mapping at h (all but `ready`). */
static void ra__shm_init_hdr(ra__shm_hdr *h, const ra_ring_config *cfg, const ra_shm_options *opt,
                             size_t unit, uint64_t epoch)
{
    memset(h, 0, sizeof *h);
    h->magic = RA__SHM_MAGIC;
    h->version = RA__SHM_VERSION;
    h->hdr_size = sizeof *h;
    h->capacity = cfg->capacity;
    h->flags = cfg->flags;
    h->clock = opt ? opt->clock : RA_SHM_CLOCK_REALTIME;
    h->unit = (uint32_t)unit;
    h->max_registered = opt && opt->max_registered ? opt->max_registered : RA__DEFAULT_REGS;
    ra__shm_layout(h);
    h->writer_pid = (int32_t)getpid();
    uint64_t start = 0;
    (void)ra__proc_start(h->writer_pid, &start);
    h->writer_start = start;
    h->wake = ra__wake_needs_fence() ? RA__WAKE_FENCE : RA__WAKE_MEMBARRIER;
    h->epoch = epoch;
    atomic_init(&h->ready, 0);
    atomic_init(&h->heartbeat_ns, 0);
}

/* Checks the arguments of create. @return RA_OK or RA_EINVAL. */
static int ra__create_args(const char *name, const ra_ring_config *cfg, const ra_shm_options *opt)
{
    const uint32_t known = RA_RING_BACKPRESSURE | RA_RING_HUGEPAGES | RA_RING_PREFAULT;
    if (!ra__plain_name(name) || !cfg || cfg->mem || (cfg->flags & ~known) ||
        !ra_ring_footprint(cfg->capacity))
        return RA_EINVAL;
    if (opt && (opt->clock > RA_SHM_CLOCK_OTHER || opt->max_registered > RA__SHM_MAX_REG ||
                (opt->mode & ~07777u)))
        return RA_EINVAL;
    return RA_OK;
}

/* Puts the finished file tmp at path: link (exclusive) or rename (replace); removes tmp.
 * @return RA_OK, RA_EEXIST or another status. */
static int ra__publish_file(const char *tmp, const char *path, bool replace)
{
    int rc = RA_OK;
    if (replace ? rename(tmp, path) != 0 : link(tmp, path) != 0) rc = ra__errno_status(errno);
    if (!replace || rc != RA_OK) unlink(tmp);
    return rc;
}

RA_API int ra_ring_create_shm(ra_ring **out, const char *name, const ra_ring_config *cfg,
                              const ra_shm_options *opt)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    char path[PATH_MAX], tmp[PATH_MAX];
    int rc = ra__create_args(name, cfg, opt);
    if (rc == RA_OK) rc = ra__ring_path(path, sizeof path, opt ? opt->dir : NULL, name);
    if (rc != RA_OK) return rc;
    bool replace = opt && opt->replace;
    if (!replace && access(path, F_OK) == 0) return RA_EEXIST; /* early; link() decides */
    size_t unit = RA__PAGE;
    bool huge = false;
    const char *dir = opt && opt->dir ? opt->dir : RA__SHM_DIR;
    if ((rc = ra__fs_unit(dir, &unit, &huge)) != RA_OK) return rc;

    ra__shm_hdr h;
    ra__shm_init_hdr(&h, cfg, opt, unit, replace ? ra__old_epoch(path) + 1 : 1);
    ra_ring *r = ra__ring_alloc();
    struct ra__shm *s = ra__shm_new(path);
    if (!r || !s) {
        free(r);
        free(s);
        return RA_ENOMEM;
    }
    int fd = ra__make_tmp(path, tmp, sizeof tmp, opt && opt->mode ? opt->mode : 0600, h.file_size);
    if (fd < 0) {
        free(r);
        free(s);
        return fd;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !ra__region_map_file(&r->mem, fd, h.file_size, true, huge)) {
        rc = ra__errno_status(errno);
        close(fd);
        unlink(tmp);
        free(r);
        free(s);
        return rc;
    }
    close(fd);
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    ra__shm_hdr *mh = r->mem.base;
    memcpy(mh, &h, sizeof h);
    if (cfg->flags & RA_RING_PREFAULT) ra__prefault(r->mem.base, r->mem.len);
    ra__ring_setup(r, (ra__ring_ctl *)((unsigned char *)mh + h.ctl_off),
                   (unsigned char *)mh + h.data_off, cfg->capacity, cfg->flags);
    ra__shm_bind(r, s, mh);
    s->writer = s->rdwr = s->wait_rw = true;
    atomic_init(&s->reg_rw, 1);
    s->unlink_on_destroy = opt && opt->unlink_on_destroy;
    r->wfence = h.wake == RA__WAKE_FENCE;
    /* release: a reader that sees ready sees every field above */
    atomic_store_explicit(&mh->ready, 1, memory_order_release);
    if ((rc = ra__publish_file(tmp, path, replace)) != RA_OK) {
        s->unlink_on_destroy = false;
        ra_ring_destroy(r);
        return rc;
    }
    *out = r;
    return RA_OK;
}

/* ---- attach ---------------------------------------------------------------------------------- */

/* Makes the section [off, off + len) of a read-only mapping writable (the file is open for
 * writing). @return true on success. */
static bool ra__make_writable(const ra_ring *r, uint64_t off, uint64_t len)
{
    unsigned char *p = (unsigned char *)r->mem.base + off;
    return mprotect(p, RA__ALIGN_UP(len, r->shm->unit), PROT_READ | PROT_WRITE) == 0;
}

/* Opens path for attach: read-write when permitted, else read-only. @return fd or a status. */
static int ra__open_ring(const char *path, bool *rdwr)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    *rdwr = fd >= 0;
    if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
        fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : ra__errno_status(errno);
}

/* Maps the open ring file fd read-only into r and checks its header.
 * @return RA_OK, or a status (nothing mapped). */
static int ra__map_ring(ra_ring *r, int fd, struct stat *st)
{
    if (fstat(fd, st) != 0) return ra__errno_status(errno);
    if (!S_ISREG(st->st_mode)) return RA_ECORRUPT;
    if ((uint64_t)st->st_size < RA__SHM_CTL_OFF + sizeof(ra__ring_ctl)) return RA_ECORRUPT;
    struct statfs fs;
    bool huge = fstatfs(fd, &fs) == 0 && (unsigned long)fs.f_type == RA__HUGETLBFS;
    if (!ra__region_map_file(&r->mem, fd, (size_t)st->st_size, false, huge))
        return ra__errno_status(errno);
    int rc = ra__shm_check(r->mem.base, (uint64_t)st->st_size);
    if (rc != RA_OK) ra__region_put(&r->mem);
    return rc;
}

/* Sets up an attached handle over the checked mapping: read-only, with the consumer page and
 * the waiters page made writable where this reader may write them. @return RA_OK or a status. */
static int ra__attach_setup(ra_ring *r, struct ra__shm *s, uint32_t flags)
{
    ra__shm_hdr *h = r->mem.base;
    unsigned char *base = r->mem.base;
    bool consumer = flags & RA_ATTACH_CONSUMER;
    /* readers' own copies: nothing they use later is read from the header again */
    r->ctl = (ra__ring_ctl *)(base + h->ctl_off);
    r->data = base + h->data_off;
    r->capacity = h->capacity;
    r->mask = h->capacity - 1;
    r->max_msg = ra__ring_max_msg(h->capacity);
    r->flags = h->flags;
    r->ro = true;
    r->pad_pos[0] = r->pad_pos[1] = UINT64_MAX;
    ra__shm_bind(r, s, h);
    r->wfence = h->wake == RA__WAKE_FENCE;
    if (consumer && !(h->flags & RA_RING_BACKPRESSURE)) return RA_EINVAL;
    if (consumer) {
        if (!s->rdwr) return RA_EPERM;
        if (!ra__make_writable(r, h->cons_off, sizeof(ra__ring_cons))) return RA_EIO;
        r->may_consume = true;
    }
    s->wait_rw = s->rdwr && ra__make_writable(r, h->wait_off, sizeof(ra__ring_wait));
    return RA_OK;
}

RA_API int ra_ring_attach(ra_ring **out, const char *name, uint32_t flags)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    char path[PATH_MAX];
    int rc = ra__ring_path(path, sizeof path, NULL, name);
    if (rc != RA_OK || (flags & ~(uint32_t)RA_ATTACH_CONSUMER)) return RA_EINVAL;
    bool rdwr;
    int fd = ra__open_ring(path, &rdwr);
    if (fd < 0) return fd;
    ra_ring *r = ra__ring_alloc();
    struct ra__shm *s = ra__shm_new(path);
    struct stat st;
    rc = !r || !s ? RA_ENOMEM : ra__map_ring(r, fd, &st);
    close(fd);
    if (rc != RA_OK) {
        free(r);
        free(s);
        return rc;
    }
    s->rdwr = rdwr;
    s->dev = (uint64_t)st.st_dev;
    s->ino = (uint64_t)st.st_ino;
    if ((rc = ra__attach_setup(r, s, flags)) != RA_OK) {
        ra_ring_destroy(r);
        return rc;
    }
    *out = r;
    return RA_OK;
}

/* ---- unlink, destroy, info ------------------------------------------------------------------- */

RA_API int ra_ring_unlink(const char *name)
{
    char path[PATH_MAX];
    int rc = ra__ring_path(path, sizeof path, NULL, name);
    if (rc != RA_OK) return rc;
    return unlink(path) == 0 ? RA_OK : ra__errno_status(errno);
}

/* True when the name still refers to this handle's file. */
static bool ra__same_file(const struct ra__shm *s)
{
    struct stat st;
    return stat(s->path, &st) == 0 && (uint64_t)st.st_dev == s->dev &&
           (uint64_t)st.st_ino == s->ino;
}

void ra__shm_release(ra_ring *r)
{
    struct ra__shm *s = r->shm;
    if (s->writer && s->unlink_on_destroy && ra__same_file(s)) (void)unlink(s->path);
    r->shm = NULL;
    free(s);
}

/* Registry slots in use. */
static uint32_t ra__reg_count(const struct ra__shm *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nreg; i++) /* relaxed: a count for display */
        n += atomic_load_explicit(&s->reg[i].pid, memory_order_relaxed) != 0;
    return n;
}

RA_API int ra_ring_shm_info(const ra_ring *r, ra_shm_info *info)
{
    if (!r || !info || !r->shm) return RA_EINVAL;
    const struct ra__shm *s = r->shm;
    ra__shm_hdr *h = s->hdr;
    /* relaxed loads: values for display */
    *info = (ra_shm_info){
        .layout_version = RA__SHM_VERSION,
        .clock = s->clock,
        .capacity = r->capacity,
        .flags = r->flags,
        .writer_pid = s->writer_pid,
        .writer_start = s->writer_start,
        .epoch = s->epoch,
        .heartbeat_ns = atomic_load_explicit(&h->heartbeat_ns, memory_order_relaxed),
        .ready = atomic_load_explicit(&h->ready, memory_order_relaxed) == 1,
        .closed = atomic_load_explicit(&r->ctl->closed, memory_order_relaxed) != 0,
        .writer_alive = ra__pid_alive(s->writer_pid, s->writer_start),
        .registered = ra__reg_count(s),
        .max_registered = s->nreg,
        .replaced = !ra__same_file(s),
    };
    return RA_OK;
}

/* ---- registry -------------------------------------------------------------------------------- */

/* Makes the registry writable in this process (once). @return false when it may not be. */
static bool ra__reg_writable(const ra_ring *r)
{
    struct ra__shm *s = r->shm;
    /* acquire: pairs with the release below (another thread made it writable) */
    if (atomic_load_explicit(&s->reg_rw, memory_order_acquire)) return true;
    if (!s->rdwr) return false;
    const ra__shm_hdr *h = s->hdr;
    if (!ra__make_writable(r, h->reg_off, (uint64_t)s->nreg * RA__LINE)) return false;
    /* release: the mapping is writable for whoever sees the flag */
    atomic_store_explicit(&s->reg_rw, 1, memory_order_release);
    return true;
}

void ra__slot_sync(const ra_reader *rd)
{
    ra__reg_slot *sl = &rd->ring->shm->reg[rd->slot - 1];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    /* relaxed: each field is read whole by monitors; no ordering between them is promised */
    atomic_store_explicit(&sl->position_seq, rd->expect_seq, memory_order_relaxed);
    atomic_store_explicit(&sl->read, rd->read, memory_order_relaxed);
    atomic_store_explicit(&sl->lost, rd->lost, memory_order_relaxed);
    atomic_store_explicit(&sl->laps, rd->laps, memory_order_relaxed);
    atomic_store_explicit(&sl->heartbeat_ns,
                          (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                          memory_order_relaxed);
}

void ra__slot_release(ra_reader *rd)
{
    ra__reg_slot *sl = &rd->ring->shm->reg[rd->slot - 1];
    rd->slot = 0;
    /* release: the slot's last values are written before it is free */
    atomic_store_explicit(&sl->pid, 0, memory_order_release);
}

/* Frees the slot i when its process is dead. @return true when it was dead. */
static bool ra__reap_slot(const struct ra__shm *s, uint32_t i, int32_t pid, bool reclaim)
{
    /* relaxed: checked against the pid, which the CAS below confirms */
    uint64_t start = atomic_load_explicit(&s->reg[i].start, memory_order_relaxed);
    if (ra__pid_alive(pid, start)) return false;
    if (reclaim)
        /* relaxed: only the slot's ownership changes; the dead owner writes nothing more */
        (void)atomic_compare_exchange_strong_explicit(&s->reg[i].pid, &pid, 0, memory_order_relaxed,
                                                      memory_order_relaxed);
    return true;
}

/* Claims a free slot for rd. @return true when one was free. */
static bool ra__claim_slot(ra_reader *rd, int32_t me, uint64_t start)
{
    const struct ra__shm *s = rd->ring->shm;
    for (uint32_t i = 0; i < s->nreg; i++) {
        int32_t zero = 0;
        /* acquire: the previous owner's release of the slot happened before our writes */
        if (!atomic_compare_exchange_strong_explicit(&s->reg[i].pid, &zero, me,
                                                     memory_order_acquire, memory_order_relaxed))
            continue;
        /* relaxed: read by monitors field by field */
        atomic_store_explicit(&s->reg[i].start, start, memory_order_relaxed);
        rd->slot = i + 1;
        ra__slot_sync(rd);
        return true;
    }
    return false;
}

RA_API int ra_reader_register(ra_reader *rd)
{
    if (!rd || !rd->ring || !rd->ring->shm || rd->slot) return RA_EINVAL;
    if (!ra__reg_writable(rd->ring)) return RA_EPERM;
    int32_t me = (int32_t)getpid();
    uint64_t start = 0;
    (void)ra__proc_start(me, &start);
    if (ra__claim_slot(rd, me, start)) return RA_OK;
    const struct ra__shm *s = rd->ring->shm;
    for (uint32_t i = 0; i < s->nreg; i++) {
        /* relaxed: a candidate; ra__reap_slot confirms with a CAS */
        int32_t pid = atomic_load_explicit(&s->reg[i].pid, memory_order_relaxed);
        if (pid) (void)ra__reap_slot(s, i, pid, true);
    }
    return ra__claim_slot(rd, me, start) ? RA_OK : RA_EFULL;
}

RA_API int ra_ring_shm_readers(const ra_ring *r, ra_shm_reader_info *out, size_t n, bool reclaim)
{
    if (!r || !r->shm || (!out && n)) return RA_EINVAL;
    const struct ra__shm *s = r->shm;
    reclaim = reclaim && ra__reg_writable(r); /* only where the registry may be written */
    int found = 0;
    for (uint32_t i = 0; i < s->nreg; i++) {
        const ra__reg_slot *sl = &s->reg[i];
        /* acquire: the owner's first writes to the slot follow its claim */
        int32_t pid = atomic_load_explicit(&sl->pid, memory_order_acquire);
        if (!pid) continue;
        bool dead = ra__reap_slot(s, i, pid, reclaim);
        if ((size_t)found < n) {
            ra_shm_reader_info *o = &out[found];
            o->pid = pid;
            o->alive = !dead;
            /* relaxed: each counter whole, for display */
            o->position_seq = atomic_load_explicit(&sl->position_seq, memory_order_relaxed);
            o->read = atomic_load_explicit(&sl->read, memory_order_relaxed);
            o->lost = atomic_load_explicit(&sl->lost, memory_order_relaxed);
            o->laps = atomic_load_explicit(&sl->laps, memory_order_relaxed);
            o->heartbeat_ns = atomic_load_explicit(&sl->heartbeat_ns, memory_order_relaxed);
        }
        found++;
    }
    return found;
}
