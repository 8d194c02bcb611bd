/* ring.c - the tick ring: variable-length records, one producer, many readers, FIFO overwrite */

/* Design notes (docs/ring.md has the long version).
 *
 * Memory: one block = control block (RA__CTL_SIZE bytes) + data (capacity bytes, a power of two).
 * Nothing in it is a pointer: positions are free-running 64-bit byte counters, masked by
 * capacity - 1 to index the data (a 64-bit counter at 100 GB/s wraps after ~5 years), so the
 * block can later be mapped into another process.
 *
 * Records: a 24-byte header {u32 len, u16 type, u16 flags, u64 seq, u64 ts_ns} then the payload,
 * padded to 8 bytes. A record never wraps: when it does not fit before the end of the data, a
 * padding record (flags PAD) fills the rest; when fewer than 24 bytes remain, the gap is skipped
 * implicitly (both sides compute it from the position alone).
 *
 * Producer state published in the control block:
 *   tail        end of the last committed record (release: publishes the record's bytes)
 *   intent      end of the region the producer is, or has been, writing; monotonic
 *   last_pos    start of the last committed record (for RA_START_NEWEST / NEXT)
 *   head        start of the oldest intact record; head_seq its sequence number
 * Write: retire records from head until the new record fits, store head, release-store intent,
 * release fence, write the bytes, then release-store tail.
 * Read: acquire tail; copy the record; acquire fence; load intent; the copy is valid only if
 * intent <= cursor + capacity (no byte at or after the cursor has been rewritten). The fences
 * pair so that a reader that saw any byte of a newer write also sees that write's intent.
 *
 * Backpressure mode: the single consumer publishes how far it has read (consumed, in batches);
 * the producer never retires and refuses when a record would pass consumed + capacity.
 */

#include "ringalloc/ring.h"
#include "alloc_mem.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#define RA__LINE     128u /* two cache lines: keeps the adjacent-line prefetcher from false sharing */
#define RA__CTL_SIZE (4u * RA__LINE)
#define RA__MAGIC    0x31304B4349544152ull /* "RATICK01" */
#define RA__F_PAD    1u                    /* record flag: padding to the end of the data */
#define RA__HUGE_2M  (2u * 1024u * 1024u)
#define RA__PREFETCH 8192u /* bytes ahead of the tail that the producer prefetches */

#if defined(__SANITIZE_THREAD__)
#define RA__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RA__TSAN 1
#endif
#endif

typedef struct ra__rec {
    uint32_t len;
    uint16_t type;
    uint16_t flags;
    uint64_t seq;
    uint64_t ts_ns;
} ra__rec;
_Static_assert(sizeof(ra__rec) == RA_RING_HDR_SIZE, "record header is 24 bytes");

/* The shared control block. Each group sits on its own 128-byte line pair. */
typedef struct ra__ring_ctl {
    /* line 0: written once at create */
    uint64_t magic;
    uint64_t capacity;
    uint32_t flags;
    uint32_t max_msg;
    char pad0[RA__LINE - 24];
    /* line 1: written by the producer on every commit, polled by readers */
    _Atomic uint64_t tail;
    _Atomic uint64_t intent;
    _Atomic uint64_t last_pos;
    char pad1[RA__LINE - 24];
    /* line 2: written by the producer, read by resync and stats */
    _Atomic uint64_t head;
    _Atomic uint64_t head_seq;
    _Atomic uint64_t next_seq;
    _Atomic uint64_t published_bytes;
    _Atomic uint64_t overwritten_bytes;
    _Atomic uint64_t too_big;
    _Atomic uint64_t full;
    char pad2[RA__LINE - 56];
    /* line 3: written by the backpressure consumer */
    _Atomic uint64_t consumed;
    _Atomic uint64_t consumed_seq;
    _Atomic uint32_t attached;
    char pad3[RA__LINE - 20];
} ra__ring_ctl;
_Static_assert(sizeof(ra__ring_ctl) == RA__CTL_SIZE, "control block layout");

enum ra__ring_mem { RA__RING_CALLER, RA__RING_HEAP, RA__RING_MMAP };

struct ra_ring {
    /* read-only after create; readers use these */
    ra__ring_ctl *ctl;
    unsigned char *data;
    uint64_t capacity;
    uint64_t mask;
    uint32_t max_msg;
    uint32_t flags;
    void *mem;
    size_t mem_len;
    int mem_kind;
    bool hugepages;
    bool pfw; /* the CPU has PREFETCHW (x86): see ra__prefetch_w */
    /* producer-private, on its own line. Positions, sequence numbers and statistics have one copy
     * only, in the control block: the producer reads back what it stored there (its own stores,
     * always in its cache), so a record costs one store per field, not two. */
    _Alignas(RA__LINE) uint64_t consumed; /* backpressure: last consumed position seen */
    uint64_t pad_pos[2]; /* the last two padding records written (UINT64_MAX: none) */
    unsigned pad_idx;    /* which of them the next pad replaces */
    uint64_t resv_pos;   /* start of the reserved record */
    uint32_t resv_max;   /* its max_len */
    bool reserved;
};

/* The producer's view of its own control-block fields: relaxed loads of values only it stores. */
#define RA__OWN(f) atomic_load_explicit(&ctl->f, memory_order_relaxed)

/* Fetches the line at p for writing. On x86 only PREFETCHW asks for the line in exclusive state;
 * __builtin_prefetch(p, 1, 3) emits it only when the compiler may assume the CPU has it, and a
 * portable build gets PREFETCHT0, which leaves a line that a reader still holds shared: the
 * store then waits for the other core to give it up. So the instruction is chosen at run time
 * (CPUID, once per ring). Elsewhere the builtin's write hint is the right instruction. */
static inline __attribute__((always_inline)) void ra__prefetch_w(const void *p, bool pfw)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (pfw) {
        __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
        return;
    }
#else
    (void)pfw;
#endif
    __builtin_prefetch(p, 1, 3);
}

static bool ra__cpu_has_prefetchw(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000001u) return false;
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d)) return false;
    return (c >> 8) & 1u; /* ECX bit 8: PREFETCHW (3DNowPrefetch) */
#else
    return false;
#endif
}

static inline uint64_t ra__rec_size(uint32_t len)
{
    return ((uint64_t)RA_RING_HDR_SIZE + len + (RA_RING_ALIGN - 1)) &
           ~(uint64_t)(RA_RING_ALIGN - 1);
}

/* Stores a record header: len, type and flags as one 8-byte store, then seq and ts. */
static inline __attribute__((always_inline)) void ra__hdr_store(unsigned char *rec, uint32_t len,
                                                                uint16_t type, uint16_t flags,
                                                                uint64_t seq, uint64_t ts_ns)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w = (uint64_t)len | (uint64_t)type << 32 | (uint64_t)flags << 48;
    memcpy(rec, &w, 8);
