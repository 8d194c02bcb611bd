/* moldpack.c - MoldUDP64 packer: messages grouped into packets with a session and sequence numbers
 *
 * Design notes
 * - The packet is built in place: the first message goes at RP_MOLD_HDR and the header is written
 *   when the packet is taken, once its count is known. Each message is a u16 big-endian length and
 *   its bytes, as rp_frame_decode() reads them.
 * - A message longer than the size limit still goes out, alone in its packet (up to the largest
 *   UDP payload); the limit groups messages, it never drops one.
 */
#include "moldpack.h"

#include <string.h>

#include "ringalloc/byteorder.h"

void rp_moldpack_init(rp_moldpack *p, const char *session, size_t limit, uint64_t first_seq)
{
    memset(p->session, ' ', sizeof p->session);
    size_t n = session ? strlen(session) : 0;
    memcpy(p->session, session ? session : "", n < sizeof p->session ? n : sizeof p->session);
    p->limit = limit < RP_MOLDPACK_MIN   ? RP_MOLDPACK_MIN
               : limit > RP_MOLDPACK_MAX ? RP_MOLDPACK_MAX
                                         : limit;
    p->next_seq = first_seq;
    p->first = first_seq;
    p->count = 0;
    p->len = RP_MOLD_HDR;
}

bool rp_moldpack_fits(const rp_moldpack *p, size_t len)
{
    if (len > RP_MOLDPACK_MAX - RP_MOLD_HDR - 2 || len > UINT16_MAX) return false;
    if (p->count == 0) return true;
    return p->count < RP_MOLD_EOS - 1 && p->len + 2 + len <= p->limit;
}

int rp_moldpack_add(rp_moldpack *p, const uint8_t *msg, size_t len)
{
    if (!rp_moldpack_fits(p, len)) return -1;
    if (p->count == 0) p->first = p->next_seq;
    ra_store_be16(p->buf + p->len, (uint16_t)len);
    if (len) memcpy(p->buf + p->len + 2, msg, len);
    p->len += 2 + len;
    p->count++;
    p->next_seq++;
    return 0;
}

/* Writes a header with this first sequence number and count at out. */
static void rp__header(const rp_moldpack *p, uint8_t *out, uint64_t seq, uint16_t count)
{
    memcpy(out, p->session, sizeof p->session);
    ra_store_be64(out + 10, seq);
    ra_store_be16(out + 18, count);
}

size_t rp_moldpack_take(rp_moldpack *p, const uint8_t **pkt)
{
    if (p->count == 0) return 0;
    rp__header(p, p->buf, p->first, (uint16_t)p->count);
    size_t len = p->len;
    *pkt = p->buf;
    p->count = 0;
    p->len = RP_MOLD_HDR;
    return len;
}

int rp_moldpack_skip(rp_moldpack *p, uint64_t n)
{
    if (p->count) return -1;
    p->next_seq += n;
    return 0;
}

size_t rp_moldpack_heartbeat(const rp_moldpack *p, uint8_t out[RP_MOLD_HDR])
{
    rp__header(p, out, p->next_seq, 0);
    return RP_MOLD_HDR;
}
