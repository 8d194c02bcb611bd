/* dump.c - `replay info --dump`: every message as a hex line, a JSON object or a CSV row
 *
 * Design notes
 * - Each message is first classified: its protocol (DBN for DBN inputs; ITCH for ITCH files and
 *   tick files made from one; per stream from its packets' marks in captures: MoldUDP64 carries
 *   ITCH, IEX-TP carries TOPS or DEEP), its row of the field tables (decode.h) and its symbol.
 *   Then the filters (--type, --symbol), then the writer (hex, JSON, CSV), then --limit.
 * - Symbols: ITCH messages with a stock field name it; the others carry a stock locate, which
 *   the stock directory messages seen so far map to a stock. DBN records carry an instrument id,
 *   which the metadata's symbol mappings map to a symbol (every interval, whatever its dates),
 *   as do the raw symbols of definition records seen so far. IEX messages name their symbol.
 * - ITCH times are ns since midnight, exchange time. Inside a capture the packet's time gives
 *   the date: the UTC day of (capture time - message time), which is the exchange's date for any
 *   exchange within 19 hours west of UTC (Nasdaq: 4 or 5). Without a capture time, no date.
 */
#include "dump.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/byteorder.h"

#include "dbn.h"
#include "decode.h"
#include "json.h"
#include "util.h"

#define RP__DAY_NS     (86400ull * 1000000000ull)
#define RP__STREAMS    1024 /* streams whose protocol is remembered from their marks */
#define RP__LOCATES    65536
#define RP__ITCH_SYM   9 /* 8 characters + NUL */
#define RP__HEX_CHUNKS 256

typedef struct rp__instr {
    uint32_t id;
    char sym[RP_DBN_SYMBOL_CAP];
} rp__instr;

struct rp_dump {
    FILE *f;
    rp_dump_opts o;
    uint64_t written;
    const rp_dec_type *csv_type; /* the row of the CSV header written, or NULL */
    rp_dec_proto dflt;           /* protocol of messages of streams without a mark saying */
    uint8_t stream_proto[RP__STREAMS];
    unsigned protos; /* bit p: protocol p was seen (for rp_dump_finish) */
    uint8_t dbn_version;
    bool dbn_ts_out;
    uint16_t dbn_schema;
    char (*locate)[RP__ITCH_SYM]; /* ITCH stock by locate (allocated on first use) */
    rp__instr *instr;             /* DBN symbols by instrument id, sorted by id */
    size_t ninstr, capinstr;
};

rp_dump *rp_dump_new(FILE *f, const rp_dump_opts *o)
{
    rp_dump *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->f = f;
    d->o = *o;
    return d;
}

void rp_dump_free(rp_dump *d)
{
    if (!d) return;
    free(d->locate);
    free(d->instr);
    free(d);
}

bool rp_dump_full(const rp_dump *d)
{
    return d->o.limit && d->written >= d->o.limit;
}

/* ---- symbols --------------------------------------------------------------------------------
 */

static int rp__instr_cmp(const void *a, const void *b)
{
    uint32_t x = ((const rp__instr *)a)->id, y = ((const rp__instr *)b)->id;
    return x < y ? -1 : x > y;
}

static rp__instr *rp__instr_find(rp_dump *d, uint32_t id)
{
    rp__instr key = {.id = id};
    return d->ninstr ? bsearch(&key, d->instr, d->ninstr, sizeof key, rp__instr_cmp) : NULL;
}

/* Maps instrument id to sym (replacing what it mapped to). @return 0, or -1 out of memory. */
static int rp__instr_put(rp_dump *d, uint32_t id, const char *sym)
{
    rp__instr *e = rp__instr_find(d, id);
    if (!e) {
        if (d->ninstr == d->capinstr) {
            size_t cap = d->capinstr ? 2 * d->capinstr : 64;
            rp__instr *n = realloc(d->instr, cap * sizeof *n);
            if (!n) return -1;
            d->instr = n;
            d->capinstr = cap;
        }
        e = &d->instr[d->ninstr++];
        e->id = id;
        snprintf(e->sym, sizeof e->sym, "%s", sym);
        qsort(d->instr, d->ninstr, sizeof *d->instr, rp__instr_cmp);
        return 0;
    }
    snprintf(e->sym, sizeof e->sym, "%s", sym);
    return 0;
}

static int rp__instr_each(void *ctx, uint32_t id, const char *raw)
{
    return rp__instr_put(ctx, id, raw);
}

/* The metadata's mappings: raw symbol -> intervals whose symbol is an instrument id. */
static int rp__dbn_mappings(rp_dump *d, const rp_dbn_meta *m)
{
    return rp_dbn_each_instrument(m, rp__instr_each, d);
}

