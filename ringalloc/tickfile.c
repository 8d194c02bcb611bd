/* tickfile.c - native tick file (.rtk, .rtk.zst): streaming decoder, file reader and writer */

/*
 * Design notes
 * ------------
 * Format (docs/tickfile.md has every byte): a file header (64 fixed bytes, the source's names,
 * the stream table, a CRC-32C), then records of a 32-byte header (len, type, kind, stream,
 * check, seq, ts) and the payload, each padded to 8 bytes, closed by an end record. The whole
 * stream may be zstd-compressed; the writer ends a frame every `frame_bytes` at a record
 * boundary, so a file cut after any frame decodes as a clean prefix.
 *
 * Decoder: the caller pushes chunks and pulls records. The "span" is the run of .rtk bytes not
 * yet parsed: the caller's chunk itself (plain input, nothing copied) or the decompression
 * buffer (zstd, filled by ZSTD_decompressStream from the caller's chunk). A record wholly inside
 * the span is handed out in place. A record (or the file header) that straddles the end of the
 * span is gathered in the carry buffer: ra__take(n) returns n contiguous bytes of the item that
 * starts at `pos`, from the span when it holds them and the carry is empty, else by copying
 * span bytes into the carry (refilling the span from zstd as needed) until it holds n. The
 * carry never holds more than the item being parsed, so consuming an item is either
 * `carry_len = 0` or `sp_pos += size`; parsing is stateless between calls (a record header is
 * re-read from the carry when the call resumes). The carry grows with the bytes actually
 * gathered, so a forged length costs no memory until the bytes exist.
 *
 * Format detection needs 4 bytes (zstd frame or skippable-frame magic, else plain); pushes
 * shorter than that are gathered in `sniff`, which is then fed first: to zstd, or to the carry.
 *
 * Robustness: every length is checked against a bound before any arithmetic or allocation
 * (header size <= 1 MiB, payload <= the header's max_payload <= 16 MiB, record header size
 * 32..256); the header carries a CRC-32C and each record header a 32-bit check (a multiply-xor
 * mix, ~10 cycles) so that damage in plain files is found at the record it hits rather than as
 * garbage later; zstd content checksums cover compressed files end to end. The end record
 * (record and byte counts) distinguishes a complete file from one cut at a record boundary.
 *
 * Marks (1.1, kind 3) are per-packet sequence records for tools that redo a feed's accounting
 * (replay). ra_tick_decoder_next() checks and skips them; ra_tick_decoder_next_event() hands them
 * out among the data records. They are not data: the end record does not count them.
 *
 * Writer: records are staged in a 256 KiB buffer (header built in place when the record fits)
 * and handed to the sink or to ZSTD_compressStream2 when it fills; the file header is written
 * lazily at the first record so that streams declared before it go into the header's table.
 */

#include "ringalloc/tickfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>
#include <zstd_errors.h>

#define RA__OUT_CAP    RA_TICK_DECODER_OUT_BYTES
#define RA__STAGE_CAP  (256u << 10)
#define RA__READ_CAP   (256u << 10)
#define RA__HDR_MIN    (RA_TICK_HDR_FIXED + 8u)
#define RA__END_LEN    16u
#define RA__WINDOW_LOG 27 /* decoder window limit: 128 MiB (zstd's own default) */

/* ---- little-endian access ------------------------------------------------------------------ */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RA__LE16(x) __builtin_bswap16(x)
#define RA__LE32(x) __builtin_bswap32(x)
#define RA__LE64(x) __builtin_bswap64(x)
#else
#define RA__LE16(x) (x)
#define RA__LE32(x) (x)
#define RA__LE64(x) (x)
#endif

static inline uint16_t ra__ld16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return RA__LE16(v);
}

static inline uint32_t ra__ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return RA__LE32(v);
}

static inline uint64_t ra__ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return RA__LE64(v);
}

static inline void ra__st16(uint8_t *p, uint16_t v)
{
    v = RA__LE16(v);
    memcpy(p, &v, sizeof v);
}

static inline void ra__st32(uint8_t *p, uint32_t v)
{
    v = RA__LE32(v);
    memcpy(p, &v, sizeof v);
}

static inline void ra__st64(uint8_t *p, uint64_t v)
{
    v = RA__LE64(v);
    memcpy(p, &v, sizeof v);
}

static inline uint64_t ra__align8(uint64_t n)
{
    return (n + 7u) & ~(uint64_t)7u;
}

/* ---- checksums ------------------------------------------------------------------------------ */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bitwise: it only covers file headers. */
static uint32_t ra__crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

static inline uint64_t ra__rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64u - r));
}

/* The record header check (docs/tickfile.md, "Record check"). Each word enters through an
 * injective map (xor with a constant, multiply by an odd constant, rotate), so a change confined
 * to one field always changes `h`; the final mix spreads any change of `h` over the 32 bits. */
