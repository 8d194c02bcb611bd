#!/bin/sh
# run-book-replay.sh - order books in a real workload: `replay --book`, the whole run (make bench)
#
# 1. Allocators. A capture made by `replay gen` (BOOK_BENCH_MESSAGES, default 5 million messages,
#    no gaps), converted to .rtk.zst, is replayed with --book: orders from the book's pool
#    (the default) and, with the same book code, from malloc/free (--book-alloc malloc) under
#    glibc and under jemalloc, tcmalloc and mimalloc by LD_PRELOAD (those found installed).
#    Goal: the pool run at least 1.5x faster than the best malloc run.
# 2. A whole run against a published peer. The same kind of capture (BOOK_BENCH_ITCH_MESSAGES,
#    default 2 million) converted to a Nasdaq binary ITCH 5.0 file (`replay convert --to itch`),
#    replayed with --book: read, ring, book per order. Peer: itch-order-book (charles-cooper;
#    aggregate levels only, C++), whose in-memory loop was measured at 88 ns/msg on such a file.
#    Goal: at most 1.5x that (132 ns/msg), with no message lost (book complete, nothing lost by
#    the reader).
# Every run has --ring-size BOOK_BENCH_RING (default 1G: the ring holds the whole input, so a
# book slower than the producer loses nothing) and --book-orders BOOK_BENCH_ORDERS (default
# 65536: generated flow has at most 4096 live orders; the order table grows with the live
# orders, so the default 2M costs about the same).
# Whole-process wall time (fork to exit), best and median of BOOK_BENCH_REPS runs (default 5),
# page cache warm; msgs/s and ns/msg from the best run. Inputs live in $BUILD/bench-data
# (generated once, not committed). Prints a markdown table and MET / NOT MET lines, writes them to
# $BUILD/bench-book-replay.md and a tidy CSV to $BENCH_RESULTS/book-replay.csv (default
# $BUILD/bench-results):
#   run,input,messages,alloc,best_s,median_s,ns_per_msg,msgs_per_s
# Not a test: numbers depend on the machine and its load.
set -u
: "${BUILD:=build/release}"
: "${REPLAY:=$(pwd)/$BUILD/replay}"
: "${BOOK_BENCH_MESSAGES:=5000000}"
: "${BOOK_BENCH_ITCH_MESSAGES:=2000000}"
: "${BOOK_BENCH_REPS:=5}"
: "${BOOK_BENCH_RING:=1G}"       # holds the whole input: at --speed max nothing is overwritten
: "${BOOK_BENCH_ORDERS:=65536}"  # the generated flow never has more than 4096 live orders
PEER_NS=88
DATA=$BUILD/bench-data
OUT=$BUILD/bench-book-replay.md
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}
[ -x "$REPLAY" ] || { echo "run-book-replay: $REPLAY not built"; exit 1; }
mkdir -p "$DATA" "$RESULTS" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "== order books in replay (bench/run-book-replay.sh; docs/replay.md \"Order books in replay\") =="

# make_input N OUT [convert options]: a generated capture of N messages converted to OUT (kept)
make_input() {
    [ -s "$2" ] && return 0
    n=$1
    out=$2
    shift 2
    echo "run-book-replay: generating $out ($n messages)"
    "$REPLAY" gen -q -f --messages "$n" --seed 11 --symbols 64 -o "$tmp/gen.pcap" &&
        "$REPLAY" convert -q -f "$@" "$tmp/gen.pcap" -o "$out" || exit 1
    rm -f "$tmp/gen.pcap"
}
rtk=$DATA/book-$BOOK_BENCH_MESSAGES.rtk.zst
itch=$DATA/book-$BOOK_BENCH_ITCH_MESSAGES.itch
make_input "$BOOK_BENCH_MESSAGES" "$rtk"
make_input "$BOOK_BENCH_ITCH_MESSAGES" "$itch" --to itch

# shellcheck source=bench/preload.sh
. "$(dirname "$0")/preload.sh" # allocator_lib

