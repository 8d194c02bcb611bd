#!/bin/sh
# run-ring.sh - the ring benchmark of issue 3: the Java LMAX Disruptor peer, then bench_ring, which
# prints one table with every number and ratio (the Disruptor's msgs/s are passed in).
# usage: BUILD=build/release sh bench/run-ring.sh      (make bench runs it from the repo root)
# env:   RING_REPS (default 5), RING_MSGS (1P1C message count, default 5000000),
#        RING_ARGS (more bench_ring options, e.g. --quick), DISRUPTOR_JAR, JAVA, JAVAC
# The output is also saved to $BUILD/bench/ring-results.txt.
set -u
BUILD=${BUILD:-build/release}
BIN=$BUILD/bench/bench_ring
JDIR=$BUILD/bench/java
OUT=$BUILD/bench/ring-results.txt
REPS=${RING_REPS:-5}
MSGS=${RING_MSGS:-5000000}
JAR=${DISRUPTOR_JAR:-/usr/share/java/disruptor.jar}
JAVA=${JAVA:-java}
JAVAC=${JAVAC:-javac}

if [ ! -x "$BIN" ]; then
    echo "run-ring: $BIN is missing (make bench builds it)" >&2
    exit 1
fi
echo "== ring benchmark (bench/run-ring.sh; docs/benchmarks.md explains it) =="

slots=$("$BIN" --print-slots) || exit 1
cpus=$("$BIN" --print-cpus) || exit 1

# ---- the Disruptor peer: same message count, slot counts as the ring holds records ----------
na=""
dis_args=""
if ! command -v "$JAVA" >/dev/null 2>&1 || ! command -v "$JAVAC" >/dev/null 2>&1; then
    na="java/javac not found"
elif [ ! -f "$JAR" ]; then
    na="$JAR not found"
else
    mkdir -p "$JDIR"
    if ! "$JAVAC" -nowarn -cp "$JAR" -d "$JDIR" bench/disruptor/RingallocDisruptorBench.java; then
        na="javac failed"
    else
        # the JVM on the same two CPUs as the C side; producer and consumer threads pinned to one
        # each, as in bench_ring (the program does it with taskset on its thread ids)
        pin=""
        if command -v taskset >/dev/null 2>&1 && [ -n "$cpus" ]; then pin="taskset -c $cpus"; fi
        # shellcheck disable=SC2086 # $pin and $slots are word lists
        jout=$($pin "$JAVA" -Xms256m -Xmx1g -Dringalloc.cpus="$cpus" -cp "$JAR:$JDIR" \
            RingallocDisruptorBench "$MSGS" "$REPS" $slots 2>&1)
        rc=$?
        printf '%s\n' "$jout" | sed 's/^/  java: /'
        if [ $rc -ne 0 ]; then
            na="the Java run failed (exit $rc)"
        else
            dis_args=$(printf '%s\n' "$jout" | sed -n \
                's/^disruptor slots=\([0-9]*\) .*median_msgs_per_s=\([0-9.]*\).*/--disruptor \1:\2/p' |
                tr '\n' ' ')
            [ -n "$dis_args" ] || na="no result line from the Java run"
            # the Disruptor's batch publishing (16 per next/publish), the peer of ring.b16
            # shellcheck disable=SC2086
            jout=$($pin "$JAVA" -Xms256m -Xmx1g -Dringalloc.cpus="$cpus" -Dbatch=16 \
                -cp "$JAR:$JDIR" RingallocDisruptorBench "$MSGS" "$REPS" $slots 2>&1) &&
                printf '%s\n' "$jout" | sed 's/^/  java: /' &&
                dis_args="$dis_args $(printf '%s\n' "$jout" | sed -n \
                    's/^disruptor-batch .*slots=\([0-9]*\) .*median_msgs_per_s=\([0-9.]*\).*/--disruptor-batch \1:\2/p' |
                    tr '\n' ' ')"
        fi
    fi
fi

# ---- the C side, which prints the whole table ------------------------------------------------
mkdir -p "$(dirname "$OUT")"
if [ -n "$na" ]; then
    # shellcheck disable=SC2086 # RING_ARGS is a word list
    "$BIN" --reps "$REPS" --msgs "$MSGS" --disruptor-na "$na" ${RING_ARGS:-} >"$OUT.tmp"
else
    # shellcheck disable=SC2086 # word lists
    "$BIN" --reps "$REPS" --msgs "$MSGS" $dis_args ${RING_ARGS:-} >"$OUT.tmp"
fi
rc=$?
cat "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "(saved to $OUT)"
exit $rc
