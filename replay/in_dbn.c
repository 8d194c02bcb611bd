/* in_dbn.c - replay's Databento DBN input (versions 1 to 3), and headerless DBN fragments
 *
 * Design notes
 * - The metadata is read whole at open (its length is in the prelude; the buffer grows with the
 *   bytes that actually arrive, so a lying length costs no memory) and parsed by dbn.c, which
 *   checks every field against that length. `replay info` shows it (rp_input_desc.dbn).
 * - Each record is one message: type = rtype, time = ts_recv where the record has one, else
 *   ts_event (dbn.c); the length byte counts 4-byte words and, with ts_out, covers the 8-byte
 *   send time that ends each record. Records are handed out in place, as many per call as the
 *   window holds (up to max): rp_zread_peek_some() guarantees one whole record (at most 1020
 *   bytes) unless the input ends, and the bytes handed out are skipped at the next call.
 * - DBN has no way to find the next record after a bad length, so a length below the header
 *   (0 included) is an input error naming the record and its byte offset, and so is a record
 *   running past the end of an input that ended cleanly; only a zstd stream that ends inside a
 *   frame (the decompressor says so) makes a cut last record the usual truncation warning.
 * - Fragments (format dbn-frag) are records without the prelude and metadata, as DBN streams
 *   cut apart; their version comes from --dbn-version (default RP_DBN_MAX_VERSION) and only
 *   shows in `replay info`: record framing is the same in every version. ts_out is off.
 */
#include <stdlib.h>
#include <string.h>

#include "dbn.h"
#include "input.h"

typedef struct rp__dbn {
    rp_dbn_meta meta;
    uint8_t *raw;   /* the metadata bytes (meta points into them) */
    size_t pending; /* bytes handed out by the last call, skipped at the next */
} rp__dbn;

static bool rp__probe(const uint8_t *p, size_t n)
{
    return n >= 4 && memcmp(p, "DBN", 3) == 0; /* any version: open() names one it cannot read */
}

static bool rp__probe_none(const uint8_t *p, size_t n)
{
    (void)p;
    (void)n;
    return false;
}

static const char *rp__after_zstd(const rp_source *s)
{
    return rp_zread_compressed(s->z) ? " (after zstd decompression)" : "";
}

/* Reads the len metadata bytes that follow the prelude into b->raw.
 * @return 0, or -1 after rp_source_fail() (cut short, read error, no memory). */
static int rp__read_meta(rp_source *s, rp__dbn *b, uint32_t len)
{
    size_t have = 0, cap = 0;
    while (have < len) {
        if (have == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > len) cap = len;
            uint8_t *nb = realloc(b->raw, cap);
            if (!nb) {
                rp_source_fail(s, "%s: out of memory for %u bytes of DBN metadata", s->name, len);
                return -1;
            }
            b->raw = nb;
        }
        ssize_t got = rp_zread_read(s->z, b->raw + have, cap - have);
        if (got < 0) return rp_source_fail_zread(s);
        if (got == 0) {
            rp_source_fail(s,
                           "%s: DBN metadata cut short at byte offset %llu%s: its length says %u "
                           "bytes, the input ends after %zu",
                           s->name, (unsigned long long)(RP_DBN_PRELUDE + have), rp__after_zstd(s),
                           len, have);
            return -1;
        }
        have += (size_t)got;
    }
    return 0;
}

/* The prelude and the metadata. @return 0, or -1 after rp_source_fail(). */
static int rp__header(rp_source *s, rp__dbn *b)
{
    const uint8_t *p;
    ssize_t got = rp_zread_peek(s->z, RP_DBN_PRELUDE, &p);
    if (got < 0) return rp_source_fail_zread(s);
    uint8_t version = 0;
    uint32_t len = 0;
    int rc = rp_dbn_prelude(p, (size_t)got, &version, &len);
    if (rc == -1 && got < (ssize_t)RP_DBN_PRELUDE)
        rp_source_fail(s,
                       "%s: DBN metadata cut short at byte offset %zd%s: the prelude has 8 bytes",
                       s->name, got, rp__after_zstd(s));
    else if (rc == -1)
        rp_source_fail(s, "%s: not DBN at byte offset 0 (no \"DBN\" magic)", s->name);
    else if (rc == -2)
        rp_source_fail(s,
                       "%s: unknown DBN version %u at byte offset 3: replay reads versions 1 to %u",
                       s->name, (unsigned)version, RP_DBN_MAX_VERSION);
    else if (rc == -3)
        rp_source_fail(s, "%s: DBN metadata length %u at byte offset 4 is out of range (%u..%u)",
                       s->name, len, RP_DBN_FIXED, RP_DBN_MAX_METADATA);
    if (rc != 0) return -1;
    rp_zread_skip(s->z, RP_DBN_PRELUDE);
    if (rp__read_meta(s, b, len) != 0) return -1;
    uint32_t at = 0;
    char why[200];
    if (rp_dbn_meta_parse(version, b->raw, len, &b->meta, &at, why, sizeof why) != 0) {
        rp_source_fail(s, "%s: DBN metadata, byte offset %llu%s: %s", s->name,
                       (unsigned long long)RP_DBN_PRELUDE + at, rp__after_zstd(s), why);
        return -1;
    }
    return 0;
}

