/* report.c - ratrace's reports of one process: JSON, folded stacks, flame graph, Prometheus */
#include "rt.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything one process's reports share: the dump, the symbols and the resolved leak sites. */
struct ctx {
    const struct rt_dump *d;
    const struct rt_options *o;
    struct rt_syms *syms;
    struct rt_frames *leak_frames; /* per d->leaks[i] */
    int *suppressed;               /* per d->leaks[i] */
    size_t *leak_order;            /* indexes of d->leaks, by bytes descending */
    int sampled;                   /* sample mode: hot spots are estimates */
};

void rt_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int matches(const char *pattern, const char *frame)
{
    return strstr(frame, pattern) || fnmatch(pattern, frame, 0) == 0;
}

static int is_suppressed(const struct rt_options *o, const struct rt_frames *fr)
{
    for (size_t p = 0; p < o->nsuppress; p++)
        for (uint32_t i = 0; i < fr->n; i++)
            if (matches(o->suppress[p], fr->f[i])) return 1;
    return 0;
}

static const struct rt_dump *sort_dump;
static int leak_by_bytes(const void *a, const void *b)
{
    const struct rt_leak *x = &sort_dump->leaks[*(const size_t *)a];
    const struct rt_leak *y = &sort_dump->leaks[*(const size_t *)b];
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return x->count > y->count ? -1 : x->count < y->count;
}

static uint64_t st_count(const struct ctx *c, const struct rt_stack *s)
{
    return c->sampled ? s->est_count : s->count;
}

static uint64_t st_bytes(const struct ctx *c, const struct rt_stack *s)
{
    return c->sampled ? s->est_bytes : s->bytes;
}

static int by_peak(const void *a, const void *b)
{
    uint64_t x = (*(const struct rt_stack *const *)a)->peak;
    uint64_t y = (*(const struct rt_stack *const *)b)->peak;
    return x > y ? -1 : x < y;
}

static const struct ctx *sort_ctx;
static int by_count(const void *a, const void *b)
{
    uint64_t x = st_count(sort_ctx, *(const struct rt_stack *const *)a);
    uint64_t y = st_count(sort_ctx, *(const struct rt_stack *const *)b);
    return x > y ? -1 : x < y;
}
static int by_bytes(const void *a, const void *b)
{
    uint64_t x = st_bytes(sort_ctx, *(const struct rt_stack *const *)a);
    uint64_t y = st_bytes(sort_ctx, *(const struct rt_stack *const *)b);
    return x > y ? -1 : x < y;
}

static void json_frames(FILE *f, const struct rt_frames *fr)
{
    fputc('[', f);
    for (uint32_t i = 0; i < fr->n; i++) {
        if (i) fputs(", ", f);
        rt_json_string(f, fr->f[i]);
    }
    fputc(']', f);
}

/* The --top stacks by cmp, as {"count", "bytes", "stack"} (peak: {"bytes", "stack"} with the
 * stack's bytes at the peak snapshot). */
static void json_hot(FILE *f, struct ctx *c, int (*cmp)(const void *, const void *))
{
    const struct rt_dump *d = c->d;
    const struct rt_stack **v = malloc((d->nstacks + 1) * sizeof *v);
    if (!v) return;
    for (size_t i = 0; i < d->nstacks; i++) v[i] = &d->stacks[i];
    sort_ctx = c;
    qsort(v, d->nstacks, sizeof *v, cmp);
    size_t top = d->nstacks < (size_t)c->o->top ? d->nstacks : (size_t)c->o->top;
    fputc('[', f);
    for (size_t i = 0; i < top; i++) {
        struct rt_frames fr;
        if (cmp == by_peak && !v[i]->peak) break; /* sorted: no stack held bytes at the peak */
        if (rt_resolve(c->syms, d, 0, v[i]->id, &fr, 0)) break;
        if (cmp == by_peak)
            fprintf(f, "%s\n      {\"bytes\": %llu, \"stack\": ", i ? "," : "",
                    (unsigned long long)v[i]->peak);
        else
            fprintf(f, "%s\n      {\"count\": %llu, \"bytes\": %llu, \"stack\": ", i ? "," : "",
                    (unsigned long long)st_count(c, v[i]), (unsigned long long)st_bytes(c, v[i]));
        json_frames(f, &fr);
        fputc('}', f);
        free(fr.f);
    }
    fputs(top ? "\n    ]" : "]", f);
    free(v);
}

static void json_kind(FILE *f, const char *key, const struct rt_dump *d, int k)
{
    fprintf(f, "  \"%s\": {\"count\": %llu, \"bytes\": %llu},\n", key,
            (unsigned long long)d->lost_count[k], (unsigned long long)d->lost_bytes[k]);
}

