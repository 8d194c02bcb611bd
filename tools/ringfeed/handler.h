/* handler.h - ringfeed's feed handler: sockets to ring (reserve, recvmmsg, commit), framing,
 * arbitration, readers, report */
#ifndef RF_HANDLER_H
#define RF_HANDLER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ringalloc/ring_shm.h"
#include "arb.h"
#include "framing.h"
#include "sock.h"

#define RF_LINES_MAX RF_ARB_LINES

/* What goes into the ring. */
enum rf_write {
    RF_WRITE_MESSAGES = 0, /* one record per message (default): type = the message type, as
                              replay --shm writes */
    RF_WRITE_PACKETS = 1,  /* one record per UDP payload, received in place (type RP_TYPE_NONE) */
};

typedef struct rf_opts {
    rf_endpoint ep[RF_LINES_MAX];
    unsigned nep;
    rf_sock_opts sock;
    rp_framing framing;
    enum rf_write write;
    bool arbitrate;
    uint64_t arb_window_ns;
    const char *shm;     /* NULL: an in-process ring */
    const char *shm_dir; /* the shared ring's directory (NULL: /dev/shm) */
    bool shm_replace, shm_unlink;
    uint64_t capacity; /* ring bytes */
    unsigned readers;  /* in-process reader threads */
    uint64_t idle_exit_ns;
    uint32_t max_packet; /* receive buffer per datagram */
    unsigned batch;      /* datagrams per recvmmsg */
    bool json, quiet;
} rf_opts;

/* One endpoint's socket and counts. */
typedef struct rf_line {
    int fd;
    int rcvbuf;              /* what the kernel gave */
    uint64_t packets, bytes; /* datagrams received and their payload bytes */
    uint64_t truncated;      /* datagrams larger than --max-packet */
    uint32_t ovfl;           /* SO_RXQ_OVFL: the socket's kernel drops so far */
    rp_framing framing;      /* --arbitrate: the line's framing (detected from its first payload) */
    uint8_t key[RP_KEY_MAX]; /* its flow key for the framer */
    uint8_t klen;
} rf_line;

/* One in-process reader's counts. */
typedef struct rf_reader_counts {
    uint64_t read, lost, laps, bytes;
    uint64_t out_of_order; /* records whose sequence number was not the one expected */
    int error;             /* 0, or the ring status that stopped it */
} rf_reader_counts;

typedef struct rf_result {
    rp_feed_stats st; /* what the framer counted (gaps from the arbiter with --arbitrate) */
    uint64_t untyped, msg_bytes;
    uint64_t packets, bytes; /* datagrams received on every line */
    uint64_t kernel_drops, duplicates, truncated, write_errors;
    rf_line line[RF_LINES_MAX];
    rf_arb_line arb_line[RF_LINES_MAX];
    ra_ring_stats ring;
    uint64_t max_msg;
    rf_reader_counts readers[64];
    unsigned nreaders;
    double seconds; /* from the first packet to the last */
    bool interrupted, idle;
    char framing[16]; /* "moldudp64", "iextp", "udp", "mixed" or "none" */
} rf_result;

/* In-process reader threads (--readers): each reads every record, checks that sequence numbers
 * follow one another (laps aside) and counts. */
typedef struct rf_readers rf_readers;

/* rf_readers_start() : n (1..64) readers of r, each from the oldest record.
 * @return 0, or -1 when a thread or memory could not be had (none is left running). */
int rf_readers_start(rf_readers **out, ra_ring *r, unsigned n);

/* rf_readers_join() : waits for every reader to end (after ra_ring_close) and copies their
 * counts to out[0..n), then frees them. */
void rf_readers_join(rf_readers *rd, rf_reader_counts *out);

/* rf_run() : opens every endpoint and the ring, receives until a stop request (SIGINT/SIGTERM)
 * or --idle-exit, closes the ring (readers get RA_CLOSED), joins the readers and fills *res.
 * @return 0, or -1 with a message in err (a socket or the ring could not be made). */
int rf_run(const rf_opts *o, rf_result *res, char *err, size_t cap);

/* rf_report_json() : the report in replay's schema (input, feed, ring, readers) plus network.
 * @return 0, or -1 when out of memory or the write failed. */
int rf_report_json(FILE *f, const rf_opts *o, const rf_result *res);

/* rf_report_human() : the summary on f. */
void rf_report_human(FILE *f, const rf_opts *o, const rf_result *res);

#endif /* RF_HANDLER_H */
