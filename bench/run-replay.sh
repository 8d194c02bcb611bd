#!/bin/sh
# run-replay.sh - replay's input speed against its floors, side by side in one run (make bench)
#
# On a capture made by `replay gen` (REPLAY_BENCH_MESSAGES, default 5 million messages):
#   .pcap.zst   replay --speed max          vs  zstd -d of the same file to /dev/null
#   .pcap       replay --speed max          vs  a bare libpcap pcap_next_ex loop (bench_pcaploop),
#                                               and vs the same loop with a busy thread beside it
#                                               (bench_pcaploop --busy: the two-thread floor; where
#                                               the CPUs share a core, any second running thread
#                                               slows the first, and replay with a reader runs two)
#   .rtk.zst    replay --speed max          vs  zstd -d of it
#   .dbn.zst    replay --speed max          vs  zstd -d of it (a Databento DBN v3 MBO file made by
#                                               `replay gen --format dbn`, as many records)
# each with the default one reader and with --readers 0 (publish only), and peak RSS of replay
# on the capture and on one four times larger (memory must not grow with file size).
# Wall time of whole processes (fork to exit), best and median of REPLAY_BENCH_REPS runs
# (default 7), page cache warm. On a shared machine the best run is the cost of the code and the
# median shows the noise; the verdicts use the best runs and print the median ratio beside them. Captures live in $BUILD/bench-data (generated once, not committed). Prints a
# markdown table and MET / NOT MET lines for the goals, and writes them to
# $BUILD/bench-replay.md. Not a test: numbers depend on the machine and its load (reported).
# The numbers also go to a tidy CSV file, $BENCH_RESULTS/replay.csv (default $BUILD/bench-results;
# scripts/plot.sh draws it), one row per measured command:
#   run,input,messages,floor,best_s,median_s,peak_rss_kib,decompressed_bytes
# run: zstd_pcap, replay_pcapzst, replay0_pcapzst (--readers 0), info_pcapzst, pcaploop, pcaploop_busy,
# replay_pcap, replay0_pcap, zstd_rtk, replay_rtkzst, replay0_rtkzst, zstd_dbn, replay_dbnzst,
# replay_large_pcapzst, replay_large_rtkzst; floor: the run it is compared with (empty for the floors themselves).
set -u
: "${BUILD:=build/release}"
: "${REPLAY:=$(pwd)/$BUILD/replay}"
: "${REPLAY_BENCH_MESSAGES:=5000000}"
: "${REPLAY_BENCH_REPS:=7}"
LOOP=$BUILD/bench/bench_pcaploop
DATA=$BUILD/bench-data
OUT=$BUILD/bench-replay.md
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}
for t in "$REPLAY" "$LOOP"; do
    [ -x "$t" ] || { echo "run-replay: $t not built (make bench builds it)"; exit 1; }
done
command -v zstd >/dev/null 2>&1 || { echo "run-replay: the zstd CLI is needed"; exit 1; }
if [ -x /usr/bin/time ]; then TIMECMD=/usr/bin/time; else TIMECMD=; fi
mkdir -p "$DATA" || exit 1

n1=$REPLAY_BENCH_MESSAGES
n4=$((REPLAY_BENCH_MESSAGES * 4))
small=$DATA/gen-$n1.pcap
large=$DATA/gen-$n4.pcap

# make_data N FILE : the capture and its .zst, .rtk.zst (kept between runs)
make_data() {
    if [ ! -s "$2" ]; then
        echo "run-replay: generating $2 ($1 messages)"
        "$REPLAY" gen --messages "$1" --seed 7 --symbols 64 -q -o "$2" || exit 1
        rm -f "$2.zst" "${2%.pcap}.rtk.zst"
    fi
    [ -s "$2.zst" ] || zstd -q -f "$2" -o "$2.zst" || exit 1
    [ -s "${2%.pcap}.rtk.zst" ] || "$REPLAY" convert -q "$2" -o "${2%.pcap}.rtk.zst" || exit 1
}
make_data "$n1" "$small"
make_data "$n4" "$large"
srtk=${small%.pcap}.rtk.zst
lrtk=${large%.pcap}.rtk.zst
sdbn=$DATA/gen-$n1.dbn.zst
if [ ! -s "$sdbn" ]; then
    echo "run-replay: generating $sdbn ($n1 records)"
    "$REPLAY" gen --format dbn --messages "$n1" --seed 7 --symbols 64 -q -f -o "${sdbn%.zst}" &&
        zstd -q -f --rm "${sdbn%.zst}" -o "$sdbn" || exit 1