#else
    ra__rec h = {.len = len, .type = type, .flags = flags};
    memcpy(rec, &h, 8);
#endif
    memcpy(rec + 8, &seq, 8);
    memcpy(rec + 16, &ts_ns, 8);
}

/* ---- the one audited racy copy ----------------------------------------------------------------
 * Readers copy bytes the producer may be rewriting at that moment (seqlock style); such copies
 * are discarded by the intent check that follows. This is the only function that reads the data
 * area of a ring from a reader. Under ThreadSanitizer it is left uninstrumented and copies with
 * volatile loads (memcpy would be intercepted and reported); everywhere else it is memcpy. */
#ifdef RA__TSAN
__attribute__((no_sanitize("thread"), noinline)) static void
ra__racy_copy(void *dst, const void *src, size_t n)
{
    const volatile unsigned char *s = src;
    volatile unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = s[i];
}
#else
static inline void ra__racy_copy(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
}
#endif

/* ---- create / destroy ------------------------------------------------------------------------ */

static bool ra__pow2(size_t x)
{
    return x && (x & (x - 1)) == 0;
}

RA_API size_t ra_ring_footprint(size_t capacity)
{
    if (!ra__pow2(capacity) || capacity < RA_RING_MIN_CAPACITY) return 0;
    if (capacity > SIZE_MAX - RA__CTL_SIZE) return 0;
    return RA__CTL_SIZE + capacity;
}

RA_API int ra_ring_create(ra_ring **out, const ra_ring_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!cfg) return RA_EINVAL;
    const uint32_t known = RA_RING_BACKPRESSURE | RA_RING_HUGEPAGES | RA_RING_PREFAULT;
    if (cfg->flags & ~known) return RA_EINVAL;
    size_t foot = ra_ring_footprint(cfg->capacity);
    if (!foot) return RA_EINVAL;
    if (cfg->mem && (cfg->mem_len < foot || ((uintptr_t)cfg->mem % RA_RING_MEM_ALIGN) != 0))
        return RA_EINVAL;

    ra_ring *r = aligned_alloc(RA__LINE, (sizeof *r + RA__LINE - 1) / RA__LINE * RA__LINE);
    if (!r) return RA_ENOMEM;
    memset(r, 0, sizeof *r);

    /* the memory (osmem.c): the caller's, else whole pages from the heap or, with
     * RA_RING_HUGEPAGES, huge pages falling back silently to normal ones (stats.hugepages says) */
    struct ra__region reg;
    uint32_t opts = (cfg->flags & RA_RING_PREFAULT) ? RA__REGION_PREFAULT : 0;
    if (cfg->mem) {
        ra__region_wrap(&reg, cfg->mem, foot, opts);
    } else {
        if (cfg->flags & RA_RING_HUGEPAGES) opts |= RA__REGION_HUGE;
        if (!ra__region_get(&reg, RA__ALIGN_UP(foot, (size_t)RA__PAGE), RA__PAGE, opts)) {
            free(r);
            return RA_ENOMEM;
        }
    }
    void *mem = reg.base;

    ra__ring_ctl *ctl = mem;
    memset(ctl, 0, sizeof *ctl);
    ctl->magic = RA__MAGIC;
    ctl->capacity = cfg->capacity;
    ctl->flags = cfg->flags;
    /* A record is at most a quarter of the data: then a reservation (at most a quarter, plus less
     * than a quarter of padding) never retires the last committed record, so [head, tail) always
     * holds an intact record for a lapped reader to resynchronise on. */
    uint64_t max = cfg->capacity / 4 - RA_RING_HDR_SIZE;
    if (max > UINT32_MAX - 2 * RA_RING_HDR_SIZE) max = UINT32_MAX - 2 * RA_RING_HDR_SIZE;
    ctl->max_msg = (uint32_t)max;
    atomic_init(&ctl->tail, 0);
    atomic_init(&ctl->intent, 0);
    atomic_init(&ctl->last_pos, 0);
    atomic_init(&ctl->head, 0);
    atomic_init(&ctl->head_seq, 0);
    atomic_init(&ctl->next_seq, 0);
    atomic_init(&ctl->published_bytes, 0);
    atomic_init(&ctl->overwritten_bytes, 0);
    atomic_init(&ctl->too_big, 0);
    atomic_init(&ctl->full, 0);
    atomic_init(&ctl->consumed, 0);
    atomic_init(&ctl->consumed_seq, 0);
    atomic_init(&ctl->attached, 0);

    r->pad_pos[0] = r->pad_pos[1] = UINT64_MAX;
    r->ctl = ctl;
    r->data = (unsigned char *)mem + RA__CTL_SIZE;
    r->capacity = cfg->capacity;
    r->mask = cfg->capacity - 1;
    r->max_msg = ctl->max_msg;
    r->flags = cfg->flags;
    r->mem = reg.base;
    r->mem_len = reg.len;
    r->mem_kind = reg.kind;
    r->hugepages = reg.huge;
    r->pfw = ra__cpu_has_prefetchw();
    *out = r;
    return RA_OK;
}

RA_API void ra_ring_destroy(ra_ring *r)
{
    if (!r) return;
    struct ra__region reg = {.base = r->mem, .len = r->mem_len, .kind = (uint8_t)r->mem_kind};
    ra__region_put(&reg);
    free(r);
}

RA_API uint32_t ra_ring_max_msg(const ra_ring *r)
{
    return r->max_msg;
}

RA_API size_t ra_ring_capacity(const ra_ring *r)
{
    return (size_t)r->capacity;
}

/* ---- producer -------------------------------------------------------------------------------- */

/* Retires records from head until `end - head <= capacity`. With records of at most capacity / 4,
 * end - capacity stays below the start of the last committed record, so head < tail afterwards
 * and a real record exists at head whenever one must be retired. */
__attribute__((noinline)) static void ra__retire(ra_ring *r, ra__ring_ctl *ctl, uint64_t end,
                                                 uint64_t head, uint64_t tail)
{
    uint64_t seq = RA__OWN(head_seq), bytes = RA__OWN(overwritten_bytes);
    const uint64_t cap = r->capacity, mask = r->mask;
    const unsigned char *data = r->data;
    while (end - head > cap) {
        uint64_t off = head & mask, to_end = cap - off;
        uint32_t len;
        uint16_t flags;
        memcpy(&len, data + off + offsetof(ra__rec, len), sizeof len);
        memcpy(&flags, data + off + offsetof(ra__rec, flags), sizeof flags);
        if (to_end < RA_RING_HDR_SIZE || (flags & RA__F_PAD)) {
            head += to_end; /* padding, or the implicit skip at the end of the data */
            continue;
        }
        head += ra__rec_size(len);
        bytes += len;
        seq++;
    }
    /* Leave head on the oldest real record, not on padding before it (a record follows the
     * padding below tail, since the last committed record is never retired). The producer knows
     * where it put padding, so this costs no load from the ring. */
    uint64_t off = head & mask;
    if (__builtin_expect(head < tail && (cap - off < RA_RING_HDR_SIZE || head == r->pad_pos[0] ||
                                         head == r->pad_pos[1]),
                         0))
        head += cap - off;
    /* release: a reader that resyncs to this head must see the record written there */
    atomic_store_explicit(&ctl->head, head, memory_order_release);
    /* relaxed: statistics, read on their own */
    atomic_store_explicit(&ctl->head_seq, seq, memory_order_relaxed);
    atomic_store_explicit(&ctl->overwritten_bytes, bytes, memory_order_relaxed);
}

