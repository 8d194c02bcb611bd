/* util.h - internal: fatal errors, object names and alignment arithmetic shared by the library */
#ifndef RINGALLOC_UTIL_H
#define RINGALLOC_UTIL_H

/* Prints "ringalloc: <message>" on stderr and aborts. */
__attribute__((noreturn, format(printf, 1, 2))) void ra__die(const char *fmt, ...);

/* Copies a name into a fixed buffer of RA_POOL_NAME_MAX + 1 bytes (dflt when NULL or empty),
 * cutting it at RA_POOL_NAME_MAX bytes. */
void ra__set_name(char *dst, const char *src, const char *dflt);

#define RA__IS_POW2(x)     ((x) != 0 && ((x) & ((x)-1)) == 0)
#define RA__ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))

#endif /* RINGALLOC_UTIL_H */
