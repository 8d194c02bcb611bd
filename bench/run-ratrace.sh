#!/bin/sh
# run-ratrace.sh - ratrace's overhead against no tracing, heaptrack and valgrind massif, on three
# allocation-heavy real workloads: Debian's python3 with PYTHONMALLOC=malloc building a dict of N
# entries (about 3 allocations per entry), sort of a file of N lines, and a C++ std::map of N
# entries (tests/ratrace/stdmap.cpp). Every run's output goes to /dev/null: only the tables are
# printed. The tracers run interleaved, REPS rounds (massif: one), and each gets the median of
# its wall and CPU (user + sys, children included) seconds; the ratios are to the untraced
# median of the same workload (massif follows exec, as ratrace and heaptrack do: the python3
# workload starts through env). Then one row per workload with the tracers side by side, and
# the goals (wall-time ratios), each "met" or "MISSED": count mode at most 1.1x, sample mode at
# most 1.3x, full mode's overhead at most a third of heaptrack's. Two floors run beside them
# (bench/ratrace_floor.c): "fwd", an interposer that only forwards malloc & co., and "hdr16", the
# same with a 16-byte header on every block as ratrace's registry needs: what interposing and
# the larger heap cost before any counting.
# usage: BUILD=build/release sh bench/run-ratrace.sh      (make bench runs it from the repo root)
# env:   RATRACE_BENCH_N (default 1000000), RATRACE_BENCH_REPS (default 5; massif runs once),
#        RATRACE_BENCH_SKIP="massif heaptrack" to leave tools out.
# The output is also saved to $BUILD/bench/ratrace-results.txt.
set -u
BUILD=${BUILD:-build/release}
N=${RATRACE_BENCH_N:-1000000}
REPS=${RATRACE_BENCH_REPS:-5}
SKIP=${RATRACE_BENCH_SKIP:-}
RATRACE=$BUILD/ratrace
STDMAP=$BUILD/ratrace-tests/stdmap
OUT=$BUILD/bench/ratrace-results.txt
FLOOR_FWD=$(pwd)/$BUILD/bench/libfloor_fwd.so
FLOOR_HDR=$(pwd)/$BUILD/bench/libfloor_hdr.so
for f in "$RATRACE" "$STDMAP" "$FLOOR_FWD" "$FLOOR_HDR"; do
    [ -x "$f" ] || { echo "run-ratrace: $f is missing (make bench builds it)" >&2; exit 1; }
done
mkdir -p "$BUILD/bench"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
seq 1 "$N" | awk '{ print ($1 * 7919) % 1000003, "line", $1 }' >"$tmp/lines.txt"
: >"$tmp/runs"

skipped() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }

# once WORKLOAD TRACER CMD... : one quiet run; appends "WORKLOAD TRACER WALL CPU" to runs
once() {
    w=$1 t=$2; shift 2
    if /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$@" >/dev/null 2>&1 </dev/null; then
        awk -v w="$w" -v t="$t" '{ printf "%s %s %.3f %.3f\n", w, t, $1, $2 + $3 }' "$tmp/t" \
            >>"$tmp/runs"
    else
        echo "run-ratrace: $w under $t failed" >&2
    fi
}

# workload NAME CMD... : REPS rounds of every tracer, interleaved; massif once at the end
workload() {
    name=$1; shift
    r=0
    while [ $r -lt "$REPS" ]; do
        once "$name" untraced "$@"
        once "$name" fwd env LD_PRELOAD="$FLOOR_FWD" "$@"
        once "$name" hdr16 env LD_PRELOAD="$FLOOR_HDR" "$@"
        for mode in count sample full; do
            once "$name" "$mode" "$RATRACE" --quiet --mode "$mode" -- "$@"
        done
        if ! skipped heaptrack && command -v heaptrack >/dev/null 2>&1; then
            once "$name" heaptrack heaptrack -o "$tmp/ht" "$@"
            rm -f "$tmp"/ht*
        fi
        r=$((r + 1))
    done
    if ! skipped massif && command -v valgrind >/dev/null 2>&1; then
        once "$name" massif valgrind --tool=massif --trace-children=yes \
            --massif-out-file="$tmp/massif.%p" "$@"
    fi
}

