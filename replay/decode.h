/* decode.h - field tables of ITCH 5.0, IEX-TP TOPS/DEEP and DBN messages, and one emitter of them
 * as JSON or CSV
 *
 * Every decoded message type is a row of a table: its name, type byte (DBN: rtype), size and the
 * list of its fields (name, offset, width, kind). One generic emitter writes any of them, so no
 * message type has code of its own. The tables are written by hand from the public
 * specifications (no Debian library decodes these formats); docs/replay.md lists the names.
 */
#ifndef RP_DECODE_H
#define RP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The protocols with field tables. ITCH is big-endian, IEX-TP and DBN little-endian. */
typedef enum rp_dec_proto {
    RP_DEC_NONE = 0, /* no table: the message is written undecoded (hex) */
    RP_DEC_ITCH,     /* Nasdaq ITCH 5.0 */
    RP_DEC_IEX,      /* IEX TOPS 1.6 and DEEP 1.0 (the union of their message types) */
    RP_DEC_DBN,      /* Databento DBN records */
} rp_dec_proto;

/* How a field's bytes read. */
typedef enum rp_dec_kind {
    RP_DK_UINT,  /* unsigned integer, width 1, 2, 4, 6 or 8 */
    RP_DK_INT,   /* signed integer, width 1, 2, 4 or 8 */
    RP_DK_PX4,   /* price with 4 implied decimals (ITCH u32, IEX i64) */
    RP_DK_PX8,   /* price with 8 implied decimals (ITCH u64 MWCB levels) */
    RP_DK_PX9,   /* DBN i64 price in units of 1e-9; INT64_MAX is undefined (null) */
    RP_DK_TOD,   /* ITCH u48 timestamp: ns since midnight (exchange time) */
    RP_DK_TS,    /* u64 (IEX: i64) ns since the epoch; UINT64_MAX (DBN) is undefined (null) */
    RP_DK_CHAR,  /* one ASCII character (DBN: NUL is empty) */
    RP_DK_ALPHA, /* fixed-width text: ITCH/IEX space-padded, DBN NUL-terminated */
} rp_dec_kind;

typedef struct rp_dec_field {
    const char *name;
    uint16_t off;
    uint8_t width;
    uint8_t kind; /* rp_dec_kind */
} rp_dec_field;

/* Where a message names its instrument. */
typedef enum rp_dec_sym {
    RP_SYM_NONE = 0,
    RP_SYM_FIELD,  /* an ALPHA field at sym_off holds the symbol */
    RP_SYM_LOCATE, /* ITCH: the u16 stock locate at offset 1 (the stock directory maps it) */
    RP_SYM_INSTR,  /* DBN: the u32 instrument_id at offset 4 (the symbol mappings map it) */
} rp_dec_sym;

/* One message type. A group is an array of sub-records (DBN book levels): group_count entries of
 * group_stride bytes from group_off, each with the fields of `group`. */
typedef struct rp_dec_type {
    const char *name; /* "add_order", "mbo", ... */
    uint16_t type;    /* the type byte; DBN: the rtype */
    uint16_t size;    /* bytes the fields need (ITCH: the exact size) */
    uint8_t proto;    /* rp_dec_proto */
    uint8_t versions; /* DBN: bit v set for each version the layout is of (0: any) */
    uint8_t schema;   /* DBN: the metadata schema that names this rtype so (0xff: any) */
    uint8_t sym;      /* rp_dec_sym */
    uint16_t sym_off; /* RP_SYM_FIELD: the offset of the symbol field */
    uint16_t nfields;
    const rp_dec_field *fields;
    const char *group_name; /* JSON key of the group ("levels"), or NULL */
    const rp_dec_field *group;
    uint16_t ngroup, group_count, group_off, group_stride;
} rp_dec_type;

/* The tables (decode_tables.c), each ending with a row whose name is NULL. */
extern const rp_dec_type rp_dec_itch_types[];
extern const rp_dec_type rp_dec_iex_types[];
extern const rp_dec_type rp_dec_dbn_types[];

/* rp_dec_find() : the row of type `type` in proto's table; DBN rows also match `version` (1..3)
 * and, where a row names one, the metadata `schema` (0xffff: unknown).
 * @return the row, or NULL when the type has none. */
const rp_dec_type *rp_dec_find(rp_dec_proto proto, uint16_t type, uint8_t version, uint16_t schema);

/* rp_dec_type_matches() : whether a --type argument names row t: its name, its type byte as one
 * character (ITCH, IEX) or its type as 0xNN. @return true or false. */
bool rp_dec_type_matches(const rp_dec_type *t, const char *arg);

/* rp_dec_type_known() : whether some row of some table matches the --type argument. */
bool rp_dec_type_known(const char *arg);

/* How values print. */
typedef struct rp_dec_fmt {
    bool ts_raw;     /* timestamps as integers */
    bool px_raw;     /* prices as integers */
    int64_t tod_day; /* RP_DK_TOD: the day (days since the epoch) to prefix, or -1 for none */
    bool ts_out;     /* DBN with ts_out: the record's last 8 bytes are "ts_out", after the fields
                        (the record must then be at least t->size + 8 bytes) */
} rp_dec_fmt;

/* The leading columns of every line: "msg", "stream", "seq". */
typedef struct rp_dec_head {
    const char *msg; /* the row's name */
    uint32_t stream;
    uint64_t seq;
    const char *symbol; /* "symbol" column (last), NULL when unknown */
} rp_dec_head;

/* rp_dec_json() : msg[0..len) (len >= t->size) as one JSON object on one line on f:
 * {"msg", "stream", "seq", every field, "symbol"} ("symbol" is not repeated when a field has the
 * name); numbers for integers and prices, strings for
 * text and readable timestamps, null for DBN's undefined values.
 * @return 0, or -1 when the write failed. */
int rp_dec_json(FILE *f, const rp_dec_type *t, const rp_dec_head *h, const uint8_t *msg,
                uint32_t len, const rp_dec_fmt *fmt);

/* rp_dec_csv_header() / rp_dec_csv() : the CSV header line of row t (msg, stream, seq, the
 * fields, groups flattened as name_00, name_01, ..., ts_out when fmt says, symbol) / one message
 * as a CSV line.
 * @return 0, or -1 when the write failed. */
int rp_dec_csv_header(FILE *f, const rp_dec_type *t, const rp_dec_fmt *fmt);
int rp_dec_csv(FILE *f, const rp_dec_type *t, const rp_dec_head *h, const uint8_t *msg,
               uint32_t len, const rp_dec_fmt *fmt);

/* rp_dec_text() : the fixed-width text p[0..width) into buf (cap >= 1): up to the first NUL,
 * trailing spaces removed, bytes outside printable ASCII as '?', cut to cap - 1. @return buf. */
const char *rp_dec_text(const uint8_t *p, size_t width, char *buf, size_t cap);

#endif /* RP_DECODE_H */