fi
cat "$small" "$small.zst" "$srtk" "$large.zst" "$sdbn" >/dev/null # warm the page cache

now_ns() { date +%s%N; }
# one_run CMD... : runs it (stdout and stderr discarded); sets wall (seconds) and rss (KiB)
one_run() {
    t0=$(now_ns)
    if [ -n "$TIMECMD" ]; then
        "$TIMECMD" -f '%M' -o "$DATA/rss.txt" "$@" >/dev/null 2>&1
        rc=$?
        rss=$(tail -n 1 "$DATA/rss.txt")
    else
        "$@" >/dev/null 2>&1
        rc=$?
        rss=0
    fi
    t1=$(now_ns)
    [ $rc -eq 0 ] || { echo "run-replay: '$*' failed (exit $rc)"; exit 1; }
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# measure NAME CMD... : best and median wall, max RSS over the repetitions
#   -> $DATA/NAME.{wall,med,rss}
measure() {
    name=$1
    shift
    : >"$DATA/$name.walls"
    : >"$DATA/$name.rsss"
    i=0
    while [ $i -lt "$REPLAY_BENCH_REPS" ]; do
        one_run "$@"
        echo "$wall" >>"$DATA/$name.walls"
        echo "$rss" >>"$DATA/$name.rsss"
        i=$((i + 1))
    done
    sort -n "$DATA/$name.walls" | head -n 1 >"$DATA/$name.wall"
    median <"$DATA/$name.walls" >"$DATA/$name.med"
    sort -n "$DATA/$name.rsss" | tail -n 1 >"$DATA/$name.rss"
}
get() { cat "$DATA/$1.$2"; }
ratio() { awk -v a="$(get "$1" wall)" -v b="$(get "$2" wall)" 'BEGIN { printf "%.2f", a / b }'; }
mratio() { awk -v a="$(get "$1" med)" -v b="$(get "$2" med)" 'BEGIN { printf "%.2f", a / b }'; }

# How many CPUs this run really gets: two busy processes at once, CPU time over wall time (on a
# shared VM other jobs' cgroups take their share whatever our nice level).
cpus_free() {
    "$TIMECMD" -f '%P' -o "$DATA/par.txt" sh -c \
        'for i in 1 2; do awk "BEGIN { for (i = 0; i < 3e7; i++) s += i }" & done; wait' 2>/dev/null
    tr -d '%' <"$DATA/par.txt" | awk '{ printf "%.2f", $1 / 100 }'
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
par_before=$([ -n "$TIMECMD" ] && cpus_free || echo "?")
echo "run-replay: $(nproc) CPUs ($par_before available to two busy processes), load average $load_before; $REPLAY_BENCH_REPS runs each"
measure zstd_pcap zstd -d -c "$small.zst"
measure replay_pcapzst "$REPLAY" -q --speed max "$small.zst"
measure replay0_pcapzst "$REPLAY" -q --speed max --readers 0 "$small.zst"
measure pcaploop "$LOOP" "$small"
measure pcaploop_busy "$LOOP" --busy "$small"
measure replay_pcap "$REPLAY" -q --speed max "$small"
measure replay0_pcap "$REPLAY" -q --speed max --readers 0 "$small"
measure zstd_rtk zstd -d -c "$srtk"
measure replay_rtkzst "$REPLAY" -q --speed max "$srtk"
measure replay0_rtkzst "$REPLAY" -q --speed max --readers 0 "$srtk"
measure zstd_dbn zstd -d -c "$sdbn"
measure replay_dbnzst "$REPLAY" -q --speed max "$sdbn"
measure info_pcapzst "$REPLAY" info "$small.zst"
reps=$REPLAY_BENCH_REPS
REPLAY_BENCH_REPS=1
measure replay_large_pcapzst "$REPLAY" -q --speed max "$large.zst"
measure replay_large_rtkzst "$REPLAY" -q --speed max "$lrtk"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
par_after=$([ -n "$TIMECMD" ] && cpus_free || echo "?")

size() { wc -c <"$1" | tr -d ' '; }
mb() { awk -v b="$1" -v s="$(get "$2" wall)" 'BEGIN { printf "%.0f", b / 1e6 / s }'; }
msgs() { awk -v n="$n1" -v s="$(get "$1" wall)" 'BEGIN { printf "%.1f", n / 1e6 / s }'; }
raw=$(size "$small")
rtkraw=$("$REPLAY" info --json "$srtk" | awk -F': ' '/"bytes"/ { gsub(/[ ,]/, "", $2); print $2; exit }')
[ -n "$rtkraw" ] || rtkraw=0
dbnraw=$("$REPLAY" info --json "$sdbn" | awk -F': ' '/"bytes"/ { gsub(/[ ,]/, "", $2); print $2; exit }')
[ -n "$dbnraw" ] || dbnraw=0
row() { # label name floor_name decompressed_bytes
    if [ -n "$3" ]; then r="$(ratio "$2" "$3")x"; m="$(mratio "$2" "$3")x"; else r=""; m=""; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(get "$2" wall)" "$(get "$2" med)" \
        "$r" "$m" "$(msgs "$2")" "$([ "$4" -gt 0 ] && mb "$4" "$2")" \
        "$(awk -v k="$(get "$2" rss)" 'BEGIN { printf "%.1f", k / 1024 }')"
}
verdict() { # name floor goal label
    awk -v r="$(ratio "$1" "$2")" -v m="$(mratio "$1" "$2")" -v g="$3" -v l="$4" \
        'BEGIN { printf "%s: %s %.2fx best, %.2fx median (goal <= %.1fx)\n", (r <= g) ? "MET" : "NOT MET", l, r, m, g }'
}
{
    echo "Captures: \`replay gen --messages $n1 --seed 7 --symbols 64\` ($raw bytes, $(size "$small.zst") as .pcap.zst, $(size "$srtk") as .rtk.zst), and the same with $n4 messages for RSS."
    echo "$(nproc) CPUs, of which two busy processes got $par_before before and $par_after after the runs; load average $load_before before, $load_after after. Best and median of $reps runs, whole-process wall time, page cache warm."
    echo
    echo "| run | best s | median s | best vs floor | median vs floor | M msgs/s (best) | MB/s decompressed (best) | peak RSS MiB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    row "zstd -d .pcap.zst > /dev/null (floor)" zstd_pcap "" "$raw"
    row "replay .pcap.zst" replay_pcapzst zstd_pcap "$raw"
    row "replay --readers 0 .pcap.zst" replay0_pcapzst zstd_pcap "$raw"
    row "replay info .pcap.zst (no ring)" info_pcapzst zstd_pcap "$raw"
    row "bench_pcaploop .pcap (floor)" pcaploop "" "$raw"
    row "bench_pcaploop --busy .pcap (two-thread floor)" pcaploop_busy pcaploop "$raw"
    row "replay .pcap" replay_pcap pcaploop "$raw"
    row "replay --readers 0 .pcap" replay0_pcap pcaploop "$raw"
    row "zstd -d .rtk.zst > /dev/null (floor)" zstd_rtk "" "$rtkraw"
    row "replay .rtk.zst" replay_rtkzst zstd_rtk "$rtkraw"
    row "replay --readers 0 .rtk.zst" replay0_rtkzst zstd_rtk "$rtkraw"
    row "zstd -d .dbn.zst > /dev/null (floor)" zstd_dbn "" "$dbnraw"
    row "replay .dbn.zst (DBN v3 MBO)" replay_dbnzst zstd_dbn "$dbnraw"
    printf '| replay .pcap.zst, 4x capture (%s msgs, 1 run) | %s | | | | | | %s |\n' "$n4" \
        "$(get replay_large_pcapzst wall)" "$(awk -v k="$(get replay_large_pcapzst rss)" 'BEGIN { printf "%.1f", k / 1024 }')"
    printf '| replay .rtk.zst, 4x capture (1 run) | %s | | | | | | %s |\n' "$(get replay_large_rtkzst wall)" \
        "$(awk -v k="$(get replay_large_rtkzst rss)" 'BEGIN { printf "%.1f", k / 1024 }')"
    echo
    verdict replay_pcapzst zstd_pcap 1.3 "replay .pcap.zst vs zstd -d:"
    verdict replay_pcap pcaploop 1.5 "replay .pcap vs bare pcap_next_ex loop:"
    verdict replay_dbnzst zstd_dbn 1.3 "replay .dbn.zst vs zstd -d:"
    echo "info: replay .pcap vs the loop with a busy thread beside it (two-thread floor): $(ratio replay_pcap pcaploop_busy)x best, $(mratio replay_pcap pcaploop_busy)x median; a busy thread alone costs the loop $(ratio pcaploop_busy pcaploop)x best, $(mratio pcaploop_busy pcaploop)x median"
    echo "info: replay .rtk.zst vs zstd -d: $(ratio replay_rtkzst zstd_rtk)x best, $(mratio replay_rtkzst zstd_rtk)x median (no goal)"
    awk -v a="$(get replay_pcapzst rss)" -v b="$(get replay_large_pcapzst rss)" \
        -v c="$(get replay_rtkzst rss)" -v d="$(get replay_large_rtkzst rss)" 'BEGIN {
        flat = b <= a * 1.05 + 1024 && d <= c * 1.05 + 1024
        printf "%s: peak RSS flat: .pcap.zst %.1f -> %.1f MiB, .rtk.zst %.1f -> %.1f MiB for 4x the messages (goal: within 5%% + 1 MiB)\n",
            flat ? "MET" : "NOT MET", a / 1024, b / 1024, c / 1024, d / 1024 }'
} >"$OUT"
cat "$OUT"

# csv_row NAME INPUT MESSAGES FLOOR BYTES : one line of replay.csv
csv_row() {
    echo "$1,$2,$3,$4,$(get "$1" wall),$(get "$1" med),$(get "$1" rss),$5"
}
if mkdir -p "$RESULTS"; then
    {
        echo "run,input,messages,floor,best_s,median_s,peak_rss_kib,decompressed_bytes"
        csv_row zstd_pcap pcap.zst "$n1" "" "$raw"
        csv_row replay_pcapzst pcap.zst "$n1" zstd_pcap "$raw"
        csv_row replay0_pcapzst pcap.zst "$n1" zstd_pcap "$raw"
        csv_row info_pcapzst pcap.zst "$n1" zstd_pcap "$raw"
        csv_row pcaploop pcap "$n1" "" "$raw"
        csv_row pcaploop_busy pcap "$n1" pcaploop "$raw"
        csv_row replay_pcap pcap "$n1" pcaploop "$raw"
        csv_row replay0_pcap pcap "$n1" pcaploop "$raw"
        csv_row zstd_rtk rtk.zst "$n1" "" "$rtkraw"
        csv_row replay_rtkzst rtk.zst "$n1" zstd_rtk "$rtkraw"
        csv_row replay0_rtkzst rtk.zst "$n1" zstd_rtk "$rtkraw"
        csv_row zstd_dbn dbn.zst "$n1" "" "$dbnraw"
        csv_row replay_dbnzst dbn.zst "$n1" zstd_dbn "$dbnraw"
        csv_row replay_large_pcapzst pcap.zst "$n4" "" "$(size "$large")"
        csv_row replay_large_rtkzst rtk.zst "$n4" "" ""
    } >"$RESULTS/replay.csv"
else
    echo "run-replay: could not write $RESULTS/replay.csv" >&2
fi
