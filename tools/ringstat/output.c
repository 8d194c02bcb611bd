/* output.c - what ringstat prints: the human table, JSON, CSV rows and Prometheus metrics
 *
 * Design: every format is written from the same sampled set (sample.h), so they show the same
 * numbers. A reader's lag is given in messages only: its registry slot holds its next sequence
 * number, not its byte position, and the ring cannot map one to the other without walking it.
 */
#include "output.h"

#include <inttypes.h>
#include <stdlib.h>

#include "json.h"
#include "report.h"
#include "util.h"

void rs_print_human(FILE *f, const rs_set *set)
{
    if (set->n == 0) fprintf(f, "no shared rings\n");
    for (size_t i = 0; i < set->n; i++) {
        const rs_ring *r = &set->rings[i];
        char used[32], pub[32];
        rp_fmt_bytes(used, sizeof(used), (double)r->st.used_bytes);
        rp_fmt_bytes(pub, sizeof(pub), (double)r->st.published_bytes);
        fprintf(f, "%s%s  (%s, %" PRIu64 " bytes, %s)\n", i ? "\n" : "", r->name, r->path,
                r->st.capacity, r->info.closed ? "closed" : "open");
        fprintf(f,
                "  published %" PRIu64 " (%s)  %.1f msgs/s  %.3f MB/s  overwritten %" PRIu64
                "  used %s\n",
                r->st.published, pub, r->msgs_per_sec, r->mb_per_sec, r->st.overwritten, used);
        fprintf(f, "  writer pid %" PRId32 " %s", r->info.writer_pid,
                r->info.writer_alive ? "alive"
                : r->info.closed     ? "exited (the ring is closed)"
                                     : "DEAD (gone without closing the ring)");
        if (r->has_heartbeat)
            fprintf(f, ", heartbeat %.3f s ago\n", (double)r->heartbeat_age_ns / 1e9);
        else
            fprintf(f, ", no heartbeat\n");
        for (size_t k = 0; k < r->nreaders; k++) {
            const ra_shm_reader_info *rd = &r->readers[k];
            fprintf(f,
                    "  reader pid %" PRId32 " %s  position %" PRIu64 "  lag %" PRIu64
                    " msgs  read %" PRIu64 "  lost %" PRIu64 "  laps %" PRIu64 "\n",
                    rd->pid, rd->alive ? "alive" : "dead (slot reclaimed)", rd->position_seq,
                    rs_lag(r->st.next_seq, rd->position_seq), rd->read, rd->lost, rd->laps);
        }
    }
}

/* An age in ns, or null when there is none. */
static void rs__age_json(rp_json *j, const char *key, bool has, uint64_t age)
{
    if (has)
        rp_json_u64(j, key, age);
    else
        rp_json_null(j, key);
}

static void rs__ring_json(rp_json *j, const rs_ring *r, uint64_t now)
{
    rp_json_object_begin(j, NULL);
    rp_json_str(j, "name", r->name);
    rp_json_str(j, "path", r->path);
    rp_json_u64(j, "published", r->st.published);
    rp_json_u64(j, "published_bytes", r->st.published_bytes);
    rp_json_u64(j, "overwritten", r->st.overwritten);
    rp_json_u64(j, "used_bytes", r->st.used_bytes);
    rp_json_u64(j, "capacity", r->st.capacity);
    rp_json_f64(j, "msgs_per_sec", r->msgs_per_sec, 1);
    rp_json_f64(j, "mb_per_sec", r->mb_per_sec, 3);
    rp_json_bool(j, "closed", r->info.closed);
    rp_json_u64(j, "epoch", r->info.epoch);
    rp_json_object_begin(j, "writer");
    rp_json_i64(j, "pid", r->info.writer_pid);
    rp_json_bool(j, "alive", r->info.writer_alive);
    rs__age_json(j, "heartbeat_age_ns", r->has_heartbeat, r->heartbeat_age_ns);
    rp_json_object_end(j);
    rp_json_array_begin(j, "readers");
    for (size_t k = 0; k < r->nreaders; k++) {
        const ra_shm_reader_info *rd = &r->readers[k];
        rp_json_object_begin(j, NULL);
        rp_json_i64(j, "pid", rd->pid);
        rp_json_bool(j, "alive", rd->alive);
        rp_json_u64(j, "position_seq", rd->position_seq);
        rp_json_u64(j, "lag_msgs", rs_lag(r->st.next_seq, rd->position_seq));
        rp_json_u64(j, "read", rd->read);
        rp_json_u64(j, "lost", rd->lost);
        rp_json_u64(j, "laps", rd->laps);
        rs__age_json(j, "heartbeat_age_ns", rd->heartbeat_ns != 0, rs_age(now, rd->heartbeat_ns));
        rp_json_object_end(j);
    }
    rp_json_array_end(j);
    rp_json_object_end(j);
}

int rs_print_json(FILE *f, const rs_set *set)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json_array_begin(&d.j, "rings");
    uint64_t now = rp_realtime_ns();
    for (size_t i = 0; i < set->n; i++) rs__ring_json(&d.j, &set->rings[i], now);
    rp_json_array_end(&d.j);
    return rp_json_doc_end(&d, f);
}

void rs_print_csv_header(FILE *f)
{
    fputs("time_s,name,published,msgs_per_sec,mb_per_sec,overwritten,used_bytes,capacity,closed,"
          "writer_pid,writer_alive,heartbeat_age_ns,readers,max_lag_msgs,readers_lost\n",
          f);
}

