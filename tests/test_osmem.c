/* test_osmem.c - the OS-memory layer: heap, huge pages and their fallback, prefault, caller memory
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"
#include "osmem.h"

#define MIB (1024u * 1024u)

/* The tests ask for impossible sizes and expect the failure libc gives; the sanitizers'
 * allocators abort on such requests unless told to fail them the same way. */
const char *__asan_default_options(void);
const char *__tsan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
const char *__tsan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* HugePages_Free of /proc/meminfo: -1 when unknown. */
static long huge_pages_free(void)
{
    long n = -1;
    char line[256];
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "HugePages_Free: %ld", &n) == 1) break;
    fclose(f);
    return n;
}

/* Copies the VmFlags line of the mapping of /proc/self/smaps that holds p; false if none. */
static bool vm_flags(const void *p, char *out, size_t cap)
{
    char line[512];
    bool in = false;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) return false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            size_t n = strlen(line + 8) < cap ? strlen(line + 8) : cap - 1;
            memcpy(out, line + 8, n);
            out[n] = '\0';
            fclose(f);
            return true;
        }
    }
    fclose(f);
    return false;
}

/* The two-letter flag `fl` is in a VmFlags line. */
static bool has_vm_flag(const char *flags, const char *fl)
{
    for (const char *s = flags; (s = strstr(s, fl)) != NULL; s++)
        if ((s == flags || s[-1] == ' ') && (s[2] == ' ' || s[2] == '\n' || s[2] == '\0'))
            return true;
    return false;
}

/* How many of the pages of [p, p + len) (p page-aligned) are resident. */
static size_t resident_pages(void *p, size_t len)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = (len + pg - 1) / pg, k = 0;
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(mincore(p, len, vec), 0);
    for (size_t i = 0; i < n; i++) k += vec[i] & 1;
    free(vec);
    return k;
}

/* A fresh private mapping, untouched: no page of it is resident yet. */
static void *fresh_map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    assert_int_equal(resident_pages(p, len), 0);
    return p;
}

static void test_heap_alignment(void **state)
{
    (void)state;
    for (size_t align = 1; align <= RA__PAGE; align *= 2) {
        struct ra__region r;
        assert_true(ra__region_get(&r, 1000 + align, align, 0));
        assert_int_equal(r.kind, RA__REGION_HEAP);
        assert_int_equal(r.len, 1000 + align);
        assert_false(r.huge);
        assert_false(r.huge_fallback);
        size_t want = align < sizeof(void *) ? sizeof(void *) : align;
        assert_int_equal((uintptr_t)r.base % want, 0);
        memset(r.base, 0xab, r.len); /* all of it is ours (ASan/Valgrind check the bounds) */
        ra__region_put(&r);
        assert_int_equal(r.kind, RA__REGION_NONE);
        assert_null(r.base);
    }
    struct ra__region z;
    assert_true(ra__region_get(&z, 0, 16, 0)); /* len 0 still gets one usable byte */
    assert_non_null(z.base);
    assert_int_equal(z.len, 1);
    ((unsigned char *)z.base)[0] = 1;
    ra__region_put(&z);
    ra__region_put(&z); /* a NONE region: no-op */
    assert_int_equal(z.kind, RA__REGION_NONE);
}

static void test_too_large(void **state)
{
    (void)state;
    /* rounding to pages would wrap: refused, not a tiny mapping; then simply more than exists */
    const size_t lens[] = {SIZE_MAX - 64, SIZE_MAX / 2};
    for (size_t i = 0; i < 2; i++) {
        struct ra__region r;
        memset(&r, 0x5a, sizeof r);
        assert_false(ra__region_get(&r, lens[i], 64, RA__REGION_HUGE));
        assert_int_equal(r.kind, RA__REGION_NONE);
        assert_null(r.base);
    }
    struct ra__region h;
    memset(&h, 0x5a, sizeof h);
    assert_false(ra__region_get(&h, SIZE_MAX / 2, 64, 0)); /* (a "negative" size upsets Valgrind) */
    assert_int_equal(h.kind, RA__REGION_NONE);
    assert_null(h.base);
}

