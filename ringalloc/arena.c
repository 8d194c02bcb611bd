/* arena.c - chunked bump allocator with marks, bulk reset, byte cap and per-thread arenas */
/*
 * Design notes
 *
 * Chunks. A chunk is a header (struct ra__chunk) plus a data area; heap chunks carry the header
 * in front of their data, the caller's buffer has its header inside the arena struct. Chunks
 * form a list, newest first; `active` is the chunk being bumped, which is not always the newest:
 * a request larger than a regular chunk gets a dedicated chunk that is pushed on the list but
 * not made active, so the free space of the active chunk is not thrown away. Regular chunks
 * double from chunk_size up to max_chunk_size (the growth cap). Every chunk gets a sequence
 * number, renewed each time it is linked again (reuse of the spare, reset), so marks name chunks
 * without trusting addresses (a freed chunk's address can come back).
 *
 * Accounting. bytes_used = used (bytes in chunks other than the active one, counted when the
 * arena moves on from them: the bumped part, padding included) + the bumped part of the active
 * chunk. high_water only needs updating where bytes_used can go down (reset, rewind) and when
 * read. bytes_reserved is the sum of the chunks held, caller buffer and spare included; that is
 * what max_bytes caps.
 *
 * Reset keeps the largest heap chunk (as the active chunk, or as the spare when a caller buffer
 * exists, since the buffer is the first chunk again) and frees the rest. Rewind pops the chunks
 * newer than the mark's newest, keeping the largest popped one as the spare. The spare is used
 * before asking the system for a new chunk.
 *
 * Fast path. arena.h inlines the bump into the caller; `lim` is 0 under ASan and Valgrind so
 * that every allocation comes here and unpoisons exactly what it hands out.
 *
 * Per-thread arenas. A thread-local pointer to a registry record {arena, published snapshot};
 * the records form a list under one mutex, taken only when a thread creates, publishes, resets
 * or drops its arena and when a reader walks the list. A pthread key destructor destroys the
 * arena at thread exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "ringalloc/arena.h"
#include "ringalloc/pool.h"
#include "alloc_mem.h"

extern void *ra_arena_alloc(ra_arena *a, size_t size, size_t align);

#define RA__CHUNK_HDR RA__ALIGN_UP(sizeof(struct ra__chunk), 64u)

struct ra__chunk {
    struct ra__chunk *next; /* older chunk */
    unsigned char *data;    /* first usable byte */
    size_t cap;             /* usable bytes */
    size_t total;           /* bytes held (header included), for bytes_reserved */
    uint64_t seq;           /* never reused within the arena */
    bool caller;            /* the caller's buffer: never freed */
    struct ra__region mem;  /* where the chunk lives (RA__REGION_CALLER: the caller's buffer) */
};

struct ra_arena {
    struct ra__arena_hot hot; /* first: read by the inline fast path */
    uintptr_t end;            /* end of the active chunk */
    struct ra__chunk *head;   /* newest chunk */
    struct ra__chunk *active; /* chunk being bumped (NULL only before the first chunk) */
    struct ra__chunk *spare;  /* a chunk held for reuse, not in the list */
    struct ra__chunk callerchunk;
    bool fast;
    uint32_t flags;
    uint64_t used;     /* bytes used in chunks other than the active one */
    uint64_t reserved; /* bytes of all chunks held */
    uint64_t nchunks;  /* chunks held (spare included) */
    uint64_t seq, epoch, resets, rewinds, failed, high_water;
    size_t chunk_size, max_chunk, next_size, max_bytes;
    char name[RA_POOL_NAME_MAX + 1];
};

static inline uint64_t ra__arena_used(const ra_arena *a)
{
    return a->used + (a->active ? a->hot.cur - (uintptr_t)a->active->data : 0);
}

static inline void ra__arena_poison(void *p, size_t n)
{
    RA__POISON(p, n);
    RA__VG_NOACCESS(p, n);
}

static void ra__arena_activate(ra_arena *a, struct ra__chunk *c)
{
    if (a->active) a->used += a->hot.cur - (uintptr_t)a->active->data;
    a->active = c;
    a->hot.cur = (uintptr_t)c->data;
    a->end = (uintptr_t)c->data + c->cap;
    a->hot.lim = a->fast ? a->end : 0;
}