/* The common case of retiring, inline: exactly one real record goes and the next one is real.
 * @return false: nothing done, ra__retire does the general case. */
static inline __attribute__((always_inline)) bool ra__retire_one(ra_ring *r, ra__ring_ctl *ctl,
                                                                 uint64_t end, uint64_t head)
{
    /* head is on a real record here (ra__retire leaves it so, and it is below tail once a
     * record must go), so only the record after it needs the padding checks; the PAD flag
     * test is a cheap guard on that invariant */
    uint64_t cap = r->capacity, mask = r->mask;
    uint64_t w;
    memcpy(&w, r->data + (head & mask), sizeof w); /* len, type, flags */
    uint32_t len = (uint32_t)w;
    uint64_t nh = head + ra__rec_size(len);
    if ((w >> 48) & RA__F_PAD || end - nh > cap || cap - (nh & mask) < RA_RING_HDR_SIZE ||
        nh == r->pad_pos[0] || nh == r->pad_pos[1])
        return false;
    /* release: as in ra__retire */
    atomic_store_explicit(&ctl->head, nh, memory_order_release);
    /* relaxed: statistics */
    atomic_store_explicit(&ctl->head_seq, RA__OWN(head_seq) + 1, memory_order_relaxed);
    atomic_store_explicit(&ctl->overwritten_bytes, RA__OWN(overwritten_bytes) + len,
                          memory_order_relaxed);
    return true;
}

/* Announces that the producer writes up to `end` (overwrite mode), before it stores any byte. */
static inline __attribute__((always_inline)) void ra__intent(ra__ring_ctl *ctl, uint64_t end)
{
    if (end > RA__OWN(intent)) {
        /* release: a reader that sees this intent also sees the head retired for it */
        atomic_store_explicit(&ctl->intent, end, memory_order_release);
        /* release fence: orders the intent store before the data stores that follow, so a
         * reader that copied any of the new bytes sees the new intent after its acquire fence
         * (fence-fence synchronisation, as in a seqlock) */
        atomic_thread_fence(memory_order_release);
    }
}

/* Overwrite mode, before writing [.., end): retire what the record needs, then announce the
 * region (intent) before any of its bytes are stored. */
static inline __attribute__((always_inline)) void ra__claim(ra_ring *r, ra__ring_ctl *ctl,
                                                            uint64_t end, uint64_t tail)
{
    uint64_t head = RA__OWN(head);
    if (end - head > r->capacity && !ra__retire_one(r, ctl, end, head))
        ra__retire(r, ctl, end, head, tail);
    ra__intent(ctl, end);
}

/* Prefetches the line at position `at` that the producer will write: for writing (exclusive)
 * when nobody may still need it, else shared. In backpressure mode a line the consumer has not
 * read yet (as far as the producer last saw) is fetched shared: taking it exclusive would make
 * the consumer fetch it back from this core just before it reads it. */
static inline __attribute__((always_inline)) void
ra__prefetch_at(unsigned char *data, uint64_t mask, uint64_t at, bool pfw, uint64_t pf_limit)
{
    if (at <= pf_limit)
        ra__prefetch_w(data + (at & mask), pfw);
    else
        __builtin_prefetch(data + (at & mask), 0, 3);
}

/* The line RA__PREFETCH bytes past `end` (see ra__reserve). Backpressure mode: the consumer
 * has read every line the producer writes, so a line it is done with is fetched exclusive.
 * Overwrite mode keeps the plain write hint (PREFETCHT0 in a portable x86 build): with no reader
 * on the lines, PREFETCHW made 32-byte writes 0.2-0.9 ns slower, in cache and out of it. */
static inline __attribute__((always_inline)) void ra__prefetch_ahead(const ra_ring *r, uint64_t end)
{
    if (r->flags & RA_RING_BACKPRESSURE)
        ra__prefetch_at(r->data, r->mask, end + RA__PREFETCH, r->pfw, r->consumed + r->capacity);
    else
        __builtin_prefetch(r->data + ((end + RA__PREFETCH) & r->mask), 1, 3);
}

static inline __attribute__((always_inline)) void *ra__reserve(ra_ring *r, uint32_t max_len)
{
    ra__ring_ctl *ctl = r->ctl;
    if (__builtin_expect(max_len > r->max_msg, 0)) {
        /* relaxed: a counter, no ordering */
        atomic_fetch_add_explicit(&ctl->too_big, 1, memory_order_relaxed);
        r->reserved = false;
        return NULL;
    }
    uint64_t size = ra__rec_size(max_len);
    uint64_t pos = RA__OWN(tail);
    uint64_t to_end = r->capacity - (pos & r->mask);
    uint64_t rec_pos = size <= to_end ? pos : pos + to_end; /* wrap: pad or skip to the start */
    uint64_t end = rec_pos + size;

    if (r->flags & RA_RING_BACKPRESSURE) {
        if (end - r->consumed > r->capacity) {
            /* acquire: the consumer is done with the bytes below `consumed` */
            r->consumed = atomic_load_explicit(&ctl->consumed, memory_order_acquire);
            if (end - r->consumed > r->capacity) {
                /* relaxed: a counter */
                atomic_fetch_add_explicit(&ctl->full, 1, memory_order_relaxed);
                r->reserved = false;
                return NULL;
            }
        }
    } else {
        ra__claim(r, ctl, end, pos);
    }
    /* The line a few records ahead is both the next one retire reads (the oldest record's
     * header) and the next one this producer writes: fetch it for writing now, so neither the
     * retire load nor the stores wait on memory when the ring is larger than the caches. */
    ra__prefetch_ahead(r, end);
    if (rec_pos != pos && to_end >= RA_RING_HDR_SIZE) {
        /* head and tail are less than a capacity apart: at most two pads lie between them */
        r->pad_pos[r->pad_idx] = pos;
        r->pad_idx ^= 1;
        ra__hdr_store(r->data + (pos & r->mask), (uint32_t)(to_end - RA_RING_HDR_SIZE), 0,
                      RA__F_PAD, 0, 0);
    }
    r->resv_pos = rec_pos;
    r->resv_max = max_len;
    r->reserved = true;
    return r->data + (rec_pos & r->mask) + RA_RING_HDR_SIZE;
}

