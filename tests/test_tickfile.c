/* test_tickfile.c - native tick file: writer and reader round trips, streams, pipes, files */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "ringalloc/ringalloc.h"
#include "ringalloc/tickfile.h"
#include "support/ticktest.h"

/* ---- round trips ----------------------------------------------------------------------------- */

static void roundtrip(bool compress, int level, int workers)
{
    recset s = make_records(3000, 42, false);
    ra_tick_writer_config cfg = cfg_for(compress);
    cfg.level = level;
    cfg.workers = workers;
    tspec_buf f = {0};
    write_file(&f, &s, &cfg);
    assert_true(f.len > 64);
    assert_int_equal(ra_tick_probe(f.p, f.len),
                     compress ? RA_TICK_PROBE_ZSTD : RA_TICK_PROBE_PLAIN);
    static const size_t chunks[] = {1, 3, 8, 31, 32, 33, 4096, 65536, 0, (size_t)-1};
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        got g;
        decode(f.p, f.len, chunks[c] == (size_t)-1 ? f.len : chunks[c], &g);
        assert_int_equal(g.status, RA_OK);
        assert_records(&g, &s, s.n);
        assert_int_equal(g.st.records, s.n);
        assert_int_equal(g.st.compressed, compress);
        if (!compress) assert_int_equal(g.st.bytes, f.len);
        if (compress) assert_int_equal(g.st.comp_bytes, f.len);
        got_free(&g);
    }
    /* header fields */
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    assert_null(ra_tick_decoder_info(d));
    assert_int_equal(ra_tick_decoder_push(d, f.p, f.len), RA_OK);
    assert_int_equal(ra_tick_decoder_read_header(d), RA_OK);
    const ra_tick_info *info = ra_tick_decoder_info(d);
    assert_non_null(info);
    assert_int_equal(info->version_major, RA_TICK_VERSION_MAJOR);
    assert_int_equal(info->version_minor, RA_TICK_VERSION_MINOR);
    assert_int_equal(info->created_ns, 1700000000123456789ull);
    assert_string_equal(info->source_format, "pcap");
    assert_string_equal(info->framing, "moldudp64");
    assert_string_equal(info->creator, "test_tickfile");
    assert_int_equal(info->max_payload, RA_TICK_DEFAULT_PAYLOAD);
    assert_int_equal(info->record_header_size, RA_TICK_REC_HDR);
    assert_int_equal(info->compressed, compress);
    ra_tick_decoder_destroy(d);
    tspec_free(&f);
    free_records(&s);
}

static void test_roundtrip_plain(void **state)
{
    (void)state;
    roundtrip(false, 0, 0);
}

static void test_roundtrip_zstd(void **state)
{
    (void)state;
    roundtrip(true, 1, 0);
    roundtrip(true, 19, 0);
    roundtrip(true, 3, 2);
}

/* A file made by hand from the spec equals the writer's output byte for byte. */
static void test_spec_bytes(void **state)
{
    (void)state;
    static const uint32_t ids[] = {7, 1};
    static const char *const descs[] = {"233.54.12.111:26477 moldudp64 session ABCDEF", ""};
    tspec_hdr o = tspec_hdr_default();
    o.nstreams = 2;
    o.ids = ids;
    o.descs = descs;
    ra_tick_writer_config cfg = cfg_for(false);
    cfg.creator = "test";
    tspec_buf out = {0};
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &out, &cfg), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 7, descs[0]), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 1, descs[1]), RA_OK);
    ra_tick_record r = {
        .ts_ns = 1000, .seq = 9, .data = "hello", .len = 5, .stream = 7, .type = 'A'};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    r = (ra_tick_record){.ts_ns = UINT64_MAX, .seq = UINT64_MAX, .stream = 1, .type = 0xFFFF};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    assert_int_equal(ra_tick_writer_add_stream(w, 9, "lat"), RA_OK);
    r = (ra_tick_record){
        .ts_ns = 2000, .seq = 1, .data = "12345678", .len = 8, .stream = 9, .type = 'P'};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    tspec_buf want2 = {0};
    tspec_header(&want2, &o);
    tspec_record(&want2, 32, 5, 'A', 0, 7, 9, 1000, "hello");
    tspec_record(&want2, 32, 0, 0xFFFF, 0, 1, UINT64_MAX, UINT64_MAX, "");
    tspec_record(&want2, 32, 3, 0, RA_TICK_KIND_STREAM, 9, 0, 0, "lat");
    tspec_record(&want2, 32, 8, 'P', 0, 9, 1, 2000, "12345678");
    tspec_end(&want2, 32, 3, 13);
    assert_int_equal(out.len, want2.len);
    assert_memory_equal(out.p, want2.p, out.len);
    tspec_free(&want2);
    tspec_free(&out);
}

