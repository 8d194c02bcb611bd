#!/bin/sh
# run-alloc.sh - the allocator benchmark: bench_alloc once for ringalloc's pool, slab and arena,
# once per system allocator (glibc as is; jemalloc, tcmalloc, mimalloc through LD_PRELOAD), then
# one table with every number, the ratios and the goals.
# usage: BUILD=build/release sh bench/run-alloc.sh      (make bench runs it from the repo root)
# env:   ALLOC_REPS (runs per number, default 15), ALLOC_ARGS (more options, e.g. --quick)
# The output is also saved to $BUILD/bench/alloc-results.txt, and the numbers as a tidy CSV file,
# $BENCH_RESULTS/alloc.csv (default $BUILD/bench-results; scripts/plot.sh draws it):
#   bench,impl,best_ns,median_ns      (one row per benchmark and allocator that ran)
set -u
BUILD=${BUILD:-build/release}
BIN=$BUILD/bench/bench_alloc
OUT=$BUILD/bench/alloc-results.txt
REPS=${ALLOC_REPS:-15}
ARGS=${ALLOC_ARGS:-}
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}

if [ ! -x "$BIN" ]; then
    echo "run-alloc: $BIN is missing (make bench builds it)" >&2
    exit 1
fi
echo "== allocator benchmark (bench/run-alloc.sh; docs/benchmarks.md explains it) =="
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=bench/preload.sh
. "$(dirname "$0")/preload.sh"

rc=0
notes=""
# ---- ringalloc ---------------------------------------------------------------------------------
# shellcheck disable=SC2086 # ARGS is a word list
if ! "$BIN" --ringalloc --reps "$REPS" $ARGS >"$tmp/ringalloc.txt"; then
    echo "run-alloc: bench_alloc --ringalloc failed" >&2
    rc=1
fi
sed -n 's/^result \([a-z0-9]*\) \([a-z_]*\) \(.*\)$/\2 \1 \3/p' "$tmp/ringalloc.txt" >>"$tmp/all.txt"

# ---- the system allocators, each as the process allocator ---------------------------------------
for a in glibc jemalloc tcmalloc mimalloc; do
    # shellcheck disable=SC2086 # ARGS is a word list
    run_preloaded $a "$tmp/$a.txt" "$BIN" --malloc --reps "$REPS" $ARGS
    case $? in
    1) rc=1 ;;
    0) sed -n "s/^result \([a-z0-9]*\) malloc \(.*\)$/$a \1 \2/p" "$tmp/$a.txt" >>"$tmp/all.txt" ;;
    esac
done

# ---- the table -----------------------------------------------------------------------------------
mkdir -p "$(dirname "$OUT")"
{
    echo "64-byte blocks; ns per operation, best of $REPS runs [median]; pool = single-threaded"
    echo "ra_pool, pool_ts = RA_POOL_THREADSAFE, slab = ra_slab (64-byte class), queue = the"
    echo "xthread harness alone (no allocator: its floor). Allocators:"
    printf '%s' "$notes"
    echo
    awk '
    { best[$1 " " $2] = $3; med[$1 " " $2] = $4 }
    function cell(k) { return (k in best) ? sprintf("%.2f [%.2f]", best[k], med[k]) : "-" }
    END {
        ncol = split("glibc jemalloc tcmalloc mimalloc pool pool_ts slab slab_ts arena queue", col, " ")
        nrow = split("pair batch xthread local2 arena", row, " ")
        split("alloc+free, same block|1000 allocs, shuffled frees|alloc on A, free on B|pair on 2 threads at once|1000 allocs + release all", what, "|")
        printf "%-8s", "bench"
        for (c = 1; c <= ncol; c++) {
            used = 0
            for (r = 1; r <= nrow; r++) if ((col[c] " " row[r]) in best) used = 1
            show[c] = used
            if (used) printf " %15s", col[c]
        }
        printf "   %s\n", "(what)"
        for (r = 1; r <= nrow; r++) {
            printf "%-8s", row[r]
            for (c = 1; c <= ncol; c++) if (show[c]) printf " %15s", cell(col[c] " " row[r])
            printf "   (%s)\n", what[r]
        }
        print ""
        print "ratios (best malloc / ringalloc, best runs) and goals:"
        for (r = 1; r <= nrow; r++) {
            m = ""; mv = 0
            split("glibc jemalloc tcmalloc mimalloc", ms, " ")
            for (i = 1; i <= 4; i++) {
                k = ms[i] " " row[r]
                if ((k in best) && (m == "" || best[k] < mv)) { m = ms[i]; mv = best[k] }
            }
            bestm[row[r]] = mv; bestn[row[r]] = m
        }
        goal("pair", "pool", 3); goal("batch", "pool", 3)
        if (("pool_ts local2") in best) {
            v = best["pool_ts local2"]
            printf "  pool_ts, 2 threads: %.2f ns per pair per thread (goal <= 10): %s\n", v, v <= 10 ? "MET" : "NOT MET"
        }
        if (("pool_ts xthread") in best && bestn["xthread"] != "")
            printf "  xthread: pool_ts %.2f ns/block vs %s %.2f: %.1fx (harness floor %.2f)\n", best["pool_ts xthread"], bestn["xthread"], bestm["xthread"], bestm["xthread"] / best["pool_ts xthread"], best["queue xthread"]
        if (("arena arena") in best) {
            v = best["arena arena"]
            printf "  arena alloc: %.2f ns (goal <= 1.5): %s", v, v <= 1.5 ? "MET" : "NOT MET"
            if (bestn["arena"] != "") printf "; %s malloc+free %.2f ns: %.1fx", bestn["arena"], bestm["arena"], bestm["arena"] / v
            printf "\n"
        }
    }
    function goal(b, impl, want,   k, x) {
        k = impl " " b
        if (!(k in best) || bestn[b] == "") { printf "  %s: no numbers\n", b; return }
        x = bestm[b] / best[k]
        printf "  %s: %s %.2f ns vs best malloc (%s) %.2f ns: %.1fx (goal >= %dx): %s\n", b, impl, best[k], bestn[b], bestm[b], x, want, (x >= want ? "MET" : "NOT MET")
    }' "$tmp/all.txt"
} >"$OUT.tmp"
cat "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "(saved to $OUT)"
if mkdir -p "$RESULTS"; then
    { echo "bench,impl,best_ns,median_ns"; awk '{ print $2 "," $1 "," $3 "," $4 }' "$tmp/all.txt"; } \
        >"$RESULTS/alloc.csv"
else
    echo "run-alloc: could not write $RESULTS/alloc.csv" >&2
fi
exit $rc
