/* test_stats.c - the Prometheus and JSON writers, parsed back and compared with get_stats */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "ringalloc/ringalloc.h"

/* ---- a strict parser for the Prometheus text format ----------------------------------------- */

struct sample {
    char metric[96];
    char labels[160]; /* unescaped, "k=v;k=v;" in the order written */
    unsigned long long value;
};

struct family {
    char name[96];
    char type[16];
    bool help;
};

struct prom {
    struct sample s[1024];
    size_t ns;
    struct family f[128];
    size_t nf;
};

static bool valid_name(const char *n)
{
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || *n == '_' || *n == ':'))
        return false;
    for (n++; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '_' || *n == ':'))
            return false;
    return true;
}

static struct family *find_family(struct prom *p, const char *name)
{
    for (size_t i = 0; i < p->nf; i++)
        if (strcmp(p->f[i].name, name) == 0) return &p->f[i];
    return NULL;
}

/* Parses text; fails the test on any deviation from the format. */
static void parse_prom(const char *text, struct prom *p)
{
    memset(p, 0, sizeof *p);
    const char *line = text;
    struct family *cur = NULL;
    while (*line) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol); /* every line ends with a newline */
        char buf[512];
        size_t len = (size_t)(eol - line);
        assert_true(len < sizeof buf);
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = eol + 1;
        char name[96], rest[400];
        if (strncmp(buf, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(buf + 7, "%95s %399[^\n]", name, rest), 2);
            assert_true(valid_name(name));
            assert_null(find_family(p, name)); /* each family once */
            cur = &p->f[p->nf++];
            snprintf(cur->name, sizeof cur->name, "%s", name);
            cur->help = true;
            continue;
        }
        if (strncmp(buf, "# TYPE ", 7) == 0) {
            char type[16];
            assert_int_equal(sscanf(buf + 7, "%95s %15s", name, type), 2);
            assert_non_null(cur);
            assert_string_equal(name, cur->name); /* right after its HELP */
            assert_int_equal(cur->type[0], '\0');
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
            snprintf(cur->type, sizeof cur->type, "%s", type);
            continue;
        }
        assert_true(buf[0] != '#');
        struct sample *s = &p->s[p->ns++];
        const char *b = strchr(buf, '{');
        assert_non_null(b);
        assert_true((size_t)(b - buf) < sizeof s->metric);
        memcpy(s->metric, buf, (size_t)(b - buf));
        s->metric[b - buf] = '\0';
        /* samples belong to the family just declared, with a TYPE */
        assert_non_null(cur);
        assert_string_equal(s->metric, cur->name);
        assert_true(cur->type[0] != '\0');
        if (strcmp(cur->type, "counter") == 0)
            assert_string_equal(s->metric + strlen(s->metric) - 6, "_total");
        const char *q = b + 1;
        size_t lo = 0;
        while (*q != '}') {
            const char *eq = strchr(q, '=');
            assert_non_null(eq);
            char key[32];
            assert_true((size_t)(eq - q) < sizeof key);
            memcpy(key, q, (size_t)(eq - q));
            key[eq - q] = '\0';
            assert_true(valid_name(key));
            lo += (size_t)snprintf(s->labels + lo, sizeof s->labels - lo, "%s=", key);
            assert_int_equal(eq[1], '"');
            q = eq + 2;
            while (*q != '"') {
                assert_true(*q != '\0');
                char c = *q++;
                if (c == '\\') {
                    c = *q++;
                    assert_true(c == '\\' || c == '"' || c == 'n');
                    if (c == 'n') c = '\n';
                }
                s->labels[lo++] = c;
            }
            s->labels[lo++] = ';';
            s->labels[lo] = '\0';
            q++;
            if (*q == ',') q++;
        }
        assert_int_equal(q[1], ' ');
        char *end = NULL;
        s->value = strtoull(q + 2, &end, 10);
        assert_int_equal(*end, '\0');
        for (size_t i = 0; i + 1 < p->ns; i++) /* no duplicate series */
            assert_false(strcmp(p->s[i].metric, s->metric) == 0 &&
                         strcmp(p->s[i].labels, s->labels) == 0);
    }
}