static void json_leaks(FILE *f, struct ctx *c, const struct rt_outcome *out)
{
    const struct rt_dump *d = c->d;
    fprintf(f,
            "  \"leaks\": {\"count\": %llu, \"bytes\": %llu, \"suppressed\": {\"count\": %llu, "
            "\"bytes\": %llu}, \"sites\": [",
            (unsigned long long)d->lost_count[RT_DEFINITE],
            (unsigned long long)d->lost_bytes[RT_DEFINITE], (unsigned long long)out->suppressed,
            (unsigned long long)out->suppressed_bytes);
    for (size_t k = 0; k < d->nleaks; k++) {
        size_t i = c->leak_order[k];
        fprintf(f, "%s\n    {\"count\": %llu, \"bytes\": %llu, ", k ? "," : "",
                (unsigned long long)d->leaks[i].count, (unsigned long long)d->leaks[i].bytes);
        if (c->suppressed[i]) fputs("\"suppressed\": true, ", f);
        fputs("\"stack\": ", f);
        json_frames(f, &c->leak_frames[i]);
        fputc('}', f);
    }
    fputs(d->nleaks ? "\n  ]},\n" : "]},\n", f);
}

static void json_write(FILE *f, struct ctx *c, const struct rt_outcome *out)
{
    const struct rt_dump *d = c->d;
    fprintf(f, "{\n  \"pid\": %d,\n  \"ppid\": %d,\n  \"program\": ", (int)d->pid, (int)d->ppid);
    rt_json_string(f, d->exe ? d->exe : "");
    fprintf(f, ",\n  \"mode\": \"%s\",\n  \"complete\": %s,\n  \"final\": %s,\n", d->mode,
            d->complete ? "true" : "false", d->snapshot ? "false" : "true");
    if (c->sampled) fprintf(f, "  \"sample_bytes\": %llu,\n", (unsigned long long)d->sample_bytes);
    fprintf(f,
            "  \"allocs\": %llu,\n  \"frees\": %llu,\n  \"bytes_allocated\": %llu,\n"
            "  \"bytes_freed\": %llu,\n  \"bytes_peak\": %llu,\n  \"bytes_current\": %llu,\n"
            "  \"live_blocks\": %llu,\n",
            (unsigned long long)d->allocs, (unsigned long long)d->frees,
            (unsigned long long)d->bytes_allocated, (unsigned long long)d->bytes_freed,
            (unsigned long long)d->bytes_peak, (unsigned long long)d->bytes_current,
            (unsigned long long)d->live_blocks);
    fputs("  \"histogram\": ", f);
    rt_json_hist(f, d->hist, RT_HIST, "    ");
    fputs(",\n", f);
    rt_json_time(f, d);
    fputs("  \"threads\": [", f);
    for (size_t i = 0; i < d->nthreads; i++) {
        const struct rt_thread_row *t = &d->threads[i];
        fprintf(f,
                "%s\n    {\"tid\": %llu, \"allocs\": %llu, \"frees\": %llu, \"bytes_allocated\": "
                "%llu, \"bytes_freed\": %llu}",
                i ? "," : "", (unsigned long long)t->tid, (unsigned long long)t->allocs,
                (unsigned long long)t->frees, (unsigned long long)t->bytes_allocated,
                (unsigned long long)t->bytes_freed);
    }
    fputs(d->nthreads ? "\n  ],\n" : "],\n", f);
    json_leaks(f, c, out);
    json_kind(f, "indirectly_lost", d, RT_INDIRECT);
    json_kind(f, "possibly_lost", d, RT_POSSIBLE);
    json_kind(f, "still_reachable", d, RT_REACHABLE);
    fprintf(f,
            "  \"hot_spots\": {\"estimated\": %s, \"by_count\": ", c->sampled ? "true" : "false");
    json_hot(f, c, by_count);
    fputs(", \"by_bytes\": ", f);
    json_hot(f, c, by_bytes);
    fprintf(f, "},\n  \"peak\": {\"bytes\": %llu, \"snapshot_bytes\": %llu, \"stacks\": ",
            (unsigned long long)d->bytes_peak, (unsigned long long)d->peak_at);
    json_hot(f, c, by_peak);
    fputs("}\n}\n", f);
}

static void prom_metric(FILE *f, const char *name, const char *type, const char *help,
                        const char *labels, uint64_t v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s%s %llu\n", name, help, name, type, name, labels,
            (unsigned long long)v);
}

