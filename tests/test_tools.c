/* test_tools.c - the pure parts of the shared-ring tools: ringstat's rates, lags, ages and
 * Prometheus labels, the tools' option tables, and the dump line that ringcat shares with
 * `replay info --dump` */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"
#include "dump.h"
#include "output.h"
#include "sample.h"
#include "support/argv.h"

static void test_rates(void **state)
{
    (void)state;
    ra_ring_stats a = {.published = 1000, .published_bytes = 3000000};
    ra_ring_stats b = {.published = 3000, .published_bytes = 7000000};
    double msgs = -1, mb = -1;
    rs_rates(&a, &b, 500000000u, &msgs, &mb); /* 2000 messages, 4 MB in 0.5 s */
    assert_true(msgs > 3999.999 && msgs < 4000.001);
    assert_true(mb > 7.999 && mb < 8.001);
    rs_rates(&a, &b, 0, &msgs, &mb); /* no time: no rate */
    assert_true(msgs == 0 && mb == 0);
    rs_rates(&b, &a, 1000000000u, &msgs, &mb); /* counters went back: a new ring */
    assert_true(msgs == 0 && mb == 0);
}

static void test_lag_and_age(void **state)
{
    (void)state;
    assert_int_equal(rs_lag(100, 40), 60);
    assert_int_equal(rs_lag(100, 100), 0);
    assert_int_equal(rs_lag(100, 120), 0); /* a position read after the ring's counter */
    assert_int_equal(rs_age(5000, 2000), 3000);
    assert_int_equal(rs_age(2000, 5000), 0);
}

/* What fn writes to a memory stream, NUL-terminated (caller frees). */
static char *captured(void (*fn)(FILE *, const char *), const char *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, arg);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_prom_label(void **state)
{
    (void)state;
    char *s = captured(rs_prom_label, "a\"b\\c\nd e");
    assert_string_equal(s, "a\\\"b\\\\c\\nd e");
    free(s);
    s = captured(rs_prom_label, "");
    assert_string_equal(s, "");
    free(s);
}

static void dump_abc(FILE *f, const char *arg)
{
    const uint8_t data[] = {0x41, 0x00, 0xff, 0x10};
    assert_int_equal(rp_dump_line(f, 3, 42, 1700000000123456789ull, 0x41, data, 4), 0);
    (void)arg;
}

static void dump_empty(FILE *f, const char *arg)
{
    assert_int_equal(rp_dump_line(f, 0, 0, 0, 0xffff, NULL, 0), 0);
    (void)arg;
}

static void test_dump_line(void **state)
{
    (void)state;
    char *s = captured(dump_abc, NULL);
    assert_string_equal(s, "D 3 42 1700000000123456789 0x0041 4 4100ff10");
    free(s);
    s = captured(dump_empty, NULL);
    assert_string_equal(s, "D 0 0 0 0xffff 0 ");
    free(s);
}

/* A tool's table for the parser tests. */
typedef struct t_ctx {
    uint64_t wait_ns;
    int flag;
} t_ctx;

static int t_wait(void *ctx, const char *a)
{
    return tl_parse_seconds(a, 0, 10, &((t_ctx *)ctx)->wait_ns);
}
static int t_flag(void *ctx, const char *a)
{
    (void)a;
    ((t_ctx *)ctx)->flag++;
    return 0;
}

static const tl_opt t_opts[] = {
    {"wait", 0, "S", t_wait, "seconds", "wait S seconds"},
    {"flag", 'f', NULL, t_flag, NULL, "a flag\nover two lines"},
    {"help", 'h', NULL, NULL, NULL, "this help"},
};
static const tl_cli t_cli = {.prog = "t",
                             .usage = "t [OPTIONS] NAME",
                             .intro = "Intro.\n",
                             .outro = "Outro.\n",
                             .opts = t_opts,
                             .nopts = 3};

static int t_parse(t_ctx *c, int *first, const char **words)
{
    char **argv;
    int argc = test_argv(words, &argv);
    assert_true(argc >= 0);
    memset(c, 0, sizeof(*c));
    return tl_cli_parse(&t_cli, argc, argv, c, first);
}

static void test_cli(void **state)
{
    (void)state;
    t_ctx c;
    int first = -1;
    assert_int_equal(t_parse(&c, &first, (const char *[]){"t", "--wait", "0.25", "-f", "N", NULL}),
                     TL_CLI_GO);
    assert_true(c.wait_ns == 250000000u);
    assert_int_equal(c.flag, 1);
    assert_int_equal(first, 4);
    assert_int_equal(t_parse(&c, &first, (const char *[]){"t", "--wait", "0", "N", NULL}),
                     TL_CLI_GO);
    assert_true(c.wait_ns == 0);
    assert_int_equal(t_parse(&c, &first, (const char *[]){"t", "--wait", "11", NULL}),
                     TL_CLI_USAGE);
    assert_int_equal(t_parse(&c, &first, (const char *[]){"t", "--wait", "-1", NULL}),
                     TL_CLI_USAGE);
    assert_int_equal(t_parse(&c, &first, (const char *[]){"t", "--wait", NULL}), TL_CLI_USAGE);
    assert_int_equal(t_parse(&c, &first, (const char *[]){"t", "--nope", NULL}), TL_CLI_USAGE);
    uint64_t ns = 7;
    assert_int_equal(tl_parse_seconds("1e400", 0, 1e9, &ns), -1);
    assert_int_equal(tl_parse_seconds("nan", 0, 1e9, &ns), -1);
    assert_true(ns == 7);
}

static void help_of(FILE *f, const char *arg)
{
    (void)arg;
    tl_cli_help(&t_cli, f);
}

static void test_help(void **state)
{
    (void)state;
    char *s = captured(help_of, NULL);
    assert_non_null(strstr(s, "usage: t [OPTIONS] NAME\n"));
    assert_non_null(strstr(s, "  --wait S"));
    assert_non_null(strstr(s, "  -f, --flag"));
    assert_non_null(strstr(s, "over two lines\n"));
    assert_non_null(strstr(s, "Outro.\n"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),      cmocka_unit_test(test_lag_and_age),
        cmocka_unit_test(test_prom_label), cmocka_unit_test(test_dump_line),
        cmocka_unit_test(test_cli),        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