static bool get(const struct prom *p, const char *metric, const char *labels, unsigned long long *v)
{
    for (size_t i = 0; i < p->ns; i++)
        if (strcmp(p->s[i].metric, metric) == 0 && strcmp(p->s[i].labels, labels) == 0) {
            *v = p->s[i].value;
            return true;
        }
    return false;
}

static unsigned long long val(const struct prom *p, const char *metric, const char *labels)
{
    unsigned long long v = 0;
    if (!get(p, metric, labels, &v)) fail_msg("missing sample %s{%s}", metric, labels);
    return v;
}

/* ---- a strict JSON validator ---------------------------------------------------------------- */

static const char *json_value(const char *s);

static const char *json_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    return s;
}

static const char *json_string(const char *s)
{
    if (*s != '"') return NULL;
    for (s++; *s != '"'; s++) {
        if ((unsigned char)*s < 0x20) return NULL;
        if (*s == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0') return NULL;
                s += 4;
            } else if (!strchr("\"\\/bfnrt", *s) || *s == '\0') {
                return NULL;
            }
        }
    }
    return s + 1;
}

static const char *json_value(const char *s)
{
    s = json_ws(s);
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        bool obj = *s == '{';
        s = json_ws(s + 1);
        if (*s == close) return s + 1;
        for (;;) {
            if (obj) {
                s = json_string(json_ws(s));
                if (s == NULL) return NULL;
                s = json_ws(s);
                if (*s++ != ':') return NULL;
            }
            s = json_value(s);
            if (s == NULL) return NULL;
            s = json_ws(s);
            if (*s == close) return s + 1;
            if (*s++ != ',') return NULL;
        }
    }
    if (*s == '"') return json_string(s);
    if (strncmp(s, "true", 4) == 0) return s + 4;
    if (strncmp(s, "false", 5) == 0) return s + 5;
    if (strncmp(s, "null", 4) == 0) return s + 4;
    const char *b = s;
    if (*s == '-') s++;
    while (*s >= '0' && *s <= '9') s++;
    return s == b ? NULL : s;
}