static inline uint32_t ra__rec_check(const uint8_t *p)
{
    uint64_t a = (ra__ld64(p) ^ 0x52544B3100000000ull) * 0x9E3779B97F4A7C15ull;
    uint64_t b = ((uint64_t)ra__ld32(p + 8) ^ 0x73747265ull) * 0xC2B2AE3D27D4EB4Full;
    uint64_t c = ra__ld64(p + 16) * 0x165667B19E3779F9ull;
    uint64_t e = ra__ld64(p + 24) * 0xD6E8FEB86659FD93ull;
    uint64_t h = a ^ ra__rotl(b, 17) ^ ra__rotl(c, 31) ^ ra__rotl(e, 47);
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

/* ---- stream table (shared by decoder and writer) -------------------------------------------- */

typedef struct ra__streams {
    ra_tick_stream *v;
    size_t n, cap;
    uint32_t *slots; /* open addressing: index + 1 into v, 0 = empty */
    size_t nslots;   /* a power of two, at least twice n */
} ra__streams;

static size_t ra__slot_of(uint32_t id, size_t nslots)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

static long ra__streams_find(const ra__streams *s, uint32_t id)
{
    if (s->nslots == 0) return -1;
    for (size_t i = ra__slot_of(id, s->nslots);; i = (i + 1) & (s->nslots - 1)) {
        uint32_t k = s->slots[i];
        if (k == 0) return -1;
        if (s->v[k - 1].id == id) return (long)(k - 1);
    }
}

/* Adds a copy of desc. @return RA_OK, RA_EINVAL (duplicate id) or RA_ENOMEM. */
static int ra__streams_add(ra__streams *s, uint32_t id, const char *desc, size_t len)
{
    if (ra__streams_find(s, id) >= 0) return RA_EINVAL;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        ra_tick_stream *v = realloc(s->v, cap * sizeof *v);
        if (!v) return RA_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    if ((s->n + 1) * 2 > s->nslots) {
        size_t ns = s->nslots ? s->nslots * 2 : 16;
        uint32_t *sl = calloc(ns, sizeof *sl);
        if (!sl) return RA_ENOMEM;
        for (size_t k = 0; k < s->n; k++) {
            size_t i = ra__slot_of(s->v[k].id, ns);
            while (sl[i]) i = (i + 1) & (ns - 1);
            sl[i] = (uint32_t)(k + 1);
        }
        free(s->slots);
        s->slots = sl;
        s->nslots = ns;
    }
    char *copy = malloc(len + 1);
    if (!copy) return RA_ENOMEM;
    if (len) memcpy(copy, desc, len);
    copy[len] = '\0';
    s->v[s->n] = (ra_tick_stream){.id = id, .desc_len = (uint32_t)len, .desc = copy};
    size_t i = ra__slot_of(id, s->nslots);
    while (s->slots[i]) i = (i + 1) & (s->nslots - 1);
    s->slots[i] = (uint32_t)(s->n + 1);
    s->n++;
    return RA_OK;
}

static void ra__streams_clear(ra__streams *s)
{
    for (size_t k = 0; k < s->n; k++) free((void *)(uintptr_t)s->v[k].desc);
    s->n = 0;
    if (s->slots) memset(s->slots, 0, s->nslots * sizeof *s->slots);
}

static void ra__streams_free(ra__streams *s)
{
    ra__streams_clear(s);
    free(s->v);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- probing -------------------------------------------------------------------------------- */

static bool ra__is_zstd_magic(const uint8_t *p)
{
    uint32_t m = ra__ld32(p);
    return m == RA_TICK_ZSTD_MAGIC || (m & 0xFFFFFFF0u) == 0x184D2A50u; /* or a skippable frame */
}

/* 1 when p[0..n) is a prefix of magic[0..mlen) (n <= mlen). */
static bool ra__prefix_of(const uint8_t *p, size_t n, const uint8_t *magic, size_t mlen)
{
    return n <= mlen && (n == 0 || memcmp(p, magic, n) == 0);
}

static const uint8_t ra__zmagic_bytes[4] = {0x28, 0xB5, 0x2F, 0xFD};

RA_API int ra_tick_probe(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (!p || len == 0) return RA_TICK_PROBE_MORE;
    const uint8_t *magic = (const uint8_t *)RA_TICK_MAGIC;
    if (len >= RA_TICK_MAGIC_LEN && memcmp(p, magic, RA_TICK_MAGIC_LEN) == 0)
        return RA_TICK_PROBE_PLAIN;
    if (len < 4) {
        if (ra__prefix_of(p, len, magic, RA_TICK_MAGIC_LEN) ||
            ra__prefix_of(p, len, ra__zmagic_bytes, 4))
            return RA_TICK_PROBE_MORE;
        return RA_TICK_PROBE_NO;
    }
    if (!ra__is_zstd_magic(p)) {
        return ra__prefix_of(p, len, magic, RA_TICK_MAGIC_LEN) ? RA_TICK_PROBE_MORE
                                                               : RA_TICK_PROBE_NO;
    }
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc) return RA_TICK_PROBE_NO;
    ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, RA__WINDOW_LOG);
    uint8_t head[RA_TICK_MAGIC_LEN];
    ZSTD_outBuffer out = {head, sizeof head, 0};
    ZSTD_inBuffer in = {p, len, 0};
    int res = RA_TICK_PROBE_MORE;
    while (out.pos < out.size) {
        size_t before = in.pos, got = out.pos;
        size_t r = ZSTD_decompressStream(dc, &out, &in);
        if (ZSTD_isError(r)) {
            res = RA_TICK_PROBE_NO;
            break;
        }
        if (in.pos == before && out.pos == got) break; /* needs more input */
    }
    if (res == RA_TICK_PROBE_MORE) {
        if (!ra__prefix_of(head, out.pos, magic, RA_TICK_MAGIC_LEN))
            res = RA_TICK_PROBE_NO;
        else if (out.pos == sizeof head)
            res = RA_TICK_PROBE_ZSTD;
    }
    ZSTD_freeDCtx(dc);
    return res;
}

/* ---- decoder -------------------------------------------------------------------------------- */

enum ra__dstate {
    RA__D_SNIFF,    /* format not known yet: fewer than 4 bytes seen */
    RA__D_HEADER,   /* parsing the file header */
    RA__D_RECORDS,  /* parsing records */
    RA__D_END,      /* the end record was seen; only the rest of the zstd frame may follow */
    RA__D_FINISHED, /* finish() found a clean end */
    RA__D_FAILED,   /* err holds the sticky error */
};

enum ra__mode { RA__M_UNKNOWN, RA__M_PLAIN, RA__M_ZSTD };

struct ra_tick_decoder {
    int state;
    int mode;
    /* span: .rtk bytes not yet parsed (the caller's chunk, or `out`) */
    const uint8_t *sp;
    size_t sp_len, sp_pos;
    /* zstd input: the caller's chunk */
    const uint8_t *in;
    size_t in_len, in_pos;
    /* the first bytes, gathered to detect the format, then fed first */
    uint8_t sniff[4];
    size_t sniff_len, sniff_pos;
    /* zstd */
    ZSTD_DCtx *dctx;
    uint8_t *out;
    bool z_more;        /* the last call filled `out`: more output may be pending */
    bool z_open;        /* inside a frame */
    uint64_t comp_pos;  /* compressed bytes consumed */
    uint64_t frame_pos; /* compressed offset of the current (or next) frame */
    uint64_t frames;
    /* carry: the item at `pos` being gathered */
    uint8_t *carry;
    size_t carry_cap, carry_len;
    uint64_t pos; /* .rtk offset of the next item (the one in the carry, if any) */
    /* file */
    uint32_t rhs;         /* record header size */
    uint32_t max_payload; /* from the header */
    uint64_t records, payload_bytes;
    ra__streams streams;
    char *names; /* format \0 framing \0 creator \0 */
    ra_tick_info info;
    ra_tick_error err;
};

__attribute__((format(printf, 4, 5))) static int ra__fail(ra_tick_decoder *d, int status,
                                                          uint64_t off, const char *fmt, ...)
{
    d->err.status = status;
    d->err.offset = off;
    if (d->mode == RA__M_ZSTD) {
        d->err.comp_offset = d->comp_pos;
        d->err.frame_offset = d->frame_pos;
    } else {
        d->err.comp_offset = RA_TICK_NO_OFFSET;
        d->err.frame_offset = RA_TICK_NO_OFFSET;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err.msg, sizeof d->err.msg, fmt, ap);
    va_end(ap);
    d->state = RA__D_FAILED;
    return status;
}

/* .rtk bytes produced so far (parsed, gathered, or waiting in the span). */
static uint64_t ra__produced(const ra_tick_decoder *d)
{
    return d->pos + d->carry_len + (d->sp_len - d->sp_pos);
}

RA_API int ra_tick_decoder_create(ra_tick_decoder **out)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    ra_tick_decoder *d = calloc(1, sizeof *d);
    if (!d) return RA_ENOMEM;
    ra_tick_decoder_reset(d);
    *out = d;
    return RA_OK;
}

RA_API void ra_tick_decoder_reset(ra_tick_decoder *d)
{
    if (!d) return;
    if (d->dctx) ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_only);
    ra__streams_clear(&d->streams);
    free(d->names);
    d->names = NULL;
    d->state = RA__D_SNIFF;
    d->mode = RA__M_UNKNOWN;
    d->sp = NULL;
    d->sp_len = d->sp_pos = 0;
    d->in = NULL;
    d->in_len = d->in_pos = 0;
    d->sniff_len = d->sniff_pos = 0;
    d->z_more = d->z_open = false;
    d->comp_pos = d->frame_pos = d->frames = 0;
    d->carry_len = 0;
    d->pos = 0;
    d->rhs = 0;
    d->max_payload = 0;
    d->records = d->payload_bytes = 0;
    memset(&d->info, 0, sizeof d->info);
    memset(&d->err, 0, sizeof d->err);
    d->err.comp_offset = d->err.frame_offset = d->err.offset = RA_TICK_NO_OFFSET;
}

RA_API void ra_tick_decoder_destroy(ra_tick_decoder *d)
{
    if (!d) return;
    ZSTD_freeDCtx(d->dctx);
    ra__streams_free(&d->streams);
    free(d->names);
    free(d->out);
    free(d->carry);
    free(d);
}

