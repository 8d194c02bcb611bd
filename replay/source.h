/* source.h - replay's input layer: open any supported capture or file, iterate its messages */
#ifndef RP_SOURCE_H
#define RP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringalloc/tickfile.h"

#include "feed.h"
#include "link.h"

/* Input formats, detected by magic bytes (after zstd decompression when the file starts with the
 * zstd frame magic), unless rp_source_opts.format says otherwise. A format is an entry of the
 * input table (input.h): its value is the entry's position + 1. The constants name the built-in
 * ones; a format added to the table needs none (rp_format_parse() finds it by name). */
typedef enum rp_format {
    RP_FMT_AUTO = 0,
    RP_FMT_PCAP,   /* classic pcap, us or ns timestamps, either byte order */
    RP_FMT_PCAPNG, /* pcapng */
    RP_FMT_ITCH,   /* Nasdaq ITCH 5.0 binary file: u16 big-endian length, then the message */
    RP_FMT_RTK,    /* native tick file (docs/tickfile.md) */
} rp_format;

/* How UDP payloads inside a capture are split into messages. */
typedef enum rp_framing {
    RP_FRAMING_AUTO = 0, /* decided per stream from its first payloads */
    RP_FRAMING_UDP,      /* the whole UDP payload is one untyped message */
    RP_FRAMING_MOLDUDP64,
    RP_FRAMING_IEXTP,
} rp_framing;

/* One captured UDP datagram as a packet sink sees it (rp_source_opts.sink): the whole payload and
 * its flow, before framing splits it. Valid only during the call. */
typedef struct rp_packet {
    const rp_udp *udp; /* payload, addresses and ports (link.h) */
    uint64_t ts_ns;    /* capture timestamp */
    uint32_t messages; /* messages the framing announces (0: a heartbeat; 1: udp framing) */
    bool sequenced;    /* MoldUDP64 or IEX-TP: seq is its first sequence number */
    uint64_t seq;      /* first sequence number (a heartbeat: the next expected) */
} rp_packet;

/* A packet sink: called by capture inputs (pcap, pcapng) for every UDP datagram that passes the
 * filter, heartbeats and damaged ones included, before its messages are handed out. */
typedef struct rp_packet_sink {
    void (*packet)(void *ctx, const rp_packet *p);
    void *ctx;
} rp_packet_sink;

typedef struct rp_source_opts {
    rp_format format;    /* RP_FMT_AUTO: by magic bytes */
    rp_framing framing;  /* for captures */
    const char *filter;  /* BPF expression (-F), or NULL */
    bool no_threads;     /* decompress in the caller's thread (no read-ahead worker) */
    uint8_t dbn_version; /* DBN version of a headerless fragment (format dbn-frag); 0: the newest */
    bool strict;         /* damaged data (a MoldUDP64/IEX-TP length past the end of a whole
                            datagram, an ITCH record contradicting its type) is an input error
                            instead of a warning and a decode error */
    const rp_packet_sink *sink; /* captures: every UDP datagram goes here too (NULL: none) */
} rp_source_opts;

#define RP_TYPE_NONE 0xFFFFu /* rp_message.type of untyped messages (udp framing) */

/* One market-data message. `data` stays valid until the next rp_source_next() call. */
typedef struct rp_message {
    const uint8_t *data;
    uint32_t len;
    uint16_t type;   /* ITCH/IEX-TP: the type byte; other formats: their record type byte;
                        RP_TYPE_NONE for untyped payloads */
    uint32_t stream; /* stream index within this source (0 for files without streams) */
    uint64_t seq;    /* sequence number within the stream (MoldUDP64/IEX-TP), else running count */
    uint64_t ts_ns;  /* capture (or file) timestamp, ns since the epoch; 0 if the format has none.
                        ITCH files: the message's own timestamp, ns since midnight */
} rp_message;

typedef struct rp_source rp_source;

/* rp_source_open() : opens `path` ("-" is stdin), detects compression and format.
 * @return 0, or -1 with a message naming the file (and byte offset where relevant) in err. */
int rp_source_open(rp_source **out, const char *path, const rp_source_opts *opts, char *err,
                   size_t errlen);

/* rp_source_next() : the next message.
 * @return 1 with *m set; 0 at the end of input (check stats->truncated); -1 on an input error,
 *         with the message (file, byte offset or packet number) in rp_source_error(). */
