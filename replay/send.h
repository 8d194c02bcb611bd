/* send.h - replay --send: the capture's UDP payloads (or MoldUDP64 packets of other inputs) back on
 * the wire, paced by the capture's own clock
 *
 * The sender is a packet sink beside the ring: the producer thread hands it every UDP datagram of
 * a capture (rp_packet_sink, source.h) and every message of other inputs, losslessly and whatever
 * the ring does with them; the sender paces, drops on purpose (--drop), and sends to every
 * destination. See docs/network.md.
 */
#ifndef RP_SEND_H
#define RP_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "pacing.h"
#include "sendsock.h"
#include "source.h"

#define RP_SEND_MAX_DESTS   8
#define RP_SEND_MAX_PORTMAP 32
#define RP_SEND_DROPS_KEPT  10000 /* dropped packets listed in the report (the file: all) */
#define RP_SEND_SPIN_NS     30000 /* paced: spin this long before each due time */

typedef struct rp_send_opts {
    const char *dest[RP_SEND_MAX_DESTS]; /* "udp://HOST:PORT" each */
    unsigned ndest;
    rp_sock_opts sock; /* --ttl, --iface, --mcast-loop */
    uint16_t map_from[RP_SEND_MAX_PORTMAP], map_to[RP_SEND_MAX_PORTMAP]; /* --port-map */
    unsigned nmap;
    size_t packet_bytes; /* MoldUDP64 packets of non-capture inputs: size limit (--packet-bytes) */
    const char *session; /* their session (--session) */
    double duration;     /* seconds, 0: no limit (--duration) */
    double drop;         /* fraction of packets dropped on purpose, 0..1 (--drop) */
    uint64_t seed;       /* --seed */
    const char *drop_list; /* --drop-list FILE, or NULL */
} rp_send_opts;

/* One packet dropped on purpose. */
typedef struct rp_send_drop {
    uint64_t index; /* packets handled before it (sent or dropped), from 0, over every pass */
    uint64_t seq;   /* its first sequence number (sequenced packets only) */
    uint32_t count; /* messages it announced */
    bool sequenced;
} rp_send_drop;

typedef struct rp_send_stats {
    uint64_t packets;          /* packets sent (to every destination: counted once) */
    uint64_t bytes;            /* their UDP payload bytes */
    uint64_t datagrams;        /* datagrams the kernel took, over all destinations */
    uint64_t errors;           /* transient send errors (ENOBUFS, EAGAIN, ECONNREFUSED) */
    uint64_t dropped;          /* packets dropped on purpose (--drop) */
    uint64_t messages;         /* messages in the packets sent (announced by their framing) */
    double seconds;            /* first send to last send */
    bool paced;                /* timing was measured (a paced mode) */
    bool expired;              /* stopped by --duration */
    rp_hist timing;            /* |send time - due time| per packet, ns (paced modes) */
    const rp_send_drop *drops; /* the first RP_SEND_DROPS_KEPT dropped packets */
    size_t ndrops;
} rp_send_stats;

typedef struct rp_sender rp_sender;

/* rp_send_opts_default() : the defaults (no destination, TTL and interface from the kernel,
 * loopback off, 1472-byte packets, session "RPLAY00001"). */
void rp_send_opts_default(rp_send_opts *o);

/* rp_sender_open() : resolves and opens every destination, opens --drop-list FILE.
 * `pace` is the run's pacing (mode and rate; the sender takes its own anchors).
 * @return 0, or -1 with a message in err (nothing to close). */
int rp_sender_open(rp_sender **out, const rp_send_opts *o, const rp_pace *pace, char *err,
                   size_t errlen);

/* rp_sender_sink() : the packet sink that feeds s (for rp_source_opts.sink). */
const rp_packet_sink *rp_sender_sink(rp_sender *s);

/* rp_sender_message() : a message of a non-capture input: packed into MoldUDP64 packets (a
 * sequence number jump in the input, such as a gap mark of a tick file, becomes a jump in the
 * packets' numbers). */
void rp_sender_message(rp_sender *s, const rp_message *m);

/* rp_sender_pass_end() : the end of one pass over the inputs: closes the open MoldUDP64 packet;
 * the next pass continues the schedule where this one ended. */
void rp_sender_pass_end(rp_sender *s);

/* rp_sender_stop() : whether the run should stop: a send failed, or --duration has passed. */
bool rp_sender_stop(const rp_sender *s);

/* rp_sender_finish() : sends what is pending and closes the books.
 * @return 0, or -1 when a send failed (rp_sender_error() says why). */
int rp_sender_finish(rp_sender *s);

/* rp_sender_error() : the failure message ("" when none). */
const char *rp_sender_error(const rp_sender *s);

/* rp_sender_stats() : the counts (valid until rp_sender_close()). */
const rp_send_stats *rp_sender_stats(const rp_sender *s);

/* rp_sender_close() : closes the sockets and the drop list, frees s (NULL is fine). */
void rp_sender_close(rp_sender *s);

/* rp_send_drop_pick() : whether packet `index` is dropped for fraction p and seed: a pure function
 * of the three (splitmix64 of seed and index against p). @return true to drop. */
bool rp_send_drop_pick(uint64_t seed, uint64_t index, double p);

#endif /* RP_SEND_H */
