/* main.c - ratrace: run a program with libringalloc-trace.so preloaded and report its allocations
 */
/*
 * ratrace makes a scratch directory, starts PROG with LD_PRELOAD naming the interposer (found
 * beside the ratrace binary, or --lib) and the options in RATRACE_* variables, and waits for it.
 * Every traced process writes DIR/PID.rtd at exit; afterwards ratrace reads each dump, resolves
 * its addresses and writes the reports: the program's to FILE, each child's to FILE.PID. The
 * exit status is the program's (128 + N when killed by signal N); with --fail-on-leak, 3 when the
 * program succeeded but a traced process leaked (suppressed leaks aside), 4 when the program's
 * report is missing (it ended by _exit or a signal, so nothing could be checked).
 */
#include "rt.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: ratrace [OPTIONS] [--] PROG [ARGS...]\n"
          "  --mode count|sample|full  what is recorded (default count: totals, no stacks)\n"
          "  --sample-bytes N          sample mode: mean bytes between samples (524288)\n"
          "  --depth N                 frames kept per stack (32, at most 128)\n"
          "  --unwind libunwind|fp     how stacks are taken (libunwind)\n"
          "  --json FILE               the report as JSON (children: FILE.PID)\n"
          "  --folded FILE             folded stacks, bytes allocated per stack\n"
          "  --svg FILE                flame graph of the bytes allocated per stack\n"
          "  --prometheus FILE         node_exporter textfile metrics\n"
          "  --fail-on-leak            exit 3 when anything was definitely lost\n"
          "  --suppress PATTERN        leaks whose stack has a frame matching PATTERN\n"
          "                            (substring or glob) do not count; repeatable\n"
          "  --no-follow-fork          trace only PROG's own process (exec is followed)\n"
          "  --top N                   hot spots listed per ranking (20)\n"
          "  --interval S              also rewrite the reports of running processes\n"
          "                            every S seconds (long-running programs, daemons)\n"
          "  --report-signal SIG       the program rewrites its reports when it gets SIG\n"
          "                            (USR2, SIGUSR2 or a number; sent to ratrace, it is\n"
          "                            passed on); none by default\n"
          "  --time                    time each call of the real allocator (per function:\n"
          "                            calls, nanoseconds, histogram)\n"
          "  --lib PATH                the interposer (default: beside ratrace)\n"
          "  --quiet                   no summary on stderr\n",
          f);
}

static int parse_num(const char *s, unsigned long long *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno || !*s || *end || *s == '-' ? -1 : 0;
}

enum {
    OPT_SAMPLE = 256,
    OPT_DEPTH,
    OPT_UNWIND,
    OPT_JSON,
    OPT_FOLDED,
    OPT_SVG,
    OPT_PROM,
    OPT_FAIL,
    OPT_SUPPRESS,
    OPT_NOFOLLOW,
    OPT_TOP,
    OPT_LIB,
    OPT_QUIET,
    OPT_MODE,
    OPT_HELP,
    OPT_INTERVAL,
    OPT_SIGNAL,
    OPT_TIME
};

/* "USR2", "SIGUSR2" or "12": @return the signal number, or -1 (also for KILL and STOP, which
 * cannot be caught). */
static int parse_signal(const char *s)
{
    unsigned long long v;
    int sig = -1;
    if (parse_num(s, &v) == 0) {
        sig = v >= 1 && v < 65 ? (int)v : -1;
    } else {
        if (!strncmp(s, "SIG", 3)) s += 3;
        for (int i = 1; i < 65 && sig < 0; i++) {
            const char *name = sigabbrev_np(i);
            if (name && !strcmp(name, s)) sig = i;
        }
    }
    return sig == SIGKILL || sig == SIGSTOP ? -1 : sig;
}

