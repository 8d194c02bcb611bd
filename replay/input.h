/* input.h - replay's input backends: the interface each format implements, and the format table
 *
 * A format is one backend file (in_pcap.c, in_itch.c, in_rtk.c, ...) defining an rp_input, plus
 * one entry in the table of input.c: names, --format values, detection and dispatch all come from
 * there. Compression is not a format: every backend reads through the source's rp_zread (plain or
 * zstd), so each one gets zstd for free.
 */
#ifndef RP_INPUT_H
#define RP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"
#include "zread.h"

#define RP_INPUT_PEEK 512 /* bytes (decompressed) a probe is shown, fewer for shorter inputs */

/* What `replay info` may ask a backend beyond the counts. */
typedef struct rp_input_desc {
    int linktype;                  /* pcap DLT, or -1 */
    const ra_tick_info *tick;      /* tick file header, or NULL */
    const struct rp_dbn_meta *dbn; /* DBN metadata, or NULL */
} rp_input_desc;

typedef struct rp_input {
    const char *name;    /* format name and --format value, e.g. "pcap" */
    const char *aliases; /* more --format values, comma-separated, or NULL */
    const char *label;   /* for messages: "pcap", "ITCH 5.0", "a tick file (rtk)" */
    bool weak_probe;     /* the probe judges content, not a magic number: tried after the others */
    bool forced_only;    /* never detected (no magic at all): read only when --format names it */
    /* probe() : whether p[0..n) (the first decompressed bytes, at most RP_INPUT_PEEK) starts an
     * input of this format. */
    bool (*probe)(const uint8_t *p, size_t n);
    /* open() : sets s->be and reads what the format needs up front (headers); `peeked` bytes are
     * available from s->z. @return 0, or -1 after rp_source_fail(). */
    int (*open)(rp_source *s, size_t peeked);
    /* next() : the next messages: 1 with m[0..*n) (1 <= *n <= max, data valid until the next
     * call); 2 with *mk (only when mk is not NULL: a sequenced packet's mark, before its
     * messages); 0 at the end, after rp_source_end(); -1 after rp_source_fail(). Called once per
     * batch: the per-message work stays inside. */
    int (*next)(rp_source *s, rp_message *m, size_t max, size_t *n, rp_mark *mk);
    /* close() : releases what s->be holds (NULL after a failed open is possible); the source
     * frees s->be itself afterwards. */
    void (*close)(rp_source *s);
    /* optional (NULL: none) */
    int (*stream_desc)(const rp_source *s, uint32_t id, char *buf, size_t cap);
    size_t (*flows)(const rp_source *s, rp_flow_info *out, size_t max);
    void (*describe)(const rp_source *s, rp_input_desc *d);
    /* rewind() : back to the first message for the next --loop pass, the backend kept open:
     * returns 1 with nothing changed when it cannot (the caller then reopens), else calls
     * rp_source_restart() and resets its own state. @return 0, 1, or -1 after
     * rp_source_fail(). */
    int (*rewind)(rp_source *s);
} rp_input;

/* A backend file names its functions rp__probe, rp__open, rp__next, rp__close, rp__stream_desc
 * and rp__describe (static); these are the rp_input members of a backend that has all of them
 * (RP_INPUT_OPS), or all but its own probe and open (RP_INPUT_READ_OPS). */
#define RP_INPUT_READ_OPS                                                                          \
    .next = rp__next, .close = rp__close, .stream_desc = rp__stream_desc, .describe = rp__describe
#define RP_INPUT_OPS .probe = rp__probe, .open = rp__open, RP_INPUT_READ_OPS

/* The source as backends see it (rp_source is opaque to everyone else). */
#define RP_SOURCE_WARN_LINES   6 /* warning lines kept per source (the damage summary besides) */
#define RP_SOURCE_DAMAGE_SHOWN 3 /* damaged packets or records named one by one */

struct rp_source {
    const rp_input *in;
    void *be; /* the backend's state */
    rp_zread *z;
    char name[256];
    rp_source_opts opts;
    uint64_t size; /* file size, 0 when unknown */
    rp_feed_stats st;
    bool failed, done;
    char err[768];
    char warn[RP_SOURCE_WARN_LINES][224];
    unsigned nwarn;
    uint64_t damaged;     /* damaged packets or records met */
    char damage_sum[160]; /* the summary line, once there is damage */
};

/* rp_input_at() : the table entry of format f.
 * @return it, or NULL for RP_FMT_AUTO and values beyond the table. */
const rp_input *rp_input_at(rp_format f);

/* rp_input_select() : the backend for the first bytes p[0..n) (n > 0): forced by s->opts.format,
 * else the first probe that matches (magic numbers first). When none does, fails s with a message
 * naming the file, saying what the input looks like when it is a format replay knows of but
 * cannot read (gzip, Databento's legacy DBZ), and what replay expects. `raw` are the first raw
 * (compressed) bytes, for formats that sit in zstd skippable frames.
 * @return the backend, or NULL after rp_source_fail(). */
const rp_input *rp_input_select(rp_source *s, const uint8_t *p, size_t n, const uint8_t *raw,
                                size_t rawn);

/* rp_input_expected() : "expected pcap, pcapng, ITCH 5.0, a tick file (rtk), or any of them
 * zstd-compressed", from the table's labels, into buf. @return buf. */
const char *rp_input_expected(char *buf, size_t cap);

/* rp_name_in_list() : whether the comma-separated list (NULL: empty) holds `name`. */
bool rp_name_in_list(const char *list, const char *name);

/* ---- for backends --------------------------------------------------------------------------- */

/* rp_source_fail() : records an input error (message with the file name, byte offset). */
void rp_source_fail(rp_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* rp_source_fail_zread() : fails with the reader's own error. @return -1. */
int rp_source_fail_zread(rp_source *s);

/* rp_source_warn() : adds a warning line (dropped beyond RP_SOURCE_WARN_LINES). */
void rp_source_warn(rp_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* rp_source_damaged() : one damaged packet or record (`unit`, e.g. "packet"), described by fmt
 * (where: number and byte offset; what). With opts.strict an input error; otherwise a warning
 * for the first RP_SOURCE_DAMAGE_SHOWN, and counted in the summary line. The caller has counted
 * the decode error.
 * @return 0, or -1 (strict) after rp_source_fail(). */
int rp_source_damaged(rp_source *s, const char *unit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rp_source_end() : end of input at decompressed offset `bytes`: notes truncation left by the
 * decompressor, sets st.bytes. @return 0. */
int rp_source_end(rp_source *s, uint64_t bytes);

/* rp_source_restart() : for a backend's rewind(): the source's counts, warnings and end state
 * back to those of a source just opened. */
void rp_source_restart(rp_source *s);

/* rp_source_filter_unused() : warns once that opts.filter does not apply to this format (it has
 * no packets), if a filter was given. */
void rp_source_filter_unused(rp_source *s);

/* The backends in the table (defined in in_*.c). */
extern const rp_input rp_input_pcap, rp_input_pcapng, rp_input_itch, rp_input_rtk, rp_input_dbn,
    rp_input_dbn_frag;

#endif /* RP_INPUT_H */
