/* link.c - replay's link layer: Ethernet/VLAN/SLL/raw IP/loopback, IPv4/IPv6, UDP; flow keys
 *
 * Design notes
 * - Every decoder reads only inside the (pointer, length) it was given; each field read is
 *   preceded by a bounds check against that length, so fuzzers can hand it any bytes.
 * - Truncation is explicit: rp_udp.complete is false when the IP or UDP length fields say the
 *   datagram is longer than what the packet holds (snaplen cut, first IPv4/IPv6 fragment). The
 *   framing layer uses it to tell "the capture cut this message" (a decode error) from "a length
 *   field lies" (damage).
 * - IPv4 fragments are not reassembled: the first fragment is decoded with the bytes it holds,
 *   later fragments are reported as RP_LINK_FRAGMENT. IPv4 total length 0 (TCP segmentation
 *   offload captures) means "what was captured".
 * - Nothing here knows pcap: a packet is a link type number and bytes. The result, a UDP payload
 *   and its flow key, is what a socket reader has too.
 */
#include "link.h"

#include <stdio.h>
#include <string.h>

#include "ringalloc/byteorder.h"

/* ---- link layer --------------------------------------------------------------------------------
 */

#define RP__ETH_IPV4 0x0800
#define RP__ETH_IPV6 0x86DD
#define RP__MAX_TAGS 8  /* VLAN tags followed before giving up */
#define RP__MAX_EXT  16 /* IPv6 extension headers followed before giving up */

