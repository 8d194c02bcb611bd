/* tick_reader.c - native tick file reader: the push decoder over a path, stdin or a FILE* */

/*
 * Design notes
 * ------------
 * The reader owns a decoder and a 256 KiB read buffer. Whenever the decoder asks for more
 * input (RA_EMPTY) it reads the next chunk (read(2) on a descriptor it opened, or on stdin;
 * fread on a caller's FILE*) and pushes it; at end of file it calls finish(), whose verdict
 * (clean end, cut short, damage) becomes the reader's. Bytes a caller already read to sniff the
 * format are pushed first. Read errors are kept apart from the decoder's own errors (ioerr), at
 * the .rtk offset the decoder had reached.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/tickfile.h"
#include "tick_decoder.h"

#define RA__READ_CAP (256u << 10)

struct ra_tick_reader {
    ra_tick_decoder *dec;
    int fd;   /* read(2) source when >= 0 */
    FILE *fp; /* fread source otherwise */
    bool own; /* close fd at close */
    bool eof; /* the source returned end of file */
    uint8_t *prefix;
    size_t prefix_len;
    bool prefix_done;
    uint8_t *buf;
    ra_tick_error ioerr; /* I/O errors (the decoder's own are in dec) */
};

/* Reads the next chunk into r->buf. @return the bytes read (0 at end of file), or -1 with
 * r->ioerr set. */
static long ra__reader_read(ra_tick_reader *r)
{
    if (r->fd >= 0) {
        ssize_t got;
        do got = read(r->fd, r->buf, RA__READ_CAP);
        while (got < 0 && errno == EINTR);
        if (got >= 0) return (long)got;
        snprintf(r->ioerr.msg, sizeof r->ioerr.msg, "read error: %s", strerror(errno));
    } else {
        size_t n = fread(r->buf, 1, RA__READ_CAP, r->fp);
        if (n > 0 || !ferror(r->fp)) return (long)n;
        snprintf(r->ioerr.msg, sizeof r->ioerr.msg, "read error");
    }
    r->ioerr.status = RA_EIO;
    r->ioerr.offset = ra__tick_decoder_produced(r->dec);
    return -1;
}

/* Reads the next chunk and pushes it; at end of file calls finish.
 * @return RA_OK (pushed), RA_EMPTY (clean end), or a negative status. */
static int ra__reader_feed(ra_tick_reader *r)
{
    if (!r->prefix_done) {
        r->prefix_done = true;
        if (r->prefix_len) return ra_tick_decoder_push(r->dec, r->prefix, r->prefix_len);
    }
    long n = r->eof ? 0 : ra__reader_read(r);
    if (n < 0) return RA_EIO;
    if (n == 0) {
        r->eof = true;
        int rc = ra_tick_decoder_finish(r->dec);
        return rc == RA_OK ? RA_EMPTY : rc;
    }
    return ra_tick_decoder_push(r->dec, r->buf, (size_t)n);
}

static void ra__err_simple(ra_tick_error *err, int status, const char *what, const char *why)
{
    if (!err) return;
    *err = (ra_tick_error){.status = status,
                           .offset = RA_TICK_NO_OFFSET,
                           .comp_offset = RA_TICK_NO_OFFSET,
                           .frame_offset = RA_TICK_NO_OFFSET};
    snprintf(err->msg, sizeof err->msg, "%s%s%s", what, why ? ": " : "", why ? why : "");
}

/* Creates the decoder and reads the header; frees r on failure. @return as
 * ra_tick_reader_open(). */
static int ra__reader_setup(ra_tick_reader **out, ra_tick_reader *r, ra_tick_error *err)
{
    int rc = ra_tick_decoder_create(&r->dec);
    r->buf = malloc(RA__READ_CAP);
    if (rc == RA_OK && !r->buf) rc = RA_ENOMEM;
    while (rc == RA_OK && (rc = ra_tick_decoder_read_header(r->dec)) == RA_EMPTY) {
        rc = ra__reader_feed(r);
        if (rc == RA_EMPTY) rc = RA_ETRUNC; /* cannot be: finish fails without a header */
    }
    if (rc == RA_OK) {
        *out = r;
        return RA_OK;
    }
    if (err) {
        const ra_tick_error *de = r->dec ? ra_tick_decoder_error(r->dec) : NULL;
        if (r->ioerr.status != RA_OK)
            *err = r->ioerr;
        else if (de && de->status != RA_OK)
            *err = *de;
        else
            ra__err_simple(err, rc, "out of memory", NULL);
    }
    ra_tick_reader_close(r);
    return rc;
}

