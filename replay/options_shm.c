/* options_shm.c - replay's shared-ring options (--shm and its company): value parsers
 *
 * The rows of these options sit in the one option table of options.c, like every other option;
 * their parsers live here. Any of them but --shm marks shm_set, which rp__check() refuses
 * without --shm.
 */
#include "options.h"

#include <stdlib.h>
#include <string.h>

int rp_opt_shm(rp_opts *o, const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n > 200 || strchr(a, '/') || strcmp(a, ".") == 0 || strcmp(a, "..") == 0)
        return -1;
    o->run.shm_name = a;
    return 0;
}

int rp_opt_shm_dir(rp_opts *o, const char *a)
{
    if (!*a) return -1;
    o->run.shm_dir = a;
    o->shm_set = true;
    return 0;
}

int rp_opt_shm_mode(rp_opts *o, const char *a)
{
    char *end;
    unsigned long v = strtoul(a, &end, 8);
    if (!*a || *end || a[0] == '-' || a[0] == '+' || v == 0 || v > 0777) return -1;
    o->run.shm_mode = (unsigned)v;
    o->shm_set = true;
    return 0;
}

int rp_opt_shm_replace(rp_opts *o, const char *a)
{
    (void)a;
    o->run.shm_replace = o->shm_set = true;
    return 0;
}

int rp_opt_unlink(rp_opts *o, const char *a)
{
    (void)a;
    o->run.shm_unlink = o->shm_set = true;
    return 0;
}
