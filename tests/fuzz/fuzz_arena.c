/* fuzz_arena.c - differential fuzzing of the arena (bump, marks, rewind, reset) against a model */

/*
 * Input: 6 configuration bytes, then (op, arg, arg2) byte triples.
 *   c0  chunk_size: 0 (default) or c0 * 64
 *   c1  max_bytes: 0 (no limit) or c1 * 512
 *   c2  max_chunk_size: 0 (default) or c2 * 256
 *   c3  bit 0: a caller buffer (misaligned by bits 1..6), bit 7: RA_ARENA_PREFAULT
 *   c4  the caller buffer's length: c4 * 33 (0 is invalid)
 *   c5  0xFF: an unknown flag (create must refuse); 0xFE: RA_ARENA_HUGEPAGES
 * Operations: alloc (size 0, small, up to 255 KiB, or more than SIZE_MAX / 2; alignment 0, 1 ..
 * 4096, or invalid 8192 / 48), save a mark into one of 8 slots, rewind to a slot, reset, pattern
 * checks.
 *
 * The model: live allocations (aligned, disjoint, holding their pattern until a rewind or reset
 * gives them back, poisoned after that under ASan); failures only where the contract allows them
 * (bad alignment, a size over SIZE_MAX / 2, or max_bytes nearly reached; a request larger than
 * max_bytes always fails); bytes_reserved never above max_bytes; bytes_used at least the live
 * bytes and growing by size .. size + align - 1 per allocation; allocs, failed, resets exact;
 * high_water at least every bytes_used seen, never decreasing; the first allocation after create
 * or reset lands in the caller buffer when it fits there.
 * Marks: a mark is clean while only allocations and rewinds to itself or later marks followed
 * it: a rewind to it must take effect (counted unless the arena is already there), give back
 * exactly the allocations made since, and bring bytes_used back to its value at save. Marks
 * saved after a mark that was rewound to are tainted: the contract lets a rewind to them be
 * ignored or take effect (their position may be live again); either way bytes_used must be the
 * mark's, or unchanged, and allocations made before the taint must survive. Marks saved before
 * a reset are stale: a rewind to them changes nothing.
 */
#include "fuzz_alloc.h"

#include "ringalloc/arena.h"

#define MAXLIVE 1024
#define NMARK   8
#define HDR_MAX 256 /* bound on a chunk header plus rounding: room the contract may not promise */

typedef struct blk {
    unsigned char *p;
    size_t size;
    uint64_t id, order;
} blk;

enum { M_NONE, M_CLEAN, M_TAINTED, M_STALE };

typedef struct mmark {
    int state;
    ra_arena_mark mk;
    uint64_t used;  /* bytes_used at save */
    uint64_t order; /* allocations made before it */
    uint64_t taint; /* tainted: allocations from this order on may be given back */
} mmark;

typedef struct model {
    blk live[MAXLIVE];
    size_t nlive;
    mmark mk[NMARK];
    uint64_t ord, failed, resets, rewinds, peak, max_bytes, next_id;
    unsigned char *mem;
    size_t mem_len;
    bool fresh;  /* no allocation since create or reset */
    bool mapped; /* RA_ARENA_HUGEPAGES: chunks are mmap()ed */
} model;

static ra_arena_stats stats(const ra_arena *a, model *m)
{
    ra_arena_stats s;
    ra_arena_get_stats(a, &s);
    uint64_t live = 0;
    for (size_t i = 0; i < m->nlive; i++) live += m->live[i].size;
    REQUIRE(s.allocs == m->ord);
    REQUIRE(s.failed == m->failed);
    REQUIRE(s.resets == m->resets);
    REQUIRE(s.rewinds == m->rewinds);
    REQUIRE(s.max_bytes == m->max_bytes);
    REQUIRE(s.bytes_used >= live);
    REQUIRE(s.bytes_used <= s.bytes_reserved);
    REQUIRE(s.chunks >= 1 && s.bytes_reserved > 0);
    if (m->max_bytes) REQUIRE(s.bytes_reserved <= m->max_bytes);
    REQUIRE(s.high_water >= s.bytes_used && s.high_water >= m->peak);
    m->peak = s.high_water;
    return s;
}

