/* longrun.c - a long-running program for ratrace's snapshots (--report-signal, --interval) */
/*
 * usage: longrun PIDFILE STOPFILE
 * Writes its PID to PIDFILE (through a temporary name), then allocates and frees in a loop,
 * keeping LIVE blocks alive, until STOPFILE exists (at most 120 s); then frees everything and
 * exits 0 (1 when it timed out). Prints nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIVE 1000

static void *blocks[LIVE];

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: longrun PIDFILE STOPFILE\n");
        return 2;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) || rename(tmp, argv[1])) return 2;
    unsigned long round = 0;
    int stopped = 0;
    for (int tick = 0; tick < 12000 && !stopped; tick++) { /* 10 ms ticks */
        for (int i = 0; i < LIVE; i++, round++) {
            free(blocks[i]);
            blocks[i] = malloc(16 + round % 200);
            if (!blocks[i]) return 2;
            memset(blocks[i], 1, 16);
        }
        usleep(10 * 1000);
        stopped = access(argv[2], F_OK) == 0;
    }
    for (int i = 0; i < LIVE; i++) free(blocks[i]);
    return stopped ? 0 : 1;
}