/* Chooses plain or zstd from the 4 sniffed bytes and queues them for parsing. */
static int ra__start(ra_tick_decoder *d)
{
    if (ra__is_zstd_magic(d->sniff)) {
        d->mode = RA__M_ZSTD;
        if (!d->dctx) {
            d->dctx = ZSTD_createDCtx();
            if (!d->dctx) return ra__fail(d, RA_ENOMEM, 0, "out of memory (zstd context)");
        }
        ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax, RA__WINDOW_LOG);
        if (!d->out) {
            d->out = malloc(RA__OUT_CAP);
            if (!d->out) return ra__fail(d, RA_ENOMEM, 0, "out of memory (zstd buffer)");
        }
        d->sniff_pos = 0;
    } else {
        d->mode = RA__M_PLAIN;
        if (d->carry_cap < 64) {
            uint8_t *c = realloc(d->carry, 64);
            if (!c) return ra__fail(d, RA_ENOMEM, 0, "out of memory");
            d->carry = c;
            d->carry_cap = 64;
        }
        memcpy(d->carry, d->sniff, d->sniff_len); /* the header's first bytes */
        d->carry_len = d->sniff_len;
        d->sniff_pos = d->sniff_len;
    }
    d->state = RA__D_HEADER;
    return RA_OK;
}

RA_API int ra_tick_decoder_push(ra_tick_decoder *d, const void *buf, size_t len)
{
    if (!d) return RA_EINVAL;
    if (d->state == RA__D_FAILED) return d->err.status;
    if (d->state == RA__D_FINISHED) return RA_EINVAL;
    if (len == 0) return RA_OK;
    if (!buf) return RA_EINVAL;
    if (d->sp_pos < d->sp_len || d->in_pos < d->in_len || d->sniff_pos < d->sniff_len || d->z_more)
        return RA_EINVAL; /* the previous chunk is not drained */
    const uint8_t *p = buf;
    if (d->state == RA__D_SNIFF) {
        size_t n = 4 - d->sniff_len;
        if (n > len) n = len;
        memcpy(d->sniff + d->sniff_len, p, n);
        d->sniff_len += n;
        d->sniff_pos = d->sniff_len; /* not queued until the mode is known */
        p += n;
        len -= n;
        if (d->sniff_len < 4) return RA_OK;
        int rc = ra__start(d);
        if (rc != RA_OK) return rc;
    }
    if (d->mode == RA__M_PLAIN) {
        d->sp = p;
        d->sp_len = len;
        d->sp_pos = 0;
    } else {
        d->in = p;
        d->in_len = len;
        d->in_pos = 0;
    }
    return RA_OK;
}

static int ra__zerror(ra_tick_decoder *d, size_t r)
{
    uint64_t off = ra__produced(d);
    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_checksum_wrong:
        return ra__fail(d, RA_ECORRUPT, off, "zstd content checksum mismatch");
    case ZSTD_error_memory_allocation:
        return ra__fail(d, RA_ENOMEM, off, "out of memory (zstd window)");
    case ZSTD_error_frameParameter_windowTooLarge:
        return ra__fail(d, RA_EFORMAT, off, "zstd window larger than 2^%d bytes", RA__WINDOW_LOG);
    case ZSTD_error_version_unsupported:
    case ZSTD_error_frameParameter_unsupported:
    case ZSTD_error_dictionary_wrong:
        return ra__fail(d, RA_EFORMAT, off, "unsupported zstd data: %s", ZSTD_getErrorName(r));
    default:
        return ra__fail(d, RA_ECORRUPT, off, "corrupt zstd data: %s", ZSTD_getErrorName(r));
    }
}

/* Decompresses into `out` and makes it the span. Precondition: the span is used up.
 * @return RA_OK (span refilled), RA_EMPTY (all input used), or an error. */
static int ra__zfill(ra_tick_decoder *d)
{
    for (;;) {
        ZSTD_inBuffer zin = {NULL, 0, 0};
        bool from_sniff = false;
        if (d->sniff_pos < d->sniff_len) {
            zin.src = d->sniff + d->sniff_pos;
            zin.size = d->sniff_len - d->sniff_pos;
            from_sniff = true;
        } else if (d->in_pos < d->in_len) {
            zin.src = d->in + d->in_pos;
            zin.size = d->in_len - d->in_pos;
        } else if (!d->z_more) {
            return RA_EMPTY;
        }
        ZSTD_outBuffer zout = {d->out, RA__OUT_CAP, 0};
        size_t r = ZSTD_decompressStream(d->dctx, &zout, &zin);
        if (ZSTD_isError(r)) {
            /* zin.pos is not reliable after an error: report the end of what was fed, so
             * that the problem lies before comp_offset */
            d->comp_pos += zin.size;
            return ra__zerror(d, r);
        }
        if (from_sniff)
            d->sniff_pos += zin.pos;
        else
            d->in_pos += zin.pos;
        d->comp_pos += zin.pos;
        d->z_more = zout.pos == zout.size;
        if (r == 0) {
            if (d->z_open || zin.pos > 0) d->frames++;
            d->z_open = false;
            d->frame_pos = d->comp_pos;
        } else if (zin.pos > 0) {
            d->z_open = true;
        }
        if (zout.pos > 0) {
            d->sp = d->out;
            d->sp_len = zout.pos;
            d->sp_pos = 0;
            return RA_OK;
        }
    }
}

static int ra__refill(ra_tick_decoder *d)
{
    return d->mode == RA__M_ZSTD ? ra__zfill(d) : RA_EMPTY;
}

static int ra__carry_grow(ra_tick_decoder *d, size_t want)
{
    if (want <= d->carry_cap) return RA_OK;
    size_t cap = d->carry_cap ? d->carry_cap : 256;
    while (cap < want) cap *= 2;
    uint8_t *c = realloc(d->carry, cap);
    if (!c) return ra__fail(d, RA_ENOMEM, d->pos, "out of memory (%zu-byte carry)", cap);
    d->carry = c;
    d->carry_cap = cap;
    return RA_OK;
}

/* The first `need` bytes of the item at `pos`, contiguous: in place in the span when it holds
 * them, else gathered in the carry. Earlier pointers from ra__take() are invalid afterwards.
 * @return the bytes, or NULL with *rc RA_EMPTY (more input needed) or an error. */
static const uint8_t *ra__take(ra_tick_decoder *d, size_t need, int *rc)
{
    if (d->carry_len == 0 && d->sp_len - d->sp_pos >= need) return d->sp + d->sp_pos;
    while (d->carry_len < need) {
        size_t avail = d->sp_len - d->sp_pos;
        if (avail == 0) {
            int r = ra__refill(d);
            if (r != RA_OK) {
                *rc = r;
                return NULL;
            }
            if (d->carry_len == 0 && d->sp_len >= need) return d->sp;
            continue;
        }
        size_t n = need - d->carry_len;
        if (n > avail) n = avail;
        if (ra__carry_grow(d, d->carry_len + n) != RA_OK) {
            *rc = d->err.status;
            return NULL;
        }
        memcpy(d->carry + d->carry_len, d->sp + d->sp_pos, n);
        d->carry_len += n;
        d->sp_pos += n;
    }
    return d->carry;
}

/* Consumes the item at `pos` (`size` bytes, all taken). */
static inline void ra__consume(ra_tick_decoder *d, size_t size)
{
    if (d->carry_len)
        d->carry_len = 0;
    else
        d->sp_pos += size;
    d->pos += size;
}

/* A string of the header, checked for NULs. */
static bool ra__no_nul(const uint8_t *p, size_t n)
{
    return n == 0 || memchr(p, 0, n) == NULL;
}

