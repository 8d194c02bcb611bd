/* outfile.h - replay's output files: never over an input, never over a file unless forced, and
 * complete or absent */
#ifndef RP_OUTFILE_H
#define RP_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* An output being written: to a temporary file beside its name, renamed into place by
 * rp_outfile_commit(); or to stdout when the name is "-". */
typedef struct rp_outfile {
    FILE *f;          /* where to write (stdout for "-") */
    const char *path; /* the name asked for */
    char *tmp;        /* the temporary file, NULL for stdout */
    bool force;       /* the name may be replaced */
} rp_outfile;

/* rp_outfile_check() : whether path may be written: "-" (stdout) always; otherwise not when it
 * names one of the inputs (the same file after symlinks and hard links: device and inode, and
 * stdin's file for an input "-"), even when forced, and not when it exists unless force.
 * @return 0, or -1 with the reason in why (naming path). */
int rp_outfile_check(const char *path, bool force, const char *const *inputs, size_t ninputs,
                     char *why, size_t cap);

/* rp_outfile_open() : starts writing path: creates "<path>.tmp.XXXXXX" in the same directory
 * (mode 0666 minus the umask), or takes stdout for "-".
 * @return 0 with o->f ready, or -1 with a message naming the file in err. */
int rp_outfile_open(rp_outfile *o, const char *path, bool force, char *err, size_t errlen);

/* rp_outfile_commit() : flushes and closes the temporary file and renames it to path (without
 * force, only if path still does not exist: a file created meanwhile is left alone). For stdout,
 * only flushes.
 * @return 0, or -1 with a message in err (the temporary file is then removed). */
int rp_outfile_commit(rp_outfile *o, char *err, size_t errlen);

/* rp_outfile_abort() : closes and removes the temporary file (for stdout: nothing). Safe on a
 * zeroed or already committed rp_outfile. */
void rp_outfile_abort(rp_outfile *o);

#endif /* RP_OUTFILE_H */