/* Records larger than the writer's 256 KiB staging buffer and the decoder's 256 KiB output
 * buffer, up to the 16 MiB limit, between small ones; fast and normal levels. */
static void test_big_records(void **state)
{
    (void)state;
    static const uint32_t lens[] = {1, 300000, 0, RA_TICK_MAX_PAYLOAD, 7, 262143, 262144, 5};
    enum { N = sizeof lens / sizeof *lens };
    uint8_t *payload = malloc(RA_TICK_MAX_PAYLOAD);
    for (uint32_t i = 0; i < RA_TICK_MAX_PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 2654435761u >> 24);
    for (int z = 0; z < 3; z++) {
        ra_tick_writer_config cfg = cfg_for(z > 0);
        cfg.max_payload = RA_TICK_MAX_PAYLOAD;
        cfg.level = z == 2 ? -5 : 1;
        cfg.frame_bytes = 100000;
        tspec_buf f = {0};
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
        ra_tick_record r = {.data = payload, .type = 'Z'};
        for (int i = 0; i < N; i++) {
            r.len = lens[i];
            r.seq = (uint64_t)i;
            assert_int_equal(ra_tick_write(w, &r), RA_OK);
        }
        r.len = RA_TICK_MAX_PAYLOAD + 1;
        assert_int_equal(ra_tick_write(w, &r), RA_ETOOBIG);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);
        static const size_t chunks[] = {4093, 1 << 20, 0};
        for (int c = 0; c < 3; c++) {
            got g;
            decode(f.p, f.len, chunks[c] ? chunks[c] : f.len, &g);
            assert_int_equal(g.status, RA_OK);
            assert_int_equal(g.n, N);
            for (int i = 0; i < N; i++) {
                assert_int_equal(g.r[i].len, lens[i]);
                assert_int_equal(g.r[i].seq, (uint64_t)i);
                assert_memory_equal(g.r[i].data, payload, lens[i]);
            }
            got_free(&g);
        }
        tspec_free(&f);
    }
    free(payload);
}

/* ---- multi-frame files ---------------------------------------------------------------------- */

