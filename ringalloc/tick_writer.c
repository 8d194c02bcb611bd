/* tick_writer.c - native tick file writer: records to a path, a FILE* or a callback, plain or zstd
 */

/*
 * Design notes
 * ------------
 * Records are staged in a 256 KiB buffer (the record built in place when it fits) and handed to
 * the sink or to ZSTD_compressStream2 when it fills; the file header is written lazily at the
 * first record (or flush, or close) so that streams declared before it go into the header's
 * table, later ones as stream records. With zstd, a frame ends (ZSTD_e_end) once it holds
 * `frame_bytes` of .rtk bytes, always after a whole record, so that a file cut after any frame
 * decodes as a clean prefix; flush() ends one too. Any write error is sticky (RA_EIO). The bytes
 * (header, record headers, end record, marks) are built by tick_codec.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <zstd.h>

#include "tick_codec.h"

#define RA__STAGE_CAP (256u << 10)

struct ra_tick_writer {
    ra_tick_sink_fn sink;
    void *sink_ctx;
    FILE *fp;
    bool own_fp;
    bool compress;
    ZSTD_CCtx *cctx;
    uint8_t *stage; /* .rtk bytes not yet handed on */
    size_t stage_len;
    uint8_t *zout;
    size_t zout_cap;
    uint64_t frame_bytes;
    uint64_t in_frame; /* .rtk bytes in the current frame */
    bool header_done;
    int err; /* sticky RA_EIO */
    ra__tick_streams streams;
    char *names[3]; /* format, framing, creator */
    uint64_t created_ns;
    uint32_t max_payload;
    uint64_t payload_bytes;
    ra_tick_writer_stats st;
};

static int ra__sink_file(void *ctx, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static int ra__w_out(ra_tick_writer *w, const void *p, size_t n)
{
    if (n == 0) return RA_OK;
    if (w->sink(w->sink_ctx, p, n) != 0) {
        w->err = RA_EIO;
        return RA_EIO;
    }
    w->st.bytes_out += n;
    return RA_OK;
}

/* Hands the staged bytes on; with ZSTD_e_end also ends the zstd frame (if it holds data). */
static int ra__w_drain(ra_tick_writer *w, ZSTD_EndDirective mode)
{
    if (w->err) return w->err;
    if (!w->compress) {
        int rc = ra__w_out(w, w->stage, w->stage_len);
        w->stage_len = 0;
        return rc;
    }
    if (mode == ZSTD_e_end && w->in_frame == 0) return RA_OK; /* no empty frames */
    ZSTD_inBuffer in = {w->stage, w->stage_len, 0};
    for (;;) {
        ZSTD_outBuffer out = {w->zout, w->zout_cap, 0};
        size_t r = ZSTD_compressStream2(w->cctx, &out, &in, mode);
        if (ZSTD_isError(r)) {
            w->err = RA_EIO;
            return RA_EIO;
        }
        if (ra__w_out(w, w->zout, out.pos) != RA_OK) return RA_EIO;
        if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size) break;
    }
    w->stage_len = 0;
    if (mode == ZSTD_e_end) {
        w->st.frames++;
        w->in_frame = 0;
    }
    return RA_OK;
}

/* Ends the zstd frame once it is full (after a whole record). */
static int ra__w_frame_check(ra_tick_writer *w)
{
    if (w->compress && w->in_frame >= w->frame_bytes) return ra__w_drain(w, ZSTD_e_end);
    return RA_OK;
}

static int ra__w_put(ra_tick_writer *w, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n) {
        if (w->stage_len == RA__STAGE_CAP && ra__w_drain(w, ZSTD_e_continue) != RA_OK)
            return w->err;
        size_t k = RA__STAGE_CAP - w->stage_len;
        if (k > n) k = n;
        memcpy(w->stage + w->stage_len, s, k);
        w->stage_len += k;
        s += k;
        n -= k;
    }
    return RA_OK;
}

static int ra__w_record(ra_tick_writer *w, uint16_t kind, uint32_t stream, uint16_t type,
                        uint64_t seq, uint64_t ts, const void *data, uint32_t len)
{
    size_t size = ra__tick_rec_size(RA_TICK_REC_HDR, len);
    w->in_frame += size;
    w->st.bytes_in += size;
    if (RA__STAGE_CAP - w->stage_len >= size) { /* the common case: build it in place */
        uint8_t *h = w->stage + w->stage_len;
        memset(h + size - 8, 0, 8); /* padding */
        if (len) memcpy(h + RA_TICK_REC_HDR, data, len);
        ra__tick_rec_put(h, len, type, kind, stream, seq, ts);
        w->stage_len += size;
        return RA_OK;
    }
    uint8_t h[RA_TICK_REC_HDR];
    static const uint8_t zeros[8];
    ra__tick_rec_put(h, len, type, kind, stream, seq, ts);
    if (ra__w_put(w, h, sizeof h) != RA_OK || ra__w_put(w, data, len) != RA_OK ||
        ra__w_put(w, zeros, size - RA_TICK_REC_HDR - len) != RA_OK)
        return w->err;
    return RA_OK;
}

