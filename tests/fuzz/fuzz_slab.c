/* fuzz_slab.c - differential fuzzing of the slab (size classes over pools) against a model */

/*
 * Input: 6 configuration bytes, then (op, arg, arg2) byte triples.
 *   c0      min_size (0 is invalid)
 *   c1 c2   max_size, big-endian; c1 == 0xFF: RA_SLAB_MAX_SIZE, or one more (invalid) when c2 is
 * odd c3      bits 0..3 blocks_per_class (0 is invalid), bits 4..7 classes_per_doubling 0..15 c4
 * flags: bit 0 THREADSAFE, 1 DEBUG, 2 on_empty RA_ON_EMPTY_SYSTEM (else NULL), 3 PREFAULT, 4
 * HUGEPAGES; bit 5: classes_per_doubling 16, or 17 (invalid) with bit 6 c5      thread caches of a
 * thread-safe slab (bits 0..2) Operations: alloc of a size near a class boundary, in a class, above
 * max_size (large) or 0; free of a live block (pattern checked first); free(NULL); usable-size and
 * ownership queries.
 *
 * The model: which configurations create succeeds for; the size classes (multiples of 16, from
 * min_size rounded up to max_size rounded up, at most classes_per_doubling of them in each
 * doubling, each step 2^k / classes_per_doubling rounded up to 16); the class each request lands
 * in (the smallest that fits); when a class is exhausted (blocks_per_class in use) NULL or a
 * malloc fallback; every block 16-byte aligned, disjoint from the other live blocks over its
 * usable size, holding its pattern until freed, owned by its class pool exactly when it is not a
 * fallback; every field of ra_slab_get_stats() (per class and in total) after each operation.
 */
#include "fuzz_alloc.h"

#include "ringalloc/slab.h"

#define MAXLIVE 512

typedef struct blk {
    unsigned char *p;
    size_t usable;
    uint64_t id;
    unsigned cls;
    int kind; /* 0 class block, 1 fallback, 2 large */
} blk;

typedef struct mclass {
    size_t size;
    uint64_t allocs, frees, live, peak, failed, fallbacks, fallback_frees;
} mclass;

typedef struct model {
    size_t bpc, max;
    bool ts, system;
    unsigned n;
    mclass c[RA_SLAB_MAX_CLASSES];
    blk live[MAXLIVE];
    size_t nlive;
    uint64_t failed, large_allocs, large_frees, large_bytes, next_id;
} model;

/* The documented classes. Returns their number, or 0 when there would be more than the maximum. */
static unsigned model_classes(size_t min, size_t max, unsigned cpd, size_t *out)
{
    size_t s = (min + 15) / 16 * 16, top = (max + 15) / 16 * 16;
    unsigned n = 0;
    for (;;) {
        if (n == RA_SLAB_MAX_CLASSES) return 0;
        out[n++] = s;
        if (s >= top) return n;
        size_t pow = 16;
        while (pow * 2 <= s) pow *= 2;
        size_t step = (pow / cpd + 15) / 16 * 16;
        if (step < 16) step = 16;
        size_t next = pow + ((s - pow) / step + 1) * step;
        if (next > 2 * pow) next = 2 * pow;
        s = next > top ? top : next;
    }
}

