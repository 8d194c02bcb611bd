#!/bin/sh
# run-ring.sh - the ring benchmark: the Java LMAX Disruptor peer, then bench_ring, which prints one
# table with every number and ratio (the Disruptor's msgs/s are passed in).
# usage: BUILD=build/release sh bench/run-ring.sh      (make bench runs it from the repo root)
# env:   RING_REPS (default 5), RING_MSGS (1P1C message count, default 5000000),
#        RING_ARGS (more bench_ring options, e.g. --quick), DISRUPTOR_JAR, JAVA, JAVAC
# The output is also saved to $BUILD/bench/ring-results.txt, and the numbers as tidy CSV files in
# $BENCH_RESULTS (default $BUILD/bench-results; scripts/plot.sh draws them; docs/benchmarks.md
# lists the columns):
#   ring-publish.csv  ring,capacity_bytes,payload_bytes,impl,ns_per_msg
#   ring-spsc.csv     ring,capacity_bytes,slots,impl,mmsgs_per_sec
#   ring-latency.csv  ring,capacity_bytes,mode,percentile,latency_ns   (percentile 100 = max; a mode
#                     that got no sample, e.g. a descheduled reader, has no rows)
# Only the sections that ran get a file (bench_ring --only); the printed table stays as it is.
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
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}

if [ ! -x "$BIN" ]; then
    echo "run-ring: $BIN is missing (make bench builds it)" >&2
    exit 1
fi
echo "== ring benchmark (bench/run-ring.sh; docs/benchmarks.md explains it) =="

slots=$("$BIN" --print-slots) || exit 1
cpus=$("$BIN" --print-cpus) || exit 1

# write_csv TABLE DIR : the three sections of bench_ring's table as tidy CSV files in DIR (the
# contender names of the table made into identifiers: ring.write -> ring_write, ck+malloc ->
# ck_malloc, "floor: 1 cache line" -> floor_line, ...). Files of sections that did not run are
# removed, so DIR never mixes two runs.
write_csv() {
    mkdir -p "$2" || return 1
    rm -f "$2/ring-publish.csv" "$2/ring-spsc.csv" "$2/ring-latency.csv"
    awk -v dir="$2" '
    function bytes(c) { return c ~ /MiB$/ ? (c + 0) * 1048576 : (c + 0) * 1024 }
    function out(f, hdr, line) {
        if (!(f in seen)) { print hdr > (dir "/" f); seen[f] = 1 }
        print line > (dir "/" f)
    }
    /^== publish only/ { sec = "pub"; next }
    /^== 1P1C/ { sec = "spsc"; next }
    /^== latency/ { sec = "lat"; next }
    /^== / || /^$/ { sec = ""; next }
    sec == "pub" && $1 ~ /^[0-9]+[KM]iB$/ {
        n = split("floor ring_write ring_rsv_cmt ring_b16 ck_malloc", impl, " ")
        for (i = 1; i <= n; i++)
            out("ring-publish.csv", "ring,capacity_bytes,payload_bytes,impl,ns_per_msg",
                $1 "," bytes($1) "," $2 "," impl[i] "," $(i + 2))
    }
    sec == "spsc" && $1 ~ /^[0-9]+[KM]iB$/ {
        n = split("ring ring_b16 ck_malloc disruptor disruptor_b16", impl, " ")
        for (i = 1; i <= n; i++)
            if ($(i + 2) != "n/a")
                out("ring-spsc.csv", "ring,capacity_bytes,slots,impl,mmsgs_per_sec",
                    $1 "," bytes($1) "," $2 "," impl[i] "," $(i + 2))
    }
    sec == "lat" && $1 ~ /^[0-9]+[KM]iB$/ && $(NF - 1) > 0 { # rows without samples: no data
        line = $0
        sub(/^[^ ]+ +/, "", line)
        mode = line ~ /^floor/ ? "floor_line" : line ~ /^ring overwrite/ ? "ring_overwrite" : \
               line ~ /^ring backpressure/ ? "ring_backpressure" : "ck_malloc"
        # the last six fields: p50 p99 p99.9 max samples lost
        split("50 99 99.9 100", pct, " ")
        for (i = 1; i <= 4; i++)
            out("ring-latency.csv", "ring,capacity_bytes,mode,percentile,latency_ns",
                $1 "," bytes($1) "," mode "," pct[i] "," $(NF - 6 + i))
    }' "$1"
}

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
write_csv "$OUT" "$RESULTS" || echo "run-ring: could not write the CSV files in $RESULTS" >&2
exit $rc
