/* entry.c - every allocation entry point, before main, in threads, across fork, at exit */
/*
 * usage: entry [exit|_exit|fork]   prints a checksum of what it did; exit status 0 when every
 * function behaved (alignment, errno, usable size), whether traced or not.
 *   exit  : ends with exit(0) from a nested function (default: return from main)
 *   _exit : ends with _exit(0), which runs no destructor (ratrace gets no report)
 *   fork  : a child allocates, leaks 123 bytes and exits; the parent waits
 *   wait FILE : waits (up to 120 s) until FILE, a report of this running process written by
 *           ratrace --interval, exists and says "final": false; exit status 1 if it never does
 * Under ratrace (api: ratrace.h) each thread checks its own allocation count exactly.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringalloc/ratrace.h"

#define THREADS 4
#define ROUNDS  1000

static char *early; /* allocated before main */
static void *volatile sink;
static int bad;

__attribute__((constructor)) static void before_main(void)
{
    early = malloc(1000);
    if (early) memset(early, 'e', 1000);
}

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    ra_trace_counters a, b;
    ra_trace_snapshot(&a);
    for (int i = 0; i < ROUNDS; i++) {
        char *p = malloc((size_t)(i % 300) + id);
        p = realloc(p, (size_t)(i % 700) + 1); /* one free + one allocation */
        char *q = calloc(3, (size_t)i + 1);
        free(p);
        free(q);
    }
    ra_trace_snapshot(&b);
    /* 3 allocations and 3 frees per round (realloc counts as both) */
    if (ra_trace_active() && (b.thread_allocs - a.thread_allocs != 3 * ROUNDS ||
                              b.thread_frees - a.thread_frees != 3 * ROUNDS))
        return (void *)1;
    return NULL;
}

static void check_aligned(void *p, size_t align, const char *what)
{
    if (!p || (uintptr_t)p % align) {
        fprintf(stderr, "entry: %s: %p not aligned to %zu\n", what, p, align);
        bad = 1;
    }
}

static void entry_points(void)
{
    void *p = NULL;
    if (posix_memalign(&p, (size_t)1 << 21, 5000)) bad = 1;
    check_aligned(p, (size_t)1 << 21, "posix_memalign 2 MiB");
    free(p);
    p = aligned_alloc((size_t)1 << 22, (size_t)1 << 22);
    check_aligned(p, (size_t)1 << 22, "aligned_alloc 4 MiB");
    free(p);
    p = memalign((size_t)1 << 16, 10);
    check_aligned(p, (size_t)1 << 16, "memalign 64 KiB");
    if (malloc_usable_size(p) < 10) bad = 1;
    free(p);
    p = valloc(100);
    check_aligned(p, 4096, "valloc");
    free(p);
    p = pvalloc(100);
    check_aligned(p, 4096, "pvalloc");
    if (malloc_usable_size(p) < 4096) bad = 1;
    free(p);
    volatile size_t huge = SIZE_MAX / 2; /* volatile: no compile-time overflow warning */
    errno = 0;
    sink = reallocarray(NULL, huge, 3);
    if (sink || errno != ENOMEM) bad = 1;
    sink = calloc(huge, 3);
    if (sink) bad = 1;
    p = reallocarray(NULL, 10, 10);
    p = realloc(p, 1 << 20);
    if (!p || malloc_usable_size(p) < (1 << 20)) bad = 1;
    free(p);
    free(NULL);
    sink = realloc(NULL, 0); /* a minimal block */
    free(sink);
}

static void fork_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        sink = malloc(123); /* leaked by the child */
        sink = NULL;
        char *s = strdup("child");
        free(s);
        exit(0);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) bad = 1;
}

/* ratrace --interval: the report of this process appears while it runs */
static void wait_for_snapshot(const char *path)
{
    char buf[4096];
    for (int i = 0; i < 1200; i++) {
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = 0;
        if (strstr(buf, "\"final\": false")) return;
        usleep(100 * 1000);
    }
    fprintf(stderr, "entry: no snapshot report in %s\n", path);
    bad = 1;
}

static void nested_exit(void)
{
    printf("entry: done %d\n", bad);
    exit(bad);
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "";
    if (!early || early[999] != 'e') bad = 1;
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        if (r) bad = 1;
    }
    entry_points();
    if (!strcmp(how, "fork")) fork_child();
    if (!strcmp(how, "wait") && argc > 2) wait_for_snapshot(argv[2]);
    free(early);
    if (!strcmp(how, "exit")) nested_exit();
    printf("entry: done %d\n", bad);
    fflush(stdout);
    if (!strcmp(how, "_exit")) _exit(bad);
    return bad;
}
