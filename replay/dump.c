/* dump.c - one text line per message: the byte-exact view that `replay info --dump` and ringcat
 * print
 *
 * The line is built in small stack buffers and written in pieces, so a message of any length
 * costs no allocation.
 */
#include "dump.h"

#include <inttypes.h>

int rp_dump_line(FILE *f, uint32_t stream, uint64_t seq, uint64_t ts_ns, unsigned type,
                 const uint8_t *data, uint32_t len)
{
    static const char hexd[] = "0123456789abcdef";
    char line[160];
    int n = snprintf(line, sizeof line, "D %" PRIu32 " %" PRIu64 " %" PRIu64 " 0x%04x %" PRIu32 " ",
                     stream, seq, ts_ns, type, len);
    if (n < 0 || fwrite(line, 1, (size_t)n, f) != (size_t)n) return -1;
    char hex[512];
    for (uint32_t i = 0; i < len;) {
        size_t k = 0;
        for (; i < len && k + 2 <= sizeof hex; i++) {
            hex[k++] = hexd[data[i] >> 4];
            hex[k++] = hexd[data[i] & 15];
        }
        if (fwrite(hex, 1, k, f) != k) return -1;
    }
    return 0;
}