/* drops the live allocations of order >= from (given back: poisoned under ASan when `poisoned`) */
static void give_back(model *m, uint64_t from, bool poisoned)
{
    for (size_t i = 0; i < m->nlive;) {
        blk *b = &m->live[i];
        if (b->order < from) {
            REQUIRE(fz_intact(b->p, b->size, b->id));
            i++;
            continue;
        }
        /* ASan poisons whole 8-byte granules: check the block's first byte at a granule start
           (the rewind position may share a granule with live bytes); a released mmap chunk
           (huge pages) is unmapped, which ASan does not track */
        const unsigned char *g = (const unsigned char *)(((uintptr_t)b->p + 7) & ~(uintptr_t)7);
        TRACE("  give back %p + %zu\n", (void *)b->p, b->size);
        if (poisoned && g < b->p + b->size && !m->mapped) REQUIRE(FZ_POISONED(g));
        *b = m->live[--m->nlive];
    }
}

static void do_alloc(ra_arena *a, model *m, size_t size, size_t align)
{
    if (m->nlive == MAXLIVE) return; /* the model is full: no more live blocks */
    ra_arena_stats s0 = stats(a, m);
    size_t al = align ? align : 16;
    bool bad = (al & (al - 1)) != 0 || al > RA_ARENA_MAX_ALIGN || size > SIZE_MAX / 2;
    unsigned char *p = ra_arena_alloc(a, size, align);
    TRACE("alloc %zu align %zu: %p (used %llu)\n", size, align, (void *)p,
          (unsigned long long)s0.bytes_used);
    if (p == NULL) {
        /* allowed: bad arguments, or too near the cap to promise a chunk for this request */
        REQUIRE(bad ||
                (m->max_bytes != 0 && m->max_bytes - s0.bytes_reserved < size + al - 1 + HDR_MAX));
        m->failed++;
        stats(a, m);
        return;
    }
    REQUIRE(!bad);
    REQUIRE(m->max_bytes == 0 || size <= m->max_bytes);
    REQUIRE((uintptr_t)p % al == 0);
    if (m->fresh && m->mem && size + al - 1 <= m->mem_len)
        REQUIRE(p >= m->mem && p + size <= m->mem + m->mem_len);
    m->fresh = false;
    for (size_t i = 0; i < m->nlive; i++)
        REQUIRE(fz_disjoint(p, size, m->live[i].p, m->live[i].size));
    fz_fill(p, size, m->next_id);
    m->live[m->nlive++] = (blk){p, size, m->next_id++, m->ord};
    m->ord++;
    ra_arena_stats s1 = stats(a, m);
    REQUIRE(s1.bytes_used >= s0.bytes_used + size);
    REQUIRE(s1.bytes_used <= s0.bytes_used + size + al - 1);
}

