#!/bin/sh
# plot_charts.sh - scripts/plot.sh draws what it is given and refuses what it cannot read:
# a replay --stats-csv file with two readers and one with none (empty reader fields), benchmark
# result files in the formats bench/run-*.sh write (docs/benchmarks.md, "Result files"), each to a
# PNG; a stats file without a required column and a result file with another header are errors
# that write no chart. Skips (77) without gnuplot (Debian gnuplot-nox; scripts/ensure-deps.sh plot)
# and in sanitizer builds (it uses no build product, so once per `make check` of the release build
# is enough).
. "$(dirname "$0")/lib/common.sh"
cd "$ROOT" || exit 1
[ "$BUILD" = build/release ] || skip "plot_charts: not a build test, run with build/release"
need_cmd gnuplot
need_cmd bash
# png FILE : FILE is a PNG image of some size
png() {
    [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ] &&
        [ "$(wc -c <"$1")" -gt 4000 ]
}
hdr=elapsed_s,msgs,msgs_per_sec,ring_used_bytes,overwritten,reader,read,lost,laps,lag_msgs,latency_p50_ns,latency_p99_ns

# two readers, ten intervals; reader 1 falls behind and is lapped
awk -v h="$hdr" 'BEGIN {
    print h
    for (i = 1; i <= 10; i++) {
        m = i * 1000000; ov = i > 4 ? (i - 4) * 800000 : 0
        for (r = 0; r < 2; r++) {
            lag = r ? 20000 * i : 50 + i
            used = i > 4 ? 67100000 : i * 16000000
            printf "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", i, m, 1000000, used, ov, r, m - lag,
                (r ? ov / 2 : 0), (r ? i : 0), lag, 700 + r * 5000, 4000 + r * 80000
        }
    }
}' >"$tmp/two.csv"
# no reader: the reader fields are empty
awk -v h="$hdr" 'BEGIN { print h; for (i = 1; i <= 5; i++) printf "%d,%d,%d,%d,0,,,,,,,\n", i, i * 500, 500, i * 4096 }' \
    >"$tmp/none.csv"
# a required column missing
echo "elapsed_s,msgs,msgs_per_sec" >"$tmp/bad.csv"
echo "1,10,10" >>"$tmp/bad.csv"

for c in two none; do
    if bash scripts/plot.sh stats "$tmp/$c.csv" "$tmp/$c.png" >"$tmp/$c.log" 2>&1 && png "$tmp/$c.png"; then
        echo "ok: stats chart of $c.csv"
    else
        fail "stats chart of $c.csv"
        cat "$tmp/$c.log"
    fi
done
if bash scripts/plot.sh stats "$tmp/bad.csv" "$tmp/bad.png" >"$tmp/bad.log" 2>&1; then
    fail "a stats file without the reader columns was accepted"
elif [ -e "$tmp/bad.png" ]; then
    fail "a refused stats file left $tmp/bad.png"
elif ! grep -q 'missing column' "$tmp/bad.log"; then
    fail "the error does not name the missing column: $(cat "$tmp/bad.log")"
else
    echo "ok: $(head -n 1 "$tmp/bad.log")"
fi

# benchmark results, one or two rows of each kind of value
r=$tmp/results
mkdir -p "$r"
{
    echo ring,capacity_bytes,payload_bytes,impl,ns_per_msg
    for i in floor:1.8 ring_write:4.6 ring_rsv_cmt:6.0 ring_b16:5.1 ck_malloc:9.6; do
        echo "256KiB,262144,32,${i%:*},${i#*:}"
        echo "64MiB,67108864,32,${i%:*},${i#*:}"
    done
} >"$r/ring-publish.csv"
printf '%s\n' ring,capacity_bytes,slots,impl,mmsgs_per_sec 256KiB,262144,4096,ring,130 \
    256KiB,262144,4096,ck_malloc,3.6 256KiB,262144,4096,disruptor,8.3 >"$r/ring-spsc.csv"
printf '%s\n' ring,capacity_bytes,mode,percentile,latency_ns 256KiB,262144,floor_line,50,150 \
    256KiB,262144,floor_line,99,170 256KiB,262144,ring_overwrite,50,330 \
    256KiB,262144,ring_overwrite,99.9,600 256KiB,262144,ring_overwrite,100,50000 >"$r/ring-latency.csv"
printf '%s\n' bench,impl,best_ns,median_ns pair,pool,0.88,0.89 pair,glibc,6.4,6.4 \
    arena,arena,0.54,0.55 arena,mimalloc,3.9,3.9 >"$r/alloc.csv"
printf '%s\n' run,input,messages,floor,best_s,median_s,peak_rss_kib,decompressed_bytes \
    zstd_pcap,pcap.zst,5000000,,0.28,0.29,6400,193707364 \
    replay_pcapzst,pcap.zst,5000000,zstd_pcap,0.25,0.31,73000,193707364 \
    pcaploop,pcap,5000000,,0.05,0.05,3100,193707364 \
    replay_pcap,pcap,5000000,pcaploop,0.19,0.20,69000,193707364 >"$r/replay.csv"
if bash scripts/plot.sh bench "$r" "$tmp/img" >"$tmp/bench.log" 2>&1; then
    for c in ring-publish ring-spsc ring-latency alloc replay; do
        png "$tmp/img/$c.png" && echo "ok: $c.png" || fail "no chart $c.png"
    done
else
    fail "plot.sh bench failed"
    cat "$tmp/bench.log"
fi
echo "run,input" >"$r/replay.csv"
if bash scripts/plot.sh bench "$r" "$tmp/img2" >"$tmp/bench2.log" 2>&1; then
    fail "a replay.csv with another header was accepted"
else
    echo "ok: $(tail -n 1 "$tmp/bench2.log")"
fi

if [ $failures -ne 0 ]; then
    echo "plot_charts: $failures failure(s)"
    exit 1
fi
echo "plot_charts: ok"
