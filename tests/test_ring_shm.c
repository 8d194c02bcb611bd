/* test_ring_shm.c - shared-memory rings: create, attach, close, wait, death, registry, damage */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ringalloc/ringalloc.h"
#include "ring_layout.h"
#include "ring_shm_layout.h"

#define CAP 65536u

static char g_name[64];    /* this test's ring name */
static char g_path[128];   /* its file */
static unsigned g_counter; /* makes names unique within the run */

static int setup(void **state)
{
    (void)state;
    snprintf(g_name, sizeof g_name, "ratest-%ld-%u", (long)getpid(), g_counter++);
    snprintf(g_path, sizeof g_path, "/dev/shm/%s", g_name);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)ra_ring_unlink(g_name);
    return 0;
}

static ra_ring *mk_shm(uint32_t flags, const ra_shm_options *opt)
{
    ra_ring_config cfg = {.capacity = CAP, .flags = flags};
    ra_ring *r = NULL;
    assert_int_equal(ra_ring_create_shm(&r, g_name, &cfg, opt), RA_OK);
    assert_non_null(r);
    return r;
}

static ra_ring *attach(uint32_t flags)
{
    ra_ring *r = NULL;
    assert_int_equal(ra_ring_attach(&r, g_name, flags), RA_OK);
    assert_non_null(r);
    return r;
}

/* payload of message seq, len bytes: checkable on delivery */
static void fill(unsigned char *p, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++) p[i] = (unsigned char)(seq * 131u + i * 7u + 1u);
}

static bool check(const unsigned char *p, uint32_t len, uint64_t seq)
{
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != (unsigned char)(seq * 131u + i * 7u + 1u)) return false;
    return true;
}

static void put(ra_ring *r, uint64_t seq, uint32_t len)
{
    unsigned char buf[512];
    fill(buf, len, seq);
    assert_int_equal(ra_ring_write(r, 7, seq * 10, buf, len), RA_OK);
}

static void expect(ra_reader *rd, uint64_t seq, uint32_t len)
{
    unsigned char buf[512];
    ra_msg m;
    assert_int_equal(ra_reader_read(rd, buf, sizeof buf, &m), RA_OK);
    assert_int_equal(m.seq, seq);
    assert_int_equal(m.len, len);
    assert_int_equal(m.ts_ns, seq * 10);
    assert_true(check(buf, len, seq));
}

/* ---- create, attach, unlink ------------------------------------------------------------------ */

static void test_round_trip(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(0, NULL);
    ra_ring *a = attach(0);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, a, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_read(&rd, NULL, 0, &(ra_msg){0}), RA_EMPTY);
    for (uint64_t i = 0; i < 100; i++) put(w, i, (uint32_t)(i % 200));
    for (uint64_t i = 0; i < 100; i++) expect(&rd, i, (uint32_t)(i % 200));
    ra_msg m;
    assert_int_equal(ra_reader_read(&rd, NULL, 0, &m), RA_EMPTY);
    assert_int_equal(ra_ring_capacity(a), CAP);
    assert_int_equal(ra_ring_max_msg(a), ra_ring_max_msg(w));

    ra_shm_info in;
    assert_int_equal(ra_ring_shm_info(a, &in), RA_OK);
    assert_int_equal(in.capacity, CAP);
    assert_int_equal(in.writer_pid, getpid());
    assert_true(in.writer_alive && in.ready && !in.closed && !in.replaced);
    assert_int_equal(in.epoch, 1);
    assert_int_equal(in.max_registered, 64);
    assert_int_equal(in.clock, RA_SHM_CLOCK_REALTIME);
    assert_int_equal(ra_ring_shm_info(NULL, &in), RA_EINVAL);

    /* the producer functions refuse an attached handle */
    unsigned char b[8] = {0};
    assert_null(ra_ring_reserve(a, 8));
    assert_int_equal(ra_ring_write(a, 1, 1, b, 8), RA_EINVAL);
    assert_int_equal(ra_ring_write(a, 1, 1, b, 200), RA_EINVAL);
    assert_int_equal(ra_ring_commit(a, 0, 1, 1), UINT64_MAX);
    ra_wmsg wm = {.data = b, .len = 8};
    assert_int_equal(ra_ring_write_batch(a, &wm, 1, NULL, 0, NULL), RA_EINVAL);
    ra_ring_close(a); /* a no-op on an attached handle */
    assert_int_equal(ra_reader_read(&rd, NULL, 0, &m), RA_EMPTY);

    /* heartbeat shows in the header */
    ra_ring_heartbeat(w);
    assert_int_equal(ra_ring_shm_info(a, &in), RA_OK);
    assert_true(in.heartbeat_ns > 0);

    ra_ring_destroy(a);
    ra_ring_destroy(w); /* keeps the name by default */
    assert_int_equal(access(g_path, F_OK), 0);
    assert_int_equal(ra_ring_unlink(g_name), RA_OK);
    assert_int_equal(ra_ring_unlink(g_name), RA_ENOENT);
    assert_int_equal(access(g_path, F_OK), -1);
}

