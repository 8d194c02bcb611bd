/* edge.c - allocation edge cases that must behave the same traced and untraced */
/*
 * usage: edge   exit status 0 when: realloc(p, 0) frees p and returns NULL, realloc(NULL, 0)
 * returns a block, impossible sizes fail with ENOMEM (malloc, calloc, realloc, the block kept),
 * blocks are 16-byte aligned, aligned_alloc's alignment holds through realloc, and
 * malloc_usable_size covers the size asked for. Prints "edge 0" (or 1) through stdio.
 */
#include <errno.h>
#include <stdint.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* volatile: the compiler must not see the impossible sizes */
static volatile size_t huge = (size_t)1 << 62, half = (size_t)1 << 40;

int main(void)
{
    int bad = 0;
    char *p = malloc(10);
    bad |= malloc_usable_size(p) < 10;
    p = realloc(p, 0);
    bad |= p != NULL;
    p = realloc(NULL, 0);
    bad |= p == NULL;
    free(p);
    errno = 0;
    p = malloc(huge);
    bad |= p != NULL || errno != ENOMEM;
    p = calloc(half, half);
    bad |= p != NULL;
    p = malloc(100);
    memset(p, 7, 100);
    char *q = realloc(p, huge);
    bad |= q != NULL || p[99] != 7;
    free(p);
    void *a = aligned_alloc(64, 128);
    bad |= ((uintptr_t)a & 63) != 0;
    a = realloc(a, 4096);
    free(a);
    p = malloc(33);
    bad |= ((uintptr_t)p & 15) != 0;
    free(p);
    printf("edge %d\n", bad);
    return bad;
}