static void test_multiframe(void **state)
{
    (void)state;
    recset s = make_records(4000, 7, false);
    ra_tick_writer_config cfg = cfg_for(true);
    cfg.frame_bytes = 8192;
    tspec_buf f = {0};
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
    for (size_t i = 0; i < s.n; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    /* count the frames in the file and check each one decodes on its own */
    size_t frames = 0, at = 0;
    uint64_t content = 0;
    size_t *ends = NULL;
    while (at < f.len) {
        size_t fl = ZSTD_findFrameCompressedSize(f.p + at, f.len - at);
        assert_false(ZSTD_isError(fl));
        unsigned long long cs = ZSTD_getFrameContentSize(f.p + at, fl);
        if (cs == ZSTD_CONTENTSIZE_UNKNOWN) {
            ZSTD_DCtx *dc = ZSTD_createDCtx();
            uint8_t *tmp = malloc(1 << 20);
            ZSTD_inBuffer in = {f.p + at, fl, 0};
            cs = 0;
            while (in.pos < in.size) {
                ZSTD_outBuffer o = {tmp, 1 << 20, 0};
                size_t r = ZSTD_decompressStream(dc, &o, &in);
                assert_false(ZSTD_isError(r));
                cs += o.pos;
            }
            free(tmp);
            ZSTD_freeDCtx(dc);
        }
        content += cs;
        at += fl;
        ends = realloc(ends, (frames + 1) * sizeof *ends);
        ends[frames++] = at;
    }
    assert_true(frames > 10);
    got g;
    decode(f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_records(&g, &s, s.n);
    assert_int_equal(g.st.frames, frames);
    assert_int_equal(g.st.bytes, content);
    got_free(&g);
    /* a file cut after any frame is a clean prefix: every record of the kept frames, then
     * RA_ETRUNC at a record boundary (frames end on record boundaries) */
    size_t prev = 0;
    for (size_t k = 0; k + 1 < frames; k++) {
        decode(f.p, ends[k], 4096, &g);
        assert_int_equal(g.status, RA_ETRUNC);
        assert_true(g.n >= prev);
        assert_records(&g, &s, g.n);
        assert_int_equal(g.err.offset, g.st.bytes); /* nothing half-parsed */
        assert_int_equal(g.err.comp_offset, ends[k]);
        assert_int_equal(g.err.frame_offset, ends[k]);
        assert_non_null(strstr(g.err.msg, "no end record"));
        prev = g.n;
        got_free(&g);
    }
    free(ends);
    tspec_free(&f);
    free_records(&s);
}

/* flush() ends a frame: what is on disk so far decodes as a prefix. */
static void test_flush(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        recset s = make_records(100, 9, true);
        ra_tick_writer_config cfg = cfg_for(z);
        tspec_buf f = {0};
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
        for (size_t i = 0; i < 60; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
        assert_int_equal(ra_tick_writer_flush(w), RA_OK);
        size_t cut = f.len;
        for (size_t i = 60; i < s.n; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
        ra_tick_writer_stats ws;
        ra_tick_writer_get_stats(w, &ws);
        assert_int_equal(ws.records, s.n);
        assert_int_equal(ws.frames, z ? 1 : 0);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);
        got g;
        decode(f.p, cut, 0, &g);
        assert_int_equal(g.status, RA_ETRUNC);
        assert_records(&g, &s, 60);
        got_free(&g);
        decode(f.p, f.len, 0, &g);
        assert_int_equal(g.status, RA_OK);
        assert_records(&g, &s, s.n);
        got_free(&g);
        tspec_free(&f);
        free_records(&s);
    }
}

/* ---- stream table --------------------------------------------------------------------------- */

static void test_streams(void **state)
{
    (void)state;
    for (int z = 0; z < 2; z++) {
        char long_desc[65536];
        memset(long_desc, 'x', sizeof long_desc);
        long_desc[65535] = '\0';
        ra_tick_writer_config cfg = cfg_for(z);
        tspec_buf f = {0};
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 0,
                                                   "233.54.12.111:26477 moldudp64 session "
                                                   "ABCDEF"),
                         RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 0, "again"), RA_EINVAL);
        assert_int_equal(ra_tick_writer_add_stream(w, 5, ""), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 6, long_desc), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 1, NULL), RA_EINVAL);
        char *too_long = malloc(70000);
        memset(too_long, 'y', 69999);
        too_long[69999] = '\0';
        assert_int_equal(ra_tick_writer_add_stream(w, 8, too_long), RA_EINVAL);
        free(too_long);
        ra_tick_record r = {.ts_ns = 1, .data = "abc", .len = 3, .stream = 0, .type = 'A'};
        assert_int_equal(ra_tick_write(w, &r), RA_OK);
        /* declared after the first record: stream records */
        assert_int_equal(ra_tick_writer_add_stream(w, 77, "10.0.0.1:5000 iextp channel 1"), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 5, "dup of a header stream"), RA_EINVAL);
        r.stream = 77;
        assert_int_equal(ra_tick_write(w, &r), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 0xFFFFFFFFu, "last"), RA_OK);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);

        ra_tick_decoder *d;
        assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
        assert_int_equal(ra_tick_decoder_push(d, f.p, f.len), RA_OK);
        assert_int_equal(ra_tick_decoder_read_header(d), RA_OK);
        const ra_tick_info *info = ra_tick_decoder_info(d);
        assert_int_equal(info->nstreams, 3);
        assert_int_equal(info->header_streams, 3);
        assert_int_equal(info->streams[0].id, 0);
        assert_string_equal(info->streams[0].desc, "233.54.12.111:26477 moldudp64 session ABCDEF");
        assert_int_equal(info->streams[1].desc_len, 0);
        assert_string_equal(info->streams[1].desc, "");
        assert_int_equal(info->streams[2].desc_len, 65535);
        assert_null(ra_tick_decoder_stream(d, 77));
        ra_tick_record got_r;
        assert_int_equal(ra_tick_decoder_next(d, &got_r), RA_OK);
        assert_int_equal(got_r.stream, 0);
        assert_int_equal(ra_tick_decoder_next(d, &got_r), RA_OK);
        assert_int_equal(got_r.stream, 77);
        const ra_tick_stream *st = ra_tick_decoder_stream(d, 77);
        assert_non_null(st);
        assert_string_equal(st->desc, "10.0.0.1:5000 iextp channel 1");
        assert_int_equal(ra_tick_decoder_next(d, &got_r), RA_EMPTY);
        info = ra_tick_decoder_info(d);
        assert_int_equal(info->nstreams, 5);
        assert_int_equal(info->header_streams, 3);
        assert_string_equal(info->streams[4].desc, "last");
        assert_string_equal(ra_tick_decoder_stream(d, 6)->desc, long_desc);
        assert_int_equal(ra_tick_decoder_finish(d), RA_OK);
        ra_tick_decoder_destroy(d);
        tspec_free(&f);
    }
}

