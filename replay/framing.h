/* framing.h - replay's UDP payload layer: MoldUDP64, IEX-TP, streams, gaps, payloads to messages */
#ifndef RP_FRAMING_H
#define RP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/byteorder.h"

#include "link.h"
#include "source.h"

/* Everything here works over (const uint8_t *, size_t) plus caller-owned state structs: no I/O,
 * no globals, so tests and fuzzers drive it with byte buffers. A UDP payload arrives with its flow
 * key (link.h) and timestamp, from a capture or a socket alike (rp_framer below). */

/* ---- streams: a small hash table keyed by bytes -----------------------------------------------
 */

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
    uint64_t packets, messages; /* caller-kept counts (rp_framer: per UDP flow) */
} rp_stream;

typedef struct rp_streams {
    rp_stream *slot;
    size_t cap, count, limit;
    rp_stream *last; /* the entry found last: most captures carry one flow and one session, so
                        most lookups end with one memcmp here instead of a hash and a probe */
} rp_streams;

/* rp_streams_init() : an empty table that will hold at most `limit` streams (memory stays bounded
 * on captures with endless distinct flows). */
void rp_streams_init(rp_streams *t, size_t limit);

/* rp_streams_get() : the stream with this key, created zeroed (except the key) when absent, with
 * *created set accordingly. The pointer is valid until rp_streams_get() next creates an entry.
 * @return NULL when klen is 0 or > RP_KEY_MAX, the table holds `limit` streams already, or memory
 *         ran out; the caller then handles the packet without per-stream state. */
rp_stream *rp_streams_get(rp_streams *t, const uint8_t *key, size_t klen, bool *created);

void rp_streams_free(rp_streams *t);

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

/* rp_feed_seq_track() : rp_seq_track() counting into st's gaps, missing and backward. */
void rp_feed_seq_track(rp_seq *s, uint64_t first, uint64_t count, rp_feed_stats *st);

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

/* rp_frame_msg_at() : the message whose length prefix (u16, little-endian for IEX-TP, else big)
 * is at body[off], off <= body_len: the one step of every walk over a frame's messages.
 * @return its length with *msg set, or -1 when the prefix or the message runs past body_len. */
static inline int32_t rp_frame_msg_at(const uint8_t *body, size_t body_len, size_t off, bool le,
                                      const uint8_t **msg)
{
    if (body_len - off < 2) return -1;
    uint16_t len = le ? ra_load_le16(body + off) : ra_load_be16(body + off);
    if ((size_t)len > body_len - off - 2) return -1;
    *msg = body + off + 2;
    return len;
}

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

/* ---- UDP payloads to messages ------------------------------------------------------------------
 */

/* rp_framer : the messages of UDP payloads, payload by payload, whatever delivered them (a capture
 * reader after rp_link_udp(), or a socket). Per flow it remembers the framing (forced, or
 * detected from the flow's first payload) and counts packets and messages; per sequencing stream
 * (MoldUDP64 session, IEX-TP channel + session) it counts gaps. Counts go to the rp_feed_stats
 * given at init (messages, by_proto, heartbeats, gaps, missing, backward, decode_errors,
 * framings, type_is_char). Stream ids (rp_message.stream) number flows and sequencing streams
 * together, from 0, in order of appearance. Fields are the framer's own: read none of them. */
typedef struct rp_framer {
    rp_framing forced; /* RP_FRAMING_AUTO: per flow */
    rp_feed_stats *st;
    rp_streams flows, seqs;
    uint32_t next_id;
    rp_gaps gaps;
    uint64_t running; /* message numbers of flows that are not tracked */
    /* the payload being handed out */
    rp_framing kind;
    bool active;     /* messages remain */
    bool mark_ready; /* its mark is not taken yet */
    rp_frame fr;
    rp_frame_cursor cur;
    const uint8_t *udp; /* udp framing: the payload */
    size_t udp_len;
    uint32_t stream;
    uint64_t seq_udp, ts;
    uint64_t *by_type; /* st->by_proto row of the payload's protocol */
    rp_stream *flow;   /* its flow (valid until the next payload), or NULL */
    rp_mark mark;
} rp_framer;

/* rp_framer_init() : an empty framer counting into *st; `forced` is the --framing choice. */
void rp_framer_init(rp_framer *f, rp_framing forced, rp_feed_stats *st);

void rp_framer_free(rp_framer *f);

enum rp_framer_status {
    RP_FRAMER_OK = 0,      /* the payload's messages and mark are ready (possibly none) */
    RP_FRAMER_DAMAGED = 1, /* a MoldUDP64 / IEX-TP count or length runs past the end of a payload
                              that `complete` says is whole: one decode error; the messages before
                              the bad length are ready, the rest of the payload is skipped, and
                              the stream's expected sequence number advances by the header's count
                              as for an intact packet. f->fr.why says what is wrong. */
};

/* rp_framer_payload() : takes one UDP payload of the flow with key key[0..klen) (rp_udp_flow_key)
 * and timestamp ts; `complete` false when the datagram was cut (snaplen, first fragment: the
 * messages that are there are used, one decode error). Payloads that are not of the flow's
 * framing count as decode errors. p must stay valid while the messages are taken.
 * @return enum rp_framer_status. */
int rp_framer_payload(rp_framer *f, const uint8_t *key, size_t klen, const uint8_t *p, size_t n,
                      bool complete, uint64_t ts);

/* rp_framer_take() : up to max (>= 1) more messages of the current payload, counted as delivered.
 * A MoldUDP64 message whose length contradicts its ITCH 5.0 type, and an empty one, are skipped
 * as decode errors.
 * @return how many were written to m; 0 when the payload has no more. */
size_t rp_framer_take(rp_framer *f, rp_message *m, size_t max);

/* rp_framer_take_mark() : the current payload's mark (sequenced packets only), once; a caller
 * that wants marks takes it before the messages, one that does not need not take it.
 * @return true with *mk set, or false when there is none (left). */
bool rp_framer_take_mark(rp_framer *f, rp_mark *mk);

/* rp_framer_announced() : called right after rp_framer_payload(), what that payload announces: its
 * message count (0 for a heartbeat or a payload that did not decode; 1 under udp framing) and, for
 * a sequenced one (MoldUDP64, IEX-TP), its first sequence number in *seq.
 * @return whether the payload is sequenced (*seq set). */
bool rp_framer_announced(const rp_framer *f, uint32_t *messages, uint64_t *seq);

/* rp_framer_stream_desc() : as rp_source_stream_desc() for the framer's stream ids.
 * @return 0, or -1 when the id is unknown. */
int rp_framer_stream_desc(const rp_framer *f, uint32_t id, char *buf, size_t cap);

/* rp_framer_flows() : up to max flows, most packets first (then in order of appearance).
 * @return how many flows there are (may exceed max). */
size_t rp_framer_flows(const rp_framer *f, rp_flow_info *out, size_t max);

#endif /* RP_FRAMING_H */
