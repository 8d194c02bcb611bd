/* stop.c - stop the other running threads for the leak scan, with their registers */
/*
 * memcheck sees every thread's registers and stack pointer at exit; a process exiting while
 * other threads run needs the same, or a pointer held only in a register would be missed and
 * stale frames below a thread's stack pointer would be taken for roots. So before the scan each
 * other live thread that has a record gets a signal; its handler copies the interrupted
 * registers (the ucontext) into the thread's record, says so, and waits until the scan is over.
 *
 * Care taken:
 * - the signal is a real-time one the program leaves at its default disposition (none: no stop);
 *   the handler stays installed afterwards, so a late delivery is a no-op, never a default
 *   action;
 * - a thread interrupted inside the tracer's own code (rt__tls.busy: it may hold a tracer lock)
 *   does not wait: it says "busy" and its stack is scanned whole, as for a thread that blocks the
 *   signal or does not answer within STOP_WAIT_MS;
 * - the scan takes no lock while threads are stopped (the caller gets the table snapshot and
 *   walks the loaded objects before rt__stop_others()).
 */
#include "preload.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define STOP_WAIT_MS 200

static atomic_int scan_active;
static int stop_sig;

static void on_stop(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved = errno;
    struct rt__thread *t = rt__tls.thread;
    if (t && !t->shared && atomic_load(&scan_active) &&
        atomic_load(&t->stop_state) == RT__STOP_PENDING) {
        if (rt__tls.busy) {
            atomic_store(&t->stop_state, RT__STOP_BUSY);
        } else {
            const ucontext_t *uc = ucv;
#if defined(__x86_64__)
            memcpy(t->stop_regs, uc->uc_mcontext.gregs, sizeof uc->uc_mcontext.gregs);
            t->stop_sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#else
            (void)uc;
            t->stop_sp = 0; /* registers not known here: whole stack */
#endif
            atomic_store(&t->stop_state, t->stop_sp ? RT__STOP_STOPPED : RT__STOP_BUSY);
            while (atomic_load(&scan_active)) sched_yield();
        }
    }
    errno = saved;
}

/* A real-time signal the program does not use; @return it, or 0. */
static int pick_signal(void)
{
    for (int sig = SIGRTMAX; sig >= SIGRTMIN; sig--) {
        struct sigaction old;
        if (sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_DFL)
            return sig;
    }
    return 0;
}

int rt__stop_others(void)
{
    if (!stop_sig) {
        stop_sig = pick_signal();
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_stop;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (!stop_sig || sigaction(stop_sig, &sa, NULL)) return stop_sig = 0;
    }
    atomic_store(&scan_active, 1);
    pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
    int sent = 0;
    for (struct rt__thread *t = rt__thread_list(); t; t = t->next) {
        atomic_store(&t->stop_state, RT__STOP_NONE);
        if (t->shared || t->tid == self || t == rt__tls.thread) continue;
        atomic_store(&t->stop_state, RT__STOP_PENDING);
        if (syscall(SYS_tgkill, pid, t->tid, stop_sig) == 0)
            sent++;
        else
            atomic_store(&t->stop_state, RT__STOP_NONE); /* exited */
    }
    for (int ms = 0; sent && ms < STOP_WAIT_MS; ms++) {
        int waiting = 0;
        for (struct rt__thread *t = rt__thread_list(); t; t = t->next)
            waiting += atomic_load(&t->stop_state) == RT__STOP_PENDING;
        if (!waiting) break;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return sent;
}

void rt__resume_others(void)
{
    atomic_store(&scan_active, 0);
}
