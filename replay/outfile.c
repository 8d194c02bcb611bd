/* outfile.c - replay's output files: never over an input, never over a file unless forced, and
 * complete or absent
 *
 * Design notes.
 * - Identity: two names are the same file when stat() (which follows symlinks) gives the same
 *   device and inode; this catches a symlink to an input, a hard link, and "./x" against "x".
 *   An input "-" is compared through fstat() of stdin (a redirected file).
 * - Completeness: everything goes to "<path>.tmp.XXXXXX" (mkstemp, same directory, so the rename
 *   stays on one file system and is atomic); the rename happens only once the data is flushed.
 *   A failed or interrupted writer removes the temporary file.
 * - No silent overwrite: without force the rename is renameat2(RENAME_NOREPLACE), so a file that
 *   appeared after rp_outfile_check() is not replaced either (file systems without it fall back
 *   to link() + unlink(), which also refuses an existing name).
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether a and b are the same file. */
static bool rp__same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int rp_outfile_check(const char *path, bool force, const char *const *inputs, size_t ninputs,
                     char *why, size_t cap)
{
    if (strcmp(path, "-") == 0) return 0;
    struct stat out;
    if (stat(path, &out) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 0; /* a new file (or a dangling link) */
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < ninputs; i++) {
        struct stat in;
        bool is_stdin = strcmp(inputs[i], "-") == 0;
        if ((is_stdin ? fstat(STDIN_FILENO, &in) : stat(inputs[i], &in)) != 0) continue;
        if (rp__same(&out, &in)) {
            snprintf(why, cap, "%s is also the input %s: not overwritten, even with --force", path,
                     inputs[i]);
            return -1;
        }
    }
    if (!force) {
        snprintf(why, cap, "%s exists: not overwritten (use -f/--force to replace it)", path);
        return -1;
    }
    if (S_ISDIR(out.st_mode)) {
        snprintf(why, cap, "%s is a directory", path);
        return -1;
    }
    return 0;
}

int rp_outfile_open(rp_outfile *o, const char *path, bool force, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->force = force;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    size_t n = strlen(path) + 16;
    if (!(o->tmp = malloc(n))) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(o->tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "wb"))) {
        snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
        close(fd);
        rp_outfile_abort(o);
        return -1;
    }
    return 0;
}

/* Renames tmp to path, refusing an existing path unless force. @return 0 or -1 (errno set). */
static int rp__place(const char *tmp, const char *path, bool force)
{
    if (force) return rename(tmp, path);
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    if (link(tmp, path) != 0) return -1;
    return unlink(tmp);
}

int rp_outfile_commit(rp_outfile *o, char *err, size_t errlen)
{
    if (!o->tmp) {
        if (o->f && fflush(o->f) != 0) {
            snprintf(err, errlen, "%s: write error: %s", o->path, strerror(errno));
            return -1;
        }
        return 0;
    }
    FILE *f = o->f;
    o->f = NULL;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        snprintf(err, errlen, "%s: write error: %s", o->path, strerror(errno));
        fclose(f);
        rp_outfile_abort(o);
        return -1;
    }
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write error: %s", o->path, strerror(errno));
        rp_outfile_abort(o);
        return -1;
    }
    if (rp__place(o->tmp, o->path, o->force) != 0) {
        if (errno == EEXIST)
            snprintf(err, errlen, "%s appeared while it was written: not replaced (use --force)",
                     o->path);
        else
            snprintf(err, errlen, "%s: cannot rename %s into place: %s", o->path, o->tmp,
                     strerror(errno));
        rp_outfile_abort(o);
        return -1;
    }
    free(o->tmp);
    o->tmp = NULL;
    return 0;
}

void rp_outfile_abort(rp_outfile *o)
{
    if (o->f && o->f != stdout) fclose(o->f);
    o->f = NULL;
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
    }
}