static int ra__parse_header(ra_tick_decoder *d)
{
    int rc = RA_OK;
    const uint8_t *magic = (const uint8_t *)RA_TICK_MAGIC;
    const uint8_t *p = ra__take(d, RA_TICK_MAGIC_LEN, &rc);
    if (!p) return rc;
    if (memcmp(p, magic, RA_TICK_MAGIC_LEN) != 0) {
        if (d->mode == RA__M_ZSTD)
            return ra__fail(d, RA_EFORMAT, 0, "zstd data that is not a tick file (bad magic)");
        return ra__fail(d, RA_EFORMAT, 0, "not a tick file (bad magic)");
    }
    if (!(p = ra__take(d, 16, &rc))) return rc;
    unsigned major = ra__ld16(p + 8), minor = ra__ld16(p + 10);
    uint32_t hs = ra__ld32(p + 12);
    if (major == 0)
        return ra__fail(d, RA_EFORMAT, 8, "tick file version 0.%u does not exist", minor);
    if (major > RA_TICK_VERSION_MAJOR)
        return ra__fail(d, RA_EVERSION, 8,
                        "tick file version %u.%u is newer than this reader (%d.x): upgrade "
                        "ringalloc",
                        major, minor, RA_TICK_VERSION_MAJOR);
    if (hs < RA__HDR_MIN || hs > RA_TICK_MAX_HEADER || hs % 8)
        return ra__fail(d, RA_ECORRUPT, 12, "impossible header size %" PRIu32, hs);
    if (!(p = ra__take(d, hs, &rc))) return rc;
    uint32_t crc = ra__ld32(p + hs - 4), want = ra__crc32c(p, hs - 4);
    if (crc != want)
        return ra__fail(d, RA_ECORRUPT, hs - 4,
                        "header checksum mismatch (stored %08" PRIx32 ", computed %08" PRIx32 ")",
                        crc, want);
    uint32_t flags = ra__ld32(p + 16), rhs = ra__ld32(p + 20), maxp = ra__ld32(p + 32);
    uint32_t nstreams = ra__ld32(p + 36);
    if (flags & RA_TICK_FLAGS_REQUIRED)
        return ra__fail(d, RA_EVERSION, 16,
                        "tick file needs features this reader lacks (flags %08" PRIx32 ")", flags);
    if (rhs < RA_TICK_REC_HDR || rhs > RA_TICK_MAX_REC_HDR || rhs % 8)
        return ra__fail(d, RA_ECORRUPT, 20, "impossible record header size %" PRIu32, rhs);
    if (maxp > RA_TICK_MAX_PAYLOAD)
        return ra__fail(d, RA_ECORRUPT, 32, "max payload %" PRIu32 " above the limit %u", maxp,
                        RA_TICK_MAX_PAYLOAD);
    if (nstreams > RA_TICK_MAX_STREAMS)
        return ra__fail(d, RA_ECORRUPT, 36, "impossible stream count %" PRIu32, nstreams);
    size_t lens[3] = {ra__ld16(p + 40), ra__ld16(p + 42), ra__ld16(p + 44)};
    size_t end = hs - 4, at = RA_TICK_HDR_FIXED;
    if (lens[0] + lens[1] + lens[2] > end - at)
        return ra__fail(d, RA_ECORRUPT, 40, "header names overrun the header");
    if (!ra__no_nul(p + at, lens[0] + lens[1] + lens[2]))
        return ra__fail(d, RA_ECORRUPT, at, "NUL byte in the header names");
    d->names = malloc(lens[0] + lens[1] + lens[2] + 3);
    if (!d->names) return ra__fail(d, RA_ENOMEM, 0, "out of memory");
    char *nm[3];
    for (size_t k = 0, o = 0; k < 3; k++) {
        nm[k] = d->names + o;
        memcpy(nm[k], p + at, lens[k]);
        nm[k][lens[k]] = '\0';
        at += lens[k];
        o += lens[k] + 1;
    }
    at = ra__align8(at);
    for (uint32_t k = 0; k < nstreams; k++) {
        if (at > end || end - at < 8)
            return ra__fail(d, RA_ECORRUPT, at, "stream table overruns the header");
        uint32_t id = ra__ld32(p + at);
        size_t dl = ra__ld16(p + at + 4);
        if (dl > end - at - 8)
            return ra__fail(d, RA_ECORRUPT, at, "stream description overruns the header");
        if (!ra__no_nul(p + at + 8, dl))
            return ra__fail(d, RA_ECORRUPT, at, "NUL byte in a stream description");
        int r = ra__streams_add(&d->streams, id, (const char *)(p + at + 8), dl);
        if (r == RA_EINVAL)
            return ra__fail(d, RA_ECORRUPT, at, "stream %" PRIu32 " declared twice", id);
        if (r != RA_OK) return ra__fail(d, RA_ENOMEM, at, "out of memory");
        at = ra__align8(at + 8 + dl);
    }
    if (at > end) return ra__fail(d, RA_ECORRUPT, end, "stream table overruns the header");
    d->rhs = rhs;
    d->max_payload = maxp;
    d->info.version_major = (uint16_t)major;
    d->info.version_minor = (uint16_t)minor;
    d->info.flags = flags;
    d->info.record_header_size = rhs;
    d->info.max_payload = maxp;
    d->info.created_ns = ra__ld64(p + 24);
    d->info.source_format = nm[0];
    d->info.framing = nm[1];
    d->info.creator = nm[2];
    d->info.streams = d->streams.v;
    d->info.nstreams = d->streams.n;
    d->info.header_streams = d->streams.n;
    d->info.header_size = hs;
    d->info.compressed = d->mode == RA__M_ZSTD;
    ra__consume(d, hs);
    d->state = RA__D_RECORDS;
    return RA_OK;
}

RA_API int ra_tick_decoder_read_header(ra_tick_decoder *d)
{
    if (!d) return RA_EINVAL;
    switch (d->state) {
    case RA__D_FAILED:
        return d->err.status;
    case RA__D_SNIFF:
        return RA_EMPTY;
    case RA__D_HEADER:
        return ra__parse_header(d);
    default:
        return RA_OK;
    }
}

/* Absorbs a stream or end record, or skips an unknown kind. */
static int ra__special(ra_tick_decoder *d, const uint8_t *p, uint32_t len, uint16_t kind)
{
    const uint8_t *pl = p + d->rhs;
    if (kind == RA_TICK_KIND_STREAM) {
        uint32_t id = ra__ld32(p + 8);
        if (len > 0xFFFFu || !ra__no_nul(pl, len))
            return ra__fail(d, RA_ECORRUPT, d->pos, "bad stream record");
        if (d->streams.n >= RA_TICK_MAX_STREAMS)
            return ra__fail(d, RA_ECORRUPT, d->pos, "more than %u streams", RA_TICK_MAX_STREAMS);
        int r = ra__streams_add(&d->streams, id, (const char *)pl, len);
        if (r == RA_EINVAL)
            return ra__fail(d, RA_ECORRUPT, d->pos, "stream %" PRIu32 " declared twice", id);
        if (r != RA_OK) return ra__fail(d, RA_ENOMEM, d->pos, "out of memory");
        d->info.streams = d->streams.v;
        d->info.nstreams = d->streams.n;
    } else if (kind == RA_TICK_KIND_END) {
        if (len < RA__END_LEN) return ra__fail(d, RA_ECORRUPT, d->pos, "short end record");
        uint64_t n = ra__ld64(pl), bytes = ra__ld64(pl + 8);
        if (n != d->records || bytes != d->payload_bytes)
            return ra__fail(d, RA_ECORRUPT, d->pos,
                            "end record counts %" PRIu64 " records (%" PRIu64
                            " bytes), the file holds %" PRIu64 " (%" PRIu64 ")",
                            n, bytes, d->records, d->payload_bytes);
        d->state = RA__D_END;
    } else if (kind >= RA_TICK_KIND_REQUIRED) {
        return ra__fail(d, RA_EVERSION, d->pos,
                        "record kind 0x%04x needs a newer reader: upgrade ringalloc", kind);
    }
    return RA_OK;
}

