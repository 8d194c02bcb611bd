/* ring_layout.h - the tick ring's memory: control block, record header, position arithmetic */
#ifndef RINGALLOC_RING_LAYOUT_H
#define RINGALLOC_RING_LAYOUT_H

/* Everything here describes bytes of the ring's memory block and nothing in it is a pointer, so
 * that another process mapping the same block reads it with the same definitions.
 *
 * Block: control block (RA__CTL_SIZE bytes), then the data (capacity bytes, a power of two).
 * Positions are free-running 64-bit byte counters, masked by capacity - 1 to index the data (a
 * 64-bit counter at 100 GB/s wraps after ~5 years, so counter wrap is not handled).
 *
 * Records: a 24-byte header {u32 len, u16 type, u16 flags, u64 seq, u64 ts_ns} then the payload,
 * padded to 8 bytes. A record never wraps: when it does not fit before the end of the data, a
 * padding record (flags PAD) fills the rest; when fewer than 24 bytes remain, the gap is skipped
 * implicitly (both sides compute it from the position alone). Every multiple of capacity is thus
 * a record boundary. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ringalloc/ring.h"

#define RA__LINE     128u /* two cache lines: keeps the adjacent-line prefetcher from false sharing */
#define RA__CTL_SIZE (4u * RA__LINE)
#define RA__MAGIC    0x31304B4349544152ull /* "RATICK01" */
#define RA__F_PAD    1u                    /* record flag: padding to the end of the data */

#define RA__ALWAYS_INLINE inline __attribute__((always_inline))

typedef struct ra__rec {
    uint32_t len;
    uint16_t type;
    uint16_t flags;
    uint64_t seq;
    uint64_t ts_ns;
} ra__rec;
_Static_assert(sizeof(ra__rec) == RA_RING_HDR_SIZE, "record header is 24 bytes");

/* The backpressure consumer's position: how far it has read (consumed, consumed_seq: its seq)
 * and whether a consumer is attached. Written by the consumer only (attached: at init/detach). */
typedef struct ra__ring_cons {
    _Atomic uint64_t consumed;
    _Atomic uint64_t consumed_seq;
    _Atomic uint32_t attached;
    char pad[RA__LINE - 20];
} ra__ring_cons;

/* Readers that sleep in ra_reader_wait (ring_wait.c): `waiters` counts them, `seq` is the futex
 * word the producer bumps before a wake-up. A shared ring keeps this on a page of its own that
 * waiting readers map writable; a wrong count costs latency only (waits sleep in bounded
 * slices). */
typedef struct ra__ring_wait {
    _Atomic uint32_t seq;
    _Atomic uint32_t waiters;
    char pad[RA__LINE - 8];
} ra__ring_wait;

/* The shared control block. Each group sits on its own 128-byte line pair.
 *   tail        end of the last committed record (release: publishes the record's bytes)
 *   intent      end of the region the producer is, or has been, writing; monotonic
 *   last_pos    start of the last committed record (for RA_START_NEWEST / NEXT)
 *   head        start of the oldest intact record; head_seq its sequence number
 *   consumed    backpressure: how far the single consumer has read (consumed_seq: its seq) */
typedef struct ra__ring_ctl {
    /* line 0: written once at create (closed: once, by ra_ring_close; coarse: by the producer,
     * once per eighth of the data) */
    uint64_t magic;
    uint64_t capacity;
    uint32_t flags;
    uint32_t max_msg;
    _Atomic uint32_t closed; /* 1 after ra_ring_close: end of stream once tail is reached */
    uint32_t pad0a;
    /* intent rounded up to a multiple of RA__COARSE(capacity), stored (with intent, before the
     * data) whenever intent passes it; 0: not kept (a ring from an older writer). It changes once
     * per eighth of the data, so a reader's lap check loads it from its own cache instead of
     * taking the tail line from the producer (ra__intent_passed in ring_read.c). */
    _Atomic uint64_t coarse;
    char pad0[RA__LINE - 40];
    /* line 1: written by the producer on every commit, polled by readers */
    _Atomic uint64_t tail;
    _Atomic uint64_t intent;
    _Atomic uint64_t last_pos;
    char pad1[RA__LINE - 24];
    /* line 2: written by the producer, read by resync and stats */
    _Atomic uint64_t head;
    _Atomic uint64_t head_seq;
    _Atomic uint64_t next_seq;
    _Atomic uint64_t published_bytes;
    _Atomic uint64_t overwritten_bytes;
    _Atomic uint64_t too_big;
    _Atomic uint64_t full;
    char pad2[RA__LINE - 56];
    /* line 3: the backpressure consumer's fields (in-process rings; a shared ring keeps them in
     * a page of their own, the only one its consumer maps writable: see ring_shm_layout.h) */
    ra__ring_cons cons;
} ra__ring_ctl;
_Static_assert(sizeof(ra__ring_ctl) == RA__CTL_SIZE, "control block layout");
_Static_assert(offsetof(ra__ring_ctl, coarse) == 32 && offsetof(ra__ring_ctl, tail) == RA__LINE,
               "control block layout");

