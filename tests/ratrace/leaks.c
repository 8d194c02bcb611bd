/* leaks.c - a program with known leaks, for comparing ratrace's leak report with memcheck's */
/*
 * usage: leaks SCENARIO...   scenarios: plain thread realloc list reachable aligned running all
 * ("running" is not in "all": it exits while two threads still run, one of them holding a block
 * in a live local variable, both having lost one)
 * Each scenario loses blocks in its own way; the counts are not written here: the test
 * (tests/cli/ratrace_leaks.sh) compares ratrace's definitely lost count and bytes with
 * valgrind memcheck's on the same run. Pointers are dropped inside functions that return, and
 * main scrubs the dead stack below it before exiting, so that neither tool finds a stale copy.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
    struct node *next;
    char payload[40];
};

static void *volatile sink; /* keeps the compiler from dropping allocations */
/* volatile: stores to globals nothing reads would be optimised away */
char *volatile reachable_global;
struct node *volatile reachable_list;
char *volatile interior_global; /* points inside a block: memcheck's "possibly lost" */

static void plain(void)
{
    for (int i = 0; i < 5; i++) sink = malloc(100 + (size_t)i); /* 5 lost: 510 bytes */
    char *keep = malloc(64);
    free(keep);
    sink = calloc(7, 9);               /* lost: 63 */
    sink = strdup("leaked by strdup"); /* lost: 17 */
    sink = NULL;
}

static void *thread_main(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    for (size_t i = 0; i < n; i++) sink = malloc(32 * (i + 1));
    sink = NULL;
    return NULL;
}

static void threads(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(i + 2));
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
}

static void reallocs(void)
{
    char *p = malloc(10);
    for (size_t n = 20; n < 5000; n *= 3) p = realloc(p, n); /* lost at its last size */
    sink = p;
    char *q = malloc(4000);
    q = realloc(q, 16); /* shrunk, then lost */
    sink = q;
    char *r = malloc(50);
    r = realloc(r, 0); /* freed by glibc: no leak */
    sink = r;
    sink = reallocarray(NULL, 12, 10); /* lost: 120 */
    sink = NULL;
}

/* A lost list: its head is definitely lost, the rest indirectly. Then a lost two-block cycle. */
static void list(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 6; i++) {
        struct node *n = malloc(sizeof *n);
        n->next = head;
        head = n;
    }
    sink = head;
    struct node *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    a->next = b;
    b->next = a;
    sink = a;
    sink = NULL;
}

static void reachable(void)
{
    reachable_global = malloc(200);
    for (int i = 0; i < 3; i++) {
        struct node *n = malloc(sizeof *n);
        n->next = reachable_list;
        reachable_list = n;
    }
    char *p = malloc(300);
    interior_global = p + 100;
}

static void aligned(void)
{
    void *p = NULL;
    if (posix_memalign(&p, 1 << 20, 1000) == 0) sink = p; /* lost, 1 MiB aligned */
    sink = aligned_alloc(4096, 8192);                     /* lost */
    sink = memalign(256, 77);                             /* lost */
    sink = valloc(33);                                    /* lost */
    sink = NULL;
}

/* Overwrites the stack below the caller's frame, where dead frames were: memcheck ignores
 * their stale words (undefined), a scanner without definedness would not. */
static void scrub(void)
{
    volatile char buf[1 << 14];
    memset((char *)buf, 0, sizeof buf);
}

static pthread_barrier_t started;

static void *runner(void *arg)
{
    char *volatile held = malloc(100 + (size_t)(uintptr_t)arg); /* reachable: a live local */
    char *lost = malloc(64);                                    /* lost before exit */
    sink = lost;
    lost = NULL;
    sink = NULL;
    scrub();
    pthread_barrier_wait(&started);
    for (;;) pause();
    return held;
}

/* Exits with two threads blocked in pause(): their stacks and registers are roots. */
static void running(void)
{
    pthread_t t[2];
    pthread_barrier_init(&started, NULL, 3);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, runner, (void *)(uintptr_t)i);
    pthread_barrier_wait(&started);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int all = !strcmp(argv[i], "all");
        if (all || !strcmp(argv[i], "plain")) plain();
        if (all || !strcmp(argv[i], "thread")) threads();
        if (all || !strcmp(argv[i], "realloc")) reallocs();
        if (all || !strcmp(argv[i], "list")) list();
        if (all || !strcmp(argv[i], "reachable")) reachable();
        if (all || !strcmp(argv[i], "aligned")) aligned();
        if (!strcmp(argv[i], "running")) running();
    }
    scrub();
    printf("leaks: done\n");
    return 0;
}
