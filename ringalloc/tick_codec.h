/* tick_codec.h - internal: the bytes of the native tick file, shared by its decoder and writer */
#ifndef RINGALLOC_TICK_CODEC_H
#define RINGALLOC_TICK_CODEC_H

/*
 * docs/tickfile.md specifies every byte. What both sides need lives here: constants, the two
 * checks, the record header and the small fixed payloads (end record, mark) as static inline
 * encoders and decoders (the decoder's per-record path must inline them), and the declarations
 * of tick_codec.c: error formatting, CRC-32C, the stream table, the file header's encoder and
 * decoder, format detection. The decoder (tick_decoder.c), the reader over it (tick_reader.c)
 * and the writer (tick_writer.c) hold no byte layout of their own.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ringalloc/byteorder.h"
#include "ringalloc/tickfile.h"

#define RA__TICK_HDR_MIN    (RA_TICK_HDR_FIXED + 8u) /* smallest file header: fixed part + CRC */
#define RA__TICK_END_LEN    16u                      /* end record payload: records, bytes */
#define RA__TICK_WINDOW_LOG 27 /* decoder window limit: 128 MiB (zstd's own default) */

static inline uint64_t ra__tick_align8(uint64_t n)
{
    return (n + 7u) & ~(uint64_t)7u;
}

/* ---- errors ---------------------------------------------------------------------------------- */

/* Sets status, offset and message of *e (comp_offset and frame_offset are left to the caller).
 * @return status. */
int ra__tick_verr(ra_tick_error *e, int status, uint64_t off, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
__attribute__((format(printf, 4, 5))) int ra__tick_err(ra_tick_error *e, int status, uint64_t off,
                                                       const char *fmt, ...);

/* ---- checks ---------------------------------------------------------------------------------- */

/* CRC-32C (Castagnoli) of the file header. */
uint32_t ra__tick_crc32c(const uint8_t *p, size_t n);

static inline uint64_t ra__tick_rotl(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64u - r));
}

/* The record header check (docs/tickfile.md, "Record check") of the 32 bytes at p, whose check
 * field (bytes 12..15) does not enter. Each word enters through an injective map (xor with a
 * constant, multiply by an odd constant, rotate), so a change confined to one field always
 * changes `h`; the final mix spreads any change of `h` over the 32 bits. */