static void check_stats(const ra_slab *s, const model *m)
{
    ra_slab_stats st;
    ra_slab_get_stats(s, &st);
    REQUIRE(st.nclasses == m->n);
    uint64_t allocs = m->large_allocs, frees = m->large_frees, fallbacks = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const ra_slab_class_stats *cs = &st.classes[i];
        const mclass *c = &m->c[i];
        REQUIRE(cs->size == c->size);
        REQUIRE(cs->capacity == m->bpc);
        REQUIRE(cs->allocs == c->allocs);
        REQUIRE(cs->frees == c->frees);
        REQUIRE(cs->in_use == c->live);
        if (m->ts)
            REQUIRE(cs->high_water >= c->peak && cs->high_water <= m->bpc);
        else
            REQUIRE(cs->high_water == c->peak);
        REQUIRE(cs->failed == c->failed);
        REQUIRE(cs->fallbacks == c->fallbacks);
        REQUIRE(cs->fallback_frees == c->fallback_frees);
        allocs += c->allocs + c->fallbacks;
        frees += c->frees + c->fallback_frees;
        fallbacks += c->fallbacks;
    }
    REQUIRE(st.allocs == allocs);
    REQUIRE(st.frees == frees);
    REQUIRE(st.in_use == m->nlive);
    REQUIRE(st.failed == m->failed);
    REQUIRE(st.fallbacks == fallbacks);
    REQUIRE(st.large_allocs == m->large_allocs);
    REQUIRE(st.large_frees == m->large_frees);
    REQUIRE(st.large_in_use == m->large_allocs - m->large_frees);
    REQUIRE(st.large_bytes == m->large_bytes);
    REQUIRE(st.threadsafe == m->ts);
}

static void do_alloc(ra_slab *s, model *m, size_t size)
{
    if (m->nlive == MAXLIVE) return; /* the model is full: no more live blocks */
    unsigned char *p = ra_slab_alloc(s, size);
    int kind = 0;
    unsigned cls = 0;
    if (size > m->max) {
        kind = 2;
        REQUIRE(p != NULL);
        m->large_allocs++;
        m->large_bytes += size;
    } else {
        while (m->c[cls].size < size) cls++;
        mclass *c = &m->c[cls];
        if (c->live == m->bpc) {
            if (!m->system) {
                REQUIRE(p == NULL);
                c->failed++;
                m->failed++;
                return;
            }
            kind = 1;
            c->fallbacks++;
        } else {
            c->allocs++;
            c->live++;
            if (c->live > c->peak) c->peak = c->live;
        }
        REQUIRE(p != NULL);
        REQUIRE(ra_pool_owns(ra_slab_class_pool(s, cls), p) == (kind == 0));
    }
    size_t usable = kind == 2 ? size : m->c[cls].size;
    REQUIRE((uintptr_t)p % 16 == 0);
    REQUIRE(ra_slab_usable_size(s, p) == usable);
    for (size_t i = 0; i < m->nlive; i++)
        REQUIRE(fz_disjoint(p, usable, m->live[i].p, m->live[i].usable) && p != m->live[i].p);
    fz_fill(p, usable, m->next_id);
    m->live[m->nlive++] = (blk){p, usable, m->next_id++, cls, kind};
}