static void assert_json(const char *text)
{
    const char *end = json_value(text);
    assert_non_null(end);
    assert_string_equal(json_ws(end), "");
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static char *capture(int (*fn)(FILE *, const ra_stats_source *, size_t), const ra_stats_source *src,
                     size_t n, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = fn(f, src, n);
    fclose(f);
    return buf;
}

struct world {
    ra_ring *ring;
    ra_pool *pool, *weird;
    ra_slab *slab;
    ra_arena *arena;
    void *large;
};

static void make_world(struct world *w)
{
    ra_ring_config rc = {.capacity = 4096};
    assert_int_equal(ra_ring_create(&w->ring, &rc), RA_OK);
    char msg[100] = {0};
    for (int i = 0; i < 5; i++) assert_int_equal(ra_ring_write(w->ring, 1, 0, msg, 100), RA_OK);

    ra_pool_config pc = {.block_size = 64, .capacity = 4, .name = "orders"};
    assert_int_equal(ra_pool_create(&w->pool, &pc), RA_OK);
    void *b[5];
    for (int i = 0; i < 5; i++) b[i] = ra_pool_alloc(w->pool); /* one fails */
    ra_pool_free(w->pool, b[0]);
    pc.name = "we\"ird\\na\nme";
    pc.flags = RA_POOL_THREADSAFE;
    assert_int_equal(ra_pool_create(&w->weird, &pc), RA_OK);
    (void)ra_pool_alloc(w->weird);

    ra_slab_config sc = {.min_size = 16,
                         .max_size = 64,
                         .blocks_per_class = 2,
                         .classes_per_doubling = 1,
                         .name = "md"};
    assert_int_equal(ra_slab_create(&w->slab, &sc), RA_OK);
    (void)ra_slab_alloc(w->slab, 10);
    (void)ra_slab_alloc(w->slab, 60);
    w->large = ra_slab_alloc(w->slab, 1000); /* large */

    ra_arena_config ac = {.chunk_size = 4096, .max_bytes = 8192, .name = "session"};
    assert_int_equal(ra_arena_create(&w->arena, &ac), RA_OK);
    (void)ra_arena_alloc(w->arena, 100, 8);
    (void)ra_arena_alloc(w->arena, 100000, 8); /* over the cap: failed */
}

static void free_world(struct world *w)
{
    ra_ring_destroy(w->ring);
    ra_pool_destroy(w->pool);
    ra_pool_destroy(w->weird);
    ra_slab_free(w->slab, w->large); /* large blocks outlive their slab: free first */
    ra_slab_destroy(w->slab);
    ra_arena_destroy(w->arena);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_prometheus_parsed_back(void **state)
{
    (void)state;
    struct world w;
    make_world(&w);
    ra_stats_source src[] = {
        {RA_STATS_RING, "feed", w.ring}, {RA_STATS_POOL, NULL, w.pool},
        {RA_STATS_POOL, NULL, w.weird},  {RA_STATS_SLAB, NULL, w.slab},
        {RA_STATS_ARENA, NULL, w.arena},
    };
    int rc;
    char *text = capture(ra_stats_write_prometheus, src, 5, &rc);
    assert_int_equal(rc, RA_OK);
    struct prom *p = malloc(sizeof *p);
    parse_prom(text, p);
    for (size_t i = 0; i < p->nf; i++) {
        assert_true(p->f[i].help);
        assert_int_equal(strncmp(p->f[i].name, "ringalloc_", 10), 0);
    }

    ra_ring_stats rs;
    ra_ring_get_stats(w.ring, &rs);
    assert_int_equal(val(p, "ringalloc_ring_published_total", "name=feed;"), rs.published);
    assert_int_equal(val(p, "ringalloc_ring_published_total", "name=feed;"), 5);
    assert_int_equal(val(p, "ringalloc_ring_published_bytes_total", "name=feed;"), 500);
    assert_int_equal(val(p, "ringalloc_ring_capacity_bytes", "name=feed;"), 4096);
    assert_int_equal(val(p, "ringalloc_ring_next_seq", "name=feed;"), rs.next_seq);
    assert_int_equal(val(p, "ringalloc_ring_hugepages", "name=feed;"), rs.hugepages);

    ra_pool_stats ps;
    ra_pool_get_stats(w.pool, &ps);
    assert_int_equal(val(p, "ringalloc_pool_allocs_total", "name=orders;"), 4);
    assert_int_equal(val(p, "ringalloc_pool_frees_total", "name=orders;"), 1);
    assert_int_equal(val(p, "ringalloc_pool_in_use", "name=orders;"), 3);
    assert_int_equal(val(p, "ringalloc_pool_high_water", "name=orders;"), ps.high_water);
    assert_int_equal(val(p, "ringalloc_pool_failed_total", "name=orders;"), 1);
    assert_int_equal(val(p, "ringalloc_pool_capacity", "name=orders;"), 4);
    assert_int_equal(val(p, "ringalloc_pool_block_size_bytes", "name=orders;"), 64);
    assert_int_equal(val(p, "ringalloc_pool_threadsafe", "name=orders;"), 0);
    /* the escaped name came back intact */
    assert_int_equal(val(p, "ringalloc_pool_allocs_total", "name=we\"ird\\na\nme;"), 1);
    assert_int_equal(val(p, "ringalloc_pool_threadsafe", "name=we\"ird\\na\nme;"), 1);

    assert_int_equal(val(p, "ringalloc_slab_allocs_total", "name=md;"), 3);
    assert_int_equal(val(p, "ringalloc_slab_large_allocs_total", "name=md;"), 1);
    assert_int_equal(val(p, "ringalloc_slab_large_bytes", "name=md;"), 1000);
    assert_int_equal(val(p, "ringalloc_slab_class_allocs_total", "name=md;size=16;"), 1);
    assert_int_equal(val(p, "ringalloc_slab_class_allocs_total", "name=md;size=32;"), 0);
    assert_int_equal(val(p, "ringalloc_slab_class_allocs_total", "name=md;size=64;"), 1);
    assert_int_equal(val(p, "ringalloc_slab_class_capacity", "name=md;size=64;"), 2);

    ra_arena_stats as;
    ra_arena_get_stats(w.arena, &as);
    assert_int_equal(val(p, "ringalloc_arena_used_bytes", "name=session;"), as.bytes_used);
    assert_int_equal(val(p, "ringalloc_arena_failed_total", "name=session;"), 1);
    assert_int_equal(val(p, "ringalloc_arena_max_bytes", "name=session;"), 8192);
    assert_int_equal(val(p, "ringalloc_arena_chunks", "name=session;"), 1);

    /* TYPE lines say what each family is */
    assert_string_equal(find_family(p, "ringalloc_pool_in_use")->type, "gauge");
    assert_string_equal(find_family(p, "ringalloc_pool_allocs_total")->type, "counter");
    free(p);
    free(text);
    free_world(&w);
}

static void test_json(void **state)
{
    (void)state;
    struct world w;
    make_world(&w);
    ra_stats_source src[] = {
        {RA_STATS_RING, NULL, w.ring},   {RA_STATS_POOL, NULL, w.pool},
        {RA_STATS_POOL, NULL, w.weird},  {RA_STATS_SLAB, NULL, w.slab},
        {RA_STATS_ARENA, NULL, w.arena},
    };
    int rc;
    char *text = capture(ra_stats_write_json, src, 5, &rc);
    assert_int_equal(rc, RA_OK);
    assert_json(text);
    assert_non_null(strstr(text, "{\"kind\":\"ring\",\"name\":\"ring\",\"published\":5,"));
    assert_non_null(strstr(text, "{\"kind\":\"pool\",\"name\":\"orders\",\"allocs\":4,\"frees\":1,"
                                 "\"in_use\":3,"));
    assert_non_null(strstr(text, "\"name\":\"we\\\"ird\\\\na\\nme\""));
    assert_non_null(strstr(text, "\"threadsafe\":true"));
    assert_non_null(strstr(text, "\"classes\":[{\"size\":16,\"allocs\":1,"));
    assert_non_null(strstr(text, "\"large_bytes\":1000"));
    assert_non_null(strstr(text, "{\"kind\":\"arena\",\"name\":\"session\",\"bytes_used\":100,"));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);

    text = capture(ra_stats_write_json, NULL, 0, &rc); /* nothing: still valid */
    assert_int_equal(rc, RA_OK);
    assert_string_equal(text, "{\"ringalloc\":[]}\n");
    free(text);
    free_world(&w);
}

struct field_log {
    char text[2048];
    size_t len, bools;
};

static void log_field(void *ctx, const char *name, unsigned long long v, bool is_bool)
{
    struct field_log *l = ctx;
    l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len, ",\"%s\":%llu", name, v);
    l->bools += is_bool;
}