int rp_dump_begin(rp_dump *d, const rp_source *s)
{
    const rp_dbn_meta *m = rp_source_dbn_meta(s);
    const ra_tick_info *ti = rp_source_tick_info(s);
    memset(d->stream_proto, 0, sizeof d->stream_proto);
    d->ninstr = 0;
    if (d->locate) memset(d->locate, 0, RP__LOCATES * sizeof *d->locate);
    d->dflt = RP_DEC_NONE;
    d->dbn_ts_out = false;
    if (m) {
        d->dflt = RP_DEC_DBN;
        d->dbn_version = m->version;
        d->dbn_schema = m->schema;
        d->dbn_ts_out = m->ts_out;
        d->protos |= 1u << RP_DEC_DBN;
        return rp__dbn_mappings(d, m);
    }
    if (rp_source_itch(s))
        d->dflt = RP_DEC_ITCH;
    else if (ti && strcmp(ti->framing, "iextp") == 0)
        d->dflt = RP_DEC_IEX;
    d->protos |= 1u << d->dflt;
    return 0;
}

/* The symbol of message msg of row t, or NULL when unknown; keeps what maps symbols. */
static const char *rp__symbol(rp_dump *d, const rp_dec_type *t, const uint8_t *msg, char *buf,
                              size_t cap)
{
    if (t->proto == RP_DEC_DBN) {
        uint32_t id = ra_load_le32(msg + 4);
        for (size_t i = 0; i < t->nfields; i++)
            if (strcmp(t->fields[i].name, "raw_symbol") == 0 &&
                *rp_dec_text(msg + t->fields[i].off, t->fields[i].width, buf, cap))
                (void)rp__instr_put(d, id, buf); /* out of memory: the symbol stays unknown */
        rp__instr *e = rp__instr_find(d, id);
        return e ? e->sym : NULL;
    }
    uint16_t loc = t->proto == RP_DEC_ITCH ? ra_load_be16(msg + 1) : 0;
    if (t->sym == RP_SYM_FIELD) {
        rp_dec_text(msg + t->sym_off, 8, buf, cap);
        if (t->proto == RP_DEC_ITCH && t->type == 'R' &&
            (d->locate || (d->locate = calloc(RP__LOCATES, sizeof *d->locate))))
            memcpy(d->locate[loc], buf, RP__ITCH_SYM); /* rp_dec_text of 8 bytes: <= 9 with NUL */
        return buf;
    }
    if (t->sym == RP_SYM_LOCATE && d->locate && d->locate[loc][0]) return d->locate[loc];
    return NULL;
}

/* ---- writers --------------------------------------------------------------------------------
 */

static int rp__hex(FILE *f, const uint8_t *p, uint32_t len)
{
    static const char hexd[] = "0123456789abcdef";
    char hex[2 * RP__HEX_CHUNKS];
    for (uint32_t i = 0; i < len;) {
        size_t k = 0;
        for (; i < len && k + 2 <= sizeof hex; i++) {
            hex[k++] = hexd[p[i] >> 4];
            hex[k++] = hexd[p[i] & 15];
        }
        if (fwrite(hex, 1, k, f) != k) return -1;
    }
    return 0;
}

int rp_dump_line(FILE *f, uint32_t stream, uint64_t seq, uint64_t ts_ns, unsigned type,
                 const uint8_t *data, uint32_t len)
{
    if (fprintf(f, "D %" PRIu32 " %" PRIu64 " %" PRIu64 " 0x%04x %" PRIu32 " ", stream, seq, ts_ns,
                type, len) < 0)
        return -1;
    return rp__hex(f, data, len);
}

/* "D <stream> <seq> <ts_ns> <type> <len> <hex>" */
static int rp__hex_line(FILE *f, const rp_message *m)
{
    if (rp_dump_line(f, m->stream, m->seq, m->ts_ns, (unsigned)m->type, m->data, m->len) != 0)
        return -1;
    return fputc('\n', f) == EOF ? -1 : 0;
}

/* A message no table decodes, as JSON: {"msg": null, "stream", "seq", "type", "len", "hex"}. */
static int rp__json_raw(FILE *f, const rp_message *m)
{
    fprintf(f, "{\"msg\":null,\"stream\":%" PRIu32 ",\"seq\":%" PRIu64 ",\"type\":", m->stream,
            m->seq);
    if (m->type == RP_TYPE_NONE)
        fputs("null", f);
    else
        fprintf(f, "%u", (unsigned)m->type);
    fprintf(f, ",\"len\":%" PRIu32 ",\"hex\":\"", m->len);
    if (rp__hex(f, m->data, m->len) != 0) return -1;
    fputs("\"}\n", f);
    return ferror(f) ? -1 : 0;
}