void rs_print_csv(FILE *f, const rs_set *set, uint64_t now_ns)
{
    for (size_t i = 0; i < set->n; i++) {
        const rs_ring *r = &set->rings[i];
        uint64_t max_lag = 0, lost = 0;
        for (size_t k = 0; k < r->nreaders; k++) {
            uint64_t lag = rs_lag(r->st.next_seq, r->readers[k].position_seq);
            if (lag > max_lag) max_lag = lag;
            lost += r->readers[k].lost;
        }
        fprintf(f, "%.3f,", (double)now_ns / 1e9);
        rp_json_write_string(f, r->name); /* quoted and escaped: a valid CSV field too */
        fprintf(f, ",%" PRIu64 ",%.1f,%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,%" PRId32 ",%d,",
                r->st.published, r->msgs_per_sec, r->mb_per_sec, r->st.overwritten,
                r->st.used_bytes, r->st.capacity, r->info.closed, r->info.writer_pid,
                r->info.writer_alive);
        if (r->has_heartbeat) fprintf(f, "%" PRIu64, r->heartbeat_age_ns);
        fprintf(f, ",%zu,%" PRIu64 ",%" PRIu64 "\n", r->nreaders, max_lag, lost);
    }
}

void rs_prom_label(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* One metric family: its HELP and TYPE lines. */
static void rs__family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a ring's metric: name{ring="..."} value. */
static void rs__ring_value(FILE *f, const char *metric, const rs_ring *r, double v)
{
    fprintf(f, "%s{ring=\"", metric);
    rs_prom_label(f, r->name);
    fprintf(f, "\"} %.17g\n", v);
}

/* The per-ring families: metric name, type, help, and the value of ring r. */
typedef struct rs__metric {
    const char *name, *type, *help;
    double (*value)(const rs_ring *r);
} rs__metric;

static double rs__published(const rs_ring *r)
{
    return (double)r->st.published;
}
static double rs__pub_bytes(const rs_ring *r)
{
    return (double)r->st.published_bytes;
}
static double rs__overwritten(const rs_ring *r)
{
    return (double)r->st.overwritten;
}
static double rs__used(const rs_ring *r)
{
    return (double)r->st.used_bytes;
}
static double rs__capacity(const rs_ring *r)
{
    return (double)r->st.capacity;
}
static double rs__msgs_rate(const rs_ring *r)
{
    return r->msgs_per_sec;
}
static double rs__closed(const rs_ring *r)
{
    return r->info.closed;
}
static double rs__alive(const rs_ring *r)
{
    return r->info.writer_alive;
}
static double rs__hb_age(const rs_ring *r)
{
    return (double)r->heartbeat_age_ns / 1e9;
}
static double rs__nreaders(const rs_ring *r)
{
    return (double)r->nreaders;
}

static const rs__metric rs__metrics[] = {
    {"ringalloc_ring_published_total", "counter", "messages committed", rs__published},
    {"ringalloc_ring_published_bytes_total", "counter", "payload bytes committed", rs__pub_bytes},
    {"ringalloc_ring_overwritten_total", "counter", "messages retired to make room",
     rs__overwritten},
    {"ringalloc_ring_used_bytes", "gauge", "bytes between the oldest record and the tail",
     rs__used},
    {"ringalloc_ring_capacity_bytes", "gauge", "data bytes of the ring", rs__capacity},
    {"ringalloc_ring_messages_per_second", "gauge", "publish rate over the last interval",
     rs__msgs_rate},
    {"ringalloc_ring_closed", "gauge", "1 when the writer closed the ring", rs__closed},
    {"ringalloc_ring_writer_alive", "gauge", "1 when the writer process is alive", rs__alive},
    {"ringalloc_ring_writer_heartbeat_age_seconds", "gauge",
     "age of the writer's last heartbeat (0 when none)", rs__hb_age},
    {"ringalloc_ring_readers", "gauge", "registered readers (slots in use)", rs__nreaders},
};

/* The per-reader families. */
static void rs__reader_metrics(FILE *f, const rs_set *set)
{
    static const char *const names[] = {
        "ringalloc_reader_lag_messages", "ringalloc_reader_read_total",
        "ringalloc_reader_lost_total", "ringalloc_reader_laps_total"};
    static const char *const helps[] = {"messages committed that the reader has not reached",
                                        "messages the reader read", "messages the reader lost",
                                        "times the reader was overtaken"};
    for (size_t m = 0; m < 4; m++) {
        rs__family(f, names[m], m ? "counter" : "gauge", helps[m]);
        for (size_t i = 0; i < set->n; i++) {
            const rs_ring *r = &set->rings[i];
            for (size_t k = 0; k < r->nreaders; k++) {
                const ra_shm_reader_info *rd = &r->readers[k];
                uint64_t v = m == 0   ? rs_lag(r->st.next_seq, rd->position_seq)
                             : m == 1 ? rd->read
                             : m == 2 ? rd->lost
                                      : rd->laps;
                fprintf(f, "%s{ring=\"", names[m]);
                rs_prom_label(f, r->name);
                fprintf(f, "\",pid=\"%" PRId32 "\"} %" PRIu64 "\n", rd->pid, v);
            }
        }
    }
}

void rs_print_prometheus(FILE *f, const rs_set *set)
{
    for (size_t m = 0; m < sizeof(rs__metrics) / sizeof(rs__metrics[0]); m++) {
        rs__family(f, rs__metrics[m].name, rs__metrics[m].type, rs__metrics[m].help);
        for (size_t i = 0; i < set->n; i++)
            rs__ring_value(f, rs__metrics[m].name, &set->rings[i],
                           rs__metrics[m].value(&set->rings[i]));
    }
    rs__reader_metrics(f, set);
}