bool rp_link_supported(int linktype)
{
    switch (linktype) {
    case RP_DLT_NULL:
    case RP_DLT_EN10MB:
    case RP_DLT_RAW:
    case RP_LINKTYPE_RAW:
    case RP_DLT_LOOP:
    case RP_DLT_LINUX_SLL:
    case RP_DLT_IPV4:
    case RP_DLT_IPV6:
    case RP_DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

/* UDP header at p[0..n); `complete` carries what the IP layer already knows. */
static int rp__udp(const uint8_t *p, size_t n, bool complete, rp_udp *out)
{
    if (n < 8) return RP_LINK_MALFORMED;
    out->sport = ra_load_be16(p);
    out->dport = ra_load_be16(p + 2);
    size_t ulen = ra_load_be16(p + 4);
    size_t plen;
    if (ulen == 0) { /* IPv6 jumbogram or offloaded checksum/length: take what is there */
        plen = n - 8;
    } else if (ulen < 8) {
        return RP_LINK_MALFORMED;
    } else if (ulen > n) {
        plen = n - 8;
        complete = false;
    } else {
        plen = ulen - 8;
    }
    out->payload = p + 8;
    out->len = plen;
    out->complete = complete;
    return RP_LINK_UDP;
}

static int rp__ipv4(const uint8_t *p, size_t n, rp_udp *out)
{
    if (n < 20 || p[0] >> 4 != 4) return RP_LINK_MALFORMED;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < 20 || ihl > n) return RP_LINK_MALFORMED;
    size_t tot = ra_load_be16(p + 2);
    bool complete = true;
    if (tot == 0) {
        tot = n;
    } else if (tot < ihl) {
        return RP_LINK_MALFORMED;
    } else if (tot > n) {
        tot = n;
        complete = false;
    }
    uint16_t frag = ra_load_be16(p + 6);
    if (frag & 0x1FFF) return RP_LINK_FRAGMENT;
    if (frag & 0x2000) complete = false; /* first fragment: more follows */
    if (p[9] != 17) return RP_LINK_NOT_UDP;
    memset(out->src, 0, sizeof out->src);
    memset(out->dst, 0, sizeof out->dst);
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    out->af = 4;
    return rp__udp(p + ihl, tot - ihl, complete, out);
}

static int rp__ipv6(const uint8_t *p, size_t n, rp_udp *out)
{
    if (n < 40 || p[0] >> 4 != 6) return RP_LINK_MALFORMED;
    size_t plen = ra_load_be16(p + 4);
    size_t end = n;
    bool complete = true;
    if (plen != 0) { /* 0: jumbo payload (hop-by-hop option); take what is there */
        if (40 + plen <= n)
            end = 40 + plen;
        else
            complete = false;
    }
    unsigned nh = p[6];
    size_t off = 40;
    for (int i = 0; i < RP__MAX_EXT; i++) {
        switch (nh) {
        case 17:
            memcpy(out->src, p + 8, 16);
            memcpy(out->dst, p + 24, 16);
            out->af = 6;
            return rp__udp(p + off, end - off, complete, out);
        case 0:   /* hop-by-hop options */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* host identity protocol */
        case 140: /* shim6 */
            if (end - off < 8) return RP_LINK_MALFORMED;
            nh = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
            break;
        case 44: /* fragment */
            if (end - off < 8) return RP_LINK_MALFORMED;
            if (ra_load_be16(p + off + 2) & 0xFFF8) return RP_LINK_FRAGMENT;
            if (p[off + 3] & 1) complete = false; /* first fragment: more follows */
            nh = p[off];
            off += 8;
            break;
        case 51: /* authentication header */
            if (end - off < 8) return RP_LINK_MALFORMED;
            nh = p[off];
            off += ((size_t)p[off + 1] + 2) * 4;
            break;
        default: /* TCP, ICMPv6, ESP, no next header, ... */
            return RP_LINK_NOT_UDP;
        }
        if (off > end) return RP_LINK_MALFORMED;
    }
    return RP_LINK_MALFORMED;
}

/* By ethertype, after the link header and any VLAN tags. */
static int rp__ethertype(unsigned type, const uint8_t *p, size_t n, rp_udp *out)
{
    for (int tags = 0; type == 0x8100 || type == 0x88A8 || type == 0x9100; tags++) {
        if (tags == RP__MAX_TAGS || n < 4) return RP_LINK_MALFORMED;
        type = ra_load_be16(p + 2);
        p += 4;
        n -= 4;
    }
    if (type == RP__ETH_IPV4) return rp__ipv4(p, n, out);
    if (type == RP__ETH_IPV6) return rp__ipv6(p, n, out);
    return RP_LINK_NOT_UDP;
}

/* Raw IP: the version nibble decides. */
static int rp__ip(const uint8_t *p, size_t n, rp_udp *out)
{
    if (n < 1) return RP_LINK_MALFORMED;
    if (p[0] >> 4 == 4) return rp__ipv4(p, n, out);
    if (p[0] >> 4 == 6) return rp__ipv6(p, n, out);
    return RP_LINK_MALFORMED;
}

int rp_link_udp(int linktype, const uint8_t *pkt, size_t caplen, rp_udp *out)
{
    switch (linktype) {
    case RP_DLT_EN10MB:
        if (caplen < 14) return RP_LINK_MALFORMED;
        return rp__ethertype(ra_load_be16(pkt + 12), pkt + 14, caplen - 14, out);
    case RP_DLT_LINUX_SLL: /* packet type, ARPHRD, address length, address[8], protocol */
        if (caplen < 16) return RP_LINK_MALFORMED;
        return rp__ethertype(ra_load_be16(pkt + 14), pkt + 16, caplen - 16, out);
    case RP_DLT_LINUX_SLL2: /* protocol, reserved, ifindex, ARPHRD, type, addr len, address[8] */
        if (caplen < 20) return RP_LINK_MALFORMED;
        return rp__ethertype(ra_load_be16(pkt), pkt + 20, caplen - 20, out);
    case RP_DLT_RAW:
    case RP_LINKTYPE_RAW:
        return rp__ip(pkt, caplen, out);
    case RP_DLT_IPV4:
        return rp__ipv4(pkt, caplen, out);
    case RP_DLT_IPV6:
        return rp__ipv6(pkt, caplen, out);
    case RP_DLT_NULL:
    case RP_DLT_LOOP: /* 4-byte address family (host or network order: AF_INET6 differs by OS) */
        if (caplen < 4) return RP_LINK_MALFORMED;
        return rp__ip(pkt + 4, caplen - 4, out);
    default:
        return RP_LINK_MALFORMED;
    }
}

bool rp_link_vlan_tagged(int linktype, const uint8_t *pkt, size_t caplen)
{
    if (linktype != RP_DLT_EN10MB || caplen < 14) return false;
    unsigned type = ra_load_be16(pkt + 12);
    return type == 0x8100 || type == 0x88A8 || type == 0x9100;
}

/* ---- flow keys ---------------------------------------------------------------------------------
 */

size_t rp_udp_flow_key(const rp_udp *u, uint8_t key[RP_KEY_MAX])
{
    size_t alen = u->af == 6 ? 16 : 4;
    size_t k = 0;
    key[k++] = u->af;
    memcpy(key + k, u->src, alen);
    k += alen;
    memcpy(key + k, u->dst, alen);
    k += alen;
    key[k++] = (uint8_t)(u->sport >> 8);
    key[k++] = (uint8_t)u->sport;
    key[k++] = (uint8_t)(u->dport >> 8);
    key[k++] = (uint8_t)u->dport;
    return k;
}

/* "a.b.c.d:port" or "[v6]:port" */
static void rp__addr_port(char *buf, size_t cap, bool v6, const uint8_t *a, unsigned port)
{
    if (!v6) {
        snprintf(buf, cap, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
        return;
    }
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < 16 && k < cap; i += 2)
        k += (size_t)snprintf(buf + k, cap - k, "%s%x", i ? ":" : "", ra_load_be16(a + i));
    if (k < cap) snprintf(buf + k, cap - k, "]:%u", port);
}

int rp_flow_key_parse(const uint8_t *key, size_t klen, rp_flow_addr *out)
{
    if (klen < 1 || (key[0] != 4 && key[0] != 6)) return -1;
    size_t alen = key[0] == 6 ? 16 : 4;
    if (klen != 1 + 2 * alen + 4) return -1;
    const uint8_t *ports = key + 1 + 2 * alen;
    out->v6 = key[0] == 6;
    out->sport = ra_load_be16(ports);
    out->dport = ra_load_be16(ports + 2);
    rp__addr_port(out->src, sizeof out->src, out->v6, key + 1, out->sport);
    rp__addr_port(out->dst, sizeof out->dst, out->v6, key + 1 + alen, out->dport);
    return 0;
}