static int set_option(struct rt_options *o, int c, const char *arg)
{
    unsigned long long v;
    switch (c) {
    case OPT_MODE:
        if (strcmp(arg, "count") && strcmp(arg, "sample") && strcmp(arg, "full")) return -1;
        o->mode = arg;
        return 0;
    case OPT_SAMPLE:
        return parse_num(arg, &o->sample_bytes) || !o->sample_bytes ? -1 : 0;
    case OPT_DEPTH:
        return parse_num(arg, &o->depth) || !o->depth || o->depth > 128 ? -1 : 0;
    case OPT_UNWIND:
        if (strcmp(arg, "fp") && strcmp(arg, "libunwind")) return -1;
        o->unwind = arg;
        return 0;
    case OPT_JSON:
        o->json = arg;
        return 0;
    case OPT_FOLDED:
        o->folded = arg;
        return 0;
    case OPT_SVG:
        o->svg = arg;
        return 0;
    case OPT_PROM:
        o->prometheus = arg;
        return 0;
    case OPT_FAIL:
        o->fail_on_leak = 1;
        return 0;
    case OPT_NOFOLLOW:
        o->follow_fork = 0;
        return 0;
    case OPT_QUIET:
        o->quiet = 1;
        return 0;
    case OPT_TIME:
        o->time = 1;
        return 0;
    case OPT_LIB:
        o->lib = arg;
        return 0;
    case OPT_TOP:
        if (parse_num(arg, &v) || v > 100000) return -1;
        o->top = (int)v;
        return 0;
    case OPT_INTERVAL:
        if (parse_num(arg, &v) || !v || v > 86400) return -1;
        o->interval = (unsigned)v;
        return 0;
    case OPT_SIGNAL:
        o->report_signal = parse_signal(arg);
        return o->report_signal < 0 ? -1 : 0;
    case OPT_SUPPRESS: {
        const char **s = realloc(o->suppress, (o->nsuppress + 1) * sizeof *s);
        if (!s) return -1;
        o->suppress = s;
        s[o->nsuppress++] = arg;
        return 0;
    }
    default:
        return -1;
    }
}

/* @return the index of PROG in argv, or -1 after printing why. */
static int parse_args(int argc, char **argv, struct rt_options *o)
{
    static const struct option longs[] = {{"mode", required_argument, 0, OPT_MODE},
                                          {"sample-bytes", required_argument, 0, OPT_SAMPLE},
                                          {"depth", required_argument, 0, OPT_DEPTH},
                                          {"unwind", required_argument, 0, OPT_UNWIND},
                                          {"json", required_argument, 0, OPT_JSON},
                                          {"folded", required_argument, 0, OPT_FOLDED},
                                          {"svg", required_argument, 0, OPT_SVG},
                                          {"prometheus", required_argument, 0, OPT_PROM},
                                          {"fail-on-leak", no_argument, 0, OPT_FAIL},
                                          {"suppress", required_argument, 0, OPT_SUPPRESS},
                                          {"no-follow-fork", no_argument, 0, OPT_NOFOLLOW},
                                          {"top", required_argument, 0, OPT_TOP},
                                          {"lib", required_argument, 0, OPT_LIB},
                                          {"quiet", no_argument, 0, OPT_QUIET},
                                          {"help", no_argument, 0, OPT_HELP},
                                          {"interval", required_argument, 0, OPT_INTERVAL},
                                          {"report-signal", required_argument, 0, OPT_SIGNAL},
                                          {"time", no_argument, 0, OPT_TIME},
                                          {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        if (c == OPT_HELP || c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?' || set_option(o, c, optarg)) {
            if (c != '?') fprintf(stderr, "ratrace: bad value for an option: '%s'\n", optarg);
            usage(stderr);
            return -1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return -1;
    }
    return optind;
}

/* The interposer: --lib, else libringalloc-trace.so beside this binary, else ../lib/. */
static int find_lib(const struct rt_options *o, char *out, size_t cap)
{
    if (o->lib) return realpath(o->lib, out) ? 0 : -1;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = 0;
    const char *rel[] = {"/libringalloc-trace.so", "/../lib/libringalloc-trace.so"};
    for (int i = 0; i < 2; i++) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s%s", self, rel[i]);
        if (access(p, R_OK) == 0 && strlen(p) < cap) return realpath(p, out) ? 0 : -1;
    }
    return -1;
}

static pid_t snapshot_root; /* the program's PID, for report_snapshots() */

static void child_env(const struct rt_options *o, const char *lib, const char *dir)
{
    char buf[32];
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(lib) + (old ? strlen(old) + 2 : 1);
    char *pre = malloc(len);
    if (pre) {
        snprintf(pre, len, "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");
        setenv("LD_PRELOAD", pre, 1);
    }
    setenv("RATRACE_MODE", o->mode, 1);
    setenv("RATRACE_DUMP", dir, 1);
    setenv("RATRACE_FOLLOW_FORK", o->follow_fork ? "1" : "0", 1);
    setenv("RATRACE_UNWIND", o->unwind, 1);
    snprintf(buf, sizeof buf, "%llu", o->sample_bytes);
    setenv("RATRACE_SAMPLE_BYTES", buf, 1);
    snprintf(buf, sizeof buf, "%llu", o->depth);
    setenv("RATRACE_DEPTH", buf, 1);
    snprintf(buf, sizeof buf, "%d", (int)getpid());
    setenv("RATRACE_ROOT_PID", buf, 1);
    snprintf(buf, sizeof buf, "%u", o->interval);
    setenv("RATRACE_INTERVAL", buf, 1);
    snprintf(buf, sizeof buf, "%d", o->report_signal);
    setenv("RATRACE_REPORT_SIGNAL", buf, 1);
    setenv("RATRACE_TIME", o->time ? "1" : "0", 1);
}

/* Rewrites the reports from the snapshots of running processes (--interval, --report-signal):
 * each PID.snap is renamed away first (the process may write the next one meanwhile), then read
 * and reported: the program's to FILE, a child's to FILE.PID, until the exit reports. */
static void report_snapshots(const char *dir, const struct rt_options *o)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".snap")) continue;
        char path[PATH_MAX + 256], taken[PATH_MAX + 300], suffix[32];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(taken, sizeof taken, "%s.taken", path);
        if (rename(path, taken)) continue;
        struct rt_dump d;
        struct rt_outcome out;
        if (rt_dump_read(taken, &d) == 0) {
            snprintf(suffix, sizeof suffix, ".%d", (int)d.pid);
            rt_report(&d, o, d.pid == snapshot_root ? "" : suffix, &out);
        }
        rt_dump_free(&d);
        unlink(taken);
    }
    if (dh) closedir(dh);
}

