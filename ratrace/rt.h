/* rt.h - ratrace, the tool: dump reading, symbols, reports (internal to ratrace/) */
#ifndef RATRACE_RT_H
#define RATRACE_RT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define RT_HIST 65

/* ---- one process's dump (PID.rtd, written by libringalloc-trace.so; format in preload/report.c)
 */
enum rt_kind { RT_DEFINITE = 0, RT_INDIRECT, RT_POSSIBLE, RT_REACHABLE, RT_KINDS };

struct rt_stack {
    uint64_t id, count, bytes, est_count, est_bytes;
    uint64_t live, peak; /* bytes of its blocks alive at exit, at the peak snapshot */
    uint32_t depth;
    uint64_t *frames; /* return addresses, innermost first */
};
struct rt_leak {
    int is_pc;    /* tag is a caller address (no stack recorded), else a stack id */
    uint64_t tag; /* stack id or address */
    uint64_t count, bytes;
};
struct rt_module {
    uint64_t lo, hi, bias;
    char *path;
};
struct rt_thread_row {
    uint64_t tid, allocs, frees, bytes_allocated, bytes_freed;
};
#define RT_TIME_HIST 48 /* per-call nanoseconds: bucket 0: 0 ns, k: 2^(k-1) .. 2^k - 1 */
#define RT_TIME_FNS  16
struct rt_time {
    char name[24]; /* malloc, free, ... */
    uint64_t calls, ns, hist[RT_TIME_HIST];
};
struct rt_dump {
    pid_t pid, ppid;
    char mode[16];
    char *exe;
    uint64_t sample_bytes;
    uint64_t allocs, frees, bytes_allocated, bytes_freed, bytes_current, bytes_peak;
    uint64_t peak_at;     /* live bytes when the stacks' peak bytes were copied */
    uint64_t live_blocks; /* blocks allocated and not freed when the dump was taken */
    uint64_t hist[RT_HIST];
    uint64_t lost_count[RT_KINDS], lost_bytes[RT_KINDS];
    struct rt_thread_row *threads;
    size_t nthreads;
    struct rt_leak *leaks;
    size_t nleaks;
    struct rt_module *mods;
    size_t nmods;
    struct rt_stack *stacks; /* sorted by id */
    size_t nstacks;
    int complete;        /* the "end" line was read */
    int snapshot;        /* taken while the process ran (--interval): no leak scan */
    char time_clock[16]; /* --time: "tsc" or "clock_gettime"; "" without --time */
    struct rt_time time[RT_TIME_FNS];
    size_t ntime;
};

/* Reads a dump; @return 0, or -1 with errno (or EINVAL for a malformed file). */
int rt_dump_read(const char *path, struct rt_dump *d);
void rt_dump_free(struct rt_dump *d);
/* @return the stack with that id, or NULL. */
const struct rt_stack *rt_dump_stack(const struct rt_dump *d, uint64_t id);

/* ---- symbols (libdw), each address resolved once ------------------------------------------- */
struct rt_syms;
/* @return a resolver for the modules of d, or NULL when out of memory. */
struct rt_syms *rt_syms_open(const struct rt_dump *d);
/* "func (file:line)", "func (module)" or "0xADDR (module)"; ret: addr is a return address
 * (looked up at addr - 1). The string lives as long as the resolver. */
const char *rt_syms_frame(struct rt_syms *s, uint64_t addr, int ret);
/* The function name only (the part before " ("), for flame graphs. */
const char *rt_syms_func(struct rt_syms *s, uint64_t addr, int ret);
void rt_syms_close(struct rt_syms *s);

/* ---- options and reports --------------------------------------------------------------------- */
struct rt_options {
    const char *mode, *json, *folded, *svg, *prometheus, *lib, *unwind;
    const char **suppress;
    size_t nsuppress;
    int fail_on_leak, follow_fork, quiet, top, time;
    unsigned interval; /* seconds between snapshots of running processes (0: none) */
    int report_signal; /* the program writes a snapshot when it gets this signal (0: none) */
    unsigned long long sample_bytes, depth;
};

/* What a process's report found, for the exit status and the summary. */
struct rt_outcome {
    uint64_t leaks, leak_bytes, suppressed, suppressed_bytes;
};

/* Writes every report file the options ask for (each path + suffix, suffix "" for the program
 * and ".PID" for a child) and the summary on stderr. @return 0, or -1 when a file could not be
 * written (a message was printed). */
int rt_report(const struct rt_dump *d, const struct rt_options *o, const char *suffix,
              struct rt_outcome *out);

/* One resolved stack: frames as strings (outermost last), for JSON, text and suppressions. */
struct rt_frames {
    const char **f;
    uint32_t n;
};
/* Resolves a leak's or stack's frames; @return 0 or -1 (out of memory). */
int rt_resolve(struct rt_syms *s, const struct rt_dump *d, int is_pc, uint64_t tag,
               struct rt_frames *out, int func_only);

/* ---- flame graph --------------------------------------------------------------------------------
 */
/* Writes an SVG flame graph of the weighted stacks (frames outermost first). @return 0 or -1. */
struct rt_flame_stack {
    const char **frames; /* outermost first */
    uint32_t depth;
    uint64_t weight;
};
int rt_svg_write(FILE *f, const char *title, const struct rt_flame_stack *st, size_t n,
                 const char *unit);

/* ---- time per call (timing.c) -----------------------------------------------------------------
 */
/* The "time" key (nothing without --time). */
void rt_json_time(FILE *f, const struct rt_dump *d);
/* ratrace_calls_total and the ratrace_call_seconds histogram (nothing without --time). */
void rt_prom_time(FILE *f, const struct rt_dump *d, const char *prog);
/* One line per function on stderr. */
void rt_summary_time(const struct rt_dump *d);
/* A log2 histogram h[0..n) as [{"min", "max", "count"}] (empty buckets left out; bucket 0 holds
 * 0, bucket k 2^(k-1) .. 2^k - 1, the last one everything above); entries start with indent. */
void rt_json_hist(FILE *f, const uint64_t *h, int n, const char *indent);

/* ---- JSON helper
 * ---------------------------------------------------------------------------------- */
void rt_json_string(FILE *f, const char *s);

#endif
