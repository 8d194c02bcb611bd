/* input.c - replay's format table: names, --format values, detection, formats known but not read
 *
 * Design notes
 * - The table lists every backend once; a format's rp_format value is its position + 1, so a new
 *   backend is one file and one line here. Names, aliases and the "expected ..." list of error
 *   messages are read from the entries.
 * - Detection: the probes with a magic number first, in table order, then the weak ones (ITCH
 *   files have no magic: their first records must look right), so a content heuristic never
 *   shadows a magic number.
 * - Formats replay recognises but does not read (gzip; Databento's legacy zstd-wrapped DBZ) are a
 *   second, smaller table: they only turn "unrecognised format" into a message saying what the
 *   input is and what to do.
 * - A format without any magic (headerless DBN fragments) is forced_only: never detected, left
 *   out of the "expected ..." list, read when --format names it.
 */
#include "input.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ringalloc/byteorder.h"

static const rp_input *const rp__inputs[] = {
    [RP_FMT_PCAP - 1] = &rp_input_pcap,
    [RP_FMT_PCAPNG - 1] = &rp_input_pcapng,
    [RP_FMT_ITCH - 1] = &rp_input_itch,
    [RP_FMT_RTK - 1] = &rp_input_rtk,
    &rp_input_dbn,
    &rp_input_dbn_frag,
};
#define RP__NINPUTS (sizeof rp__inputs / sizeof rp__inputs[0])

const rp_input *rp_input_at(rp_format f)
{
    return f >= 1 && (size_t)f <= RP__NINPUTS ? rp__inputs[f - 1] : NULL;
}

const char *rp_format_name(rp_format f)
{
    const rp_input *in = rp_input_at(f);
    return in ? in->name : "unknown";
}

rp_format rp_source_detect(const uint8_t *p, size_t n)
{
    for (int weak = 0; weak < 2; weak++)
        for (size_t i = 0; i < RP__NINPUTS; i++)
            if (!rp__inputs[i]->forced_only && rp__inputs[i]->weak_probe == (weak == 1) &&
                rp__inputs[i]->probe(p, n))
                return (rp_format)(i + 1);
    return RP_FMT_AUTO;
}

bool rp_name_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) return true;
        p = e ? e + 1 : p + len;
    }
    return false;
}

int rp_format_parse(const char *name, rp_format *out)
{
    if (!name) return -1;
    if (strcmp(name, "auto") == 0) {
        *out = RP_FMT_AUTO;
        return 0;
    }
    for (size_t i = 0; i < RP__NINPUTS; i++) {
        if (strcmp(name, rp__inputs[i]->name) == 0 ||
            rp_name_in_list(rp__inputs[i]->aliases, name)) {
            *out = (rp_format)(i + 1);
            return 0;
        }
    }
    return -1;
}

const char *rp_format_names(char *buf, size_t cap, const char *sep)
{
    size_t k = 0;
    if (cap) buf[0] = '\0';
    for (size_t i = 0; i < RP__NINPUTS && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? sep : "", rp__inputs[i]->name);
    return buf;
}

static const struct {
    const char *name;
    rp_framing framing;
} rp__framings[] = {{"auto", RP_FRAMING_AUTO},
                    {"udp", RP_FRAMING_UDP},
                    {"moldudp64", RP_FRAMING_MOLDUDP64},
                    {"iextp", RP_FRAMING_IEXTP},
                    {"iex-tp", RP_FRAMING_IEXTP}};

int rp_framing_parse(const char *name, rp_framing *out)
{
    for (size_t i = 0; name && i < sizeof rp__framings / sizeof rp__framings[0]; i++) {
        if (strcmp(name, rp__framings[i].name) == 0) {
            *out = rp__framings[i].framing;
            return 0;
        }
    }
    return -1;
}

const char *rp_framing_name(rp_framing f)
{
    for (size_t i = 0; i < sizeof rp__framings / sizeof rp__framings[0]; i++)
        if (rp__framings[i].framing == f) return rp__framings[i].name;
    return "auto";
}

