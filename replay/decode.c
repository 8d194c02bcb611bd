/* decode.c - one emitter of any decoded message as JSON or CSV, from the field tables
 *
 * Design notes
 * - Every value goes through rp__value(): it reads a field by its width and the protocol's byte
 *   order and writes it as text, saying whether the text is a number (JSON: bare), a string
 *   (JSON: quoted) or undefined (JSON null, CSV empty). The JSON and CSV writers only walk the
 *   table, so a message type needs no code of its own.
 * - Readable values: prices as decimals with the format's own digits (4, 8 or 9), exact (integer
 *   arithmetic, no floating point); times as ISO 8601 with nanoseconds: "...Z" for times since
 *   the epoch (UTC), exchange local time without a zone for ITCH times of day, prefixed with a
 *   date only when the caller knows it (rp_dec_fmt.tod_day).
 * - Text fields: bytes outside printable ASCII print as '?', so every line is valid UTF-8 and
 *   CSV stays one line per message.
 */
#include "decode.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "ringalloc/byteorder.h"

#include "json.h"

#define RP__DAY_S 86400

const rp_dec_type *rp_dec_find(rp_dec_proto proto, uint16_t type, uint8_t version, uint16_t schema)
{
    const rp_dec_type *t = proto == RP_DEC_ITCH  ? rp_dec_itch_types
                           : proto == RP_DEC_IEX ? rp_dec_iex_types
                           : proto == RP_DEC_DBN ? rp_dec_dbn_types
                                                 : NULL;
    for (; t && t->name; t++) {
        if (t->type != type) continue;
        if (t->versions && (version > 7 || !(t->versions & (1u << version)))) continue;
        if (t->schema != 0xff && t->schema != schema) continue;
        return t;
    }
    return NULL;
}

bool rp_dec_type_matches(const rp_dec_type *t, const char *arg)
{
    char hex[8];
    if (strcmp(arg, t->name) == 0) return true;
    if (t->proto != RP_DEC_DBN && arg[0] == (char)t->type && arg[1] == '\0') return true;
    snprintf(hex, sizeof hex, "0x%02x", (unsigned)t->type);
    return strcmp(arg, hex) == 0;
}

bool rp_dec_type_known(const char *arg)
{
    const rp_dec_type *tabs[] = {rp_dec_itch_types, rp_dec_iex_types, rp_dec_dbn_types};
    for (size_t k = 0; k < sizeof tabs / sizeof tabs[0]; k++)
        for (const rp_dec_type *t = tabs[k]; t->name; t++)
            if (rp_dec_type_matches(t, arg)) return true;
    return false;
}

const char *rp_dec_text(const uint8_t *p, size_t width, char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < width && p[i] != 0 && n + 1 < cap; i++)
        buf[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    while (n > 0 && buf[n - 1] == ' ') n--;
    buf[n] = '\0';
    return buf;
}

/* ---- values ----------------------------------------------------------------------------------
 */

enum { RP__NUM, RP__STR, RP__NULL };

static uint64_t rp__load(const uint8_t *p, unsigned width, bool le)
{
    switch (width) {
    case 1:
        return p[0];
    case 2:
        return le ? ra_load_le16(p) : ra_load_be16(p);
    case 4:
        return le ? ra_load_le32(p) : ra_load_be32(p);
    case 6:
        return ra_load_be48(p);
    default:
        return le ? ra_load_le64(p) : ra_load_be64(p);
    }
}

static int64_t rp__signed(uint64_t v, unsigned width)
{
    if (width >= 8) return (int64_t)v;
    uint64_t sign = UINT64_C(1) << (width * 8 - 1);
    return (int64_t)((v ^ sign) - sign);
}

/* v / 10^digits as an exact decimal. */
static void rp__decimal(char *buf, size_t cap, int64_t v, unsigned digits)
{
    uint64_t scale = 1;
    for (unsigned i = 0; i < digits; i++) scale *= 10;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(buf, cap, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", a / scale, (int)digits,
             a % scale);
}

