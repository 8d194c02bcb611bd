/* fuzz_detect.c - libFuzzer target: format and compression detection on the first bytes, then the
 * full open path over a buffer (auto format, auto framing) and a few messages of whatever opens. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "itch.h"
#include "source.h"
#include "zread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_format f = rp_source_detect(data, size), dbn = RP_FMT_AUTO;
    if (rp_format_parse("dbn", &dbn) != 0) abort(); /* detected; dbn-frag never is */
    if (f != RP_FMT_AUTO && f != RP_FMT_PCAP && f != RP_FMT_PCAPNG && f != RP_FMT_ITCH &&
        f != RP_FMT_RTK && f != dbn)
        abort();
    if (rp_itch_detect(data, size) && f == RP_FMT_AUTO) abort();
    bool z = rp_zread_is_zstd(data, size);

    rp_source *s;
    char err[512];
    if (rp_source_open_mem(&s, data, size, "fuzz.bin", NULL, err, sizeof err) != 0) {
        if (!err[0]) abort();
        return 0;
    }
    if (rp_source_compressed(s) != z) abort();
    /* plain input opens as what detection said */
    if (!z && f == RP_FMT_AUTO) abort();
    rp_message m;
    for (int i = 0; i < 64 && rp_source_next(s, &m) == 1; i++) continue;
    rp_source_close(s);
    return 0;
}