/* --report-signal sent to ratrace: passed on to the program */
static volatile sig_atomic_t forward_to;
static void forward_signal(int sig)
{
    if (forward_to > 0) kill((pid_t)forward_to, sig);
}

/* Runs argv[0..] traced; @return its wait status, or -1. */
static int run(char **argv, const struct rt_options *o, const char *lib, const char *dir,
               pid_t *pid)
{
    *pid = fork();
    if (*pid < 0) return -1;
    snapshot_root = *pid;
    if (*pid == 0) {
        child_env(o, lib, dir);
        execvp(argv[0], argv);
        fprintf(stderr, "ratrace: %s: %s\n", argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    signal(SIGINT, SIG_IGN); /* the terminal's signals are the program's to handle */
    signal(SIGQUIT, SIG_IGN);
    if (o->report_signal) {
        forward_to = *pid;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = forward_signal;
        sa.sa_flags = SA_RESTART;
        sigaction(o->report_signal, &sa, NULL);
    }
    int polls = o->interval || o->report_signal, st;
    for (;;) {
        pid_t r = waitpid(*pid, &st, polls ? WNOHANG : 0);
        if (r == *pid) return st;
        if (r < 0 && errno != EINTR) return -1;
        if (!polls || r < 0) continue;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        report_snapshots(dir, o);
    }
}

/* Reports every dump in dir (removing it); @return 1 when the program's own dump was there. */
static int report_all(const char *dir, pid_t main_pid, const struct rt_options *o, int *leaked,
                      int *failed)
{
    DIR *dh = opendir(dir);
    int found = 0;
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".rtd")) { /* snapshots, temporary files */
            if (e->d_name[0] != '.') unlink(path);
            continue;
        }
        struct rt_dump d;
        if (rt_dump_read(path, &d)) {
            fprintf(stderr, "ratrace: %s: unreadable dump: %s\n", path, strerror(errno));
            *failed = 1;
        } else {
            char suffix[32] = "";
            if (d.pid != main_pid) snprintf(suffix, sizeof suffix, ".%d", (int)d.pid);
            found |= d.pid == main_pid;
            struct rt_outcome out;
            if (rt_report(&d, o, suffix, &out)) *failed = 1;
            if (out.leaks) *leaked = 1;
        }
        rt_dump_free(&d);
        unlink(path);
    }
    if (dh) closedir(dh);
    return found;
}

int main(int argc, char **argv)
{
    struct rt_options o = {.mode = "count",
                           .unwind = "libunwind",
                           .follow_fork = 1,
                           .top = 20,
                           .sample_bytes = 524288,
                           .depth = 32};
    int first = parse_args(argc, argv, &o);
    if (first < 0) return 2;
    char lib[PATH_MAX];
    if (find_lib(&o, lib, sizeof lib)) {
        fprintf(stderr, "ratrace: libringalloc-trace.so not found (give --lib PATH)\n");
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ratrace.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ratrace: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    pid_t pid;
    int st = run(argv + first, &o, lib, dir, &pid);
    int status = st < 0 ? 2 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (st < 0) fprintf(stderr, "ratrace: could not run %s: %s\n", argv[first], strerror(errno));
    int leaked = 0, failed = 0;
    int found = st >= 0 && report_all(dir, pid, &o, &leaked, &failed);
    rmdir(dir);
    free(o.suppress);
    if (st >= 0 && !found)
        fprintf(stderr,
                "ratrace: %s left no report (it ended by _exit, a signal, or exec of a "
                "program that cannot be traced)\n",
                argv[first]);
    if (status == 0 && o.fail_on_leak && leaked) return 3;
    if (status == 0 && o.fail_on_leak && !found) return 4;
    if (status == 0 && failed) return 2;
    return status;
}
