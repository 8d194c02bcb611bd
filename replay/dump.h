/* dump.h - one text line per message: the byte-exact view that `replay info --dump` and ringcat
 * print */
#ifndef RP_DUMP_H
#define RP_DUMP_H

#include <stdint.h>
#include <stdio.h>

/* rp_dump_line() : writes "D <stream> <seq> <ts_ns> <type> <len> <payload hex>" without the
 * newline (type as 0x%04x, 0xffff for untyped; hex lowercase, two digits a byte).
 * @return 0, or -1 when a write failed. */
int rp_dump_line(FILE *f, uint32_t stream, uint64_t seq, uint64_t ts_ns, unsigned type,
                 const uint8_t *data, uint32_t len);

#endif /* RP_DUMP_H */