/* The coarse intent's step: an eighth of the data. A reader less than 7/8 of the capacity behind
 * the producer's intent passes its lap check on the coarse intent alone. */
#define RA__COARSE(cap) ((cap) / 8)

/* Bytes a record with a payload of len bytes occupies: header + payload, rounded up to 8. */
static inline uint64_t ra__rec_size(uint32_t len)
{
    return ((uint64_t)RA_RING_HDR_SIZE + len + (RA_RING_ALIGN - 1)) &
           ~(uint64_t)(RA_RING_ALIGN - 1);
}

/* Bytes from pos to the end of the data (1..capacity). */
static inline uint64_t ra__to_end(uint64_t pos, uint64_t mask)
{
    return mask + 1 - (pos & mask);
}

/* True when no record header fits in the to_end bytes left before the end of the data: both
 * sides skip them by position alone (the implicit skip). */
static inline bool ra__no_room_for_hdr(uint64_t to_end)
{
    return to_end < RA_RING_HDR_SIZE;
}

/* Where a record of `size` bytes goes when the producer is at pos: pos itself, or, when it does
 * not fit before the end of the data, the next multiple of capacity (the gap becomes padding). */
static inline uint64_t ra__place(uint64_t pos, uint64_t size, uint64_t to_end)
{
    return size <= to_end ? pos : pos + to_end;
}

/* True when a producer intent of `intent` may have rewritten bytes at or after position pos,
 * that is, a reader at pos was lapped. */
static inline bool ra__overtaken(uint64_t intent, uint64_t pos, uint64_t cap)
{
    return intent > pos + cap;
}

/* True when the header h, found at data offset off, can be the record expected next: not
 * padding, a sane length, inside the data, and the expected sequence number. A torn header can
 * carry any length; this check bounds every copy made before validation. */
static inline bool ra__hdr_ok(const ra__rec *h, uint64_t off, uint64_t cap, uint32_t max_msg,
                              uint64_t expect_seq)
{
    return !(h->flags & RA__F_PAD) && h->len <= max_msg && off + RA_RING_HDR_SIZE + h->len <= cap &&
           h->seq == expect_seq;
}

/* The first 8 header bytes (len, type, flags) as one word, as the producer's retire loop loads
 * them: its payload length and whether it is padding. */
static inline uint32_t ra__word_len(uint64_t w)
{
    ra__rec h;
    memcpy(&h, &w, sizeof w);
    return h.len;
}

static inline bool ra__word_pad(uint64_t w)
{
    ra__rec h;
    memcpy(&h, &w, sizeof w);
    return (h.flags & RA__F_PAD) != 0;
}

/* Stores a record header: len, type and flags as one 8-byte store, then seq and ts. */
static RA__ALWAYS_INLINE void ra__hdr_store(unsigned char *rec, uint32_t len, uint16_t type,
                                            uint16_t flags, uint64_t seq, uint64_t ts_ns)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w = (uint64_t)len | (uint64_t)type << 32 | (uint64_t)flags << 48;
    memcpy(rec, &w, 8);
#else
    ra__rec h = {.len = len, .type = type, .flags = flags};
    memcpy(rec, &h, 8);
#endif
    memcpy(rec + 8, &seq, 8);
    memcpy(rec + 16, &ts_ns, 8);
}

#endif /* RINGALLOC_RING_LAYOUT_H */