/* ra_stats_fields visits the fields the JSON writer writes, in its order, with the same values */
static void test_fields(void **state)
{
    (void)state;
    struct world w;
    make_world(&w);
    ra_pool_stats ps;
    ra_pool_get_stats(w.pool, &ps);
    struct field_log l = {0};
    assert_int_equal(ra_stats_fields(RA_STATS_POOL, &ps, log_field, &l), RA_OK);
    assert_int_equal(l.bools, 3); /* threadsafe, hugepages, hugepages_fallback */
    assert_non_null(strstr(l.text, ",\"allocs\":4,\"frees\":1,\"in_use\":3,"));
    ra_stats_source src = {RA_STATS_POOL, NULL, w.pool};
    int rc;
    char *text = capture(ra_stats_write_json, &src, 1, &rc);
    assert_int_equal(rc, RA_OK);
    char *numeric = strstr(l.text, ",\"high_water\""); /* JSON writes bools as true/false */
    assert_non_null(numeric);
    *strstr(numeric, ",\"threadsafe\"") = '\0';
    assert_non_null(strstr(text, l.text));
    free(text);

    ra_arena_stats as;
    ra_arena_get_stats(w.arena, &as);
    memset(&l, 0, sizeof l);
    assert_int_equal(ra_stats_fields(RA_STATS_ARENA, &as, log_field, &l), RA_OK);
    assert_true(strncmp(l.text, ",\"bytes_used\":100,", 18) == 0);
    assert_int_equal(l.bools, 0);

    memset(&l, 0, sizeof l);
    assert_int_equal(ra_stats_fields(RA_STATS_READER, &as, log_field, &l), RA_EINVAL);
    assert_int_equal(ra_stats_fields(RA_STATS_POOL, NULL, log_field, &l), RA_EINVAL);
    assert_int_equal(ra_stats_fields(RA_STATS_POOL, &ps, NULL, &l), RA_EINVAL);
    assert_int_equal(l.len, 0);
    free_world(&w);
}

