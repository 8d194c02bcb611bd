/* bench_pcaploop.c - the floor for reading a capture: a bare libpcap pcap_next_ex() loop
 *
 * usage: bench_pcaploop [--busy] FILE.pcap [REPEAT]
 * Opens FILE with nanosecond precision (as replay does), walks every packet with pcap_next_ex()
 * and touches its bytes (a running sum of the first and last byte, so the loop cannot be
 * optimised away), then prints one line: packets, bytes, seconds (wall, CLOCK_MONOTONIC) and
 * the rate. REPEAT (default 1) runs the loop that many times and prints each. bench/run-replay.sh
 * compares `replay --speed max` on the same file with this loop: what replay adds on top of
 * libpcap's own reading is framing, the ring and the readers.
 * --busy runs a second thread beside the loop that only spins on a register (no memory traffic,
 * nothing shared): the loop's time then is the floor for any design with two busy threads on this
 * machine. Where two CPUs share one physical core (SMT siblings, or vCPUs the hypervisor places
 * on them), a thread that merely runs slows the other, whatever it shares with it.
 * Exit status: 0, or 2 when the file cannot be read (libpcap's message on stderr).
 */
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static atomic_bool stop_busy;

/* The busy thread: spins until told to stop, touching no shared memory but its own flag's line
 * (read-only, so it stays in this core's cache). */
static void *busy(void *arg)
{
    (void)arg;
    uint64_t x = 0;
    while (!atomic_load_explicit(&stop_busy, memory_order_relaxed)) {
        x = x * 2862933555777941757ull + 3037000493ull;
        __asm__ volatile("" : "+r"(x));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bool with_busy = argc > 1 && strcmp(argv[1], "--busy") == 0;
    if (with_busy) {
        argv++;
        argc--;
    }
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s [--busy] FILE.pcap [REPEAT]\n", argv[0]);
        return 1;
    }
    int repeat = argc == 3 ? atoi(argv[2]) : 1;
    pthread_t busy_thread;
    if (with_busy && pthread_create(&busy_thread, NULL, busy, NULL) != 0) {
        fprintf(stderr, "%s: cannot start the busy thread\n", argv[0]);
        return 1;
    }
    if (repeat < 1) repeat = 1;
    for (int r = 0; r < repeat; r++) {
        char err[PCAP_ERRBUF_SIZE];
        uint64_t t0 = now_ns();
        pcap_t *p =
            pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
        if (!p) {
            fprintf(stderr, "%s: %s\n", argv[1], err);
            return 2;
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        uint64_t packets = 0, bytes = 0, sum = 0;
        int rc;
        while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
            packets++;
            bytes += h->caplen;
            if (h->caplen) sum += d[0] + d[h->caplen - 1];
        }
        if (rc == PCAP_ERROR) {
            fprintf(stderr, "%s: packet %llu: %s\n", argv[1], (unsigned long long)packets + 1,
                    pcap_geterr(p));
            pcap_close(p);
            return 2;
        }
        pcap_close(p);
        double secs = (double)(now_ns() - t0) / 1e9;
        printf("packets %llu bytes %llu seconds %.6f mb_per_sec %.1f check %llu\n",
               (unsigned long long)packets, (unsigned long long)bytes, secs,
               secs > 0 ? (double)bytes / 1e6 / secs : 0.0, (unsigned long long)(sum & 0xFFFF));
    }
    if (with_busy) {
        atomic_store(&stop_busy, true);
        pthread_join(busy_thread, NULL);
    }
    return 0;
}
