/* source.c - replay's input layer: open any supported capture or file, iterate its messages
 *
 * Design notes
 * - Layers, bottom up: an rp_zread (zread.h) reads the file, pipe or buffer, detects zstd by its
 *   magic number and decompresses as a stream, and lets us peek at the first bytes even on a
 *   pipe; the format is then chosen from those bytes by the input table (input.c) unless
 *   opts->format forces it; its backend (in_*.c) turns the decompressed bytes into messages.
 *   Captures go link layer (link.c) -> UDP payload -> framing (framing.c), so compression and
 *   framing are written once for every format.
 * - This file is the generic part: opening, dispatch, accessors, warnings. The per-batch path is
 *   one indirect call into the backend (rp_source_next_batch -> in->next), which hands out a
 *   whole packet's messages per call; nothing here runs per message.
 * - Truncation versus error versus damage. At the end of input a record cut short (libpcap
 *   failing while the reader is at its end, an ITCH record whose bytes stop early, a zstd stream
 *   ending inside a frame) sets stats.truncated and ends the source normally; such a packet is
 *   not counted. A broken file structure (libpcap errors elsewhere, corrupt zstd) is an input
 *   error naming the file, the packet number and the byte offset. Damaged data inside an intact
 *   structure (a MoldUDP64/IEX-TP length running past the end of a whole datagram, an ITCH record
 *   contradicting its type) is a decode error and a warning naming packet and offset
 *   (rp_source_damaged), or with opts.strict an input error.
 * - Warnings are kept as lines on the source (a few at most, then one summary line): the caller
 *   prints or collects them with the file name, so the input layer itself never writes.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rp_source_fail(rp_source *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->failed = true;
}

int rp_source_fail_zread(rp_source *s)
{
    rp_source_fail(s, "%s", rp_zread_error(s->z));
    return -1;
}

void rp_source_warn(rp_source *s, const char *fmt, ...)
{
    if (s->nwarn >= RP_SOURCE_WARN_LINES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->warn[s->nwarn++], sizeof s->warn[0], fmt, ap);
    va_end(ap);
}

int rp_source_damaged(rp_source *s, const char *unit, const char *fmt, ...)
{
    char what[sizeof s->warn[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (s->opts.strict) {
        rp_source_fail(s, "%s: %s (damaged %s; --strict)", s->name, what, unit);
        return -1;
    }
    if (++s->damaged <= RP_SOURCE_DAMAGE_SHOWN)
        rp_source_warn(s, "%s (damaged: skipped, a decode error)", what);
    snprintf(s->damage_sum, sizeof s->damage_sum,
             "%llu damaged %s%s in all, counted in decode_errors (--strict makes them fatal)",
             (unsigned long long)s->damaged, unit, s->damaged == 1 ? "" : "s");
    return 0;
}

int rp_source_end(rp_source *s, uint64_t bytes)
{
    if (rp_zread_truncated(s->z)) s->st.truncated = true;
    s->done = true;
    s->st.bytes = bytes;
    return 0;
}

void rp_source_filter_unused(rp_source *s)
{
    if (s->opts.filter && *s->opts.filter)
        rp_source_warn(s, "filter '%s' ignored: %s input has no packets to filter", s->opts.filter,
                       s->in->label);
}

size_t rp_source_warning_count(const rp_source *s)
{
    return s->nwarn + (s->damaged ? 1 : 0);
}

const char *rp_source_warning(const rp_source *s, size_t i)
{
    if (i < s->nwarn) return s->warn[i];
    return i == s->nwarn && s->damaged ? s->damage_sum : "";
}

/* ---- open --------------------------------------------------------------------------------------
 */

