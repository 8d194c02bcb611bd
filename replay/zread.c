/* zread.c - replay's buffered input with peek: plain or zstd (streamed), over fd, FILE* or memory
 *
 * Design notes
 * - One window buffer `buf` of RP_ZREAD_WINDOW bytes holds input not yet consumed: buf[pos..end).
 *   `base` is the input offset of buf[0], so the consumed offset is base + pos. When a peek needs
 *   more room than is left after `end`, the unconsumed tail moves to the front (this is what
 *   invalidates earlier peek pointers).
 * - Plain input is read straight into the window. zstd input is read into `in` and decompressed
 *   into the window with ZSTD_decompressStream(), which walks from one frame to the next by itself,
 *   so multi-frame files need nothing special. Memory is the two buffers plus the zstd context.
 * - Detection of zstd happens at open: the first raw bytes are read into the window; if they carry
 *   the zstd magic they are moved to `in` and the window starts empty.
 * - End of input inside a zstd frame (ZSTD_decompressStream's last hint non-zero) is truncation,
 *   reported by rp_zread_truncated(), not an error: the bytes decompressed so far are delivered,
 *   just as for a plain file cut short. A decompression error is an error, with the compressed
 *   byte offset (to within the 4 KiB slice of input that zstd was given when it failed: zstd does
 *   not update its positions on error).
 * - rp_zread_fopen() wraps the reader in a fopencookie() stream for libpcap. The stream starts
 *   unbuffered; a caller that wants speed gives it a buffer (setvbuf) and subtracts what that
 *   buffer holds from rp_zread_offset() for exact offsets (source.c does).
 * - rp_zread_read() of a large request on an empty window reads (or decompresses) straight into
 *   the caller's memory: a buffered FILE over the reader then costs no extra copy of the data.
 * - Under AddressSanitizer the unused part of the window is poisoned, so a parser reading past
 *   the bytes it was given is caught even though the window is larger.
 * - Read-ahead. A zstd regular file is decompressed by a worker thread, RP__AHEAD_CHUNKS chunks
 *   of RP__AHEAD_BYTES ahead of the reader, so that decompression (the floor of a .zst replay:
 *   `zstd -d` speed) overlaps with the caller's parsing and publishing on another core. The
 *   worker owns a shadow copy of the reader's input side (descriptor, compressed buffer, zstd
 *   stream, raw count) and runs the same rp__inflate() on it; it hands filled chunks over under
 *   a mutex, with their raw offset, and at the end its outcome (end, truncation inside a frame,
 *   or the error message): the reader sees exactly the bytes and the outcome the synchronous
 *   path would give, in the same order, one memcpy later. Only regular files get a worker
 *   (reads there never block indefinitely, so closing early just waits for the chunk in hand);
 *   pipes, FILE* and memory inputs decompress in the caller's thread, and so does a reader told
 *   rp_zread_no_readahead() before its first decompression (the worker starts lazily then).
 *   Memory: the chunks (1 MiB).
 */
#include "zread.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#if defined(__SANITIZE_ADDRESS__)
#define RP__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RP__ASAN 1
#endif
#endif
#ifdef RP__ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define RP__POISON(p, n)   __asan_poison_memory_region((p), (n))
#define RP__UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define RP__POISON(p, n)   ((void)(p), (void)(n))
#define RP__UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum rp__kind { RP__FD, RP__FILE, RP__MEM };

#define RP__SLICE        4096         /* compressed bytes per ZSTD_decompressStream() call */
#define RP__AHEAD_CHUNKS 4u           /* read-ahead: chunks in flight */
#define RP__AHEAD_BYTES  (256u << 10) /* read-ahead: decompressed bytes per chunk */
#define RP__DIRECT_MIN   (16u << 10)  /* rp_zread_read() sizes that bypass an empty window */

struct rp_zread {
    enum rp__kind kind;
    int fd;
    bool own_fd;
    FILE *fp;
    const uint8_t *mem;
    size_t mem_len, mem_pos;
    char name[256];

