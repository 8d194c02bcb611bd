/* convert.c - `replay convert`: any input replay reads -> a native tick file (.rtk, .rtk.zst)
 *
 * Design notes
 * - Everything goes through the input layer (rp_source_next_event), so a tick file holds exactly
 *   the messages a replay of the same inputs would put in the ring, and a mark record for every
 *   sequenced packet (MoldUDP64 / IEX-TP, heartbeats included) before that packet's messages.
 *   Replaying the tick file then redoes the same gap and heartbeat accounting from the marks
 *   (docs/tickfile.md "Replay conventions").
 * - All inputs are opened first: their formats go into the header (written before the first
 *   record), and a missing or unreadable input fails before any output exists. Memory is one
 *   source per input (its window, zstd and libpcap buffers) plus the writer's: it does not grow
 *   with file sizes.
 * - Stream ids: the first input keeps its own; each later input's streams get fresh ids above
 *   every id used so far, so streams of different inputs never merge (their gap counters stay
 *   apart, as they are when a replay reads the inputs one after the other). Each id is declared
 *   (ra_tick_writer_add_stream) with its description the first time it is used.
 * - The output is written to a temporary file beside it and renamed into place at the end, so
 *   OUT is either complete or untouched; "-" writes to stdout directly.
 * - --to itch: the same walk writes each message as a u16 big-endian length and its bytes (the
 *   form in_itch.c reads) straight to the output, with no tick writer. Marks only tell which
 *   streams carry ITCH (MoldUDP64) and which do not (IEX-TP); a message that is not ITCH (DBN,
 *   IEX-TP, raw UDP payloads, untyped) stops the conversion with an input error.
 * - The progress line (a TTY) is drawn from the producer loop itself, at most every 250 ms, the
 *   clock being read once per 4096 events.
 */
#include "convert.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ringalloc/byteorder.h"
#include "framing.h"
#include "outfile.h"
#include "report.h"
#include "run.h"

#define RP__OUT_BUF (1u << 20) /* stdio buffer of the output file */

#define RP__PROGRESS_NS  250000000u
#define RP__ITCH_STREAMS 256u /* streams per input whose marks --to itch remembers */

/* Stream id mapping for one input: input id -> output id (key: the 4 id bytes). */
typedef struct rp__idmap {
    rp_streams table;
    bool identity; /* the first input: ids kept */
} rp__idmap;

typedef struct rp__conv {
    const rp_convert_opts *o;
    rp_convert_result *res;
    ra_tick_writer *w;
    FILE *out;           /* of.f */
    rp_outfile of;       /* the output (outfile.h) */
    uint64_t next_id;    /* fresh output ids start here (above every id used) */
    uint64_t total_size; /* sum of input sizes, 0 when unknown */
    uint64_t t0, next_draw;
    bool drawn;
    bool abandon; /* after an error: the sink drops everything (no end record reaches stdout) */
    /* --to itch: the input's default, and what each stream's marks said (0 nothing, 1 ITCH,
     * 2 not ITCH) */
    bool itch_dflt;
    uint8_t stream_itch[RP__ITCH_STREAMS];
    char *err;
    size_t errlen;
} rp__conv;

/* The output id of input stream `id`, declaring it on first use.
 * @return 0 with *out set, or -1 with c->err set (ids exhausted, writer error, no memory). */