static void prom_write(FILE *f, const struct rt_dump *d)
{
    const char *prog = d->exe ? strrchr(d->exe, '/') : NULL;
    prog = prog ? prog + 1 : d->exe ? d->exe : "";
    char labels[512];
    snprintf(labels, sizeof labels, "{pid=\"%d\",program=\"%s\"}", (int)d->pid, prog);
    prom_metric(f, "ratrace_allocs_total", "counter", "Allocations made.", labels, d->allocs);
    prom_metric(f, "ratrace_frees_total", "counter", "Frees made.", labels, d->frees);
    prom_metric(f, "ratrace_allocated_bytes_total", "counter", "Bytes allocated.", labels,
                d->bytes_allocated);
    prom_metric(f, "ratrace_current_bytes", "gauge", "Bytes in live blocks.", labels,
                d->bytes_current);
    prom_metric(f, "ratrace_peak_bytes", "gauge", "Highest bytes in live blocks.", labels,
                d->bytes_peak);
    prom_metric(f, "ratrace_live_blocks", "gauge", "Blocks allocated and not freed.", labels,
                d->live_blocks);
    if (!d->snapshot) { /* a running process has not been scanned for leaks */
        prom_metric(f, "ratrace_leaked_bytes", "gauge", "Definitely lost bytes at exit.", labels,
                    d->lost_bytes[RT_DEFINITE]);
        prom_metric(f, "ratrace_leaked_blocks", "gauge", "Definitely lost blocks at exit.", labels,
                    d->lost_count[RT_DEFINITE]);
    }
    rt_prom_time(f, d, prog);
    fputs("# HELP ratrace_alloc_size_bytes Sizes of the allocations.\n"
          "# TYPE ratrace_alloc_size_bytes histogram\n",
          f);
    uint64_t cum = 0;
    for (int k = 0; k < 64; k++) {
        cum += d->hist[k];
        fprintf(f, "ratrace_alloc_size_bytes_bucket{pid=\"%d\",program=\"%s\",le=\"%llu\"} %llu\n",
                (int)d->pid, prog, k ? (1ull << k) - 1 : 0ull, (unsigned long long)cum);
    }
    fprintf(f, "ratrace_alloc_size_bytes_bucket{pid=\"%d\",program=\"%s\",le=\"+Inf\"} %llu\n",
            (int)d->pid, prog, (unsigned long long)d->allocs);
    fprintf(f, "ratrace_alloc_size_bytes_sum%s %llu\nratrace_alloc_size_bytes_count%s %llu\n",
            labels, (unsigned long long)d->bytes_allocated, labels, (unsigned long long)d->allocs);
}

/* Folded stacks or flame graph: every recorded stack weighted by its bytes. */
static int flame_write(FILE *f, struct ctx *c, int svg)
{
    const struct rt_dump *d = c->d;
    struct rt_flame_stack *v = calloc(d->nstacks + 1, sizeof *v);
    if (!v) return -1;
    size_t n = 0;
    for (size_t i = 0; i < d->nstacks; i++) {
        struct rt_frames fr;
        if (rt_resolve(c->syms, d, 0, d->stacks[i].id, &fr, 1)) break;
        for (uint32_t a = 0, b = fr.n ? fr.n - 1 : 0; a < b; a++, b--) { /* outermost first */
            const char *t = fr.f[a];
            fr.f[a] = fr.f[b];
            fr.f[b] = t;
        }
        v[n++] = (struct rt_flame_stack){fr.f, fr.n, st_bytes(c, &d->stacks[i])};
    }
    int rc = 0;
    if (svg) {
        char title[600];
        snprintf(title, sizeof title, "ratrace: bytes allocated by %s (pid %d, %s mode)",
                 d->exe ? d->exe : "?", (int)d->pid, d->mode);
        rc = rt_svg_write(f, title, v, n, "bytes");
    } else {
        for (size_t i = 0; i < n; i++) {
            for (uint32_t k = 0; k < v[i].depth; k++)
                fprintf(f, "%s%s", k ? ";" : "", v[i].frames[k]);
            fprintf(f, " %llu\n", (unsigned long long)v[i].weight);
        }
    }
    for (size_t i = 0; i < n; i++) free(v[i].frames);
    free(v);
    return rc;
}

