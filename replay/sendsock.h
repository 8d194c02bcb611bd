/* sendsock.h - replay --send destinations: udp://HOST:PORT parsing, sockets, sendmmsg batches */
#ifndef RP_SENDSOCK_H
#define RP_SENDSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A destination's settings that come from the command line. */
typedef struct rp_sock_opts {
    int ttl;           /* multicast TTL / hop limit (and unicast TTL), -1: the kernel's default */
    const char *iface; /* multicast interface: a name (eth0) or a local address; NULL: routing */
    bool mcast_loop;   /* multicast loopback on (local receivers see the packets); default off */
} rp_sock_opts;

/* One destination, open. */
typedef struct rp_sock {
    int fd;
    struct sockaddr_storage addr; /* HOST and PORT (port 0: each packet's own port) */
    socklen_t addrlen;
    uint16_t port;  /* 0: keep each packet's destination port */
    bool connected; /* connect()ed (PORT given): ICMP errors come back as ECONNREFUSED */
    bool multicast;
    char url[128]; /* for messages */
} rp_sock;

/* rp_sock_parse() : splits "udp://HOST:PORT" (HOST a name, an IPv4 address or [IPv6]; PORT
 * 0..65535) and resolves HOST (the first address getaddrinfo() gives).
 * @return 0 with out->addr, addrlen, port, url set (fd -1), or -1 with a message in err. */
int rp_sock_parse(const char *url, rp_sock *out, char *err, size_t errlen);

/* rp_sock_open() : opens s's socket: a large send buffer, multicast TTL, interface and loopback
 * for a multicast HOST (TTL also for unicast when given), connect() when the port is fixed.
 * @return 0, or -1 with a message naming the destination in err (s->fd -1). */
int rp_sock_open(rp_sock *s, const rp_sock_opts *o, char *err, size_t errlen);

/* rp_sock_close() : closes the socket (fd -1 is fine). */
void rp_sock_close(rp_sock *s);

/* One datagram of a batch. */
typedef struct rp_sock_pkt {
    const uint8_t *data;
    size_t len;
    uint16_t dport; /* the port it goes to when the destination's port is 0 */
} rp_sock_pkt;

#define RP_SOCK_BATCH 64 /* datagrams per sendmmsg() call */

/* rp_sock_send() : sends p[0..n) (n <= RP_SOCK_BATCH) to s with sendmmsg(). Transient errors are
 * counted in *errors and never fatal: EAGAIN, ENOBUFS and EINTR are retried (a datagram still
 * refused after a while is skipped), ECONNREFUSED (an earlier datagram met an ICMP port
 * unreachable) is retried once and the datagram skipped if it comes again.
 * @return datagrams sent, or -1 on another error with a message naming s in err. */
int rp_sock_send(rp_sock *s, const rp_sock_pkt *p, size_t n, uint64_t *errors, char *err,
                 size_t errlen);

#endif /* RP_SENDSOCK_H */
