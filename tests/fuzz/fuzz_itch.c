/* fuzz_itch.c - libFuzzer target: the ITCH 5.0 file reader over a buffer (rp_source with --format
 * itch, so zstd input is decompressed first), plus the record splitter, detector and resync
 * directly. With --strict the reader must fail exactly when it would count a decode error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "itch.h"
#include "source.h"

#define MAX_BYTES (8u << 20) /* stop after this much decompressed input (zstd bombs) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the splitter over the raw bytes: records tile the buffer exactly */
    size_t off = 0, records = 0;
    const uint8_t *m;
    size_t len, rec;
    while ((rec = rp_itch_record(data + off, size - off, &m, &len)) > 0) {
        if (rec != len + 2 || m != data + off + 2) abort();
        (void)rp_itch_check(m, len);
        (void)rp_itch_timestamp(m, len);
        off += rec;
        records++;
    }
    (void)rp_itch_detect(data, size);
    if (size >= 2 && 2 + (size_t)(data[0] << 8 | data[1]) <= size) {
        /* after a bad first record: its length field, or its type's size when that fits */
        size_t k = rp_itch_resync(data, size, true), by_len = 2 + (size_t)(data[0] << 8 | data[1]);
        if (k != by_len && (size < 3 || k != 2 + rp_itch_size(data[2]) || k > size)) abort();
    }

    rp_source_opts o = {.format = RP_FMT_ITCH};
    rp_source *s;
    char err[512];
    if (rp_source_open_mem(&s, data, size, "fuzz.itch", &o, err, sizeof err) != 0) return 0;
    rp_message msg;
    int r;
    while ((r = rp_source_next(s, &msg)) == 1) {
        if (msg.len == 0 || msg.type != msg.data[0]) abort();
        if (rp_source_stats(s)->bytes > MAX_BYTES) break;
    }
    const rp_feed_stats *st = rp_source_stats(s);
    if (st->messages + st->decode_errors != st->packets) abort();
    /* plain input without damage: the reader sees exactly the records the splitter saw */
    bool plain = r == 0 && !rp_source_compressed(s);
    if (plain && st->decode_errors == 0 && st->packets != records) abort();
    if (st->decode_errors && rp_source_warning_count(s) == 0) abort();
    uint64_t errors = st->decode_errors;
    rp_source_close(s);
    if (!plain) return 0;
    o.strict = true;
    if (rp_source_open_mem(&s, data, size, "fuzz.itch", &o, err, sizeof err) != 0) abort();
    while ((r = rp_source_next(s, &msg)) == 1) continue;
    if ((r < 0) != (errors > 0)) abort();
    rp_source_close(s);
    return 0;
}