/* A heap chunk of `total` bytes (header included), or NULL. Not linked. */
static struct ra__chunk *ra__chunk_new(ra_arena *a, size_t total)
{
    struct ra__region m;
    uint32_t opts = (a->flags & RA_ARENA_HUGEPAGES) ? RA__REGION_HUGE : 0;
    if (a->flags & RA_ARENA_PREFAULT) opts |= RA__REGION_PREFAULT;
    if (!ra__region_get(&m, total, 64, opts)) return NULL;
    struct ra__chunk *c = m.base;
    memset(c, 0, sizeof *c);
    c->mem = m;
    c->data = (unsigned char *)m.base + RA__CHUNK_HDR;
    /* huge pages (or the 4 KiB pages of their fallback) round up: use all of it, unless
       max_bytes is set, which counts (and lets the arena use) only the bytes asked for */
    size_t len = a->max_bytes != 0 && m.len > total ? total : m.len;
    c->cap = len - RA__CHUNK_HDR;
    c->total = len;
    a->reserved += c->total;
    a->nchunks++;
    ra__arena_poison(c->data, c->cap);
    return c;
}

static void ra__chunk_free(ra_arena *a, struct ra__chunk *c)
{
    a->reserved -= c->total;
    a->nchunks--;
    RA__UNPOISON(c->data, c->cap);
    RA__VG_UNDEFINED(c->data, c->cap);
    struct ra__region m = c->mem; /* a heap chunk's region lives in the chunk: copy it out */
    ra__region_put(&m);           /* (the caller's buffer: nothing to give back) */
}

/* Links c as the newest chunk, under a fresh sequence number (so a mark that named it before it
   was popped or kept by a reset does not match it any more). */
static void ra__push(ra_arena *a, struct ra__chunk *c)
{
    c->seq = ++a->seq;
    c->next = a->head;
    a->head = c;
}

/* Frees the spare chunk; returns whether there was one. */
static bool ra__drop_spare(ra_arena *a)
{
    if (a->spare == NULL) return false;
    ra__chunk_free(a, a->spare);
    a->spare = NULL;
    return true;
}

/* A new heap chunk able to hold `need` data bytes, trying `want` total bytes first, within the
 * byte cap. NULL when the cap or the system says no. */
static struct ra__chunk *ra__chunk_get(ra_arena *a, size_t need, size_t want)
{
    if (need > SIZE_MAX - RA__CHUNK_HDR - 64) return NULL;
    size_t min_total = need + RA__CHUNK_HDR;
    if (want < min_total) want = min_total;
    for (;;) {
        if (a->max_bytes == 0 || a->reserved + want <= a->max_bytes) return ra__chunk_new(a, want);
        size_t room = a->max_bytes > a->reserved ? a->max_bytes - a->reserved : 0;
        if (room >= min_total) return ra__chunk_new(a, room);
        if (!ra__drop_spare(a)) return NULL;
    }
}

RA_API void *ra__arena_alloc_slow(ra_arena *a, size_t size, size_t align)
{
    size_t al = align ? align : 16;
    if (!RA__IS_POW2(al) || al > RA_ARENA_MAX_ALIGN || size > SIZE_MAX / 2) goto fail;
    for (;;) {
        if (a->active != NULL) {
            uintptr_t p = (a->hot.cur + al - 1) & ~(uintptr_t)(al - 1);
            if (p <= a->end && size <= a->end - p) {
                a->hot.cur = p + size;
                a->hot.allocs++;
                RA__UNPOISON((void *)p, size);
                RA__VG_UNDEFINED((void *)p, size);
                return (void *)p;
            }
        }
        size_t need = size + al - 1;
        /* the spare first, when it fits */
        if (a->spare != NULL && a->spare->cap >= need) {
            struct ra__chunk *c = a->spare;
            a->spare = NULL;
            ra__push(a, c);
            ra__arena_activate(a, c);
            continue;
        }
        if (need > a->next_size - RA__CHUNK_HDR || need > a->max_chunk - RA__CHUNK_HDR) {
            /* larger than a regular chunk: a dedicated one, the active chunk stays active */
            struct ra__chunk *c = ra__chunk_get(a, need, 0);
            if (c == NULL) goto fail;
            ra__push(a, c);
            uintptr_t p = ((uintptr_t)c->data + al - 1) & ~(uintptr_t)(al - 1);
            a->used += (p - (uintptr_t)c->data) + size;
            a->hot.allocs++;
            RA__UNPOISON((void *)p, size);
            RA__VG_UNDEFINED((void *)p, size);
            return (void *)p;
        }
        struct ra__chunk *c = ra__chunk_get(a, need, a->next_size);
        if (c == NULL) goto fail;
        if (c->total >= a->next_size)
            a->next_size = a->next_size > a->max_chunk / 2 ? a->max_chunk : a->next_size * 2;
        ra__push(a, c);
        ra__arena_activate(a, c);
    }
fail:
    a->failed++;
    return NULL;
}

