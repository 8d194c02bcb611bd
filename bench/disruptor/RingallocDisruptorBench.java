/*
 * RingallocDisruptorBench.java - LMAX Disruptor peer for bench/bench_ring.c.
 *
 * One producer (the main thread, ProducerType.SINGLE) publishes `msgs` 32-byte events through a
 * Disruptor of `slots` preallocated events to one consumer thread (BusySpinWaitStrategy). The
 * producer copies a 32-byte payload into the event (System.arraycopy, the memcpy of the C side)
 * and stores the message counter in its first 8 bytes; the consumer checks every counter, so
 * every message is delivered and verified, as in the C ring and ck_ring runs.
 *
 * Pinning, as on the C side: with -Dringalloc.cpus=A,B the producer (main) thread pins itself to
 * CPU A and the consumer thread to CPU B (taskset -p on the thread id read from /proc/thread-self;
 * a failure is reported once and the run goes on unpinned). -Dspin=true makes the producer spin
 * on hasAvailableCapacity() before next() instead of letting next() park when the ring is full.
 * -Dbatch=N makes the producer claim and publish N events at a time (next(N), publish(lo, hi)),
 * the Disruptor's batch publishing, compared with the ring's ra_ring_write_batch(); the result
 * lines then start with "disruptor-batch".
 *
 * usage: java -cp disruptor.jar:DIR [-Dringalloc.cpus=A,B] RingallocDisruptorBench MSGS REPS SLOTS...
 * prints, per SLOTS value, one line:
 *   disruptor slots=S msgs=N reps=R median_msgs_per_s=X min_msgs_per_s=Y max_msgs_per_s=Z
 * (after two untimed warm-up runs that let the JIT compile the hot paths). Exit 1 on a
 * verification error.
 */
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import com.lmax.disruptor.util.DaemonThreadFactory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

public final class RingallocDisruptorBench {
    static final int PAYLOAD = 32;
    static final boolean SPIN = Boolean.getBoolean("spin");
    static final int BATCH = Integer.getInteger("batch", 1);
    static int producerCpu = -1, consumerCpu = -1;
    static boolean pinWarned;

    /* Pins the calling thread to one CPU with taskset (Java has no affinity API). */
    static void pin(int cpu) {
        if (cpu < 0) return;
        try {
            String tid = Files.readSymbolicLink(Paths.get("/proc/thread-self")).getFileName()
                    .toString();
            Process p = new ProcessBuilder("taskset", "-p", "-c", Integer.toString(cpu), tid)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (p.waitFor() != 0) throw new IllegalStateException("taskset exit " + p.exitValue());
        } catch (Exception e) {
            synchronized (RingallocDisruptorBench.class) {
                if (!pinWarned) System.err.println("disruptor: not pinned: " + e);
                pinWarned = true;
            }
        }
    }
    static final VarHandle LONGS =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static final class Event {
        final byte[] data = new byte[PAYLOAD];
    }

    static final class Consumer implements EventHandler<Event> {
        final long total;
        long expect;
        long errors;
        long sum;
        volatile long endNs;
        final CountDownLatch done = new CountDownLatch(1);

        Consumer(long total) {
            this.total = total;
        }

        @Override
        public void onEvent(Event ev, long sequence, boolean endOfBatch) {
            long v = (long) LONGS.get(ev.data, 0);
            if (v != expect) errors++;
            sum += ev.data[PAYLOAD - 1];
            if (++expect == total) {
                endNs = System.nanoTime();
                done.countDown();
            }
        }
    }

    /* One run: a fresh Disruptor, `msgs` events, returns msgs/s (producer start to last event
     * handled by the consumer). */
    static double runOnce(int slots, long msgs) throws InterruptedException {
        Disruptor<Event> d = new Disruptor<>(Event::new, slots, r -> {
            Thread t = DaemonThreadFactory.INSTANCE.newThread(() -> {
                pin(consumerCpu);
                r.run();
            });
            return t;
        }, ProducerType.SINGLE, new BusySpinWaitStrategy());
        Consumer c = new Consumer(msgs);
        d.handleEventsWith(c);
        RingBuffer<Event> rb = d.start();
        byte[] src = new byte[PAYLOAD];
        for (int i = 0; i < PAYLOAD; i++) src[i] = (byte) (i * 37 + 11);
        Thread.sleep(30); /* let the consumer thread pin itself and reach its spin loop */
        long t0 = System.nanoTime();
        if (BATCH <= 1) {
            for (long i = 0; i < msgs; i++) {
                if (SPIN) while (!rb.hasAvailableCapacity(1)) Thread.onSpinWait();
                long seq = rb.next();
                Event ev = rb.get(seq);
                System.arraycopy(src, 0, ev.data, 0, PAYLOAD);
                LONGS.set(ev.data, 0, i);
                rb.publish(seq);
            }
        } else {
            for (long i = 0; i < msgs; i += BATCH) {
                int n = (int) Math.min(BATCH, msgs - i);
                if (SPIN) while (!rb.hasAvailableCapacity(n)) Thread.onSpinWait();
                long hi = rb.next(n), lo = hi - (n - 1);
                for (long seq = lo; seq <= hi; seq++) {
                    Event ev = rb.get(seq);
                    System.arraycopy(src, 0, ev.data, 0, PAYLOAD);
                    LONGS.set(ev.data, 0, i + (seq - lo));
                }
                rb.publish(lo, hi);
            }
        }
        c.done.await();
        long t1 = c.endNs;
        d.shutdown();
        if (c.errors != 0) {
            System.err.println("disruptor: " + c.errors + " counter mismatches");
            System.exit(1);
        }
        return msgs / ((t1 - t0) / 1e9);
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            System.err.println("usage: RingallocDisruptorBench MSGS REPS SLOTS...");
            System.exit(2);
        }
        String cpus = System.getProperty("ringalloc.cpus", "");
        if (cpus.matches("\\d+,\\d+")) {
            producerCpu = Integer.parseInt(cpus.split(",")[0]);
            consumerCpu = Integer.parseInt(cpus.split(",")[1]);
            pin(producerCpu);
        }
        long msgs = Long.parseLong(args[0]);
        int reps = Integer.parseInt(args[1]);
        for (int a = 2; a < args.length; a++) {
            int slots = Integer.parseInt(args[a]);
            for (int w = 0; w < 2; w++) runOnce(slots, msgs); /* JIT warm-up, untimed */
            double[] r = new double[reps];
            for (int i = 0; i < reps; i++) r[i] = runOnce(slots, msgs);
            Arrays.sort(r);
            System.out.printf((BATCH > 1 ? "disruptor-batch batch=" + BATCH + " " : "disruptor ")
                            + "slots=%d msgs=%d reps=%d median_msgs_per_s=%.0f "
                            + "min_msgs_per_s=%.0f max_msgs_per_s=%.0f%n",
                    slots, msgs, reps, r[reps / 2], r[0], r[reps - 1]);
        }
    }
}
