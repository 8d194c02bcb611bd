/* fuzz_pool.c - differential fuzzing of the block pool against a model of its contract */

/*
 * Input: 5 configuration bytes, then (op, arg) byte pairs.
 *   c0  block size: bit 7 set: (c0 & 127) * 37 + 1 (up to 4700), else c0 & 127 (0 is invalid)
 *   c1  low nibble: align code (0: default 16; 1..13: 1 << (code - 1); 14: 8192 and 15: 24, both
 *       invalid); high nibble: flags THREADSAFE, DEBUG, PREFAULT, HUGEPAGES
 *   c2  bits 0..5 capacity (0 is invalid without caller memory), bit 6 caller memory, bit 7
 *       on_empty RA_ON_EMPTY_SYSTEM (else RA_ON_EMPTY_NULL; ABORT ends the process: unit tests)
 *   c3  caller memory: bits 0..5 misalignment of the buffer, bits 6..7 its length (the
 *       ra_pool_mem_size() answer; plus two blocks; capacity 0 = "as many as fit" in a length
 *       from c4; one byte less than the blocks need once aligned)
 *   c4  bits 0..2 thread caches of a thread-safe pool (0: default); 0xFE / 0xFF: an unknown
 *       flag / on_empty value (create must refuse)
 * Operations: alloc (inline or through the exported symbol), free of a live block (its pattern
 * checked first), ownership queries on live blocks and around the block area, thread flush,
 * churn (up to 65536 alloc/free pairs, to wrap the fast path's 16-bit alloc counter), free of
 * every live block, free(NULL).
 *
 * The model: which configurations create succeeds for; the live blocks, each aligned, inside
 * the area (pool blocks: at a multiple of the stride from each other) or a malloc fallback,
 * never overlapping another live block, holding the pattern written at alloc until freed;
 * ra_pool_owns() true exactly for pool blocks; every ra_pool_get_stats() field after every
 * operation (high_water exact for single-threaded pools, within [peak, max(peak, capacity)] for
 * thread-safe ones); in debug mode a reused block holds RA_POOL_FREE_FILL; under ASan a freed
 * block is poisoned. Single-threaded: tests/test_pool.c has the multi-threaded tests.
 */
#include "fuzz_alloc.h"

#include "ringalloc/pool.h"

#define MAXLIVE 512
/* Churn runs in units of 1024 pairs where the inline fast path runs (a single-threaded pool
   without debug checks, outside ASan: enough to wrap its 16-bit counter); elsewhere every call
   takes the checked or thread-safe path, which is slower and has no such counter: a few pairs. */
#if defined(FZ_ASAN) || defined(__SANITIZE_THREAD__)
#define CHURN_FAST 0 /* TSan: the corpus replay in make check would spend seconds here */
#else
#define CHURN_FAST 1
#endif

typedef struct blk {
    unsigned char *p;
    uint64_t id;
    bool pool; /* from the block area (else a malloc fallback) */
} blk;

typedef struct model {
    size_t bs, ea, stride, cap;
    bool ts, debug, system;
    blk live[MAXLIVE];
    size_t nlive, pool_live;
    uint64_t allocs, frees, fallbacks, fallback_frees, failed, peak, next_id;
    /* every pool block address seen, and whether it was freed since (debug fill check) */
    unsigned char *seen[64];
    bool seen_freed[64];
    size_t nseen;
    uintptr_t lo; /* lowest pool block seen */
} model;

static void check_stats(const ra_pool *p, const model *m)
{
    ra_pool_stats s;
    ra_pool_get_stats(p, &s);
    REQUIRE(s.allocs == m->allocs);
    REQUIRE(s.frees == m->frees);
    REQUIRE(s.in_use == m->nlive);
    REQUIRE(s.fallbacks == m->fallbacks);
    REQUIRE(s.fallback_frees == m->fallback_frees);
    REQUIRE(s.failed == m->failed);
    REQUIRE(s.capacity == m->cap);
    REQUIRE(s.block_size == m->stride);
    REQUIRE(s.align == m->ea);
    REQUIRE(s.bytes_reserved == m->cap * m->stride);
    REQUIRE(s.threadsafe == m->ts);
    if (m->ts) {
        REQUIRE(s.high_water >= m->peak);
        REQUIRE(s.high_water <= (m->peak > m->cap ? m->peak : m->cap));
    } else {
        REQUIRE(s.high_water == m->peak);
    }
    REQUIRE(ra_pool_block_size(p) == m->stride);
}

static size_t seen_index(model *m, const unsigned char *b)
{
    for (size_t i = 0; i < m->nseen; i++)
        if (m->seen[i] == b) return i;
    REQUIRE(m->nseen < m->cap && m->nseen < 64);
    m->seen[m->nseen] = (unsigned char *)b;
    m->seen_freed[m->nseen] = false;
    if (m->nseen == 0 || (uintptr_t)b < m->lo) m->lo = (uintptr_t)b;
    return m->nseen++;
}