    uint8_t *buf; /* window: buf[pos..end) unconsumed */
    size_t cap, pos, end;
    uint64_t base; /* input offset of buf[0] */

    uint8_t *in; /* zstd input: in[in_pos..in_len) not yet decompressed */
    size_t in_cap, in_pos, in_len;
    ZSTD_DStream *ds;
    size_t zhint; /* last ZSTD_decompressStream() result: 0 at a frame boundary */

    uint64_t raw; /* bytes read from the input (with read-ahead: by the chunks taken so far) */
    uint8_t head[RP_ZREAD_HEAD]; /* the first raw bytes, as read at open */
    size_t head_len;
    bool zstd, raw_eof, eof, truncated, failed;
    char err[512];
    struct rp__ahead *ahead; /* the decompression worker, or NULL */
    bool ahead_ok;           /* a worker may start (at the first decompression) */
};

typedef struct rp__chunk {
    uint8_t *p;
    size_t len;
    uint64_t raw_end; /* compressed bytes read when the chunk was complete */
} rp__chunk;

/* The read-ahead worker and its hand-over queue (see the design notes). Everything below `mu`
 * is shared and guarded by it; `w` belongs to the worker; `cur`/`pos` to the reader. */
struct rp__ahead {
    rp_zread w; /* the worker's shadow of the reader's input side */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t filled, drained;
    rp__chunk q[RP__AHEAD_CHUNKS];
    unsigned head, count; /* filled chunks: q[head], q[head + 1], ... */
    bool done;            /* the worker has queued its last chunk; outcome below */
    bool stop;            /* the reader is closing */
    bool truncated, failed;
    char err[512];
    bool holding; /* reader: q[head] is being copied out, from `pos` */
    size_t pos;
};

bool rp_zread_is_zstd(const uint8_t *p, size_t n)
{
    if (n < 4) return false;
    if (p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD) return true; /* 0xFD2FB528 */
    return (p[0] & 0xF0) == 0x50 && p[1] == 0x2A && p[2] == 0x4D && p[3] == 0x18;  /* 0x184D2A5? */
}