/* Publishes the record at pos whose payload is in place (no checks: callers validated it). */
static inline __attribute__((always_inline)) uint64_t ra__publish(ra_ring *r, ra__ring_ctl *ctl,
                                                                  uint64_t pos, uint32_t len,
                                                                  uint16_t type, uint64_t ts_ns)
{
    uint64_t seq = RA__OWN(next_seq);
    ra__hdr_store(r->data + (pos & r->mask), len, type, 0, seq, ts_ns);
    uint64_t bytes = RA__OWN(published_bytes) + len;
    /* release: a reader resolving NEWEST/NEXT reads the record at last_pos */
    atomic_store_explicit(&ctl->last_pos, pos, memory_order_release);
    /* release: publishes the record's header and payload to readers that acquire tail */
    atomic_store_explicit(&ctl->tail, pos + ra__rec_size(len), memory_order_release);
    /* relaxed: statistics */
    atomic_store_explicit(&ctl->next_seq, seq + 1, memory_order_relaxed);
    atomic_store_explicit(&ctl->published_bytes, bytes, memory_order_relaxed);
    return seq;
}

RA_API void *ra_ring_reserve(ra_ring *r, uint32_t max_len)
{
    return ra__reserve(r, max_len);
}

RA_API uint64_t ra_ring_commit(ra_ring *r, uint32_t len, uint16_t type, uint64_t ts_ns)
{
    if (__builtin_expect(!r->reserved || len > r->resv_max, 0)) return UINT64_MAX;
    r->reserved = false;
    return ra__publish(r, r->ctl, r->resv_pos, len, type, ts_ns);
}

/* Copies a payload of at most RA__INLINE_MAX bytes (most ticks) into the ring with overlapping
 * unaligned moves held in registers: two stores up to 32 bytes, four up to 64. The fast path of
 * write makes no call and needs no callee-saved registers; larger payloads go to memcpy. */
#define RA__INLINE_MAX 64u
_Static_assert(RA_RING_MIN_CAPACITY / 4 - RA_RING_HDR_SIZE >= RA__INLINE_MAX,
               "every ring takes inline-sized payloads");
typedef unsigned char ra__v16 __attribute__((vector_size(16)));

