/* zread.h - replay's buffered input with peek: plain or zstd (streamed), over fd, FILE* or memory
 */
#ifndef RP_ZREAD_H
#define RP_ZREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* A reader keeps a fixed window of decompressed bytes. Bytes can be peeked (looked at without
 * being consumed), which detection needs on pipes that cannot seek. zstd input (any number of
 * frames, skippable frames included) is recognised by its magic number and decompressed as a
 * stream: memory is the window plus zstd's own state, whatever the file size. */
typedef struct rp_zread rp_zread;

#define RP_ZREAD_WINDOW (256u * 1024) /* bytes; the most one peek can return */

/* rp_zread_is_zstd() : whether p[0..n) starts with a zstd frame or skippable-frame magic number.
 * @return true or false (false when n < 4). */
bool rp_zread_is_zstd(const uint8_t *p, size_t n);

/* rp_zread_open_fd() / _file() / _mem() : a reader over an open descriptor (closed by
 * rp_zread_close() when own_fd), a FILE* (never closed here), or a buffer that must outlive the
 * reader. `name` names the input in messages. The first bytes are read at once to detect zstd.
 * @return 0, or -1 with a message naming the input in err (read error, out of memory). */
int rp_zread_open_fd(rp_zread **out, int fd, bool own_fd, const char *name, char *err,
                     size_t errlen);
int rp_zread_open_file(rp_zread **out, FILE *fp, const char *name, char *err, size_t errlen);
int rp_zread_open_mem(rp_zread **out, const void *data, size_t len, const char *name, char *err,
                      size_t errlen);

/* rp_zread_peek() : makes up to n bytes (at most RP_ZREAD_WINDOW) available without consuming
 * them; *p points at them until the next peek, read or skip.
 * @return the number available (< n only at the end of input), or -1 on a read or zstd error
 *         (see rp_zread_error(); every later call fails too). */
ssize_t rp_zread_peek(rp_zread *z, size_t n, const uint8_t **p);

/* rp_zread_peek_some() : rp_zread_peek() that shows everything the window holds: at least n bytes
 * (at most RP_ZREAD_WINDOW) unless the input ends first, more when more are buffered, without
 * moving or refilling the window when n bytes are there already (record-by-record readers ask
 * for one record and parse all they are shown).
 * @return the number available, or -1 on a read or zstd error (as rp_zread_peek()). */
ssize_t rp_zread_peek_some(rp_zread *z, size_t n, const uint8_t **p);

/* rp_zread_skip() : consumes n bytes, at most what the last peek made available. */
void rp_zread_skip(rp_zread *z, size_t n);

/* rp_zread_read() : consumes and copies up to n bytes into dst.
 * @return the number copied (< n only at the end of input, 0 at its end), or -1 on an error
 *         before any byte was copied (see rp_zread_error()). */
ssize_t rp_zread_read(rp_zread *z, void *dst, size_t n);

/* rp_zread_no_readahead() : keeps decompression in the caller's thread (no read-ahead worker,
 * see zread.c), for callers that must not start threads. Effective when called before the first
 * peek or read that decompresses (right after open). */
void rp_zread_no_readahead(rp_zread *z);

/* rp_zread_fopen() : a read-only FILE* whose reads consume from z (peeked bytes included), for
 * libpcap. Unbuffered, so rp_zread_offset() stays exact; after setvbuf() the exact position is
 * rp_zread_offset() minus what the FILE buffer holds. fclose() on it leaves z open.
 * @return the FILE*, or NULL with errno set. */
FILE *rp_zread_fopen(rp_zread *z);

#define RP_ZREAD_HEAD 16 /* raw bytes kept from the start of the input */

/* rp_zread_head() : the first raw (not decompressed) bytes of the input, up to RP_ZREAD_HEAD, for
 * formats recognised by what precedes or wraps the zstd frames.
 * @return how many; *p points at them until rp_zread_close(). */
size_t rp_zread_head(const rp_zread *z, const uint8_t **p);

uint64_t rp_zread_offset(const rp_zread *z); /* decompressed bytes consumed */
/* rp_zread_rewind() : an uncompressed reader over memory goes back to input offset off (<= the
 * length), as if just opened and then off bytes consumed. @return 0, or -1 for any other reader
 * (a file, a pipe, zstd: reopen those). */
int rp_zread_rewind(rp_zread *z, uint64_t off);
uint64_t rp_zread_raw_offset(const rp_zread *z); /* input (compressed) bytes read so far */
uint64_t rp_zread_filled(const rp_zread *z);     /* decompressed bytes produced so far */
bool rp_zread_compressed(const rp_zread *z);     /* zstd */
bool rp_zread_at_eof(const rp_zread *z);         /* end of input reached and all of it consumed */
bool rp_zread_truncated(const rp_zread *z);      /* the input ended inside a zstd frame */
bool rp_zread_failed(const rp_zread *z);         /* a read or zstd error happened */
const char *rp_zread_error(const rp_zread *z);   /* "" when none */
void rp_zread_close(rp_zread *z);

#endif /* RP_ZREAD_H */