int rp_dump_mark(rp_dump *d, const rp_mark *k)
{
    if (k->stream < RP__STREAMS && k->framing != RP_FRAMING_AUTO) {
        d->stream_proto[k->stream] = k->framing == RP_FRAMING_IEXTP ? RP_DEC_IEX : RP_DEC_ITCH;
        d->protos |= 1u << d->stream_proto[k->stream];
    }
    if (d->o.format != RP_DUMP_HEX || d->o.type || d->o.symbol || rp_dump_full(d)) return 0;
    return fprintf(d->f, "M %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %s\n", k->stream,
                   k->seq, k->ts_ns, k->count,
                   k->end_of_session ? "eos"
                   : k->heartbeat    ? "hb"
                                     : "-") < 0
               ? -1
               : 0;
}

/* The row of m, or NULL when no table decodes it. */
static const rp_dec_type *rp__classify(const rp_dump *d, const rp_message *m)
{
    if (m->type == RP_TYPE_NONE || m->len == 0) return NULL;
    rp_dec_proto p = m->stream < RP__STREAMS && d->stream_proto[m->stream]
                         ? (rp_dec_proto)d->stream_proto[m->stream]
                         : d->dflt;
    const rp_dec_type *t = rp_dec_find(p, (uint16_t)m->type, d->dbn_version, d->dbn_schema);
    size_t need = t ? t->size + (p == RP_DEC_DBN && d->dbn_ts_out ? 8u : 0u) : 0;
    if (!t || m->len < need || (p == RP_DEC_ITCH && m->len != t->size)) return NULL;
    return t;
}

int rp_dump_message(rp_dump *d, const rp_message *m)
{
    if (rp_dump_full(d)) return 0;
    const rp_dec_type *t = rp__classify(d, m);
    char buf[RP_DBN_SYMBOL_CAP];
    const char *sym = t ? rp__symbol(d, t, m->data, buf, sizeof buf) : NULL;
    if (d->o.type && !(t && rp_dec_type_matches(t, d->o.type))) return 0;
    if (d->o.symbol && !(sym && strcmp(sym, d->o.symbol) == 0)) return 0;
    if (d->o.format == RP_DUMP_CSV && d->csv_type && t != d->csv_type) return 0;
    d->written++;
    if (d->o.format == RP_DUMP_HEX) return rp__hex_line(d->f, m);
    if (!t) return d->o.format == RP_DUMP_JSON ? rp__json_raw(d->f, m) : 0;
    rp_dec_fmt fmt = {
        .ts_raw = d->o.ts_raw, .px_raw = d->o.px_raw, .tod_day = -1, .ts_out = d->dbn_ts_out};
    if (t->proto == RP_DEC_ITCH && m->ts_ns >= RP__DAY_NS) {
        uint64_t tod = ra_load_be48(m->data + 5);
        if (m->ts_ns >= tod) fmt.tod_day = (int64_t)((m->ts_ns - tod) / RP__DAY_NS);
    }
    rp_dec_head h = {.msg = t->name, .stream = m->stream, .seq = m->seq, .symbol = sym};
    if (d->o.format == RP_DUMP_JSON) return rp_dec_json(d->f, t, &h, m->data, m->len, &fmt);
    if (!d->csv_type) {
        d->csv_type = t;
        if (rp_dec_csv_header(d->f, t, &fmt) != 0) return -1;
    }
    return rp_dec_csv(d->f, t, &h, m->data, m->len, &fmt);
}

int rp_dump_finish(rp_dump *d)
{
    if (d->o.format != RP_DUMP_CSV || d->csv_type || !d->o.type) return 0;
    const rp_dec_type *tabs[] = {NULL, rp_dec_itch_types, rp_dec_iex_types, rp_dec_dbn_types};
    rp_dec_fmt fmt = {.tod_day = -1, .ts_out = d->dbn_ts_out};
    for (unsigned p = RP_DEC_ITCH; p <= RP_DEC_DBN; p++) {
        if (!(d->protos & (1u << p))) continue;
        for (const rp_dec_type *t = tabs[p]; t->name; t++) {
            bool version =
                !t->versions || (d->dbn_version < 8 && (t->versions >> d->dbn_version) & 1);
            if (rp_dec_type_matches(t, d->o.type) && (p != RP_DEC_DBN || version)) {
                d->csv_type = t;
                return rp_dec_csv_header(d->f, t, &fmt);
            }
        }
    }
    return 0;
}