static inline __attribute__((always_inline)) void ra__copy_small(unsigned char *d,
                                                                 const unsigned char *s, uint32_t n)
{
    if (n >= 16) {
        ra__v16 a, b, c, e;
        memcpy(&a, s, 16);
        memcpy(&e, s + n - 16, 16);
        if (n > 32) {
            memcpy(&b, s + 16, 16);
            memcpy(&c, s + n - 32, 16);
            memcpy(d + 16, &b, 16);
            memcpy(d + n - 32, &c, 16);
        }
        memcpy(d, &a, 16);
        memcpy(d + n - 16, &e, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        unsigned char a = s[0], b = s[n >> 1], c = s[n - 1];
        d[0] = a;
        d[n >> 1] = b;
        d[n - 1] = c;
    }
}

/* The general path of write: large payloads, wrap (padding), backpressure, refusals, an open
 * reservation (which the write replaces), bad arguments. */
__attribute__((noinline)) static int ra__write_slow(ra_ring *r, uint16_t type, uint64_t ts_ns,
                                                    const void *p, uint32_t len)
{
    if (!p && len) return RA_EINVAL;
    void *dst = ra__reserve(r, len);
    if (!dst) return len > r->max_msg ? RA_ETOOBIG : RA_EFULL;
    if (len) memcpy(dst, p, len);
    r->reserved = false;
    ra__publish(r, r->ctl, r->resv_pos, len, type, ts_ns);
    return RA_OK;
}

/* The fast path of write: a payload of at most RA__INLINE_MAX bytes that fits before the end of
 * the data and, in backpressure mode, below the consumer's last known position. It is
 * ra__reserve + copy + ra__publish with the cases that cannot happen here taken out; everything
 * else takes ra__write_slow. */
RA_API int ra_ring_write(ra_ring *r, uint16_t type, uint64_t ts_ns, const void *p, uint32_t len)
{
    ra__ring_ctl *ctl = r->ctl;
    uint64_t pos = RA__OWN(tail), size = ra__rec_size(len);
    uint64_t off = pos & r->mask, end = pos + size;
    if (__builtin_expect(len > RA__INLINE_MAX || !p || size > r->capacity - off || r->reserved, 0))
        return ra__write_slow(r, type, ts_ns, p, len);
    if (r->flags & RA_RING_BACKPRESSURE) {
        if (__builtin_expect(end - r->consumed > r->capacity, 0))
            return ra__write_slow(r, type, ts_ns, p, len); /* reloads consumed, or refuses */
    } else {
        uint64_t head = RA__OWN(head);
        /* more than one record to retire, or padding around: the general path */
        if (end - head > r->capacity && !ra__retire_one(r, ctl, end, head))
            return ra__write_slow(r, type, ts_ns, p, len);
        ra__intent(ctl, end);
    }
    ra__prefetch_ahead(r, end);
    ra__copy_small(r->data + off + RA_RING_HDR_SIZE, p, len);
    ra__publish(r, ctl, pos, len, type, ts_ns);
    return RA_OK;
}

/* As ra__copy_small for 16 <= n <= 48, without a branch on n: three 16-byte moves, the middle
 * one at 16 from 32 bytes up and on the last 16 bytes below (where it repeats that move). Feeds
 * mix lengths on both sides of 32 bytes (ITCH: 19 to 50), where the n > 32 branch of
 * ra__copy_small mispredicts. */
static inline __attribute__((always_inline)) void ra__copy_16_48(unsigned char *d,
                                                                 const unsigned char *s, uint32_t n)
{
    uint32_t mid = n >= 32 ? 16u : n - 16u;
    ra__v16 a, b, e;
    memcpy(&a, s, 16);
    memcpy(&b, s + mid, 16);
    memcpy(&e, s + n - 16, 16);
    memcpy(d, &a, 16);
    memcpy(d + mid, &b, 16);
    memcpy(d + n - 16, &e, 16);
}

/* Copies n bytes into the ring: inline moves up to RA__INLINE_MAX, memcpy above. */
static inline __attribute__((always_inline)) void ra__copy_in(unsigned char *d, const void *s,
                                                              uint32_t n)
{
    if (__builtin_expect(n - 16u <= 32u, 1))
        ra__copy_16_48(d, s, n);
    else if (n <= RA__INLINE_MAX)
        ra__copy_small(d, s, n);
    else
        memcpy(d, s, n);
}

/* True when a batch message can be written at all (the checks ra_ring_write makes); lim is
 * max_msg - pre_len (pre_len <= max_msg). */
static inline bool ra__batch_ok(const ra_wmsg *m, uint32_t lim)
{
    return m->len <= lim && (m->data || !m->len);
}

/* Retiring for a batch run: ra__retire's loop for the common case (real records, no padding
 * met, none at the end), inline and with one load per record, so that the chain of header loads
 * it follows runs at L1 latency. Anything else goes to ra__retire from the start. */
static inline __attribute__((always_inline)) void ra__claim_run(ra_ring *r, ra__ring_ctl *ctl,
                                                                uint64_t end, uint64_t tail)
{
    const uint64_t cap = r->capacity, mask = r->mask;
    const uint64_t head = RA__OWN(head);
    if (end - head > cap) {
        const unsigned char *data = r->data;
        /* records lie one after another up to the end of the data; the walk stops there */
        const uint64_t stop = head + (cap - (head & mask));
        uint64_t h = head, n = 0, bytes = 0;
        bool odd = false;
        do {
            uint64_t w;
            memcpy(&w, data + (h & mask), sizeof w); /* len, type, flags */
            odd |= ((w >> 48) & RA__F_PAD) != 0;
            h += ra__rec_size((uint32_t)w);
            bytes += (uint32_t)w;
            n++;
        } while (h < stop && end - h > cap);
        /* the record left at h must be real, and no padding or implicit skip was crossed */
        if (odd || h >= stop || stop - h < RA_RING_HDR_SIZE || h == r->pad_pos[0] ||
            h == r->pad_pos[1]) {
            ra__retire(r, ctl, end, head, tail);
        } else {
            /* release: as in ra__retire */
            atomic_store_explicit(&ctl->head, h, memory_order_release);
            /* relaxed: statistics */
            atomic_store_explicit(&ctl->head_seq, RA__OWN(head_seq) + n, memory_order_relaxed);
            atomic_store_explicit(&ctl->overwritten_bytes, RA__OWN(overwritten_bytes) + bytes,
                                  memory_order_relaxed);
        }
    }
    ra__intent(ctl, end);
}

typedef struct ra__run_out {
    uint64_t seq, bytes, last; /* next seq, published bytes, start of the last record */
} ra__run_out;

/* Writes the records of one run, [pos, ...) with no wrap, from data's and the messages' values
 * held in locals (stores into the ring could alias r and msgs as far as the compiler knows).
 * Inlined with pre_len a constant in the common cases. */
static inline __attribute__((always_inline)) void ra__write_run(unsigned char *data, uint64_t mask,
                                                                const ra_wmsg *m, size_t cnt,
                                                                uint64_t pos, const void *pre,
                                                                uint32_t pre_len, ra__run_out *o)
{
    uint64_t seq = o->seq, bytes = o->bytes, last = pos, pv = 0;
    if (pre_len == 8) memcpy(&pv, pre, 8);
    unsigned char *d = data + (pos & mask);
    for (size_t k = 0; k < cnt; k++) {
        const unsigned char *src = m[k].data;
        uint32_t len = m[k].len, plen = pre_len + len;
        uint16_t type = m[k].type;
        uint64_t ts = m[k].ts_ns;
        /* as in write: the line ahead is the next retire load and the next stores */
        __builtin_prefetch(data + ((pos + RA__PREFETCH) & mask), 1, 3);
        ra__hdr_store(d, plen, type, 0, seq++, ts);
        if (pre_len == 8)
            memcpy(d + RA_RING_HDR_SIZE, &pv, 8);
        else if (pre_len)
            ra__copy_in(d + RA_RING_HDR_SIZE, pre, pre_len);
        if (len) ra__copy_in(d + RA_RING_HDR_SIZE + pre_len, src, len);
        bytes += plen;
        last = pos;
        uint64_t size = ra__rec_size(plen);
        pos += size;
        d += size;
    }
    o->seq = seq;
    o->bytes = bytes;
    o->last = last;
}

/* How far a run that ends at *end may grow: msgs[j..) while they can be written at all (a message
 * that cannot ends the run; the next turn refuses it) and fit below limit. Its own function, so
 * that j and end stay in registers (inline in ra_ring_write_batch, they were spilled and every
 * message waited on a store-to-load forward).
 * @return the end of the run (index); *end is moved past its records. */
__attribute__((noinline)) static size_t ra__run_extend(const ra_wmsg *msgs, size_t j, size_t n,
                                                       uint32_t lim, uint32_t pre_len,
                                                       uint64_t limit, uint64_t *endp)
{
    uint64_t end = *endp;
    for (; j < n && ra__batch_ok(&msgs[j], lim); j++) {
        uint64_t s = ra__rec_size(pre_len + msgs[j].len);
        if (s > limit - end) break;
        end += s;
    }
    *endp = end;
    return j;
}

/* Batch writes go in runs: records that lie one after another below the end of the data and
 * span at most a quarter of the capacity (the bound of one record, so that retiring for a run
 * never reaches the last committed record: the argument of ra_ring_create holds unchanged). A
 * run is claimed once (retire, intent), written, and published with one tail store. */
RA_API int ra_ring_write_batch(ra_ring *r, const ra_wmsg *msgs, size_t n, const void *pre,
                               uint32_t pre_len, size_t *written)
{
    size_t i = 0;
    int rc = RA_OK;
    if ((!msgs && n) || (!pre && pre_len)) {
        rc = RA_EINVAL;
        goto out;
    }
    r->reserved = false; /* a write abandons an open reservation */
    ra__ring_ctl *ctl = r->ctl;
    const uint64_t cap = r->capacity, mask = r->mask, quarter = cap / 4;
    const bool bp = (r->flags & RA_RING_BACKPRESSURE) != 0;
    /* a prefix alone too big: every message is */
    const uint32_t lim = pre_len <= r->max_msg ? r->max_msg - pre_len : 0;
    const bool pre_fits = pre_len <= r->max_msg;
    while (i < n) {
        if (!pre_fits || !ra__batch_ok(&msgs[i], lim)) {
            if (!msgs[i].data && msgs[i].len) {
                rc = RA_EINVAL;
            } else {
                /* relaxed: a counter, no ordering */
                atomic_fetch_add_explicit(&ctl->too_big, 1, memory_order_relaxed);
                rc = RA_ETOOBIG;
            }
            goto out;
        }
        uint64_t pos = RA__OWN(tail), to_end = cap - (pos & mask);
        uint64_t size = ra__rec_size(pre_len + msgs[i].len);
        uint64_t rec_pos = size <= to_end ? pos : pos + to_end; /* wrap: pad or skip */
        uint64_t room = cap - (rec_pos & mask);                 /* to the end of the data */
        uint64_t limit = rec_pos + (room < quarter ? room : quarter);
        if (bp) {
            if (limit - r->consumed > cap)
                /* acquire: the consumer is done with the bytes below `consumed` */
                r->consumed = atomic_load_explicit(&ctl->consumed, memory_order_acquire);
            uint64_t free_end = r->consumed + cap;
            if (free_end < limit) limit = free_end;
            if (rec_pos + size > limit) {
                /* relaxed: a counter */
                atomic_fetch_add_explicit(&ctl->full, 1, memory_order_relaxed);
                rc = RA_EFULL;
                goto out;
            }
        }
        /* the run: msgs[i..j) at [rec_pos, end) */
        uint64_t end = rec_pos + size;
        size_t j = ra__run_extend(msgs, i + 1, n, lim, pre_len, limit, &end);
        if (!bp) ra__claim_run(r, ctl, end, pos);
        if (rec_pos != pos && to_end >= RA_RING_HDR_SIZE) {
            r->pad_pos[r->pad_idx] = pos;
            r->pad_idx ^= 1;
            ra__hdr_store(r->data + (pos & mask), (uint32_t)(to_end - RA_RING_HDR_SIZE), 0,
                          RA__F_PAD, 0, 0);
        }
        ra__run_out o = {.seq = RA__OWN(next_seq), .bytes = RA__OWN(published_bytes)};
        /* specialised for the common prefixes: none, and one 8-byte word (a stamp) */
        if (pre_len == 0)
            ra__write_run(r->data, mask, msgs + i, j - i, rec_pos, NULL, 0, &o);
        else if (pre_len == 8)
            ra__write_run(r->data, mask, msgs + i, j - i, rec_pos, pre, 8, &o);
        else
            ra__write_run(r->data, mask, msgs + i, j - i, rec_pos, pre, pre_len, &o);
        uint64_t seq = o.seq, bytes = o.bytes, last = o.last;
        /* release: a reader resolving NEWEST/NEXT reads the record at last_pos */
        atomic_store_explicit(&ctl->last_pos, last, memory_order_release);
        /* release: publishes the run's headers and payloads to readers that acquire tail */
        atomic_store_explicit(&ctl->tail, end, memory_order_release);
        /* relaxed: statistics */
        atomic_store_explicit(&ctl->next_seq, seq, memory_order_relaxed);
        atomic_store_explicit(&ctl->published_bytes, bytes, memory_order_relaxed);
        i = j;
    }
out:
    if (written) *written = i;
    return rc;
}

/* ---- readers --------------------------------------------------------------------------------- */

/* True when the bytes at and after `pos` may have been rewritten (the reader was lapped).
 * Called after copying: the acquire fence pairs with the producer's release fence. */
static inline bool ra__lapped(const ra_reader *rd, uint64_t pos)
{
    if (rd->consumer) return false; /* backpressure: the producer never passes the consumer */
    /* acquire fence: the intent load below cannot be satisfied before the copy above */
    atomic_thread_fence(memory_order_acquire);
    /* relaxed: ordered by the fence above */
    uint64_t intent = atomic_load_explicit(&rd->ring->ctl->intent, memory_order_relaxed);
    return intent > pos + rd->ring->capacity;
}

/* Backpressure consumer: hands room back to the producer. */
static inline void ra__release(ra_reader *rd)
{
    if (!rd->consumer || rd->released == rd->cursor) return;
    rd->released = rd->cursor;
    /* relaxed: read with the position below; only the producer reads them */
    atomic_store_explicit(&rd->ring->ctl->consumed_seq, rd->expect_seq, memory_order_relaxed);
    /* release: the producer may reuse the bytes below cursor only after we are done with them */
    atomic_store_explicit(&rd->ring->ctl->consumed, rd->cursor, memory_order_release);
}

/* Reads the record at pos (its seq must be validated by the caller with ra__lapped).
 * @return false when pos holds no real record (padding): *skip is how far to move. */
static inline bool ra__hdr_at(const ra_reader *rd, uint64_t pos, ra__rec *h, uint64_t *skip)
{
    uint64_t off = pos & rd->mask, to_end = rd->mask + 1 - off;
    if (to_end < RA_RING_HDR_SIZE) {
        *skip = to_end;
        return false;
    }
    ra__racy_copy(h, rd->data + off, sizeof *h);
    if (h->flags & RA__F_PAD) {
        *skip = to_end;
        return false;
    }
    return true;
}

/* Finds a valid record at or after `pos` (skipping padding) and its seq. Used by resync.
 * @return false when the bytes were rewritten meanwhile (the caller retries). */
static bool ra__locate(const ra_reader *rd, uint64_t *pos, uint64_t *seq)
{
    ra__rec h;
    uint64_t p = *pos, skip;
    for (int i = 0; i < 3; i++) {
        bool real = ra__hdr_at(rd, p, &h, &skip);
        if (ra__lapped(rd, p)) return false;
        if (real) {
            *pos = p;
            *seq = h.seq;
            return true;
        }
        p += skip;
    }
    return false;
}

/* Moves a lapped reader to the oldest intact record (or the newest), counting what it skipped. */
static void ra__resync(ra_reader *rd, enum ra_start where)
{
    const ra__ring_ctl *ctl = rd->ring->ctl;
    for (;;) {
        uint64_t pos, seq;
        if (where == RA_START_NEWEST) /* acquire: pairs with the producer's release of last_pos */
            pos = atomic_load_explicit(&ctl->last_pos, memory_order_acquire);
        else
            /* acquire: pairs with the producer's release of head */
            pos = atomic_load_explicit(&ctl->head, memory_order_acquire);
        /* acquire, after the position: then tail > pos, and the cursor never passes cached_tail */
        uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
        if (tail == 0) { /* nothing published yet */
            pos = 0;
            seq = 0;
        } else if (!ra__locate(rd, &pos, &seq)) {
            continue; /* overwritten while we looked: the producer moved on, look again */
        }
        if (seq > rd->expect_seq) rd->lost += seq - rd->expect_seq;
        rd->expect_seq = seq;
        rd->cursor = pos;
        rd->cached_tail = tail;
        rd->pending = 0;
        return;
    }
}

/* The reader's cursor was found rewritten. Usually messages were lost; but when the cursor sat on
 * a padding record, the message after it may still be intact, which is no lap at all.
 * @return true (count a lap: RA_LAPPED) or false (nothing lost, carry on reading). */
static bool ra__lap(ra_reader *rd)
{
    uint64_t expect = rd->expect_seq, lost = rd->lost;
    ra__resync(rd, RA_START_OLDEST);
    if (rd->expect_seq == expect) return false;
    if (rd->resume == RA_START_NEWEST) {
        rd->expect_seq = expect;
        rd->lost = lost;
        ra__resync(rd, RA_START_NEWEST);
    }
    rd->laps++;
    return true;
}

RA_API int ra_reader_init(ra_reader *rd, const ra_ring *r, enum ra_start start)
{
    if (!rd || !r || (unsigned)start > RA_START_NEXT) return RA_EINVAL;
    memset(rd, 0, sizeof *rd);
    rd->ring = r;
    rd->data = r->data;
    rd->mask = r->mask;
    rd->resume = RA_START_OLDEST;
    ra__ring_ctl *ctl = r->ctl;
    if (r->flags & RA_RING_BACKPRESSURE) {
        uint32_t expected = 0;
        /* acq_rel: one consumer at a time; acquire sees the previous consumer's position */
        if (!atomic_compare_exchange_strong_explicit(&ctl->attached, &expected, 1,
                                                     memory_order_acq_rel, memory_order_acquire))
            return RA_EINVAL;
        rd->consumer = 1;
        /* acquire: pairs with the previous consumer's release */
        rd->cursor = atomic_load_explicit(&ctl->consumed, memory_order_acquire);
        /* relaxed: written together with consumed, ordered by the acquire above */
        rd->expect_seq = atomic_load_explicit(&ctl->consumed_seq, memory_order_relaxed);
        rd->released = rd->cursor;
        if (start != RA_START_OLDEST) {
            ra__resync(rd, RA_START_NEWEST);
            if (start == RA_START_NEXT) {
                /* acquire: publishes the records up to tail */
                uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
                while (rd->cursor < tail) { /* skip what is there, without delivering */
                    ra__rec h;
                    uint64_t skip;
                    if (ra__hdr_at(rd, rd->cursor, &h, &skip)) {
                        rd->cursor += ra__rec_size(h.len);
                        rd->expect_seq = h.seq + 1;
                    } else {
                        rd->cursor += skip;
                    }
                }
            }
            rd->lost = 0;
            ra__release(rd);
        }
    } else if (start == RA_START_NEXT) {
        for (;;) { /* step over the newest record; retry if it is overwritten meanwhile */
            /* acquire: the record at last_pos is visible once tail covers it */
            uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
            if (tail == 0) break; /* nothing published: cursor 0, seq 0 */
            /* acquire: pairs with the producer's release of last_pos */
            uint64_t pos = atomic_load_explicit(&ctl->last_pos, memory_order_acquire);
            ra__rec h;
            uint64_t skip;
            bool real = ra__hdr_at(rd, pos, &h, &skip);
            if (ra__lapped(rd, pos) || !real) continue;
            rd->cursor = pos + ra__rec_size(h.len);
            rd->expect_seq = h.seq + 1;
            break;
        }
    } else {
        ra__resync(rd, start);
        rd->lost = 0;
    }
    rd->start_seq = rd->expect_seq;
    rd->cached_tail = rd->cursor;
    return RA_OK;
}

RA_API void ra_reader_detach(ra_reader *rd)
{
    if (!rd || !rd->consumer) return;
    ra__release(rd);
    rd->consumer = 0;
    /* release: the next consumer sees our final position */
    atomic_store_explicit(&rd->ring->ctl->attached, 0, memory_order_release);
}

RA_API int ra_reader_set_resume(ra_reader *rd, enum ra_start where)
{
    if (!rd || (where != RA_START_OLDEST && where != RA_START_NEWEST)) return RA_EINVAL;
    rd->resume = where;
    return RA_OK;
}

/* Common front half of read and peek: finds the next record and validates its header.
 * @return RA_OK with *h and *pos set, RA_EMPTY, RA_LAPPED, or RA_ECORRUPT. */
static inline int ra__next(ra_reader *rd, ra__rec *h, uint64_t *pos)
{
    for (;;) {
        uint64_t p = rd->cursor;
        if (p >= rd->cached_tail) {
            /* acquire: records below tail are complete and visible */
            rd->cached_tail = atomic_load_explicit(&rd->ring->ctl->tail, memory_order_acquire);
            if (p >= rd->cached_tail) {
                ra__release(rd);
                return RA_EMPTY;
            }
        }
        uint64_t skip;
        bool real = ra__hdr_at(rd, p, h, &skip);
        if (!real) {
            if (ra__lapped(rd, p)) goto lapped;
            rd->cursor = p + skip;
            continue;
        }
        uint64_t off = p & rd->mask;
        if (__builtin_expect(h->len > rd->ring->max_msg ||
                                 off + RA_RING_HDR_SIZE + h->len > rd->mask + 1 ||
                                 h->seq != rd->expect_seq,
                             0)) {
            if (ra__lapped(rd, p)) goto lapped;
            return RA_ECORRUPT;
        }
        *pos = p;
        return RA_OK;
    lapped:
        if (ra__lap(rd)) return RA_LAPPED;
    }
}

static inline void ra__consume(ra_reader *rd, uint64_t pos, uint32_t len)
{
    rd->cursor = pos + ra__rec_size(len);
    rd->expect_seq++;
    rd->read++;
    if (rd->consumer && rd->cursor - rd->released >= (rd->mask + 1) / 4) ra__release(rd);
}

RA_API int ra_reader_read(ra_reader *rd, void *buf, size_t cap, ra_msg *m)
{
    ra__rec h;
    uint64_t pos;
    rd->pending = 0;
    for (;;) {
        int rc = ra__next(rd, &h, &pos);
        if (rc != RA_OK) return rc;
        if (h.len > cap) {
            if (!ra__lapped(rd, pos)) {
                m->len = h.len;
                return RA_ETOOBIG;
            }
        } else {
            ra__racy_copy(buf, rd->data + (pos & rd->mask) + RA_RING_HDR_SIZE, h.len);
            if (!ra__lapped(rd, pos)) break;
        }
        if (ra__lap(rd)) return RA_LAPPED;
    }
    m->seq = h.seq;
    m->ts_ns = h.ts_ns;
    m->data = buf;
    m->len = h.len;
    m->type = h.type;
    ra__consume(rd, pos, h.len);
    return RA_OK;
}

/* Front half of peek and poll: the next record, its header found intact.
 * @return RA_OK with *h and *pos set, or what ra__next or a lap gives. */
static inline int ra__peek_rec(ra_reader *rd, ra__rec *h, uint64_t *pos)
{
    for (;;) {
        int rc = ra__next(rd, h, pos);
        if (rc != RA_OK) return rc;
        if (!ra__lapped(rd, *pos))
            return RA_OK; /* the header must be intact before we hand it out */
        if (ra__lap(rd)) return RA_LAPPED;
    }
}

/* A message handed in place: the payload stays in the ring. */
static inline void ra__msg_in_place(const ra_reader *rd, const ra__rec *h, uint64_t pos, ra_msg *m)
{
    m->seq = h->seq;
    m->ts_ns = h->ts_ns;
    m->data = rd->data + (pos & rd->mask) + RA_RING_HDR_SIZE;
    m->len = h->len;
    m->type = h->type;
}

/* Back half of advance and poll, after the caller is done with the record at pos.
 * @return false when it was rewritten meanwhile (counted as lost, a lap). */
static inline bool ra__finish_rec(ra_reader *rd, uint64_t pos, uint32_t len)
{
    if (ra__lapped(rd, pos)) {
        /* a real record was rewritten: head has passed it, so ra__lap always counts a loss */
        (void)ra__lap(rd);
        return false;
    }
    ra__consume(rd, pos, len);
    return true;
}

RA_API int ra_reader_peek(ra_reader *rd, ra_msg *m)
{
    ra__rec h;
    uint64_t pos;
    rd->pending = 0;
    int rc = ra__peek_rec(rd, &h, &pos);
    if (rc != RA_OK) return rc;
    rd->cursor = pos;
    rd->pending = ra__rec_size(h.len);
    ra__msg_in_place(rd, &h, pos, m);
    return RA_OK;
}

RA_API int ra_reader_advance(ra_reader *rd)
{
    if (!rd->pending) return RA_EINVAL;
    uint64_t pos = rd->cursor, size = rd->pending;
    rd->pending = 0;
    return ra__finish_rec(rd, pos, (uint32_t)(size - RA_RING_HDR_SIZE)) ? RA_OK : RA_LAPPED;
}

/* One step of poll the general way: peek + fn + advance. @return false: the poll ends. */
static inline bool ra__poll_one(ra_reader *rd, ra_handler fn, void *ctx)
{
    ra__rec h;
    uint64_t pos;
    ra_msg m;
    if (ra__peek_rec(rd, &h, &pos) != RA_OK) return false;
    ra__msg_in_place(rd, &h, pos, &m);
    fn(&m, ctx);
    return ra__finish_rec(rd, pos, h.len);
}

RA_API size_t ra_reader_poll(ra_reader *rd, ra_handler fn, void *ctx, size_t max_msgs)
{
    /* The common case runs with the reader's position, sequence and cached tail in locals (fn is
     * an opaque call, so fields in *rd would be stored and reloaded around every message): a real
     * record below the cached tail, intact before and after fn. Anything else (refresh of tail,
     * padding, the end of the data, a lap, a record that fails its checks) writes the locals back
     * and takes one step of the general path, peek + fn + advance, which handles it exactly as
     * ra_reader_peek/advance do; the fast loop then resumes from the reader's new state. */
    size_t n = 0;
    rd->pending = 0; /* like read, poll ends any outstanding peek */
    const unsigned char *const data = rd->data;
    const uint64_t mask = rd->mask, cap = mask + 1;
    const uint32_t max_msg = rd->ring->max_msg;
    const _Atomic uint64_t *const intent = &rd->ring->ctl->intent;
    const bool consumer = rd->consumer != 0;
    while (n < max_msgs) {
        uint64_t cur = rd->cursor, seq = rd->expect_seq, tail = rd->cached_tail;
        size_t got = 0;
        bool general = true;
        while (n + got < max_msgs && cur < tail) {
            const uint64_t off = cur & mask;
            if (cap - off < RA_RING_HDR_SIZE) break;
            ra__rec h;
            ra__racy_copy(&h, data + off, sizeof h);
            if ((h.flags & RA__F_PAD) || h.len > max_msg || off + RA_RING_HDR_SIZE + h.len > cap ||
                h.seq != seq)
                break;
            if (!consumer) {
                /* as ra__lapped: the header must be intact before it is handed out */
                atomic_thread_fence(memory_order_acquire);
                /* relaxed: ordered by the fence above */
                if (atomic_load_explicit(intent, memory_order_relaxed) > cur + cap) break;
            }
            ra_msg m = {.seq = h.seq,
                        .ts_ns = h.ts_ns,
                        .data = data + off + RA_RING_HDR_SIZE,
                        .len = h.len,
                        .type = h.type};
            fn(&m, ctx);
            if (!consumer) {
                atomic_thread_fence(memory_order_acquire);
                /* relaxed: ordered by the fence above */
                if (atomic_load_explicit(intent, memory_order_relaxed) > cur + cap) {
                    /* rewritten while fn used it: the general back half counts the loss */
                    rd->cursor = cur;
                    rd->expect_seq = seq;
                    rd->read += got;
                    (void)ra__finish_rec(rd, cur, h.len);
                    ra__release(rd);
                    return n + got;
                }
            }
            cur += ra__rec_size(h.len);
            seq++;
            got++;
            if (consumer && cur - rd->released >= cap / 4) {
                rd->cursor = cur;
                rd->expect_seq = seq;
                ra__release(rd);
            }
        }
        if (n + got >= max_msgs) general = false;
        rd->cursor = cur;
        rd->expect_seq = seq;
        rd->read += got;
        n += got;
        if (general) {
            if (!ra__poll_one(rd, fn, ctx)) break;
            n++;
        }
    }
    ra__release(rd);
    return n;
}

RA_API void ra_msg_copy(void *dst, const ra_msg *m)
{
    ra__racy_copy(dst, m->data, m->len);
}

/* ---- statistics ------------------------------------------------------------------------------ */

RA_API void ra_ring_get_stats(const ra_ring *r, ra_ring_stats *s)
{
    const ra__ring_ctl *c = r->ctl;
    memset(s, 0, sizeof *s);
    /* relaxed throughout: independent counters, each read atomically */
    s->next_seq = atomic_load_explicit(&c->next_seq, memory_order_relaxed);
    s->published = s->next_seq;
    s->published_bytes = atomic_load_explicit(&c->published_bytes, memory_order_relaxed);
    s->too_big = atomic_load_explicit(&c->too_big, memory_order_relaxed);
    s->full = atomic_load_explicit(&c->full, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    if (r->flags & RA_RING_BACKPRESSURE) {
        s->oldest_seq = atomic_load_explicit(&c->consumed_seq, memory_order_relaxed);
        uint64_t consumed = atomic_load_explicit(&c->consumed, memory_order_relaxed);
        s->used_bytes = tail >= consumed ? tail - consumed : 0;
    } else {
        s->overwritten = atomic_load_explicit(&c->head_seq, memory_order_relaxed);
        s->overwritten_bytes = atomic_load_explicit(&c->overwritten_bytes, memory_order_relaxed);
        s->oldest_seq = s->overwritten;
        uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
        s->used_bytes = tail >= head ? tail - head : 0;
    }
    s->capacity = r->capacity;
    s->hugepages = r->hugepages;
}

RA_API void ra_reader_get_stats(const ra_reader *rd, ra_reader_stats *s)
{
    s->read = rd->read;
    s->lost = rd->lost;
    s->laps = rd->laps;
}