static void do_rewind(ra_arena *a, model *m, unsigned k)
{
    mmark *mk = &m->mk[k];
    if (mk->state == M_NONE) return;
    ra_arena_stats s0 = stats(a, m);
    ra_arena_rewind(a, mk->mk);
    TRACE("rewind %u (state %d, order %llu, taint %llu)\n", k, mk->state,
          (unsigned long long)mk->order, (unsigned long long)mk->taint);
    ra_arena_stats s1;
    ra_arena_get_stats(a, &s1);
    bool took = s1.rewinds != s0.rewinds;
    REQUIRE(s1.rewinds - s0.rewinds <= 1);
    if (mk->state == M_STALE) REQUIRE(!took);
    if (mk->state == M_CLEAN && s0.bytes_used != mk->used) REQUIRE(took);
    if (!took) {
        REQUIRE(s1.bytes_used == s0.bytes_used);
        stats(a, m);
        return;
    }
    m->rewinds++;
    REQUIRE(s1.bytes_used == mk->used);
    /* clean: exactly the allocations since the mark, each poisoned now; tainted: those since
       the taint, of which the ones below the mark's position stay live (not checked again) */
    uint64_t from = mk->state == M_CLEAN ? mk->order : mk->taint;
    give_back(m, from, mk->state == M_CLEAN);
    /* later marks: their position may be gone or live again */
    for (unsigned i = 0; i < NMARK; i++) {
        mmark *o = &m->mk[i];
        if (i == k || o->state == M_NONE || o->state == M_STALE || o->order <= from) continue;
        if (o->state == M_CLEAN || o->taint > from) o->taint = from;
        o->state = M_TAINTED;
    }
    stats(a, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    uint8_t c0 = fz_u8(&in), c1 = fz_u8(&in), c2 = fz_u8(&in), c3 = fz_u8(&in), c4 = fz_u8(&in),
            c5 = fz_u8(&in);
    static model m;
    memset(&m, 0, sizeof m);
    ra_arena_config cfg = {0};
    cfg.chunk_size = (size_t)c0 * 64u;
    cfg.max_bytes = (size_t)c1 * 512u;
    cfg.max_chunk_size = (size_t)c2 * 256u;
    cfg.flags = (c3 & 0x80) ? RA_ARENA_PREFAULT : 0;
    cfg.flags |= c5 == 0xFF ? 1u << 7 : c5 == 0xFE ? RA_ARENA_HUGEPAGES : 0;
    cfg.name = "fuzz";
    unsigned char *buf = NULL;
    if (c3 & 1) {
        /* exactly the buffer: ASan's redzone follows it, so a partial last granule can be
           poisoned and an access past the buffer is caught */
        cfg.mem_len = (size_t)c4 * 33u;
        buf = malloc(((c3 >> 1) & 63u) + cfg.mem_len + (cfg.mem_len == 0));
        REQUIRE(buf != NULL);
        cfg.mem = buf + ((c3 >> 1) & 63u);
    }
    ra_arena *a = NULL;
    int rc = ra_arena_create(&a, &cfg);
    bool bad = c5 == 0xFF || (cfg.mem != NULL && cfg.mem_len == 0) ||
               /* the caller buffer is the first chunk: it cannot exceed the cap */
               (cfg.mem != NULL && cfg.max_bytes != 0 && cfg.mem_len > cfg.max_bytes);
    if (bad) {
        REQUIRE(rc == RA_EINVAL && a == NULL);
        free(buf);
        return 0;
    }
    if (rc == RA_EINVAL && cfg.mem == NULL && cfg.max_bytes != 0 &&
        cfg.max_bytes < (cfg.chunk_size ? cfg.chunk_size : RA_ARENA_DEFAULT_CHUNK)) {
        free(buf); /* a heap first chunk above the cap: refused, or shrunk to fit (below) */
        return 0;
    }
    REQUIRE(rc == RA_OK && a != NULL);
    REQUIRE(strcmp(ra_arena_name(a), "fuzz") == 0);
    m.max_bytes = cfg.max_bytes;
    m.mem = cfg.mem;
    m.mem_len = cfg.mem_len;
    m.fresh = true;
    m.mapped = (cfg.flags & RA_ARENA_HUGEPAGES) != 0;
    stats(a, &m);

    while (fz_more(&in)) {
        uint8_t op = fz_u8(&in), arg = fz_u8(&in), arg2 = fz_u8(&in);
        switch (op % 8) {
        case 0:
        case 1:
        case 2: {
            unsigned code = arg & 15u;
            size_t align = code == 0    ? 0
                           : code <= 13 ? (size_t)1 << (code - 1)
                           : code == 14 ? 8192
                                        : 48;
            size_t sz;
            if ((op & 0xC0) == 0xC0 && arg2 == 0xFF)
                sz = SIZE_MAX / 2 + 1 + (arg >> 4);
            else if (op & 0x80)
                sz = ((size_t)arg2 << 10) + (arg >> 4);
            else if (op & 0x40)
                sz = 0;
            else
                sz = arg2;
            do_alloc(a, &m, sz, align);
            break;
        }
        case 3:
        case 4: {
            mmark *mk = &m.mk[arg % NMARK];
            mk->mk = ra_arena_save(a);
            mk->used = stats(a, &m).bytes_used;
            mk->order = m.ord;
            mk->taint = 0;
            mk->state = M_CLEAN;
            TRACE("save %u (order %llu, used %llu)\n", arg % NMARK, (unsigned long long)m.ord,
                  (unsigned long long)mk->used);
            break;
        }
        case 5:
        case 6:
            do_rewind(a, &m, arg % NMARK);
            break;
        default:
            if (arg % 4 == 0) {
                ra_arena_reset(a);
                TRACE("reset\n");
                m.resets++;
                give_back(&m, 0, true);
                for (unsigned i = 0; i < NMARK; i++)
                    if (m.mk[i].state != M_NONE) m.mk[i].state = M_STALE;
                ra_arena_stats s = stats(a, &m);
                REQUIRE(s.bytes_used == 0);
                /* the largest heap chunk is kept (and the caller buffer) */
                REQUIRE(s.chunks == 1 || (m.mem && s.chunks == 2));
                m.fresh = true;
            } else if (m.nlive) {
                const blk *b = &m.live[((size_t)arg << 8 | arg2) % m.nlive];
                REQUIRE(fz_intact(b->p, b->size, b->id));
            }
            break;
        }
    }
    give_back(&m, m.ord, false); /* every live allocation still intact */
    ra_arena_destroy(a);
    free(buf);
    return 0;
}
