/* test_rp_options.c - replay's option table: sizes up to 1T, one parser per option everywhere,
 * and a --help per subcommand that lists only what it takes */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"
#include "support/argv.h"
#include "util.h"

#define TIB (UINT64_C(1) << 40)

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(rp_parse_size("1T", &v), 0);
    assert_true(v == TIB);
    assert_int_equal(rp_parse_size("1t", &v), 0);
    assert_true(v == TIB);
    assert_int_equal(rp_parse_size("1024T", &v), 0);
    assert_true(v == (UINT64_C(1) << 50));
    assert_int_equal(rp_parse_size("4K", &v), 0);
    assert_true(v == 4096);
    assert_int_equal(rp_parse_size("3g", &v), 0);
    assert_true(v == (UINT64_C(3) << 30));
    assert_int_equal(rp_parse_size("4096", &v), 0);
    assert_true(v == 4096);
    v = 7;
    assert_int_equal(rp_parse_size("16777216T", &v), -1); /* 2^24 * 2^40 overflows */
    assert_int_equal(rp_parse_size("1P", &v), -1);
    assert_int_equal(rp_parse_size("1TB", &v), -1);
    assert_int_equal(rp_parse_size("T", &v), -1);
    assert_int_equal(rp_parse_size("", &v), -1);
    assert_int_equal(rp_parse_size("-1K", &v), -1);
    assert_true(v == 7);
}

/* Parses the NULL-terminated words for cmd (argv[0] is the command), from a copy (argv.h). */
static int parse(rp_cmd cmd, rp_opts *o, const char **words)
{
    char **argv;
    int argc = test_argv(words, &argv);
    assert_true(argc >= 0);
    return rp_options_parse(cmd, argc, argv, o);
}

static void test_sizes_to_1t(void **state)
{
    (void)state;
    rp_opts o;
    assert_int_equal(
        parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--ring-size", "1T", "f", NULL}),
        RP_OPTS_GO);
    assert_true(o.run.ring_size == TIB);
    assert_int_equal(
        parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--ring-size", "512G", "f", NULL}),
        RP_OPTS_GO);
    assert_true(o.run.ring_size == TIB / 2);
    assert_int_equal(
        parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--ring-size", "2T", "f", NULL}),
        RP_OPTS_USAGE);
    assert_int_equal(
        parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--ring-size", "3M", "f", NULL}),
        RP_OPTS_USAGE);
    const char *conv[] = {
        "convert", "--frame-size", "1T", "in", "-o", "/nonexistent-dir-of-test/x.rtk", NULL};
    assert_int_equal(parse(RP_CMD_CONVERT, &o, conv), RP_OPTS_GO);
    assert_true(o.frame_size == TIB);
    conv[2] = "2T";
    assert_int_equal(parse(RP_CMD_CONVERT, &o, conv), RP_OPTS_USAGE);
}

static void test_framing_everywhere(void **state)
{
    (void)state;
    rp_opts o;
    assert_int_equal(
        parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--framing", "iex-tp", "f", NULL}),
        RP_OPTS_GO);
    assert_int_equal(o.src.framing, RP_FRAMING_IEXTP);
    assert_int_equal(
        parse(RP_CMD_INFO, &o, (const char *[]){"info", "--framing", "iex-tp", "f", NULL}),
        RP_OPTS_GO);
    assert_int_equal(o.src.framing, RP_FRAMING_IEXTP);
    assert_int_equal(parse(RP_CMD_CONVERT, &o,
                           (const char *[]){"convert", "--framing", "iex-tp", "f", "-o",
                                            "/nonexistent-dir-of-test/x.rtk", NULL}),
                     RP_OPTS_GO);
    assert_int_equal(o.src.framing, RP_FRAMING_IEXTP);
    assert_int_equal(
        parse(RP_CMD_GEN, &o, (const char *[]){"gen", "--framing", "iextp", "-o", "-", NULL}),
        RP_OPTS_USAGE);
}

static char *help_of(rp_cmd cmd)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    rp_options_help(cmd, f);
    fclose(f);
    return buf;
}

/* --shm NAME and its companions: names are plain file names, modes octal permission bits, and
 * the companions need --shm. */
static void test_shm_options(void **state)
{
    (void)state;
    rp_opts o;
    assert_int_equal(parse(RP_CMD_REPLAY, &o,
                           (const char *[]){"replay", "--shm", "feed1", "--shm-mode", "0640",
                                            "--shm-replace", "--unlink", "f", NULL}),
                     RP_OPTS_GO);
    assert_string_equal(o.run.shm_name, "feed1");
    assert_int_equal(o.run.shm_mode, 0640);
    assert_true(o.run.shm_replace && o.run.shm_unlink);
    assert_int_equal(parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "f", NULL}), RP_OPTS_GO);
    assert_null(o.run.shm_name);
    assert_false(o.run.shm_replace || o.run.shm_unlink);
    const char *bad_names[] = {"", "a/b", ".", "..", NULL};
    for (size_t i = 0; bad_names[i]; i++)
        assert_int_equal(
            parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--shm", bad_names[i], "f", NULL}),
            RP_OPTS_USAGE);
    const char *bad_modes[] = {"0", "8", "1000", "-1", "rw", "", NULL};
    for (size_t i = 0; bad_modes[i]; i++)
        assert_int_equal(
            parse(RP_CMD_REPLAY, &o,
                  (const char *[]){"replay", "--shm", "x", "--shm-mode", bad_modes[i], "f", NULL}),
            RP_OPTS_USAGE);
    assert_int_equal(parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--unlink", "f", NULL}),
                     RP_OPTS_USAGE);
    assert_int_equal(
        parse(RP_CMD_REPLAY, &o, (const char *[]){"replay", "--shm-replace", "f", NULL}),
        RP_OPTS_USAGE);
    assert_int_equal(parse(RP_CMD_INFO, &o, (const char *[]){"info", "--shm", "x", "f", NULL}),
                     RP_OPTS_USAGE);
}

static void test_help_per_subcommand(void **state)
{
    (void)state;
    char *replay = help_of(RP_CMD_REPLAY), *gen = help_of(RP_CMD_GEN);
    char *info = help_of(RP_CMD_INFO), *conv = help_of(RP_CMD_CONVERT);
    assert_non_null(strstr(replay, "--ring-size SIZE"));
    assert_non_null(strstr(replay, "--stats-csv FILE"));
    assert_null(strstr(replay, "--messages"));
    assert_null(strstr(replay, "--zstd"));
    assert_non_null(strstr(gen, "--messages N"));
    assert_null(strstr(gen, "--ring-size"));
    assert_null(strstr(gen, "--framing"));
    assert_non_null(strstr(info, "--dump"));
    assert_null(strstr(info, "--quiet"));
    assert_null(strstr(info, "--force"));
    assert_non_null(strstr(conv, "--frame-size SIZE"));
    assert_non_null(strstr(conv, "-f, --force"));
    assert_null(strstr(conv, "--readers"));
    free(replay);
    free(gen);
    free(info);
    free(conv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),          cmocka_unit_test(test_sizes_to_1t),
        cmocka_unit_test(test_framing_everywhere),  cmocka_unit_test(test_shm_options),
        cmocka_unit_test(test_help_per_subcommand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
