/* bench_recvloop.c - the bare recvmmsg loop that bench/run-feed.sh puts beside ringfeed: the same
 * socket settings (SO_RCVBUF(FORCE), SO_TIMESTAMPNS, SO_RXQ_OVFL, non-blocking, epoll, batches of
 * 32), reading the MoldUDP64 count of each datagram and nothing else: no framing walk, no ring.
 *
 * usage: bench_recvloop [--rcvbuf BYTES] [--batch N] [--idle-exit S] ADDR PORT
 * Prints one JSON line: packets, messages, seconds (first datagram to last), msgs_per_sec,
 * kernel_drops. Runs until S seconds (default 1) pass without a datagram after the first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXB  64
#define DGRAM 65536

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int open_sock(const char *addr, int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0) return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    int rcvbuf = 0, batch = 32, a = 1;
    double idle = 1.0;
    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        if (!strcmp(argv[a], "--rcvbuf"))
            rcvbuf = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--batch"))
            batch = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--idle-exit"))
            idle = atof(argv[a + 1]);
    }
    if (a + 2 != argc || batch < 1 || batch > MAXB) {
        fprintf(stderr,
                "usage: bench_recvloop [--rcvbuf B] [--batch N] [--idle-exit S] ADDR PORT\n");
        return 1;
    }
    int fd = open_sock(argv[a], atoi(argv[a + 1]), rcvbuf), ep = epoll_create1(0);
    if (fd < 0 || ep < 0) return perror("socket"), 2;
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    static uint8_t buf[MAXB][DGRAM];
    static char ctl[MAXB][256];
    struct mmsghdr h[MAXB];
    struct iovec iov[MAXB];
    uint64_t packets = 0, msgs = 0, first = 0, last = 0;
    for (;;) {
        int n = epoll_wait(ep, &ev, 1, 100);
        uint64_t t = now_ns();
        if (n <= 0) {
            if (packets && (double)(t - last) / 1e9 >= idle) break;
            continue;
        }
        for (;;) {
            for (int i = 0; i < batch; i++) {
                iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = DGRAM};
                h[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
                                               .msg_iovlen = 1,
                                               .msg_control = ctl[i],
                                               .msg_controllen = 256};
            }
            int got = recvmmsg(fd, h, (unsigned)batch, MSG_DONTWAIT, NULL);
            if (got <= 0) break;
            last = now_ns();
            if (!packets) first = last;
            for (int i = 0; i < got; i++) {
                packets++;
                if (h[i].msg_len >= 20) {
                    unsigned c = (unsigned)buf[i][18] << 8 | buf[i][19];
                    msgs += c == 0xFFFF ? 0 : c;
                }
            }
            if (got < batch) break;
        }
    }
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    socklen_t sl = sizeof(mem);
    getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &sl);
    double s = (double)(last - first) / 1e9;
    printf("{\"packets\": %" PRIu64 ", \"messages\": %" PRIu64 ", \"seconds\": %.6f, "
           "\"msgs_per_sec\": %.1f, \"kernel_drops\": %u}\n",
           packets, msgs, s, s > 0 ? (double)msgs / s : 0, mem[SK_MEMINFO_DROPS]);
    return 0;
}
