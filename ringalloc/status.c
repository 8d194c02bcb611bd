/* status.c - status names and the runtime version */
#include "ringalloc/status.h"

#define RA__STR2(x) #x
#define RA__STR(x)  RA__STR2(x)

RA_API const char *ra_strerror(int status)
{
    switch (status) {
#define RA__STATUS_CASE(name, value, text)                                                         \
    case value:                                                                                    \
        return #name ": " text;
        RA_STATUS_LIST(RA__STATUS_CASE)
#undef RA__STATUS_CASE
    default:
        return "unknown status";
    }
}

RA_API const char *ra_version_string(void)
{
    return RA__STR(RA_VERSION_MAJOR) "." RA__STR(RA_VERSION_MINOR) "." RA__STR(RA_VERSION_PATCH);
}

RA_API unsigned ra_version_number(void)
{
    return RA_VERSION_NUMBER;
}
