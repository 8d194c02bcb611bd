/* convert.h - `replay convert`: any input replay reads -> a native tick file (.rtk, .rtk.zst) */
#ifndef RP_CONVERT_H
#define RP_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "source.h"

/* What convert writes. */
typedef enum rp_convert_to {
    RP_CONVERT_TO_RTK = 0, /* a native tick file (the default) */
    RP_CONVERT_TO_ITCH,    /* a Nasdaq ITCH 5.0 file: u16 big-endian length + message, no marks */
} rp_convert_to;

typedef struct rp_convert_opts {
    rp_convert_to to;          /* --to */
    const char *const *inputs; /* paths, "-" for stdin (at most once) */
    size_t ninputs;
    const char *output;  /* path ("-": stdout); written through a temporary file and a rename */
    bool force;          /* output may replace an existing file (rp_outfile_check() first) */
    rp_source_opts src;  /* format, framing, BPF filter, as for a replay */
    bool compress;       /* zstd (.rtk.zst) */
    int level;           /* zstd level, 0 = RA_TICK_DEFAULT_LEVEL */
    int workers;         /* zstd worker threads, 0 = none */
    uint64_t frame_size; /* .rtk bytes per zstd frame, 0 = RA_TICK_DEFAULT_FRAME */
    bool strict;         /* an input whose last record is cut short is an error */
    bool progress;       /* draw a progress line on stderr (a TTY) */
} rp_convert_opts;

/* What was converted. Feed counts follow docs/counting.md (summed over the inputs): replaying the
 * output reports the same messages, by_type, heartbeats, gaps, missing and backward. */
typedef struct rp_convert_result {
    char formats[64];    /* input formats, distinct, joined by ',' */
    bool in_compressed;  /* some input was zstd */
    rp_feed_stats feed;  /* messages, by_type, heartbeats, gaps, ... of the inputs */
    uint64_t untyped;    /* messages with type RP_TYPE_NONE */
    uint64_t marks;      /* mark records written (sequenced packets) */
    uint64_t streams;    /* streams declared */
    uint64_t in_size;    /* input bytes as stored (compressed size for .zst inputs) */
    uint64_t in_bytes;   /* input bytes after decompression */
    uint64_t msg_bytes;  /* message payload bytes written */
    uint64_t rtk_bytes;  /* .rtk bytes produced (before compression) */
    uint64_t out_bytes;  /* bytes written to the output */
    uint64_t frames;     /* zstd frames */
    double seconds;      /* wall time from the first open to the output in place */
    char warnings[1024]; /* "warning: ...\n" lines */
} rp_convert_result;

enum rp_convert_status {
    RP_CONVERT_OK = 0,
    RP_CONVERT_EINPUT = 1,  /* an input could not be read (err names it, with the offset) */
    RP_CONVERT_EOUTPUT = 2, /* the output could not be written (err names it) */
    RP_CONVERT_STOPPED = 3, /* rp_stop_request() was called: the output was removed */
};

/* rp_convert() : reads every input in order and writes one tick file: a data record per message,
 * a mark per sequenced packet, stream declarations (docs/tickfile.md "Replay conventions").
 * With to == RP_CONVERT_TO_ITCH it writes an ITCH 5.0 file instead: every message of the inputs,
 * which must all be ITCH (an ITCH file, MoldUDP64 streams of a capture, a tick file of those; a
 * DBN input, an IEX-TP or raw UDP stream is an input error naming the file); sequence numbers,
 * marks and capture times are not kept (the messages carry their own timestamps).
 * All inputs are opened (and their formats detected) before the output is created. The output
 * appears only when complete: a failure leaves no file behind (except what went to stdout).
 * @return RP_CONVERT_OK with *res filled, or RP_CONVERT_EINPUT / RP_CONVERT_EOUTPUT with a
 *         message in err (res partly filled: do not report it). */
int rp_convert(const rp_convert_opts *o, rp_convert_result *res, char *err, size_t errlen);

/* rp_convert_report_human() : the summary (ratio, throughput, feed counts) on f. */
void rp_convert_report_human(FILE *f, const rp_convert_opts *o, const rp_convert_result *r);

/* rp_convert_report_json() : the same as one JSON object, written in one piece.
 * @return 0, or -1 when out of memory or the write failed. */
int rp_convert_report_json(FILE *f, const rp_convert_opts *o, const rp_convert_result *r);

#endif /* RP_CONVERT_H */
