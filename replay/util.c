/* util.c - replay's small shared helpers: clock, number parsing, byte formatting, the stop flag
 *
 * The stop flag is one lock-free atomic_int: a signal handler may store it, and every loop that
 * honours a stop (the producer, convert's copy loop, the producer's paced sleeps) loads it
 * relaxed. It is a request that orders nothing.
 */
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

atomic_int rp_stop_flag;

static uint64_t rp__clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rp_now_ns(void)
{
    return rp__clock_ns(CLOCK_MONOTONIC);
}

uint64_t rp_realtime_ns(void)
{
    return rp__clock_ns(CLOCK_REALTIME);
}

void rp_sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

unsigned rp_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

/* Digits at *s accumulated into *v. @return the first non-digit, or NULL on overflow. */
static const char *rp__digits(const char *s, uint64_t *v)
{
    *v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (*v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) return NULL;
        *v = *v * 10 + (uint64_t)(*s - '0');
    }
    return s;
}

int rp_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !(*s >= '0' && *s <= '9')) return -1;
    uint64_t v;
    const char *end = rp__digits(s, &v);
    if (!end || *end != '\0') return -1;
    *out = v;
    return 0;
}

int rp_parse_positive(const char *s, double *out)
{
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.')) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || !(v > 0)) return -1;
    *out = v;
    return 0;
}

int rp_parse_size(const char *text, uint64_t *out)
{
    if (!text || !(*text >= '0' && *text <= '9')) return -1;
    uint64_t v;
    const char *p = rp__digits(text, &v);
    if (!p) return -1;
    static const char suffixes[] = "KMGT";
    unsigned shift = 0;
    if (*p) {
        const char *k = strchr(suffixes, *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        if (!k || p[1] != '\0') return -1;
        shift = 10u * (unsigned)(k - suffixes + 1);
    }
    if (shift && v > (UINT64_MAX >> shift)) return -1;
    *out = v << shift;
    return 0;
}

void rp_fmt_bytes(char *buf, size_t cap, double b)
{
    if (b >= 1e9)
        snprintf(buf, cap, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, cap, "%.1f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(buf, cap, "%.1f kB", b / 1e3);
    else
        snprintf(buf, cap, "%.0f B", b);
}

void rp_draw_progress(const char *prefix, uint64_t done, uint64_t total, uint64_t msgs, double secs)
{
    double rate = secs > 0 ? (double)done / secs : 0;
    char d[32], t[32], r[32];
    rp_fmt_bytes(d, sizeof(d), (double)done);
    rp_fmt_bytes(r, sizeof(r), rate);
    if (total) {
        rp_fmt_bytes(t, sizeof(t), (double)total);
        double pct = 100.0 * (double)done / (double)total;
        if (pct > 100) pct = 100;
        double eta = rate > 0 && total > done ? (double)(total - done) / rate : 0;
        fprintf(stderr, "\r%s%s / %s  %5.1f%%  %" PRIu64 " msgs  %s/s  ETA %.0fs\033[K", prefix, d,
                t, pct, msgs, r, eta);
    } else {
        fprintf(stderr, "\r%s%s  %" PRIu64 " msgs  %s/s\033[K", prefix, d, msgs, r);
    }
    fflush(stderr);
}

bool rp_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void rp_note_name(char *list, size_t cap, const char *name)
{
    if (!name || !*name) return;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) return;
        p = e ? e + 1 : p + len;
    }
    size_t used = strlen(list);
    if (used + (used ? 1 : 0) + n + 1 > cap) return;
    if (used) list[used++] = ',';
    memcpy(list + used, name, n + 1);
}

void rp_note_warning(char *buf, size_t cap, const char *path, const char *what)
{
    size_t used = strlen(buf);
    if (used + 1 >= cap) return;
    snprintf(buf + used, cap - used, "warning: %s: %s\n", path, what);
}

void rp_print_lines(const char *prog, const char *text)
{
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        fprintf(stderr, "%s: %.*s\n", prog, n, p);
        p = e ? e + 1 : p + n;
    }
}

static void rp__on_signal(int sig)
{
    (void)sig;
    rp_stop_request();
}

void rp_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = rp__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void rp_stop_request(void)
{
    atomic_store_explicit(&rp_stop_flag, 1, memory_order_relaxed); /* a request; orders nothing */
}

const char *rp_shm_path(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir ? dir : "/dev/shm", name);
    return buf;
}