/* ---- formats known but not read --------------------------------------------------------------
 */

/* A recognised input: what it is and what to do ("FILE: <what> at byte offset 0: <advice>"). */
typedef struct rp__known_what {
    char what[96], advice[160];
    bool raw; /* found in the raw (compressed) bytes, not the decompressed ones */
} rp__known_what;

typedef bool rp__known_fn(const uint8_t *p, size_t n, const uint8_t *raw, size_t rawn,
                          const char *name, rp__known_what *w);

static bool rp__gzip(const uint8_t *p, size_t n, const uint8_t *raw, size_t rawn, const char *name,
                     rp__known_what *w)
{
    (void)raw;
    (void)rawn;
    if (n < 3 || p[0] != 0x1F || p[1] != 0x8B || p[2] != 8) return false;
    snprintf(w->what, sizeof w->what, "gzip-compressed input");
    snprintf(w->advice, sizeof w->advice, "decompress it first, e.g. `zcat %s | replay -`",
             strcmp(name, "<stdin>") == 0 ? "FILE" : name);
    return true;
}

/* Databento DBZ (DBN's zstd-based predecessor): a zstd skippable frame (magic 0x184D2A5x, u32
 * length) whose content starts "DBZ" + version; the records follow in zstd frames. Seen in the
 * raw bytes only: the reader skips skippable frames. */
static bool rp__dbz(const uint8_t *p, size_t n, const uint8_t *raw, size_t rawn, const char *name,
                    rp__known_what *w)
{
    (void)p;
    (void)n;
    (void)name;
    if (rawn < 12 || (ra_load_le32(raw) & 0xFFFFFFF0u) != 0x184D2A50u ||
        memcmp(raw + 8, "DBZ", 3) != 0)
        return false;
    snprintf(w->what, sizeof w->what, "Databento DBZ (legacy DBN, version %u)", (unsigned)raw[11]);
    snprintf(w->advice, sizeof w->advice,
             "not supported (replay reads DBN versions 1 to 3; re-encode the file as DBN, e.g. "
             "with Databento's dbn tool)");
    w->raw = true;
    return true;
}

static rp__known_fn *const rp__known[] = {rp__gzip, rp__dbz};

const char *rp_input_expected(char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, "expected ");
    for (size_t i = 0; i < RP__NINPUTS && k < cap; i++)
        if (!rp__inputs[i]->forced_only)
            k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", rp__inputs[i]->label);
    if (k < cap) snprintf(buf + k, cap - k, ", or any of them zstd-compressed");
    return buf;
}

const rp_input *rp_input_select(rp_source *s, const uint8_t *p, size_t n, const uint8_t *raw,
                                size_t rawn)
{
    rp_format f = s->opts.format ? s->opts.format : rp_source_detect(p, n);
    const rp_input *in = rp_input_at(f);
    if (in) return in;
    if (s->opts.format) {
        rp_source_fail(s, "%s: unknown --format value %d", s->name, (int)s->opts.format);
        return NULL;
    }
    const char *z = rp_zread_compressed(s->z) ? " after zstd decompression" : "";
    char expected[160];
    rp_input_expected(expected, sizeof expected);
    for (size_t i = 0; i < sizeof rp__known / sizeof rp__known[0]; i++) {
        rp__known_what w = {.raw = false};
        if (rp__known[i](p, n, raw, rawn, s->name, &w)) {
            rp_source_fail(s, "%s: %s%s at byte offset 0: %s (%s)", s->name, w.what, w.raw ? "" : z,
                           w.advice, expected);
            return NULL;
        }
    }
    char hex[3 * 8 + 1] = "";
    size_t hl = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        hl += (size_t)snprintf(hex + hl, sizeof hex - hl, "%s%02x", i ? " " : "", p[i]);
    rp_source_fail(s, "%s: unrecognised format%s, starts with %s at byte offset 0 (%s)", s->name, z,
                   hex, expected);
    return NULL;
}
