/* attach.c - attaching the shared-ring tools to a ring by name, waiting for it to appear
 *
 * Design: a reader started before its writer (ringcat --wait) polls ra_ring_attach() every
 * TL__RETRY_NS; there is nothing to wait on before the file exists. Once attached, everything
 * else waits on the ring's futex (ra_reader_wait).
 */
#include "attach.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

#define TL__RETRY_NS 10000000u /* 10 ms between attempts */

const char *tl_ring_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s%s", strchr(name, '/') ? "" : "/dev/shm/", name);
    return buf;
}

/* One attempt; a backpressure ring again as its consumer when asked. */
static int tl__try(ra_ring **out, const char *name, bool consumer)
{
    int st = ra_ring_attach(out, name, 0);
    if (st != RA_OK || !consumer) return st;
    ra_shm_info info;
    if (ra_ring_shm_info(*out, &info) != RA_OK || !(info.flags & RA_RING_BACKPRESSURE)) return st;
    ra_ring_destroy(*out);
    *out = NULL;
    return ra_ring_attach(out, name, RA_ATTACH_CONSUMER);
}

int tl_attach(ra_ring **out, const char *name, uint64_t wait_ns, bool consumer)
{
    uint64_t deadline = rp_now_ns() + wait_ns;
    for (;;) {
        int st = tl__try(out, name, consumer);
        if (st != RA_ENOENT && st != RA_ENOTREADY) return st;
        if (rp_stop_requested() || rp_now_ns() >= deadline) return st;
        rp_sleep_ns(TL__RETRY_NS);
    }
}