static int rp__open_common(rp_source *s, bool fragment)
{
    rp__dbn *b = calloc(1, sizeof *b);
    if (!b) {
        rp_source_fail(s, "%s: out of memory", s->name);
        return -1;
    }
    s->be = b;
    rp_source_filter_unused(s);
    if (!fragment) return rp__header(s, b);
    uint8_t v = s->opts.dbn_version ? s->opts.dbn_version : RP_DBN_MAX_VERSION;
    if (v > RP_DBN_MAX_VERSION) {
        rp_source_fail(s, "%s: unknown DBN version %u (--dbn-version): replay reads 1 to %u",
                       s->name, (unsigned)v, RP_DBN_MAX_VERSION);
        return -1;
    }
    rp_dbn_meta_fragment(v, &b->meta);
    return 0;
}

static int rp__open(rp_source *s, size_t peeked)
{
    (void)peeked;
    return rp__open_common(s, false);
}

static int rp__open_frag(rp_source *s, size_t peeked)
{
    (void)peeked;
    return rp__open_common(s, true);
}

/* The record at p[0..left) (left >= 1) does not fit: its length is bad, or it runs past the end.
 * @return 0 (a truncated zstd stream: the end), or -1 after rp_source_fail(). */
static int rp__bad(rp_source *s, const uint8_t *p, size_t left, uint64_t off)
{
    unsigned words = p[0];
    unsigned long long rec = (unsigned long long)s->st.messages + 1;
    bool ts_out = ((rp__dbn *)s->be)->meta.ts_out;
    if (rp_dbn_record_len(p, ts_out) == 0) {
        rp_source_fail(s,
                       "%s: DBN record %llu at byte offset %llu%s: length %u words (%u bytes) is "
                       "shorter than a record header%s",
                       s->name, rec, (unsigned long long)off, rp__after_zstd(s), words, words * 4,
                       ts_out ? " and its ts_out trailer" : "");
        return -1;
    }
    if (rp_zread_truncated(s->z)) {
        s->st.truncated = true;
        return rp_source_end(s, off);
    }
    rp_source_fail(
        s,
        "%s: DBN record %llu at byte offset %llu%s: length %u words (%u bytes) runs past "
        "the end of the input (%zu bytes left)",
        s->name, rec, (unsigned long long)off, rp__after_zstd(s), words, words * 4, left);
    return -1;
}

static int rp__next(rp_source *s, rp_message *m, size_t max, size_t *n, rp_mark *mk)
{
    (void)mk;
    rp__dbn *b = s->be;
    rp_zread_skip(s->z, b->pending);
    b->pending = 0;
    const uint8_t *p;
    ssize_t got = rp_zread_peek_some(s->z, RP_DBN_MAX_RECORD, &p);
    if (got < 0) return rp_source_fail_zread(s);
    uint64_t base = rp_zread_offset(s->z);
    if (got == 0) return rp_source_end(s, base);
    bool ts_out = b->meta.ts_out;
    size_t off = 0, k = 0;
    rp_feed_stats *st = &s->st;
    while (k < max && off < (size_t)got) {
        const uint8_t *rec = p + off;
        uint32_t len = rp_dbn_record_len(rec, ts_out);
        if (len == 0 || len > (size_t)got - off) {
            if (k > 0) break; /* handed out first; the next call shows it whole, or fails */
            return rp__bad(s, rec, (size_t)got - off, base + off);
        }
        uint64_t ts = rp_dbn_record_ts(rec, len, ts_out);
        rp_feed_stamp(st, ts);
        st->packets++;
        st->by_proto[RP_PROTO_OTHER][rec[1]]++;
        st->protos |= 1u << RP_PROTO_OTHER;
        m[k++] = (rp_message){.data = rec,
                              .len = len,
                              .type = rec[1],
                              .stream = 0,
                              .seq = ++st->messages,
                              .ts_ns = ts};
        off += len;
    }
    b->pending = off;
    st->bytes = base + off;
    *n = k;
    return 1;
}

static void rp__close(rp_source *s)
{
    rp__dbn *b = s->be;
    if (!b) return;
    free(b->raw);
}

static int rp__stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap)
{
    const rp__dbn *b = s->be;
    if (id != 0 || !b) return -1;
    const char *schema = rp_dbn_schema_name(b->meta.schema);
    if (b->meta.fragment)
        snprintf(buf, cap, "dbn v%u fragment", (unsigned)b->meta.version);
    else
        snprintf(buf, cap, "dbn v%u %s %s", (unsigned)b->meta.version, b->meta.dataset,
                 schema ? schema : "mixed");
    return 0;
}

static void rp__describe(const rp_source *s, rp_input_desc *d)
{
    const rp__dbn *b = s->be;
    d->dbn = &b->meta;
}

const rp_input rp_input_dbn = {.name = "dbn", .label = "Databento DBN", RP_INPUT_OPS};

const rp_input rp_input_dbn_frag = {.name = "dbn-frag",
                                    .label = "a DBN fragment",
                                    .forced_only = true,
                                    .probe = rp__probe_none,
                                    .open = rp__open_frag,
                                    RP_INPUT_READ_OPS};