static void do_alloc(ra_pool *p, model *m, bool exported)
{
    if (m->nlive == MAXLIVE) return;        /* the model is full: no more live blocks */
    void *(*fn)(ra_pool *) = ra_pool_alloc; /* the address names the library's exported copy */
    unsigned char *b = exported ? fn(p) : ra_pool_alloc(p);
    bool full = m->pool_live == m->cap;
    if (full && !m->system) {
        REQUIRE(b == NULL);
        m->failed++;
        return;
    }
    REQUIRE(b != NULL);
    REQUIRE((uintptr_t)b % m->ea == 0);
    REQUIRE(ra_pool_owns(p, b) == !full);
    for (size_t i = 0; i < m->nlive; i++)
        REQUIRE(fz_disjoint(b, m->bs, m->live[i].p, m->bs) && b != m->live[i].p);
    if (!full) {
        size_t k = seen_index(m, b);
        for (size_t i = 0; i < m->nseen; i++) {
            uintptr_t d = (uintptr_t)m->seen[i] - m->lo;
            REQUIRE(d % m->stride == 0 && d / m->stride < m->cap);
        }
        if (m->debug && m->seen_freed[k])
            for (size_t i = 0; i < m->bs; i++) REQUIRE(b[i] == RA_POOL_FREE_FILL);
        m->seen_freed[k] = false;
        m->pool_live++;
    } else {
        m->fallbacks++;
    }
    fz_fill(b, m->bs, m->next_id);
    m->live[m->nlive++] = (blk){b, m->next_id++, !full};
    m->allocs++;
    if (m->nlive > m->peak) m->peak = m->nlive;
}

static void do_free(ra_pool *p, model *m, size_t k)
{
    blk b = m->live[k];
    REQUIRE(fz_intact(b.p, m->bs, b.id));
    ra_pool_free(p, b.p);
    m->live[k] = m->live[--m->nlive];
    m->frees++;
    if (b.pool) {
        m->pool_live--;
        m->seen_freed[seen_index(m, b.p)] = true;
    } else {
        m->fallback_frees++;
    }
    REQUIRE(FZ_POISONED(b.p)); /* a pool block is poisoned; a fallback block is free()d */
}

static void do_owns(const ra_pool *p, model *m, uint8_t arg)
{
    int local = 0;
    REQUIRE(!ra_pool_owns(p, NULL));
    REQUIRE(!ra_pool_owns(p, &local));
    REQUIRE(!ra_pool_owns(p, m));
    if (m->nlive) {
        const blk *b = &m->live[arg % m->nlive];
        size_t off = (size_t)arg * 17u % m->stride;
        REQUIRE(ra_pool_owns(p, b->p + off) == b->pool);
    }
    if (m->nseen == m->cap) { /* every block seen: the area is [lo, lo + cap * stride) */
        const unsigned char *lo = (const unsigned char *)m->lo;
        REQUIRE(ra_pool_owns(p, lo));
        REQUIRE(ra_pool_owns(p, lo + m->cap * m->stride - 1));
        REQUIRE(!ra_pool_owns(p, lo + m->cap * m->stride));
        REQUIRE(!ra_pool_owns(p, lo - 1));
    }
}

