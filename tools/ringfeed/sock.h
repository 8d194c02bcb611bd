/* sock.h - ringfeed's sockets: udp:// endpoints, joining (any-source and source-specific)
 * multicast, receive buffers, kernel timestamps and drop counts, recvmmsg batches */
#ifndef RF_SOCK_H
#define RF_SOCK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One endpoint: udp://ADDR:PORT (unicast: a local address or 0.0.0.0; multicast: a group) or
 * udp://SRC@GROUP:PORT (source-specific multicast). IPv4. */
typedef struct rf_endpoint {
    const char *text;      /* as given */
    struct in_addr addr;   /* the address bound to, or the group */
    struct in_addr source; /* the SSM source (has_source) */
    uint16_t port;         /* host order */
    bool multicast, has_source;
} rf_endpoint;

/* rf_endpoint_parse() : parses udp://[SRC@]ADDR:PORT (dotted IPv4 addresses, port 1..65535; a
 * source needs a multicast ADDR).
 * @return 0, or -1 with a reason in err. */
int rf_endpoint_parse(const char *s, rf_endpoint *e, char *err, size_t cap);

/* Socket settings shared by every endpoint. */
typedef struct rf_sock_opts {
    const char *iface; /* interface for multicast joins (name), NULL: the kernel's choice */
    int rcvbuf;        /* SO_RCVBUF bytes asked for (SO_RCVBUFFORCE tried first), 0: default */
} rf_sock_opts;

/* rf_sock_open() : a non-blocking UDP socket bound to e's port (and address, for unicast),
 * joined to e's group (and source), with SO_TIMESTAMPNS and SO_RXQ_OVFL on and SO_RCVBUF sized.
 * *rcvbuf_got gets the buffer size the kernel gave (getsockopt SO_RCVBUF, which is double
 * what was set).
 * @return the descriptor, or -1 with a reason in err. */
int rf_sock_open(const rf_endpoint *e, const rf_sock_opts *o, int *rcvbuf_got, char *err,
                 size_t cap);

/* One datagram received. */
typedef struct rf_pkt {
    uint8_t *data;
    uint32_t len;   /* bytes in data (at most the buffer size) */
    bool truncated; /* the datagram was larger than the buffer (MSG_TRUNC) */
    uint64_t ts_ns; /* kernel receive time (CLOCK_REALTIME), or the time read after receiving */
} rf_pkt;

#define RF_RX_MAX 64 /* datagrams per rf_recv() at most */

/* rf_recv() : up to n (<= RF_RX_MAX) datagrams with recvmmsg(MSG_DONTWAIT), datagram i into
 * bufs[i] (buf_len bytes each). *ovfl gets the socket's cumulative kernel drop count when a
 * datagram carried it (SO_RXQ_OVFL), else is left alone.
 * @return how many arrived (0: none waiting), or -1 on a socket error (errno set). */
int rf_recv(int fd, uint8_t *const *bufs, uint32_t buf_len, size_t n, rf_pkt *out, uint32_t *ovfl);

/* rf_sock_drops() : the datagrams the kernel dropped on this socket so far (SO_MEMINFO): drops
 * after the last datagram received, which no SO_RXQ_OVFL count reports, included.
 * @return the count, or 0 when the kernel does not say. */
uint32_t rf_sock_drops(int fd);

#endif /* RF_SOCK_H */