static void do_free(ra_slab *s, model *m, size_t k)
{
    blk b = m->live[k];
    REQUIRE(fz_intact(b.p, b.usable, b.id));
    REQUIRE(ra_slab_usable_size(s, b.p) == b.usable);
    ra_slab_free(s, b.p);
    m->live[k] = m->live[--m->nlive];
    if (b.kind == 2) {
        m->large_frees++;
        m->large_bytes -= b.usable;
    } else if (b.kind == 1) {
        m->c[b.cls].fallback_frees++;
    } else {
        m->c[b.cls].frees++;
        m->c[b.cls].live--;
    }
    if (b.usable) REQUIRE(FZ_POISONED(b.p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size, 0};
    uint8_t c0 = fz_u8(&in), c1 = fz_u8(&in), c2 = fz_u8(&in), c3 = fz_u8(&in), c4 = fz_u8(&in),
            c5 = fz_u8(&in);
    static model m;
    memset(&m, 0, sizeof m);
    ra_slab_config cfg = {0};
    cfg.min_size = c0;
    cfg.max_size = c1 == 0xFF ? RA_SLAB_MAX_SIZE + (c2 & 1u) : (size_t)c1 << 8 | c2;
    cfg.blocks_per_class = c3 & 15u;
    cfg.classes_per_doubling = (c4 & 0x20) ? 16u + ((c4 >> 6) & 1u) : c3 >> 4;
    cfg.flags = ((c4 & 1) ? RA_POOL_THREADSAFE : 0) | ((c4 & 2) ? RA_POOL_DEBUG : 0) |
                ((c4 & 8) ? RA_POOL_PREFAULT : 0) | ((c4 & 16) ? RA_POOL_HUGEPAGES : 0);
    cfg.on_empty = (c4 & 4) ? RA_ON_EMPTY_SYSTEM : RA_ON_EMPTY_NULL;
    cfg.threads = c5 & 7u;
    /* big classes: few blocks, so that one input stays a few MB */
    if (cfg.max_size > 65536 && cfg.blocks_per_class > 2) cfg.blocks_per_class = 2;

    unsigned cpd = cfg.classes_per_doubling ? cfg.classes_per_doubling : RA_SLAB_DEFAULT_CPD;
    size_t sizes[RA_SLAB_MAX_CLASSES];
    bool ok = cfg.min_size >= 1 && cfg.max_size >= cfg.min_size &&
              cfg.max_size <= RA_SLAB_MAX_SIZE && cfg.blocks_per_class >= 1 && cpd <= 16;
    m.n = ok ? model_classes(cfg.min_size, cfg.max_size, cpd, sizes) : 0;
    ok = ok && m.n != 0;
    ra_slab *s = NULL;
    int rc = ra_slab_create(&s, &cfg);
    if (!ok) {
        REQUIRE(rc == RA_EINVAL && s == NULL);
        return 0;
    }
    REQUIRE(rc == RA_OK && s != NULL);
    m.bpc = cfg.blocks_per_class;
    m.ts = (cfg.flags & RA_POOL_THREADSAFE) != 0;
    m.system = cfg.on_empty == RA_ON_EMPTY_SYSTEM;
    m.max = sizes[m.n - 1];
    REQUIRE(ra_slab_class_count(s) == m.n);
    for (unsigned i = 0; i < m.n; i++) {
        m.c[i].size = sizes[i];
        REQUIRE(ra_slab_class_size(s, i) == sizes[i]);
        REQUIRE(ra_slab_class_pool(s, i) != NULL);
    }
    REQUIRE(ra_slab_class_size(s, m.n) == 0 && ra_slab_class_pool(s, m.n) == NULL);
    REQUIRE(ra_slab_usable_size(s, NULL) == 0);
    REQUIRE(strcmp(ra_slab_name(s), "slab") == 0);
    check_stats(s, &m);

    while (fz_more(&in)) {
        uint8_t op = fz_u8(&in), arg = fz_u8(&in), arg2 = fz_u8(&in);
        switch (op % 8) {
        case 0:
        case 1: { /* a class boundary: exactly a class size, one more, one less */
            size_t c = m.c[arg % m.n].size;
            do_alloc(s, &m, arg2 % 3 == 0 ? c : arg2 % 3 == 1 ? c + 1 : c - 1);
            break;
        }
        case 2: /* anywhere up to max_size */
            do_alloc(s, &m, ((size_t)arg << 8 | arg2) % (m.max + 1));
            break;
        case 3: /* small, zero, or large */
            do_alloc(s, &m, (op & 0x80) ? m.max + 1 + ((size_t)arg << 8 | arg2) : arg);
            break;
        case 4:
        case 5:
            if (m.nlive)
                do_free(s, &m, ((size_t)arg << 8 | arg2) % m.nlive);
            else
                ra_slab_free(s, NULL);
            break;
        case 6:
            if (m.nlive) { /* a live block: in place, and every interior byte's pool */
                const blk *b = &m.live[arg % m.nlive];
                REQUIRE(fz_intact(b->p, b->usable, b->id));
                for (unsigned i = 0; i < m.n; i++)
                    if (b->usable)
                        REQUIRE(ra_pool_owns(ra_slab_class_pool(s, i), b->p + arg2 % b->usable) ==
                                (b->kind == 0 && b->cls == i));
            }
            break;
        default:
            if (arg & 1)
                while (m.nlive) do_free(s, &m, (size_t)arg2 % m.nlive);
            else
                ra_slab_free(s, NULL);
            break;
        }
        check_stats(s, &m);
    }
    while (m.nlive) do_free(s, &m, m.nlive - 1);
    check_stats(s, &m);
    ra_slab_destroy(s);
    return 0;
}