static void rp__fail(rp_zread *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp__fail(rp_zread *z, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(z->err, sizeof z->err, fmt, ap);
    va_end(ap);
    z->failed = true;
}

/* Reads up to n raw bytes. @return bytes read (0 at end of input), or -1 after rp__fail(). */
static ssize_t rp__raw_read(rp_zread *z, uint8_t *dst, size_t n)
{
    size_t got = 0;
    switch (z->kind) {
    case RP__FD:
        for (;;) {
            ssize_t r = read(z->fd, dst, n);
            if (r >= 0) {
                got = (size_t)r;
                break;
            }
            if (errno == EINTR) continue;
            rp__fail(z, "%s: read error at byte offset %llu: %s", z->name,
                     (unsigned long long)z->raw, strerror(errno));
            return -1;
        }
        break;
    case RP__FILE:
        got = fread(dst, 1, n, z->fp);
        if (got == 0 && ferror(z->fp)) {
            rp__fail(z, "%s: read error at byte offset %llu: %s", z->name,
                     (unsigned long long)z->raw, strerror(errno ? errno : EIO));
            return -1;
        }
        break;
    case RP__MEM:
        got = z->mem_len - z->mem_pos < n ? z->mem_len - z->mem_pos : n;
        if (got) memcpy(dst, z->mem + z->mem_pos, got);
        z->mem_pos += got;
        break;
    }
    z->raw += got;
    return (ssize_t)got;
}

/* Decompresses into dst[0..room). @return bytes produced (0 at end of input), or -1. */
static ssize_t rp__inflate(rp_zread *z, uint8_t *dst, size_t room)
{
    for (;;) {
        if (z->in_pos == z->in_len) {
            if (!z->raw_eof) {
                ssize_t r = rp__raw_read(z, z->in, z->in_cap);
                if (r < 0) return -1;
                z->in_pos = 0;
                z->in_len = (size_t)r;
                if (r == 0) z->raw_eof = true;
            }
            if (z->in_pos == z->in_len) {               /* no input left */
                if (z->zhint != 0) z->truncated = true; /* inside a frame */
                return 0;
            }
        }
        /* small slices: on error zstd does not say where, so the slice start is the position */
        size_t slice = z->in_len - z->in_pos < RP__SLICE ? z->in_len - z->in_pos : RP__SLICE;
        ZSTD_inBuffer ib = {z->in, z->in_pos + slice, z->in_pos};
        ZSTD_outBuffer ob = {dst, room, 0};
        size_t ret = ZSTD_decompressStream(z->ds, &ob, &ib);
        if (ZSTD_isError(ret)) {
            rp__fail(z,
                     "%s: corrupted zstd frame near compressed byte offset %llu (after %llu "
                     "decompressed bytes): %s",
                     z->name, (unsigned long long)(z->raw - z->in_len + z->in_pos),
                     (unsigned long long)(z->base + z->end), ZSTD_getErrorName(ret));
            return -1;
        }
        z->in_pos = ib.pos;
        z->zhint = ret;
        if (ob.pos) return (ssize_t)ob.pos;
    }
}

/* The worker: fills chunks with rp__inflate() on its shadow until the end, an error or stop. */
static void *rp__ahead_main(void *arg)
{
    struct rp__ahead *a = arg;
    uint64_t produced = 0;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        while (a->count == RP__AHEAD_CHUNKS && !a->stop) pthread_cond_wait(&a->drained, &a->mu);
        bool stop = a->stop;
        rp__chunk *c = &a->q[(a->head + a->count) % RP__AHEAD_CHUNKS];
        pthread_mutex_unlock(&a->mu);
        if (stop) return NULL;
        /* the slot is not in the queue: only this thread touches it until it is queued */
        size_t len = 0;
        ssize_t r = 1;
        while (len < RP__AHEAD_BYTES) {
            a->w.base = produced + len; /* for the decompressed offset in error messages */
            r = rp__inflate(&a->w, c->p + len, RP__AHEAD_BYTES - len);
            if (r <= 0) break;
            len += (size_t)r;
        }
        produced += len;
        pthread_mutex_lock(&a->mu);
        c->len = len;
        c->raw_end = a->w.raw;
        a->count++;
        if (r <= 0) {
            a->done = true;
            a->truncated = a->w.truncated;
            a->failed = a->w.failed;
            memcpy(a->err, a->w.err, sizeof a->err);
        }
        pthread_cond_signal(&a->filled);
        pthread_mutex_unlock(&a->mu);
        if (r <= 0) return NULL;
    }
}

/* rp__inflate() through the worker: copies up to `room` decompressed bytes into dst.
 * @return bytes copied (0 at the end of input, truncation noted), or -1 (error copied). */
static ssize_t rp__ahead_take(rp_zread *z, uint8_t *dst, size_t room)
{
    struct rp__ahead *a = z->ahead;
    for (;;) {
        if (!a->holding) {
            pthread_mutex_lock(&a->mu);
            while (a->count == 0 && !a->done) pthread_cond_wait(&a->filled, &a->mu);
            if (a->count == 0) { /* done, and every chunk taken: the worker's outcome */
                z->truncated = a->truncated;
                if (a->failed) {
                    z->failed = true;
                    memcpy(z->err, a->err, sizeof z->err);
                }
                pthread_mutex_unlock(&a->mu);
                return a->failed ? -1 : 0;
            }
            a->holding = true;
            a->pos = 0;
            pthread_mutex_unlock(&a->mu);
        }
        rp__chunk *c = &a->q[a->head]; /* queued, so the worker leaves it alone */
        size_t k = c->len - a->pos < room ? c->len - a->pos : room;
        if (k) memcpy(dst, c->p + a->pos, k);
        a->pos += k;
        z->raw = c->raw_end;
        if (a->pos == c->len) {
            pthread_mutex_lock(&a->mu);
            a->head = (a->head + 1) % RP__AHEAD_CHUNKS;
            a->count--;
            a->holding = false;
            pthread_cond_signal(&a->drained);
            pthread_mutex_unlock(&a->mu);
        }
        if (k) return (ssize_t)k;
    }
}

