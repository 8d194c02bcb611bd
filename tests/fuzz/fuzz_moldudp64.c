/* fuzz_moldudp64.c - libFuzzer target: MoldUDP64 payload decoding, message iteration, framing
 * detection and per-session gap counting over a sequence of payloads.
 * Input: records of [u16 BE length][payload]; a last record cut short is used as it is. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "itch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_streams sessions;
    rp_streams_init(&sessions, 64);
    rp_gaps g = {0, 0, 0};
    size_t off = 0;
    while (off < size) {
        size_t n = 0;
        if (size - off >= 2) {
            n = (size_t)data[off] << 8 | data[off + 1];
            off += 2;
        } else {
            off = size;
        }
        if (n > size - off) n = size - off;
        uint8_t *p = malloc(n ? n : 1); /* exact size: overreads are caught */
        if (!p) break;
        if (n) memcpy(p, data + off, n);
        off += n;

        rp_frame f;
        int st = rp_frame_decode(RP_FRAMING_MOLDUDP64, p, n, &f);
        if (rp_frame_detect(p, n, true) == RP_FRAMING_MOLDUDP64 && st != RP_FRAME_OK) abort();
        if (st == RP_FRAME_OK || st == RP_FRAME_OVERRUN) {
            if (st == RP_FRAME_OK && f.complete != f.count) abort();
            rp_frame_cursor c = {0, 0};
            const uint8_t *m;
            uint16_t len;
            while (rp_frame_next(&f, &c, &m, &len)) {
                if (m < p || m + len > p + n) abort();
                if (len) (void)rp_itch_check(m, len);
            }
            if (c.index != f.complete) abort();
            bool created;
            rp_stream *s = rp_streams_get(&sessions, f.key, f.klen, &created);
            if (s) rp_seq_track(&s->seq, f.first_seq, f.heartbeat ? 0 : f.count, &g);
        }
        free(p);
    }
    if (g.gaps > g.missing) abort(); /* every gap misses at least one message */
    rp_streams_free(&sessions);
    return 0;
}
