#!/bin/sh
# run-shm.sh - the shared-memory ring benchmark: bench_shm runs the shared ring (writer and readers
# in separate processes), the in-process ring, ZeroMQ, nng, Unix datagram sockets and the
# one-cache-line floor side by side and prints one table with every number, ratio and goal.
# usage: BUILD=build/release sh bench/run-shm.sh      (make bench runs it from the repo root)
# env:   SHM_REPS (default 5), SHM_MSGS (throughput messages, default 1000000),
#        SHM_ARGS (more bench_shm options, e.g. --quick, --pace-ns N, --only ID)
# bench_shm links libzmq and libnng: `make bench` installs them (scripts/ensure-deps.sh bench:
# libzmq3-dev, libnng-dev) before it builds the benchmarks.
# The output is also saved to $BUILD/bench/shm-results.txt, and the numbers as tidy CSV files in
# $BENCH_RESULTS (default $BUILD/bench-results; docs/benchmarks.md lists the columns):
#   shm-throughput.csv  impl,readers,payload_bytes,msgs_per_sec_per_reader,delivered_pct,
#                       lost_reported,lost_unreported
#   shm-latency.csv     impl,readers,payload_bytes,percentile,latency_ns
set -u
BUILD=${BUILD:-build/release}
BIN=$BUILD/bench/bench_shm
OUT=$BUILD/bench/shm-results.txt
REPS=${SHM_REPS:-5}
MSGS=${SHM_MSGS:-1000000}
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}

if [ ! -x "$BIN" ]; then
    echo "run-shm: $BIN is missing (make bench builds it; it needs libzmq3-dev and libnng-dev)" >&2
    exit 1
fi
echo "== shared-memory ring benchmark (bench/run-shm.sh; docs/benchmarks.md explains it) =="
mkdir -p "$(dirname "$OUT")" "$RESULTS"
rm -f "$RESULTS/shm-throughput.csv" "$RESULTS/shm-latency.csv"
# shellcheck disable=SC2086 # SHM_ARGS is a word list
"$BIN" --reps "$REPS" --msgs "$MSGS" --csv "$RESULTS" ${SHM_ARGS:-} >"$OUT.tmp"
rc=$?
cat "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "(saved to $OUT)"
exit $rc