static void rp__ahead_start(rp_zread *z);

static ssize_t rp__decompress(rp_zread *z, uint8_t *dst, size_t room)
{
    if (z->ahead_ok) { /* the first decompression: start the worker now (or never) */
        z->ahead_ok = false;
        rp__ahead_start(z);
    }
    return z->ahead ? rp__ahead_take(z, dst, room) : rp__inflate(z, dst, room);
}

/* Starts the worker over z's input side (z must be zstd, nothing decompressed yet). On any
 * failure z simply stays synchronous. */
static void rp__ahead_start(rp_zread *z)
{
    struct rp__ahead *a = calloc(1, sizeof *a);
    if (!a) return;
    bool ok = true;
    for (unsigned i = 0; i < RP__AHEAD_CHUNKS && ok; i++)
        ok = (a->q[i].p = malloc(RP__AHEAD_BYTES));
    if (ok && pthread_mutex_init(&a->mu, NULL) != 0) ok = false;
    if (ok && pthread_cond_init(&a->filled, NULL) != 0) {
        pthread_mutex_destroy(&a->mu);
        ok = false;
    }
    if (ok && pthread_cond_init(&a->drained, NULL) != 0) {
        pthread_cond_destroy(&a->filled);
        pthread_mutex_destroy(&a->mu);
        ok = false;
    }
    if (ok) {
        a->w = *z; /* the shadow: descriptor, compressed buffer, zstd stream, counters */
        a->w.buf = NULL;
        a->w.ahead = NULL;
        if (pthread_create(&a->tid, NULL, rp__ahead_main, a) != 0) {
            pthread_cond_destroy(&a->drained);
            pthread_cond_destroy(&a->filled);
            pthread_mutex_destroy(&a->mu);
            ok = false;
        }
    }
    if (!ok) {
        for (unsigned i = 0; i < RP__AHEAD_CHUNKS; i++) free(a->q[i].p);
        free(a);
        return;
    }
    z->ahead = a;
}

/* Stops and joins the worker and frees the queue; the input side (shared with the shadow) is
 * freed by rp_zread_close(). */
static void rp__ahead_stop(rp_zread *z)
{
    struct rp__ahead *a = z->ahead;
    if (!a) return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_signal(&a->drained);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->tid, NULL);
    z->ds = a->w.ds; /* the same pointers; the shadow's are current */
    z->in = a->w.in;
    pthread_cond_destroy(&a->drained);
    pthread_cond_destroy(&a->filled);
    pthread_mutex_destroy(&a->mu);
    for (unsigned i = 0; i < RP__AHEAD_CHUNKS; i++) free(a->q[i].p);
    free(a);
    z->ahead = NULL;
}

/* Makes up to `want` bytes available at buf+pos. @return bytes available, or -1. */
static ssize_t rp__ensure(rp_zread *z, size_t want)
{
    if (z->failed) return -1;
    if (want > z->cap) want = z->cap;
    while (z->end - z->pos < want && !z->eof) {
        if (z->cap - z->pos < want) { /* not enough room after pos: move the tail to the front */
            size_t keep = z->end - z->pos;
            memmove(z->buf, z->buf + z->pos, keep);
            z->base += z->pos;
            z->pos = 0;
            z->end = keep;
        }
        uint8_t *dst = z->buf + z->end;
        size_t room = z->cap - z->end;
        RP__UNPOISON(dst, room);
        ssize_t r = z->zstd ? rp__decompress(z, dst, room) : rp__raw_read(z, dst, room);
        if (r < 0) {
            RP__POISON(dst, room);
            return -1;
        }
        if (r == 0) z->eof = true;
        z->end += (size_t)r;
        RP__POISON(z->buf + z->end, z->cap - z->end);
    }
    return (ssize_t)(z->end - z->pos);
}