/* After the end record: nothing but the end of the zstd frame may follow. */
static int ra__after_end(ra_tick_decoder *d)
{
    for (;;) {
        if (d->sp_pos < d->sp_len)
            return ra__fail(d, RA_ECORRUPT, d->pos, "data after the end record");
        int r = ra__refill(d);
        if (r != RA_OK) return r;
    }
}

/* The next data record, or the next mark when `mark` is not NULL (marks are checked and skipped
 * otherwise). @return as ra_tick_decoder_next_event(). */
static int ra__next(ra_tick_decoder *d, ra_tick_record *rec, ra_tick_mark *mark, uint16_t *kind_out)
{
    if (d->state != RA__D_RECORDS) {
        if (d->state == RA__D_HEADER) {
            int rc = ra__parse_header(d);
            if (rc != RA_OK) return rc;
        } else if (d->state == RA__D_END) {
            return ra__after_end(d);
        } else if (d->state == RA__D_FAILED) {
            return d->err.status;
        } else {
            return RA_EMPTY; /* sniffing, or finished */
        }
    }
    const size_t rhs = d->rhs;
    for (;;) {
        int rc = RA_OK;
        const uint8_t *p = ra__take(d, rhs, &rc);
        if (!p) return rc;
        uint32_t len = ra__ld32(p);
        uint16_t kind = ra__ld16(p + 6);
        if (ra__ld32(p + 12) != ra__rec_check(p))
            return ra__fail(d, RA_ECORRUPT, d->pos, "record check mismatch");
        if (len > d->max_payload)
            return ra__fail(d, RA_ECORRUPT, d->pos,
                            "impossible record length %" PRIu32 " (file maximum %" PRIu32 ")", len,
                            d->max_payload);
        size_t size = (size_t)ra__align8((uint64_t)rhs + len);
        if (!(p = ra__take(d, size, &rc))) return rc;
        if (kind == RA_TICK_KIND_DATA) {
            rec->len = len;
            rec->type = ra__ld16(p + 4);
            rec->stream = ra__ld32(p + 8);
            rec->seq = ra__ld64(p + 16);
            rec->ts_ns = ra__ld64(p + 24);
            rec->data = p + rhs;
            rec->offset = d->pos;
            d->records++;
            d->payload_bytes += len;
            ra__consume(d, size);
            if (kind_out) *kind_out = RA_TICK_KIND_DATA;
            return RA_OK;
        }
        if (kind == RA_TICK_KIND_MARK) {
            if (len < RA_TICK_MARK_LEN)
                return ra__fail(d, RA_ECORRUPT, d->pos, "short mark record (%" PRIu32 " bytes)",
                                len);
            if (mark) {
                const uint8_t *pl = p + rhs;
                mark->stream = ra__ld32(p + 8);
                mark->seq = ra__ld64(p + 16);
                mark->ts_ns = ra__ld64(p + 24);
                mark->count = ra__ld32(pl);
                mark->flags = ra__ld16(pl + 4);
                mark->framing = ra__ld16(pl + 6);
                mark->offset = d->pos;
                ra__consume(d, size);
                *kind_out = RA_TICK_KIND_MARK;
                return RA_OK;
            }
        } else if ((rc = ra__special(d, p, len, kind)) != RA_OK) {
            return rc;
        }
        ra__consume(d, size);
        if (d->state == RA__D_END) return ra__after_end(d);
    }
}

RA_API int ra_tick_decoder_next(ra_tick_decoder *d, ra_tick_record *rec)
{
    if (!d || !rec) return RA_EINVAL;
    return ra__next(d, rec, NULL, NULL);
}

RA_API int ra_tick_decoder_next_event(ra_tick_decoder *d, ra_tick_record *rec, ra_tick_mark *mark,
                                      uint16_t *kind)
{
    if (!d || !rec || !mark || !kind) return RA_EINVAL;
    return ra__next(d, rec, mark, kind);
}

RA_API int ra_tick_decoder_finish(ra_tick_decoder *d)
{
    if (!d) return RA_EINVAL;
    if (d->state == RA__D_FAILED) return d->err.status;
    if (d->state == RA__D_FINISHED) return RA_OK;
    const uint8_t *magic = (const uint8_t *)RA_TICK_MAGIC;
    if (d->state == RA__D_SNIFF) {
        if (d->sniff_len == 0) return ra__fail(d, RA_EFORMAT, 0, "empty input");
        if (ra__prefix_of(d->sniff, d->sniff_len, magic, RA_TICK_MAGIC_LEN) ||
            ra__prefix_of(d->sniff, d->sniff_len, ra__zmagic_bytes, 4))
            return ra__fail(d, RA_ETRUNC, 0, "input cut short after %zu bytes", d->sniff_len);
        return ra__fail(d, RA_EFORMAT, 0, "not a tick file (%zu bytes)", d->sniff_len);
    }
    if (d->sp_pos < d->sp_len || d->in_pos < d->in_len || d->sniff_pos < d->sniff_len || d->z_more)
        return RA_EINVAL; /* pushed input not drained by next() */
    if (d->state == RA__D_END && !d->z_open) {
        d->state = RA__D_FINISHED;
        return RA_OK;
    }
    if (d->state == RA__D_HEADER) {
        if (d->carry_len == 0 && !d->z_open)
            return ra__fail(d, RA_EFORMAT, 0, "zstd data that holds no tick file");
        if (!ra__prefix_of(d->carry, d->carry_len < 8 ? d->carry_len : 8, magic, 8))
            return ra__fail(d, RA_EFORMAT, 0, "not a tick file (bad magic)");
        if (d->carry_len == 0)
            return ra__fail(d, RA_ETRUNC, 0, "zstd input cut short before any tick data");
        return ra__fail(d, RA_ETRUNC, 0, "file header cut short after %zu bytes", d->carry_len);
    }
    if (d->state == RA__D_RECORDS && d->carry_len > 0) {
        if (d->carry_len >= d->rhs) {
            uint64_t size = ra__align8((uint64_t)d->rhs + ra__ld32(d->carry));
            return ra__fail(d, RA_ETRUNC, d->pos,
                            "last record cut short: %zu of its %" PRIu64 " bytes", d->carry_len,
                            size);
        }
        return ra__fail(d, RA_ETRUNC, d->pos, "last record cut short inside its header (%zu bytes)",
                        d->carry_len);
    }
    if (d->state == RA__D_RECORDS)
        return ra__fail(d, RA_ETRUNC, d->pos,
                        "no end record: the file was cut at a record boundary (or its writer "
                        "did not close it)");
    return ra__fail(d, RA_ETRUNC, d->pos, "last zstd frame cut short (checksum not verified)");
}

RA_API const ra_tick_info *ra_tick_decoder_info(const ra_tick_decoder *d)
{
    if (!d || d->info.version_major == 0) return NULL;
    return &d->info;
}

RA_API const ra_tick_stream *ra_tick_decoder_stream(const ra_tick_decoder *d, uint32_t id)
{
    if (!d) return NULL;
    long k = ra__streams_find(&d->streams, id);
    return k < 0 ? NULL : &d->streams.v[k];
}

RA_API const ra_tick_error *ra_tick_decoder_error(const ra_tick_decoder *d)
{
    static const ra_tick_error none = {.status = RA_EINVAL, .msg = "no decoder"};
    return d ? &d->err : &none;
}