/* Many streams: the hash table grows; a table too big for the 1 MiB header goes out as stream
 * records. */
static void test_many_streams(void **state)
{
    (void)state;
    enum { N = 30000 };
    tspec_buf f = {0};
    ra_tick_writer_config cfg = cfg_for(true);
    ra_tick_writer *w;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
    char desc[64];
    for (uint32_t i = 0; i < N; i++) {
        snprintf(desc, sizeof desc, "239.0.%u.%u:30001 moldudp64 session S%08u", i / 256, i % 256,
                 i * 7919u);
        assert_int_equal(ra_tick_writer_add_stream(w, i * 7919u, desc), RA_OK);
    }
    ra_tick_record r = {.data = "z", .len = 1, .stream = 7919};
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    ra_tick_decoder *d;
    assert_int_equal(ra_tick_decoder_create(&d), RA_OK);
    got g;
    decode_with(d, f.p, f.len, 100000, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nstreams, N);
    assert_int_equal(ra_tick_decoder_info(d)->header_streams, 0);
    for (uint32_t i = 0; i < N; i += 97) {
        snprintf(desc, sizeof desc, "239.0.%u.%u:30001 moldudp64 session S%08u", i / 256, i % 256,
                 i * 7919u);
        const ra_tick_stream *st = ra_tick_decoder_stream(d, i * 7919u);
        assert_non_null(st);
        assert_string_equal(st->desc, desc);
    }
    assert_null(ra_tick_decoder_stream(d, 1));
    got_free(&g);
    ra_tick_decoder_destroy(d);
    tspec_free(&f);
}

/* ---- files and pipes ------------------------------------------------------------------------ */

typedef struct pipe_job {
    int fd;
    const recset *s;
    bool compress;
    int rc;
} pipe_job;

static void *pipe_writer(void *arg)
{
    pipe_job *j = arg;
    FILE *fp = fdopen(j->fd, "wb");
    ra_tick_writer_config cfg = cfg_for(j->compress);
    cfg.frame_bytes = 100000;
    ra_tick_writer *w;
    j->rc = ra_tick_writer_open_fp(&w, fp, &cfg);
    if (j->rc == RA_OK) {
        for (size_t i = 0; i < j->s->n && j->rc == RA_OK; i++)
            j->rc = ra_tick_write(w, &j->s->r[i]);
        int rc = ra_tick_writer_close(w);
        if (j->rc == RA_OK) j->rc = rc;
    }
    fclose(fp);
    return NULL;
}

