/* fuzz_pcap.c - libFuzzer target: captures read by libpcap from an fmemopen() FILE*, through the
 * replay source (zstd detection, format detection, link/IP/UDP, framing, gap counting). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "source.h"

#define MAX_BYTES (8u << 20) /* stop after this much decompressed input (zstd bombs) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    FILE *fp = fmemopen((void *)(uintptr_t)data, size, "rb");
    if (!fp) return 0;
    rp_source *s;
    char err[512];
    rp_source_opts o = {.format = RP_FMT_AUTO, .framing = RP_FRAMING_AUTO};
    if (rp_source_open_stream(&s, fp, "fuzz.pcap", &o, err, sizeof err) == 0) {
        rp_message m;
        int r;
        uint64_t n = 0;
        while ((r = rp_source_next(s, &m)) == 1) {
            n++;
            if (m.len && !m.data) abort();
            if (rp_source_stats(s)->bytes > MAX_BYTES) break;
        }
        const rp_feed_stats *st = rp_source_stats(s);
        if (st->messages != n) abort();
        if (st->gaps > st->missing) abort();
        if (r < 0 && !rp_source_error(s)[0]) abort();
        (void)rp_source_framing_name(s);
        rp_source_close(s);
    } else if (!err[0]) {
        abort();
    }
    fclose(fp);
    return 0;
}