static int rp__open(rp_zread **out, rp_zread *z, const char *name, char *err, size_t errlen)
{
    *out = NULL;
    snprintf(z->name, sizeof z->name, "%s", name ? name : "input");
    z->cap = RP_ZREAD_WINDOW;
    z->buf = malloc(z->cap);
    if (!z->buf) {
        snprintf(err, errlen, "%s: out of memory", z->name);
        rp_zread_close(z);
        return -1;
    }
    RP__POISON(z->buf, z->cap);
    /* the magic needs 4 bytes, rp_zread_head() a few more; pipes may deliver fewer per read */
    while (z->end < RP_ZREAD_HEAD && !z->eof) {
        RP__UNPOISON(z->buf + z->end, z->cap - z->end);
        ssize_t r = rp__raw_read(z, z->buf + z->end, z->cap - z->end);
        if (r < 0) {
            snprintf(err, errlen, "%s", z->err);
            rp_zread_close(z);
            return -1;
        }
        if (r == 0) z->eof = true;
        z->end += (size_t)r;
        RP__POISON(z->buf + z->end, z->cap - z->end);
    }
    z->head_len = z->end < RP_ZREAD_HEAD ? z->end : RP_ZREAD_HEAD;
    RP__UNPOISON(z->buf, z->head_len);
    memcpy(z->head, z->buf, z->head_len);
    if (rp_zread_is_zstd(z->buf, z->end)) {
        z->zstd = true;
        z->in_cap = z->cap;
        z->in = malloc(z->in_cap);
        z->ds = ZSTD_createDStream();
        if (!z->in || !z->ds || ZSTD_isError(ZSTD_initDStream(z->ds))) {
            snprintf(err, errlen, "%s: out of memory for zstd decompression", z->name);
            rp_zread_close(z);
            return -1;
        }
        RP__UNPOISON(z->buf, z->end);
        memcpy(z->in, z->buf, z->end);
        z->in_len = z->end;
        z->raw_eof = z->eof;
        z->eof = false;
        z->end = 0;
        z->zhint = 1; /* no frame finished yet */
        RP__POISON(z->buf, z->cap);
        struct stat sb;
        z->ahead_ok = z->kind == RP__FD && fstat(z->fd, &sb) == 0 && S_ISREG(sb.st_mode);
    }
    *out = z;
    return 0;
}

int rp_zread_open_fd(rp_zread **out, int fd, bool own_fd, const char *name, char *err,
                     size_t errlen)
{
    rp_zread *z = calloc(1, sizeof *z);
    if (!z) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "input");
        if (own_fd) close(fd);
        *out = NULL;
        return -1;
    }
    z->kind = RP__FD;
    z->fd = fd;
    z->own_fd = own_fd;
    return rp__open(out, z, name, err, errlen);
}

int rp_zread_open_file(rp_zread **out, FILE *fp, const char *name, char *err, size_t errlen)
{
    rp_zread *z = calloc(1, sizeof *z);
    if (!z) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "input");
        *out = NULL;
        return -1;
    }
    z->kind = RP__FILE;
    z->fd = -1;
    z->fp = fp;
    return rp__open(out, z, name, err, errlen);
}

int rp_zread_open_mem(rp_zread **out, const void *data, size_t len, const char *name, char *err,
                      size_t errlen)
{
    rp_zread *z = calloc(1, sizeof *z);
    if (!z) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "input");
        *out = NULL;
        return -1;
    }
    z->kind = RP__MEM;
    z->fd = -1;
    z->mem = data;
    z->mem_len = data ? len : 0;
    return rp__open(out, z, name, err, errlen);
}

ssize_t rp_zread_peek_some(rp_zread *z, size_t n, const uint8_t **p)
{
    ssize_t r = rp__ensure(z, n);
    if (r < 0) return -1;
    *p = z->buf + z->pos;
    return r;
}