/* One huge request: counted once, as got or as fallback, and the region says which. */
static void check_huge(size_t len)
{
    struct ra__region_counts c0, c1;
    ra__region_get_counts(&c0);
    struct ra__region r;
    assert_true(ra__region_get(&r, len, 64, RA__REGION_HUGE));
    ra__region_get_counts(&c1);
    assert_int_equal(c1.huge_asked - c0.huge_asked, 1);
    assert_int_equal(c1.huge_got - c0.huge_got, r.huge ? 1 : 0);
    assert_int_equal(c1.huge_fallback - c0.huge_fallback, r.huge_fallback ? 1 : 0);
    assert_true(r.huge != r.huge_fallback);
    assert_int_equal(r.kind, RA__REGION_ANON);
    assert_true(r.len >= len);
    long free_huge = huge_pages_free();
    if (free_huge == 0) assert_true(r.huge_fallback); /* none reserved: it must fall back */
    char flags[256];
    assert_true(vm_flags(r.base, flags, sizeof flags));
    if (r.huge) {
        assert_int_equal(r.len % RA__HUGE_PAGE, 0);
        assert_int_equal((uintptr_t)r.base % RA__HUGE_PAGE, 0);
        assert_true(has_vm_flag(flags, "ht")); /* a hugetlb mapping */
    } else {
        assert_int_equal(r.len % RA__PAGE, 0);
        assert_true(r.len - len < RA__PAGE);
        /* a long fallback starts on a huge-page boundary, so THP can back all of it */
        if (len >= RA__HUGE_PAGE) assert_int_equal((uintptr_t)r.base % RA__HUGE_PAGE, 0);
        assert_false(has_vm_flag(flags, "ht"));
        /* advised for transparent huge pages (where the kernel has them) */
        if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0)
            assert_true(has_vm_flag(flags, "hg"));
    }
    memset(r.base, 0x11, r.len);
    ra__region_put(&r);
    assert_int_equal(r.kind, RA__REGION_NONE);
}

static void test_huge_or_counted_fallback(void **state)
{
    (void)state;
    check_huge(100);
    check_huge(RA__HUGE_PAGE + 1);
    check_huge(5 * MIB);
}

/* Users: each makes one object (huge pages asked or not), reports its stats' hugepages and
   hugepages_fallback (-1: the ring has no such field), and destroys it. */
static void pool_user(bool ask, bool *huge, int *fallback)
{
    ra_pool *p;
    ra_pool_config c = {.block_size = 64, .capacity = 100, .flags = ask ? RA_POOL_HUGEPAGES : 0};
    assert_int_equal(ra_pool_create(&p, &c), RA_OK);
    ra_pool_stats s;
    ra_pool_get_stats(p, &s);
    *huge = s.hugepages;
    *fallback = s.hugepages_fallback;
    ra_pool_destroy(p);
}

static void slab_user(bool ask, bool *huge, int *fallback)
{
    ra_slab *sl;
    ra_slab_config c = {.min_size = 16, .max_size = 256, .blocks_per_class = 64};
    c.flags = ask ? RA_POOL_HUGEPAGES : 0;
    assert_int_equal(ra_slab_create(&sl, &c), RA_OK);
    ra_slab_stats s;
    ra_slab_get_stats(sl, &s);
    *huge = s.hugepages;
    *fallback = s.hugepages_fallback;
    ra_slab_destroy(sl);
}

static void ring_user(bool ask, bool *huge, int *fallback)
{
    ra_ring *r;
    ra_ring_config c = {.capacity = 1u << 16, .flags = ask ? RA_RING_HUGEPAGES : 0};
    assert_int_equal(ra_ring_create(&r, &c), RA_OK);
    assert_int_equal(ra_ring_write(r, 1, 2, "x", 1), RA_OK);
    ra_ring_stats s;
    ra_ring_get_stats(r, &s);
    *huge = s.hugepages;
    *fallback = -1;
    ra_ring_destroy(r);
}