/* ns since the epoch as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ". */
static void rp__iso(char *buf, size_t cap, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    char d[40];
    if (!gmtime_r(&t, &tm) || !strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(buf, cap, "%" PRIu64, ns);
        return;
    }
    snprintf(buf, cap, "%s.%09" PRIuMAX "Z", d, (uintmax_t)(ns % 1000000000u));
}

/* ns since midnight as "HH:MM:SS.nnnnnnnnn", after "YYYY-MM-DDT" when day >= 0. */
static void rp__tod(char *buf, size_t cap, uint64_t ns, int64_t day)
{
    char d[24] = "";
    struct tm tm;
    time_t t = (time_t)(day * RP__DAY_S);
    if (day >= 0 && gmtime_r(&t, &tm)) strftime(d, sizeof d, "%Y-%m-%dT", &tm);
    uint64_t s = ns / 1000000000u;
    snprintf(buf, cap, "%s%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%09" PRIu64, d, s / 3600,
             s / 60 % 60, s % 60, ns % 1000000000u);
}

/* Field f of msg as text into buf. @return RP__NUM, RP__STR or RP__NULL. */
static int rp__value(const rp_dec_field *f, const uint8_t *msg, bool le, const rp_dec_fmt *fmt,
                     char *buf, size_t cap)
{
    const uint8_t *p = msg + f->off;
    uint64_t v = f->kind == RP_DK_ALPHA || f->kind == RP_DK_CHAR ? 0 : rp__load(p, f->width, le);
    bool dbn_undef = le && ((f->kind == RP_DK_PX9 && v == (uint64_t)INT64_MAX) ||
                            (f->kind == RP_DK_TS && v == UINT64_MAX));
    switch (f->kind) {
    case RP_DK_CHAR:
    case RP_DK_ALPHA:
        rp_dec_text(p, f->width, buf, cap);
        return RP__STR;
    case RP_DK_INT:
        snprintf(buf, cap, "%" PRId64, rp__signed(v, f->width));
        return RP__NUM;
    case RP_DK_UINT:
        snprintf(buf, cap, "%" PRIu64, v);
        return RP__NUM;
    default:
        break;
    }
    bool is_ts = f->kind == RP_DK_TS || f->kind == RP_DK_TOD;
    if ((is_ts && fmt->ts_raw) || (!is_ts && fmt->px_raw)) {
        if (is_ts || !le)
            snprintf(buf, cap, "%" PRIu64, v);
        else
            snprintf(buf, cap, "%" PRId64, (int64_t)v);
        return RP__NUM;
    }
    if (dbn_undef) return RP__NULL;
    if (f->kind == RP_DK_TS)
        rp__iso(buf, cap, v);
    else if (f->kind == RP_DK_TOD)
        rp__tod(buf, cap, v, fmt->tod_day);
    else
        rp__decimal(buf, cap, (int64_t)v, f->kind == RP_DK_PX4 ? 4 : f->kind == RP_DK_PX8 ? 8 : 9);
    return is_ts ? RP__STR : RP__NUM;
}

/* ---- JSON and CSV lines ----------------------------------------------------------------------
 */

typedef struct rp__w {
    FILE *f;
    bool csv, header, first;
    bool le;
    uint32_t len;
    const rp_dec_fmt *fmt;
} rp__w;

