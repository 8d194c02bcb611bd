/* dump.c - read a PID.rtd dump written by libringalloc-trace.so (format: preload/report.c) */
#include "rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Appends one zeroed element to *arr (count *n, capacity *cap); @return it, or NULL. */
static void *grow(void *arr_p, size_t *n, size_t *cap, size_t elem)
{
    void **arr = arr_p;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        void *q = realloc(*arr, c * elem);
        if (!q) return NULL;
        *arr = q;
        *cap = c;
    }
    void *e = (char *)*arr + (*n)++ * elem;
    memset(e, 0, elem);
    return e;
}

static int parse_stack(struct rt_dump *d, char *p, size_t *cap)
{
    struct rt_stack *s = grow(&d->stacks, &d->nstacks, cap, sizeof *s);
    if (!s) return -1;
    uint64_t v[8];
    for (int i = 0; i < 8; i++) v[i] = strtoull(p, &p, 10);
    s->id = v[0];
    s->count = v[1];
    s->bytes = v[2];
    s->est_count = v[3];
    s->est_bytes = v[4];
    s->live = v[5];
    s->peak = v[6];
    if (v[7] > 4096) return -1;
    s->frames = malloc((v[7] ? v[7] : 1) * sizeof *s->frames);
    if (!s->frames) return -1;
    for (uint64_t i = 0; i < v[7]; i++) {
        char *end;
        s->frames[i] = strtoull(p, &end, 16);
        if (end == p) break;
        p = end;
        s->depth++;
    }
    return 0;
}

static int parse_module(struct rt_dump *d, char *p, size_t *cap)
{
    struct rt_module *m = grow(&d->mods, &d->nmods, cap, sizeof *m);
    if (!m) return -1;
    m->lo = strtoull(p, &p, 16);
    m->hi = strtoull(p, &p, 16);
    m->bias = strtoull(p, &p, 16);
    while (*p == ' ') p++;
    m->path = strdup(p);
    return m->path ? 0 : -1;
}

static int parse_leak(struct rt_dump *d, char *p, size_t *cap)
{
    while (*p == ' ') p++;
    struct rt_leak *l = grow(&d->leaks, &d->nleaks, cap, sizeof *l);
    if (!l || (*p != 'p' && *p != 's')) return -1;
    l->is_pc = *p == 'p';
    l->tag = strtoull(p + 1, &p, l->is_pc ? 16 : 10);
    l->count = strtoull(p, &p, 10);
    l->bytes = strtoull(p, &p, 10);
    return 0;
}

static int parse_lost(struct rt_dump *d, char *p)
{
    static const char *kinds[RT_KINDS] = {"definite", "indirect", "possible", "reachable"};
    while (*p == ' ') p++;
    for (int k = 0; k < RT_KINDS; k++) {
        size_t n = strlen(kinds[k]);
        if (!strncmp(p, kinds[k], n) && p[n] == ' ') {
            p += n;
            d->lost_count[k] = strtoull(p, &p, 10);
            d->lost_bytes[k] = strtoull(p, &p, 10);
            return 0;
        }
    }
    return -1;
}

/* "time FN CALLS NS" and "time_hist FN K N": @return FN's row (added when new), or NULL. */
static struct rt_time *time_row(struct rt_dump *d, char **p)
{
    while (**p == ' ') (*p)++;
    size_t n = strcspn(*p, " ");
    if (!n || n >= sizeof d->time[0].name) return NULL;
    struct rt_time *t = NULL;
    for (size_t i = 0; i < d->ntime && !t; i++)
        if (strlen(d->time[i].name) == n && !memcmp(d->time[i].name, *p, n)) t = &d->time[i];
    if (!t && d->ntime < RT_TIME_FNS) {
        t = &d->time[d->ntime++];
        memcpy(t->name, *p, n);
    }
    *p += n;
    return t;
}

static int parse_time(struct rt_dump *d, char *p, int hist)
{
    struct rt_time *t = time_row(d, &p);
    if (!t) return -1;
    if (hist) {
        uint64_t k = strtoull(p, &p, 10);
        if (k < RT_TIME_HIST) t->hist[k] = strtoull(p, &p, 10);
    } else {
        t->calls = strtoull(p, &p, 10);
        t->ns = strtoull(p, &p, 10);
    }
    return 0;
}