static void test_exclusive_and_replace(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(0, NULL);
    ra_ring_config cfg = {.capacity = CAP};
    ra_ring *w2 = (ra_ring *)1;
    assert_int_equal(ra_ring_create_shm(&w2, g_name, &cfg, NULL), RA_EEXIST);
    assert_null(w2);
    ra_ring *old = attach(0);
    put(w, 0, 16);
    ra_ring_destroy(w);

    ra_shm_options opt = {.replace = true};
    w2 = mk_shm(0, &opt);
    ra_shm_info in;
    assert_int_equal(ra_ring_shm_info(w2, &in), RA_OK);
    assert_int_equal(in.epoch, 2);
    assert_int_equal(ra_ring_shm_info(old, &in), RA_OK);
    assert_true(in.replaced);
    assert_int_equal(in.epoch, 1);
    /* the old reader keeps reading the old file */
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, old, RA_START_OLDEST), RA_OK);
    expect(&rd, 0, 16);
    ra_ring *fresh = attach(0);
    assert_int_equal(ra_ring_shm_info(fresh, &in), RA_OK);
    assert_int_equal(in.epoch, 2);
    assert_false(in.replaced);
    ra_ring_destroy(fresh);
    ra_ring_destroy(old);
    ra_ring_destroy(w2);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    ra_ring_config cfg = {.capacity = CAP};
    ra_ring *r;
    assert_int_equal(ra_ring_create_shm(&r, "a/b", &cfg, NULL), RA_EINVAL);
    assert_int_equal(ra_ring_create_shm(&r, "", &cfg, NULL), RA_EINVAL);
    assert_int_equal(ra_ring_create_shm(&r, "..", &cfg, NULL), RA_EINVAL);
    char longname[260];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ra_ring_create_shm(&r, longname, &cfg, NULL), RA_EINVAL);
    ra_ring_config bad = {.capacity = 5000};
    assert_int_equal(ra_ring_create_shm(&r, g_name, &bad, NULL), RA_EINVAL);
    ra_ring_config mem = {.capacity = CAP, .mem = &cfg, .mem_len = 1};
    assert_int_equal(ra_ring_create_shm(&r, g_name, &mem, NULL), RA_EINVAL);
    ra_shm_options o = {.dir = "/nonexistent-dir-ratest"};
    assert_int_equal(ra_ring_create_shm(&r, g_name, &cfg, &o), RA_ENOENT);
    assert_int_equal(ra_ring_attach(&r, g_name, 0), RA_ENOENT);
    assert_int_equal(ra_ring_attach(&r, g_name, 0x80), RA_EINVAL);
    assert_int_equal(ra_ring_unlink("x/../"), RA_ENOENT);
    /* a consumer attach of an overwrite ring */
    ra_ring *w = mk_shm(0, NULL);
    assert_int_equal(ra_ring_attach(&r, g_name, RA_ATTACH_CONSUMER), RA_EINVAL);
    ra_ring_destroy(w);
}