RA_API void ra_tick_decoder_get_stats(const ra_tick_decoder *d, ra_tick_stats *s)
{
    if (!s) return;
    memset(s, 0, sizeof *s);
    if (!d) return;
    s->records = d->records;
    s->bytes = d->pos;
    s->comp_bytes = d->comp_pos;
    s->frames = d->frames;
    s->compressed = d->mode == RA__M_ZSTD;
}

/* ---- reader --------------------------------------------------------------------------------- */

struct ra_tick_reader {
    ra_tick_decoder *dec;
    int fd;   /* read(2) source when >= 0 */
    FILE *fp; /* fread source otherwise */
    bool own; /* close fd at close */
    bool eof; /* the source returned end of file */
    uint8_t *prefix;
    size_t prefix_len;
    bool prefix_done;
    uint8_t *buf;
    ra_tick_error ioerr; /* I/O errors (the decoder's own are in dec) */
};

/* Reads the next chunk and pushes it; at end of file calls finish.
 * @return RA_OK (pushed), RA_EMPTY (clean end), or a negative status. */
static int ra__reader_feed(ra_tick_reader *r)
{
    if (r->eof) return ra_tick_decoder_finish(r->dec) == RA_OK ? RA_EMPTY : r->dec->err.status;
    if (!r->prefix_done) {
        r->prefix_done = true;
        if (r->prefix_len) return ra_tick_decoder_push(r->dec, r->prefix, r->prefix_len);
    }
    size_t n;
    if (r->fd >= 0) {
        ssize_t got;
        do got = read(r->fd, r->buf, RA__READ_CAP);
        while (got < 0 && errno == EINTR);
        if (got < 0) {
            r->ioerr.status = RA_EIO;
            r->ioerr.offset = ra__produced(r->dec);
            snprintf(r->ioerr.msg, sizeof r->ioerr.msg, "read error: %s", strerror(errno));
            return RA_EIO;
        }
        n = (size_t)got;
    } else {
        n = fread(r->buf, 1, RA__READ_CAP, r->fp);
        if (n == 0 && ferror(r->fp)) {
            r->ioerr.status = RA_EIO;
            r->ioerr.offset = ra__produced(r->dec);
            snprintf(r->ioerr.msg, sizeof r->ioerr.msg, "read error");
            return RA_EIO;
        }
    }
    if (n == 0) {
        r->eof = true;
        int rc = ra_tick_decoder_finish(r->dec);
        return rc == RA_OK ? RA_EMPTY : rc;
    }
    return ra_tick_decoder_push(r->dec, r->buf, n);
}

static int ra__reader_setup(ra_tick_reader **out, ra_tick_reader *r, ra_tick_error *err)
{
    int rc = ra_tick_decoder_create(&r->dec);
    r->buf = malloc(RA__READ_CAP);
    if (rc == RA_OK && !r->buf) rc = RA_ENOMEM;
    if (rc == RA_OK) {
        for (;;) {
            rc = ra_tick_decoder_read_header(r->dec);
            if (rc != RA_EMPTY) break;
            rc = ra__reader_feed(r);
            if (rc == RA_EMPTY) rc = RA_ETRUNC; /* cannot be: finish fails without a header */
            if (rc != RA_OK) break;
        }
    }
    if (rc == RA_OK) {
        *out = r;
        return RA_OK;
    }
    if (err) {
        if (r->ioerr.status != RA_OK)
            *err = r->ioerr;
        else if (r->dec && r->dec->err.status != RA_OK)
            *err = r->dec->err;
        else
            *err = (ra_tick_error){.status = rc,
                                   .offset = RA_TICK_NO_OFFSET,
                                   .comp_offset = RA_TICK_NO_OFFSET,
                                   .frame_offset = RA_TICK_NO_OFFSET,
                                   .msg = "out of memory"};
    }
    ra_tick_reader_close(r);
    return rc;
}

static void ra__err_simple(ra_tick_error *err, int status, const char *what, const char *why)
{
    if (!err) return;
    *err = (ra_tick_error){.status = status,
                           .offset = RA_TICK_NO_OFFSET,
                           .comp_offset = RA_TICK_NO_OFFSET,
                           .frame_offset = RA_TICK_NO_OFFSET};
    snprintf(err->msg, sizeof err->msg, "%s%s%s", what, why ? ": " : "", why ? why : "");
}

RA_API int ra_tick_reader_open(ra_tick_reader **out, const char *path, ra_tick_error *err)
{
    if (!out || !path) {
        ra__err_simple(err, RA_EINVAL, "invalid argument", NULL);
        return RA_EINVAL;
    }
    *out = NULL;
    ra_tick_reader *r = calloc(1, sizeof *r);
    if (!r) {
        ra__err_simple(err, RA_ENOMEM, "out of memory", NULL);
        return RA_ENOMEM;
    }
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            ra__err_simple(err, RA_EIO, "cannot open", strerror(errno));
            free(r);
            return RA_EIO;
        }
        r->own = true;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    r->prefix_done = true;
    return ra__reader_setup(out, r, err);
}

RA_API int ra_tick_reader_open_fp(ra_tick_reader **out, FILE *fp, const void *prefix,
                                  size_t prefix_len, ra_tick_error *err)
{
    if (!out || !fp || (!prefix && prefix_len)) {
        ra__err_simple(err, RA_EINVAL, "invalid argument", NULL);
        return RA_EINVAL;
    }
    *out = NULL;
    ra_tick_reader *r = calloc(1, sizeof *r);
    if (!r) {
        ra__err_simple(err, RA_ENOMEM, "out of memory", NULL);
        return RA_ENOMEM;
    }
    r->fd = -1;
    r->fp = fp;
    if (prefix_len) {
        r->prefix = malloc(prefix_len);
        if (!r->prefix) {
            free(r);
            ra__err_simple(err, RA_ENOMEM, "out of memory", NULL);
            return RA_ENOMEM;
        }
        memcpy(r->prefix, prefix, prefix_len);
        r->prefix_len = prefix_len;
    }
    return ra__reader_setup(out, r, err);
}

RA_API int ra_tick_reader_next(ra_tick_reader *r, ra_tick_record *rec)
{
    if (!r || !rec) return RA_EINVAL;
    if (r->ioerr.status != RA_OK) return r->ioerr.status;
    for (;;) {
        int rc = ra_tick_decoder_next(r->dec, rec);
        if (rc != RA_EMPTY) return rc;
        rc = ra__reader_feed(r);
        if (rc != RA_OK) return rc;
    }
}

RA_API int ra_tick_reader_next_event(ra_tick_reader *r, ra_tick_record *rec, ra_tick_mark *mark,
                                     uint16_t *kind)
{
    if (!r || !rec || !mark || !kind) return RA_EINVAL;
    if (r->ioerr.status != RA_OK) return r->ioerr.status;
    for (;;) {
        int rc = ra_tick_decoder_next_event(r->dec, rec, mark, kind);
        if (rc != RA_EMPTY) return rc;
        rc = ra__reader_feed(r);
        if (rc != RA_OK) return rc;
    }
}

RA_API const ra_tick_info *ra_tick_reader_info(const ra_tick_reader *r)
{
    return r ? ra_tick_decoder_info(r->dec) : NULL;
}

RA_API const ra_tick_error *ra_tick_reader_error(const ra_tick_reader *r)
{
    if (r && r->ioerr.status != RA_OK) return &r->ioerr;
    return ra_tick_decoder_error(r ? r->dec : NULL);
}

RA_API const ra_tick_decoder *ra_tick_reader_decoder(const ra_tick_reader *r)
{
    return r ? r->dec : NULL;
}

