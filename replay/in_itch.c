/* in_itch.c - replay's ITCH 5.0 file input: u16 big-endian length + message, record by record
 *
 * Design notes
 * - Records are handed out in place from the reader's window (peek the length, peek the record,
 *   skip it), one per call; the message's own 48-bit timestamp (ns since midnight) is its time.
 * - A record whose length contradicts its type's fixed size, or is 0, is damage: a decode error
 *   and a warning naming the record and its byte offset (an input error with --strict); the next
 *   record is found with rp_itch_resync(), so damage to one length field costs one record, not
 *   the rest of the file. Types ITCH 5.0 does not define pass unchecked.
 */
#include <stdlib.h>

#include "input.h"
#include "itch.h"

#include "ringalloc/byteorder.h"

#define RP__RESYNC_PEEK (2u + 65535u + 3u) /* a bad record and the start of what follows it */

static bool rp__probe(const uint8_t *p, size_t n)
{
    return rp_itch_detect(p, n);
}

static int rp__open(rp_source *s, size_t peeked)
{
    (void)peeked;
    s->st.type_is_char = true;
    rp_source_filter_unused(s);
    return 0;
}

/* The record at the reader's position is bad (its first n bytes are at p): count, warn, skip it.
 * @return 0, or -1 (--strict, or a read error). */
static int rp__bad_record(rp_source *s, const uint8_t *p, size_t n)
{
    uint64_t off = rp_zread_offset(s->z);
    unsigned len = ra_load_be16(p), type = n > 2 ? p[2] : 0;
    ssize_t got = rp_zread_peek(s->z, RP__RESYNC_PEEK, &p);
    if (got < 0) return rp_source_fail_zread(s);
    size_t skip = rp_itch_resync(p, (size_t)got, (size_t)got < RP__RESYNC_PEEK);
    rp_zread_skip(s->z, skip);
    s->st.packets++;
    s->st.decode_errors++;
    s->st.bytes = rp_zread_offset(s->z);
    if (len == 0)
        return rp_source_damaged(s, "record", "record %llu at byte offset %llu: length 0",
                                 (unsigned long long)s->st.packets, (unsigned long long)off);
    char t[8];
    snprintf(t, sizeof t, type > 0x20 && type < 0x7F ? "'%c'" : "0x%02x", type);
    return rp_source_damaged(s, "record",
                             "record %llu at byte offset %llu: length %u contradicts type %s "
                             "(%zu bytes)",
                             (unsigned long long)s->st.packets, (unsigned long long)off, len, t,
                             rp_itch_size((uint8_t)type));
}

static int rp__next(rp_source *s, rp_message *m, size_t max, size_t *n, rp_mark *mk)
{
    (void)max;
    (void)mk;
    for (;;) {
        const uint8_t *p;
        ssize_t got = rp_zread_peek(s->z, 2, &p);
        if (got >= 2) got = rp_zread_peek(s->z, 2 + (size_t)ra_load_be16(p), &p);
        if (got < 0) return rp_source_fail_zread(s);
        const uint8_t *msg;
        size_t len;
        size_t rec = rp_itch_record(p, (size_t)got, &msg, &len);
        if (rec == 0) { /* end of input, or a record cut short by it */
            if (got > 0) s->st.truncated = true;
            return rp_source_end(s, rp_zread_offset(s->z));
        }
        int c = rp_itch_check(msg, len);
        if (c == RP_ITCH_EMPTY || c == RP_ITCH_BADSIZE) {
            if (rp__bad_record(s, p, (size_t)got) != 0) return -1;
            continue;
        }
        rp_zread_skip(s->z, rec);
        s->st.packets++;
        s->st.bytes = rp_zread_offset(s->z);
        uint64_t ts = rp_itch_timestamp(msg, len);
        rp_feed_stamp(&s->st, ts);
        *m = (rp_message){.data = msg,
                          .len = (uint32_t)len,
                          .type = msg[0],
                          .stream = 0,
                          .seq = ++s->st.messages,
                          .ts_ns = ts};
        s->st.by_proto[RP_PROTO_ITCH][msg[0]]++;
        s->st.protos |= 1u << RP_PROTO_ITCH;
        *n = 1;
        return 1;
    }
}

static int rp__stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap)
{
    (void)s;
    if (id != 0) return -1;
    snprintf(buf, cap, "itch");
    return 0;
}

const rp_input rp_input_itch = {.name = "itch",
                                .aliases = "itch50",
                                .label = "ITCH 5.0",
                                .weak_probe = true,
                                .probe = rp__probe,
                                .open = rp__open,
                                .next = rp__next,
                                .stream_desc = rp__stream_desc};
