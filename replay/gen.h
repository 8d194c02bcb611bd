/* gen.h - `replay gen`: a deterministic synthetic ITCH 5.0 / MoldUDP64 / UDP capture */
#ifndef RP_GEN_H
#define RP_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_GEN_MAX_SYMBOLS 10000u
#define RP_GEN_MAX_PAYLOAD 1400u /* MoldUDP64 payload bytes per packet, header included */

/* What gen writes. */
typedef enum rp_gen_format {
    RP_GEN_PCAP = 0, /* ITCH 5.0 over MoldUDP64 over UDP, in a pcap (the default) */
    RP_GEN_DBN,      /* Databento DBN version 3, MBO schema (gen_dbn.c) */
} rp_gen_format;

typedef struct rp_gen_opts {
    rp_gen_format format;     /* --format */
    uint64_t messages;        /* ITCH messages to write, system events and directory included */
    uint64_t seed;            /* same seed (and options) -> byte-identical file */
    unsigned symbols;         /* 1..RP_GEN_MAX_SYMBOLS */
    uint64_t gap_every;       /* 0, or skip sequence numbers before every Nth data packet */
    uint64_t heartbeat_every; /* 0, or a heartbeat packet after every Nth data packet */
    const char *out;          /* output path, "-" for stdout */
    bool force;               /* out may replace an existing file (rp_outfile_check() first) */
} rp_gen_opts;

/* What was written, in the counting terms of `replay` (docs/counting.md), so that
 * replaying the file must report the same numbers. */
typedef struct rp_gen_result {
    uint64_t packets;             /* pcap records: data packets, heartbeats, end of session */
    uint64_t data_packets;        /* packets carrying messages */
    uint64_t messages;            /* ITCH messages written (== opts.messages) */
    uint64_t heartbeats;          /* heartbeat packets plus the end-of-session packet */
    uint64_t gaps;                /* sequence jumps injected */
    uint64_t missing;             /* sequence numbers skipped by those jumps */
    uint64_t file_bytes;          /* size of the pcap file */
    uint64_t first_seq, next_seq; /* MoldUDP64 sequence numbers: first, and one past the last */
    uint64_t by_type[256];
} rp_gen_result;

/* rp_gen_min_messages() : the smallest --messages for `symbols` (the fixed system events and one
 * stock directory message per symbol). */
uint64_t rp_gen_min_messages(unsigned symbols);

/* rp_gen_write() : writes the capture to a temporary file next to opts->out and renames it into
 * place (outfile.h), so opts->out is either untouched or complete; "-" writes to stdout.
 * rp_stop_request() (util.h) interrupts it.
 * @return 0 with *res filled; 1 when interrupted, or -1 with a message naming the file in err
 *         (nothing is left behind: the temporary file is removed). Options must be valid:
 *         messages >= rp_gen_min_messages(symbols), symbols in 1..RP_GEN_MAX_SYMBOLS (else -1). */
int rp_gen_write(const rp_gen_opts *opts, rp_gen_result *res, char *err, size_t errlen);

/* rp_gen_dbn_write() : rp_gen_write() for RP_GEN_DBN: a DBN v3 MBO file of opts->messages
 * records over opts->symbols instruments (symbols and symbol mappings in its metadata; gaps and
 * heartbeats do not apply). res: packets, data_packets and messages are the record count, by_type
 * counts rtype 0xa0, first_seq 1 and next_seq one past the last record.
 * @return as rp_gen_write(). */
int rp_gen_dbn_write(const rp_gen_opts *opts, rp_gen_result *res, char *err, size_t errlen);

/* rp_gen_rand() : the next splitmix64 value of *state (every random choice of gen). */
uint64_t rp_gen_rand(uint64_t *state);

/* rp_gen_symbol() : the name of symbol `locate` (1-based): well-known tickers first, then
 * synthetic ones ("ZZ00042"); 8 bytes, space padded, not NUL-terminated. */
void rp_gen_symbol(unsigned locate, uint8_t out[8]);

#endif /* RP_GEN_H */