static pthread_barrier_t bar;

static void *trader(void *arg)
{
    (void)arg;
    ra_arena_config c = {.name = "trader"};
    ra_arena *a = ra_arena_thread(&c);
    (void)ra_arena_alloc(a, 640, 64);
    ra_arena_thread_reset();
    pthread_barrier_wait(&bar);
    pthread_barrier_wait(&bar);
    return NULL;
}

static void test_thread_arenas(void **state)
{
    (void)state;
    pthread_t t[2];
    pthread_barrier_init(&bar, NULL, 3);
    for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, trader, NULL), 0);
    pthread_barrier_wait(&bar);
    ra_stats_source src = {RA_STATS_THREAD_ARENAS, NULL, NULL};
    int rc;
    char *text = capture(ra_stats_write_prometheus, &src, 1, &rc);
    assert_int_equal(rc, RA_OK);
    struct prom *p = malloc(sizeof *p);
    parse_prom(text, p);
    int n = 0;
    for (size_t i = 0; i < p->ns; i++)
        if (strcmp(p->s[i].metric, "ringalloc_arena_used_bytes") == 0) {
            assert_int_equal(strncmp(p->s[i].labels, "name=trader-", 12), 0);
            assert_non_null(strstr(p->s[i].labels, ";thread="));
            assert_int_equal(p->s[i].value, 640);
            n++;
        }
    assert_int_equal(n, 2);
    free(p);
    free(text);
    text = capture(ra_stats_write_json, &src, 1, &rc);
    assert_int_equal(rc, RA_OK);
    assert_json(text);
    assert_non_null(strstr(text, "\"sessions\":1,\"bytes_used\":640,"));
    free(text);
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&bar);
}

static void test_errors(void **state)
{
    (void)state;
    struct world w;
    make_world(&w);
    int rc;
    ra_stats_source bad_kind = {99, "x", w.pool};
    char *text = capture(ra_stats_write_prometheus, &bad_kind, 1, &rc);
    assert_int_equal(rc, RA_EINVAL);
    assert_string_equal(text, ""); /* nothing written */
    free(text);
    ra_stats_source no_obj = {RA_STATS_POOL, "x", NULL};
    text = capture(ra_stats_write_json, &no_obj, 1, &rc);
    assert_int_equal(rc, RA_EINVAL);
    free(text);
    ra_stats_source dup[] = {{RA_STATS_POOL, "same", w.pool}, {RA_STATS_POOL, "same", w.weird}};
    text = capture(ra_stats_write_prometheus, dup, 2, &rc);
    assert_int_equal(rc, RA_EINVAL); /* duplicate series */
    free(text);
    assert_int_equal(ra_stats_write_prometheus(NULL, dup, 1), RA_EINVAL);
    assert_int_equal(ra_stats_write_json(stdout, NULL, 1), RA_EINVAL);
    FILE *full = fopen("/dev/full", "w");
    if (full != NULL) {
        assert_int_equal(ra_stats_write_prometheus(full, dup, 1), RA_EIO);
        fclose(full);
    }
    free_world(&w);
}

static void test_textfile(void **state)
{
    (void)state;
    struct world w;
    make_world(&w);
    ra_stats_source src[] = {{RA_STATS_POOL, NULL, w.pool}, {RA_STATS_ARENA, NULL, w.arena}};
    char dir[] = "/tmp/ra_stats_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/ringalloc.prom", dir);
    assert_int_equal(ra_stats_write_textfile(path, src, 2), RA_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char got[16384];
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    int rc;
    char *want = capture(ra_stats_write_prometheus, src, 2, &rc);
    assert_string_equal(got, want);
    free(want);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0); /* renamed away */
    unlink(path);
    rmdir(dir);
    assert_int_equal(ra_stats_write_textfile("/nonexistent-dir/x.prom", src, 2), RA_EIO);
    free_world(&w);
}