ssize_t rp_zread_peek(rp_zread *z, size_t n, const uint8_t **p)
{
    ssize_t r = rp_zread_peek_some(z, n, p);
    return r < 0 || (size_t)r < n ? r : (ssize_t)n;
}

void rp_zread_skip(rp_zread *z, size_t n)
{
    size_t avail = z->end - z->pos;
    z->pos += n < avail ? n : avail;
}

ssize_t rp_zread_read(rp_zread *z, void *dst, size_t n)
{
    uint8_t *d = dst;
    size_t done = 0;
    while (done < n) {
        size_t avail = z->end - z->pos;
        if (avail == 0 && n - done >= RP__DIRECT_MIN && !z->eof && !z->failed) {
            /* nothing buffered and a large request: bypass the window (one copy less). With the
             * window empty the consumed offset base + pos moves with base. */
            ssize_t r = z->zstd ? rp__decompress(z, d + done, n - done)
                                : rp__raw_read(z, d + done, n - done);
            if (r < 0) return done ? (ssize_t)done : -1;
            if (r == 0) {
                z->eof = true;
                break;
            }
            z->base += (uint64_t)r;
            done += (size_t)r;
            continue;
        }
        if (avail == 0) {
            ssize_t r = rp__ensure(z, n - done);
            if (r < 0) return done ? (ssize_t)done : -1;
            if (r == 0) break;
            avail = (size_t)r;
        }
        size_t take = avail < n - done ? avail : n - done;
        memcpy(d + done, z->buf + z->pos, take);
        z->pos += take;
        done += take;
    }
    return (ssize_t)done;
}

static ssize_t rp__cookie_read(void *cookie, char *buf, size_t size)
{
    ssize_t r = rp_zread_read(cookie, buf, size);
    if (r < 0) errno = EIO;
    return r;
}

static int rp__cookie_close(void *cookie)
{
    (void)cookie; /* the reader belongs to its opener */
    return 0;
}

FILE *rp_zread_fopen(rp_zread *z)
{
    cookie_io_functions_t io = {.read = rp__cookie_read, .close = rp__cookie_close};
    FILE *f = fopencookie(z, "r", io);
    if (f) setvbuf(f, NULL, _IONBF, 0);
    return f;
}

size_t rp_zread_head(const rp_zread *z, const uint8_t **p)
{
    *p = z->head;
    return z->head_len;
}

int rp_zread_rewind(rp_zread *z, uint64_t off)
{
    if (z->kind != RP__MEM || z->zstd || z->ahead || z->failed || off > z->mem_len) return -1;
    z->mem_pos = (size_t)off;
    z->raw = z->base = off;
    z->pos = z->end = 0;
    z->raw_eof = z->eof = z->truncated = false;
    return 0;
}

uint64_t rp_zread_offset(const rp_zread *z)
{
    return z->base + z->pos;
}

void rp_zread_no_readahead(rp_zread *z)
{
    z->ahead_ok = false;
}

uint64_t rp_zread_filled(const rp_zread *z)
{
    return z->base + z->end;
}

uint64_t rp_zread_raw_offset(const rp_zread *z)
{
    return z->raw;
}

bool rp_zread_compressed(const rp_zread *z)
{
    return z->zstd;
}

bool rp_zread_at_eof(const rp_zread *z)
{
    return z->eof && z->pos == z->end;
}

bool rp_zread_truncated(const rp_zread *z)
{
    return z->truncated;
}

bool rp_zread_failed(const rp_zread *z)
{
    return z->failed;
}

const char *rp_zread_error(const rp_zread *z)
{
    return z->err;
}

void rp_zread_close(rp_zread *z)
{
    if (!z) return;
    rp__ahead_stop(z);
    if (z->buf) RP__UNPOISON(z->buf, z->cap);
    free(z->buf);
    free(z->in);
    ZSTD_freeDStream(z->ds);
    if (z->own_fd && z->fd >= 0) close(z->fd);
    free(z);
}
