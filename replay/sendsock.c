/* sendsock.c - replay --send destinations: udp://HOST:PORT parsing, sockets, sendmmsg batches
 *
 * Design notes
 * - One UDP socket per destination. With a fixed PORT it is connect()ed: the kernel then routes
 *   once, and an ICMP port unreachable from the receiver comes back as ECONNREFUSED on a later
 *   send, which is counted (never fatal). With PORT 0 every datagram names its own address, the
 *   destination HOST with the packet's (mapped) capture port, so the flows of a capture keep
 *   their ports; ICMP errors are then not reported.
 * - Multicast HOST: IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (--ttl), IP_MULTICAST_IF by interface
 *   index or local address (--iface), IP_MULTICAST_LOOP (--mcast-loop; off by default: a sender
 *   does not hear itself unless asked).
 * - Batches go out with sendmmsg(); a partial return resumes at the first datagram not sent.
 */
#include "sendsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define RP__SNDBUF        (4 << 20) /* asked for; the kernel caps it at wmem_max */
#define RP__RETRY_BUSY    2000      /* EAGAIN/ENOBUFS retries of one datagram before skipping it */
#define RP__RETRY_WAIT_NS 20000u    /* between them */

int rp_sock_parse(const char *url, rp_sock *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    snprintf(out->url, sizeof out->url, "%s", url);
    if (strncmp(url, "udp://", 6) != 0) {
        snprintf(err, errlen, "'%s': expected udp://HOST:PORT", url);
        return -1;
    }
    char host[256];
    const char *h = url + 6, *colon;
    size_t hl;
    if (*h == '[') { /* [IPv6]:PORT */
        const char *e = strchr(h, ']');
        if (!e || e[1] != ':') goto bad;
        hl = (size_t)(e - h - 1);
        h++;
        colon = e + 1;
    } else {
        colon = strrchr(h, ':');
        if (!colon) goto bad;
        hl = (size_t)(colon - h);
    }
    if (hl == 0 || hl >= sizeof host) goto bad;
    memcpy(host, h, hl);
    host[hl] = '\0';
    uint64_t port;
    if (rp_parse_u64(colon + 1, &port) != 0 || port > 65535) goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *ai = NULL;
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g != 0 || !ai) {
        snprintf(err, errlen, "'%s': cannot resolve '%s': %s", url, host, gai_strerror(g));
        return -1;
    }
    memcpy(&out->addr, ai->ai_addr, ai->ai_addrlen);
    out->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    out->port = (uint16_t)port;
    if (out->addr.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&out->addr;
        a->sin_port = htons(out->port);
        out->multicast = IN_MULTICAST(ntohl(a->sin_addr.s_addr));
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->addr;
        a->sin6_port = htons(out->port);
        out->multicast = IN6_IS_ADDR_MULTICAST(&a->sin6_addr);
    }
    return 0;
bad:
    snprintf(err, errlen,
             "'%s': expected udp://HOST:PORT (HOST a name, an address or [IPv6], "
             "PORT 0..65535)",
             url);
    return -1;
}

/* The multicast interface option. @return 0, or -1 with errno set (or EINVAL: not an interface). */
static int rp__mcast_if(const rp_sock *s, const char *iface)
{
    unsigned idx = if_nametoindex(iface);
    if (s->addr.ss_family == AF_INET6) {
        if (!idx) {
            errno = ENODEV;
            return -1;
        }
        return setsockopt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
    }
    struct ip_mreqn m = {.imr_ifindex = (int)idx};
    if (!idx && inet_pton(AF_INET, iface, &m.imr_address) != 1) {
        errno = ENODEV;
        return -1;
    }
    return setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
}

/* TTL, interface and loopback. @return NULL, or what failed (errno set). */
static const char *rp__options(rp_sock *s, const rp_sock_opts *o)
{
    bool v6 = s->addr.ss_family == AF_INET6;
    int lvl = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
    if (o->ttl >= 0) {
        int mopt = v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL;
        int uopt = v6 ? IPV6_UNICAST_HOPS : IP_TTL;
        if (setsockopt(s->fd, lvl, s->multicast ? mopt : uopt, &o->ttl, sizeof o->ttl) != 0)
            return "--ttl";
    }
    if (!s->multicast) return NULL;
    int loop = o->mcast_loop ? 1 : 0;
    if (setsockopt(s->fd, lvl, v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP, &loop, sizeof loop))
        return "multicast loopback";
    if (o->iface && rp__mcast_if(s, o->iface) != 0) return "--iface";
    return NULL;
}

int rp_sock_open(rp_sock *s, const rp_sock_opts *o, char *err, size_t errlen)
{
    s->fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        snprintf(err, errlen, "%s: socket: %s", s->url, strerror(errno));
        return -1;
    }
    int buf = RP__SNDBUF;
    (void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf); /* best effort */
    const char *what = rp__options(s, o);
    if (!what && s->port) {
        if (connect(s->fd, (struct sockaddr *)&s->addr, s->addrlen) != 0)
            what = "connect";
        else
            s->connected = true;
    }
    if (!what) return 0;
    bool iface = strcmp(what, "--iface") == 0;
    snprintf(err, errlen, "%s: %s%s%s: %s", s->url, what, iface ? " " : "", iface ? o->iface : "",
             strerror(errno));
    rp_sock_close(s);
    return -1;
}

void rp_sock_close(rp_sock *s)
{
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

/* The address of a datagram to port `port` at s's HOST, in *a. */
static void rp__addr_port(const rp_sock *s, uint16_t port, struct sockaddr_storage *a)
{
    memcpy(a, &s->addr, s->addrlen);
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

int rp_sock_send(rp_sock *s, const rp_sock_pkt *p, size_t n, uint64_t *errors, char *err,
                 size_t errlen)
{
    struct mmsghdr h[RP_SOCK_BATCH];
    struct iovec iov[RP_SOCK_BATCH];
    struct sockaddr_storage names[RP_SOCK_BATCH];
    if (n > RP_SOCK_BATCH) n = RP_SOCK_BATCH;
    for (size_t i = 0; i < n; i++) {
        iov[i] = (struct iovec){.iov_base = (void *)p[i].data, .iov_len = p[i].len};
        h[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        if (!s->connected) {
            rp__addr_port(s, p[i].dport, &names[i]);
            h[i].msg_hdr.msg_name = &names[i];
            h[i].msg_hdr.msg_namelen = s->addrlen;
        }
    }
    size_t off = 0;
    unsigned busy = 0, refused = 0;
    int sent = 0;
    while (off < n) {
        int r = sendmmsg(s->fd, h + off, (unsigned)(n - off), 0);
        if (r > 0) {
            off += (size_t)r;
            sent += r;
            busy = refused = 0;
            continue;
        }
        int e = r < 0 ? errno : EAGAIN;
        if (e == EINTR) continue;
        if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
            ++*errors;
            if (++busy > RP__RETRY_BUSY) { /* still refused: skip it */
                off++;
                busy = 0;
            } else {
                rp_sleep_ns(RP__RETRY_WAIT_NS);
            }
            continue;
        }
        if (e == ECONNREFUSED) {
            ++*errors;
            if (++refused > 1) { /* refused again: skip it */
                off++;
                refused = 0;
            }
            continue;
        }
        snprintf(err, errlen, "%s: sendmmsg: %s", s->url, strerror(e));
        return -1;
    }
    return sent;
}
