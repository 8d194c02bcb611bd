/* argv.h - tests: a writable argv from a NULL-terminated list of words, for option parsers */
#ifndef TESTS_SUPPORT_ARGV_H
#define TESTS_SUPPORT_ARGV_H

#include <string.h>

#define TEST_ARGV_MAX  16
#define TEST_ARGV_WORD 64

/* test_argv() : copies words (NULL-terminated, at most TEST_ARGV_MAX, each shorter than
 * TEST_ARGV_WORD) into static storage: getopt_long permutes argv, and parsed options keep
 * pointers into it, so a parser gets its own copy. The copy lasts until the next call.
 * @return argc, with *argv set (NULL-terminated); -1 when the words do not fit. */
static inline int test_argv(const char *const *words, char ***argv)
{
    static char store[TEST_ARGV_MAX][TEST_ARGV_WORD];
    static char *av[TEST_ARGV_MAX + 1];
    int argc = 0;
    for (; words[argc]; argc++) {
        if (argc >= TEST_ARGV_MAX || strlen(words[argc]) >= TEST_ARGV_WORD) return -1;
        strcpy(store[argc], words[argc]);
        av[argc] = store[argc];
    }
    av[argc] = NULL;
    *argv = av;
    return argc;
}

#endif /* TESTS_SUPPORT_ARGV_H */