RA_API int ra_arena_create(ra_arena **out, const ra_arena_config *cfg)
{
    if (out == NULL) return RA_EINVAL;
    *out = NULL;
    ra_arena_config dflt = {0};
    if (cfg == NULL) cfg = &dflt;
    /* the caller's buffer is the first chunk and counts against max_bytes like any other */
    if ((cfg->flags & ~(uint32_t)(RA_ARENA_PREFAULT | RA_ARENA_HUGEPAGES)) ||
        (cfg->mem != NULL && cfg->mem_len == 0) ||
        (cfg->mem != NULL && cfg->max_bytes != 0 && cfg->mem_len > cfg->max_bytes))
        return RA_EINVAL;
    ra_arena *a = calloc(1, sizeof *a);
    if (a == NULL) return RA_ENOMEM;
    ra__set_name(a->name, cfg->name, "arena");
    a->flags = cfg->flags;
    a->fast = !RA__ASAN_ON && !RA__ON_VALGRIND();
    a->chunk_size = cfg->chunk_size ? cfg->chunk_size : RA_ARENA_DEFAULT_CHUNK;
    if (a->chunk_size < 2 * RA__CHUNK_HDR) a->chunk_size = 2 * RA__CHUNK_HDR;
    a->max_chunk = cfg->max_chunk_size ? cfg->max_chunk_size : RA_ARENA_DEFAULT_MAX_CHUNK;
    if (a->max_chunk < a->chunk_size) a->max_chunk = a->chunk_size;
    a->next_size = a->chunk_size;
    a->max_bytes = cfg->max_bytes;
    if (cfg->mem != NULL) {
        struct ra__chunk *c = &a->callerchunk;
        ra__region_wrap(&c->mem, cfg->mem, cfg->mem_len,
                        (cfg->flags & RA_ARENA_PREFAULT) ? RA__REGION_PREFAULT : 0);
        c->data = cfg->mem;
        c->cap = cfg->mem_len;
        c->total = cfg->mem_len;
        c->caller = true;
        a->reserved += c->total;
        a->nchunks++;
        ra__arena_poison(c->data, c->cap);
        ra__push(a, c);
        ra__arena_activate(a, c);
    } else {
        size_t first = a->chunk_size;
        if (a->max_bytes != 0 && first > a->max_bytes) first = a->max_bytes;
        if (first <= RA__CHUNK_HDR) {
            free(a);
            return RA_EINVAL;
        }
        struct ra__chunk *c = ra__chunk_new(a, first);
        if (c == NULL) {
            free(a);
            return RA_ENOMEM;
        }
        if (first >= a->next_size)
            a->next_size = a->next_size > a->max_chunk / 2 ? a->max_chunk : a->next_size * 2;
        ra__push(a, c);
        ra__arena_activate(a, c);
    }
    *out = a;
    return RA_OK;
}

RA_API void ra_arena_destroy(ra_arena *a)
{
    if (a == NULL) return;
    struct ra__chunk *c = a->head;
    while (c != NULL) {
        struct ra__chunk *next = c->next;
        ra__chunk_free(a, c);
        c = next;
    }
    ra__drop_spare(a);
    free(a);
}