static void test_mode(void **state)
{
    (void)state;
    mode_t old = umask(077);
    ra_ring *w = mk_shm(0, NULL);
    struct stat st;
    assert_int_equal(stat(g_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    ra_ring_destroy(w);
    assert_int_equal(ra_ring_unlink(g_name), RA_OK);
    ra_shm_options opt = {.mode = 0644, .unlink_on_destroy = true};
    w = mk_shm(0, &opt);
    assert_int_equal(stat(g_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* the umask does not narrow it */
    ra_ring_destroy(w);
    assert_int_equal(access(g_path, F_OK), -1); /* unlink_on_destroy */
    umask(old);
}

/* a tiny tmpfs in a private mount namespace: creating a ring larger than it fails cleanly */
static void test_enospc(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        fprintf(stderr, "test_enospc: skipped (needs root for a private tmpfs)\n");
        return;
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
            _exit(77);
        char dir[] = "/tmp/ratest-tmpfs-XXXXXX";
        if (!mkdtemp(dir)) _exit(77);
        if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") != 0) {
            rmdir(dir);
            _exit(77);
        }
        ra_ring_config cfg = {.capacity = 1u << 20};
        ra_shm_options opt = {.dir = dir};
        ra_ring *r;
        int rc = ra_ring_create_shm(&r, "big", &cfg, &opt);
        int left = 0;
        char cmd[128];
        snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", dir);
        left = system(cmd);
        cfg.capacity = 65536;
        int rc2 = ra_ring_create_shm(&r, "small", &cfg, &opt);
        if (rc2 == RA_OK) ra_ring_destroy(r);
        umount(dir);
        rmdir(dir);
        _exit(rc == RA_ENOSPC && left == 0 && rc2 == RA_OK ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) {
        fprintf(stderr, "test_enospc: skipped (no private mount namespace here)\n");
        return;
    }
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- read-only mapping, bad files ------------------------------------------------------------ */

static void test_reader_cannot_write(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(0, NULL);
    put(w, 0, 8);
    ra__shm_hdr h;
    int fd = open(g_path, O_RDONLY);
    assert_int_equal(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    const uint64_t data_off = h.data_off;
    for (int what = 0; what < 2; what++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL); /* not cmocka's handler */
            ra_ring *a;
            if (ra_ring_attach(&a, g_name, 0) != RA_OK) _exit(2);
            ra_reader rd;
            ra_reader_init(&rd, a, RA_START_OLDEST);
            ra_msg m;
            if (ra_reader_peek(&rd, &m) != RA_OK) _exit(3);
            volatile unsigned char *p = (volatile unsigned char *)(uintptr_t)m.data;
            if (what == 0)
                p[0] = 1; /* the data */
            else          /* the tail in the control block (the message is the first record) */
                p[-(long)(data_off + RA_RING_HDR_SIZE) + RA__SHM_CTL_OFF + 128] = 1;
            _exit(0);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGSEGV);
    }
    ra_ring_destroy(w);
}

/* writes len bytes at off into the ring file */
static void poke(uint64_t off, const void *p, size_t len)
{
    int fd = open(g_path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void test_bad_attach(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(0, NULL);
    ra_ring *a;
    uint32_t zero = 0, one = 1, v2 = RA__SHM_VERSION + 1;
    /* too early: ready 0 */
    poke(offsetof(ra__shm_hdr, ready), &zero, 4);
    assert_int_equal(ra_ring_attach(&a, g_name, 0), RA_ENOTREADY);
    poke(offsetof(ra__shm_hdr, ready), &one, 4);
    a = attach(0);
    ra_ring_destroy(a);
    /* another layout version */
    poke(offsetof(ra__shm_hdr, version), &v2, 4);
    assert_int_equal(ra_ring_attach(&a, g_name, 0), RA_EVERSION);
    uint32_t v1 = RA__SHM_VERSION;
    poke(offsetof(ra__shm_hdr, version), &v1, 4);
    /* impossible fields */
    uint64_t cap = CAP * 2;
    poke(offsetof(ra__shm_hdr, capacity), &cap, 8);
    assert_int_equal(ra_ring_attach(&a, g_name, 0), RA_ECORRUPT);
    cap = CAP;
    poke(offsetof(ra__shm_hdr, capacity), &cap, 8);
    a = attach(0);
    ra_ring_destroy(a);
    /* truncated */
    assert_int_equal(truncate(g_path, CAP), 0);
    assert_int_equal(ra_ring_attach(&a, g_name, 0), RA_ECORRUPT);
    assert_int_equal(truncate(g_path, 100), 0);
    assert_int_equal(ra_ring_attach(&a, g_name, 0), RA_ECORRUPT);
    ra_ring_destroy(w);
    /* garbage */
    unsigned char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 37 + 11);
    poke(0, junk, sizeof junk);
    assert_int_equal(ra_ring_attach(&a, g_name, 0), RA_ECORRUPT);
    assert_int_equal(ra_ring_attach(&a, "/dev/null", 0), RA_ECORRUPT);
}

static void test_no_permission(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        fprintf(stderr, "test_no_permission: skipped (needs root to switch user)\n");
        return;
    }
    ra_ring *w = mk_shm(0, NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(77);
        ra_ring *a;
        int rc = ra_ring_attach(&a, g_name, 0);
        int rc2 = ra_ring_unlink(g_name);
        _exit(rc == RA_EPERM && rc2 == RA_EPERM ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    ra_ring_destroy(w);
}

/* ---- close ----------------------------------------------------------------------------------- */

static void handler_count(const ra_msg *m, void *ctx)
{
    (void)m;
    ++*(size_t *)ctx;
}

static void close_case(ra_ring *w, ra_ring *rr)
{
    ra_reader rd, pk, pl;
    assert_int_equal(ra_reader_init(&rd, rr, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_init(&pk, rr, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_init(&pl, rr, RA_START_OLDEST), RA_OK);
    for (uint64_t i = 0; i < 5; i++) put(w, i, 24);
    ra_ring_close(w);
    for (uint64_t i = 0; i < 5; i++) expect(&rd, i, 24);
    ra_msg m;
    assert_int_equal(ra_reader_read(&rd, NULL, 0, &m), RA_CLOSED);
    assert_int_equal(ra_reader_read(&rd, NULL, 0, &m), RA_CLOSED);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ra_reader_peek(&pk, &m), RA_OK);
        assert_int_equal(ra_reader_advance(&pk), RA_OK);
    }
    assert_int_equal(ra_reader_peek(&pk, &m), RA_CLOSED);
    size_t n = 0;
    int why = 0;
    assert_int_equal(ra_reader_poll_ex(&pl, handler_count, &n, 100, &why), 5);
    assert_int_equal(why, RA_CLOSED);
    assert_int_equal(ra_reader_wait(&pl, 0), RA_CLOSED);
    assert_int_equal(ra_reader_wait(&pl, -1), RA_CLOSED);
}

static void test_close(void **state)
{
    (void)state;
    ra_ring_config cfg = {.capacity = 4096};
    ra_ring *r;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    close_case(r, r); /* in-process */
    ra_ring_destroy(r);
    ra_ring *w = mk_shm(0, NULL);
    ra_ring *a = attach(0);
    close_case(w, a);
    ra_shm_info in;
    assert_int_equal(ra_ring_shm_info(a, &in), RA_OK);
    assert_true(in.closed);
    ra_ring_destroy(a);
    ra_ring_destroy(w);
}

/* ---- wait ------------------------------------------------------------------------------------ */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A child attaches, waits without limit for one message, reads it, then waits for the close.
 * Its exit status says what it saw (0: all as expected). */
static void test_wait_between_processes(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(0, NULL);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ra_ring *a;
        ra_reader rd;
        if (ra_ring_attach(&a, g_name, 0) != RA_OK) _exit(10);
        ra_reader_init(&rd, a, RA_START_OLDEST);
        if (ra_reader_wait(&rd, 1000000) != RA_ETIMEDOUT) _exit(11);
        if (write(go[1], "x", 1) != 1) _exit(12);
        if (ra_reader_wait(&rd, -1) != RA_OK) _exit(13);
        unsigned char buf[64];
        ra_msg m;
        if (ra_reader_read(&rd, buf, sizeof buf, &m) != RA_OK || m.seq != 0) _exit(14);
        if (ra_reader_wait(&rd, 0) != RA_ETIMEDOUT) _exit(15);
        int rc = ra_reader_wait(&rd, -1);
        ra_ring_destroy(a);
        _exit(rc == RA_CLOSED ? 0 : 16);
    }
    char c;
    assert_int_equal(read(go[0], &c, 1), 1); /* the child is about to wait */
    sleep_ms(50);
    put(w, 0, 16);
    sleep_ms(50);
    ra_ring_close(w);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    close(go[0]);
    close(go[1]);
    ra_ring_destroy(w);
}

typedef struct waiter_arg {
    ra_reader *rd;
    int rc;
} waiter_arg;

static void *waiter_main(void *p)
{
    waiter_arg *a = p;
    a->rc = ra_reader_wait(a->rd, -1);
    return NULL;
}

/* in-process: a thread sleeping in wait wakes on a write, then on close */
static void test_wait_in_process(void **state)
{
    (void)state;
    ra_ring_config cfg = {.capacity = 4096};
    ra_ring *r;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, r, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_wait(&rd, 1000), RA_ETIMEDOUT);
    for (int round = 0; round < 2; round++) {
        waiter_arg a = {&rd, 99};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, waiter_main, &a), 0);
        sleep_ms(20);
        if (round == 0)
            put(r, 0, 8);
        else
            ra_ring_close(r);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(a.rc, round == 0 ? RA_OK : RA_CLOSED);
        if (round == 0) expect(&rd, 0, 8);
    }
    ra_ring_destroy(r);
}

/* ---- writer death ---------------------------------------------------------------------------- */

/* Forks a writer process that creates the ring, writes `n` checkable messages (n 0: without end,
 * until killed), reports on the pipe after the first `n0` and then keeps going. */
static pid_t spawn_writer(uint64_t n, uint64_t n0, int fd)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid != 0) return pid;
    ra_ring_config cfg = {.capacity = CAP};
    ra_ring *w;
    if (ra_ring_create_shm(&w, g_name, &cfg, NULL) != RA_OK) _exit(20);
    for (uint64_t i = 0; n == 0 || i < n; i++) {
        unsigned char buf[512];
        uint32_t len = (uint32_t)(i * 37 % 300);
        fill(buf, len, i);
        ra_ring_write(w, 7, i * 10, buf, len);
        if (i + 1 == n0 && write(fd, "x", 1) != 1) _exit(21);
        if (n == 0 && i % 64 == 0) sleep_ms(1); /* leave readers a chance to keep up */
    }
    for (;;) pause();
}

