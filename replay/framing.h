/* framing.h - replay's packet decoders: link layer to UDP, MoldUDP64, IEX-TP, streams and gaps */
#ifndef RP_FRAMING_H
#define RP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* Everything here is a pure function over (const uint8_t *, size_t) plus small caller-owned state
 * structs: no I/O, no globals, so tests and fuzzers drive it with byte buffers. */

/* ---- link layer, IPv4/IPv6, UDP -------------------------------------------------------------- */

/* Link types (pcap DLT_ numbers, and the LINKTYPE_ numbers where they differ) that rp_link_udp()
 * understands. */
#define RP_DLT_NULL       0   /* BSD loopback: 4-byte address family, then IP */
#define RP_DLT_EN10MB     1   /* Ethernet, with any number of 802.1Q / QinQ tags */
#define RP_DLT_RAW        12  /* raw IPv4 or IPv6 */
#define RP_LINKTYPE_RAW   101 /* the same, as written in files */
#define RP_DLT_LOOP       108 /* OpenBSD loopback: like NULL */
#define RP_DLT_LINUX_SLL  113 /* Linux cooked capture v1 (16-byte header) */
#define RP_DLT_IPV4       228 /* raw IPv4 */
#define RP_DLT_IPV6       229 /* raw IPv6 */
#define RP_DLT_LINUX_SLL2 276 /* Linux cooked capture v2 (20-byte header) */

/* rp_link_supported() : whether rp_link_udp() can decode packets of this link type. */
bool rp_link_supported(int linktype);

/* rp_link_udp() results */
enum rp_link_result {
    RP_LINK_UDP = 0,       /* *out describes a UDP payload */
    RP_LINK_NOT_UDP = 1,   /* a well-formed packet that is not UDP over IPv4/IPv6 (ARP, TCP...) */
    RP_LINK_FRAGMENT = 2,  /* a non-first IP fragment (not reassembled, skipped) */
    RP_LINK_MALFORMED = 3, /* a header is cut short or inconsistent, or the link type is unknown */
};

/* A UDP datagram found in a packet. Addresses are in network order; IPv4 uses src[0..3]. */
typedef struct rp_udp {
    const uint8_t *payload; /* points into the packet */
    size_t len;             /* payload bytes present in the packet */
    bool complete;          /* false when the IP or UDP length says the datagram is longer than what
                               the packet holds (a first fragment, or a capture cut by snaplen) */
    uint8_t af;             /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
} rp_udp;

/* rp_link_udp() : walks link header (Ethernet with VLAN 0x8100 / QinQ 0x88a8, 0x9100 tags; Linux
 * SLL/SLL2; raw IP; BSD NULL/LOOP), IPv4 (options; non-first fragments; a first fragment is decoded
 * with the bytes it holds) or IPv6 (hop-by-hop, routing, destination options, fragment and AH
 * extension headers), then UDP. Ethernet padding is dropped using the IP length.
 * @return one of enum rp_link_result; *out is filled only for RP_LINK_UDP. Never reads outside
 *         pkt[0..caplen). */
int rp_link_udp(int linktype, const uint8_t *pkt, size_t caplen, rp_udp *out);

/* ---- streams: a small hash table keyed by bytes -----------------------------------------------
 */

#define RP_KEY_MAX 40

typedef struct rp_seq {
    bool started;      /* a packet of this stream has been seen */
    uint64_t expected; /* the sequence number the next packet should start with */
} rp_seq;

typedef struct rp_stream {
    uint8_t key[RP_KEY_MAX];
    uint8_t klen; /* 0: free slot */
    uint32_t id;  /* caller-assigned */
    rp_framing framing;
    rp_seq seq;
} rp_stream;

typedef struct rp_streams {
    rp_stream *slot;
    size_t cap, count, limit;
} rp_streams;

/* rp_streams_init() : an empty table that will hold at most `limit` streams (memory stays bounded
 * on captures with endless distinct flows). */
void rp_streams_init(rp_streams *t, size_t limit);

/* rp_streams_get() : the stream with this key, created zeroed (except the key) when absent, with
 * *created set accordingly. The pointer is valid until the next rp_streams_get() call.
 * @return NULL when klen is 0 or > RP_KEY_MAX, the table holds `limit` streams already, or memory
 *         ran out; the caller then handles the packet without per-stream state. */
rp_stream *rp_streams_get(rp_streams *t, const uint8_t *key, size_t klen, bool *created);

void rp_streams_free(rp_streams *t);

/* rp_udp_flow_key() : the key of a UDP flow (address family, addresses, ports) in key[].
 * @return its length (<= RP_KEY_MAX). */