# measure NAME PRELOAD INPUT [replay options]: best and median wall ns of the runs into
# $tmp/NAME.{best,med}, messages into $tmp/NAME.msgs; fails when a run loses a message or the
# book is incomplete or reports errors
measure() {
    name=$1
    pre=$2
    input=$3
    shift 3
    : >"$tmp/$name.t"
    i=0
    while [ "$i" -lt "$BOOK_BENCH_REPS" ]; do
        t0=$(date +%s%N)
        # shellcheck disable=SC2086
        LD_PRELOAD=$pre "$REPLAY" --book --json -q --ring-size "$BOOK_BENCH_RING" \
            --book-orders "$BOOK_BENCH_ORDERS" "$@" "$input" >"$tmp/$name.json" 2>"$tmp/err" ||
            { echo "run-book-replay: $name: replay failed: $(cat "$tmp/err")"; return 1; }
        t1=$(date +%s%N)
        echo $((t1 - t0)) >>"$tmp/$name.t"
        i=$((i + 1))
    done
    python3 - "$tmp/$name.json" >"$tmp/$name.msgs" <<'PY' || { echo "run-book-replay: $name: $(cat "$tmp/$name.msgs")"; return 1; }
import json, sys
d = json.load(open(sys.argv[1])); b = d['book']
lost = sum(r['lost'] for r in d['readers'])
if lost or not b['complete'] or sum(b['errors'].values()) or d['ring']['published'] != d['feed']['messages']:
    print('lost %d, complete %s, errors %s' % (lost, b['complete'], b['errors'])); sys.exit(1)
print(d['feed']['messages'])
PY
    sort -n "$tmp/$name.t" | head -n 1 >"$tmp/$name.best"
    sort -n "$tmp/$name.t" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' >"$tmp/$name.med"
}
get() { cat "$tmp/$1.$2"; }
nsmsg() { awk -v t="$(get "$1" best)" -v n="$(get "$1" msgs)" 'BEGIN { printf "%.1f", t / n }'; }
rate() { awk -v t="$(get "$1" best)" -v n="$(get "$1" msgs)" 'BEGIN { printf "%.2f", n / (t / 1e9) / 1e6 }'; }
secs() { awk -v t="$(get "$1" "$2")" 'BEGIN { printf "%.3f", t / 1e9 }'; }

rc=0
runs=""
notes=""
if measure pool "" "$rtk"; then runs="pool"; else rc=1; fi
for a in glibc jemalloc tcmalloc mimalloc; do
    pre=$(allocator_lib "$a")
    if [ "$a" != glibc ] && [ -z "$pre" ]; then
        notes="$notes  $a: not installed
"
        continue
    fi
    if measure "malloc_$a" "$pre" "$rtk" --book-alloc malloc; then runs="$runs malloc_$a"; else rc=1; fi
done
itch_ok=0
if measure itch "" "$itch"; then itch_ok=1; else rc=1; fi

{
    echo "Inputs: \`replay gen --messages N --seed 11 --symbols 64\` as .rtk.zst ($BOOK_BENCH_MESSAGES messages) and as an ITCH 5.0 file ($BOOK_BENCH_ITCH_MESSAGES messages, \`replay convert --to itch\`). $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg). Best and median of $BOOK_BENCH_REPS whole-process runs, --ring-size $BOOK_BENCH_RING --book-orders $BOOK_BENCH_ORDERS."
    echo
    echo "| run | input | best s | median s | msgs/s (M) | ns/msg |"
    echo "| --- | --- | --- | --- | --- | --- |"
    for r in $runs; do
        echo "| $r | .rtk.zst | $(secs "$r" best) | $(secs "$r" med) | $(rate "$r") | $(nsmsg "$r") |"
    done
    [ "$itch_ok" = 1 ] &&
        echo "| itch | .itch | $(secs itch best) | $(secs itch med) | $(rate itch) | $(nsmsg itch) |"
    echo
    [ -n "$notes" ] && printf 'Not measured:\n%s\n' "$notes"
    best_malloc=""
    for r in $runs; do
        case $r in malloc_*)
            if [ -z "$best_malloc" ] || [ "$(get "$r" best)" -lt "$(get "$best_malloc" best)" ]; then
                best_malloc=$r
            fi
            ;;
        esac
    done
    if [ -n "$best_malloc" ] && [ -s "$tmp/pool.best" ]; then
        awk -v p="$(get pool best)" -v m="$(get "$best_malloc" best)" -v l="$best_malloc" \
            -v pm="$(get pool med)" -v mm="$(get "$best_malloc" med)" \
            'BEGIN { r = m / p; printf "GOAL %s: pool vs best malloc (%s): %.2fx faster best, %.2fx median (goal >= 1.5x)\n", (r >= 1.5) ? "MET" : "NOT MET", l, r, mm / pm }'
    fi
    if [ "$itch_ok" = 1 ]; then
        awk -v n="$(nsmsg itch)" -v p="$PEER_NS" \
            'BEGIN { r = n / p; printf "GOAL %s: ITCH file, whole run %.1f ns/msg vs itch-order-book %d ns/msg: %.2fx (goal <= 1.5x, %.0f ns/msg), no message lost\n", (r <= 1.5) ? "MET" : "NOT MET", n, p, r, 1.5 * p }'
    fi
} | tee "$OUT"

{
    echo "run,input,messages,alloc,best_s,median_s,ns_per_msg,msgs_per_s"
    for r in $runs; do
        alloc=${r#malloc_}
        [ "$r" = pool ] && alloc=pool
        echo "$r,rtk.zst,$(get "$r" msgs),$alloc,$(secs "$r" best),$(secs "$r" med),$(nsmsg "$r"),$(rate "$r")e6"
    done
    [ "$itch_ok" = 1 ] &&
        echo "itch,itch,$(get itch msgs),pool,$(secs itch best),$(secs itch med),$(nsmsg itch),$(rate itch)e6"
} >"$RESULTS/book-replay.csv"
exit $rc