RA_API void ra_tick_reader_close(ra_tick_reader *r)
{
    if (!r) return;
    if (r->own && r->fd >= 0) close(r->fd);
    ra_tick_decoder_destroy(r->dec);
    free(r->prefix);
    free(r->buf);
    free(r);
}

/* ---- writer --------------------------------------------------------------------------------- */

struct ra_tick_writer {
    ra_tick_sink_fn sink;
    void *sink_ctx;
    FILE *fp;
    bool own_fp;
    bool compress;
    ZSTD_CCtx *cctx;
    uint8_t *stage; /* .rtk bytes not yet handed on */
    size_t stage_len;
    uint8_t *zout;
    size_t zout_cap;
    uint64_t frame_bytes;
    uint64_t in_frame; /* .rtk bytes in the current frame */
    bool header_done;
    int err; /* sticky RA_EIO */
    ra__streams streams;
    char *names[3]; /* format, framing, creator */
    uint64_t created_ns;
    uint32_t max_payload;
    uint64_t payload_bytes;
    ra_tick_writer_stats st;
};

static int ra__sink_file(void *ctx, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static int ra__w_out(ra_tick_writer *w, const void *p, size_t n)
{
    if (n == 0) return RA_OK;
    if (w->sink(w->sink_ctx, p, n) != 0) {
        w->err = RA_EIO;
        return RA_EIO;
    }
    w->st.bytes_out += n;
    return RA_OK;
}

/* Hands the staged bytes on; with ZSTD_e_end also ends the zstd frame (if it holds data). */
static int ra__w_drain(ra_tick_writer *w, ZSTD_EndDirective mode)
{
    if (w->err) return w->err;
    if (!w->compress) {
        int rc = ra__w_out(w, w->stage, w->stage_len);
        w->stage_len = 0;
        return rc;
    }
    if (mode == ZSTD_e_end && w->in_frame == 0) return RA_OK; /* no empty frames */
    ZSTD_inBuffer in = {w->stage, w->stage_len, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->zout, w->zout_cap, 0};
        size_t r = ZSTD_compressStream2(w->cctx, &out, &in, mode);
        if (ZSTD_isError(r)) {
            w->err = RA_EIO;
            return RA_EIO;
        }
        if (ra__w_out(w, w->zout, out.pos) != RA_OK) return RA_EIO;
        if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size) break;
    }
    w->stage_len = 0;
    if (mode == ZSTD_e_end) {
        w->st.frames++;
        w->in_frame = 0;
    }
    return RA_OK;
}

static int ra__w_put(ra_tick_writer *w, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n) {
        if (w->stage_len == RA__STAGE_CAP && ra__w_drain(w, ZSTD_e_continue) != RA_OK)
            return w->err;
        size_t k = RA__STAGE_CAP - w->stage_len;
        if (k > n) k = n;
        memcpy(w->stage + w->stage_len, s, k);
        w->stage_len += k;
        s += k;
        n -= k;
    }
    return RA_OK;
}

static void ra__w_rec_header(uint8_t *h, uint32_t len, uint16_t type, uint16_t kind,
                             uint32_t stream, uint64_t seq, uint64_t ts)
{
    ra__st32(h, len);
    ra__st16(h + 4, type);
    ra__st16(h + 6, kind);
    ra__st32(h + 8, stream);
    ra__st64(h + 16, seq);
    ra__st64(h + 24, ts);
    ra__st32(h + 12, ra__rec_check(h));
}

static int ra__w_record(ra_tick_writer *w, uint16_t kind, uint32_t stream, uint16_t type,
                        uint64_t seq, uint64_t ts, const void *data, uint32_t len)
{
    size_t size = (size_t)ra__align8((uint64_t)RA_TICK_REC_HDR + len);
    w->in_frame += size;
    w->st.bytes_in += size;
    if (RA__STAGE_CAP - w->stage_len >= size) { /* the common case: build it in place */
        uint8_t *h = w->stage + w->stage_len;
        memset(h + size - 8, 0, 8); /* padding */
        if (len) memcpy(h + RA_TICK_REC_HDR, data, len);
        ra__w_rec_header(h, len, type, kind, stream, seq, ts);
        w->stage_len += size;
        return RA_OK;
    }
    uint8_t h[RA_TICK_REC_HDR];
    static const uint8_t zeros[8];
    ra__w_rec_header(h, len, type, kind, stream, seq, ts);
    if (ra__w_put(w, h, sizeof h) != RA_OK || ra__w_put(w, data, len) != RA_OK ||
        ra__w_put(w, zeros, size - RA_TICK_REC_HDR - len) != RA_OK)
        return w->err;
    return RA_OK;
}

static int ra__w_header(ra_tick_writer *w)
{
    if (w->header_done) return RA_OK;
    size_t lens[3], names_end = RA_TICK_HDR_FIXED;
    for (int k = 0; k < 3; k++) names_end += lens[k] = strlen(w->names[k]);
    names_end = ra__align8(names_end);
    size_t at = names_end;
    for (size_t k = 0; k < w->streams.n; k++) at = ra__align8(at + 8 + w->streams.v[k].desc_len);
    /* a table too big for the header goes out as stream records instead */
    bool in_header = ra__align8(at + 4) <= RA_TICK_MAX_HEADER;
    size_t hs = (size_t)ra__align8((in_header ? at : names_end) + 4);
    uint8_t *h = calloc(1, hs);
    if (!h) return RA_ENOMEM;
    memcpy(h, RA_TICK_MAGIC, RA_TICK_MAGIC_LEN);
    ra__st16(h + 8, RA_TICK_VERSION_MAJOR);
    ra__st16(h + 10, RA_TICK_VERSION_MINOR);
    ra__st32(h + 12, (uint32_t)hs);
    ra__st32(h + 16, 0);
    ra__st32(h + 20, RA_TICK_REC_HDR);
    ra__st64(h + 24, w->created_ns);
    ra__st32(h + 32, w->max_payload);
    ra__st32(h + 36, in_header ? (uint32_t)w->streams.n : 0);
    at = RA_TICK_HDR_FIXED;
    for (int k = 0; k < 3; k++) {
        ra__st16(h + 40 + 2 * k, (uint16_t)lens[k]);
        memcpy(h + at, w->names[k], lens[k]);
        at += lens[k];
    }
    at = ra__align8(at);
    for (size_t k = 0; in_header && k < w->streams.n; k++) {
        const ra_tick_stream *s = &w->streams.v[k];
        ra__st32(h + at, s->id);
        ra__st16(h + at + 4, (uint16_t)s->desc_len);
        memcpy(h + at + 8, s->desc, s->desc_len);
        at = ra__align8(at + 8 + s->desc_len);
    }
    ra__st32(h + hs - 4, ra__crc32c(h, hs - 4));
    w->header_done = true;
    w->in_frame += hs;
    w->st.bytes_in += hs;
    int rc = ra__w_put(w, h, hs);
    free(h);
    for (size_t k = 0; rc == RA_OK && !in_header && k < w->streams.n; k++) {
        const ra_tick_stream *s = &w->streams.v[k];
        rc = ra__w_record(w, RA_TICK_KIND_STREAM, s->id, 0, 0, 0, s->desc, s->desc_len);
    }
    return rc;
}

static char *ra__strdup_or(const char *s, const char *dflt)
{
    if (!s) s = dflt;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (c) memcpy(c, s, n + 1);
    return c;
}

