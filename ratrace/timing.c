/* timing.c - ratrace's reports of the time per call (--time): JSON, Prometheus, summary lines */
#include "rt.h"

#include <string.h>

void rt_json_hist(FILE *f, const uint64_t *h, int n, const char *indent)
{
    fputc('[', f);
    int first = 1;
    for (int k = 0; k < n; k++) {
        if (!h[k]) continue;
        unsigned long long lo = k ? 1ull << (k - 1) : 0, hi = k ? (lo << 1) - 1 : 0;
        if (k == n - 1) hi = ~0ull;
        fprintf(f, "%s\n%s{\"min\": %llu, \"max\": %llu, \"count\": %llu}", first ? "" : ",",
                indent, lo, hi, (unsigned long long)h[k]);
        first = 0;
    }
    if (first)
        fputc(']', f);
    else
        fprintf(f, "\n%.*s]", (int)strlen(indent) - 2, indent);
}

void rt_json_time(FILE *f, const struct rt_dump *d)
{
    if (!d->time_clock[0]) return;
    fputs("  \"time\": {\"clock\": ", f);
    rt_json_string(f, d->time_clock);
    fputs(", \"functions\": {", f);
    for (size_t i = 0; i < d->ntime; i++) {
        const struct rt_time *t = &d->time[i];
        fprintf(f, "%s\n    ", i ? "," : "");
        rt_json_string(f, t->name);
        fprintf(f, ": {\"calls\": %llu, \"ns\": %llu, \"mean_ns\": %llu, \"histogram\": ",
                (unsigned long long)t->calls, (unsigned long long)t->ns,
                (unsigned long long)(t->calls ? t->ns / t->calls : 0));
        rt_json_hist(f, t->hist, RT_TIME_HIST, "        ");
        fputc('}', f);
    }
    fputs(d->ntime ? "\n  }},\n" : "}},\n", f);
}

void rt_prom_time(FILE *f, const struct rt_dump *d, const char *prog)
{
    if (!d->time_clock[0]) return;
    fputs("# HELP ratrace_calls_total Calls of each allocation function.\n"
          "# TYPE ratrace_calls_total counter\n",
          f);
    for (size_t i = 0; i < d->ntime; i++)
        fprintf(f, "ratrace_calls_total{pid=\"%d\",program=\"%s\",function=\"%s\"} %llu\n",
                (int)d->pid, prog, d->time[i].name, (unsigned long long)d->time[i].calls);
    fputs("# HELP ratrace_call_seconds Time in each call of the real allocator.\n"
          "# TYPE ratrace_call_seconds histogram\n",
          f);
    for (size_t i = 0; i < d->ntime; i++) {
        const struct rt_time *t = &d->time[i];
        char lab[400];
        snprintf(lab, sizeof lab, "pid=\"%d\",program=\"%s\",function=\"%s\"", (int)d->pid, prog,
                 t->name);
        uint64_t cum = 0;
        for (int k = 0; k < RT_TIME_HIST - 1; k++) {
            cum += t->hist[k];
            fprintf(f, "ratrace_call_seconds_bucket{%s,le=\"%.9g\"} %llu\n", lab,
                    (double)(k ? (1ull << k) - 1 : 0) * 1e-9, (unsigned long long)cum);
        }
        fprintf(f, "ratrace_call_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lab,
                (unsigned long long)t->calls);
        fprintf(f, "ratrace_call_seconds_sum{%s} %.9f\nratrace_call_seconds_count{%s} %llu\n", lab,
                (double)t->ns * 1e-9, lab, (unsigned long long)t->calls);
    }
}

/* The upper bound of the bucket holding the q-th fraction of the calls. */
static unsigned long long quantile_ns(const struct rt_time *t, double q)
{
    uint64_t want = (uint64_t)((double)t->calls * q), cum = 0;
    for (int k = 0; k < RT_TIME_HIST; k++) {
        cum += t->hist[k];
        if (cum > want || cum == t->calls) return k ? (1ull << k) - 1 : 0;
    }
    return ~0ull;
}

void rt_summary_time(const struct rt_dump *d)
{
    for (size_t i = 0; i < d->ntime; i++) {
        const struct rt_time *t = &d->time[i];
        if (!t->calls) continue;
        fprintf(stderr,
                "ratrace: time in %s: %llu calls, %.3f ms, mean %llu ns, half under %llu ns, "
                "99%% under %llu ns\n",
                t->name, (unsigned long long)t->calls, (double)t->ns / 1e6,
                (unsigned long long)(t->ns / t->calls), quantile_ns(t, 0.5), quantile_ns(t, 0.99));
    }
}