/* On stderr: the totals and the largest leak sites (a snapshot: the totals only). */
static void summary(struct ctx *c, const struct rt_outcome *out)
{
    const struct rt_dump *d = c->d;
    fprintf(stderr,
            "ratrace: pid %d (%s)%s: %llu allocs, %llu frees, %llu bytes allocated, peak %llu, "
            "current %llu in %llu blocks\n",
            (int)d->pid, d->exe ? d->exe : "?", d->snapshot ? ", running" : "",
            (unsigned long long)d->allocs, (unsigned long long)d->frees,
            (unsigned long long)d->bytes_allocated, (unsigned long long)d->bytes_peak,
            (unsigned long long)d->bytes_current, (unsigned long long)d->live_blocks);
    rt_summary_time(d);
    if (d->snapshot) return; /* a running process has not been scanned for leaks */
    fprintf(stderr,
            "ratrace: definitely lost %llu bytes in %llu blocks (%llu suppressed); indirectly "
            "lost %llu in %llu; possibly lost %llu in %llu; still reachable %llu in %llu\n",
            (unsigned long long)d->lost_bytes[RT_DEFINITE],
            (unsigned long long)d->lost_count[RT_DEFINITE], (unsigned long long)out->suppressed,
            (unsigned long long)d->lost_bytes[RT_INDIRECT],
            (unsigned long long)d->lost_count[RT_INDIRECT],
            (unsigned long long)d->lost_bytes[RT_POSSIBLE],
            (unsigned long long)d->lost_count[RT_POSSIBLE],
            (unsigned long long)d->lost_bytes[RT_REACHABLE],
            (unsigned long long)d->lost_count[RT_REACHABLE]);
    for (size_t k = 0; k < d->nleaks && k < 10; k++) {
        size_t i = c->leak_order[k];
        if (c->suppressed[i]) continue;
        fprintf(stderr, "ratrace: leak of %llu bytes in %llu blocks\n",
                (unsigned long long)d->leaks[i].bytes, (unsigned long long)d->leaks[i].count);
        for (uint32_t j = 0; j < c->leak_frames[i].n && j < 12; j++)
            fprintf(stderr, "ratrace:    %s %s\n", j ? "by" : "at", c->leak_frames[i].f[j]);
    }
    if (!d->complete) fprintf(stderr, "ratrace: pid %d: the report is incomplete\n", (int)d->pid);
}

/* Writes path+suffix through a temporary file renamed over it, so that a reader (node_exporter
 * reading a textfile every interval) never sees half a report. @return 0 or -1 (message
 * printed). */
static int to_file(const char *path, const char *suffix, struct ctx *c,
                   const struct rt_outcome *out, int kind)
{
    if (!path) return 0;
    char full[4096], tmp[4200];
    snprintf(full, sizeof full, "%s%s", path, suffix);
    snprintf(tmp, sizeof tmp, "%s.tmp%d", full, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "ratrace: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    int rc = 0;
    if (kind == 0) json_write(f, c, out);
    if (kind == 1) prom_write(f, c->d);
    if (kind == 2 || kind == 3) rc = flame_write(f, c, kind == 3);
    if (fclose(f) || rc || rename(tmp, full)) {
        fprintf(stderr, "ratrace: %s: could not write\n", full);
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int resolve_leaks(struct ctx *c, struct rt_outcome *out)
{
    const struct rt_dump *d = c->d;
    size_t n = d->nleaks ? d->nleaks : 1;
    c->leak_frames = calloc(n, sizeof *c->leak_frames);
    c->suppressed = calloc(n, sizeof *c->suppressed);
    c->leak_order = calloc(n, sizeof *c->leak_order);
    if (!c->leak_frames || !c->suppressed || !c->leak_order) return -1;
    for (size_t i = 0; i < d->nleaks; i++) {
        c->leak_order[i] = i;
        if (rt_resolve(c->syms, d, d->leaks[i].is_pc, d->leaks[i].tag, &c->leak_frames[i], 0))
            return -1;
        c->suppressed[i] = is_suppressed(c->o, &c->leak_frames[i]);
        if (c->suppressed[i]) {
            out->suppressed += d->leaks[i].count;
            out->suppressed_bytes += d->leaks[i].bytes;
        }
    }
    sort_dump = d;
    qsort(c->leak_order, d->nleaks, sizeof *c->leak_order, leak_by_bytes);
    out->leaks = d->lost_count[RT_DEFINITE] - out->suppressed;
    out->leak_bytes = d->lost_bytes[RT_DEFINITE] - out->suppressed_bytes;
    return 0;
}

int rt_report(const struct rt_dump *d, const struct rt_options *o, const char *suffix,
              struct rt_outcome *out)
{
    memset(out, 0, sizeof *out);
    struct ctx c = {.d = d, .o = o, .sampled = !strcmp(d->mode, "sample")};
    c.syms = rt_syms_open(d);
    int rc = c.syms && resolve_leaks(&c, out) == 0 ? 0 : -1;
    if (rc) fprintf(stderr, "ratrace: out of memory\n");
    if (!rc) {
        rc |= to_file(o->json, suffix, &c, out, 0);
        rc |= to_file(o->prometheus, suffix, &c, out, 1);
        rc |= to_file(o->folded, suffix, &c, out, 2);
        rc |= to_file(o->svg, suffix, &c, out, 3);
        if (!o->quiet) summary(&c, out);
    }
    for (size_t i = 0; c.leak_frames && i < d->nleaks; i++) free(c.leak_frames[i].f);
    free(c.leak_frames);
    free(c.suppressed);
    free(c.leak_order);
    rt_syms_close(c.syms);
    return rc;
}