/* Writes the file header once; streams that do not fit in it follow as stream records. */
static int ra__w_header(ra_tick_writer *w)
{
    if (w->header_done) return RA_OK;
    size_t hs;
    bool in_header;
    uint8_t *h = ra__tick_hdr_encode((const char *const *)w->names, &w->streams, w->created_ns,
                                     w->max_payload, &hs, &in_header);
    if (!h) return RA_ENOMEM;
    w->header_done = true;
    w->in_frame += hs;
    w->st.bytes_in += hs;
    int rc = ra__w_put(w, h, hs);
    free(h);
    for (size_t k = 0; rc == RA_OK && !in_header && k < w->streams.n; k++) {
        const ra_tick_stream *s = &w->streams.v[k];
        rc = ra__w_record(w, RA_TICK_KIND_STREAM, s->id, 0, 0, 0, s->desc, s->desc_len);
    }
    return rc;
}

static char *ra__strdup_or(const char *s, const char *dflt)
{
    if (!s) s = dflt;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (c) memcpy(c, s, n + 1);
    return c;
}

/* @return RA_OK, or RA_EINVAL for a config the writer refuses. */
static int ra__w_check_config(const ra_tick_writer_config *cfg)
{
    const char *names[3] = {cfg->source_format, cfg->framing, cfg->creator};
    for (int k = 0; k < 3; k++)
        if (names[k] && strlen(names[k]) > 0xFFFFu) return RA_EINVAL;
    if (cfg->max_payload > RA_TICK_MAX_PAYLOAD || cfg->workers < 0) return RA_EINVAL;
    if (cfg->compress && (cfg->level < ZSTD_minCLevel() || cfg->level > ZSTD_maxCLevel()))
        return RA_EINVAL;
    return RA_OK;
}

/* The zstd context and output buffer. @return false when out of memory. */
static bool ra__w_zstd_setup(ra_tick_writer *w, const ra_tick_writer_config *cfg)
{
    w->compress = true;
    w->cctx = ZSTD_createCCtx();
    w->zout_cap = ZSTD_CStreamOutSize();
    w->zout = malloc(w->zout_cap);
    if (!w->cctx || !w->zout) return false;
    int level = cfg->level ? cfg->level : RA_TICK_DEFAULT_LEVEL;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1)))
        return false;
    /* workers need a multithreaded libzstd; without one, compress in this thread */
    if (cfg->workers > 0) (void)ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_nbWorkers, cfg->workers);
    return true;
}

static int ra__writer_new(ra_tick_writer **out, const ra_tick_writer_config *cfg)
{
    static const ra_tick_writer_config dflt;
    if (!cfg) cfg = &dflt;
    if (ra__w_check_config(cfg) != RA_OK) return RA_EINVAL;
    ra_tick_writer *w = calloc(1, sizeof *w);
    if (!w) return RA_ENOMEM;
    char creator[64];
    snprintf(creator, sizeof creator, "ringalloc %s", ra_version_string());
    w->names[0] = ra__strdup_or(cfg->source_format, "");
    w->names[1] = ra__strdup_or(cfg->framing, "");
    w->names[2] = ra__strdup_or(cfg->creator, creator);
    w->stage = malloc(RA__STAGE_CAP);
    w->max_payload = cfg->max_payload ? cfg->max_payload : RA_TICK_DEFAULT_PAYLOAD;
    w->frame_bytes = cfg->frame_bytes ? cfg->frame_bytes : RA_TICK_DEFAULT_FRAME;
    w->created_ns = cfg->created_ns;
    if (!w->created_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        w->created_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    bool ok = w->names[0] && w->names[1] && w->names[2] && w->stage;
    if (ok && cfg->compress) ok = ra__w_zstd_setup(w, cfg);
    if (!ok) {
        w->sink = ra__sink_file; /* not used: close() below writes nothing */
        w->err = RA_ENOMEM;
        ra_tick_writer_close(w);
        return RA_ENOMEM;
    }
    *out = w;
    return RA_OK;
}

RA_API int ra_tick_writer_open_sink(ra_tick_writer **out, ra_tick_sink_fn fn, void *ctx,
                                    const ra_tick_writer_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!fn) return RA_EINVAL;
    ra_tick_writer *w;
    int rc = ra__writer_new(&w, cfg);
    if (rc != RA_OK) return rc;
    w->sink = fn;
    w->sink_ctx = ctx;
    *out = w;
    return RA_OK;
}

