#!/bin/sh
# run-book.sh - the order book alone: bench_book with orders from the book's pool and with
# orders from malloc/free under each system allocator (glibc as is; jemalloc, tcmalloc, mimalloc
# through LD_PRELOAD), the variants in turn in each round, then one table with msgs/s, ns/msg,
# the ratios and the goals.
# usage: BUILD=build/release sh bench/run-book.sh      (make bench runs it from the repo root)
# env:   BOOK_REPS (runs per bench_book call, default 3), BOOK_ROUNDS (rounds: each runs every
#        variant once, in turn; default 3), BOOK_ARGS (more options, e.g. --quick)
# The output is also saved to $BUILD/bench/book-results.txt, and the numbers as a tidy CSV file,
# $BENCH_RESULTS/book.csv (default $BUILD/bench-results):
#   impl,best_ns,median_ns,msgs_per_s      (one row per variant that ran; ns per message)
set -u
BUILD=${BUILD:-build/release}
BIN=$BUILD/bench/bench_book
OUT=$BUILD/bench/book-results.txt
REPS=${BOOK_REPS:-3}
ROUNDS=${BOOK_ROUNDS:-3}
ARGS=${BOOK_ARGS:-}
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}

if [ ! -x "$BIN" ]; then
    echo "run-book: $BIN is missing (make bench builds it)" >&2
    exit 1
fi
echo "== order book benchmark (bench/run-book.sh; docs/book.md explains it) =="
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=bench/preload.sh
. "$(dirname "$0")/preload.sh"

rc=0
notes=""
# Every round runs each variant once, in turn, so that a shared machine's slow and fast spells
# fall on every variant alike; a variant's number is its best run [the median of its runs' medians].
round=1
while [ "$round" -le "$ROUNDS" ]; do
    # shellcheck disable=SC2086 # ARGS is a word list
    if "$BIN" --pool --reps "$REPS" $ARGS >"$tmp/pool.txt"; then
        sed -n 's/^result book pool \(.*\)$/pool \1/p' "$tmp/pool.txt" >>"$tmp/all.txt"
    else
        echo "run-book: bench_book --pool failed" >&2
        rc=1
    fi
    # shellcheck disable=SC2086 # ARGS is a word list
    if "$BIN" --pool --batch --reps "$REPS" $ARGS >"$tmp/batch.txt"; then
        sed -n 's/^result book pool_batch \(.*\)$/pool_batch \1/p' "$tmp/batch.txt" >>"$tmp/all.txt"
    else
        echo "run-book: bench_book --pool --batch failed" >&2
        rc=1
    fi
    for a in glibc jemalloc tcmalloc mimalloc; do
        # shellcheck disable=SC2086 # ARGS is a word list
        run_preloaded $a "$tmp/$a.txt" "$BIN" --malloc --reps "$REPS" $ARGS
        case $? in
        1) rc=1 ;;
        0) sed -n "s/^result book malloc \(.*\)$/$a \1/p" "$tmp/$a.txt" >>"$tmp/all.txt" ;;
        esac
    done
    round=$((round + 1))
done
notes=$(printf '%s' "$notes" | awk '!seen[$0]++')
# one line per variant: NAME BEST MEDIAN (best of every run, median of the rounds' medians)
awk '
{ if (!($1 in n)) order[++k] = $1; i = ++n[$1]; b[$1, i] = $2; m[$1, i] = $3 }
END {
    for (j = 1; j <= k; j++) {
        v = order[j]; best = b[v, 1]
        for (i = 1; i <= n[v]; i++) { if (b[v, i] < best) best = b[v, i]; s[i] = m[v, i] }
        for (i = 2; i <= n[v]; i++) for (h = i; h > 1 && s[h - 1] > s[h]; h--) { t = s[h]; s[h] = s[h - 1]; s[h - 1] = t }
        med = n[v] % 2 ? s[(n[v] + 1) / 2] : (s[n[v] / 2] + s[n[v] / 2 + 1]) / 2
        printf "%s %.2f %.2f\n", v, best, med
    }
}' "$tmp/all.txt" >"$tmp/agg.txt"

mkdir -p "$(dirname "$OUT")"
{
    msgs=$(sed -n 's/^messages //p' "$tmp/pool.txt")
    echo "ra_book_itch over ${msgs:-?} generated ITCH messages in memory, one thread; ns per message,"
    echo "best of $ROUNDS rounds x $REPS runs [median of the rounds' medians], the variants in turn in"
    echo "each round; pool = orders from the book's ra_pool, the others = the same"
    echo "book with orders from malloc/free (RA_BOOK_MALLOC); pool_batch = pool through"
    echo "ra_book_itch_many, 64 messages a call (prefetching ahead). Allocators:"
    printf '%s' "$notes"
    echo
    awk '
    { best[$1] = $2; med[$1] = $3; order[++n] = $1 }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            printf "  %-10s %8.1f ns/msg [%.1f]  %6.2f M msgs/s\n", k, best[k], med[k], 1000 / best[k]
        }
        m = ""; mv = 0
        for (i = 1; i <= n; i++) if (order[i] !~ /^pool/ && (m == "" || best[order[i]] < mv)) { m = order[i]; mv = best[m] }
        print ""
        if ("pool" in best) {
            r = 1000 / best["pool"]
            printf "GOAL book alone >= 10 M msgs/s (per order, full depth): %.2f M msgs/s: %s\n", r, (r >= 10 ? "MET" : "NOT MET")
            if (m != "") printf "GOAL pool >= 1.5x the best malloc (%s %.1f ns): %.2fx: %s\n", m, mv, mv / best["pool"], (mv / best["pool"] >= 1.5 ? "MET" : "NOT MET")
        }
    }' "$tmp/agg.txt"
} >"$OUT.tmp"
cat "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "(saved to $OUT)"
if mkdir -p "$RESULTS"; then
    { echo "impl,best_ns,median_ns,msgs_per_s"; awk '{ printf "%s,%s,%s,%.0f\n", $1, $2, $3, 1e9 / $2 }' "$tmp/agg.txt"; } \
        >"$RESULTS/book.csv"
else
    echo "run-book: could not write $RESULTS/book.csv" >&2
fi
exit $rc