static void read_all(ra_tick_reader *r, const recset *s, int want_end, size_t want_n)
{
    ra_tick_record rec;
    size_t n = 0;
    int rc;
    while ((rc = ra_tick_reader_next(r, &rec)) == RA_OK) {
        assert_true(n < s->n);
        if (!same_record(&rec, &s->r[n])) fail_msg("record %zu differs", n);
        n++;
    }
    assert_int_equal(rc, want_end);
    assert_int_equal(n, want_n);
    assert_int_equal(ra_tick_reader_next(r, &rec), want_end); /* the end stays the end */
}

static void test_pipe(void **state)
{
    (void)state;
    recset s = make_records(20000, 3, false); /* well past the 64 KiB pipe buffer */
    for (int mode = 0; mode < 6; mode++) {
        bool z = mode & 1;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pipe_job j = {.fd = fds[1], .s = &s, .compress = z};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, pipe_writer, &j), 0);
        ra_tick_reader *r = NULL;
        ra_tick_error err;
        if (mode < 2) { /* FILE*, no prefix */
            FILE *fp = fdopen(fds[0], "rb");
            assert_int_equal(ra_tick_reader_open_fp(&r, fp, NULL, 0, &err), RA_OK);
            assert_int_equal(ra_tick_reader_info(r)->compressed, z);
            read_all(r, &s, RA_EMPTY, s.n);
            ra_tick_reader_close(r);
            fclose(fp);
        } else if (mode < 4) { /* the caller sniffed 5 bytes first */
            FILE *fp = fdopen(fds[0], "rb");
            uint8_t head[5];
            assert_int_equal(fread(head, 1, 5, fp), 5);
            assert_int_equal(ra_tick_probe(head, 5), RA_TICK_PROBE_MORE);
            assert_int_equal(ra_tick_reader_open_fp(&r, fp, head, 5, &err), RA_OK);
            read_all(r, &s, RA_EMPTY, s.n);
            ra_tick_reader_close(r);
            fclose(fp);
        } else { /* "-" is stdin */
            int saved = dup(STDIN_FILENO);
            assert_true(saved >= 0);
            assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
            close(fds[0]);
            assert_int_equal(ra_tick_reader_open(&r, "-", &err), RA_OK);
            read_all(r, &s, RA_EMPTY, s.n);
            ra_tick_reader_close(r);
            assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
            close(saved);
        }
        pthread_join(t, NULL);
        assert_int_equal(j.rc, RA_OK);
    }
    free_records(&s);
}

static void test_files(void **state)
{
    (void)state;
    recset s = make_records(5000, 11, false);
    char path[] = "/tmp/test_tickfile_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int z = 0; z < 2; z++) {
        ra_tick_writer_config cfg = cfg_for(z);
        ra_tick_writer *w;
        assert_int_equal(ra_tick_writer_open(&w, path, &cfg), RA_OK);
        assert_int_equal(ra_tick_writer_add_stream(w, 2, "two"), RA_OK);
        for (size_t i = 0; i < s.n; i++) assert_int_equal(ra_tick_write(w, &s.r[i]), RA_OK);
        assert_int_equal(ra_tick_writer_close(w), RA_OK);
        ra_tick_reader *r;
        ra_tick_error err;
        assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_OK);
        assert_string_equal(ra_tick_decoder_stream(ra_tick_reader_decoder(r), 2)->desc, "two");
        read_all(r, &s, RA_EMPTY, s.n);
        assert_int_equal(ra_tick_reader_error(r)->status, RA_OK);
        ra_tick_reader_close(r);
        /* cut the file on disk: every complete record, then RA_ETRUNC */
        FILE *fp = fopen(path, "rb");
        fseek(fp, 0, SEEK_END);
        long size = ftell(fp);
        fclose(fp);
        assert_int_equal(truncate(path, size - 3), 0);
        assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_OK);
        read_all(r, &s, RA_ETRUNC, s.n);
        const ra_tick_error *e = ra_tick_reader_error(r);
        assert_int_equal(e->status, RA_ETRUNC);
        if (z) assert_int_equal(e->comp_offset, (uint64_t)size - 3);
        ra_tick_reader_close(r);
    }
    unlink(path);
    ra_tick_reader *r = (ra_tick_reader *)&s; /* must be reset to NULL on failure */
    ra_tick_error err;
    assert_int_equal(ra_tick_reader_open(&r, "/nonexistent/x.rtk", &err), RA_EIO);
    assert_null(r);
    assert_int_equal(err.status, RA_EIO);
    assert_non_null(strstr(err.msg, "cannot open"));
    /* a file that is not a tick file */
    strcpy(path, "/tmp/test_tickfile_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\xd4\xc3\xb2\xa1\x02\x00\x04\x00 pcap", 13), 13);
    close(fd);
    assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_EFORMAT);
    assert_int_equal(err.offset, 0);
    /* an empty file */
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(ra_tick_reader_open(&r, path, &err), RA_EFORMAT);
    assert_non_null(strstr(err.msg, "empty"));
    unlink(path);
    free_records(&s);
}

