/* dump.h - `replay info --dump` (and ringcat's lines): every message as a hex line, a JSON object
 * or a CSV row */
#ifndef RP_DUMP_H
#define RP_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "source.h"

typedef enum rp_dump_format {
    RP_DUMP_HEX = 0, /* "D ..." and "M ..." lines, payload in hex (info.h) */
    RP_DUMP_JSON,    /* one JSON object per message, one per line */
    RP_DUMP_CSV,     /* one message type (--type), one header line, one row per message */
} rp_dump_format;

/* What the command line says about a dump. */
typedef struct rp_dump_opts {
    rp_dump_format format;
    const char *type;   /* --type: only this message type (decode.h names), or NULL */
    const char *symbol; /* --symbol: only messages of this symbol, or NULL */
    bool ts_raw;        /* --ts raw */
    bool px_raw;        /* --px raw */
    uint64_t limit;     /* --limit: messages written at most (0: no limit) */
} rp_dump_opts;

typedef struct rp_dump rp_dump;

/* rp_dump_new() : a dumper writing to f with o (copied; its strings must outlive the dumper).
 * @return it, or NULL when out of memory. */
rp_dump *rp_dump_new(FILE *f, const rp_dump_opts *o);
void rp_dump_free(rp_dump *d);

/* rp_dump_begin() : starts the messages of source s (one per input file): which protocol its
 * messages are, its DBN symbol mappings; forgets the previous input's symbols.
 * @return 0, or -1 when out of memory. */
int rp_dump_begin(rp_dump *d, const rp_source *s);

/* rp_dump_message() / rp_dump_mark() : one message / mark of the current source, written when
 * it passes the filters (marks: hex dumps without --type and --symbol only).
 * @return 0, or -1 when the write failed. */
int rp_dump_message(rp_dump *d, const rp_message *m);
int rp_dump_mark(rp_dump *d, const rp_mark *k);

/* rp_dump_finish() : after the last input: a CSV dump that matched no message still writes its
 * header, when the protocols of the inputs have a row of the --type.
 * @return 0, or -1 when the write failed. */
int rp_dump_finish(rp_dump *d);

/* rp_dump_line() : writes "D <stream> <seq> <ts_ns> <type> <len> <payload hex>" without the
 * newline (type as 0x%04x, 0xffff for untyped; hex lowercase, two digits a byte): the hex line of
 * one message, which ringcat prints too.
 * @return 0, or -1 when a write failed. */
int rp_dump_line(FILE *f, uint32_t stream, uint64_t seq, uint64_t ts_ns, unsigned type,
                 const uint8_t *data, uint32_t len);

/* rp_dump_full() : whether --limit messages have been written (the caller stops reading). */
bool rp_dump_full(const rp_dump *d);

#endif /* RP_DUMP_H */
