/* tick_decoder.h - internal: what the tick file reader needs of the decoder beyond its API */
#ifndef RINGALLOC_TICK_DECODER_H
#define RINGALLOC_TICK_DECODER_H

#include <stdint.h>

#include "ringalloc/tickfile.h"

/* .rtk bytes the decoder has produced so far (parsed, gathered, or waiting to be parsed): where
 * a read error leaves the stream. */
uint64_t ra__tick_decoder_produced(const ra_tick_decoder *d);

#endif /* RINGALLOC_TICK_DECODER_H */
