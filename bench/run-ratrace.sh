#!/bin/sh
# run-ratrace.sh - ratrace's overhead against no tracing, heaptrack and valgrind massif, on three
# allocation-heavy real workloads: Debian's python3 with PYTHONMALLOC=malloc building a dict of N
# entries (about 3 allocations per entry), sort of a file of N lines, and a C++ std::map of N
# entries (tests/ratrace/stdmap.cpp). Prints wall and CPU (user + sys, children included) seconds
# per run (the best of REPS) and the CPU ratios to the untraced run, then the goals: count mode
# at most 1.1x, sample mode at most 1.3x, full mode at most a third of heaptrack's overhead.
# usage: BUILD=build/release sh bench/run-ratrace.sh      (make bench runs it from the repo root)
# env:   RATRACE_BENCH_N (default 1000000), RATRACE_BENCH_REPS (default 3; massif runs once),
#        RATRACE_BENCH_SKIP="massif heaptrack" to leave tools out.
# The output is also saved to $BUILD/bench/ratrace-results.txt.
set -u
BUILD=${BUILD:-build/release}
N=${RATRACE_BENCH_N:-1000000}
REPS=${RATRACE_BENCH_REPS:-3}
SKIP=${RATRACE_BENCH_SKIP:-}
RATRACE=$BUILD/ratrace
STDMAP=$BUILD/ratrace-tests/stdmap
OUT=$BUILD/bench/ratrace-results.txt
for f in "$RATRACE" "$STDMAP"; do
    [ -x "$f" ] || { echo "run-ratrace: $f is missing (make bench builds it)" >&2; exit 1; }
done
mkdir -p "$BUILD/bench"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
seq 1 "$N" | awk '{ print ($1 * 7919) % 1000003, "line", $1 }' >"$tmp/lines.txt"

# measure REPS CMD... : prints "WALL CPU", the run with the least CPU time
measure() {
    reps=$1; shift
    best=""
    i=0
    while [ $i -lt "$reps" ]; do
        /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$@" >/dev/null 2>&1 </dev/null
        cur=$(awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$tmp/t")
        if [ -z "$best" ] || [ "$(echo "$cur $best" | awk '{ print ($2 < $4) }')" = 1 ]; then
            best=$cur
        fi
        i=$((i + 1))
    done
    echo "$best"
}

skipped() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

run_workload() { # NAME CMD...
    name=$1; shift
    base=$(measure "$REPS" "$@")
    printf '%-8s %-10s %8s %8s %7s\n' "$name" untraced $base 1.00
    basecpu=${base#* }
    for mode in count sample full; do
        r=$(measure "$REPS" "$RATRACE" --quiet --mode "$mode" -- "$@")
        printf '%-8s %-10s %8s %8s %7s\n' "$name" "$mode" $r \
            "$(echo "$r $basecpu" | awk '{ printf "%.2f", $2 / $3 }')"
        echo "$name $mode $r $basecpu" >>"$tmp/all"
    done
    if ! skipped heaptrack && command -v heaptrack >/dev/null 2>&1; then
        r=$(measure "$REPS" heaptrack -o "$tmp/ht" "$@")
        printf '%-8s %-10s %8s %8s %7s\n' "$name" heaptrack $r \
            "$(echo "$r $basecpu" | awk '{ printf "%.2f", $2 / $3 }')"
        echo "$name heaptrack $r $basecpu" >>"$tmp/all"
        rm -f "$tmp"/ht*
    fi
    if ! skipped massif && command -v valgrind >/dev/null 2>&1; then
        r=$(measure 1 valgrind --tool=massif --massif-out-file="$tmp/massif.out" "$@")
        printf '%-8s %-10s %8s %8s %7s\n' "$name" massif $r \
            "$(echo "$r $basecpu" | awk '{ printf "%.2f", $2 / $3 }')"
    fi
}

{
    echo "== ratrace overhead (bench/run-ratrace.sh, N=$N, best of $REPS; docs/ratrace.md) =="
    printf '%-8s %-10s %8s %8s %7s\n' workload tracer wall_s cpu_s cpu_x
    # Debian's interpreter itself, not a wrapper found first in PATH (pyenv shims exec it from bash)
    py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3)
    PYTHONMALLOC=malloc run_workload python3 "$py" -c "d = {i: str(i) for i in range($N)}"
    run_workload sort sort "$tmp/lines.txt"
    run_workload stdmap "$STDMAP" "$N"
    echo "goals (CPU time ratios to untraced):"
    awk '
        { cpu[$1 " " $2] = $4; base[$1] = $5 }
        END {
            for (w in base) {
                c = cpu[w " count"] / base[w]; s = cpu[w " sample"] / base[w]
                printf "  %-8s count %.2fx (goal <= 1.10) %s; sample %.2fx (goal <= 1.30) %s", w,
                    c, c <= 1.10 ? "met" : "NOT met", s, s <= 1.30 ? "met" : "NOT met"
                if ((w " heaptrack") in cpu) {
                    f = cpu[w " full"] / base[w] - 1; h = cpu[w " heaptrack"] / base[w] - 1
                    printf "; full overhead %.2f vs heaptrack %.2f (goal <= 1/3) %s", f, h,
                        f <= h / 3 ? "met" : "NOT met"
                }
                printf "\n"
            }
        }' "$tmp/all"
} | tee "$OUT"