RA_API int ra_tick_writer_open_fp(ra_tick_writer **out, FILE *fp, const ra_tick_writer_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!fp) return RA_EINVAL;
    int rc = ra_tick_writer_open_sink(out, ra__sink_file, fp, cfg);
    if (rc == RA_OK) (*out)->fp = fp;
    return rc;
}

RA_API int ra_tick_writer_open(ra_tick_writer **out, const char *path,
                               const ra_tick_writer_config *cfg)
{
    if (!out) return RA_EINVAL;
    *out = NULL;
    if (!path) return RA_EINVAL;
    ra_tick_writer *w;
    int rc = ra__writer_new(&w, cfg); /* config errors before the file is touched */
    if (rc != RA_OK) return rc;
    bool is_stdout = strcmp(path, "-") == 0;
    FILE *fp = is_stdout ? stdout : fopen(path, "wbe");
    w->sink = ra__sink_file;
    if (!fp) {
        int e = errno;
        w->err = RA_EIO;
        ra_tick_writer_close(w);
        errno = e;
        return RA_EIO;
    }
    w->sink_ctx = fp;
    w->fp = fp;
    w->own_fp = !is_stdout;
    *out = w;
    return RA_OK;
}

RA_API int ra_tick_writer_add_stream(ra_tick_writer *w, uint32_t id, const char *desc)
{
    if (!w || !desc) return RA_EINVAL;
    if (w->err) return w->err;
    size_t len = strlen(desc);
    if (len > 0xFFFFu || w->streams.n >= RA_TICK_MAX_STREAMS) return RA_EINVAL;
    int rc = ra__tick_streams_add(&w->streams, id, desc, len);
    if (rc != RA_OK || !w->header_done) return rc;
    return ra__w_record(w, RA_TICK_KIND_STREAM, id, 0, 0, 0, desc, (uint32_t)len);
}

RA_API int ra_tick_write(ra_tick_writer *w, const ra_tick_record *rec)
{
    if (!w || !rec || (!rec->data && rec->len)) return RA_EINVAL;
    if (w->err) return w->err;
    if (rec->len > w->max_payload) return RA_ETOOBIG;
    int rc = ra__w_header(w);
    if (rc != RA_OK) return rc;
    rc = ra__w_record(w, RA_TICK_KIND_DATA, rec->stream, rec->type, rec->seq, rec->ts_ns, rec->data,
                      rec->len);
    if (rc != RA_OK) return rc;
    w->st.records++;
    w->payload_bytes += rec->len;
    return ra__w_frame_check(w);
}

RA_API int ra_tick_write_mark(ra_tick_writer *w, const ra_tick_mark *m)
{
    if (!w || !m) return RA_EINVAL;
    if (w->err) return w->err;
    int rc = ra__w_header(w);
    if (rc != RA_OK) return rc;
    uint8_t pl[RA_TICK_MARK_LEN];
    ra__tick_mark_put(pl, m);
    rc = ra__w_record(w, RA_TICK_KIND_MARK, m->stream, 0, m->seq, m->ts_ns, pl, sizeof pl);
    if (rc != RA_OK) return rc;
    return ra__w_frame_check(w);
}

RA_API int ra_tick_writer_flush(ra_tick_writer *w)
{
    if (!w) return RA_EINVAL;
    if (w->err) return w->err;
    int rc = ra__w_header(w);
    if (rc == RA_OK) rc = ra__w_drain(w, ZSTD_e_end);
    if (rc == RA_OK && w->fp && fflush(w->fp) != 0) rc = w->err = RA_EIO;
    return rc;
}

RA_API void ra_tick_writer_get_stats(const ra_tick_writer *w, ra_tick_writer_stats *s)
{
    if (!s) return;
    memset(s, 0, sizeof *s);
    if (w) *s = w->st;
}

RA_API int ra_tick_writer_close(ra_tick_writer *w)
{
    if (!w) return RA_EINVAL;
    int rc = w->err;
    if (rc == RA_OK) {
        uint8_t end[RA__TICK_END_LEN];
        ra__tick_end_put(end, w->st.records, w->payload_bytes);
        rc = ra__w_header(w);
        if (rc == RA_OK) rc = ra__w_record(w, RA_TICK_KIND_END, 0, 0, 0, 0, end, sizeof end);
        if (rc == RA_OK) rc = ra__w_drain(w, ZSTD_e_end);
        if (rc == RA_OK && w->fp && fflush(w->fp) != 0) rc = RA_EIO;
    }
    if (w->own_fp && fclose(w->fp) != 0 && rc == RA_OK) rc = RA_EIO;
    ZSTD_freeCCtx(w->cctx);
    ra__tick_streams_free(&w->streams);
    for (int k = 0; k < 3; k++) free(w->names[k]);
    free(w->stage);
    free(w->zout);
    free(w);
    return rc;
}
