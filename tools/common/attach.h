/* attach.h - attaching the shared-ring tools to a ring by name, waiting for it to appear */
#ifndef TL_ATTACH_H
#define TL_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringalloc/ring_shm.h"

/* tl_attach() : attaches to the ring `name` (a name in /dev/shm, or a path with a '/'), retrying
 * while it does not exist yet (RA_ENOENT) or its writer has not finished creating it
 * (RA_ENOTREADY), for up to wait_ns (0: one try), every few milliseconds. A backpressure ring is
 * attached as its consumer when `consumer` is true (else read-only, as any overwrite ring).
 * Stops early on a stop request (rp_stop_requested()).
 * @return RA_OK with *out set, or the last status of ra_ring_attach() (*out NULL). */
int tl_attach(ra_ring **out, const char *name, uint64_t wait_ns, bool consumer);

/* tl_ring_path() : the file of ring `name`: "/dev/shm/NAME", or name itself when it holds a '/'.
 * @return buf. */
const char *tl_ring_path(char *buf, size_t cap, const char *name);

#endif /* TL_ATTACH_H */
