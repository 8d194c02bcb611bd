/* dbn.c - Databento DBN: the metadata header and the record framing, parsed from bytes alone
 *
 * Design notes
 * - Written by hand from Databento's public description of the encoding (no Debian package
 *   decodes DBN). Everything is little-endian. The prelude is "DBN", a version byte and the u32
 *   length of the metadata that follows; the metadata starts with 100 fixed bytes (dataset,
 *   schema, start, end, limit, version 1's record count, stype in and out, ts_out, from version 2
 *   the symbol string length, reserved bytes), then the length of a schema definition (skipped),
 *   the symbols, partial and not-found lists (u32 count, fixed-length C strings) and the symbol
 *   mappings (u32 count; each a raw symbol, a u32 interval count and intervals of two u32
 *   YYYYMMDD dates and a symbol). Encoders pad the metadata with zeros to a multiple of 8.
 * - The parse checks every count against the bytes that remain before it multiplies, so a lying
 *   count or length fails with the offset of the field, never reads past the buffer and never
 *   allocates: the lists are read in place through offsets.
 * - A record starts with its length in 4-byte words; the rest of its 16-byte header is the rtype,
 *   the publisher, the instrument and ts_event. With ts_out the 8-byte send time closes every
 *   record and the length counts it. The record time is ts_recv for the rtypes that carry one
 *   (the offsets below, the same in versions 1 to 3), ts_event otherwise.
 */
#include "dbn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"
#include "util.h"

int rp_dbn_prelude(const uint8_t *p, size_t n, uint8_t *version, uint32_t *len)
{
    if (n < RP_DBN_PRELUDE || memcmp(p, "DBN", 3) != 0) return -1;
    *version = p[3];
    *len = ra_load_le32(p + 4);
    if (p[3] == 0 || p[3] > RP_DBN_MAX_VERSION) return -2;
    if (*len < RP_DBN_FIXED || *len > RP_DBN_MAX_METADATA) return -3;
    return 0;
}

/* The cursor of a metadata parse: fails with the field's offset when bytes run out. */
typedef struct rp__cur {
    const uint8_t *p;
    uint32_t len, off;
    uint32_t *at;
    char *why;
    size_t cap;
} rp__cur;

static int rp__short(rp__cur *c, const char *what, uint64_t need)
{
    *c->at = c->off;
    snprintf(c->why, c->cap,
             "%s needs %llu bytes but the metadata length leaves %u (metadata cut short, or its "
             "length lies)",
             what, (unsigned long long)need, c->len - c->off);
    return -1;
}

/* Moves past n bytes of `what`. @return 0, or -1 when fewer remain. */
static int rp__take(rp__cur *c, uint64_t n, const char *what)
{
    if (n > c->len - c->off) return rp__short(c, what, n);
    c->off += (uint32_t)n;
    return 0;
}

static int rp__u32(rp__cur *c, uint32_t *v, const char *what)
{
    if (c->len - c->off < 4) return rp__short(c, what, 4);
    *v = ra_load_le32(c->p + c->off);
    c->off += 4;
    return 0;
}

/* The fixed fields of `version`. */
static void rp__fixed(uint8_t version, const uint8_t *p, rp_dbn_meta *m)
{
    for (size_t i = 0; i < 16; i++)
        m->dataset[i] = p[i] == 0 ? '\0' : p[i] >= 0x20 && p[i] < 0x7F ? (char)p[i] : '?';
    m->dataset[16] = '\0';
    m->schema = ra_load_le16(p + 16);
    m->start = ra_load_le64(p + 18);
    m->end = ra_load_le64(p + 26);
    m->limit = ra_load_le64(p + 34);
    size_t k = 42;
    m->record_count = UINT64_MAX;
    if (version == 1) {
        m->record_count = ra_load_le64(p + 42);
        k = 50;
    }
    m->stype_in = p[k];
    m->stype_out = p[k + 1];
    m->ts_out = p[k + 2] != 0;
    m->symbol_cstr_len = version == 1 ? 22 : ra_load_le16(p + k + 3);
}

