/* util.c - internal helpers shared by the library's modules: fatal errors, object names */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringalloc/pool.h" /* RA_POOL_NAME_MAX: the name buffers of every allocator */
#include "util.h"

void ra__die(const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ringalloc: %s\n", buf);
    fflush(stderr);
    abort();
}

void ra__set_name(char *dst, const char *src, const char *dflt)
{
    if (src == NULL || src[0] == '\0') src = dflt;
    size_t n = strlen(src);
    if (n > RA_POOL_NAME_MAX) n = RA_POOL_NAME_MAX;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