static inline uint32_t ra__tick_rec_check(const uint8_t *p)
{
    uint64_t a = (ra_load_le64(p) ^ 0x52544B3100000000ull) * 0x9E3779B97F4A7C15ull;
    uint64_t b = ((uint64_t)ra_load_le32(p + 8) ^ 0x73747265ull) * 0xC2B2AE3D27D4EB4Full;
    uint64_t c = ra_load_le64(p + 16) * 0x165667B19E3779F9ull;
    uint64_t e = ra_load_le64(p + 24) * 0xD6E8FEB86659FD93ull;
    uint64_t h = a ^ ra__tick_rotl(b, 17) ^ ra__tick_rotl(c, 31) ^ ra__tick_rotl(e, 47);
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

/* ---- records: u32 len, u16 type, u16 kind, u32 stream, u32 check, u64 seq, u64 ts ----------- */

static inline uint32_t ra__tick_rec_len(const uint8_t *h)
{
    return ra_load_le32(h);
}

static inline uint16_t ra__tick_rec_kind(const uint8_t *h)
{
    return ra_load_le16(h + 6);
}

static inline bool ra__tick_rec_check_ok(const uint8_t *h)
{
    return ra_load_le32(h + 12) == ra__tick_rec_check(h);
}

/* A string of the file (name, stream description) holds no NUL. */
static inline bool ra__tick_no_nul(const uint8_t *p, size_t n)
{
    return n == 0 || memchr(p, 0, n) == NULL;
}

/* Bytes of a record: its header (rhs bytes), the payload, padding to 8. */
static inline size_t ra__tick_rec_size(size_t rhs, uint32_t len)
{
    return (size_t)ra__tick_align8((uint64_t)rhs + len);
}

/* Writes a version-1.0 record header (RA_TICK_REC_HDR bytes) with its check. */
static inline void ra__tick_rec_put(uint8_t *h, uint32_t len, uint16_t type, uint16_t kind,
                                    uint32_t stream, uint64_t seq, uint64_t ts)
{
    ra_store_le32(h, len);
    ra_store_le16(h + 4, type);
    ra_store_le16(h + 6, kind);
    ra_store_le32(h + 8, stream);
    ra_store_le64(h + 16, seq);
    ra_store_le64(h + 24, ts);
    ra_store_le32(h + 12, ra__tick_rec_check(h));
}

/* Fills a data record from a whole record at h (header of rhs bytes), but for rec->len (the
 * caller read it with ra__tick_rec_len() to bound the record) and rec->offset. */
static inline void ra__tick_rec_get(const uint8_t *h, size_t rhs, ra_tick_record *rec)
{
    rec->type = ra_load_le16(h + 4);
    rec->stream = ra_load_le32(h + 8);
    rec->seq = ra_load_le64(h + 16);
    rec->ts_ns = ra_load_le64(h + 24);
    rec->data = h + rhs;
}

/* Mark payload (1.1): u32 count, u16 flags, u16 framing (RA_TICK_MARK_LEN bytes). */
static inline void ra__tick_mark_put(uint8_t *pl, const ra_tick_mark *m)
{
    ra_store_le32(pl, m->count);
    ra_store_le16(pl + 4, m->flags);
    ra_store_le16(pl + 6, m->framing);
}

/* Fills a mark from a whole mark record at h (payload of at least RA_TICK_MARK_LEN bytes);
 * not m->offset. */
static inline void ra__tick_mark_get(const uint8_t *h, size_t rhs, ra_tick_mark *m)
{
    const uint8_t *pl = h + rhs;
    m->stream = ra_load_le32(h + 8);
    m->seq = ra_load_le64(h + 16);
    m->ts_ns = ra_load_le64(h + 24);
    m->count = ra_load_le32(pl);
    m->flags = ra_load_le16(pl + 4);
    m->framing = ra_load_le16(pl + 6);
}

/* End record payload: u64 data records, u64 data payload bytes (RA__TICK_END_LEN bytes). */
static inline void ra__tick_end_put(uint8_t *pl, uint64_t records, uint64_t bytes)
{
    ra_store_le64(pl, records);
    ra_store_le64(pl + 8, bytes);
}

/* ---- stream table (open addressing on the id) ------------------------------------------------ */

typedef struct ra__tick_streams {
    ra_tick_stream *v; /* in declaration order; each desc malloc'd and NUL-terminated */
    size_t n, cap;
    uint32_t *slots; /* index + 1 into v, 0 = empty */
    size_t nslots;   /* a power of two, at least twice n */
} ra__tick_streams;

static inline size_t ra__tick_slot_of(uint32_t id, size_t nslots)
{
    return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

/* @return the index of stream `id` in s->v, or -1 when it is not declared. */
static inline long ra__tick_streams_find(const ra__tick_streams *s, uint32_t id)
{
    if (s->nslots == 0) return -1;
    for (size_t i = ra__tick_slot_of(id, s->nslots);; i = (i + 1) & (s->nslots - 1)) {
        uint32_t k = s->slots[i];
        if (k == 0) return -1;
        if (s->v[k - 1].id == id) return (long)(k - 1);
    }
}

/* Adds stream `id` with a copy of desc[0..len). @return RA_OK, RA_EINVAL (id already declared)
 * or RA_ENOMEM. */
int ra__tick_streams_add(ra__tick_streams *s, uint32_t id, const char *desc, size_t len);

/* ra__tick_streams_add() for a stream read from a file (header table or stream record at .rtk
 * offset `off`). @return RA_OK, or RA_ECORRUPT (declared twice) or RA_ENOMEM with *err set. */
int ra__tick_streams_declare(ra__tick_streams *s, uint32_t id, const char *desc, size_t len,
                             uint64_t off, ra_tick_error *err);

/* Forgets every stream, keeping the arrays. */
void ra__tick_streams_clear(ra__tick_streams *s);

/* Frees everything; *s is then empty and reusable. */
void ra__tick_streams_free(ra__tick_streams *s);

/* ---- file header ----------------------------------------------------------------------------- */

/* The writer's header: names[] = format, framing, creator (each at most 65535 bytes) and the
 * stream table when the whole header fits in RA_TICK_MAX_HEADER (*in_header says whether it
 * did; if not, the streams must follow as stream records).
 * @return the header (malloc'd, *size bytes, CRC set), or NULL when out of memory. */
uint8_t *ra__tick_hdr_encode(const char *const names[3], const ra__tick_streams *streams,
                             uint64_t created_ns, uint32_t max_payload, size_t *size,
                             bool *in_header);

/* Checks the first 16 bytes of a header past its magic: version and header size.
 * @return RA_OK and *size set; RA_EFORMAT (version 0), RA_EVERSION (a newer major) or
 *         RA_ECORRUPT (impossible size), with *err set. */
int ra__tick_hdr_start(const uint8_t *p, uint32_t *size, ra_tick_error *err);

/* Decodes a whole header of `size` bytes (accepted by ra__tick_hdr_start()): checksum, fields,
 * names (into *names: format \0 framing \0 creator \0, malloc'd) and stream table (into
 * *streams). Fills every field of *info but `compressed`.
 * @return RA_OK; RA_ECORRUPT, RA_EVERSION or RA_ENOMEM with *err set (*names may then be set:
 *         the caller frees it either way). */
int ra__tick_hdr_decode(const uint8_t *p, uint32_t size, ra_tick_info *info, char **names,
                        ra__tick_streams *streams, ra_tick_error *err);

/* ---- format detection ------------------------------------------------------------------------ */

/* The 4 bytes at p open a zstd frame or a zstd skippable frame. */
static inline bool ra__tick_is_zstd_magic(const uint8_t *p)
{
    uint32_t m = ra_load_le32(p);
    return m == RA_TICK_ZSTD_MAGIC || (m & 0xFFFFFFF0u) == 0x184D2A50u;
}

/* p[0..n) is a prefix of magic[0..mlen) (so n <= mlen). */
static inline bool ra__tick_prefix_of(const uint8_t *p, size_t n, const uint8_t *magic, size_t mlen)
{
    return n <= mlen && (n == 0 || memcmp(p, magic, n) == 0);
}

/* p[0..n) (n < 4) could start a tick file: a prefix of the .rtk or of the zstd magic. */
bool ra__tick_could_start(const uint8_t *p, size_t n);

#endif /* RINGALLOC_TICK_CODEC_H */
