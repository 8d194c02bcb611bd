/* status.h - ringalloc version, export macro and status codes */
#ifndef RINGALLOC_STATUS_H
#define RINGALLOC_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#define RA_VERSION_MAJOR  0
#define RA_VERSION_MINOR  1
#define RA_VERSION_PATCH  0
#define RA_VERSION_NUMBER (RA_VERSION_MAJOR * 10000 + RA_VERSION_MINOR * 100 + RA_VERSION_PATCH)

/* RA_API marks the exported symbols; everything else in libringalloc.so is hidden. */
#if defined(RA_BUILDING_LIB) && defined(__GNUC__)
#define RA_API __attribute__((visibility("default")))
#else
#define RA_API
#endif

/* The status list, one X-macro so that the enum and ra_strerror() never drift.
 * X(name, value, text). Positive values are informational, negative are errors. */
#define RA_STATUS_LIST(X)                                                                          \
    X(RA_OK, 0, "success")                                                                         \
    X(RA_EMPTY, 1, "nothing to read")                                                              \
    X(RA_LAPPED, 2, "reader was overtaken by the producer; see its lost count")                    \
    X(RA_CLOSED, 3, "end of stream: the writer closed the ring after the last message")            \
    X(RA_EINVAL, -1, "invalid argument")                                                           \
    X(RA_ENOMEM, -2, "out of memory")                                                              \
    X(RA_EFULL, -3, "ring is full (backpressure)")                                                 \
    X(RA_ETOOBIG, -4, "message or request too big")                                                \
    X(RA_EIO, -5, "input/output error")                                                            \
    X(RA_EFORMAT, -6, "unrecognised or unsupported format")                                        \
    X(RA_ECORRUPT, -7, "corrupt data")                                                             \
    X(RA_EVERSION, -8, "unsupported format or layout version")                                     \
    X(RA_ETRUNC, -9, "input truncated")                                                            \
    X(RA_EDEAD, -10, "the ring's writer died without closing it")                                  \
    X(RA_ETIMEDOUT, -11, "timed out")                                                              \
    X(RA_EEXIST, -12, "a ring of that name already exists")                                        \
    X(RA_ENOENT, -13, "no ring of that name")                                                      \
    X(RA_EPERM, -14, "permission denied")                                                          \
    X(RA_ENOSPC, -15, "no space left for the ring (shared memory full)")                           \
    X(RA_ENOTREADY, -16, "the ring is still being created by its writer")

#define RA__STATUS_ENUM(name, value, text) name = value,
typedef enum ra_status { RA_STATUS_LIST(RA__STATUS_ENUM) } ra_status;
#undef RA__STATUS_ENUM

/*! ra_strerror() : names a status code.
 * @return a static string; never NULL ("unknown status" for values not in the list). */
RA_API const char *ra_strerror(int status);

/*! ra_version_string() : the library's runtime version, "MAJOR.MINOR.PATCH".
 * @return a static string; compare with RA_VERSION_* to detect header/library skew. */
RA_API const char *ra_version_string(void);

/*! ra_version_number() : RA_VERSION_NUMBER of the library actually linked. */
RA_API unsigned ra_version_number(void);

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_STATUS_H */
