/* dbn.h - Databento DBN: the metadata header and the record framing, parsed from bytes alone
 *
 * Pure functions over buffers (no I/O), so that the parser can be tested and fuzzed on its own;
 * in_dbn.c reads files through them. Layout facts are in docs/replay.md ("Databento DBN").
 */
#ifndef RP_DBN_H
#define RP_DBN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_DBN_PRELUDE     8u   /* "DBN", version byte, u32 little-endian metadata length */
#define RP_DBN_FIXED       100u /* fixed metadata fields after the prelude (every version) */
#define RP_DBN_MAX_VERSION 3u   /* the newest version read */
#define RP_DBN_REC_HDR     16u  /* record header: length, rtype, publisher, instrument, ts_event */
#define RP_DBN_TS_OUT      8u   /* the ts_out trailer of each record when metadata says ts_out */
#define RP_DBN_MAX_RECORD  (255u * 4u) /* the length byte counts 4-byte words */
#define RP_DBN_MAX_METADATA                                                                        \
    (256u << 20)                  /* metadata bytes replay accepts (a larger length lies)          \
                                   */
#define RP_DBN_NO_SCHEMA  0xFFFFu /* schema of a stream mixing record types */
#define RP_DBN_NO_STYPE   0xFFu   /* stype_in of a stream mixing symbologies */
#define RP_DBN_SYMBOL_CAP 72u     /* symbol buffer: the longest cstr (71) + NUL */

/* The four symbol lists of the metadata. */
enum rp_dbn_list { RP_DBN_SYMBOLS, RP_DBN_PARTIAL, RP_DBN_NOT_FOUND, RP_DBN_MAPPINGS };

/* Parsed metadata. The lists stay in the raw bytes (`raw`, the metadata after the prelude), found
 * through the offsets; the accessors below read them. */
typedef struct rp_dbn_meta {
    uint8_t version;
    bool fragment;         /* no header: a headerless fragment read with a version given */
    char dataset[17];      /* printable ASCII ('?' for other bytes) */
    uint16_t schema;       /* RP_DBN_NO_SCHEMA: mixed */
    uint64_t start, end;   /* ns since the epoch; end 0: not given */
    uint64_t limit;        /* 0: no limit */
    uint64_t record_count; /* version 1 only (UINT64_MAX there and in later versions: unknown) */
    uint8_t stype_in, stype_out;
    bool ts_out;
    uint16_t symbol_cstr_len; /* 22 in version 1; from the header in later versions */
    uint32_t count[4];        /* entries of each list (mappings: raw symbols) */
    uint32_t list_off[4];     /* offset in raw of each list's first entry */
    uint64_t intervals;       /* mapping intervals in all */
    const uint8_t *raw;       /* the metadata bytes (not owned unless through rp_dbn_meta_copy) */
    uint32_t raw_len;
} rp_dbn_meta;

/* rp_dbn_prelude() : the version and metadata length of p[0..n) (n >= RP_DBN_PRELUDE).
 * @return 0; -1 when p does not start with "DBN"; -2 for a version replay does not read
 *         (0 or above RP_DBN_MAX_VERSION); -3 for a metadata length below RP_DBN_FIXED or above
 *         RP_DBN_MAX_METADATA. */
int rp_dbn_prelude(const uint8_t *p, size_t n, uint8_t *version, uint32_t *len);

/* rp_dbn_meta_parse() : parses the metadata of `version` (raw[0..len): the bytes after the
 * prelude) into *m, which points into raw afterwards. Every length is checked against len; bytes
 * after the symbol mappings must be zero (padding), so a length that swallows records fails.
 * @return 0, or -1 with what is wrong in why and its offset in raw in *at. */
int rp_dbn_meta_parse(uint8_t version, const uint8_t *raw, uint32_t len, rp_dbn_meta *m,
                      uint32_t *at, char *why, size_t cap);

/* rp_dbn_meta_fragment() : the metadata of a headerless fragment of `version`: only the version
 * and the fixed symbol length are known. */
void rp_dbn_meta_fragment(uint8_t version, rp_dbn_meta *m);

/* rp_dbn_meta_copy() : a heap copy of m that owns its raw bytes.
 * @return it, or NULL when out of memory. Free with rp_dbn_meta_free(). */
rp_dbn_meta *rp_dbn_meta_copy(const rp_dbn_meta *m);
void rp_dbn_meta_free(rp_dbn_meta *m);

/* rp_dbn_symbol() : entry i of list l (not RP_DBN_MAPPINGS) into buf (RP_DBN_SYMBOL_CAP bytes),
 * NUL-terminated, bytes outside printable ASCII shown as '?'. @return buf ("" out of range). */
const char *rp_dbn_symbol(const rp_dbn_meta *m, enum rp_dbn_list l, uint32_t i, char *buf);

/* A walk over the symbol mappings: raw symbol, then its intervals. */
typedef struct rp_dbn_walk {
    uint32_t off, left_maps, left_intervals;
} rp_dbn_walk;

void rp_dbn_walk_init(const rp_dbn_meta *m, rp_dbn_walk *w);

/* rp_dbn_walk_mapping() : the next mapping's raw symbol into buf (RP_DBN_SYMBOL_CAP bytes) and
 * its interval count. @return 1, or 0 when none is left. */
int rp_dbn_walk_mapping(const rp_dbn_meta *m, rp_dbn_walk *w, char *buf, uint32_t *nintervals);

/* rp_dbn_walk_interval() : the next interval of the current mapping: dates as YYYYMMDD, symbol
 * into buf. @return 1, or 0 when the mapping has no more. */
int rp_dbn_walk_interval(const rp_dbn_meta *m, rp_dbn_walk *w, uint32_t *start_date,
                         uint32_t *end_date, char *buf);

/* rp_dbn_each_instrument() : calls fn(ctx, id, raw) for every interval of every mapping whose
 * symbol is an instrument id (decimal, at most 2^32 - 1), raw being the mapping's raw symbol.
 * @return 0, or the first nonzero value fn returned (the walk stops there). */
int rp_dbn_each_instrument(const rp_dbn_meta *m, int (*fn)(void *ctx, uint32_t id, const char *raw),
                           void *ctx);

/* rp_dbn_schema_name() / rp_dbn_stype_name() : "mbo", "mbp-1", ... / "raw_symbol", ...
 * @return the name, or NULL for a value DBN does not define. */
const char *rp_dbn_schema_name(uint16_t schema);
const char *rp_dbn_stype_name(uint8_t stype);

/* rp_dbn_record_len() : the length in bytes of the record starting p[0..n) (n >= 1).
 * @return the length (a multiple of 4, at least the header, plus the ts_out trailer when
 *         ts_out), or 0 when the length byte is below that minimum. */
static inline uint32_t rp_dbn_record_len(const uint8_t *p, bool ts_out)
{
    uint32_t len = (uint32_t)p[0] * 4u;
    return len >= RP_DBN_REC_HDR + (ts_out ? RP_DBN_TS_OUT : 0u) ? len : 0u;
}

/* rp_dbn_record_ts() : the time of a whole record rec[0..len) (len from rp_dbn_record_len):
 * ts_recv where its rtype has one inside the record (before any ts_out trailer), else ts_event.
 * @return ns since the epoch. */
uint64_t rp_dbn_record_ts(const uint8_t *rec, uint32_t len, bool ts_out);

#endif /* RP_DBN_H */