static int rp__map_stream(rp__conv *c, rp__idmap *m, const rp_source *s, uint32_t id, uint32_t *out)
{
    if (id == RP_NO_STREAM) {
        *out = id;
        return 0;
    }
    uint8_t key[4] = {(uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
    bool created;
    rp_stream *e = rp_streams_get(&m->table, key, sizeof key, &created);
    if (!e) {
        snprintf(c->err, c->errlen, "%s: out of memory for the stream table", c->o->output);
        return -1;
    }
    if (!created) {
        *out = e->id;
        return 0;
    }
    uint64_t oid = m->identity ? id : c->next_id++;
    if (oid >= RP_NO_STREAM) {
        snprintf(c->err, c->errlen, "%s: stream ids exhausted (inputs use ids up to 0x%" PRIx32 ")",
                 c->o->output, id);
        return -1;
    }
    e->id = (uint32_t)oid;
    if (oid + 1 > c->next_id) c->next_id = oid + 1;
    char desc[256];
    if (rp_source_stream_desc(s, id, desc, sizeof desc) == 0) {
        int rc = ra_tick_writer_add_stream(c->w, e->id, desc);
        if (rc == RA_OK) {
            c->res->streams++;
        } else if (rc != RA_EINVAL) { /* EINVAL: more than the format's limit, left undeclared */
            snprintf(c->err, c->errlen, "%s: cannot write: %s", c->o->output,
                     rc == RA_EIO ? strerror(errno) : ra_strerror(rc));
            return -1;
        }
    }
    *out = e->id;
    return 0;
}

static void rp__progress(rp__conv *c, uint64_t done, uint64_t msgs)
{
    uint64_t now = rp_now_ns();
    if (now < c->next_draw) return;
    c->next_draw = now + RP__PROGRESS_NS;
    rp_draw_progress("convert: ", done, c->total_size, msgs, (double)(now - c->t0) / 1e9);
    c->drawn = true;
}

/* The writer's failure as a message naming the output. */
static int rp__write_fail(rp__conv *c, int rc)
{
    if (rc == RA_EIO)
        snprintf(c->err, c->errlen, "%s: write error: %s", c->o->output,
                 errno ? strerror(errno) : "I/O error");
    else
        snprintf(c->err, c->errlen, "%s: cannot write: %s", c->o->output, ra_strerror(rc));
    return RP_CONVERT_EOUTPUT;
}

/* --to itch: one event of source s. A mark notes what its stream carries; a message is written
 * as u16 big-endian length + bytes when it is ITCH.
 * @return RP_CONVERT_OK, or an error with c->err set (not ITCH, or the write failed). */
static int rp__itch_event(rp__conv *c, rp_source *s, const char *path, int ev, const rp_message *m,
                          const rp_mark *k)
{
    if (ev == 2) {
        if (k->stream < RP__ITCH_STREAMS && k->framing != RP_FRAMING_AUTO)
            c->stream_itch[k->stream] = k->framing == RP_FRAMING_MOLDUDP64 ? 1 : 2;
        return RP_CONVERT_OK;
    }
    uint8_t said = m->stream < RP__ITCH_STREAMS ? c->stream_itch[m->stream] : 0;
    if (m->type == RP_TYPE_NONE || m->len == 0 || m->len > 0xFFFFu ||
        !(said ? said == 1 : c->itch_dflt)) {
        snprintf(c->err, c->errlen,
                 "%s: message %" PRIu64 " is not ITCH 5.0 (%s input%s): --to itch needs ITCH "
                 "inputs (ITCH files, MoldUDP64 captures, tick files of those)",
                 path, rp_source_stats(s)->messages, rp_source_format_name(s),
                 said == 2 ? ", IEX-TP stream" : "");
        return RP_CONVERT_EINPUT;
    }
    uint8_t len[2];
    ra_store_be16(len, m->len);
    if (fwrite(len, 1, 2, c->out) != 2 || fwrite(m->data, 1, m->len, c->out) != m->len)
        return rp__write_fail(c, RA_EIO);
    c->res->out_bytes += 2u + m->len;
    c->res->msg_bytes += m->len;
    return RP_CONVERT_OK;
}

/* One event of source s into the tick writer: a mark record, or a data record.
 * @return RP_CONVERT_OK, or an error with c->err set. */
static int rp__rtk_event(rp__conv *c, rp_source *s, const char *path, rp__idmap *map, int ev,
                         const rp_message *m, const rp_mark *k)
{
    int rc;
    uint32_t id;
    if (ev == 2) {
        if (rp__map_stream(c, map, s, k->stream, &id) != 0) return RP_CONVERT_EOUTPUT;
        ra_tick_mark tm = {.ts_ns = k->ts_ns,
                           .seq = k->seq,
                           .stream = id,
                           .count = k->count,
                           .flags =
                               (uint16_t)((k->heartbeat ? RA_TICK_MARK_HEARTBEAT : 0) |
                                          (k->end_of_session ? RA_TICK_MARK_END_OF_SESSION : 0)),
                           .framing = k->framing == RP_FRAMING_MOLDUDP64 ? RA_TICK_FRAMING_MOLDUDP64
                                      : k->framing == RP_FRAMING_IEXTP   ? RA_TICK_FRAMING_IEXTP
                                                                         : RA_TICK_FRAMING_UNKNOWN};
        rc = ra_tick_write_mark(c->w, &tm);
        c->res->marks++;
    } else {
        if (rp__map_stream(c, map, s, m->stream, &id) != 0) return RP_CONVERT_EOUTPUT;
        ra_tick_record rec = {.ts_ns = m->ts_ns,
                              .seq = m->seq,
                              .data = m->data,
                              .len = m->len,
                              .stream = id,
                              .type = m->type};
        rc = ra_tick_write(c->w, &rec);
        c->res->msg_bytes += m->len;
        if (m->type == RP_TYPE_NONE) c->res->untyped++;
    }
    if (rc == RA_ETOOBIG) {
        snprintf(c->err, c->errlen,
                 "%s: a message of %" PRIu32 " bytes is larger than a tick file allows", path,
                 m->len);
        return RP_CONVERT_EINPUT;
    }
    return rc == RA_OK ? RP_CONVERT_OK : rp__write_fail(c, rc);
}

/* Copies one opened source into the output. @return RP_CONVERT_OK or an error (c->err set). */
static int rp__copy(rp__conv *c, rp_source *s, const char *path, rp__idmap *map, uint64_t before)
{
    rp_convert_result *res = c->res;
    rp_message m;
    rp_mark k;
    unsigned tick = 0;
    for (;;) {
        if (rp_stop_requested()) {
            snprintf(c->err, c->errlen, "interrupted: %s not written", c->o->output);
            return RP_CONVERT_STOPPED;
        }
        int ev = rp_source_next_event(s, &m, &k);
        if (ev == 0) break;
        if (ev < 0) {
            snprintf(c->err, c->errlen, "%s", rp_source_error(s));
            return RP_CONVERT_EINPUT;
        }
        int rc = c->o->to == RP_CONVERT_TO_ITCH ? rp__itch_event(c, s, path, ev, &m, &k)
                                                : rp__rtk_event(c, s, path, map, ev, &m, &k);
        if (rc != RP_CONVERT_OK) return rc;
        if (c->o->progress && (++tick & 4095u) == 0)
            rp__progress(c, before + rp_source_offset(s),
                         res->feed.messages + rp_source_stats(s)->messages);
    }
    const rp_feed_stats *st = rp_source_stats(s);
    for (size_t w = 0; w < rp_source_warning_count(s); w++)
        rp_note_warning(res->warnings, sizeof(res->warnings), path, rp_source_warning(s, w));
    if (st->truncated) {
        if (c->o->strict) {
            snprintf(c->err, c->errlen,
                     "%s: the input ends inside its last record (truncated after %" PRIu64
                     " bytes; --strict)",
                     path, st->bytes);
            return RP_CONVERT_EINPUT;
        }
        rp_note_warning(res->warnings, sizeof(res->warnings), path,
                        "the last record is truncated (converted what precedes it)");
    }
    rp_feed_stats_add(&res->feed, st);
    res->in_bytes += st->bytes;
    uint64_t size = rp_source_size(s);
    res->in_size += size ? size : rp_source_offset(s);
    return RP_CONVERT_OK;
}

/* The writer's sink: the output FILE, counting what it is given. */
static int rp__sink(void *ctx, const void *buf, size_t len)
{
    rp__conv *c = ctx;
    if (c->abandon) return -1;
    if (fwrite(buf, 1, len, c->out) != len) return -1;
    c->res->out_bytes += len;
    return 0;
}

/* Opens the tick writer over the output. @return 0, or -1 with c->err set. */
static int rp__writer(rp__conv *c, uint32_t max_payload)
{
    const rp_convert_opts *o = c->o;
    char creator[64];
    snprintf(creator, sizeof creator, "replay (ringalloc %s)", ra_version_string());
    const char *framing = o->src.framing ? rp_framing_name(o->src.framing) : "";
    ra_tick_writer_config wc = {.compress = o->compress,
                                .level = o->level,
                                .workers = o->workers,
                                .frame_bytes = o->frame_size,
                                .max_payload = max_payload,
                                .source_format = c->res->formats,
                                .framing = framing,
                                .creator = creator};
    int wrc = ra_tick_writer_open_sink(&c->w, rp__sink, c, &wc);
    if (wrc == RA_OK) return 0;
    snprintf(c->err, c->errlen, "%s: cannot write a tick file: %s", o->output,
             wrc == RA_EINVAL ? "bad settings (zstd level?)" : ra_strerror(wrc));
    return -1;
}

/* Closes the tick writer: close() adds the end record (32-byte header + 16) and, compressed,
 * ends the last frame (never empty: it holds the end record); the writer is gone afterwards.
 * @return RP_CONVERT_OK, or RP_CONVERT_EOUTPUT with c->err set. */
static int rp__writer_close(rp__conv *c)
{
    ra_tick_writer_stats ws;
    ra_tick_writer_get_stats(c->w, &ws);
    c->res->rtk_bytes = ws.bytes_in + RA_TICK_REC_HDR + 16;
    c->res->frames = ws.frames + (c->o->compress ? 1 : 0);
    int wrc = ra_tick_writer_close(c->w);
    c->w = NULL;
    return wrc == RA_OK ? RP_CONVERT_OK : rp__write_fail(c, wrc);
}

int rp_convert(const rp_convert_opts *o, rp_convert_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    rp__conv c = {.o = o, .res = res, .err = err, .errlen = errlen};
    c.t0 = rp_now_ns();
    c.next_draw = c.t0 + RP__PROGRESS_NS;
    int rc = RP_CONVERT_EINPUT;
    rp_source **srcs = calloc(o->ninputs ? o->ninputs : 1, sizeof *srcs);
    if (!srcs) {
        snprintf(err, errlen, "out of memory");
        return RP_CONVERT_EINPUT;
    }
    uint32_t max_payload = RA_TICK_DEFAULT_PAYLOAD;
    bool sizes_known = true;
    for (size_t i = 0; i < o->ninputs; i++) {
        if (rp_source_open(&srcs[i], o->inputs[i], &o->src, err, errlen) != 0) goto out;
        if (o->to == RP_CONVERT_TO_ITCH && rp_source_dbn_meta(srcs[i])) {
            snprintf(err, errlen,
                     "%s: a DBN input is not ITCH 5.0: --to itch needs ITCH inputs (ITCH files, "
                     "MoldUDP64 captures, tick files of those)",
                     o->inputs[i]);
            goto out;
        }
        rp_note_name(res->formats, sizeof res->formats, rp_source_format_name(srcs[i]));
        res->in_compressed = res->in_compressed || rp_source_compressed(srcs[i]);
        const ra_tick_info *ti = rp_source_tick_info(srcs[i]);
        if (ti && ti->max_payload > max_payload) max_payload = ti->max_payload;
        uint64_t size = rp_source_size(srcs[i]);
        if (!size) sizes_known = false;
        c.total_size += size;
    }
    if (!sizes_known) c.total_size = 0;

    rc = RP_CONVERT_EOUTPUT;
    if (rp_outfile_open(&c.of, o->output, o->force, err, errlen) != 0) goto out;
    c.out = c.of.f;
    if (c.out != stdout) setvbuf(c.out, NULL, _IOFBF, RP__OUT_BUF);
    if (o->to == RP_CONVERT_TO_RTK && rp__writer(&c, max_payload) != 0) goto out;
    uint64_t before = 0;
    for (size_t i = 0; i < o->ninputs; i++) {
        rp__idmap map = {.identity = i == 0};
        c.itch_dflt = rp_source_itch(srcs[i]);
        memset(c.stream_itch, 0, sizeof c.stream_itch);
        rp_streams_init(&map.table, (size_t)1 << 22);
        rc = rp__copy(&c, srcs[i], o->inputs[i], &map, before);
        rp_streams_free(&map.table);
        if (rc != RP_CONVERT_OK) goto out;
        uint64_t size = rp_source_size(srcs[i]);
        before += size ? size : rp_source_offset(srcs[i]);
        rp_source_close(srcs[i]);
        srcs[i] = NULL;
    }
    if (o->to == RP_CONVERT_TO_RTK && (rc = rp__writer_close(&c)) != RP_CONVERT_OK) goto out;
    rc = rp_outfile_commit(&c.of, err, errlen) == 0 ? RP_CONVERT_OK : RP_CONVERT_EOUTPUT;
out:
    if (c.drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    if (c.w) { /* after an error: the output is discarded, and a reader of stdout sees a cut file */
        c.abandon = true;
        (void)ra_tick_writer_close(c.w);
    }
    rp_outfile_abort(&c.of); /* nothing left after commit; else the temporary file goes */
    for (size_t i = 0; i < o->ninputs; i++) rp_source_close(srcs[i]);
    free(srcs);
    res->seconds = (double)(rp_now_ns() - c.t0) / 1e9;
    return rc;
}

/* ---- reports ------------------------------------------------------------------------------- */

static double rp__ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

void rp_convert_report_human(FILE *f, const rp_convert_opts *o, const rp_convert_result *r)
{
    const rp_feed_stats *fd = &r->feed;
    char a[32], b[32], c[32], d[32];
    fprintf(f, "convert: %s (%s) from %zu input%s (%s%s)\n", o->output,
            o->to == RP_CONVERT_TO_ITCH ? "ITCH 5.0 file"
            : o->compress               ? "zstd tick file"
                                        : "plain tick file, uncompressed",
            o->ninputs, o->ninputs == 1 ? "" : "s", r->formats, r->in_compressed ? ", zstd" : "");
    fprintf(f,
            "         %" PRIu64 " messages, %" PRIu64 " marks, %" PRIu64 " streams, %" PRIu64
            " heartbeats, %" PRIu64 " gaps (%" PRIu64 " missing), %" PRIu64 " backward\n",
            fd->messages, r->marks, r->streams, fd->heartbeats, fd->gaps, fd->missing,
            fd->backward);
    rp_report_by_type_line(f, "         by type: ", fd->by_type, fd->type_is_char);
    rp_fmt_bytes(a, sizeof a, (double)r->in_size);
    rp_fmt_bytes(b, sizeof b, (double)r->in_bytes);
    rp_fmt_bytes(c, sizeof c, (double)r->rtk_bytes);
    rp_fmt_bytes(d, sizeof d, (double)r->out_bytes);
    if (o->to == RP_CONVERT_TO_ITCH) {
        fprintf(f, "Size:    input %s (%s decompressed) -> written %s\n", a, b, d);
    } else {
        fprintf(f, "Size:    input %s (%s decompressed) -> .rtk %s -> written %s\n", a, b, c, d);
        fprintf(f, "         compression ratio %.2f (.rtk / written), output/input %.2f",
                rp__ratio(r->rtk_bytes, r->out_bytes), rp__ratio(r->out_bytes, r->in_size));
        if (o->compress)
            fprintf(f, ", %" PRIu64 " zstd frame%s", r->frames, r->frames == 1 ? "" : "s");
        fputc('\n', f);
    }
    double secs = r->seconds > 0 ? r->seconds : 0;
    fprintf(f, "Rate:    %.3f s, %.1f MB/s of input (decompressed), %.0f messages/s\n", secs,
            secs > 0 ? (double)r->in_bytes / 1e6 / secs : 0.0,
            secs > 0 ? (double)fd->messages / secs : 0.0);
}

int rp_convert_report_json(FILE *f, const rp_convert_opts *o, const rp_convert_result *r)
{
    rp_json_doc d;
    if (rp_json_doc_begin(&d) != 0) return -1;
    rp_json *const j = &d.j;
    const rp_feed_stats *fd = &r->feed;
    rp_json_str(j, "version", ra_version_string());
    rp_json_str(j, "output", o->output);
    rp_json_str(j, "to", o->to == RP_CONVERT_TO_ITCH ? "itch" : "rtk");
    rp_json_bool(j, "compressed", o->compress);
    rp_json_array_begin(j, "inputs");
    for (size_t i = 0; i < o->ninputs; i++) rp_json_str(j, NULL, o->inputs[i]);
    rp_json_array_end(j);
    rp_json_str(j, "formats", r->formats);
    rp_json_bool(j, "inputs_compressed", r->in_compressed);
    rp_json_bool(j, "truncated", fd->truncated);
    rp_json_object_begin(j, "feed");
    rp_json_u64(j, "messages", fd->messages);
    rp_report_by_type_json(j, "by_type", fd->by_type, fd->type_is_char);
    rp_json_u64(j, "untyped", r->untyped);
    rp_json_u64(j, "heartbeats", fd->heartbeats);
    rp_json_u64(j, "gaps", fd->gaps);
    rp_json_u64(j, "missing", fd->missing);
    rp_json_u64(j, "backward", fd->backward);
    rp_json_u64(j, "message_bytes", r->msg_bytes);
    rp_report_times_json(j, fd, false);
    rp_json_object_end(j);
    rp_json_u64(j, "marks", r->marks);
    rp_json_u64(j, "streams", r->streams);
    rp_json_object_begin(j, "size");
    rp_json_u64(j, "input", r->in_size);
    rp_json_u64(j, "input_decompressed", r->in_bytes);
    rp_json_u64(j, "rtk", r->rtk_bytes);
    rp_json_u64(j, "output", r->out_bytes);
    rp_json_u64(j, "frames", r->frames);
    rp_json_f64(j, "compression_ratio", rp__ratio(r->rtk_bytes, r->out_bytes), 3);
    rp_json_f64(j, "output_to_input", rp__ratio(r->out_bytes, r->in_size), 3);
    rp_json_object_end(j);
    rp_json_object_begin(j, "throughput");
    rp_json_f64(j, "seconds", r->seconds, 6);
    rp_json_f64(j, "mb_per_sec", r->seconds > 0 ? (double)r->in_bytes / 1e6 / r->seconds : 0, 3);
    rp_json_f64(j, "msgs_per_sec", r->seconds > 0 ? (double)fd->messages / r->seconds : 0, 1);
    rp_json_object_end(j);
    return rp_json_doc_end(&d, f);
}