# Debian's interpreter itself, not a wrapper found first in PATH (pyenv shims exec it from bash)
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
workload python3 env PYTHONMALLOC=malloc "$py" -c "d = {i: str(i) for i in range($N)}"
workload sort sort "$tmp/lines.txt"
workload stdmap "$STDMAP" "$N"

{
    echo "== ratrace overhead (bench/run-ratrace.sh, N=$N, medians of $REPS interleaved rounds," \
        "massif 1; docs/ratrace.md) =="
    awk -v order="untraced fwd hdr16 count sample full heaptrack massif" '
        function median(key,    n, i, j, v, t) {
            n = split(vals[key], v, " ")
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        }
        { if (!($1 in seen)) { seen[$1] = 1; ws[++nw] = $1 }
          vals[$1 " " $2 " w"] = vals[$1 " " $2 " w"] " " $3
          vals[$1 " " $2 " c"] = vals[$1 " " $2 " c"] " " $4; have[$1 " " $2] = 1 }
        END {
            nt = split(order, tr, " ")
            printf "%-8s %-10s %8s %8s %7s %7s\n", "workload", "tracer", "wall_s", "cpu_s", "wall_x", "cpu_x"
            for (i = 1; i <= nw; i++) {
                w = ws[i]; bw[w] = median(w " untraced w"); bc[w] = median(w " untraced c")
                for (k = 1; k <= nt; k++) {
                    t = tr[k]; if (!((w " " t) in have)) continue
                    mw = median(w " " t " w"); mc = median(w " " t " c")
                    xw[w " " t] = mw / bw[w]; xc[w " " t] = mc / bc[w]
                    printf "%-8s %-10s %8.2f %8.2f %7.2f %7.2f\n", w, t, mw, mc, xw[w " " t], xc[w " " t]
                }
            }
            printf "\nside by side, wall-time ratio to untraced (CPU-time ratio in brackets):\n"
            printf "%-8s", "workload"
            for (k = 2; k <= nt; k++) printf " %15s", tr[k]
            printf "\n"
            for (i = 1; i <= nw; i++) {
                w = ws[i]; printf "%-8s", w
                for (k = 2; k <= nt; k++) {
                    t = tr[k]
                    if ((w " " t) in xw) printf " %15s", sprintf("%.2f [%.2f]", xw[w " " t], xc[w " " t])
                    else printf " %15s", "-"
                }
                printf "\n"
            }
            printf "\nfloors (wall time): forwarding alone, and forwarding with ratrace'"'"'s 16-byte header:\n"
            for (i = 1; i <= nw; i++) {
                w = ws[i]
                if (!((w " hdr16") in xw)) continue
                printf "FLOOR %-8s forwarding %.2fx, 16-byte header %.2fx; count mode %.2fx the header floor\n",
                    w, xw[w " fwd"], xw[w " hdr16"], xw[w " count"] / xw[w " hdr16"]
            }
            printf "\ngoals (wall-time ratios to untraced; CPU time in brackets):\n"
            for (i = 1; i <= nw; i++) {
                w = ws[i]
                c = xw[w " count"]; s = xw[w " sample"]
                printf "GOAL %-8s count  <= 1.10x: %.2fx [%.2fx] %s\n", w, c, xc[w " count"], c <= 1.10 ? "met" : "MISSED"
                printf "GOAL %-8s sample <= 1.30x: %.2fx [%.2fx] %s\n", w, s, xc[w " sample"], s <= 1.30 ? "met" : "MISSED"
                if ((w " heaptrack") in xw) {
                    f = xw[w " full"] - 1; h = xw[w " heaptrack"] - 1
                    printf "GOAL %-8s full overhead <= heaptrack/3: %.2f vs %.2f/3 = %.2f %s\n", w, f, h, h / 3,
                        f <= h / 3 ? "met" : "MISSED"
                }
            }
        }' "$tmp/runs"
} | tee "$OUT"
