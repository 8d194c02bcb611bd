/* link.h - replay's link layer: Ethernet/VLAN/SLL/raw IP/loopback, IPv4/IPv6, UDP; flow keys */
#ifndef RP_LINK_H
#define RP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pure functions over (const uint8_t *, size_t): no I/O, no globals, so tests and fuzzers drive
 * them with byte buffers. What comes out is a UDP payload and its flow key, which is all the
 * framing layer (framing.h) needs: a capture reader and a socket reader feed it alike. */

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

/* rp_link_vlan_tagged() : whether an Ethernet frame (RP_DLT_EN10MB) carries an 802.1Q / QinQ tag
 * (a BPF filter must then start with `vlan` to look past it).
 * @return true or false (false for other link types and frames shorter than 14 bytes). */
bool rp_link_vlan_tagged(int linktype, const uint8_t *pkt, size_t caplen);

/* ---- flow keys --------------------------------------------------------------------------------
 */

#define RP_KEY_MAX 40 /* longest stream key (framing.h tables), flow keys included */

/* rp_udp_flow_key() : the key of a UDP flow in key[]: address family (4 or 6), source address,
 * destination address (4 or 16 bytes each, network order), source port, destination port (big
 * endian). A socket reader builds the same key from its own addresses.
 * @return its length (<= RP_KEY_MAX). */
size_t rp_udp_flow_key(const rp_udp *u, uint8_t key[RP_KEY_MAX]);

/* The parts of a flow key, as text. */
typedef struct rp_flow_addr {
    char src[56], dst[56]; /* "10.0.0.1:5000", "[2001:db8::1]:5000" */
    uint16_t sport, dport;
    bool v6;
} rp_flow_addr;

/* rp_flow_key_parse() : the addresses and ports of a key made by rp_udp_flow_key().
 * @return 0 with *out set, or -1 when the key is not a flow key (wrong length or family). */
int rp_flow_key_parse(const uint8_t *key, size_t klen, rp_flow_addr *out);

#endif /* RP_LINK_H */
