/* tick_codec.c - the native tick file's bytes: header codec, stream table, checks, probing */

/*
 * Design notes
 * ------------
 * Format (docs/tickfile.md has every byte): a file header (64 fixed bytes, the source's names,
 * the stream table, a CRC-32C), then records of a 32-byte header (len, type, kind, stream,
 * check, seq, ts) and the payload, each padded to 8 bytes, closed by an end record. The whole
 * stream may be zstd-compressed; the writer ends a frame every `frame_bytes` at a record
 * boundary, so a file cut after any frame decodes as a clean prefix.
 *
 * The module is four files: this codec (with tick_codec.h: every byte layout, both checks, the
 * stream table), the push decoder (tick_decoder.c), the file reader over it (tick_reader.c) and
 * the writer (tick_writer.c). Record-level helpers are static inline in tick_codec.h: the
 * decoder's per-record loop must not pay a call for them. The file header is parsed and built
 * here, once per file.
 *
 * Robustness: every length is checked against a bound before any arithmetic or allocation
 * (header size <= 1 MiB, payload <= the header's max_payload <= 16 MiB, record header size
 * 32..256); the header carries a CRC-32C and each record header a 32-bit check (a multiply-xor
 * mix, ~10 cycles) so that damage in plain files is found at the record it hits rather than as
 * garbage later; zstd content checksums cover compressed files end to end. The end record
 * (record and byte counts) distinguishes a complete file from one cut at a record boundary.
 *
 * Stream table: the decoder and the writer keep their streams in a growable array plus an open
 * addressing hash on the id (load factor at most 1/2), so a lookup is O(1) and the table keeps
 * file order for ra_tick_info.
 */

#include "tick_codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <zstd.h>

/* ---- errors ---------------------------------------------------------------------------------- */

int ra__tick_verr(ra_tick_error *e, int status, uint64_t off, const char *fmt, va_list ap)
{
    e->status = status;
    e->offset = off;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return status;
}

int ra__tick_err(ra_tick_error *e, int status, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ra__tick_verr(e, status, off, fmt, ap);
    va_end(ap);
    return status;
}

/* ---- checks ---------------------------------------------------------------------------------- */

/* Reflected polynomial 0x82F63B78, bitwise: it only covers file headers. */
uint32_t ra__tick_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
    }
    return ~c;
}

/* ---- stream table ---------------------------------------------------------------------------- */

/* Makes room for one more stream: the array, and the hash at load factor 1/2. */
static int ra__streams_reserve(ra__tick_streams *s)
{
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
            size_t i = ra__tick_slot_of(s->v[k].id, ns);
            while (sl[i]) i = (i + 1) & (ns - 1);
            sl[i] = (uint32_t)(k + 1);
        }
        free(s->slots);
        s->slots = sl;
        s->nslots = ns;
    }
    return RA_OK;
}

int ra__tick_streams_add(ra__tick_streams *s, uint32_t id, const char *desc, size_t len)
{
    if (ra__tick_streams_find(s, id) >= 0) return RA_EINVAL;
    if (ra__streams_reserve(s) != RA_OK) return RA_ENOMEM;
    char *copy = malloc(len + 1);
    if (!copy) return RA_ENOMEM;
    if (len) memcpy(copy, desc, len);
    copy[len] = '\0';
    s->v[s->n] = (ra_tick_stream){.id = id, .desc_len = (uint32_t)len, .desc = copy};
    size_t i = ra__tick_slot_of(id, s->nslots);
    while (s->slots[i]) i = (i + 1) & (s->nslots - 1);
    s->slots[i] = (uint32_t)(s->n + 1);
    s->n++;
    return RA_OK;
}

int ra__tick_streams_declare(ra__tick_streams *s, uint32_t id, const char *desc, size_t len,
                             uint64_t off, ra_tick_error *err)
{
    int r = ra__tick_streams_add(s, id, desc, len);
    if (r == RA_EINVAL)
        return ra__tick_err(err, RA_ECORRUPT, off, "stream %" PRIu32 " declared twice", id);
    if (r != RA_OK) return ra__tick_err(err, RA_ENOMEM, off, "out of memory");
    return RA_OK;
}

