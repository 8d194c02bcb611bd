/* moldpack.h - MoldUDP64 packer: messages grouped into packets with a session and sequence numbers
 *
 * The inverse of rp_frame_decode() for MoldUDP64 (framing.h, whose RP_MOLD_HDR and RP_MOLD_EOS it
 * uses): messages are added to an open packet until the next one would pass the size limit; the
 * packet is then taken (its header written: session, first sequence number, count) and the next
 * one starts at the following sequence number. Pure (no I/O), so tests drive it with buffers.
 */
#ifndef RP_MOLDPACK_H
#define RP_MOLDPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing.h"

#define RP_MOLDPACK_MAX     65507u /* the largest UDP payload over IPv4 */
#define RP_MOLDPACK_DEFAULT 1472u  /* fits a 1500-byte MTU: 1500 - 20 (IPv4) - 8 (UDP) */
#define RP_MOLDPACK_MIN     (RP_MOLD_HDR + 2u + 1u)

typedef struct rp_moldpack {
    uint8_t session[10];
    size_t limit;      /* packet bytes, RP_MOLDPACK_MIN..RP_MOLDPACK_MAX */
    uint64_t next_seq; /* sequence number of the next message added */
    uint64_t first;    /* of the open packet */
    uint32_t count;    /* messages in the open packet */
    size_t len;        /* bytes of the open packet, header included */
    uint8_t buf[RP_MOLDPACK_MAX];
} rp_moldpack;

/* rp_moldpack_init() : an empty packer: session (10 bytes, space-padded when shorter, cut when
 * longer), packet size limit (clamped to RP_MOLDPACK_MIN..RP_MOLDPACK_MAX), first sequence
 * number (MoldUDP64 numbers from 1). */
void rp_moldpack_init(rp_moldpack *p, const char *session, size_t limit, uint64_t first_seq);

/* rp_moldpack_fits() : whether a message of len bytes goes into the open packet (an empty packet
 * takes any message up to RP_MOLDPACK_MAX - 22 bytes, even past the limit).
 * @return true or false. */
bool rp_moldpack_fits(const rp_moldpack *p, size_t len);

/* rp_moldpack_add() : appends a message to the open packet; call rp_moldpack_fits() first.
 * @return 0, or -1 when it does not fit (nothing added). */
int rp_moldpack_add(rp_moldpack *p, const uint8_t *msg, size_t len);

/* rp_moldpack_take() : closes the open packet: writes its header and gives its bytes (valid until
 * the next add); the next packet starts with the next sequence number.
 * @return its length (0 when it holds no message: nothing to send). */
size_t rp_moldpack_take(rp_moldpack *p, const uint8_t **pkt);

/* rp_moldpack_skip() : a sequence gap: the next message gets a number n higher than it would.
 * Only between packets (the open packet must be empty: take it first).
 * @return 0, or -1 when the open packet holds messages (nothing changed). */
int rp_moldpack_skip(rp_moldpack *p, uint64_t n);

/* rp_moldpack_heartbeat() : a heartbeat packet (count 0, sequence = the next number) in out
 * (RP_MOLD_HDR bytes). @return RP_MOLD_HDR. */
size_t rp_moldpack_heartbeat(const rp_moldpack *p, uint8_t out[RP_MOLD_HDR]);

#endif /* RP_MOLDPACK_H */
