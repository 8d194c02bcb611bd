/* tick_decoder.c - native tick file (.rtk, .rtk.zst): the streaming push decoder */

/*
 * Design notes
 * ------------
 * The caller pushes chunks and pulls records. The "span" is the run of .rtk bytes not yet
 * parsed: the caller's chunk itself (plain input, nothing copied) or the decompression buffer
 * (zstd, filled by ZSTD_decompressStream from the caller's chunk). A record wholly inside the
 * span is handed out in place. A record (or the file header) that straddles the end of the span
 * is gathered in the carry buffer: ra__take(n) returns n contiguous bytes of the item that starts
 * at `pos`, from the span when it holds them and the carry is empty, else by copying span bytes
 * into the carry (refilling the span from zstd as needed) until it holds n. The carry never
 * holds more than the item being parsed, so consuming an item is either `carry_len = 0` or
 * `sp_pos += size`; parsing is stateless between calls (a record header is re-read from the
 * carry when the call resumes). The carry grows with the bytes actually gathered, so a forged
 * length costs no memory until the bytes exist.
 *
 * Format detection needs 4 bytes (zstd frame or skippable-frame magic, else plain); pushes
 * shorter than that are gathered in `sniff`, which is then fed first: to zstd, or to the carry.
 *
 * The bytes themselves (header fields, record header, checks, stream table) are tick_codec's;
 * this file holds the buffering, the states and the error offsets.
 *
 * Marks (1.1, kind 3) are per-packet sequence records for tools that redo a feed's accounting
 * (replay). ra_tick_decoder_next() checks and skips them; ra_tick_decoder_next_event() hands them
 * out among the data records. They are not data: the end record does not count them.
 */

#include "tick_decoder.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "tick_codec.h"

#define RA__OUT_CAP RA_TICK_DECODER_OUT_BYTES

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
    /* file: info.record_header_size and info.max_payload bound every record */
    uint64_t records, payload_bytes;
    ra__tick_streams streams;
    char *names; /* format \0 framing \0 creator \0 */
    ra_tick_info info;
    ra_tick_error err;
};

/* Makes the error in d->err (status, offset, message set) sticky, adding the zstd offsets.
 * @return its status. */
static int ra__failed(ra_tick_decoder *d)
{
    if (d->mode == RA__M_ZSTD) {
        d->err.comp_offset = d->comp_pos;
        d->err.frame_offset = d->frame_pos;
    } else {
        d->err.comp_offset = RA_TICK_NO_OFFSET;
        d->err.frame_offset = RA_TICK_NO_OFFSET;
    }
    d->state = RA__D_FAILED;
    return d->err.status;
}

__attribute__((format(printf, 4, 5))) static int ra__fail(ra_tick_decoder *d, int status,
                                                          uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ra__tick_verr(&d->err, status, off, fmt, ap);
    va_end(ap);
    return ra__failed(d);
}

uint64_t ra__tick_decoder_produced(const ra_tick_decoder *d)
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
    ra__tick_streams_clear(&d->streams);
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
    d->records = d->payload_bytes = 0;
    memset(&d->info, 0, sizeof d->info);
    memset(&d->err, 0, sizeof d->err);
    d->err.comp_offset = d->err.frame_offset = d->err.offset = RA_TICK_NO_OFFSET;
}

RA_API void ra_tick_decoder_destroy(ra_tick_decoder *d)
{
    if (!d) return;
    ZSTD_freeDCtx(d->dctx);
    ra__tick_streams_free(&d->streams);
    free(d->names);
    free(d->out);
    free(d->carry);
    free(d);
}