void ra__tick_streams_clear(ra__tick_streams *s)
{
    for (size_t k = 0; k < s->n; k++) free((void *)(uintptr_t)s->v[k].desc);
    s->n = 0;
    if (s->slots) memset(s->slots, 0, s->nslots * sizeof *s->slots);
}

void ra__tick_streams_free(ra__tick_streams *s)
{
    ra__tick_streams_clear(s);
    free(s->v);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- file header: encoder -------------------------------------------------------------------- */

uint8_t *ra__tick_hdr_encode(const char *const names[3], const ra__tick_streams *streams,
                             uint64_t created_ns, uint32_t max_payload, size_t *size,
                             bool *in_header)
{
    size_t lens[3], names_end = RA_TICK_HDR_FIXED;
    for (int k = 0; k < 3; k++) names_end += lens[k] = strlen(names[k]);
    names_end = ra__tick_align8(names_end);
    size_t at = names_end;
    for (size_t k = 0; k < streams->n; k++) at = ra__tick_align8(at + 8 + streams->v[k].desc_len);
    /* a table too big for the header goes out as stream records instead */
    bool table = ra__tick_align8(at + 4) <= RA_TICK_MAX_HEADER;
    size_t hs = (size_t)ra__tick_align8((table ? at : names_end) + 4);
    uint8_t *h = calloc(1, hs);
    if (!h) return NULL;
    memcpy(h, RA_TICK_MAGIC, RA_TICK_MAGIC_LEN);
    ra_store_le16(h + 8, RA_TICK_VERSION_MAJOR);
    ra_store_le16(h + 10, RA_TICK_VERSION_MINOR);
    ra_store_le32(h + 12, (uint32_t)hs);
    ra_store_le32(h + 16, 0); /* flags */
    ra_store_le32(h + 20, RA_TICK_REC_HDR);
    ra_store_le64(h + 24, created_ns);
    ra_store_le32(h + 32, max_payload);
    ra_store_le32(h + 36, table ? (uint32_t)streams->n : 0);
    at = RA_TICK_HDR_FIXED;
    for (int k = 0; k < 3; k++) {
        ra_store_le16(h + 40 + 2 * k, (uint16_t)lens[k]);
        memcpy(h + at, names[k], lens[k]);
        at += lens[k];
    }
    at = ra__tick_align8(at);
    for (size_t k = 0; table && k < streams->n; k++) {
        const ra_tick_stream *s = &streams->v[k];
        ra_store_le32(h + at, s->id);
        ra_store_le16(h + at + 4, (uint16_t)s->desc_len);
        memcpy(h + at + 8, s->desc, s->desc_len);
        at = ra__tick_align8(at + 8 + s->desc_len);
    }
    ra_store_le32(h + hs - 4, ra__tick_crc32c(h, hs - 4));
    *size = hs;
    *in_header = table;
    return h;
}

/* ---- file header: decoder -------------------------------------------------------------------- */

int ra__tick_hdr_start(const uint8_t *p, uint32_t *size, ra_tick_error *err)
{
    unsigned major = ra_load_le16(p + 8), minor = ra_load_le16(p + 10);
    uint32_t hs = ra_load_le32(p + 12);
    if (major == 0)
        return ra__tick_err(err, RA_EFORMAT, 8, "tick file version 0.%u does not exist", minor);
    if (major > RA_TICK_VERSION_MAJOR)
        return ra__tick_err(err, RA_EVERSION, 8,
                            "tick file version %u.%u is newer than this reader (%d.x): upgrade "
                            "ringalloc",
                            major, minor, RA_TICK_VERSION_MAJOR);
    if (hs < RA__TICK_HDR_MIN || hs > RA_TICK_MAX_HEADER || hs % 8)
        return ra__tick_err(err, RA_ECORRUPT, 12, "impossible header size %" PRIu32, hs);
    *size = hs;
    return RA_OK;
}

/* The fixed fields after the size: flags, record header size, max payload, stream count. */
static int ra__hdr_fields(const uint8_t *p, ra_tick_info *info, uint32_t *nstreams,
                          ra_tick_error *err)
{
    uint32_t flags = ra_load_le32(p + 16), rhs = ra_load_le32(p + 20);
    uint32_t maxp = ra_load_le32(p + 32), n = ra_load_le32(p + 36);
    if (flags & RA_TICK_FLAGS_REQUIRED)
        return ra__tick_err(err, RA_EVERSION, 16,
                            "tick file needs features this reader lacks (flags %08" PRIx32 ")",
                            flags);
    if (rhs < RA_TICK_REC_HDR || rhs > RA_TICK_MAX_REC_HDR || rhs % 8)
        return ra__tick_err(err, RA_ECORRUPT, 20, "impossible record header size %" PRIu32, rhs);
    if (maxp > RA_TICK_MAX_PAYLOAD)
        return ra__tick_err(err, RA_ECORRUPT, 32, "max payload %" PRIu32 " above the limit %u",
                            maxp, RA_TICK_MAX_PAYLOAD);
    if (n > RA_TICK_MAX_STREAMS)
        return ra__tick_err(err, RA_ECORRUPT, 36, "impossible stream count %" PRIu32, n);
    info->flags = flags;
    info->record_header_size = rhs;
    info->max_payload = maxp;
    *nstreams = n;
    return RA_OK;
}

/* The three names from byte 64 of a header whose CRC sits at `end`; *at moves past them
 * (aligned). */
static int ra__hdr_names(const uint8_t *p, size_t end, size_t *at, ra_tick_info *info, char **names,
                         ra_tick_error *err)
{
    size_t lens[3] = {ra_load_le16(p + 40), ra_load_le16(p + 42), ra_load_le16(p + 44)};
    size_t o = RA_TICK_HDR_FIXED;
    if (lens[0] + lens[1] + lens[2] > end - o)
        return ra__tick_err(err, RA_ECORRUPT, 40, "header names overrun the header");
    if (!ra__tick_no_nul(p + o, lens[0] + lens[1] + lens[2]))
        return ra__tick_err(err, RA_ECORRUPT, o, "NUL byte in the header names");
    char *nm = *names = malloc(lens[0] + lens[1] + lens[2] + 3);
    if (!nm) return ra__tick_err(err, RA_ENOMEM, 0, "out of memory");
    const char **dst[3] = {&info->source_format, &info->framing, &info->creator};
    for (size_t k = 0; k < 3; k++) {
        memcpy(nm, p + o, lens[k]);
        nm[lens[k]] = '\0';
        *dst[k] = nm;
        o += lens[k];
        nm += lens[k] + 1;
    }
    *at = (size_t)ra__tick_align8(o);
    return RA_OK;
}

/* The header's stream table: n entries from `at`, before the CRC at `end`. */
static int ra__hdr_streams(const uint8_t *p, size_t end, size_t at, uint32_t n,
                           ra__tick_streams *streams, ra_tick_error *err)
{
    for (uint32_t k = 0; k < n; k++) {
        if (at > end || end - at < 8)
            return ra__tick_err(err, RA_ECORRUPT, at, "stream table overruns the header");
        uint32_t id = ra_load_le32(p + at);
        size_t dl = ra_load_le16(p + at + 4);
        if (dl > end - at - 8)
            return ra__tick_err(err, RA_ECORRUPT, at, "stream description overruns the header");
        if (!ra__tick_no_nul(p + at + 8, dl))
            return ra__tick_err(err, RA_ECORRUPT, at, "NUL byte in a stream description");
        int r = ra__tick_streams_declare(streams, id, (const char *)(p + at + 8), dl, at, err);
        if (r != RA_OK) return r;
        at = (size_t)ra__tick_align8(at + 8 + dl);
    }
    if (at > end) return ra__tick_err(err, RA_ECORRUPT, end, "stream table overruns the header");
    return RA_OK;
}

int ra__tick_hdr_decode(const uint8_t *p, uint32_t size, ra_tick_info *info, char **names,
                        ra__tick_streams *streams, ra_tick_error *err)
{
    size_t end = size - 4, at = 0;
    uint32_t crc = ra_load_le32(p + end), want = ra__tick_crc32c(p, end);
    if (crc != want)
        return ra__tick_err(
            err, RA_ECORRUPT, end,
            "header checksum mismatch (stored %08" PRIx32 ", computed %08" PRIx32 ")", crc, want);
    ra_tick_info h = {0};
    uint32_t nstreams = 0;
    int rc = ra__hdr_fields(p, &h, &nstreams, err);
    if (rc == RA_OK) rc = ra__hdr_names(p, end, &at, &h, names, err);
    if (rc == RA_OK) rc = ra__hdr_streams(p, end, at, nstreams, streams, err);
    if (rc != RA_OK) return rc;
    h.version_major = ra_load_le16(p + 8);
    h.version_minor = ra_load_le16(p + 10);
    h.created_ns = ra_load_le64(p + 24);
    h.streams = streams->v;
    h.nstreams = streams->n;
    h.header_streams = streams->n;
    h.header_size = size;
    *info = h;
    return RA_OK;
}

/* ---- probing --------------------------------------------------------------------------------- */

static const uint8_t ra__zmagic_bytes[4] = {0x28, 0xB5, 0x2F, 0xFD};

bool ra__tick_could_start(const uint8_t *p, size_t n)
{
    return ra__tick_prefix_of(p, n, (const uint8_t *)RA_TICK_MAGIC, RA_TICK_MAGIC_LEN) ||
           ra__tick_prefix_of(p, n, ra__zmagic_bytes, 4);
}

/* Decompresses the first bytes of zstd input p[0..len) into head[RA_TICK_MAGIC_LEN].
 * @return the bytes produced, or -1 when the input is not valid zstd. */
static long ra__probe_inflate(const uint8_t *p, size_t len, uint8_t *head)
{
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc) return -1;
    ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, RA__TICK_WINDOW_LOG);
    ZSTD_outBuffer out = {head, RA_TICK_MAGIC_LEN, 0};
    ZSTD_inBuffer in = {p, len, 0};
    long res = 0;
    while (out.pos < out.size) {
        size_t before = in.pos, got = out.pos;
        size_t r = ZSTD_decompressStream(dc, &out, &in);
        if (ZSTD_isError(r)) {
            res = -1;
            break;
        }
        if (in.pos == before && out.pos == got) break; /* needs more input */
    }
    if (res == 0) res = (long)out.pos;
    ZSTD_freeDCtx(dc);
    return res;
}

RA_API int ra_tick_probe(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    if (!p || len == 0) return RA_TICK_PROBE_MORE;
    const uint8_t *magic = (const uint8_t *)RA_TICK_MAGIC;
    if (len >= RA_TICK_MAGIC_LEN && memcmp(p, magic, RA_TICK_MAGIC_LEN) == 0)
        return RA_TICK_PROBE_PLAIN;
    if (len < 4) return ra__tick_could_start(p, len) ? RA_TICK_PROBE_MORE : RA_TICK_PROBE_NO;
    if (!ra__tick_is_zstd_magic(p)) {
        return ra__tick_prefix_of(p, len, magic, RA_TICK_MAGIC_LEN) ? RA_TICK_PROBE_MORE
                                                                    : RA_TICK_PROBE_NO;
    }
    uint8_t head[RA_TICK_MAGIC_LEN];
    long got = ra__probe_inflate(p, len, head);
    if (got < 0 || !ra__tick_prefix_of(head, (size_t)got, magic, RA_TICK_MAGIC_LEN))
        return RA_TICK_PROBE_NO;
    return got == RA_TICK_MAGIC_LEN ? RA_TICK_PROBE_ZSTD : RA_TICK_PROBE_MORE;
}