/* The symbol mappings: u32 count; each a raw symbol, u32 interval count, intervals. */
static int rp__mappings(rp__cur *c, rp_dbn_meta *m)
{
    uint32_t cs = m->symbol_cstr_len, n;
    if (rp__u32(c, &m->count[RP_DBN_MAPPINGS], "the mapping count") != 0) return -1;
    m->list_off[RP_DBN_MAPPINGS] = c->off;
    for (uint32_t i = 0; i < m->count[RP_DBN_MAPPINGS]; i++) {
        if (rp__take(c, cs, "a mapping's raw symbol") != 0 ||
            rp__u32(c, &n, "a mapping's interval count") != 0 ||
            rp__take(c, (uint64_t)n * (8u + cs), "a mapping's intervals") != 0)
            return -1;
        m->intervals += n;
    }
    return 0;
}

int rp_dbn_meta_parse(uint8_t version, const uint8_t *raw, uint32_t len, rp_dbn_meta *m,
                      uint32_t *at, char *why, size_t cap)
{
    static const char *const names[] = {"the symbols", "the partial symbols",
                                        "the symbols not found"};
    memset(m, 0, sizeof *m);
    rp__cur c = {.p = raw, .len = len, .at = at, .why = why, .cap = cap};
    m->version = version;
    m->raw = raw;
    m->raw_len = len;
    if (rp__take(&c, RP_DBN_FIXED, "the fixed metadata fields") != 0) return -1;
    rp__fixed(version, raw, m);
    if (m->symbol_cstr_len == 0) {
        *at = 45;
        snprintf(why, cap, "symbol string length 0");
        return -1;
    }
    uint32_t schema_def;
    if (rp__u32(&c, &schema_def, "the schema definition length") != 0 ||
        rp__take(&c, schema_def, "the schema definition") != 0)
        return -1;
    for (int l = RP_DBN_SYMBOLS; l <= RP_DBN_NOT_FOUND; l++) {
        if (rp__u32(&c, &m->count[l], names[l]) != 0) return -1;
        m->list_off[l] = c.off;
        if (rp__take(&c, (uint64_t)m->count[l] * m->symbol_cstr_len, names[l]) != 0) return -1;
    }
    if (rp__mappings(&c, m) != 0) return -1;
    for (uint32_t k = c.off; k < len; k++) {
        if (raw[k] != 0) {
            *at = k;
            snprintf(why, cap,
                     "%u bytes after the symbol mappings are not zero padding (the metadata "
                     "length %u lies)",
                     len - c.off, len);
            return -1;
        }
    }
    return 0;
}

void rp_dbn_meta_fragment(uint8_t version, rp_dbn_meta *m)
{
    memset(m, 0, sizeof *m);
    m->version = version;
    m->fragment = true;
    m->schema = RP_DBN_NO_SCHEMA;
    m->stype_in = RP_DBN_NO_STYPE;
    m->record_count = UINT64_MAX;
    m->symbol_cstr_len = version == 1 ? 22 : 71;
}

rp_dbn_meta *rp_dbn_meta_copy(const rp_dbn_meta *m)
{
    rp_dbn_meta *c = malloc(sizeof *c + m->raw_len);
    if (!c) return NULL;
    *c = *m;
    if (m->raw_len) memcpy(c + 1, m->raw, m->raw_len);
    c->raw = (const uint8_t *)(c + 1);
    return c;
}

void rp_dbn_meta_free(rp_dbn_meta *m)
{
    free(m);
}

/* A fixed-length C string at raw[off] into buf: NUL-terminated, shown as printable ASCII. */
static const char *rp__cstr(const rp_dbn_meta *m, uint32_t off, char *buf)
{
    uint32_t n =
        m->symbol_cstr_len < RP_DBN_SYMBOL_CAP ? m->symbol_cstr_len : RP_DBN_SYMBOL_CAP - 1;
    uint32_t k = 0;
    for (; k < n && m->raw[off + k] != 0; k++) {
        uint8_t b = m->raw[off + k];
        buf[k] = b >= 0x20 && b < 0x7F ? (char)b : '?';
    }
    buf[k] = '\0';
    return buf;
}

const char *rp_dbn_symbol(const rp_dbn_meta *m, enum rp_dbn_list l, uint32_t i, char *buf)
{
    buf[0] = '\0';
    if (l == RP_DBN_MAPPINGS || i >= m->count[l]) return buf;
    return rp__cstr(m, m->list_off[l] + i * (uint32_t)m->symbol_cstr_len, buf);
}