/* n alloc/free pairs: wraps the fast path's 16-bit counter after 65536 allocations */
static void do_churn(ra_pool *p, model *m, size_t n)
{
    bool full = m->pool_live == m->cap;
    if (full && n > 64) n = 64;
    for (size_t i = 0; i < n; i++) {
        unsigned char *b = ra_pool_alloc(p);
        if (full && !m->system) {
            REQUIRE(b == NULL);
            m->failed++;
            continue;
        }
        REQUIRE(b != NULL && (uintptr_t)b % m->ea == 0 && ra_pool_owns(p, b) == !full);
        if (!full) m->seen_freed[seen_index(m, b)] = true;
        b[0] = (unsigned char)i;
        b[m->bs - 1] = (unsigned char)i;
        ra_pool_free(p, b);
        m->allocs++;
        m->frees++;
        if (full) {
            m->fallbacks++;
            m->fallback_frees++;
        }
    }
    if (n && (!full || m->system) && m->nlive + 1 > m->peak) m->peak = m->nlive + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    uint8_t c0 = fz_u8(&in), c1 = fz_u8(&in), c2 = fz_u8(&in), c3 = fz_u8(&in), c4 = fz_u8(&in);
    static model m;
    memset(&m, 0, sizeof m);
    ra_pool_config cfg = {0};
    cfg.block_size = (c0 & 0x80) ? (size_t)(c0 & 0x7f) * 37u + 1u : (size_t)(c0 & 0x7f);
    unsigned acode = c1 & 15u;
    cfg.align = acode == 0 ? 0 : acode <= 13 ? (size_t)1 << (acode - 1) : acode == 14 ? 8192 : 24;
    cfg.flags = ((c1 & 0x10) ? RA_POOL_THREADSAFE : 0) | ((c1 & 0x20) ? RA_POOL_DEBUG : 0) |
                ((c1 & 0x40) ? RA_POOL_PREFAULT : 0) | ((c1 & 0x80) ? RA_POOL_HUGEPAGES : 0);
    cfg.capacity = c2 & 63u;
    cfg.on_empty = (c2 & 0x80) ? RA_ON_EMPTY_SYSTEM : RA_ON_EMPTY_NULL;
    cfg.threads = c4 & 7u;
    cfg.name = "fuzz";
    bool bad_extra = false;
    if (c4 == 0xFF) cfg.flags |= 1u << 9, bad_extra = true;
    if (c4 == 0xFE) cfg.on_empty = 7, bad_extra = true;

    size_t a = cfg.align ? cfg.align : RA_POOL_DEFAULT_ALIGN;
    bool geom_ok = cfg.block_size >= 1 && (a & (a - 1)) == 0 && a <= RA_POOL_MAX_ALIGN;
    m.ea = a < 8 ? 8 : a;
    m.bs = cfg.block_size;
    m.stride = geom_ok ? (m.bs + m.ea - 1) / m.ea * m.ea : 0;
    m.ts = (cfg.flags & RA_POOL_THREADSAFE) != 0;
    m.debug = (cfg.flags & RA_POOL_DEBUG) != 0;
    m.system = cfg.on_empty == RA_ON_EMPTY_SYSTEM;
    m.cap = cfg.capacity;
    bool ok = geom_ok && !bad_extra;

    unsigned char *buf = NULL;
    if ((c2 & 0x40) && geom_ok) { /* caller memory */
        size_t want_cap = cfg.capacity ? cfg.capacity : 8;
        ra_pool_config q = cfg;
        q.capacity = want_cap;
        size_t need = ra_pool_mem_size(&q);
        size_t len;
        switch (c3 >> 6) {
        case 0:
            len = need;
            break;
        case 1:
            len = need + 2 * m.stride;
            break;
        case 2: /* as many as fit */
            cfg.capacity = 0;
            len = (size_t)c4 * 97u % (need + 1);
            break;
        default:
            len = want_cap * m.stride - 1 + (m.ea - 1);
            break;
        }
        buf = malloc((c3 & 63u) + len + (len == 0)); /* ASan's redzone right after it */
        REQUIRE(buf != NULL);
        unsigned char *mem = buf + (c3 & 63u);
        cfg.mem = mem;
        cfg.mem_len = len;
        uintptr_t pad = (m.ea - (uintptr_t)mem % m.ea) % m.ea;
        size_t room = len >= pad ? (len - pad) / m.stride : 0;
        if (cfg.capacity == 0) m.cap = room;
        if ((c3 >> 6) == 0) REQUIRE(len >= pad && room >= m.cap); /* mem_size suffices */
        if (m.cap == 0 || m.cap > room || len < pad) ok = false;
    } else if (m.cap == 0) {
        ok = false;
    }
    ra_pool *p = NULL;
    int rc = ra_pool_create(&p, &cfg);
    if (!ok) {
        REQUIRE(rc == RA_EINVAL && p == NULL);
        free(buf);
        return 0;
    }
    REQUIRE(rc == RA_OK && p != NULL);
    REQUIRE(strcmp(ra_pool_name(p), "fuzz") == 0);
    check_stats(p, &m);

    int churns = 0;
    while (fz_more(&in)) {
        uint8_t op = fz_u8(&in), arg = fz_u8(&in);
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
            do_alloc(p, &m, (op & 0x80) != 0);
            break;
        case 3:
        case 4:
            if (m.nlive)
                do_free(p, &m, arg % m.nlive);
            else
                ra_pool_free(p, NULL);
            break;
        case 5:
            do_owns(p, &m, arg);
            break;
        case 6: /* a block's pattern, checked in place */
            if (m.nlive) {
                const blk *b = &m.live[arg % m.nlive];
                REQUIRE(fz_intact(b->p, m.bs, b->id));
            }
            break;
        default:
            switch (arg % 4) {
            case 0:
                ra_pool_thread_flush(p);
                break;
            case 1:
                if (churns++ < 2)
                    do_churn(p, &m,
                             ((size_t)(arg >> 2) + 1) *
                                 (CHURN_FAST && !m.ts && !m.debug ? 1024 : 4));
                break;
            case 2:
                while (m.nlive) do_free(p, &m, (size_t)(arg >> 2) % m.nlive);
                break;
            default:
                ra_pool_free(p, NULL);
                break;
            }
            break;
        }
        check_stats(p, &m);
    }
    while (m.nlive) do_free(p, &m, m.nlive - 1);
    check_stats(p, &m);
    ra_pool_destroy(p);
    free(buf);
    return 0;
}