/* Chooses plain or zstd from the 4 sniffed bytes and queues them for parsing. */
static int ra__start(ra_tick_decoder *d)
{
    if (ra__tick_is_zstd_magic(d->sniff)) {
        d->mode = RA__M_ZSTD;
        if (!d->dctx) {
            d->dctx = ZSTD_createDCtx();
            if (!d->dctx) return ra__fail(d, RA_ENOMEM, 0, "out of memory (zstd context)");
        }
        ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax, RA__TICK_WINDOW_LOG);
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

/* Pushed input not yet used up. */
static bool ra__undrained(const ra_tick_decoder *d)
{
    return d->sp_pos < d->sp_len || d->in_pos < d->in_len || d->sniff_pos < d->sniff_len ||
           d->z_more;
}

RA_API int ra_tick_decoder_push(ra_tick_decoder *d, const void *buf, size_t len)
{
    if (!d) return RA_EINVAL;
    if (d->state == RA__D_FAILED) return d->err.status;
    if (d->state == RA__D_FINISHED) return RA_EINVAL;
    if (len == 0) return RA_OK;
    if (!buf) return RA_EINVAL;
    if (ra__undrained(d)) return RA_EINVAL; /* the previous chunk is not drained */
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
    uint64_t off = ra__tick_decoder_produced(d);
    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_checksum_wrong:
        return ra__fail(d, RA_ECORRUPT, off, "zstd content checksum mismatch");
    case ZSTD_error_memory_allocation:
        return ra__fail(d, RA_ENOMEM, off, "out of memory (zstd window)");
    case ZSTD_error_frameParameter_windowTooLarge:
        return ra__fail(d, RA_EFORMAT, off, "zstd window larger than 2^%d bytes",
                        RA__TICK_WINDOW_LOG);
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

static int ra__parse_header(ra_tick_decoder *d)
{
    int rc = RA_OK;
    const uint8_t *p = ra__take(d, RA_TICK_MAGIC_LEN, &rc);
    if (!p) return rc;
    if (memcmp(p, RA_TICK_MAGIC, RA_TICK_MAGIC_LEN) != 0) {
        if (d->mode == RA__M_ZSTD)
            return ra__fail(d, RA_EFORMAT, 0, "zstd data that is not a tick file (bad magic)");
        return ra__fail(d, RA_EFORMAT, 0, "not a tick file (bad magic)");
    }
    if (!(p = ra__take(d, 16, &rc))) return rc;
    uint32_t hs;
    if (ra__tick_hdr_start(p, &hs, &d->err) != RA_OK) return ra__failed(d);
    if (!(p = ra__take(d, hs, &rc))) return rc;
    if (ra__tick_hdr_decode(p, hs, &d->info, &d->names, &d->streams, &d->err) != RA_OK)
        return ra__failed(d);
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

/* Absorbs a stream or end record, or skips an unknown kind (p: the whole record). */
static int ra__special(ra_tick_decoder *d, const uint8_t *p, uint32_t len, uint16_t kind)
{
    const uint8_t *pl = p + d->info.record_header_size;
    if (kind == RA_TICK_KIND_STREAM) {
        uint32_t id = ra_load_le32(p + 8);
        if (len > 0xFFFFu || !ra__tick_no_nul(pl, len))
            return ra__fail(d, RA_ECORRUPT, d->pos, "bad stream record");
        if (d->streams.n >= RA_TICK_MAX_STREAMS)
            return ra__fail(d, RA_ECORRUPT, d->pos, "more than %u streams", RA_TICK_MAX_STREAMS);
        if (ra__tick_streams_declare(&d->streams, id, (const char *)pl, len, d->pos, &d->err) !=
            RA_OK)
            return ra__failed(d);
        d->info.streams = d->streams.v;
        d->info.nstreams = d->streams.n;
    } else if (kind == RA_TICK_KIND_END) {
        if (len < RA__TICK_END_LEN) return ra__fail(d, RA_ECORRUPT, d->pos, "short end record");
        uint64_t n = ra_load_le64(pl), bytes = ra_load_le64(pl + 8);
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

/* Gets the decoder to its records (parsing the header when due); out of line, so that the
 * record loop of ra__next() keeps a lean prologue.
 * @return RA_OK when records may follow, else what ra__next() returns. */
__attribute__((noinline, cold)) static int ra__to_records(ra_tick_decoder *d)
{
    switch (d->state) {
    case RA__D_RECORDS:
        return RA_OK;
    case RA__D_HEADER:
        return ra__parse_header(d);
    case RA__D_END:
        return ra__after_end(d);
    case RA__D_FAILED:
        return d->err.status;
    default:
        return RA_EMPTY; /* sniffing, or finished */
    }
}

/* The next data record, or the next mark when `mark` is not NULL (marks are checked and skipped
 * otherwise). @return as ra_tick_decoder_next_event(). */
static int ra__next(ra_tick_decoder *d, ra_tick_record *rec, ra_tick_mark *mark, uint16_t *kind_out)
{
    if (d->state != RA__D_RECORDS) {
        int rc = ra__to_records(d);
        if (rc != RA_OK) return rc;
    }
    const size_t rhs = d->info.record_header_size;
    for (;;) {
        int rc = RA_OK;
        const uint8_t *p = ra__take(d, rhs, &rc);
        if (!p) return rc;
        uint32_t len = ra__tick_rec_len(p);
        if (!ra__tick_rec_check_ok(p))
            return ra__fail(d, RA_ECORRUPT, d->pos, "record check mismatch");
        if (len > d->info.max_payload)
            return ra__fail(d, RA_ECORRUPT, d->pos,
                            "impossible record length %" PRIu32 " (file maximum %" PRIu32 ")", len,
                            d->info.max_payload);
        size_t size = ra__tick_rec_size(rhs, len);
        if (!(p = ra__take(d, size, &rc))) return rc;
        uint16_t kind = ra__tick_rec_kind(p);
        if (kind == RA_TICK_KIND_DATA) {
            ra__tick_rec_get(p, rhs, rec);
            rec->len = len;
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
                ra__tick_mark_get(p, rhs, mark);
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

/* finish() inside the header or a record: where the cut is, as RA_ETRUNC (or RA_EFORMAT when
 * the bytes seen cannot start a tick file). */
static int ra__cut_short(ra_tick_decoder *d)
{
    if (d->state == RA__D_HEADER) {
        if (d->carry_len == 0 && !d->z_open)
            return ra__fail(d, RA_EFORMAT, 0, "zstd data that holds no tick file");
        if (!ra__tick_prefix_of(d->carry, d->carry_len < 8 ? d->carry_len : 8,
                                (const uint8_t *)RA_TICK_MAGIC, RA_TICK_MAGIC_LEN))
            return ra__fail(d, RA_EFORMAT, 0, "not a tick file (bad magic)");
        if (d->carry_len == 0)
            return ra__fail(d, RA_ETRUNC, 0, "zstd input cut short before any tick data");
        return ra__fail(d, RA_ETRUNC, 0, "file header cut short after %zu bytes", d->carry_len);
    }
    uint32_t rhs = d->info.record_header_size;
    if (d->carry_len >= rhs) {
        size_t size = ra__tick_rec_size(rhs, ra__tick_rec_len(d->carry));
        return ra__fail(d, RA_ETRUNC, d->pos, "last record cut short: %zu of its %zu bytes",
                        d->carry_len, size);
    }
    return ra__fail(d, RA_ETRUNC, d->pos, "last record cut short inside its header (%zu bytes)",
                    d->carry_len);
}

RA_API int ra_tick_decoder_finish(ra_tick_decoder *d)
{
    if (!d) return RA_EINVAL;
    if (d->state == RA__D_FAILED) return d->err.status;
    if (d->state == RA__D_FINISHED) return RA_OK;
    if (d->state == RA__D_SNIFF) {
        if (d->sniff_len == 0) return ra__fail(d, RA_EFORMAT, 0, "empty input");
        if (ra__tick_could_start(d->sniff, d->sniff_len))
            return ra__fail(d, RA_ETRUNC, 0, "input cut short after %zu bytes", d->sniff_len);
        return ra__fail(d, RA_EFORMAT, 0, "not a tick file (%zu bytes)", d->sniff_len);
    }
    if (ra__undrained(d)) return RA_EINVAL; /* pushed input not drained by next() */
    if (d->state == RA__D_END && !d->z_open) {
        d->state = RA__D_FINISHED;
        return RA_OK;
    }
    if (d->state == RA__D_HEADER || (d->state == RA__D_RECORDS && d->carry_len > 0))
        return ra__cut_short(d);
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
    long k = ra__tick_streams_find(&d->streams, id);
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
