/* bench_shm_peers.h - bench_shm's IPC peers: ZeroMQ PUB/SUB, nng pub0/sub0, Unix datagram sockets
 *
 * Part of bench/bench_shm.c, which includes it once after its own types (run, shared, rstate) and
 * helpers (deliver, set_ready, wait_ready, pin_role); kept apart to keep each file short.
 */
#ifndef RINGALLOC_BENCH_SHM_PEERS_H
#define RINGALLOC_BENCH_SHM_PEERS_H

/* ---- ZeroMQ, nng, Unix datagrams ----------------------------------------------------------- */

typedef struct peer {
    void *zctx, *zsock;
    nng_socket nsock;
    int fd[MAXR];
    int nfd;
} peer;

static void endpoint(const run *r, char *buf, size_t n, const char *scheme)
{
    snprintf(buf, n, "%s/tmp/%s.%s", scheme, r->name, r->kind == K_ZMQ ? "zmq" : "nng");
}

static void uds_addr(const run *r, int idx, struct sockaddr_un *a, socklen_t *alen)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    /* abstract namespace: nothing to unlink */
    int k = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "%s.%d", r->name, idx);
    *alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)k);
}

static void die_peer(const char *what, const char *err)
{
    fprintf(stderr, "bench_shm: %s: %s\n", what, err);
    exit(1);
}

static void peer_writer_open(run *r, peer *p)
{
    char ep[160];
    if (r->kind == K_ZMQ) {
        p->zctx = zmq_ctx_new();
        p->zsock = zmq_socket(p->zctx, ZMQ_PUB);
        endpoint(r, ep, sizeof ep, "ipc://");
        if (!p->zsock || zmq_bind(p->zsock, ep) != 0) die_peer("zmq_bind", zmq_strerror(errno));
    } else if (r->kind == K_NNG) {
        int rv = nng_pub0_open(&p->nsock);
        endpoint(r, ep, sizeof ep, "ipc://");
        if (rv || (rv = nng_listen(p->nsock, ep, NULL, 0)) != 0)
            die_peer("nng_listen", nng_strerror(rv));
    }
    atomic_store_explicit(&r->sh->bound, 1, memory_order_release);
    wait_ready(r);
    if (r->kind == K_UDS) {
        for (int i = 0; i < r->nr; i++) {
            struct sockaddr_un a;
            socklen_t alen;
            uds_addr(r, i, &a, &alen);
            p->fd[i] = socket(AF_UNIX, SOCK_DGRAM, 0);
            if (p->fd[i] < 0 || connect(p->fd[i], (struct sockaddr *)&a, alen) != 0)
                die_peer("unix dgram connect", strerror(errno));
        }
        p->nfd = r->nr;
    }
}

static inline int peer_send(const run *r, peer *p, const unsigned char *msg)
{
    if (r->kind == K_ZMQ) return zmq_send(p->zsock, msg, r->len, 0) == (int)r->len ? 0 : -1;
    if (r->kind == K_NNG) return nng_send(p->nsock, (void *)msg, r->len, 0) == 0 ? 0 : -1;
    for (int i = 0; i < p->nfd; i++)
        if (send(p->fd[i], msg, r->len, 0) != (ssize_t)r->len) return -1;
    return 0;
}

/* Pub/sub: probes until every subscriber got one (a subscription is not instant). */
static void peer_probe(const run *r, peer *p)
{
    if (r->kind == K_UDS) return;
    unsigned char msg[256];
    msg_init(msg, r->len);
    msg_stamp(msg, PROBE, 0);
    const uint64_t until = bench_now_ns() + 10ull * 1000 * 1000 * 1000;
    for (;;) {
        int all = 1;
        for (int i = 0; i < r->nr; i++)
            all &= atomic_load_explicit(&r->sh->probe_seen[i], memory_order_acquire);
        if (all) return;
        if (bench_now_ns() > until) die_peer(g_names[r->kind], "subscribers never got a probe");
        (void)peer_send(r, p, msg);
        struct timespec d = {0, 1000 * 1000};
        nanosleep(&d, NULL);
    }
}

