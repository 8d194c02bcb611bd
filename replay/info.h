/* info.h - `replay info`: describe inputs (format, counts, gaps, time span) without a ring */
#ifndef RP_INFO_H
#define RP_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dump.h"
#include "source.h"

#define RP_INFO_MAX_FLOWS 64 /* flows listed per file */

/* What one input holds, read through the input layer only: no ring, no threads. */
typedef struct rp_info_file {
    const char *path;
    char format[16];    /* "pcap", "pcapng", "itch", "rtk" */
    bool compressed;    /* zstd */
    int linktype;       /* pcap DLT, or -1 */
    char linkname[32];  /* libpcap's name of linktype ("" when none) */
    char framing[16];   /* framing found: "moldudp64", "iextp", "udp", "mixed", "none" */
    rp_feed_stats feed; /* docs/counting.md counts; feed.bytes is the decompressed size */
    uint64_t untyped;   /* messages with type RP_TYPE_NONE */
    uint64_t msg_bytes; /* message payload bytes */
    uint64_t marks;     /* sequenced packets (tick files: mark records) */
    uint64_t size;      /* bytes as stored (0 when unknown, e.g. a pipe: then bytes read) */
    rp_flow_info flows[RP_INFO_MAX_FLOWS]; /* captures: the busiest UDP flows, most packets first */
    size_t nflows;                         /* entries in flows */
    uint64_t flows_total;                  /* UDP flows in the input (may exceed nflows) */
    double seconds;                        /* time taken to read it */
    /* tick files only (rtk true) */
    bool rtk;
    uint16_t version_major, version_minor;
    uint64_t created_ns;
    uint32_t max_payload;
    uint64_t streams; /* streams declared */
    char creator[64], source_format[64], header_framing[32];
    struct rp_dbn_meta *dbn; /* DBN inputs: the metadata (owned; rp_info_files_free()), or NULL */
} rp_info_file;

/* rp_info_read() : reads the input at `path` ("-" is stdin) to its end and describes it; the
 * input layer's warnings (damaged packets, a filter that matched nothing) go to stderr as
 * "replay info: warning: <path>: ..." lines. With `dump` set, hands every message and mark to
 * it (and stops reading once rp_dump_full()); a hex dump writes one text line each, in file
 * order:
 *   D <stream> <seq> <ts_ns> <type> <len> <payload hex>      (type 0x%04x, 0xffff untyped)
 *   M <stream> <seq> <ts_ns> <count> <flags>                 (flags: -, hb, eos)
 * (stream ids as the source numbers them; a tick file converted from a single input keeps them).
 * @return 0 with *out filled, or -1 with a message naming the file (and byte offset) in err. */
int rp_info_read(const char *path, const rp_source_opts *opts, rp_dump *dump, rp_info_file *out,
                 char *err, size_t errlen);

/* rp_info_ts() : a timestamp as UTC date and time with ns ("2024-01-02T14:30:00.000000001Z"),
 * or, below one day, an ITCH time of day ("09:30:00.000000001 (time of day)"), into buf. */
void rp_info_ts(char *buf, size_t cap, uint64_t ns);

/* rp_info_files_free() : frees what rp_info_read() allocated in files[0..n) (not the array). */
void rp_info_files_free(rp_info_file *files, size_t n);

struct rp_json;

/* rp_info_dbn_human() / rp_info_dbn_json() : the DBN metadata of one file, as "  dbn: ..." lines
 * on f / as the "dbn" object of its --json entry (keys in docs/replay.md). In info_dbn.c. */
void rp_info_dbn_human(FILE *f, const struct rp_dbn_meta *m);
void rp_info_dbn_json(struct rp_json *j, const struct rp_dbn_meta *m);

/* rp_info_report_human() : the description of n files on f. */
void rp_info_report_human(FILE *f, const rp_info_file *files, size_t n);

/* rp_info_report_json() : {"version", "files": [...]} written to f in one piece.
 * @return 0, or -1 when out of memory or the write failed. */
int rp_info_report_json(FILE *f, const rp_info_file *files, size_t n);

#endif /* RP_INFO_H */
