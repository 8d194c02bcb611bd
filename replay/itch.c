/* itch.c - Nasdaq ITCH 5.0: message sizes by type, checks, timestamps, file records over a buffer
 *
 * Design notes: ITCH 5.0 messages have a fixed size per type, which makes the size a cheap
 * integrity check (a mismatch is a decode error, the message is skipped) and the basis of file
 * detection (an ITCH file has no magic number: its first records must each carry a known type
 * with that type's size). Unknown types are passed through unchecked: MoldUDP64 may carry other
 * ITCH dialects. After a bad record of a file, the next record is found where the length field
 * says unless only the type's own size leads to a good record: damage that hit the length field
 * would otherwise throw the reader out of step with every record after it.
 */
#include "itch.h"

#include "ringalloc/byteorder.h"

const uint8_t rp_itch_sizes[256] = {
    ['S'] = 12, ['R'] = 39, ['H'] = 25, ['Y'] = 20, ['L'] = 26, ['V'] = 35, ['W'] = 12, ['K'] = 28,
    ['J'] = 35, ['h'] = 21, ['A'] = 36, ['F'] = 40, ['E'] = 31, ['C'] = 36, ['X'] = 23, ['D'] = 19,
    ['U'] = 35, ['P'] = 44, ['Q'] = 40, ['B'] = 19, ['I'] = 50, ['N'] = 20, ['O'] = 48,
};

uint64_t rp_itch_timestamp(const uint8_t *msg, size_t len)
{
    if (len < 11) return 0;
    return ra_load_be48(msg + 5);
}

size_t rp_itch_record(const uint8_t *p, size_t n, const uint8_t **msg, size_t *len)
{
    if (n < 2) return 0;
    size_t l = ra_load_be16(p);
    if (n - 2 < l) return 0;
    *msg = p + 2;
    *len = l;
    return 2 + l;
}

bool rp_itch_detect(const uint8_t *p, size_t n)
{
    size_t off = 0;
    int seen = 0;
    while (seen < RP_ITCH_DETECT_RECORDS && n - off >= 3) {
        size_t l = ra_load_be16(p + off);
        size_t want = rp_itch_sizes[p[off + 2]];
        if (want == 0 || want != l) return false;
        seen++;
        off += 2 + l;
        if (off >= n) break;
    }
    return seen > 0;
}

/* Whether a good record (known type with its size), or with `whole` the end of input, is at off. */
static bool rp__good_at(const uint8_t *p, size_t n, size_t off, bool whole)
{
    if (off >= n) return off == n && whole;
    if (n - off < 3) return false;
    size_t want = rp_itch_sizes[p[off + 2]];
    return want && ra_load_be16(p + off) == want;
}

size_t rp_itch_resync(const uint8_t *p, size_t n, bool whole)
{
    size_t by_len = 2 + (size_t)ra_load_be16(p);
    size_t want = n >= 3 ? rp_itch_sizes[p[2]] : 0;
    if (rp__good_at(p, n, by_len, whole)) return by_len;
    if (want && rp__good_at(p, n, 2 + want, whole)) return 2 + want;
    return by_len;
}
