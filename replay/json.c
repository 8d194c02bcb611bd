/* json.c - a tiny streaming JSON writer
 *
 * Design: the writer keeps one flag per nesting level (does the open container hold an item yet)
 * to place commas and newlines; everything else is printed straight to the FILE. The report is
 * written into an open_memstream buffer and copied to stdout in one go, so a failure half-way
 * leaves nothing half-written on stdout.
 */
#include "json.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>

void rp_json_init(rp_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->has_items[0] = false;
}

/* Comma, newline and indentation before an item, then its key. */
static void rp__item(rp_json *j, const char *key)
{
    if (j->depth > 0) {
        if (j->has_items[j->depth]) fputc(',', j->f);
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    j->has_items[j->depth] = true;
    if (key) {
        rp_json_write_string(j->f, key);
        fputs(": ", j->f);
    }
}

static void rp__open(rp_json *j, const char *key, char c)
{
    rp__item(j, key);
    fputc(c, j->f);
    assert(j->depth + 1 < RP_JSON_MAX_DEPTH);
    j->depth++;
    j->has_items[j->depth] = false;
}

static void rp__close(rp_json *j, char c)
{
    assert(j->depth > 0);
    bool had = j->has_items[j->depth];
    j->depth--;
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    fputc(c, j->f);
    if (j->depth == 0) fputc('\n', j->f);
}

void rp_json_object_begin(rp_json *j, const char *key)
{
    rp__open(j, key, '{');
}

void rp_json_object_end(rp_json *j)
{
    rp__close(j, '}');
}

void rp_json_array_begin(rp_json *j, const char *key)
{
    rp__open(j, key, '[');
}

void rp_json_array_end(rp_json *j)
{
    rp__close(j, ']');
}

void rp_json_u64(rp_json *j, const char *key, uint64_t v)
{
    rp__item(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void rp_json_i64(rp_json *j, const char *key, int64_t v)
{
    rp__item(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void rp_json_f64(rp_json *j, const char *key, double v, int decimals)
{
    rp__item(j, key);
    if (!isfinite(v))
        fputs("null", j->f);
    else
        fprintf(j->f, "%.*f", decimals, v);
}

void rp_json_bool(rp_json *j, const char *key, bool v)
{
    rp__item(j, key);
    fputs(v ? "true" : "false", j->f);
}

void rp_json_str(rp_json *j, const char *key, const char *s)
{
    rp__item(j, key);
    if (s)
        rp_json_write_string(j->f, s);
    else
        fputs("null", j->f);
}

void rp_json_null(rp_json *j, const char *key)
{
    rp__item(j, key);
    fputs("null", j->f);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 when it is ill-formed. */
static int rp__utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (p[1] < lo || p[1] > hi) return 0;
        return (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (p[1] < lo || p[1] > hi) return 0;
        if ((p[2] & 0xC0) != 0x80) return 0;
        return (p[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void rp_json_write_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            p++;
        } else if (c == '\n') {
            fputs("\\n", f);
            p++;
        } else if (c == '\t') {
            fputs("\\t", f);
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u%04x", c);
            p++;
        } else {
            /* the checks in rp__utf8_len stop at the terminating NUL: it is never a
             * continuation byte, so no read goes past the end of s */
            int n = rp__utf8_len(p);
            if (n == 0) {
                fprintf(f, "\\u%04x", c);
                p++;
            } else {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            }
        }
    }
    fputc('"', f);
}
