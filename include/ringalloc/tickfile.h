/* tickfile.h - the native tick file (.rtk, .rtk.zst): streaming decoder, file reader, writer */
#ifndef RINGALLOC_TICKFILE_H
#define RINGALLOC_TICKFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ringalloc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * The contract, in brief (docs/tickfile.md specifies the bytes).
 *
 * A tick file is a versioned header (magic, version, flags, creation info, the source's format
 * and framing names, a stream table: id -> description) followed by records (ns timestamp,
 * stream id, message type, sequence number within its stream, payload) and an end record.
 * Little endian, 8-byte aligned records with a 32-byte header. The whole byte stream may be
 * zstd-compressed (.rtk.zst): content checksums on, several frames allowed, each frame ending on
 * a record boundary. Plain or zstd is detected from the first bytes.
 *
 * - ra_tick_decoder parses bytes the caller pushes in chunks of any size (no file, no seeking:
 *   works from a pipe, a socket, a fuzzer). Memory is bounded: a zstd window (<= 128 MiB, the
 *   writer's default level needs 8 MiB or less), a 256 KiB output buffer and a carry buffer
 *   for records that straddle chunks (at most the largest record actually seen).
 * - Records are handed out in place (a pointer into the pushed chunk, the decompression buffer
 *   or the carry buffer), valid until the next call on the decoder.
 * - Errors carry the byte offset in the .rtk stream (decompressed) and, for .rtk.zst, the
 *   compressed input consumed so far and the start of the zstd frame being decoded.
 * - A clean end needs the end record (and, compressed, a complete last frame). A file cut short
 *   anywhere gives RA_ETRUNC (after every complete record was delivered): a warning for tools.
 *   Damage gives RA_ECORRUPT (impossible lengths, header checksum or record check mismatch,
 *   zstd checksum error) or RA_EFORMAT (not a tick file); a newer major version, or a feature
 *   marked "must understand" that this library lacks, gives RA_EVERSION. Errors are sticky.
 * - ra_tick_writer writes records to a path, a FILE* or a callback; plain or zstd.
 * ------------------------------------------------------------------------------------------- */

#define RA_TICK_VERSION_MAJOR 1 /* files with a newer major are refused (RA_EVERSION) */
#define RA_TICK_VERSION_MINOR                                                                      \
    1 /* files with a newer minor are read (new fields ignored);                                   \
         1.1 added mark records (RA_TICK_KIND_MARK) */

#define RA_TICK_MAGIC      "\x89RTK\r\n\x1a\n" /* the first 8 bytes of every .rtk stream */
#define RA_TICK_MAGIC_LEN  8u
#define RA_TICK_ZSTD_MAGIC 0xFD2FB528u /* a zstd frame: 28 b5 2f fd */

#define RA_TICK_HDR_FIXED         64u           /* fixed part of the file header */
#define RA_TICK_MAX_HEADER        (1u << 20)    /* largest file header accepted, bytes */
#define RA_TICK_REC_HDR           32u           /* record header bytes in version 1.0 */
#define RA_TICK_MAX_REC_HDR       256u          /* largest record header a newer minor may use */
#define RA_TICK_MAX_PAYLOAD       (16u << 20)   /* hard limit on one record's payload */
#define RA_TICK_DEFAULT_PAYLOAD   (1u << 20)    /* writer default for the header's max_payload */
#define RA_TICK_DEFAULT_FRAME     (16ull << 20) /* writer default: end a zstd frame every 16 MiB */
#define RA_TICK_DEFAULT_LEVEL     3             /* writer default zstd level */
#define RA_TICK_MAX_STREAMS       (1u << 20)    /* streams a file may declare, all told */
#define RA_TICK_FLAGS_REQUIRED    0xFFFF0000u   /* header flag bits a reader must understand */
#define RA_TICK_KIND_REQUIRED     0x8000u       /* record kinds at or above: must understand */
#define RA_TICK_NO_OFFSET         UINT64_MAX    /* "no such offset" in ra_tick_error */
#define RA_TICK_DECODER_OUT_BYTES (256u << 10)  /* decompression buffer of a decoder */

/* Record kinds (the u16 at byte 6 of each record header). Unknown kinds below
 * RA_TICK_KIND_REQUIRED are skipped; unknown kinds at or above it are refused (RA_EVERSION). */
enum ra_tick_kind {
    RA_TICK_KIND_DATA = 0,   /* a market-data message: handed to the caller */
    RA_TICK_KIND_STREAM = 1, /* declares a stream after the header: payload = description */
    RA_TICK_KIND_END = 2,    /* the last record: u64 data records, u64 data payload bytes */
    RA_TICK_KIND_MARK = 3,   /* (1.1) a packet of a sequenced stream: see ra_tick_mark */
};

/* Mark records (format 1.1). A converter writes one for each packet of a sequenced stream
 * (MoldUDP64 session, IEX-TP channel and session), before the packet's data records, so that a
 * reader can redo the feed's per-packet sequence accounting (gaps, heartbeats) from the file.
 * Payload: u32 count, u16 flags, u16 framing (RA_TICK_MARK_LEN bytes; a newer minor may append
 * fields). Readers older than 1.1 skip marks, as the format lets them. */
#define RA_TICK_MARK_LEN            8u
#define RA_TICK_MARK_HEARTBEAT      0x0001u /* the packet carried no message (count is 0) */
#define RA_TICK_MARK_END_OF_SESSION 0x0002u /* MoldUDP64 end of session (a heartbeat too) */

enum ra_tick_framing {
    RA_TICK_FRAMING_UNKNOWN = 0,
    RA_TICK_FRAMING_MOLDUDP64 = 1,
    RA_TICK_FRAMING_IEXTP = 2,
};

typedef struct ra_tick_mark {
    uint64_t ts_ns;   /* the packet's timestamp, ns */
    uint64_t seq;     /* the packet's first sequence number (a heartbeat: the next expected) */
    uint64_t offset;  /* decoder: byte offset of the record in the .rtk stream */
    uint32_t stream;  /* the sequenced stream, as in data records */
    uint32_t count;   /* messages the packet announced; 0 for heartbeats */
    uint16_t flags;   /* RA_TICK_MARK_* bits; unknown bits are kept, not interpreted */
    uint16_t framing; /* enum ra_tick_framing */
} ra_tick_mark;

/* One message. The decoder fills every field; the writer reads all but `offset`. */
typedef struct ra_tick_record {
    uint64_t ts_ns;   /* timestamp, ns (since the epoch for captured data) */
    uint64_t seq;     /* sequence number within its stream */
    uint64_t offset;  /* decoder: byte offset of the record in the .rtk stream */
    const void *data; /* payload; from a decoder valid until its next call */
    uint32_t len;     /* payload bytes */
    uint32_t stream;  /* stream id (see the stream table) */
    uint16_t type;    /* message type (e.g. the ITCH type byte) */
} ra_tick_record;

/* A stream table entry. */
typedef struct ra_tick_stream {
    uint32_t id;
    uint32_t desc_len; /* bytes of desc, without its terminating NUL */
    const char *desc;  /* e.g. "233.54.12.111:26477 moldudp64 session ABCDEF"; NUL-terminated */
} ra_tick_stream;

/* What the file header says (plus streams declared later by stream records). */
typedef struct ra_tick_info {
    uint16_t version_major, version_minor; /* of the file */
    uint32_t flags;                        /* header flags (none defined in 1.0) */
    uint32_t record_header_size;           /* RA_TICK_REC_HDR, or more in a newer minor */
    uint32_t max_payload;                  /* no record in the file is larger */
    uint64_t created_ns;                   /* creation time, ns since the epoch */
    const char *source_format;             /* e.g. "pcap", "itch"; "" when not given */
    const char *framing;                   /* e.g. "moldudp64"; "" when not given */
    const char *creator;                   /* e.g. "ringalloc 0.1.0" */
    const ra_tick_stream *streams;         /* in file order; see ra_tick_decoder_info() */
    size_t nstreams;                       /* all streams declared so far */
    size_t header_streams;                 /* how many of them came from the header */
    uint64_t header_size;                  /* bytes of the file header */
    bool compressed;                       /* the input was zstd */
} ra_tick_info;

/* Where and why decoding failed. `offset` is in the .rtk (decompressed) stream: the start of
 * the record (or header field) at fault, or where the missing bytes begin (RA_ETRUNC). For zstd
 * input, `comp_offset` is the compressed input consumed when the problem was found (the bad
 * bytes lie before it; for RA_ETRUNC it is where the input ended) and `frame_offset` the
 * compressed offset of the zstd frame being decoded; both are RA_TICK_NO_OFFSET for plain
 * input. */
typedef struct ra_tick_error {
    int status; /* RA_OK while there is no error */
    uint64_t offset;
    uint64_t comp_offset;
    uint64_t frame_offset;
    char msg[200]; /* one line, no offsets prefix: e.g. "record check mismatch" */
} ra_tick_error;

typedef struct ra_tick_stats {
    uint64_t records;    /* data records delivered */
    uint64_t bytes;      /* .rtk bytes parsed (decompressed) */
    uint64_t comp_bytes; /* compressed bytes consumed (0 for plain input) */
    uint64_t frames;     /* zstd frames completed */
    bool compressed;
} ra_tick_stats;

/* ---- probing ------------------------------------------------------------------------------- */

enum ra_tick_probe_result {
    RA_TICK_PROBE_NO = 0,    /* not a tick file */
    RA_TICK_PROBE_PLAIN = 1, /* starts with the .rtk magic */
    RA_TICK_PROBE_ZSTD = 2,  /* zstd whose content starts with the .rtk magic */
    RA_TICK_PROBE_MORE = 3,  /* could be one: give more bytes */
};

/*! ra_tick_probe() : tells from the first bytes of an input whether it is a tick file. For zstd
 * input it decompresses just enough to see the content's magic (the first zstd block must be
 * in buf, at most 128 KiB).
 * @return an enum ra_tick_probe_result; never fails (RA_TICK_PROBE_NO when unsure and
 *         buf is not a prefix of either magic). */
RA_API int ra_tick_probe(const void *buf, size_t len);

/* ---- decoder: push bytes, pull records ------------------------------------------------------ */

typedef struct ra_tick_decoder ra_tick_decoder;

/*! ra_tick_decoder_create() : a decoder for one .rtk or .rtk.zst byte stream.
 * @return RA_OK and *out set, or RA_EINVAL (out NULL) or RA_ENOMEM (*out NULL). */
RA_API int ra_tick_decoder_create(ra_tick_decoder **out);

/*! ra_tick_decoder_destroy() : frees the decoder. NULL is accepted. */
RA_API void ra_tick_decoder_destroy(ra_tick_decoder *d);

/*! ra_tick_decoder_reset() : forgets the stream (and any error) so that the decoder can read
 * another one; keeps its buffers. */
RA_API void ra_tick_decoder_reset(ra_tick_decoder *d);

/*! ra_tick_decoder_push() : gives the next chunk of input (any size; 0 is a no-op). The decoder
 * does not copy it: the chunk must stay valid and unchanged until ra_tick_decoder_next() (or
 * _read_header()) has returned RA_EMPTY, which is also when the next push is allowed.
 * @return RA_OK; RA_EINVAL (NULL with len > 0, input of the previous push not yet drained, or
 *         after finish); the sticky error when the decoder already failed. */
RA_API int ra_tick_decoder_push(ra_tick_decoder *d, const void *buf, size_t len);

/*! ra_tick_decoder_read_header() : parses the file header from the input pushed so far, without
 * taking any record; then ra_tick_decoder_info() is available.
 * @return RA_OK once the header is parsed; RA_EMPTY when more input is needed; RA_EFORMAT,
 *         RA_ECORRUPT, RA_EVERSION, RA_ENOMEM (details in ra_tick_decoder_error()). */
RA_API int ra_tick_decoder_read_header(ra_tick_decoder *d);

/*! ra_tick_decoder_next() : the next data record (stream declarations and the end record are
 * absorbed: the stream table in ra_tick_decoder_info() grows as they pass). rec->data points
 * into decoder or caller memory, valid until the next call on the decoder.
 * @return RA_OK with *rec set; RA_EMPTY when all pushed input is used up (push more, or call
 *         ra_tick_decoder_finish()); a negative status on error (sticky; see
 *         ra_tick_decoder_error() for the offset): RA_ECORRUPT, RA_EFORMAT, RA_EVERSION,
 *         RA_ENOMEM, or RA_ETRUNC after a finish that found the input cut short. */
RA_API int ra_tick_decoder_next(ra_tick_decoder *d, ra_tick_record *rec);

/*! ra_tick_decoder_next_event() : like ra_tick_decoder_next(), but also hands out mark records
 * (format 1.1), in file order among the data records. *kind says which one was filled:
 * RA_TICK_KIND_DATA (*rec, as ra_tick_decoder_next() fills it) or RA_TICK_KIND_MARK (*mark;
 * *rec untouched). ra_tick_decoder_next() checks marks the same way and skips them.
 * @return as ra_tick_decoder_next(); a mark shorter than RA_TICK_MARK_LEN is RA_ECORRUPT. */
RA_API int ra_tick_decoder_next_event(ra_tick_decoder *d, ra_tick_record *rec, ra_tick_mark *mark,
                                      uint16_t *kind);

/*! ra_tick_decoder_finish() : declares the end of input, after ra_tick_decoder_next() returned
 * RA_EMPTY, and says whether the stream ended cleanly (end record seen and, compressed, the
 * last zstd frame complete with its checksum verified).
 * @return RA_OK for a clean end; RA_ETRUNC when the input was cut short (inside the header,
 *         inside a record, at a record boundary before the end record, or inside a zstd frame:
 *         the error's offset says where the missing part starts); RA_EFORMAT for empty input
 *         or input too short to be recognised that is not a prefix of a tick file; RA_EINVAL
 *         when pushed input was not drained; or the earlier sticky error. */
RA_API int ra_tick_decoder_finish(ra_tick_decoder *d);

/*! ra_tick_decoder_info() : the header, once parsed. `streams` may move when a stream record
 * is absorbed: re-read it after each ra_tick_decoder_next().
 * @return the info (owned by the decoder), or NULL before the header is parsed. */
RA_API const ra_tick_info *ra_tick_decoder_info(const ra_tick_decoder *d);

/*! ra_tick_decoder_stream() : looks up a stream id (hash table, O(1)).
 * @return the entry (valid until the next call on the decoder), or NULL when not declared. */
RA_API const ra_tick_stream *ra_tick_decoder_stream(const ra_tick_decoder *d, uint32_t id);

/*! ra_tick_decoder_error() : the error, if any (status RA_OK when none).
 * @return a pointer into the decoder; never NULL. */
RA_API const ra_tick_error *ra_tick_decoder_error(const ra_tick_decoder *d);

/*! ra_tick_decoder_get_stats() : counters so far. */
RA_API void ra_tick_decoder_get_stats(const ra_tick_decoder *d, ra_tick_stats *s);

/* ---- reader: the decoder over a file or pipe ------------------------------------------------ */

typedef struct ra_tick_reader ra_tick_reader;

/*! ra_tick_reader_open() : opens `path` ("-" is stdin) and reads its header (plain or zstd, by
 * magic), so that ra_tick_reader_info() is ready.
 * @return RA_OK and *out set; otherwise *out is NULL, the status is RA_EIO (cannot open or
 *         read), RA_EFORMAT, RA_ECORRUPT, RA_EVERSION, RA_ETRUNC (cut inside the header) or
 *         RA_ENOMEM, and `err` (optional) says what and where. */
RA_API int ra_tick_reader_open(ra_tick_reader **out, const char *path, ra_tick_error *err);

/*! ra_tick_reader_open_fp() : the same over an open stream (not closed by the reader). A
 * caller that already read the first bytes (to sniff the format) passes them as `prefix`.
 * @return as ra_tick_reader_open(); RA_EINVAL for a NULL fp. */
RA_API int ra_tick_reader_open_fp(ra_tick_reader **out, FILE *fp, const void *prefix,
                                  size_t prefix_len, ra_tick_error *err);

/*! ra_tick_reader_next() : the next data record; rec->data is valid until the next call.
 * @return RA_OK with *rec set; RA_EMPTY at a clean end of file; RA_ETRUNC when the file ends
 *         cut short (every complete record was delivered before: warn and stop); RA_EIO,
 *         RA_ECORRUPT, RA_EFORMAT, RA_EVERSION or RA_ENOMEM (see ra_tick_reader_error()). */
RA_API int ra_tick_reader_next(ra_tick_reader *r, ra_tick_record *rec);

/*! ra_tick_reader_next_event() : ra_tick_reader_next() that also hands out marks; see
 * ra_tick_decoder_next_event().
 * @return as ra_tick_reader_next(). */
RA_API int ra_tick_reader_next_event(ra_tick_reader *r, ra_tick_record *rec, ra_tick_mark *mark,
                                     uint16_t *kind);

/*! ra_tick_reader_info() : the header; never NULL for an open reader. */
RA_API const ra_tick_info *ra_tick_reader_info(const ra_tick_reader *r);

/*! ra_tick_reader_error() : the error, if any (status RA_OK when none). Never NULL. */
RA_API const ra_tick_error *ra_tick_reader_error(const ra_tick_reader *r);

/*! ra_tick_reader_decoder() : the reader's decoder (for ra_tick_decoder_stream() and stats). */
RA_API const ra_tick_decoder *ra_tick_reader_decoder(const ra_tick_reader *r);

/*! ra_tick_reader_close() : closes the file (when opened by path) and frees. NULL accepted. */
RA_API void ra_tick_reader_close(ra_tick_reader *r);

/* ---- writer --------------------------------------------------------------------------------- */

typedef struct ra_tick_writer ra_tick_writer;

/* Writer settings; a zeroed struct (or NULL) gives a plain file with the defaults. */
typedef struct ra_tick_writer_config {
    bool compress;             /* zstd with content checksums (.rtk.zst) */
    int level;                 /* zstd level (negative: fast); 0 = RA_TICK_DEFAULT_LEVEL */
    int workers;               /* zstd worker threads; 0 = compress in the calling thread */
    uint64_t frame_bytes;      /* end a zstd frame once it holds this many .rtk bytes (at a
                                  record boundary); 0 = RA_TICK_DEFAULT_FRAME */
    uint32_t max_payload;      /* largest payload allowed (header field); 0 = default */
    uint64_t created_ns;       /* header creation time; 0 = now (CLOCK_REALTIME) */
    const char *source_format; /* what the data was converted from: "pcap", "itch"; NULL = "" */
    const char *framing;       /* "moldudp64", "iextp", "udp"; NULL = "" */
    const char *creator;       /* program and version; NULL = "ringalloc <version>" */
} ra_tick_writer_config;

/* Output callback: write all `len` bytes. @return 0, or nonzero on failure (-> RA_EIO). */
typedef int (*ra_tick_sink_fn)(void *ctx, const void *buf, size_t len);

typedef struct ra_tick_writer_stats {
    uint64_t records;   /* data records written */
    uint64_t bytes_in;  /* .rtk bytes produced (before compression) */
    uint64_t bytes_out; /* bytes handed to the file or sink */
    uint64_t frames;    /* zstd frames completed */
} ra_tick_writer_stats;

/*! ra_tick_writer_open() : creates (truncates) `path` ("-" is stdout) for writing. Nothing is
 * written before the first record, flush or close, so streams added until then go into the
 * header's table.
 * @return RA_OK and *out set; RA_EINVAL (bad config: level, max_payload above
 *         RA_TICK_MAX_PAYLOAD, a name longer than 65535 bytes), RA_EIO (cannot create, errno
 *         kept), RA_ENOMEM; *out NULL on failure. */
RA_API int ra_tick_writer_open(ra_tick_writer **out, const char *path,
                               const ra_tick_writer_config *cfg);

/*! ra_tick_writer_open_fp() : the same over an open stream (flushed, never closed, by close).
 * @return as ra_tick_writer_open(); RA_EINVAL for a NULL fp. */
RA_API int ra_tick_writer_open_fp(ra_tick_writer **out, FILE *fp, const ra_tick_writer_config *cfg);

/*! ra_tick_writer_open_sink() : the same with a callback receiving the bytes (memory, sockets).
 * @return as ra_tick_writer_open(); RA_EINVAL for a NULL fn. */
RA_API int ra_tick_writer_open_sink(ra_tick_writer **out, ra_tick_sink_fn fn, void *ctx,
                                    const ra_tick_writer_config *cfg);

/*! ra_tick_writer_add_stream() : declares stream `id` with a description. Before the first
 * record it goes into the header's table; later it is written as a stream record.
 * @return RA_OK; RA_EINVAL (id already declared, desc NULL or longer than 65535 bytes, or
 *         holding a NUL; more than RA_TICK_MAX_STREAMS); RA_ENOMEM; RA_EIO (sticky). */
RA_API int ra_tick_writer_add_stream(ra_tick_writer *w, uint32_t id, const char *desc);

/*! ra_tick_write() : appends one record (rec->offset is ignored). Stream ids need not be
 * declared; the order of records, timestamps and sequence numbers is the caller's.
 * @return RA_OK; RA_ETOOBIG (len above the file's max_payload; nothing written); RA_EINVAL
 *         (NULL data with len > 0); RA_EIO (a write failed; sticky: every later call fails). */
RA_API int ra_tick_write(ra_tick_writer *w, const ra_tick_record *rec);

/*! ra_tick_write_mark() : appends a mark record (m->offset is ignored). Marks are not data
 * records: the end record and ra_tick_writer_stats.records do not count them.
 * @return RA_OK; RA_EINVAL (NULL); RA_EIO (sticky, as for ra_tick_write()). */
RA_API int ra_tick_write_mark(ra_tick_writer *w, const ra_tick_mark *m);

/*! ra_tick_writer_flush() : pushes everything written so far to the file: ends the current zstd
 * frame, so that the bytes on disk decode as a prefix of the file (a reader reports RA_ETRUNC
 * at its end, having delivered every record), then fflush.
 * @return RA_OK or RA_EIO (sticky). */
RA_API int ra_tick_writer_flush(ra_tick_writer *w);

/*! ra_tick_writer_get_stats() : counters so far. */
RA_API void ra_tick_writer_get_stats(const ra_tick_writer *w, ra_tick_writer_stats *s);

/*! ra_tick_writer_close() : writes the end record, ends the last frame, flushes, closes the file
 * (when opened by path) and frees the writer, whatever happens.
 * @return RA_OK when every byte reached the file; RA_EIO otherwise (the file is incomplete). */
RA_API int ra_tick_writer_close(ra_tick_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_TICKFILE_H */
