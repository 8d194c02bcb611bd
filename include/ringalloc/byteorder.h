/* byteorder.h - unaligned big- and little-endian loads and stores for wire formats
 *
 * Exchange protocols mix byte orders: ITCH and MoldUDP64 are big-endian, IEX-TP, DBN and the
 * native tick file little-endian. These helpers read and write such fields at any alignment
 * through memcpy, which compilers turn into one load or store plus a byte swap where needed.
 * They are the one copy of this logic in the project; decoders embedding the ring may use them
 * too. All are static inline and have no failure mode: the caller guarantees the bytes exist.
 */
#ifndef RINGALLOC_BYTEORDER_H
#define RINGALLOC_BYTEORDER_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define RA__HOST_BE 1
#else
#define RA__HOST_BE 0
#endif

static inline uint16_t ra__bswap16(uint16_t v)
{
    return (uint16_t)(v << 8 | v >> 8);
}
static inline uint32_t ra__bswap32(uint32_t v)
{
    return __builtin_bswap32(v);
}
static inline uint64_t ra__bswap64(uint64_t v)
{
    return __builtin_bswap64(v);
}

/* loads: p points at the first byte of the field */
static inline uint16_t ra_load_le16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return RA__HOST_BE ? ra__bswap16(v) : v;
}
static inline uint32_t ra_load_le32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return RA__HOST_BE ? ra__bswap32(v) : v;
}
static inline uint64_t ra_load_le64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return RA__HOST_BE ? ra__bswap64(v) : v;
}
static inline uint16_t ra_load_be16(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return RA__HOST_BE ? v : ra__bswap16(v);
}
static inline uint32_t ra_load_be32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return RA__HOST_BE ? v : ra__bswap32(v);
}
static inline uint64_t ra_load_be64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return RA__HOST_BE ? v : ra__bswap64(v);
}
/* ITCH timestamps and similar fields: 6 bytes, big-endian */
static inline uint64_t ra_load_be48(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint64_t)ra_load_be16(b) << 32 | ra_load_be32(b + 2);
}

/* stores: p points at the first byte of the field */
static inline void ra_store_le16(void *p, uint16_t v)
{
    v = RA__HOST_BE ? ra__bswap16(v) : v;
    memcpy(p, &v, sizeof v);
}
static inline void ra_store_le32(void *p, uint32_t v)
{
    v = RA__HOST_BE ? ra__bswap32(v) : v;
    memcpy(p, &v, sizeof v);
}
static inline void ra_store_le64(void *p, uint64_t v)
{
    v = RA__HOST_BE ? ra__bswap64(v) : v;
    memcpy(p, &v, sizeof v);
}
static inline void ra_store_be16(void *p, uint16_t v)
{
    v = RA__HOST_BE ? v : ra__bswap16(v);
    memcpy(p, &v, sizeof v);
}
static inline void ra_store_be32(void *p, uint32_t v)
{
    v = RA__HOST_BE ? v : ra__bswap32(v);
    memcpy(p, &v, sizeof v);
}
static inline void ra_store_be64(void *p, uint64_t v)
{
    v = RA__HOST_BE ? v : ra__bswap64(v);
    memcpy(p, &v, sizeof v);
}
static inline void ra_store_be48(void *p, uint64_t v)
{
    uint8_t *b = (uint8_t *)p;
    ra_store_be16(b, (uint16_t)(v >> 32));
    ra_store_be32(b + 2, (uint32_t)v);
}

#ifdef __cplusplus
}
#endif
#endif /* RINGALLOC_BYTEORDER_H */