/* The users report what the layer got: their stats against its counts, with and without asking. */
static void test_users_report_huge(void **state)
{
    (void)state;
    void (*users[])(bool, bool *, int *) = {pool_user, slab_user, ring_user};
    for (size_t u = 0; u < sizeof users / sizeof users[0]; u++)
        for (int ask = 0; ask <= 1; ask++) {
            struct ra__region_counts c0, c1;
            bool huge;
            int fallback;
            ra__region_get_counts(&c0);
            users[u](ask, &huge, &fallback);
            ra__region_get_counts(&c1);
            assert_int_equal(c1.huge_asked - c0.huge_asked, ask);
            assert_int_equal(huge, c1.huge_got - c0.huge_got);
            if (fallback >= 0) assert_int_equal(fallback, c1.huge_fallback - c0.huge_fallback);
        }
}

static void test_prefault_backs_every_page(void **state)
{
    (void)state;
    const size_t len = 64 * RA__PAGE;
    unsigned char *a = fresh_map(len);
    ra__prefault(a + 100, len - 200); /* widened to whole pages */
    assert_int_equal(resident_pages(a, len), len / RA__PAGE);
    munmap(a, len);

    /* the portable loop alone does the same */
    unsigned char *b = fresh_map(len);
    ra__prefault_touch(b, len - 1);
    assert_int_equal(resident_pages(b, len), len / RA__PAGE);
    munmap(b, len);

    /* through the region: heap and mapping */
    struct ra__region r;
    assert_true(ra__region_get(&r, len, RA__PAGE, RA__REGION_PREFAULT));
    assert_int_equal(resident_pages(r.base, r.len), len / RA__PAGE);
    ra__region_put(&r);
    assert_true(ra__region_get(&r, len, RA__PAGE, RA__REGION_PREFAULT | RA__REGION_HUGE));
    assert_int_equal(resident_pages(r.base, r.len), (r.len + RA__PAGE - 1) / RA__PAGE);
    ra__region_put(&r);
}

static void test_prefault_keeps_contents(void **state)
{
    (void)state;
    const size_t len = 16 * RA__PAGE + 123;
    unsigned char *m = malloc(len);
    assert_non_null(m);
    for (size_t i = 0; i < len; i++) m[i] = (unsigned char)(i * 7 + 3);
    ra__prefault(m, len);
    ra__prefault_touch(m, len);
    for (size_t i = 0; i < len; i++) assert_int_equal(m[i], (unsigned char)(i * 7 + 3));
    free(m);
}

static void test_caller_memory(void **state)
{
    (void)state;
    const size_t len = 32 * RA__PAGE;
    unsigned char *m = fresh_map(len);
    memset(m, 0x77, RA__PAGE); /* one page resident and written */
    struct ra__region_counts c0, c1;
    ra__region_get_counts(&c0);
    struct ra__region r;
    ra__region_wrap(&r, m, len, RA__REGION_PREFAULT | RA__REGION_HUGE);
    ra__region_get_counts(&c1);
    assert_int_equal(c1.huge_asked, c0.huge_asked); /* huge is not asked of caller memory */
    assert_ptr_equal(r.base, m);
    assert_int_equal(r.len, len);
    assert_int_equal(r.kind, RA__REGION_CALLER);
    assert_false(r.huge);
    assert_false(r.huge_fallback);
    assert_int_equal(resident_pages(m, len), len / RA__PAGE);
    ra__region_put(&r); /* never released: the bytes stay and stay ours */
    assert_int_equal(r.kind, RA__REGION_NONE);
    for (size_t i = 0; i < RA__PAGE; i++) assert_int_equal(m[i], 0x77);
    m[len - 1] = 1;
    assert_int_equal(munmap(m, len), 0);

    ra__region_wrap(&r, m, len, 0); /* no prefault asked: nothing touched */
    assert_int_equal(r.kind, RA__REGION_CALLER);
    ra__region_put(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_alignment),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_huge_or_counted_fallback),
        cmocka_unit_test(test_users_report_huge),
        cmocka_unit_test(test_prefault_backs_every_page),
        cmocka_unit_test(test_prefault_keeps_contents),
        cmocka_unit_test(test_caller_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