int rp_source_next(rp_source *s, rp_message *m);

/* rp_source_next_batch() : the next message and, after it, up to max - 1 more of the same
 * captured packet (pcap, pcapng: messages whose data stays valid together); other formats give
 * one at a time. The data of all of them stays valid until the next call. The source counts
 * exactly the messages it hands out, so a caller that stops early (--limit) passes a smaller max.
 * @return as rp_source_next(), with *n the number of messages in m (>= 1 when 1). */
int rp_source_next_batch(rp_source *s, rp_message *m, size_t max, size_t *n);

const rp_feed_stats *rp_source_stats(const rp_source *s);
const char *rp_source_error(const rp_source *s);
const char *rp_source_format_name(const rp_source *s);  /* the table's name: "pcap", "itch", ... */
bool rp_source_compressed(const rp_source *s);          /* zstd */
int rp_source_linktype(const rp_source *s);             /* pcap DLT, or -1 */
const char *rp_source_framing_name(const rp_source *s); /* framing found: "moldudp64", ... */
uint64_t rp_source_offset(const rp_source *s);          /* file bytes consumed (for progress) */
uint64_t rp_source_size(const rp_source *s);            /* file size, 0 when unknown (pipe) */
void rp_source_close(rp_source *s);

/* rp_source_rewind() : the source goes back to its first message, with fresh counts, as if
 * opened again: a --loop pass over an input in memory without a new open (only some backends,
 * over uncompressed memory, can).
 * @return 0 (rewound), 1 (cannot: close it and open again; the source is unchanged), or -1
 *         (failed: rp_source_error()). */
int rp_source_rewind(rp_source *s);

/* ---- additions (input layer) ---------------------------------------------------------------- */

/* rp_source_open_mem() : like rp_source_open() over a buffer (tests, fuzzers); `name` names it in
 * messages. The buffer must stay valid and unchanged until rp_source_close().
 * @return 0, or -1 with a message naming `name` in err. */
int rp_source_open_mem(rp_source **out, const void *data, size_t len, const char *name,
                       const rp_source_opts *opts, char *err, size_t errlen);

/* rp_source_open_stream() : like rp_source_open() over an open FILE* (e.g. fmemopen()), read from
 * its current position; rp_source_close() does not close it.
 * @return 0, or -1 with a message naming `name` in err. */
int rp_source_open_stream(rp_source **out, FILE *fp, const char *name, const rp_source_opts *opts,
                          char *err, size_t errlen);

/* rp_source_detect() : the format that the first (decompressed) bytes p[0..n) announce, by the
 * probes of the input table: pcap magic (us or ns, either byte order), pcapng section header,
 * "RTK", or ITCH 5.0 records (length and type consistent for the first few; tried last).
 * @return the format, or RP_FMT_AUTO when none matches. */
rp_format rp_source_detect(const uint8_t *p, size_t n);

/* rp_format_parse() / rp_framing_parse() : the --format / --framing names (the input table's
 * names and aliases: "pcap", "pcapng", "itch" or "itch50", "rtk", "dbn", "dbn-frag"; "auto" /
 * "auto", "udp",
 * "moldudp64", "iextp"; "iex-tp" too).
 * @return 0 with *out set, or -1 for an unknown name (*out unchanged). */
int rp_format_parse(const char *name, rp_format *out);
int rp_framing_parse(const char *name, rp_framing *out);

/* rp_format_names() : the --format values, from the input table, joined by sep into buf (for
 * usage and error messages), e.g. "pcap, pcapng, itch, rtk".
 * @return buf (NUL-terminated, cut to cap). */
const char *rp_format_names(char *buf, size_t cap, const char *sep);

/* rp_format_name() / rp_framing_name() : "pcap", ... / "udp", "moldudp64", "iextp" ("auto").
 * @return the name; "unknown" for a format that is not in the table. */
const char *rp_format_name(rp_format f);
const char *rp_framing_name(rp_framing f);

/* ---- additions (tick files, convert, info) ------------------------------------------------ */

/* rp_message.stream / rp_mark.stream of a stream that is not tracked (its table was full) */
#define RP_NO_STREAM 0xFFFFFFFFu