void rp_dbn_walk_init(const rp_dbn_meta *m, rp_dbn_walk *w)
{
    *w = (rp_dbn_walk){.off = m->list_off[RP_DBN_MAPPINGS],
                       .left_maps = m->count[RP_DBN_MAPPINGS],
                       .left_intervals = 0};
}

int rp_dbn_walk_mapping(const rp_dbn_meta *m, rp_dbn_walk *w, char *buf, uint32_t *nintervals)
{
    w->off += w->left_intervals * (8u + m->symbol_cstr_len); /* intervals not walked */
    w->left_intervals = 0;
    if (w->left_maps == 0) return 0;
    w->left_maps--;
    rp__cstr(m, w->off, buf);
    w->off += m->symbol_cstr_len;
    *nintervals = w->left_intervals = ra_load_le32(m->raw + w->off);
    w->off += 4;
    return 1;
}

int rp_dbn_walk_interval(const rp_dbn_meta *m, rp_dbn_walk *w, uint32_t *start_date,
                         uint32_t *end_date, char *buf)
{
    if (w->left_intervals == 0) return 0;
    w->left_intervals--;
    *start_date = ra_load_le32(m->raw + w->off);
    *end_date = ra_load_le32(m->raw + w->off + 4);
    rp__cstr(m, w->off + 8, buf);
    w->off += 8u + m->symbol_cstr_len;
    return 1;
}

const char *rp_dbn_schema_name(uint16_t schema)
{
    static const char *const names[] = {
        "mbo",      "mbp-1",    "mbp-10",     "tbbo",       "trades", "ohlcv-1s",  "ohlcv-1m",
        "ohlcv-1h", "ohlcv-1d", "definition", "statistics", "status", "imbalance", "ohlcv-eod",
        "cmbp-1",   "cbbo-1s",  "cbbo-1m",    "tcbbo",      "bbo-1s", "bbo-1m"};
    return schema < sizeof names / sizeof names[0] ? names[schema] : NULL;
}

const char *rp_dbn_stype_name(uint8_t stype)
{
    static const char *const names[] = {
        "instrument_id",   "raw_symbol", "smart",      "continuous", "parent",
        "nasdaq_symbol",   "cms_symbol", "isin",       "us_code",    "bbg_comp_id",
        "bbg_comp_ticker", "figi",       "figi_ticker"};
    return stype < sizeof names / sizeof names[0] ? names[stype] : NULL;
}

/* Offset of ts_recv by rtype, 0 for none: market by price (0x00 trades, 0x01, 0x0a) and the
 * consolidated and subsampled quotes (0xb1, 0xc0..0xc4) at 32, market by order (0xa0) at 40,
 * status, definition, imbalance and statistics (0x12, 0x13, 0x14, 0x18) right after the header. */
static const uint8_t rp__ts_recv_at[256] = {
    [0x00] = 32, [0x01] = 32, [0x0A] = 32, [0x12] = 16, [0x13] = 16, [0x14] = 16, [0x18] = 16,
    [0xA0] = 40, [0xB1] = 32, [0xC0] = 32, [0xC1] = 32, [0xC2] = 32, [0xC3] = 32, [0xC4] = 32};

uint64_t rp_dbn_record_ts(const uint8_t *rec, uint32_t len, bool ts_out)
{
    uint32_t at = rp__ts_recv_at[rec[1]];
    uint32_t body = len - (ts_out ? RP_DBN_TS_OUT : 0u);
    if (at && at + 8u <= body) return ra_load_le64(rec + at);
    return ra_load_le64(rec + 8);
}

int rp_dbn_each_instrument(const rp_dbn_meta *m, int (*fn)(void *ctx, uint32_t id, const char *raw),
                           void *ctx)
{
    rp_dbn_walk w;
    char raw[RP_DBN_SYMBOL_CAP], sym[RP_DBN_SYMBOL_CAP];
    uint32_t nint, sd, ed;
    uint64_t id;
    int rc;
    rp_dbn_walk_init(m, &w);
    while (rp_dbn_walk_mapping(m, &w, raw, &nint))
        while (rp_dbn_walk_interval(m, &w, &sd, &ed, sym))
            if (rp_parse_u64(sym, &id) == 0 && id <= UINT32_MAX &&
                (rc = fn(ctx, (uint32_t)id, raw)) != 0)
                return rc;
    return 0;
}