/* Detects the format and opens its backend. @return 0, or -1 with s->err set. */
static int rp__start(rp_source *s)
{
    const uint8_t *p;
    ssize_t n = rp_zread_peek(s->z, RP_INPUT_PEEK, &p);
    if (n < 0) return rp_source_fail_zread(s);
    bool z = rp_zread_compressed(s->z);
    char expected[160];
    if (n == 0) {
        if (z && rp_zread_truncated(s->z))
            rp_source_fail(s, "%s: zstd stream ends inside its first frame (%llu bytes)", s->name,
                           (unsigned long long)rp_zread_raw_offset(s->z));
        else
            rp_source_fail(s, "%s: empty%s (%s)", s->name,
                           z ? " after zstd decompression" : " file",
                           rp_input_expected(expected, sizeof expected));
        return -1;
    }
    const uint8_t *raw;
    size_t rawn = rp_zread_head(s->z, &raw);
    s->in = rp_input_select(s, p, (size_t)n, raw, rawn);
    if (!s->in) return -1;
    return s->in->open(s, (size_t)n);
}

static rp_source *rp__new(const char *name, const rp_source_opts *opts)
{
    rp_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    if (opts) s->opts = *opts;
    return s;
}

/* Shared tail of the open functions: takes the reader, starts the source. */
static int rp__finish_open(rp_source **out, rp_source *s, char *err, size_t errlen)
{
    if (s->opts.no_threads) rp_zread_no_readahead(s->z);
    if (rp__start(s) != 0) {
        snprintf(err, errlen, "%s", s->err);
        rp_source_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Opens path for reading (stdin for "-"); refuses directories. @return the fd, or -1 with err. */
static int rp__open_fd(const char *path, const char *name, bool is_stdin, struct stat *sb,
                       char *err, size_t errlen)
{
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
        return -1;
    }
    if (fstat(fd, sb) != 0)
        snprintf(err, errlen, "%s: cannot stat: %s", name, strerror(errno));
    else if (S_ISDIR(sb->st_mode))
        snprintf(err, errlen, "%s: is a directory (expected a capture or ITCH file)", name);
    else
        return fd;
    if (!is_stdin) close(fd);
    return -1;
}

int rp_source_open(rp_source **out, const char *path, const rp_source_opts *opts, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!path) {
        snprintf(err, errlen, "no input file given");
        return -1;
    }
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    struct stat sb = {0};
    int fd = rp__open_fd(path, name, is_stdin, &sb, err, errlen);
    if (fd < 0) return -1;
    rp_source *s = rp__new(name, opts);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name);
        if (!is_stdin) close(fd);
        return -1;
    }
    if (S_ISREG(sb.st_mode)) {
        s->size = (uint64_t)sb.st_size;
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    if (rp_zread_open_fd(&s->z, fd, !is_stdin, name, err, errlen) != 0) {
        rp_source_close(s);
        return -1;
    }
    return rp__finish_open(out, s, err, errlen);
}

int rp_source_open_mem(rp_source **out, const void *data, size_t len, const char *name,
                       const rp_source_opts *opts, char *err, size_t errlen)
{
    *out = NULL;
    rp_source *s = rp__new(name ? name : "<memory>", opts);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<memory>");
        return -1;
    }
    s->size = len;
    if (rp_zread_open_mem(&s->z, data, len, s->name, err, errlen) != 0) {
        rp_source_close(s);
        return -1;
    }
    return rp__finish_open(out, s, err, errlen);
}

int rp_source_open_stream(rp_source **out, FILE *fp, const char *name, const rp_source_opts *opts,
                          char *err, size_t errlen)
{
    *out = NULL;
    rp_source *s = rp__new(name ? name : "<stream>", opts);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<stream>");
        return -1;
    }
    if (rp_zread_open_file(&s->z, fp, s->name, err, errlen) != 0) {
        rp_source_close(s);
        return -1;
    }
    return rp__finish_open(out, s, err, errlen);
}

/* ---- iteration ---------------------------------------------------------------------------------
 */

int rp_source_next(rp_source *s, rp_message *m)
{
    size_t n;
    if (s->failed) return -1;
    if (s->done) return 0;
    return s->in->next(s, m, 1, &n, NULL);
}

