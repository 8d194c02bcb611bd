/* fuzz_zstd.c - libFuzzer target: the zstd/plain stream reader (zread) over a buffer: peeks, skips
 * and reads of varying sizes, then the same input through its fopencookie FILE*. Both paths must
 * deliver the same bytes (up to where one of them stops on an error: zstd may discard the output
 * of a call that fails, so how much comes before an error depends on the buffer sizes). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zread.h"

#define MAX_OUT (256u << 10) /* decompressed bytes looked at per input (zstd bombs) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    rp_zread *z;
    if (rp_zread_open_mem(&z, data, size, "fuzz", err, sizeof err) != 0) return 0;
    if (rp_zread_compressed(z) != rp_zread_is_zstd(data, size)) abort();
    uint8_t *out = malloc(MAX_OUT + 65537); /* what path 1 delivered */
    if (!out) abort();

    /* path 1: peek/skip/read with sizes from a small cycle */
    static const size_t steps[] = {1, 2, 7, 64, 3, 1000, 65537, 13};
    size_t total1 = 0;
    bool failed1 = false, eof1 = false;
    for (size_t i = 0; total1 < MAX_OUT; i++) {
        size_t want = steps[i % 8];
        const uint8_t *p;
        ssize_t n;
        if (i % 3 == 0) {
            n = rp_zread_read(z, out + total1, want);
        } else {
            n = rp_zread_peek(z, want, &p);
            if (n > (ssize_t)want) abort();
            if (n > 0) {
                memcpy(out + total1, p, (size_t)n);
                rp_zread_skip(z, (size_t)n);
            }
        }
        if (n < 0) {
            failed1 = true;
            if (!rp_zread_failed(z) || !rp_zread_error(z)[0]) abort();
            break;
        }
        if (n == 0) {
            if (!rp_zread_at_eof(z)) abort();
            eof1 = true;
            break;
        }
        total1 += (size_t)n;
        if (rp_zread_offset(z) != total1) abort();
    }
    rp_zread_close(z);

    /* path 2: the FILE* that libpcap reads */
    if (rp_zread_open_mem(&z, data, size, "fuzz", err, sizeof err) != 0) abort();
    FILE *f = rp_zread_fopen(z);
    if (!f) abort();
    uint8_t buf[4096];
    size_t total2 = 0, n;
    while (total2 < total1 && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (n > total1 - total2) n = total1 - total2;
        if (memcmp(buf, out + total2, n) != 0) abort();
        total2 += n;
    }
    bool failed2 = rp_zread_failed(z); /* may be set while fread still returned bytes */
    if (ferror(f) && !failed2) abort();
    if (total2 < total1 && !failed2) abort(); /* path 2 ended early without an error */
    if (eof1 && total2 == total1 && fread(buf, 1, 1, f) != 0) abort(); /* path 2 has more */
    if (failed1 && !failed2 && total2 == total1) {
        /* path 2 must fail too, at or after the same point */
        while (fread(buf, 1, sizeof buf, f) > 0) continue;
        if (!ferror(f)) abort();
    }
    fclose(f);
    rp_zread_close(z);
    free(out);
    return 0;
}