size_t rp_udp_flow_key(const rp_udp *u, uint8_t key[RP_KEY_MAX]);

/* ---- gap counting -----------------------------------------------------------------------------
 */

typedef struct rp_gaps {
    uint64_t gaps, missing, backward;
} rp_gaps;

/* rp_seq_track() : one packet of a sequenced stream whose first message has sequence number
 * `first` and which carries `count` messages (0 for heartbeats, which carry the next expected
 * number). The first packet of a stream only sets the expectation; later a first number above the
 * expected one is a gap (gaps += 1, missing += difference, saturating at UINT64_MAX), below it
 * backward += 1; either way the expectation then follows the packet: first + count. */
void rp_seq_track(rp_seq *s, uint64_t first, uint64_t count, rp_gaps *g);

/* ---- MoldUDP64 and IEX-TP ---------------------------------------------------------------------
 */

#define RP_MOLD_HDR      20     /* session[10], sequence u64 BE, count u16 BE */
#define RP_MOLD_EOS      0xFFFF /* count value marking the end of a session */
#define RP_IEXTP_HDR     40     /* see rp_frame_decode() */
#define RP_IEXTP_VERSION 1

enum rp_frame_status {
    RP_FRAME_OK = 0,
    RP_FRAME_SHORT = 1,   /* payload shorter than the framing header */
    RP_FRAME_BADHDR = 2,  /* the header is not this framing's (IEX-TP version is not 1) */
    RP_FRAME_OVERRUN = 3, /* a count or length field runs past the end of the payload; the
                             messages before it are still iterable (f->complete of them) */
};

/* One decoded framing header and where its messages are. */
typedef struct rp_frame {
    rp_framing kind;         /* RP_FRAMING_MOLDUDP64 or RP_FRAMING_IEXTP */
    uint64_t first_seq;      /* sequence number of the first message (next expected if none) */
    uint32_t count;          /* messages announced (0 for heartbeats and end of session) */
    bool heartbeat;          /* no messages: MoldUDP64 count 0 or 0xFFFF, IEX-TP count 0 */
    bool end_of_session;     /* MoldUDP64 count 0xFFFF */
    uint32_t complete;       /* messages wholly inside the payload (== count unless OVERRUN) */
    const uint8_t *body;     /* first length prefix */
    size_t body_len;         /* bytes from body to the end of the message block */
    uint8_t key[RP_KEY_MAX]; /* sequencing stream: 'M' + session, or 'I' + channel + session */
    uint8_t klen;
    char why[112]; /* for SHORT/BADHDR/OVERRUN: what is wrong, with payload offsets */
} rp_frame;

/* rp_frame_decode() : decodes the framing header of one UDP payload and checks every message
 * length against the payload.
 *   MoldUDP64: 20-byte header (10-byte session, u64 BE sequence, u16 BE count), then count messages
 *     each a u16 BE length + the message. Count 0 is a heartbeat, 0xFFFF the end of the session.
 *   IEX-TP: 40-byte little-endian header (version u8 = 1, reserved u8, protocol id u16, channel id
 *     u32, session id u32, payload length u16, message count u16, stream offset u64, first message
 *     sequence u64, send time u64), then count messages each a u16 LE length + the message, all
 *     within payload length. Count 0 is a heartbeat.
 * Bytes after the last announced message are ignored.
 * @return enum rp_frame_status; f is always filled as far as decoding got (f->why says why not). */
int rp_frame_decode(rp_framing kind, const uint8_t *p, size_t n, rp_frame *f);

/* Position inside a frame's messages. Zero-initialise before the first rp_frame_next(). */
typedef struct rp_frame_cursor {
    size_t off;     /* into f->body */
    uint32_t index; /* messages returned so far */
} rp_frame_cursor;

/* rp_frame_next() : the next of the frame's f->complete messages.
 * @return true with *msg, *len set (len may be 0); false when all have been returned. */
bool rp_frame_next(const rp_frame *f, rp_frame_cursor *c, const uint8_t **msg, uint16_t *len);

/* rp_frame_detect() : which framing a stream's first payload looks like: IEX-TP (version 1, payload
 * length and message lengths consistent with the payload size), MoldUDP64 (printable session,
 * message lengths adding up exactly to the payload size, or a bare 20-byte heartbeat / end of
 * session), else UDP. For an incomplete datagram (`complete` false) the message lengths need only
 * be consistent up to where the payload stops, with at least one whole message.
 * @return RP_FRAMING_IEXTP, RP_FRAMING_MOLDUDP64 or RP_FRAMING_UDP. */
rp_framing rp_frame_detect(const uint8_t *p, size_t n, bool complete);

#endif /* RP_FRAMING_H */