int rp_source_next_batch(rp_source *s, rp_message *m, size_t max, size_t *n)
{
    *n = 0;
    if (s->failed) return -1;
    if (s->done) return 0;
    if (max == 0) return 1;
    return s->in->next(s, m, max, n, NULL);
}

int rp_source_next_event(rp_source *s, rp_message *m, rp_mark *mk)
{
    size_t n;
    if (s->failed) return -1;
    if (s->done) return 0;
    return s->in->next(s, m, 1, &n, mk);
}

/* ---- accessors ---------------------------------------------------------------------------------
 */

const rp_feed_stats *rp_source_stats(const rp_source *s)
{
    /* by_type is the sum of by_proto (feed.h), brought up to date here; the source is never a
     * const object (rp__new allocates it), only this view of it is */
    rp_feed_stats_sum_types(&((rp_source *)s)->st);
    return &s->st;
}

const char *rp_source_error(const rp_source *s)
{
    return s->err;
}

const char *rp_source_format_name(const rp_source *s)
{
    return s->in ? s->in->name : "unknown";
}

bool rp_source_compressed(const rp_source *s)
{
    return s->z && rp_zread_compressed(s->z);
}

static rp_input_desc rp__describe(const rp_source *s)
{
    rp_input_desc d = {.linktype = -1, .tick = NULL, .dbn = NULL};
    if (s->in && s->in->describe && s->be) s->in->describe(s, &d);
    return d;
}

int rp_source_linktype(const rp_source *s)
{
    return rp__describe(s).linktype;
}

const ra_tick_info *rp_source_tick_info(const rp_source *s)
{
    return rp__describe(s).tick;
}

bool rp_source_itch(const rp_source *s)
{
    const ra_tick_info *ti = rp_source_tick_info(s);
    return strcmp(rp_source_format_name(s), "itch") == 0 ||
           (ti &&
            (strcmp(ti->source_format, "itch") == 0 || strcmp(ti->framing, "moldudp64") == 0));
}

const struct rp_dbn_meta *rp_source_dbn_meta(const rp_source *s)
{
    return rp__describe(s).dbn;
}

const char *rp_source_framing_name(const rp_source *s)
{
    unsigned seen = s->st.framings;
    if (seen == 0) return "none";
    if (seen & (seen - 1)) return "mixed";
    for (int f = RP_FRAMING_UDP; f <= RP_FRAMING_IEXTP; f++)
        if (seen == 1u << f) return rp_framing_name((rp_framing)f);
    return "none";
}

int rp_source_stream_desc(const rp_source *s, uint32_t id, char *buf, size_t cap)
{
    if (cap == 0 || !s->in || !s->in->stream_desc) return -1;
    return s->in->stream_desc(s, id, buf, cap);
}

size_t rp_source_flows(const rp_source *s, rp_flow_info *out, size_t max)
{
    return s->in && s->in->flows && s->be ? s->in->flows(s, out, max) : 0;
}

uint64_t rp_source_fill(const rp_source *s)
{
    return s->z ? rp_zread_filled(s->z) : 0;
}

uint64_t rp_source_offset(const rp_source *s)
{
    return s->z ? rp_zread_raw_offset(s->z) : 0;
}

uint64_t rp_source_size(const rp_source *s)
{
    return s->size;
}

void rp_source_restart(rp_source *s)
{
    memset(&s->st, 0, sizeof s->st);
    s->done = false;
    s->nwarn = 0;
    s->damaged = 0;
    s->damage_sum[0] = '\0';
}

int rp_source_rewind(rp_source *s)
{
    if (s->failed || !s->in || !s->in->rewind) return 1;
    return s->in->rewind(s);
}

void rp_source_close(rp_source *s)
{
    if (!s) return;
    if (s->in && s->in->close) s->in->close(s); /* before the reader: libpcap reads through it */
    free(s->be);
    rp_zread_close(s->z);
    free(s);
}