/* Reads what is there, checking every message, until the reader says why it stopped. */
static int drain(ra_reader *rd, uint64_t *count)
{
    unsigned char buf[512];
    ra_msg m;
    for (;;) {
        int rc = ra_reader_read(rd, buf, sizeof buf, &m);
        if (rc == RA_OK) {
            assert_int_equal(m.len, (uint32_t)(m.seq * 37 % 300));
            assert_true(check(buf, m.len, m.seq));
            ++*count;
            continue;
        }
        if (rc == RA_LAPPED) continue;
        if (rc != RA_EMPTY) return rc;
        rc = ra_reader_wait(rd, 10 * 1000000000ll);
        if (rc != RA_OK) return rc;
    }
}

static void test_writer_death(void **state)
{
    (void)state;
    for (int mid = 0; mid < 2; mid++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        /* a finished writer (100 messages), or one killed mid-stream */
        pid_t pid = spawn_writer(mid ? 0 : 100, mid ? 1000 : 100, p[1]);
        char c;
        assert_int_equal(read(p[0], &c, 1), 1);
        ra_ring *a = attach(0);
        ra_reader rd;
        assert_int_equal(ra_reader_init(&rd, a, RA_START_OLDEST), RA_OK);
        assert_int_equal(kill(pid, SIGKILL), 0);
        /* not reaped: a zombie */
        uint64_t n = 0;
        assert_int_equal(drain(&rd, &n), RA_EDEAD);
        assert_int_equal(ra_reader_lag(&rd), 0); /* everything committed was read or lost */
        if (!mid) assert_int_equal(n, 100);
        ra_msg m;
        assert_int_equal(ra_reader_read(&rd, NULL, 0, &m), RA_EDEAD);
        assert_int_equal(ra_reader_wait(&rd, -1), RA_EDEAD);
        ra_shm_info in;
        assert_int_equal(ra_ring_shm_info(a, &in), RA_OK);
        assert_false(in.writer_alive);
        /* reaped: the pid is gone */
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        ra_ring *b = attach(0);
        ra_reader rb;
        assert_int_equal(ra_reader_init(&rb, b, RA_START_OLDEST), RA_OK);
        uint64_t n2 = 0;
        assert_int_equal(drain(&rb, &n2), RA_EDEAD);
        ra_ring_destroy(b);
        ra_ring_destroy(a);
        assert_int_equal(ra_ring_unlink(g_name), RA_OK);
        close(p[0]);
        close(p[1]);
    }
}

