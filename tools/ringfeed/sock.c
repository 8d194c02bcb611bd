/* sock.c - ringfeed's sockets: udp:// endpoints, joining (any-source and source-specific)
 * multicast, receive buffers, kernel timestamps and drop counts, recvmmsg batches
 *
 * Design notes.
 * - Every endpoint has its own socket, so a line's kernel drops (SO_RXQ_OVFL) and buffer are its
 *   own. A multicast socket binds the group address (only that group's datagrams reach it).
 * - SO_RCVBUFFORCE passes the rmem_max limit as root (CAP_NET_ADMIN); otherwise SO_RCVBUF is
 *   capped at net.core.rmem_max, which the caller reports by comparing *rcvbuf_got.
 * - Kernel drops: SO_RXQ_OVFL puts the socket's drop count on each datagram received, so drops
 *   after the last datagram would go unseen; at the end SO_MEMINFO's SK_MEMINFO_DROPS reads the
 *   same counter directly.
 * - Timestamps: SO_TIMESTAMPNS gives each datagram the kernel's CLOCK_REALTIME receive time in a
 *   control message; a datagram without one gets the time read after recvmmsg returned.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int rf_endpoint_parse(const char *s, rf_endpoint *e, char *err, size_t cap)
{
    memset(e, 0, sizeof(*e));
    e->text = s;
    if (strncmp(s, "udp://", 6) != 0) return snprintf(err, cap, "not udp://ADDR:PORT"), -1;
    char buf[128];
    if (snprintf(buf, sizeof(buf), "%s", s + 6) >= (int)sizeof(buf))
        return snprintf(err, cap, "too long"), -1;
    char *host = buf, *at = strchr(buf, '@'), *colon = strrchr(buf, ':');
    if (!colon) return snprintf(err, cap, "no :PORT"), -1;
    *colon = '\0';
    uint64_t port;
    if (rp_parse_u64(colon + 1, &port) != 0 || port == 0 || port > 65535)
        return snprintf(err, cap, "bad port '%s'", colon + 1), -1;
    e->port = (uint16_t)port;
    if (at) {
        *at = '\0';
        if (inet_pton(AF_INET, buf, &e->source) != 1)
            return snprintf(err, cap, "bad source address '%s'", buf), -1;
        e->has_source = true;
        host = at + 1;
    }
    if (inet_pton(AF_INET, host, &e->addr) != 1)
        return snprintf(err, cap, "bad IPv4 address '%s'", host), -1;
    e->multicast = IN_MULTICAST(ntohl(e->addr.s_addr));
    if (e->has_source && !e->multicast)
        return snprintf(err, cap, "SRC@ADDR needs a multicast ADDR"), -1;
    return 0;
}

/* Joins e's group (and source) on the interface o names. @return 0 or -1 with err. */
static int rf__join(int fd, const rf_endpoint *e, const rf_sock_opts *o, char *err, size_t cap)
{
    unsigned ifindex = 0;
    if (o->iface && !(ifindex = if_nametoindex(o->iface)))
        return snprintf(err, cap, "no interface '%s'", o->iface), -1;
    struct sockaddr_in grp = {.sin_family = AF_INET, .sin_addr = e->addr};
    if (e->has_source) {
        struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = e->source};
        struct group_source_req r = {.gsr_interface = ifindex};
        memcpy(&r.gsr_group, &grp, sizeof(grp));
        memcpy(&r.gsr_source, &src, sizeof(src));
        if (setsockopt(fd, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &r, sizeof(r)) != 0)
            return snprintf(err, cap, "joining the source group: %s", strerror(errno)), -1;
        return 0;
    }
    struct group_req r = {.gr_interface = ifindex};
    memcpy(&r.gr_group, &grp, sizeof(grp));
    if (setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &r, sizeof(r)) != 0)
        return snprintf(err, cap, "joining the group: %s", strerror(errno)), -1;
    return 0;
}

static void rf__rcvbuf(int fd, int want, int *got)
{
    if (want > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) != 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    socklen_t sl = sizeof(*got);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, got, &sl) != 0) *got = 0;
}

int rf_sock_open(const rf_endpoint *e, const rf_sock_opts *o, int *rcvbuf_got, char *err,
                 size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return snprintf(err, cap, "socket: %s", strerror(errno)), -1;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0) {
        snprintf(err, cap, "timestamps and drop counts: %s", strerror(errno));
        close(fd);
        return -1;
    }
    rf__rcvbuf(fd, o->rcvbuf, rcvbuf_got);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(e->port), .sin_addr = e->addr};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, cap, "bind: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (e->multicast && rf__join(fd, e, o, err, cap) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#define RF__CTL_SPACE (CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)) + 64)

int rf_recv(int fd, uint8_t *const *bufs, uint32_t buf_len, size_t n, rf_pkt *out, uint32_t *ovfl)
{
    struct mmsghdr h[RF_RX_MAX];
    struct iovec iov[RF_RX_MAX];
    _Alignas(struct cmsghdr) char ctl[RF_RX_MAX][RF__CTL_SPACE];
    if (n > RF_RX_MAX) n = RF_RX_MAX;
    for (size_t i = 0; i < n; i++) {
        iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = buf_len};
        h[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
                                       .msg_iovlen = 1,
                                       .msg_control = ctl[i],
                                       .msg_controllen = sizeof(ctl[i])};
    }
    int got = recvmmsg(fd, h, (unsigned)n, MSG_DONTWAIT, NULL);
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    uint64_t now = 0;
    for (int i = 0; i < got; i++) {
        rf_pkt *p = &out[i];
        p->data = bufs[i];
        p->len = h[i].msg_len < buf_len ? h[i].msg_len : buf_len;
        p->truncated = (h[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        p->ts_ns = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&h[i].msg_hdr); c;
             c = CMSG_NXTHDR(&h[i].msg_hdr, c)) {
            if (c->cmsg_level != SOL_SOCKET) continue;
            if (c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof(ts));
                p->ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
            } else if (c->cmsg_type == SO_RXQ_OVFL) {
                memcpy(ovfl, CMSG_DATA(c), sizeof(*ovfl));
            }
        }
        if (!p->ts_ns) p->ts_ns = now ? now : (now = rp_realtime_ns());
    }
    return got;
}

uint32_t rf_sock_drops(int fd)
{
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t sl = sizeof(mem);
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &sl) != 0 || sl <= SK_MEMINFO_DROPS * 4)
        return 0;
    return mem[SK_MEMINFO_DROPS];
}