static int ra__writer_new(ra_tick_writer **out, const ra_tick_writer_config *cfg)
{
    static const ra_tick_writer_config dflt;
    if (!cfg) cfg = &dflt;
    const char *names[3] = {cfg->source_format, cfg->framing, cfg->creator};
    for (int k = 0; k < 3; k++)
        if (names[k] && strlen(names[k]) > 0xFFFFu) return RA_EINVAL;
    if (cfg->max_payload > RA_TICK_MAX_PAYLOAD || cfg->workers < 0) return RA_EINVAL;
    if (cfg->compress && (cfg->level < ZSTD_minCLevel() || cfg->level > ZSTD_maxCLevel()))
        return RA_EINVAL;
    ra_tick_writer *w = calloc(1, sizeof *w);
    if (!w) return RA_ENOMEM;
    char creator[64];
    snprintf(creator, sizeof creator, "ringalloc %s", ra_version_string());
    w->names[0] = ra__strdup_or(cfg->source_format, "");
    w->names[1] = ra__strdup_or(cfg->framing, "");
    w->names[2] = ra__strdup_or(cfg->creator, creator);
    w->stage = malloc(RA__STAGE_CAP);
    w->max_payload = cfg->max_payload ? cfg->max_payload : RA_TICK_DEFAULT_PAYLOAD;
    w->frame_bytes = cfg->frame_bytes ? cfg->frame_bytes : RA_TICK_DEFAULT_FRAME;
    w->created_ns = cfg->created_ns;
    if (!w->created_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        w->created_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    bool ok = w->names[0] && w->names[1] && w->names[2] && w->stage;
    if (ok && cfg->compress) {
        w->compress = true;
        w->cctx = ZSTD_createCCtx();
        w->zout_cap = ZSTD_CStreamOutSize();
        w->zout = malloc(w->zout_cap);
        ok = w->cctx && w->zout;
        if (ok) {
            int level = cfg->level ? cfg->level : RA_TICK_DEFAULT_LEVEL;
            ok = !ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level)) &&
                 !ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1));
            /* workers need a multithreaded libzstd; without one, compress in this thread */
            if (ok && cfg->workers > 0)
                (void)ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, cfg->workers);
        }
    }
    if (!ok) {
        w->sink = ra__sink_file; /* not used: close() below writes nothing */
        w->err = RA_ENOMEM;
        ra_tick_writer_close(w);
        return RA_ENOMEM;
    }
    *out = w;
    return RA_OK;
}

RA_API int ra_tick_writer_open_sink(ra_tick_writer **out, ra_tick_sink_fn fn, void *ctx,
                                    const ra_tick_writer_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!fn) return RA_EINVAL;
    ra_tick_writer *w;
    int rc = ra__writer_new(&w, cfg);
    if (rc != RA_OK) return rc;
    w->sink = fn;
    w->sink_ctx = ctx;
    *out = w;
    return RA_OK;
}

RA_API int ra_tick_writer_open_fp(ra_tick_writer **out, FILE *fp, const ra_tick_writer_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!fp) return RA_EINVAL;
    int rc = ra_tick_writer_open_sink(out, ra__sink_file, fp, cfg);
    if (rc == RA_OK) (*out)->fp = fp;
    return rc;
}

RA_API int ra_tick_writer_open(ra_tick_writer **out, const char *path,
                               const ra_tick_writer_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!path) return RA_EINVAL;
    ra_tick_writer *w;
    int rc = ra__writer_new(&w, cfg); /* config errors before the file is touched */
    if (rc != RA_OK) return rc;
    bool is_stdout = strcmp(path, "-") == 0;
    FILE *fp = is_stdout ? stdout : fopen(path, "wbe");
    if (!fp) {
        int e = errno;
        w->sink = ra__sink_file;
        w->err = RA_EIO;
        ra_tick_writer_close(w);
        errno = e;
        return RA_EIO;
    }
    w->sink = ra__sink_file;
    w->sink_ctx = fp;
    w->fp = fp;
    w->own_fp = !is_stdout;
    *out = w;
    return RA_OK;
}

RA_API int ra_tick_writer_add_stream(ra_tick_writer *w, uint32_t id, const char *desc)
{
    if (!w || !desc) return RA_EINVAL;
    if (w->err) return w->err;
    size_t len = strlen(desc);
    if (len > 0xFFFFu || w->streams.n >= RA_TICK_MAX_STREAMS) return RA_EINVAL;
    int rc = ra__streams_add(&w->streams, id, desc, len);
    if (rc != RA_OK || !w->header_done) return rc;
    return ra__w_record(w, RA_TICK_KIND_STREAM, id, 0, 0, 0, desc, (uint32_t)len);
}

RA_API int ra_tick_write(ra_tick_writer *w, const ra_tick_record *rec)
{
    if (!w || !rec || (!rec->data && rec->len)) return RA_EINVAL;
    if (w->err) return w->err;
    if (rec->len > w->max_payload) return RA_ETOOBIG;
    int rc = ra__w_header(w);
    if (rc != RA_OK) return rc;
    rc = ra__w_record(w, RA_TICK_KIND_DATA, rec->stream, rec->type, rec->seq, rec->ts_ns, rec->data,
                      rec->len);
    if (rc != RA_OK) return rc;
    w->st.records++;
    w->payload_bytes += rec->len;
    if (w->compress && w->in_frame >= w->frame_bytes) return ra__w_drain(w, ZSTD_e_end);
    return RA_OK;
}

RA_API int ra_tick_write_mark(ra_tick_writer *w, const ra_tick_mark *m)
{
    if (!w || !m) return RA_EINVAL;
    if (w->err) return w->err;
    int rc = ra__w_header(w);
    if (rc != RA_OK) return rc;
    uint8_t pl[RA_TICK_MARK_LEN];
    ra__st32(pl, m->count);
    ra__st16(pl + 4, m->flags);
    ra__st16(pl + 6, m->framing);
    rc = ra__w_record(w, RA_TICK_KIND_MARK, m->stream, 0, m->seq, m->ts_ns, pl, sizeof pl);
    if (rc != RA_OK) return rc;
    if (w->compress && w->in_frame >= w->frame_bytes) return ra__w_drain(w, ZSTD_e_end);
    return RA_OK;
}

RA_API int ra_tick_writer_flush(ra_tick_writer *w)
{
    if (!w) return RA_EINVAL;
    if (w->err) return w->err;
    int rc = ra__w_header(w);
    if (rc == RA_OK) rc = ra__w_drain(w, ZSTD_e_end);
    if (rc == RA_OK && w->fp && fflush(w->fp) != 0) rc = w->err = RA_EIO;
    return rc;
}

RA_API void ra_tick_writer_get_stats(const ra_tick_writer *w, ra_tick_writer_stats *s)
{
    if (!s) return;
    memset(s, 0, sizeof *s);
    if (w) *s = w->st;
}

RA_API int ra_tick_writer_close(ra_tick_writer *w)
{
    if (!w) return RA_EINVAL;
    int rc = w->err;
    if (rc == RA_OK) {
        uint8_t end[RA__END_LEN];
        ra__st64(end, w->st.records);
        ra__st64(end + 8, w->payload_bytes);
        rc = ra__w_header(w);
        if (rc == RA_OK) rc = ra__w_record(w, RA_TICK_KIND_END, 0, 0, 0, 0, end, sizeof end);
        if (rc == RA_OK) rc = ra__w_drain(w, ZSTD_e_end);
        if (rc == RA_OK && w->fp && fflush(w->fp) != 0) rc = RA_EIO;
    }
    if (w->own_fp && fclose(w->fp) != 0 && rc == RA_OK) rc = RA_EIO;
    ZSTD_freeCCtx(w->cctx);
    ra__streams_free(&w->streams);
    for (int k = 0; k < 3; k++) free(w->names[k]);
    free(w->stage);
    free(w->zout);
    free(w);
    return rc;
}
