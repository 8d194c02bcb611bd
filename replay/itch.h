/* itch.h - Nasdaq ITCH 5.0: message sizes by type, checks, timestamps, file records over a buffer
 */
#ifndef RP_ITCH_H
#define RP_ITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ITCH 5.0 message sizes by type byte, 0 for a type ITCH 5.0 does not define (S 12, R 39, H 25,
 * Y 20, L 26, V 35, W 12, K 28, J 35, h 21, A 36, F 40, E 31, C 36, X 23, D 19, U 35, P 44, Q 40,
 * B 19, I 50, N 20, O 48): the one copy of the table in the project. */
extern const uint8_t rp_itch_sizes[256];

/* rp_itch_size() : the fixed size of ITCH 5.0 message type `type`.
 * @return the size in bytes, or 0 for a type ITCH 5.0 does not define. */
static inline size_t rp_itch_size(uint8_t type)
{
    return rp_itch_sizes[type];
}

enum rp_itch_check {
    RP_ITCH_OK = 0,      /* a known type with its size */
    RP_ITCH_UNKNOWN = 1, /* a type ITCH 5.0 does not define (size not checkable) */
    RP_ITCH_EMPTY = 2,   /* zero-length message */
    RP_ITCH_BADSIZE = 3, /* a known type whose length differs from its size */
};

/* rp_itch_check() : checks one message's length against its type byte (msg[0]). Inline: it runs
 * once per message of MoldUDP64 packets and ITCH files.
 * @return enum rp_itch_check; reads msg[0] only when len > 0. */
static inline int rp_itch_check(const uint8_t *msg, size_t len)
{
    if (len == 0) return RP_ITCH_EMPTY;
    size_t want = rp_itch_sizes[msg[0]];
    if (want == 0) return RP_ITCH_UNKNOWN;
    return want == len ? RP_ITCH_OK : RP_ITCH_BADSIZE;
}

/* rp_itch_timestamp() : the message's 48-bit big-endian timestamp (ns since midnight) at offset 5.
 * @return it, or 0 when len < 11. */
uint64_t rp_itch_timestamp(const uint8_t *msg, size_t len);

/* rp_itch_record() : splits the record at p[0..n) of an ITCH 5.0 file (u16 BE length + message).
 * @return the record size (2 + length) with *msg and *len set when p holds all of it; 0 when p ends
 *         inside it (more input needed, or a record cut short at the end of the file). */
size_t rp_itch_record(const uint8_t *p, size_t n, const uint8_t **msg, size_t *len);

/* rp_itch_detect() : whether p[0..n) looks like the start of an ITCH 5.0 file: every record whose
 * length and type lie inside p (up to RP_ITCH_DETECT_RECORDS of them, at least one) has a known
 * type and that type's size.
 * @return true or false. */
#define RP_ITCH_DETECT_RECORDS 4
bool rp_itch_detect(const uint8_t *p, size_t n);

/* rp_itch_resync() : where the record after a bad one (its length contradicts its type, or is 0)
 * starts, for the bad record at p[0..n) (n >= 2 + its length, p holding what follows as far as
 * the window goes; `whole` when p ends where the input does): 2 + the length field when a good
 * record (known type, that type's size) or the end of the input starts there; else 2 + the size
 * of the type byte after the length (a length field hit by damage) when a good record starts
 * there; else 2 + the length field.
 * @return the bytes to skip. */
size_t rp_itch_resync(const uint8_t *p, size_t n, bool whole);

#endif /* RP_ITCH_H */
