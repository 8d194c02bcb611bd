/* run.c - replay's engine: one producer thread feeding a tick ring, N reader threads draining it
 *
 * Design notes.
 * - Threads: the producer (producer.c) reads the inputs and writes every message into the ring;
 *   each reader (reader.c) owns an ra_reader and hands what it reads to its consumer
 *   (consumer.h: the engine does not know what a consumer does); the calling thread only
 *   monitors (monitor.c: progress and stats lines) and collects the results after joining.
 *   Every reader is initialised (RA_START_OLDEST) before the producer starts, so each one's start
 *   sequence is 0.
 * - Record layout: [8-byte CLOCK_MONOTONIC publish stamp][message], ts_ns = capture timestamp,
 *   type = message type (see RP_STAMP_BYTES in run.h). Keeping the capture time in ts_ns means
 *   any ring consumer sees the market timestamp where it expects it; the cost is 8 bytes per
 *   record, which ring.published_bytes includes.
 * - Shared ring (--shm NAME): the ring is created in /dev/shm (ra_ring_create_shm) so that other
 *   processes can attach to it and read the replay; its records hold the message alone (see
 *   run.h). After the threads are joined, whether the input ended, failed or a signal stopped
 *   the run, the ring is closed (readers elsewhere get end of stream), then released; the name
 *   stays for late readers unless --unlink. The monitor stores the writer's heartbeat.
 * - Verification: after the joins, each reader's consumer judges its reader (for the check
 *   consumer: read + lost == published, its own count of skipped sequence numbers == lost, no
 *   seq going backwards); the run is verified when all of them are satisfied.
 * - Shared counters for the monitor (messages, input bytes, per-reader read/lost/laps) are
 *   relaxed atomics: they are statistics, read approximately, and order nothing.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ringalloc/ring_shm.h"

void rp_run_result_free(rp_run_result *res)
{
    if (res->cons)
        for (unsigned i = 0; i < res->nreaders; i++)
            if (res->cons[i]) rp_run_ops(res, i)->destroy(res->cons[i]);
    free(res->cons);
    free(res->readers);
    res->cons = NULL;
    res->readers = NULL;
    res->nreaders = 0;
}

static uint64_t rp__total_bytes(const rp_run_config *cfg)
{
    uint64_t total = 0;
    for (size_t i = 0; i < cfg->nfiles; i++) {
        struct stat st;
        if (strcmp(cfg->files[i], "-") == 0 || stat(cfg->files[i], &st) != 0 ||
            !S_ISREG(st.st_mode))
            return 0;
        total += (uint64_t)st.st_size;
    }
    if (cfg->loops && total > UINT64_MAX / cfg->loops) return 0; /* --loop 0 (forever): unknown */
    return total * cfg->loops;
}

/* Creates the shared ring of --shm (its space is all allocated at creation, so it needs neither
 * prefault nor huge-page flags). @return 0, -1 with err set, or RP_RUN_EEXIST with err set. */
static int rp__ring_shm(rp_engine *x, ra_ring_config *rc, char *err, size_t errlen)
{
    const rp_run_config *cfg = x->cfg;
    ra_shm_options opt = {.mode = cfg->shm_mode,
                          .dir = cfg->shm_dir,
                          .replace = cfg->shm_replace,
                          .clock = RA_SHM_CLOCK_REALTIME};
    rc->flags = 0;
    int st = ra_ring_create_shm(&x->ring, cfg->shm_name, rc, &opt);
    if (st == RA_EEXIST) {
        char path[512];
        snprintf(err, errlen,
                 "a shared ring named '%s' already exists (%s): use --shm-replace to replace it, "
                 "or another name",
                 cfg->shm_name, rp_shm_path(path, sizeof path, cfg->shm_dir, cfg->shm_name));
        return RP_RUN_EEXIST;
    }
    if (st == RA_ENOENT) { /* the only name looked up at create is the directory's */
        snprintf(err, errlen, "cannot create the shared ring '%s': no such directory %s",
                 cfg->shm_name, cfg->shm_dir ? cfg->shm_dir : "/dev/shm");
        return -1;
    }
    if (st != RA_OK) {
        snprintf(err, errlen, "cannot create the shared ring '%s' of %zu bytes: %s", cfg->shm_name,
                 cfg->ring_size, ra_strerror(st));
        return -1;
    }
    ra_ring_heartbeat(x->ring);
    x->res->max_msg = ra_ring_max_msg(x->ring);
    return 0;
}

/* Ends a shared ring's stream and releases it: closed (readers get RA_CLOSED after the last
 * message), then unlinked with --unlink; notes both in the result. */