/* close wins over death: a writer that closed and then died ends its readers with RA_CLOSED */
static void test_close_then_death(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ra_ring_config cfg = {.capacity = CAP};
        ra_ring *w;
        if (ra_ring_create_shm(&w, g_name, &cfg, NULL) != RA_OK) _exit(20);
        ra_ring_write(w, 1, 0, "abc", 3);
        ra_ring_close(w);
        _exit(0);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    ra_ring *a = attach(0);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, a, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_wait(&rd, -1), RA_OK);
    unsigned char buf[8];
    ra_msg m;
    assert_int_equal(ra_reader_read(&rd, buf, sizeof buf, &m), RA_OK);
    assert_int_equal(ra_reader_wait(&rd, -1), RA_CLOSED);
    assert_int_equal(ra_reader_read(&rd, buf, sizeof buf, &m), RA_CLOSED);
    ra_ring_destroy(a);
}

/* ---- registry -------------------------------------------------------------------------------- */

static void test_registry(void **state)
{
    (void)state;
    ra_shm_options opt = {.max_registered = 2};
    ra_ring *w = mk_shm(0, &opt);
    ra_ring *a = attach(0);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, a, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_register(&rd), RA_OK);
    assert_int_equal(ra_reader_register(&rd), RA_EINVAL);
    for (uint64_t i = 0; i < 10; i++) put(w, i, 40);
    for (uint64_t i = 0; i < 4; i++) expect(&rd, i, 40);
    ra_shm_reader_info ri[4];
    assert_int_equal(ra_ring_shm_readers(a, ri, 4, false), 1);
    assert_int_equal(ri[0].pid, getpid());
    assert_true(ri[0].alive);
    assert_int_equal(ri[0].read, 4);
    assert_int_equal(ri[0].position_seq, 4);
    assert_true(ri[0].heartbeat_ns > 0);

    /* a registered reader in another process, killed */
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ra_ring *c;
        ra_reader cr;
        if (ra_ring_attach(&c, g_name, 0) != RA_OK) _exit(10);
        ra_reader_init(&cr, c, RA_START_OLDEST);
        if (ra_reader_register(&cr) != RA_OK) _exit(11);
        unsigned char buf[64];
        ra_msg m;
        for (int i = 0; i < 3; i++)
            if (ra_reader_read(&cr, buf, sizeof buf, &m) != RA_OK) _exit(12);
        if (write(p[1], "x", 1) != 1) _exit(13);
        for (;;) pause();
    }
    char ch;
    assert_int_equal(read(p[0], &ch, 1), 1);
    assert_int_equal(ra_ring_shm_readers(w, ri, 4, false), 2);
    ra_shm_info in;
    assert_int_equal(ra_ring_shm_info(w, &in), RA_OK);
    assert_int_equal(in.registered, 2);
    ra_reader third;
    assert_int_equal(ra_reader_init(&third, a, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_register(&third), RA_EFULL); /* both slots live */
    assert_int_equal(kill(pid, SIGKILL), 0);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    /* the writer and the other reader carry on */
    for (uint64_t i = 10; i < 20; i++) put(w, i, 40);
    for (uint64_t i = 4; i < 20; i++) expect(&rd, i, 40);
    assert_int_equal(ra_ring_shm_readers(a, ri, 4, false), 2);
    int dead = ri[0].alive ? 1 : 0;
    assert_false(ri[dead].alive);
    assert_int_equal(ri[dead].pid, pid);
    assert_int_equal(ri[dead].read, 3);
    assert_true(ri[1 - dead].alive);
    assert_int_equal(ri[1 - dead].read, 20);
    assert_int_equal(ra_ring_shm_readers(a, ri, 4, true), 2); /* reported, then reclaimed */
    assert_int_equal(ra_ring_shm_readers(a, ri, 4, false), 1);
    assert_int_equal(ra_reader_register(&third), RA_OK);
    assert_int_equal(ra_ring_shm_readers(a, NULL, 0, false), 2);
    ra_reader_detach(&third);
    ra_reader_detach(&rd);
    assert_int_equal(ra_ring_shm_readers(a, ri, 4, false), 0);
    /* not a shared ring */
    ra_ring_config cfg = {.capacity = 4096};
    ra_ring *r;
    assert_int_equal(ra_ring_create(&r, &cfg), RA_OK);
    ra_reader ir;
    assert_int_equal(ra_reader_init(&ir, r, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_register(&ir), RA_EINVAL);
    assert_int_equal(ra_ring_shm_readers(r, ri, 4, false), RA_EINVAL);
    ra_ring_destroy(r);
    close(p[0]);
    close(p[1]);
    ra_ring_destroy(a);
    ra_ring_destroy(w);
}

/* the backpressure consumer attaches from another handle: it alone writes its position page */
static void test_consumer(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(RA_RING_BACKPRESSURE, NULL);
    ra_ring *ro = attach(0);
    ra_reader rd;
    assert_int_equal(ra_reader_init(&rd, ro, RA_START_OLDEST), RA_EINVAL); /* no position page */
    ra_ring *c = attach(RA_ATTACH_CONSUMER);
    assert_int_equal(ra_reader_init(&rd, c, RA_START_OLDEST), RA_OK);
    uint64_t seq = 0, got = 0;
    unsigned char buf[512];
    while (seq < 5000) { /* far more than the ring holds: the consumer frees room */
        fill(buf, 100, seq);
        int rc = ra_ring_write(w, 7, seq * 10, buf, 100);
        if (rc == RA_OK) {
            seq++;
            continue;
        }
        assert_int_equal(rc, RA_EFULL);
        while (got < seq) expect(&rd, got++, 100);
    }
    while (got < seq) expect(&rd, got++, 100);
    ra_reader_stats st;
    ra_reader_get_stats(&rd, &st);
    assert_int_equal(st.read, 5000);
    assert_int_equal(st.lost, 0);
    ra_reader_detach(&rd);
    ra_ring_destroy(c);
    ra_ring_destroy(ro);
    ra_ring_destroy(w);
}

/* ---- damage ---------------------------------------------------------------------------------- */

static void test_corrupt(void **state)
{
    (void)state;
    ra_ring *w = mk_shm(0, NULL);
    for (uint64_t i = 0; i < 10; i++) put(w, i, 40); /* records of 64 bytes */
    ra__shm_hdr h;
    int fd = open(g_path, O_RDONLY);
    assert_int_equal(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
    close(fd);
    ra_ring *a = attach(0);
    ra_reader rd, pl, late;
    assert_int_equal(ra_reader_init(&rd, a, RA_START_OLDEST), RA_OK);
    assert_int_equal(ra_reader_init(&pl, a, RA_START_OLDEST), RA_OK);
    expect(&rd, 0, 40);
    expect(&rd, 1, 40);
    /* a record header: the third record's sequence number */
    uint64_t bad = 999;
    poke(h.data_off + 2 * 64 + 8, &bad, 8);
    ra_msg m;
    unsigned char buf[64];
    assert_int_equal(ra_reader_read(&rd, buf, sizeof buf, &m), RA_ECORRUPT);
    assert_int_equal(ra_reader_peek(&rd, &m), RA_ECORRUPT);
    size_t n = 0;
    int why = 0;
    assert_int_equal(ra_reader_poll_ex(&pl, handler_count, &n, 100, &why), 2);
    assert_int_equal(why, RA_ECORRUPT);
    /* a record length beyond the data */
    uint32_t len = 0x7ffffff0u;
    poke(h.data_off + 2 * 64, &len, 4);
    assert_int_equal(ra_reader_read(&rd, buf, sizeof buf, &m), RA_ECORRUPT);
    /* control fields: head past tail, then a misaligned head */
    uint64_t head = 1u << 20;
    poke(h.ctl_off + offsetof(ra__ring_ctl, head), &head, 8);
    assert_int_equal(ra_reader_init(&late, a, RA_START_OLDEST), RA_ECORRUPT);
    assert_int_equal(ra_reader_read(&late, buf, sizeof buf, &m), RA_ECORRUPT);
    assert_int_equal(ra_reader_wait(&late, 0), RA_ECORRUPT);
    head = 12;
    poke(h.ctl_off + offsetof(ra__ring_ctl, head), &head, 8);
    assert_int_equal(ra_reader_init(&late, a, RA_START_OLDEST), RA_ECORRUPT);
    /* a reader that is lapped and finds no intact record: intent far ahead of everything */
    uint64_t intent = UINT64_MAX - 8;
    poke(h.ctl_off + offsetof(ra__ring_ctl, intent), &intent, 8);
    poke(h.ctl_off + offsetof(ra__ring_ctl, coarse), &intent, 8); /* never below intent */
    ra_reader nx;
    assert_int_equal(ra_reader_init(&nx, a, RA_START_NEXT), RA_ECORRUPT);
    ra_ring_destroy(a);
    ra_ring_destroy(w);
}

/* ---- huge pages: a ring on a hugetlbfs mount ------------------------------------------------- */

static long read_long(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[160];
    long v = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (!key) {
            v = strtol(line, NULL, 10);
            break;
        }
        if (strncmp(line, key, strlen(key)) == 0) {
            v = strtol(line + strlen(key), NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static void set_nr_hugepages(long n)
{
    FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");
    if (!f) return;
    fprintf(f, "%ld\n", n);
    fclose(f);
}

#define HUGE_FREE() read_long("/proc/meminfo", "HugePages_Free:")

/* A reader in another process attaches by path and checks n messages; its exit status says how
 * far it got (0: all of them). */
static int read_by_path(const char *path, uint64_t n)
{
    ra_ring *a = NULL;
    if (ra_ring_attach(&a, path, 0) != RA_OK) return 1;
    ra_reader rd;
    unsigned char buf[512];
    ra_msg m;
    if (ra_reader_init(&rd, a, RA_START_OLDEST) != RA_OK) return 2;
    for (uint64_t i = 0; i < n; i++) {
        if (ra_reader_read(&rd, buf, sizeof buf, &m) != RA_OK) return 3;
        if (m.seq != i || m.len != i % 300 || !check(buf, m.len, i)) return 4;
    }
    if (ra_reader_read(&rd, buf, sizeof buf, &m) != RA_EMPTY) return 5;
    ra_ring_destroy(a);
    return 0;
}

/* As root, on a private hugetlbfs mount (with huge pages reserved for it when none are free):
 * the ring file takes huge pages, says so in its stats, and a reader process attached by path
 * gets every message. Skipped (with a message) where that cannot be set up. */
static void test_hugetlbfs(void **state)
{
    (void)state;
    const long want = 8;
    long old_nr = read_long("/proc/sys/vm/nr_hugepages", NULL);
    char dir[] = "/tmp/ratest-huge-XXXXXX";
    if (geteuid() != 0 || old_nr < 0 || !mkdtemp(dir)) {
        print_message("skipped: hugetlbfs needs root and /proc/sys/vm/nr_hugepages\n");
        return;
    }
    bool raised = HUGE_FREE() < want;
    if (raised) set_nr_hugepages(old_nr + want);
    if (HUGE_FREE() < want || mount("none", dir, "hugetlbfs", 0, NULL) != 0) {
        print_message("skipped: no free huge pages or no hugetlbfs here\n");
        if (raised) set_nr_hugepages(old_nr);
        rmdir(dir);
        return;
    }
    long before = HUGE_FREE();
    ra_shm_options opt = {.dir = dir};
    ra_ring_config cfg = {.capacity = 1u << 21};
    ra_ring *w = NULL;
    assert_int_equal(ra_ring_create_shm(&w, g_name, &cfg, &opt), RA_OK);
    assert_true(HUGE_FREE() < before); /* its space was allocated at create, in huge pages */
    ra_ring_stats st;
    ra_ring_get_stats(w, &st);
    assert_true(st.hugepages);
    const uint64_t n = 1000;
    for (uint64_t i = 0; i < n; i++) put(w, i, (uint32_t)(i % 300));
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, g_name);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(read_by_path(path, n));
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    ra_ring_destroy(w);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(umount(dir), 0);
    rmdir(dir);
    if (raised) set_nr_hugepages(old_nr);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclusive_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_cannot_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_attach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_between_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_in_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_then_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hugetlbfs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