RA_API ra_arena_mark ra_arena_save(const ra_arena *a)
{
    ra_arena_mark m = {0};
    m.head_seq = a->head ? a->head->seq : 0;
    m.active_seq = a->active ? a->active->seq : 0;
    m.pos = a->hot.cur;
    m.used = a->used;
    m.epoch = a->epoch;
    return m;
}

static void ra__note_high_water(ra_arena *a)
{
    uint64_t u = ra__arena_used(a);
    if (u > a->high_water) a->high_water = u;
}

/* Keeps the larger of c and the spare as the spare, frees the other. */
static void ra__keep_larger(ra_arena *a, struct ra__chunk *c)
{
    if (c->caller) return; /* only the first chunk; never popped */
    if (a->spare == NULL || c->total > a->spare->total) {
        ra__drop_spare(a);
        RA__UNPOISON(c->data, c->cap);
        ra__arena_poison(c->data, c->cap);
        a->spare = c;
        c->next = NULL;
    } else {
        ra__chunk_free(a, c);
    }
}

RA_API void ra_arena_rewind(ra_arena *a, ra_arena_mark m)
{
    if (m.epoch != a->epoch || m.head_seq == 0) return;
    struct ra__chunk *h = a->head, *act = NULL;
    while (h != NULL && h->seq != m.head_seq) h = h->next;
    if (h == NULL) return; /* its chunks are gone: a stale mark */
    for (struct ra__chunk *c = h; c != NULL && act == NULL; c = c->next)
        if (c->seq == m.active_seq) act = c;
    if (act == NULL) return;
    if (act == a->active && m.pos > a->hot.cur) return; /* ahead of us: taken before a rewind */
    if (m.pos < (uintptr_t)act->data || m.pos > (uintptr_t)act->data + act->cap) return;
    ra__note_high_water(a);
    while (a->head != h) {
        struct ra__chunk *c = a->head;
        a->head = c->next;
        ra__keep_larger(a, c);
    }
    a->active = act;
    a->hot.cur = m.pos;
    a->end = (uintptr_t)act->data + act->cap;
    a->hot.lim = a->fast ? a->end : 0;
    a->used = m.used;
    ra__arena_poison((void *)a->hot.cur, a->end - a->hot.cur);
    a->rewinds++;
}

RA_API void ra_arena_reset(ra_arena *a)
{
    ra__note_high_water(a);
    struct ra__chunk *keep = a->spare, *caller = NULL;
    for (struct ra__chunk *c = a->head; c != NULL; c = c->next) {
        if (c->caller)
            caller = c;
        else if (keep == NULL || c->total > keep->total)
            keep = c;
    }
    if (a->spare != NULL && a->spare != keep) ra__chunk_free(a, a->spare);
    a->spare = NULL;
    struct ra__chunk *c = a->head;
    while (c != NULL) {
        struct ra__chunk *next = c->next;
        if (c != keep && c != caller) ra__chunk_free(a, c);
        c = next;
    }
    a->head = NULL;
    a->active = NULL;
    a->hot.cur = a->hot.lim = a->end = 0;
    a->used = 0;
    if (keep != NULL) {
        RA__UNPOISON(keep->data, keep->cap);
        ra__arena_poison(keep->data, keep->cap);
    }
    if (caller != NULL) {
        ra__push(a, caller);
        ra__arena_poison(caller->data, caller->cap);
        ra__arena_activate(a, caller);
        if (keep != NULL) {
            keep->next = NULL;
            a->spare = keep;
        }
    } else if (keep != NULL) {
        ra__push(a, keep);
        ra__arena_activate(a, keep);
    }
    a->resets++;
    a->epoch++;
}

RA_API const char *ra_arena_name(const ra_arena *a)
{
    return a->name;
}

RA_API void ra_arena_get_stats(const ra_arena *a, ra_arena_stats *s)
{
    memset(s, 0, sizeof *s);
    s->bytes_used = ra__arena_used(a);
    s->bytes_reserved = a->reserved;
    s->chunks = a->nchunks;
    s->resets = a->resets;
    s->rewinds = a->rewinds;
    s->high_water = a->high_water > s->bytes_used ? a->high_water : s->bytes_used;
    s->failed = a->failed;
    s->allocs = a->hot.allocs;
    s->max_bytes = a->max_bytes;
}

