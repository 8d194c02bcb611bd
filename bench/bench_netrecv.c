/* bench_netrecv.c - the network benchmark's receiver: kernel receive timestamps of UDP datagrams
 * against the capture's schedule (bench/run-net.sh)
 *
 * usage: bench_netrecv ADDR PORT [--group G --ifaddr A] [--schedule FILE --speed S] [--idle SEC]
 *                      [--timeout SEC]
 * Binds ADDR:PORT (joining multicast group G on the interface of local address A), receives with
 * recvmmsg() and SO_TIMESTAMPNS until SEC idle seconds after the first datagram (default 1) or
 * the timeout (default 120 s), then prints one line of key=value pairs:
 *   packets bytes seconds pps mbps (first to last kernel timestamp)
 * and, with a schedule (one capture timestamp in ns per line, the UDP packets of the capture in
 * order) and the speed the sender ran at:
 *   gap_err_p50_ns gap_err_p99_ns gap_err_max_ns: |receive gap - scheduled gap| of consecutive
 *     datagrams (datagram i matched with schedule line i: run it on a path without loss)
 *   drift: (last - first receive time) / (last - first scheduled time) - 1, over the datagrams
 *     received
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define BATCH 64

typedef struct args {
    const char *addr, *group, *ifaddr, *schedule;
    int port;
    double speed, idle, timeout;
} args;

static int open_socket(const args *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1, buf = 256 << 20;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)a->port)};
    inet_pton(AF_INET, a->addr, &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("bench_netrecv: bind");
        exit(1);
    }
    if (a->group) {
        struct ip_mreq m = {0};
        inet_pton(AF_INET, a->group, &m.imr_multiaddr);
        if (a->ifaddr) inet_pton(AF_INET, a->ifaddr, &m.imr_interface);
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) {
            perror("bench_netrecv: IP_ADD_MEMBERSHIP");
            exit(1);
        }
    }
    return fd;
}

/* Receives until idle or timeout; kernel timestamps into *ts (grown), count in *n. */
static uint64_t receive(int fd, const args *a, uint64_t **ts, size_t *n, size_t *cap)
{
    static char data[BATCH][2048];
    static char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
    struct mmsghdr h[BATCH];
    struct iovec iov[BATCH];
    uint64_t bytes = 0, deadline = bench_now_ns() + (uint64_t)(a->timeout * 1e9);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int wait = *n ? (int)(a->idle * 1000) : 100;
        if (poll(&p, 1, wait) <= 0) {
            if (*n || bench_now_ns() > deadline) break;
            continue;
        }
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){data[i], sizeof data[i]};
            h[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i],
                                                .msg_iovlen = 1,
                                                .msg_control = ctl[i],
                                                .msg_controllen = sizeof ctl[i]}};
        }
        int r = recvmmsg(fd, h, BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < r; i++) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 1 << 16;
                *ts = realloc(*ts, *cap * sizeof **ts);
            }
            uint64_t t = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&h[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&h[i].msg_hdr, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec k;
                    memcpy(&k, CMSG_DATA(c), sizeof k);
                    t = (uint64_t)k.tv_sec * 1000000000u + (uint64_t)k.tv_nsec;
                }
            (*ts)[(*n)++] = t;
            bytes += h[i].msg_len;
        }
    }
    return bytes;
}

/* The schedule file: n capture timestamps. */
static uint64_t *load_schedule(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16;
    uint64_t *s = malloc(cap * sizeof *s), v;
    *n = 0;
    while (fscanf(f, "%lu", &v) == 1) {
        if (*n == cap) s = realloc(s, (cap *= 2) * sizeof *s);
        s[(*n)++] = v;
    }
    fclose(f);
    return s;
}

static void timing(const args *a, const uint64_t *rx, size_t n)
{
    size_t ns;
    uint64_t *sch = load_schedule(a->schedule, &ns);
    if (ns < n) n = ns;
    if (n < 2) return;
    uint64_t *err = malloc(n * sizeof *err);
    for (size_t i = 1; i < n; i++) {
        double want = (double)(sch[i] - sch[i - 1]) / a->speed;
        double got = (double)(rx[i] - rx[i - 1]);
        err[i - 1] = (uint64_t)(got > want ? got - want : want - got);
    }
    qsort(err, n - 1, sizeof *err, bench_cmp_u64);
    double span = (double)(sch[n - 1] - sch[0]) / a->speed;
    double drift = span > 0 ? (double)(rx[n - 1] - rx[0]) / span - 1.0 : 0.0;
    printf(" gap_err_p50_ns=%lu gap_err_p99_ns=%lu gap_err_max_ns=%lu drift=%.6f",
           (unsigned long)err[(n - 1) / 2], (unsigned long)err[(size_t)((n - 1) * 0.99)],
           (unsigned long)err[n - 2], drift);
    free(err);
    free(sch);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_netrecv ADDR PORT [--group G --ifaddr A] "
                        "[--schedule FILE --speed S] [--idle SEC] [--timeout SEC]\n");
        return 1;
    }
    args a = {.addr = argv[1], .port = atoi(argv[2]), .speed = 1, .idle = 1, .timeout = 120};
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--group")) a.group = argv[i + 1];
        if (!strcmp(argv[i], "--ifaddr")) a.ifaddr = argv[i + 1];
        if (!strcmp(argv[i], "--schedule")) a.schedule = argv[i + 1];
        if (!strcmp(argv[i], "--speed")) a.speed = atof(argv[i + 1]);
        if (!strcmp(argv[i], "--idle")) a.idle = atof(argv[i + 1]);
        if (!strcmp(argv[i], "--timeout")) a.timeout = atof(argv[i + 1]);
    }
    int fd = open_socket(&a);
    printf("ready\n");
    fflush(stdout);
    uint64_t *rx = NULL;
    size_t n = 0, cap = 0;
    uint64_t bytes = receive(fd, &a, &rx, &n, &cap);
    double secs = n > 1 ? (double)(rx[n - 1] - rx[0]) / 1e9 : 0.0;
    printf("packets=%zu bytes=%lu seconds=%.6f pps=%.1f mbps=%.3f", n, (unsigned long)bytes, secs,
           secs > 0 ? (double)n / secs : 0.0, secs > 0 ? (double)bytes * 8 / 1e6 / secs : 0.0);
    if (a.schedule) timing(&a, rx, n);
    printf("\n");
    free(rx);
    close(fd);
    return 0;
}
