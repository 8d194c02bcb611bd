/* fuzz_dbn.c - libFuzzer target: the Databento DBN metadata parser (replay/dbn.c) over the raw
 * bytes, then the DBN input (rp_source with --format dbn, so zstd input is decompressed first)
 * and the same bytes as a headerless fragment. Every list and mapping the parser accepts is
 * walked to its end; every record handed out must be whole: its length byte times 4, at least a
 * header, its type its rtype. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dbn.h"
#include "source.h"

#define MAX_BYTES (8u << 20) /* stop after this much decompressed input (zstd bombs) */

/* Walks everything the metadata lists, as `replay info` does. */
static void walk(const rp_dbn_meta *m)
{
    char buf[RP_DBN_SYMBOL_CAP];
    for (int l = RP_DBN_SYMBOLS; l <= RP_DBN_NOT_FOUND; l++)
        for (uint32_t i = 0; i < m->count[l]; i++)
            (void)rp_dbn_symbol(m, (enum rp_dbn_list)l, i, buf);
    rp_dbn_walk w;
    uint32_t n, d0, d1;
    uint64_t intervals = 0;
    rp_dbn_walk_init(m, &w);
    while (rp_dbn_walk_mapping(m, &w, buf, &n))
        while (rp_dbn_walk_interval(m, &w, &d0, &d1, buf)) intervals++;
    if (intervals != m->intervals || w.off > m->raw_len) abort();
    (void)rp_dbn_schema_name(m->schema);
    (void)rp_dbn_stype_name(m->stype_in);
}

static void read_as(const uint8_t *data, size_t size, const char *format)
{
    rp_source_opts o = {.dbn_version = (uint8_t)(size ? 1 + data[size - 1] % 3 : 3)};
    if (rp_format_parse(format, &o.format) != 0) abort();
    rp_source *s;
    char err[512];
    if (rp_source_open_mem(&s, data, size, "fuzz.dbn", &o, err, sizeof err) != 0) return;
    rp_message m;
    while (rp_source_next(s, &m) == 1) {
        if (m.len < RP_DBN_REC_HDR || m.len != m.data[0] * 4u || m.type != m.data[1]) abort();
        if (rp_source_stats(s)->bytes > MAX_BYTES) break;
    }
    const rp_feed_stats *st = rp_source_stats(s);
    if (st->messages != st->packets) abort();
    rp_source_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t version;
    uint32_t len, at;
    char why[200];
    rp_dbn_meta m;
    if (rp_dbn_prelude(data, size, &version, &len) == 0 && len <= size - RP_DBN_PRELUDE &&
        rp_dbn_meta_parse(version, data + RP_DBN_PRELUDE, len, &m, &at, why, sizeof why) == 0)
        walk(&m);
    read_as(data, size, "dbn");
    read_as(data, size, "dbn-frag");
    return 0;
}
