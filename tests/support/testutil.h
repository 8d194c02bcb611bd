/* testutil.h - tests: how long stress loops run (RA_TEST_SCALE, sanitizers, Valgrind) */
#ifndef TESTS_SUPPORT_TESTUTIL_H
#define TESTS_SUPPORT_TESTUTIL_H

#include <stdlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef ON_VALGRIND
#define ON_VALGRIND() 0
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif
#ifndef TEST_SANITIZED
#define TEST_SANITIZED 0
#endif

/* Under ASan or TSan stress loops run TEST_SCALE_SANITIZED times shorter, under Valgrind ten
 * times that; a test whose loops need another divisor defines it before including this file. */
#ifndef TEST_SCALE_SANITIZED
#define TEST_SCALE_SANITIZED 20u
#endif

/* What a stress test divides its iterations by: RA_TEST_SCALE when set (a positive integer),
 * else as above, 1 in a plain build. */
static inline unsigned scale(void)
{
    const char *e = getenv("RA_TEST_SCALE");
    if (e && atoi(e) > 0) return (unsigned)atoi(e);
    if (ON_VALGRIND()) return 10u * TEST_SCALE_SANITIZED;
    return TEST_SANITIZED ? TEST_SCALE_SANITIZED : 1u;
}

#endif /* TESTS_SUPPORT_TESTUTIL_H */
