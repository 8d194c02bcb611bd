/* test_byteorder.c - byteorder.h: loads and stores at every alignment, against byte-by-byte values
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ringalloc/byteorder.h>

static const uint8_t bytes[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc};

static uint64_t by_hand(const uint8_t *p, unsigned n, int big)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 8 | p[big ? i : n - 1 - i];
    return v;
}

static void test_loads_any_alignment(void **state)
{
    (void)state;
    for (unsigned off = 0; off + 8 <= sizeof bytes; off++) {
        const uint8_t *p = bytes + off;
        assert_int_equal(ra_load_be16(p), by_hand(p, 2, 1));
        assert_int_equal(ra_load_be32(p), by_hand(p, 4, 1));
        assert_int_equal(ra_load_be48(p), by_hand(p, 6, 1));
        assert_int_equal(ra_load_be64(p), by_hand(p, 8, 1));
        assert_int_equal(ra_load_le16(p), by_hand(p, 2, 0));
        assert_int_equal(ra_load_le32(p), by_hand(p, 4, 0));
        assert_int_equal(ra_load_le64(p), by_hand(p, 8, 0));
    }
    assert_int_equal(ra_load_be16(bytes), 0x0123);
    assert_int_equal(ra_load_le32(bytes), 0x67452301u);
}

static void test_stores_round_trip(void **state)
{
    (void)state;
    uint8_t buf[16];
    for (unsigned off = 0; off < 8; off++) {
        memset(buf, 0xaa, sizeof buf);
        ra_store_be64(buf + off, 0x0123456789abcdefull);
        assert_memory_equal(buf + off, bytes, 8);
        assert_int_equal(buf[off + 8 < 16 ? off + 8 : 15], off + 8 < 16 ? 0xaa : buf[15]);
        ra_store_le64(buf + off, 0xefcdab8967452301ull);
        assert_memory_equal(buf + off, bytes, 8);
        ra_store_be48(buf + off, 0x0123456789abull);
        assert_memory_equal(buf + off, bytes, 6);
        ra_store_be32(buf + off, 0x01234567u);
        ra_store_le32(buf + off + 4, 0xefcdab89u);
        assert_memory_equal(buf + off, bytes, 8);
        ra_store_be16(buf + off, 0x0123);
        ra_store_le16(buf + off + 2, 0x6745);
        assert_memory_equal(buf + off, bytes, 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_any_alignment),
        cmocka_unit_test(test_stores_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