static void rp__ring_shm_end(rp_engine *x)
{
    const rp_run_config *cfg = x->cfg;
    ra_ring_close(x->ring);
    ra_shm_info info;
    x->res->shm_closed = ra_ring_shm_info(x->ring, &info) == RA_OK && info.closed;
    char path[512]; /* ra_ring_unlink takes a path (with its '/') in any directory */
    x->res->shm_kept =
        !(cfg->shm_unlink &&
          ra_ring_unlink(rp_shm_path(path, sizeof path, cfg->shm_dir, cfg->shm_name)) == RA_OK);
}

/* Creates the ring. Paced runs prefault it, so that no page fault delays a message on its way;
 * at --speed max the producer faults pages in as it first reaches them (the same work when the
 * input fills the ring, none for the part a small input never reaches).
 * @return 0, or -1 (RP_RUN_EEXIST for --shm) with err set. */
static int rp__ring(rp_engine *x, char *err, size_t errlen)
{
    const rp_run_config *cfg = x->cfg;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (cfg->pace.mode != RP_PACE_MAX && phys && cfg->ring_size > phys) {
        snprintf(err, errlen,
                 "cannot create a ring of %zu bytes: paced runs prefault the whole ring, and this "
                 "machine has %" PRIu64 " bytes of memory",
                 cfg->ring_size, phys);
        return -1;
    }
    ra_ring_config rc = {.capacity = cfg->ring_size,
                         .flags = RA_RING_HUGEPAGES |
                                  (cfg->pace.mode != RP_PACE_MAX ? RA_RING_PREFAULT : 0)};
    if (cfg->shm_name) return rp__ring_shm(x, &rc, err, errlen);
    int st = ra_ring_create(&x->ring, &rc);
    if (st != RA_OK) {
        snprintf(err, errlen, "cannot create a ring of %zu bytes: %s", cfg->ring_size,
                 ra_strerror(st));
        return -1;
    }
    x->res->max_msg = ra_ring_max_msg(x->ring);
    return 0;
}

/* Allocates the readers, their consumers and buffers, and attaches them to the ring.
 * @return 0, or -1 with err set. */
