/* forkexec.c - forks children that exec other programs, the way shells and build tools do */
/*
 * usage: forkexec   runs "sort" on three words through fork + exec, then "sh -c 'echo ...'"
 * through posix_spawn (system()), and prints what it got. Output is the same traced or not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char *words = strdup("pear\napple\nfig\n");
    int in[2], out[2];
    if (!words || pipe(in) || pipe(out)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("sort", "sort", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (write(in[1], words, strlen(words)) < 0) return 1;
    close(in[1]);
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    int st;
    waitpid(pid, &st, 0);
    printf("sorted:\n%s", buf);
    fflush(stdout);
    int rc = system("echo from-system");
    free(words);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 && rc == 0 ? 0 : 1;
}
