/* ringalloc.h - umbrella header: version, status codes, and every module */
#ifndef RINGALLOC_RINGALLOC_H
#define RINGALLOC_RINGALLOC_H

#include "ringalloc/status.h"
#include "ringalloc/byteorder.h"
#include "ringalloc/ring.h"
#include "ringalloc/ring_shm.h"
#include "ringalloc/tickfile.h"
#include "ringalloc/pool.h"
#include "ringalloc/slab.h"
#include "ringalloc/arena.h"
#include "ringalloc/book.h"
#include "ringalloc/stats.h"
#include "ringalloc/ratrace.h"

#endif /* RINGALLOC_RINGALLOC_H */