static int rp__readers(rp_engine *x, char *err, size_t errlen)
{
    const rp_run_config *cfg = x->cfg;
    rp_run_result *res = x->res;
    /* at least one slot each: --readers 0 (publish only) must not look like out of memory */
    unsigned slots = cfg->readers ? cfg->readers : 1;
    res->readers = calloc(slots, sizeof(*res->readers));
    res->cons = calloc(slots, sizeof(*res->cons));
    x->readers = aligned_alloc(64, slots * sizeof(*x->readers));
    if (!res->readers || !res->cons || !x->readers) goto nomem;
    memset(x->readers, 0, slots * sizeof(*x->readers));
    for (unsigned i = 0; i < cfg->readers; i++) {
        rp_engine_reader *r = &x->readers[i];
        r->run = x;
        r->idx = i;
        r->out = &res->readers[i];
        /* enough for any ITCH, MoldUDP64 or UDP message; grown on demand for larger ones */
        r->cap = res->max_msg < RP_ENGINE_READER_BUF ? res->max_msg : RP_ENGINE_READER_BUF;
        atomic_init(&r->pub_read, 0);
        atomic_init(&r->pub_lost, 0);
        atomic_init(&r->pub_laps, 0);
        atomic_init(&r->snap_ack, 0);
        r->buf = malloc(r->cap);
        rp_cons_env env = {.index = i,
                           .paced = cfg->pace.mode != RP_PACE_MAX,
                           .intervals = cfg->stats_csv != NULL,
                           .ts_stamp = cfg->shm_name != NULL,
                           .arg = i == 0 && cfg->first ? cfg->first_arg : NULL};
        r->ops = rp_run_ops(res, i);
        r->cons = res->cons[i] = r->ops->create(&env);
        if (!r->buf || !r->cons) goto nomem;
        if (ra_reader_init(&r->rd, x->ring, RA_START_OLDEST) != RA_OK ||
            ra_reader_set_resume(&r->rd, cfg->resume) != RA_OK) {
            snprintf(err, errlen, "cannot attach reader %u to the ring", i);
            return -1;
        }
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Starts the readers, then the producer; monitors until all are done and joins them.
 * @return 0, or -1 with err set (a thread could not start; the ones started are joined). */
static int rp__threads(rp_engine *x, char *err, size_t errlen)
{
    const rp_run_config *cfg = x->cfg;
    pthread_t producer;
    pthread_t *tids = calloc(cfg->readers ? cfg->readers : 1, sizeof(*tids));
    if (!tids) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    unsigned started = 0;
    bool producer_started = false;
    x->t_start = x->csv_last_t = rp_now_ns();
    for (; started < cfg->readers; started++)
        if (pthread_create(&tids[started], NULL, rp_engine_reader_main, &x->readers[started]) !=
            0) {
            snprintf(err, errlen, "cannot start reader thread %u", started);
            break;
        }
    if (started == cfg->readers) {
        if (pthread_create(&producer, NULL, rp_engine_producer, x) == 0)
            producer_started = true;
        else
            snprintf(err, errlen, "cannot start the producer thread");
    }
    if (producer_started) {
        rp_engine_monitor(x, cfg->readers + 1);
        pthread_join(producer, NULL);
    } else {
        /* let the readers that did start see an empty, finished feed */
        atomic_store_explicit(&x->producer_done, true, memory_order_release);
    }
    for (unsigned i = 0; i < started; i++) pthread_join(tids[i], NULL);
    free(tids);
    return producer_started ? 0 : -1;
}

/* Collects the ring's statistics and every consumer's verdict. */
static void rp__verify(rp_engine *x)
{
    rp_run_result *res = x->res;
    ra_ring_get_stats(x->ring, &res->ring);
    res->seconds = (double)(x->t_end - x->t_start) / 1e9;
    res->verified = true;
    for (unsigned i = 0; i < res->nreaders; i++) {
        char why[256];
        if (rp_run_ops(res, i)->verify(res->cons[i], &res->readers[i], res->ring.published, why,
                                       sizeof(why)))
            continue;
        res->verified = false;
        size_t used = strlen(res->why);
        snprintf(res->why + used, sizeof(res->why) - used, "reader %u: %s\n", i, why);
    }
}

int rp_run(const rp_run_config *cfg, rp_run_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    rp_engine x;
    memset(&x, 0, sizeof(x));
    x.cfg = cfg;
    x.ops = cfg->consumer ? cfg->consumer : &rp_cons_check;
    x.res = res;
    res->consumer = x.ops;
    res->first = cfg->first;
    res->nreaders = cfg->readers;
    atomic_init(&x.producer_done, false);
    x.ncpu = rp_cpus();
    atomic_init(&x.crowded, 1 + cfg->readers > x.ncpu);
    atomic_init(&x.prog_msgs, 0);
    atomic_init(&x.prog_bytes, 0);
    atomic_init(&x.sleepers, 0);
    atomic_init(&x.wake_word, 0);
    atomic_init(&x.wake_at, UINT64_MAX); /* nobody waits yet */
    atomic_init(&x.snap_req, 0);
    if (cfg->readers > RP_RUN_MAX_READERS || cfg->loops < 1) {
        snprintf(err, errlen, "invalid run configuration");
        return RP_RUN_ESYSTEM;
    }
    int made = rp__ring(&x, err, errlen);
    if (made != 0) return made == RP_RUN_EEXIST ? RP_RUN_EEXIST : RP_RUN_ESYSTEM;
    int rc = RP_RUN_ESYSTEM;
    bool sync_ready = false;
    pthread_condattr_t ca;
    if (rp__readers(&x, err, errlen) != 0) goto out;
    snprintf(err, errlen, "out of memory");
    if (pthread_mutex_init(&x.mu, NULL) != 0) goto out;
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&x.cv, &ca) != 0) {
        pthread_mutex_destroy(&x.mu);
        goto out;
    }
    pthread_condattr_destroy(&ca);
    sync_ready = true;
    x.total_bytes = rp__total_bytes(cfg);
    if (cfg->stats_csv)
        fputs("elapsed_s,msgs,msgs_per_sec,ring_used_bytes,overwritten,reader,read,lost,laps,"
              "lag_msgs,latency_p50_ns,latency_p99_ns\n",
              cfg->stats_csv);
    if (rp__threads(&x, err, errlen) != 0) goto out;
    if (x.status != 0) {
        snprintf(err, errlen, "%s", x.err);
        rc = x.status;
        goto out;
    }
    if (cfg->stats_csv) rp_engine_csv_rows(&x, rp_now_ns(), true);
    rp__verify(&x);
    rc = RP_RUN_OK;
out:
    if (x.readers)
        for (unsigned i = 0; i < cfg->readers; i++) free(x.readers[i].buf);
    free(x.readers);
    if (sync_ready) {
        pthread_cond_destroy(&x.cv);
        pthread_mutex_destroy(&x.mu);
    }
    if (cfg->shm_name) rp__ring_shm_end(&x);
    ra_ring_destroy(x.ring);
    return rc;
}