/* Ring readers as a source: their counters and lag, parsed back from both writers. */
static void test_reader_source(void **state)
{
    (void)state;
    ra_ring_config rc = {.capacity = 4096};
    ra_ring *r;
    assert_int_equal(ra_ring_create(&r, &rc), RA_OK);
    ra_reader feed, idle;
    assert_int_equal(ra_reader_init(&feed, r, RA_START_OLDEST), RA_OK);
    char msg[100] = {0}, buf[128];
    ra_msg m;
    for (int i = 0; i < 5; i++) assert_int_equal(ra_ring_write(r, 1, 0, msg, 100), RA_OK);
    for (int i = 0; i < 2; i++) assert_int_equal(ra_reader_read(&feed, buf, sizeof buf, &m), RA_OK);
    for (int i = 0; i < 60; i++) assert_int_equal(ra_ring_write(r, 1, 0, msg, 100), RA_OK);
    assert_int_equal(ra_reader_read(&feed, buf, sizeof buf, &m), RA_LAPPED);
    assert_int_equal(ra_reader_read(&feed, buf, sizeof buf, &m), RA_OK);
    assert_int_equal(ra_reader_init(&idle, r, RA_START_NEXT), RA_OK);
    ra_reader_stats fs;
    ra_reader_get_stats(&feed, &fs);
    assert_int_equal(fs.read, 3);
    assert_int_equal(fs.laps, 1);
    unsigned long long lag = ra_reader_lag(&feed);
    assert_int_equal(fs.read + fs.lost + lag, 65); /* every message read, lost or still ahead */
    assert_int_equal(ra_reader_lag(&idle), 0);

    ra_stats_source src[] = {
        {RA_STATS_RING, "md", r}, {RA_STATS_READER, "feed", &feed}, {RA_STATS_READER, NULL, &idle}};
    int rc2;
    char *text = capture(ra_stats_write_prometheus, src, 3, &rc2);
    assert_int_equal(rc2, RA_OK);
    struct prom *p = malloc(sizeof *p);
    parse_prom(text, p);
    assert_int_equal(val(p, "ringalloc_reader_read_total", "name=feed;"), 3);
    assert_int_equal(val(p, "ringalloc_reader_lost_total", "name=feed;"), fs.lost);
    assert_int_equal(val(p, "ringalloc_reader_laps_total", "name=feed;"), 1);
    assert_int_equal(val(p, "ringalloc_reader_lag", "name=feed;"), lag);
    assert_int_equal(val(p, "ringalloc_reader_read_total", "name=reader;"), 0); /* default name */
    assert_int_equal(val(p, "ringalloc_reader_lag", "name=reader;"), 0);
    assert_int_equal(val(p, "ringalloc_ring_published_total", "name=md;"), 65);
    assert_string_equal(find_family(p, "ringalloc_reader_lag")->type, "gauge");
    assert_string_equal(find_family(p, "ringalloc_reader_laps_total")->type, "counter");
    free(p);
    free(text);

    text = capture(ra_stats_write_json, src, 3, &rc2);
    assert_int_equal(rc2, RA_OK);
    assert_json(text);
    char want[160];
    snprintf(want, sizeof want,
             "{\"kind\":\"reader\",\"name\":\"feed\",\"read\":3,\"lost\":%llu,\"laps\":1,"
             "\"lag\":%llu}",
             (unsigned long long)fs.lost, lag);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "{\"kind\":\"reader\",\"name\":\"reader\",\"read\":0,"));
    free(text);

    ra_stats_source dup[] = {{RA_STATS_READER, "x", &feed}, {RA_STATS_READER, "x", &idle}};
    text = capture(ra_stats_write_prometheus, dup, 2, &rc2);
    assert_int_equal(rc2, RA_EINVAL); /* duplicate series */
    free(text);
    ra_stats_source none = {RA_STATS_READER, "x", NULL};
    text = capture(ra_stats_write_json, &none, 1, &rc2);
    assert_int_equal(rc2, RA_EINVAL);
    free(text);
    ra_ring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_parsed_back),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_thread_arenas),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_textfile),
        cmocka_unit_test(test_reader_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