struct caps {
    size_t stacks, mods, leaks, threads;
};

static int parse_line(struct rt_dump *d, char *line, struct caps *c)
{
    char *sp = strchr(line, ' ');
    char *p = sp ? sp + 1 : line + strlen(line);
    size_t klen = sp ? (size_t)(sp - line) : strlen(line);
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(line, k, klen))
    if (KEY("stack")) return parse_stack(d, p, &c->stacks);
    if (KEY("module")) return parse_module(d, p, &c->mods);
    if (KEY("leak")) return parse_leak(d, p, &c->leaks);
    if (KEY("lost")) return parse_lost(d, p);
    if (KEY("time")) return parse_time(d, p, 0);
    if (KEY("time_hist")) return parse_time(d, p, 1);
    if (KEY("time_clock")) {
        snprintf(d->time_clock, sizeof d->time_clock, "%s", p);
        return 0;
    }
    if (KEY("thread")) {
        struct rt_thread_row *t = grow(&d->threads, &d->nthreads, &c->threads, sizeof *t);
        if (!t) return -1;
        uint64_t *v[5] = {&t->tid, &t->allocs, &t->frees, &t->bytes_allocated, &t->bytes_freed};
        for (int i = 0; i < 5; i++) *v[i] = strtoull(p, &p, 10);
        return 0;
    }
    if (KEY("hist")) {
        uint64_t k = strtoull(p, &p, 10);
        if (k < RT_HIST) d->hist[k] = strtoull(p, &p, 10);
        return 0;
    }
    if (KEY("mode")) {
        snprintf(d->mode, sizeof d->mode, "%s", p);
        return 0;
    }
    if (KEY("exe")) {
        free(d->exe);
        d->exe = strdup(p);
        return d->exe ? 0 : -1;
    }
    if (KEY("snapshot")) {
        d->snapshot = 1;
        return 0;
    }
    if (KEY("end")) {
        d->complete = 1;
        return 0;
    }
    struct {
        const char *k;
        uint64_t *v;
    } nums[] = {{"allocs", &d->allocs},
                {"frees", &d->frees},
                {"bytes_allocated", &d->bytes_allocated},
                {"bytes_freed", &d->bytes_freed},
                {"bytes_current", &d->bytes_current},
                {"bytes_peak", &d->bytes_peak},
                {"sample_bytes", &d->sample_bytes},
                {"peak_at", &d->peak_at},
                {"live_blocks", &d->live_blocks}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (klen == strlen(nums[i].k) && !memcmp(line, nums[i].k, klen))
            *nums[i].v = strtoull(p, NULL, 10);
    if (KEY("pid")) d->pid = (pid_t)strtol(p, NULL, 10);
    if (KEY("ppid")) d->ppid = (pid_t)strtol(p, NULL, 10);
#undef KEY
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const struct rt_stack *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

int rt_dump_read(const char *path, struct rt_dump *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct caps c = {0, 0, 0, 0};
    int rc = 0, first = 1;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = 0;
        if (first && strcmp(line, "ratrace-dump 1")) {
            rc = -1;
            errno = EINVAL;
            break;
        }
        first = 0;
        if (parse_line(d, line, &c)) {
            rc = -1;
            errno = errno ? errno : EINVAL;
            break;
        }
    }
    free(line);
    fclose(f);
    if (first && rc == 0) {
        errno = EINVAL;
        rc = -1;
    }
    if (d->nstacks) qsort(d->stacks, d->nstacks, sizeof *d->stacks, by_id);
    return rc;
}

const struct rt_stack *rt_dump_stack(const struct rt_dump *d, uint64_t id)
{
    struct rt_stack key = {.id = id};
    return d->nstacks ? bsearch(&key, d->stacks, d->nstacks, sizeof key, by_id) : NULL;
}

void rt_dump_free(struct rt_dump *d)
{
    for (size_t i = 0; i < d->nstacks; i++) free(d->stacks[i].frames);
    for (size_t i = 0; i < d->nmods; i++) free(d->mods[i].path);
    free(d->stacks);
    free(d->mods);
    free(d->leaks);
    free(d->threads);
    free(d->exe);
    memset(d, 0, sizeof *d);
}