/* A CSV cell: quoted (quotes doubled) when it holds a comma or a quote. */
static void rp__csv_cell(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* One key and value (CSV: the key in the header, else the value). */
static void rp__put(rp__w *w, const char *key, int kind, const char *text)
{
    if (!w->first) fputc(',', w->f);
    w->first = false;
    if (w->csv) {
        if (w->header || kind != RP__NULL) rp__csv_cell(w->f, w->header ? key : text);
        return;
    }
    rp_json_write_string(w->f, key);
    fputc(':', w->f);
    if (kind == RP__NULL)
        fputs("null", w->f);
    else if (kind == RP__STR)
        rp_json_write_string(w->f, text);
    else
        fputs(text, w->f);
}

static void rp__fields(rp__w *w, const rp_dec_field *fs, size_t n, const uint8_t *base,
                       const char *suffix)
{
    for (size_t i = 0; i < n; i++) {
        char key[64], val[96] = "";
        snprintf(key, sizeof key, "%s%s", fs[i].name, suffix);
        int kind = w->header ? RP__NULL : rp__value(&fs[i], base, w->le, w->fmt, val, sizeof val);
        rp__put(w, key, kind, val);
    }
}

/* The group of t: a JSON array of objects, or CSV columns name_00, name_01, ... */
static void rp__group(rp__w *w, const rp_dec_type *t, const uint8_t *msg)
{
    if (!t->group) return;
    if (!w->csv) {
        fputc(',', w->f);
        rp_json_write_string(w->f, t->group_name);
        fputs(":[", w->f);
    }
    for (unsigned i = 0; i < t->group_count; i++) {
        const uint8_t *base = msg ? msg + t->group_off + (size_t)i * t->group_stride : NULL;
        char sfx[8];
        snprintf(sfx, sizeof sfx, "_%02u", i);
        if (!w->csv) {
            fputs(i ? ",{" : "{", w->f);
            w->first = true;
        }
        rp__fields(w, t->group, t->ngroup, base, w->csv ? sfx : "");
        if (!w->csv) fputc('}', w->f);
    }
    if (!w->csv) fputc(']', w->f);
}

/* Whether row t has a field named "symbol" (IEX): then it is the symbol column. */
static bool rp__has_symbol_field(const rp_dec_type *t)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, "symbol") == 0) return true;
    return false;
}

static int rp__line(rp__w *w, const rp_dec_type *t, const rp_dec_head *h, const uint8_t *msg)
{
    char n[24];
    w->first = true;
    w->le = t->proto != RP_DEC_ITCH;
    if (!w->csv) fputc('{', w->f);
    rp__put(w, "msg", RP__STR, t->name);
    snprintf(n, sizeof n, "%" PRIu32, h ? h->stream : 0);
    rp__put(w, "stream", RP__NUM, n);
    snprintf(n, sizeof n, "%" PRIu64, h ? h->seq : 0);
    rp__put(w, "seq", RP__NUM, n);
    rp__fields(w, t->fields, t->nfields, msg, "");
    rp__group(w, t, msg);
    w->first = false;
    if (t->proto == RP_DEC_DBN && w->fmt->ts_out && w->len >= t->size + 8u) {
        const rp_dec_field ts_out = {"ts_out", (uint16_t)(w->len - 8), 8, RP_DK_TS};
        rp__fields(w, &ts_out, 1, msg, "");
    }
    if (!rp__has_symbol_field(t))
        rp__put(w, "symbol", h && h->symbol ? RP__STR : RP__NULL, h ? h->symbol : NULL);
    if (!w->csv) fputc('}', w->f);
    fputc('\n', w->f);
    return ferror(w->f) ? -1 : 0;
}

int rp_dec_json(FILE *f, const rp_dec_type *t, const rp_dec_head *h, const uint8_t *msg,
                uint32_t len, const rp_dec_fmt *fmt)
{
    rp__w w = {.f = f, .fmt = fmt, .len = len};
    return rp__line(&w, t, h, msg);
}

int rp_dec_csv_header(FILE *f, const rp_dec_type *t, const rp_dec_fmt *fmt)
{
    rp__w w = {.f = f, .csv = true, .header = true, .fmt = fmt, .len = t->size + 8u};
    return rp__line(&w, t, NULL, NULL);
}

int rp_dec_csv(FILE *f, const rp_dec_type *t, const rp_dec_head *h, const uint8_t *msg,
               uint32_t len, const rp_dec_fmt *fmt)
{
    rp__w w = {.f = f, .csv = true, .fmt = fmt, .len = len};
    return rp__line(&w, t, h, msg);
}
