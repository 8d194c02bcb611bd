/* info_dbn.c - `replay info`: the metadata of a Databento DBN input, human and --json
 *
 * Design notes
 * - The human form keeps to a few lines whatever the metadata holds: the first RP__SHOWN entries
 *   of each symbol list and mapping, then a count of the rest; --json lists everything.
 * - Dates of the symbol mappings (u32 YYYYMMDD in the file) print as "YYYY-MM-DD"; an unset end
 *   (0) or limit (0), a mixed schema or stype_in print as "-" and null.
 */
#include <inttypes.h>
#include <string.h>

#include "dbn.h"
#include "info.h"
#include "json.h"

#define RP__SHOWN 5u /* entries of each list shown in the human form */

static const char *rp__names[] = {"symbols", "partial", "not_found"};

/* "YYYY-MM-DD" of a YYYYMMDD date. */
static const char *rp__date(uint32_t d, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04u-%02u-%02u", d / 10000u, d / 100u % 100u, d % 100u);
    return buf;
}

static void rp__list_human(FILE *f, const rp_dbn_meta *m, enum rp_dbn_list l)
{
    char sym[RP_DBN_SYMBOL_CAP];
    fprintf(f, "%s%s %" PRIu32, l == RP_DBN_SYMBOLS ? "" : ", ", rp__names[l], m->count[l]);
    for (uint32_t i = 0; i < m->count[l] && i < RP__SHOWN; i++)
        fprintf(f, "%s%s", i ? " " : " (", rp_dbn_symbol(m, l, i, sym));
    if (m->count[l]) fprintf(f, "%s)", m->count[l] > RP__SHOWN ? " ..." : "");
}

static void rp__mappings_human(FILE *f, const rp_dbn_meta *m)
{
    char raw[RP_DBN_SYMBOL_CAP], sym[RP_DBN_SYMBOL_CAP], a[16], b[16];
    rp_dbn_walk w;
    uint32_t n, d0, d1, shown = 0;
    fprintf(f, "  mappings:   %" PRIu32 " symbols, %" PRIu64 " intervals\n",
            m->count[RP_DBN_MAPPINGS], m->intervals);
    rp_dbn_walk_init(m, &w);
    while (shown < RP__SHOWN && rp_dbn_walk_mapping(m, &w, raw, &n)) {
        fprintf(f, "              %s:", raw);
        for (uint32_t i = 0; i < RP__SHOWN && rp_dbn_walk_interval(m, &w, &d0, &d1, sym); i++)
            fprintf(f, " %s (%s..%s)", sym, rp__date(d0, a, sizeof a), rp__date(d1, b, sizeof b));
        fprintf(f, "%s\n", n > RP__SHOWN ? " ..." : "");
        shown++;
    }
    if (m->count[RP_DBN_MAPPINGS] > shown)
        fprintf(f, "              ... %" PRIu32 " more\n", m->count[RP_DBN_MAPPINGS] - shown);
}

void rp_info_dbn_human(FILE *f, const rp_dbn_meta *m)
{
    char a[64], b[64];
    const char *schema = rp_dbn_schema_name(m->schema);
    const char *in = rp_dbn_stype_name(m->stype_in), *out = rp_dbn_stype_name(m->stype_out);
    if (m->fragment) {
        fprintf(f, "  dbn:        version %u fragment (no metadata)\n", (unsigned)m->version);
        return;
    }
    fprintf(f, "  dbn:        version %u, dataset %s, schema %s, stype %s -> %s, ts_out %s\n",
            (unsigned)m->version, m->dataset[0] ? m->dataset : "-",
            schema                          ? schema
            : m->schema == RP_DBN_NO_SCHEMA ? "mixed"
                                            : "unknown",
            in ? in : "-", out ? out : "?", m->ts_out ? "yes" : "no");
    rp_info_ts(a, sizeof a, m->start);
    if (m->end)
        rp_info_ts(b, sizeof b, m->end);
    else
        snprintf(b, sizeof b, "-");
    fprintf(f, "  request:    %s .. %s, limit ", a, b);
    fprintf(f, m->limit ? "%" PRIu64 : "-", m->limit);
    fprintf(f, ", symbol length %u\n  lists:      ", (unsigned)m->symbol_cstr_len);
    for (int l = RP_DBN_SYMBOLS; l <= RP_DBN_NOT_FOUND; l++)
        rp__list_human(f, m, (enum rp_dbn_list)l);
    fputc('\n', f);
    rp__mappings_human(f, m);
}

static void rp__mappings_json(rp_json *j, const rp_dbn_meta *m)
{
    char raw[RP_DBN_SYMBOL_CAP], sym[RP_DBN_SYMBOL_CAP], a[16], b[16];
    rp_dbn_walk w;
    uint32_t n, d0, d1;
    rp_json_array_begin(j, "mappings");
    rp_dbn_walk_init(m, &w);
    while (rp_dbn_walk_mapping(m, &w, raw, &n)) {
        rp_json_object_begin(j, NULL);
        rp_json_str(j, "raw_symbol", raw);
        rp_json_array_begin(j, "intervals");
        while (rp_dbn_walk_interval(m, &w, &d0, &d1, sym)) {
            rp_json_object_begin(j, NULL);
            rp_json_str(j, "start_date", rp__date(d0, a, sizeof a));
            rp_json_str(j, "end_date", rp__date(d1, b, sizeof b));
            rp_json_str(j, "symbol", sym);
            rp_json_object_end(j);
        }
        rp_json_array_end(j);
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
}

/* A u64 field, null when it equals `none`. */
static void rp__u64_or_null(rp_json *j, const char *key, uint64_t v, uint64_t none)
{
    if (v == none)
        rp_json_null(j, key);
    else
        rp_json_u64(j, key, v);
}

void rp_info_dbn_json(rp_json *j, const rp_dbn_meta *m)
{
    char sym[RP_DBN_SYMBOL_CAP];
    rp_json_object_begin(j, "dbn");
    rp_json_u64(j, "version", m->version);
    rp_json_bool(j, "fragment", m->fragment);
    if (!m->fragment) {
        rp_json_str(j, "dataset", m->dataset);
        rp_json_str(j, "schema", rp_dbn_schema_name(m->schema));
        rp_json_u64(j, "schema_id", m->schema);
        rp_json_u64(j, "start", m->start);
        rp__u64_or_null(j, "end", m->end, 0);
        rp__u64_or_null(j, "limit", m->limit, 0);
        rp__u64_or_null(j, "record_count", m->record_count, UINT64_MAX);
        rp_json_str(j, "stype_in", rp_dbn_stype_name(m->stype_in));
        rp_json_str(j, "stype_out", rp_dbn_stype_name(m->stype_out));
        rp_json_u64(j, "symbol_cstr_len", m->symbol_cstr_len);
        for (int l = RP_DBN_SYMBOLS; l <= RP_DBN_NOT_FOUND; l++) {
            rp_json_array_begin(j, rp__names[l]);
            for (uint32_t i = 0; i < m->count[l]; i++)
                rp_json_str(j, NULL, rp_dbn_symbol(m, (enum rp_dbn_list)l, i, sym));
            rp_json_array_end(j);
        }
        rp__mappings_json(j, m);
    }
    rp_json_bool(j, "ts_out", m->ts_out);
    rp_json_object_end(j);
}