/* ---- writer errors ------------------------------------------------------------------------- */

static void test_writer_errors(void **state)
{
    (void)state;
    ra_tick_writer *w = NULL;
    ra_tick_writer_config cfg = cfg_for(true);
    tspec_buf f = {0};
    cfg.level = 99;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_EINVAL);
    assert_null(w);
    cfg = cfg_for(false);
    cfg.max_payload = RA_TICK_MAX_PAYLOAD + 1;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_EINVAL);
    assert_int_equal(ra_tick_writer_open_sink(&w, NULL, &f, NULL), RA_EINVAL);
    assert_int_equal(ra_tick_writer_open_fp(&w, NULL, NULL), RA_EINVAL);
    assert_int_equal(ra_tick_writer_open(&w, "/nonexistent/dir/x.rtk", NULL), RA_EIO);
    assert_null(w);
    /* too big: refused, the file stays valid */
    cfg.max_payload = 16;
    assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
    char p[17] = "0123456789abcdef";
    ra_tick_record r = {.data = p, .len = 17};
    assert_int_equal(ra_tick_write(w, &r), RA_ETOOBIG);
    r.len = 16;
    assert_int_equal(ra_tick_write(w, &r), RA_OK);
    r.data = NULL;
    assert_int_equal(ra_tick_write(w, &r), RA_EINVAL);
    r.len = 0;
    assert_int_equal(ra_tick_write(w, &r), RA_OK); /* empty payload, no data pointer */
    assert_int_equal(ra_tick_writer_close(w), RA_OK);
    got g;
    decode(f.p, f.len, 0, &g);
    assert_int_equal(g.status, RA_OK);
    assert_int_equal(g.n, 2);
    got_free(&g);
    tspec_free(&f);
    /* a failing sink: RA_EIO, sticky, and from close */
    for (int z = 0; z < 2; z++) {
        recset s = make_records(3000, 4, true);
        cfg = cfg_for(z);
        f.fail_after = 100000;
        assert_int_equal(ra_tick_writer_open_sink(&w, tspec_sink, &f, &cfg), RA_OK);
        int rc = RA_OK;
        size_t i = 0;
        for (; i < s.n && rc == RA_OK; i++) rc = ra_tick_write(w, &s.r[i]);
        assert_int_equal(rc, RA_EIO);
        assert_int_equal(ra_tick_write(w, &s.r[0]), RA_EIO);
        assert_int_equal(ra_tick_writer_add_stream(w, 1, "x"), RA_EIO);
        assert_int_equal(ra_tick_writer_flush(w), RA_EIO);
        assert_int_equal(ra_tick_writer_close(w), RA_EIO);
        tspec_free(&f);
        free_records(&s);
    }
    /* a full disk */
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(ra_tick_writer_open(&w, "/dev/full", NULL), RA_OK);
        ra_tick_record one = {.data = "x", .len = 1};
        assert_int_equal(ra_tick_write(w, &one), RA_OK); /* staged */
        assert_int_equal(ra_tick_writer_close(w), RA_EIO);
    }
    assert_int_equal(ra_tick_writer_close(NULL), RA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_plain),
        cmocka_unit_test(test_roundtrip_zstd),
        cmocka_unit_test(test_spec_bytes),
        cmocka_unit_test(test_big_records),
        cmocka_unit_test(test_multiframe),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_many_streams),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_writer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