static void peer_close(peer *p, const run *r)
{
    if (r->kind == K_ZMQ) {
        int linger = 0;
        zmq_setsockopt(p->zsock, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(p->zsock);
        zmq_ctx_term(p->zctx);
    } else if (r->kind == K_NNG) {
        nng_close(p->nsock);
    }
    for (int i = 0; i < p->nfd; i++) close(p->fd[i]);
}

static void peer_reader_open(const run *r, peer *p)
{
    char ep[160];
    const uint64_t until = bench_now_ns() + 10ull * 1000 * 1000 * 1000;
    while (!atomic_load_explicit(&r->sh->bound, memory_order_acquire) && bench_now_ns() < until)
        sched_yield();
    if (r->kind == K_ZMQ) {
        int tmo = 20;
        p->zctx = zmq_ctx_new();
        p->zsock = zmq_socket(p->zctx, ZMQ_SUB);
        endpoint(r, ep, sizeof ep, "ipc://");
        if (!p->zsock || zmq_setsockopt(p->zsock, ZMQ_SUBSCRIBE, "", 0) != 0 ||
            zmq_setsockopt(p->zsock, ZMQ_RCVTIMEO, &tmo, sizeof tmo) != 0 ||
            zmq_connect(p->zsock, ep) != 0)
            die_peer("zmq_connect", zmq_strerror(errno));
    } else if (r->kind == K_NNG) {
        int rv = nng_sub0_open(&p->nsock);
        endpoint(r, ep, sizeof ep, "ipc://");
        if (rv || (rv = nng_socket_set(p->nsock, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
            (rv = nng_socket_set_ms(p->nsock, NNG_OPT_RECVTIMEO, 20)) != 0 ||
            (rv = nng_dial(p->nsock, ep, NULL, 0)) != 0)
            die_peer("nng_dial", nng_strerror(rv));
    } else {
        struct sockaddr_un a;
        socklen_t alen;
        struct timeval tv = {0, 20000};
        uds_addr(r, r->idx, &a, &alen);
        p->fd[0] = socket(AF_UNIX, SOCK_DGRAM, 0);
        p->nfd = 1;
        if (p->fd[0] < 0 || bind(p->fd[0], (struct sockaddr *)&a, alen) != 0 ||
            setsockopt(p->fd[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
            die_peer("unix dgram bind", strerror(errno));
    }
}

/* One message into buf; 0 on success, -1 on timeout. */
static inline int peer_recv(const run *r, peer *p, unsigned char *buf, size_t cap, uint32_t *len)
{
    if (r->kind == K_ZMQ) {
        int n = zmq_recv(p->zsock, buf, cap, 0);
        if (n < 0) return -1;
        *len = (uint32_t)n;
    } else if (r->kind == K_NNG) {
        size_t sz = cap;
        if (nng_recv(p->nsock, buf, &sz, 0) != 0) return -1;
        *len = (uint32_t)sz;
    } else {
        ssize_t n = recv(p->fd[0], buf, cap, 0);
        if (n < 0) return -1;
        *len = (uint32_t)n;
    }
    return 0;
}

static void reader_peer(const run *r)
{
    rstate s;
    peer p = {0};
    rstate_init(&s, r);
    peer_reader_open(r, &p);
    pin_role(r->idx); /* after the sockets: the libraries' I/O threads stay unpinned */
    set_ready(r);
    unsigned char buf[512];
    for (;;) {
        int done = atomic_load_explicit(&r->sh->done, memory_order_acquire);
        uint32_t len;
        if (peer_recv(r, &p, buf, sizeof buf, &len) != 0) {
            if (done) break; /* a timeout after the writer finished: nothing more comes */
            continue;
        }
        uint64_t seq;
        memcpy(&seq, buf, 8);
        if (seq == PROBE) {
            atomic_store_explicit(&r->sh->probe_seen[r->idx], 1, memory_order_release);
            continue;
        }
        deliver(&s, buf, len);
        s.res->t_last = ticks();
    }
    rstate_fini(&s, 0);
    peer_close(&p, r);
}

#endif /* RINGALLOC_BENCH_SHM_PEERS_H */