/* One packet of a sequenced stream (MoldUDP64 session, IEX-TP channel + session), as the gap
 * counters saw it: what `replay convert` stores as a tick file mark record (docs/tickfile.md,
 * "Replay conventions") so that replaying the file redoes the same accounting. */
typedef struct rp_mark {
    uint64_t seq;        /* the packet's first sequence number (a heartbeat: the next expected) */
    uint64_t ts_ns;      /* the packet's timestamp */
    uint32_t stream;     /* as rp_message.stream; RP_NO_STREAM when the stream is not tracked */
    uint32_t count;      /* messages the packet announced (0 for heartbeats) */
    bool heartbeat;      /* no messages: MoldUDP64 count 0 or end of session, IEX-TP count 0 */
    bool end_of_session; /* MoldUDP64 count 0xFFFF */
    rp_framing framing;  /* RP_FRAMING_MOLDUDP64 or RP_FRAMING_IEXTP (AUTO: a mark not saying) */
} rp_mark;

/* rp_source_next_event() : rp_source_next() that also hands out each sequenced packet's mark,
 * before the packet's messages (captures: every MoldUDP64 / IEX-TP packet that decoded, heartbeats
 * included; tick files: their mark records). The feed statistics are the same either way.
 * @return 1 with *m set (a message); 2 with *mk set (a mark); 0 at the end; -1 on an input
 *         error, as rp_source_next(). */
int rp_source_next_event(rp_source *s, rp_message *m, rp_mark *mk);

/* rp_source_stream_desc() : a description of stream `id` of this source: "moldudp64 session
 * RPGEN00001", "iextp channel 1 session 42", "udp 10.0.0.1:5000 > 233.54.12.111:26477", "itch",
 * or what a tick file's stream table says.
 * @return 0 with buf set (NUL-terminated, cut to cap), or -1 when the id is unknown. */
int rp_source_stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap);

/* rp_source_fill() : input bytes the source has read or decompressed so far (decompressed
 * count; it moves exactly when the source did I/O or decompression, which may take time, and not
 * while it splits what it already holds into messages). run.c refreshes its publish stamp when
 * this moves.
 * @return the count; never fails. */
uint64_t rp_source_fill(const rp_source *s);

/* rp_source_tick_info() : the tick file header of an rtk source.
 * @return the decoder's info (valid until rp_source_close()), or NULL for other formats. */
const ra_tick_info *rp_source_tick_info(const rp_source *s);

/* rp_source_dbn_meta() : the metadata of a DBN source (format dbn or dbn-frag; dbn.h).
 * @return it (valid until rp_source_close()), or NULL for other formats. */
const struct rp_dbn_meta *rp_source_dbn_meta(const rp_source *s);

/* rp_source_itch() : whether the source's messages are ITCH 5.0 unless a mark says otherwise
 * (an ITCH file, or a tick file made from one or from MoldUDP64); a capture's streams say what
 * they carry in their marks (RP_FRAMING_MOLDUDP64: ITCH).
 * @return true or false; never fails. */
bool rp_source_itch(const rp_source *s);

/* ---- additions (flows, warnings) ------------------------------------------------------------ */

/* One UDP flow of a capture, as `replay info` lists it. */
typedef struct rp_flow_info {
    char src[56], dst[56]; /* "10.0.0.1:5000", "[2001:db8::1]:5000" */
    uint16_t dport;
    rp_framing framing; /* as used for its payloads */
    uint64_t packets;   /* UDP packets of the flow (after -F) */
    uint64_t messages;  /* messages delivered from them */
    uint32_t stream;    /* its stream id (RP_NO_STREAM: not tracked) */
} rp_flow_info;

/* rp_source_flows() : up to max of the source's UDP flows so far, most packets first.
 * @return how many flows there are (0 for inputs without flows; may exceed max). */
size_t rp_source_flows(const rp_source *s, rp_flow_info *out, size_t max);

/* rp_source_warning_count() / rp_source_warning() : what the source has to say that is not an
 * error, one line each, without "warning:" or the file name (the caller adds them): the first few
 * damaged packets or records (packet number, byte offset), a filter that matched nothing or does
 * not apply, and at the end a count of all damaged ones.
 * @return the count / line i (valid until the next call on s), or "" for i out of range. */
size_t rp_source_warning_count(const rp_source *s);
const char *rp_source_warning(const rp_source *s, size_t i);

#endif /* RP_SOURCE_H */