/* A reader not yet set up (fd -1). @return it, or NULL with *out NULL and err set (invalid
 * arguments, or out of memory). */
static ra_tick_reader *ra__reader_new(ra_tick_reader **out, bool args_ok, ra_tick_error *err)
{
    if (!out || !args_ok) {
        ra__err_simple(err, RA_EINVAL, "invalid argument", NULL);
        return NULL;
    }
    *out = NULL;
    ra_tick_reader *r = calloc(1, sizeof *r);
    if (!r) {
        ra__err_simple(err, RA_ENOMEM, "out of memory", NULL);
        return NULL;
    }
    r->fd = -1;
    return r;
}

RA_API int ra_tick_reader_open(ra_tick_reader **out, const char *path, ra_tick_error *err)
{
    ra_tick_reader *r = ra__reader_new(out, path != NULL, err);
    if (!r) return out && path ? RA_ENOMEM : RA_EINVAL;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            ra__err_simple(err, RA_EIO, "cannot open", strerror(errno));
            free(r);
            return RA_EIO;
        }
        r->own = true;
#ifdef POSIX_FADV_SEQUENTIAL
        posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    }
    r->prefix_done = true;
    return ra__reader_setup(out, r, err);
}

RA_API int ra_tick_reader_open_fp(ra_tick_reader **out, FILE *fp, const void *prefix,
                                  size_t prefix_len, ra_tick_error *err)
{
    bool args_ok = fp && (prefix || !prefix_len);
    ra_tick_reader *r = ra__reader_new(out, args_ok, err);
    if (!r) return out && args_ok ? RA_ENOMEM : RA_EINVAL;
    r->fp = fp;
    if (prefix_len) {
        r->prefix = malloc(prefix_len);
        if (!r->prefix) {
            free(r);
            ra__err_simple(err, RA_ENOMEM, "out of memory", NULL);
            return RA_ENOMEM;
        }
        memcpy(r->prefix, prefix, prefix_len);
        r->prefix_len = prefix_len;
    }
    return ra__reader_setup(out, r, err);
}

/* The next record (mark != NULL: or mark) from the decoder, reading more input as needed. */
static int ra__reader_next(ra_tick_reader *r, ra_tick_record *rec, ra_tick_mark *mark,
                           uint16_t *kind)
{
    if (r->ioerr.status != RA_OK) return r->ioerr.status;
    for (;;) {
        int rc = mark ? ra_tick_decoder_next_event(r->dec, rec, mark, kind)
                      : ra_tick_decoder_next(r->dec, rec);
        if (rc != RA_EMPTY) return rc;
        rc = ra__reader_feed(r);
        if (rc != RA_OK) return rc;
    }
}

RA_API int ra_tick_reader_next(ra_tick_reader *r, ra_tick_record *rec)
{
    if (!r || !rec) return RA_EINVAL;
    return ra__reader_next(r, rec, NULL, NULL);
}

RA_API int ra_tick_reader_next_event(ra_tick_reader *r, ra_tick_record *rec, ra_tick_mark *mark,
                                     uint16_t *kind)
{
    if (!r || !rec || !mark || !kind) return RA_EINVAL;
    return ra__reader_next(r, rec, mark, kind);
}

RA_API const ra_tick_info *ra_tick_reader_info(const ra_tick_reader *r)
{
    return r ? ra_tick_decoder_info(r->dec) : NULL;
}

RA_API const ra_tick_error *ra_tick_reader_error(const ra_tick_reader *r)
{
    if (r && r->ioerr.status != RA_OK) return &r->ioerr;
    return ra_tick_decoder_error(r ? r->dec : NULL);
}

RA_API const ra_tick_decoder *ra_tick_reader_decoder(const ra_tick_reader *r)
{
    return r ? r->dec : NULL;
}

RA_API void ra_tick_reader_close(ra_tick_reader *r)
{
    if (!r) return;
    if (r->own && r->fd >= 0) close(r->fd);
    ra_tick_decoder_destroy(r->dec);
    free(r->prefix);
    free(r->buf);
    free(r);
}