/* ---- one arena per thread ---------------------------------------------------------------------
 */

struct ra__tarena {
    struct ra__tarena *next;
    ra_arena *arena;
    ra_arena_thread_info pub; /* published snapshot, under ra__ta_lock */
};

static pthread_mutex_t ra__ta_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ra__tarena *ra__ta_list;
static pthread_once_t ra__ta_once = PTHREAD_ONCE_INIT;
static pthread_key_t ra__ta_key;
static _Thread_local struct ra__tarena *ra__ta_mine;

static void ra__ta_drop(struct ra__tarena *t)
{
    pthread_mutex_lock(&ra__ta_lock);
    for (struct ra__tarena **pp = &ra__ta_list; *pp != NULL; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    pthread_mutex_unlock(&ra__ta_lock);
    ra_arena_destroy(t->arena);
    free(t);
}

static void ra__ta_dtor(void *v)
{
    ra__ta_drop(v);
    ra__ta_mine = NULL;
}

static void ra__ta_key_init(void)
{
    (void)pthread_key_create(&ra__ta_key, ra__ta_dtor);
}

RA_API ra_arena *ra_arena_thread(const ra_arena_config *cfg)
{
    if (ra__ta_mine != NULL) return ra__ta_mine->arena;
    pthread_once(&ra__ta_once, ra__ta_key_init);
    struct ra__tarena *t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    ra_arena_config c = cfg ? *cfg : (ra_arena_config){0};
    uint64_t tid = (uint64_t)syscall(SYS_gettid);
    char name[64];
    snprintf(name, sizeof name, "%s-%llu", cfg && cfg->name && cfg->name[0] ? cfg->name : "thread",
             (unsigned long long)tid);
    c.name = name;
    if (ra_arena_create(&t->arena, &c) != RA_OK) {
        free(t);
        return NULL;
    }
    ra__set_name(t->pub.name, t->arena->name, "thread");
    t->pub.thread_id = tid;
    ra_arena_get_stats(t->arena, &t->pub.stats);
    if (pthread_setspecific(ra__ta_key, t) != 0) {
        ra_arena_destroy(t->arena);
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&ra__ta_lock);
    t->next = ra__ta_list;
    ra__ta_list = t;
    pthread_mutex_unlock(&ra__ta_lock);
    ra__ta_mine = t;
    return t->arena;
}

/* Publishes the calling thread's arena stats for other threads; a reset also counts the session
 * it ends (the arena's own reset counter moves only after the reset itself). */
static void ra__ta_publish(struct ra__tarena *t, bool ending_session)
{
    ra_arena_stats s;
    ra_arena_get_stats(t->arena, &s);
    pthread_mutex_lock(&ra__ta_lock);
    t->pub.stats = s;
    if (ending_session) {
        t->pub.stats.resets = s.resets + 1;
        t->pub.sessions++;
    }
    pthread_mutex_unlock(&ra__ta_lock);
}

RA_API void ra_arena_thread_publish(void)
{
    struct ra__tarena *t = ra__ta_mine;
    if (t != NULL) ra__ta_publish(t, false);
}

RA_API void ra_arena_thread_reset(void)
{
    struct ra__tarena *t = ra__ta_mine;
    if (t == NULL) return;
    ra__ta_publish(t, true);
    ra_arena_reset(t->arena);
    /* the next session's peak starts from zero */
    t->arena->high_water = 0;
}

RA_API void ra_arena_thread_destroy(void)
{
    struct ra__tarena *t = ra__ta_mine;
    if (t == NULL) return;
    (void)pthread_setspecific(ra__ta_key, NULL);
    ra__ta_mine = NULL;
    ra__ta_drop(t);
}

RA_API size_t ra_arena_thread_foreach(void (*fn)(const ra_arena_thread_info *ti, void *ctx),
                                      void *ctx)
{
    size_t n = 0;
    pthread_mutex_lock(&ra__ta_lock);
    for (struct ra__tarena *t = ra__ta_list; t != NULL; t = t->next, n++)
        if (fn != NULL) fn(&t->pub, ctx);
    pthread_mutex_unlock(&ra__ta_lock);
    return n;
}
