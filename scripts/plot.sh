#!/usr/bin/env bash
# plot.sh - charts (gnuplot) of the benchmark results and of replay's per-interval statistics
#
# usage: scripts/plot.sh [bench [RESULTS_DIR [OUT_DIR]]]   make plot: the CSV files that `make bench`
#                                                          wrote (default build/release/bench-results)
#                                                          as PNGs in OUT_DIR (default docs/img)
#        scripts/plot.sh stats FILE.csv OUT.png            replay --stats-csv FILE over time
# env:   PLOT_SVG=1 also writes an SVG beside each PNG.
#
# Bench charts (each drawn when its CSV is there; bench/run-*.sh write them, docs/benchmarks.md
# lists their columns):
#   ring-publish.png  publish only: ring.write, reserve+commit, batch of 16 and ck+malloc as a
#                     multiple of the memcpy floor, per ring size and payload (goal line 1.3x)
#   ring-spsc.png     1P1C throughput: ring, ring batched, ck_ring+malloc, Disruptor, Disruptor
#                     batched, per ring size (log scale)
#   ring-latency.png  writer-to-reader latency percentiles (p50, p99, p99.9, max), one line per mode
#   alloc.png         ns per operation of pool/slab/arena against glibc, jemalloc, tcmalloc,
#                     mimalloc, per benchmark (log scale)
#   replay.png        replay's wall time as a multiple of its floor (zstd -d, the bare libpcap
#                     loop): bar = best run, dot = median run, red = the goal
# Stats chart: msgs/s; ring used bytes and overwritten; per-reader lag and latency p50/p99 (the
# reader panels are left out when the run had no reader). The CSV's columns are found by name in
# its header: elapsed_s, msgs_per_sec, ring_used_bytes, overwritten, reader, lag_msgs,
# latency_p50_ns, latency_p99_ns (others are ignored), one row per reader per interval.
# Needs gnuplot (Debian gnuplot-nox: scripts/ensure-deps.sh plot installs it when missing).
# Exit 0; 1 when an input is missing or malformed, or gnuplot fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
die() {
    echo "plot: $*" >&2
    exit 1
}

if ! command -v gnuplot >/dev/null 2>&1; then
    sh "$root/scripts/ensure-deps.sh" plot
    command -v gnuplot >/dev/null 2>&1 || die "gnuplot is not installed (Debian: gnuplot-nox)"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render SCRIPT OUT.png WIDTH HEIGHT : runs a gnuplot script into OUT.png (and OUT.svg with
# PLOT_SVG=1)
render() {
    local script=$1 out=$2 w=$3 h=$4
    gnuplot -e "set terminal pngcairo size $w,$h font 'sans,10' noenhanced; set output '$out'" \
        "$script" || die "gnuplot failed on $out"
    if [ "${PLOT_SVG:-0}" = 1 ]; then
        gnuplot -e "set terminal svg size $w,$h font 'sans,10' noenhanced; set output '${out%.png}.svg'" \
            "$script" || die "gnuplot failed on ${out%.png}.svg"
    fi
    echo "plot: wrote $out"
}

# bars NAME SERIES : lays out grouped bars from $tmp/NAME.long, whose tab-separated lines are
# GROUP SERIES VALUE [MARKER [GOAL]] in the order the groups should appear. SERIES is a list of
# id|label|#rrggbb separated by ';'; only the series present in a group get a bar there, so groups stay compact.
# Writes $tmp/NAME.dat (x, value, series number, value label, marker, goal) and $tmp/NAME.gp,
# the gnuplot lines that set the colours, the x tics and range and plot it all (preceded by
# whatever the caller put in $tmp/NAME.head).
bars() {
    local name=$1 spec=$2
    awk -F'\t' -v spec="$spec" -v dat="$tmp/$name.dat" '
    BEGIN {
        n = split(spec, s, ";")
        for (i = 1; i <= n; i++) {
            split(s[i], f, "|")
            id[i] = f[1]; label[i] = f[2]; color[i] = f[3]; idx[f[1]] = i
        }
    }
    {
        if (!($1 in gseen)) { gseen[$1] = 1; groups[++ng] = $1 }
        if (!($2 in idx)) next
        v[$1, idx[$2]] = $3
        if ($3 > 0 && (ymin == "" || $3 < ymin)) ymin = $3
        mk[$1, idx[$2]] = ($4 == "" ? "NaN" : $4)
        gl[$1, idx[$2]] = ($5 == "" ? "NaN" : $5)
        used[idx[$2]] = 1
        if ($4 != "") markers = 1
        if ($5 != "") goals = 1
    }
    END {
        x = 0
        tics = ""
        for (g = 1; g <= ng; g++) {
            first = x
            for (i = 1; i <= n; i++) {
                if (!((groups[g], i) in v)) continue
                val = v[groups[g], i]
                lab = val >= 100 ? sprintf("%.0f", val) : val >= 10 ? sprintf("%.1f", val) : sprintf("%.2f", val)
                printf "%d\t%s\t%d\t%s\t%s\t%s\n", x, val, i, lab, mk[groups[g], i], gl[groups[g], i] > dat
                x++
            }
            if (x > first) {
                tics = tics (tics == "" ? "" : ", ") sprintf("\"%s\" %g", groups[g], (first + x - 1) / 2)
            }
            x++
        }
        for (i = 1; i <= n; i++) printf "set linetype %d lc rgb \"%s\"\n", i, color[i]
        for (i = 1; i <= n; i++) nused += used[i]
        printf "set bmargin %d\n", 5 + int((nused + 2) / 3)
        printf "set xtics (%s) nomirror scale 0\n", tics
        printf "set xrange [-1:%d]\n", x - 1
        # log scales start at the power of ten below the smallest bar
        if (ymin != "") printf "if (exists(\"logy\")) { set yrange [10**floor(log10(%g)):*] }\n", ymin
        printf "set datafile separator \"\\t\"\n"
        printf "plot \"%s\" using 1:2:3 with boxes lc variable notitle", dat
        for (i = 1; i <= n; i++) if (used[i]) printf ", NaN with boxes lt %d title \"%s\"", i, label[i]
        printf ", \"%s\" using 1:2:4 with labels rotate by 90 left offset 0,0.4 font \",7\" notitle", dat
        if (markers) printf ", \"%s\" using 1:5 with points pt 7 ps 0.7 lc rgb \"black\" title \"median run\"", dat
        if (goals) printf ", \"%s\" using ($1-0.5):6:(1):(0) with vectors nohead lw 2 lc rgb \"#cc0000\" title \"goal\"", dat
        printf "\n"
    }' "$tmp/$name.long" >"$tmp/$name.plot"
    [ -s "$tmp/$name.dat" ] || return 1
    cat - "$tmp/$name.head" "$tmp/$name.plot" >"$tmp/$name.gp" <<'GP'
set style data boxes
set style fill solid 0.9 border rgb "#404040"
set boxwidth 0.85
set grid ytics lc rgb "#dddddd"
set key outside bottom center horizontal maxcols 4
set border 3
set ytics nomirror
GP
}

# the y axis of the charts that divide by a floor, with the floor drawn at 1
ratio_axis='set ylabel "x the floor (lower is better)"
set yrange [0:*]
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "#606060" front
set label "floor" at graph 0.005, first 1 offset 0,0.5 font ",8" front'

# draw NAME SERIES OUT.png WIDTH HEIGHT : bars NAME SERIES, rendered (nothing when no bar)
draw() {
    bars "$1" "$2" || return 0
    render "$tmp/$1.gp" "$3" "$4" "$5"
}

# csv_check FILE HEADER : FILE exists and its first line is HEADER
csv_check() {
    [ -f "$1" ] || return 1
    [ "$(head -n 1 "$1")" = "$2" ] || die "$1: expected the header '$2'"
}

plot_publish() { # ring-publish.csv
    local f=$1/ring-publish.csv
    csv_check "$f" "ring,capacity_bytes,payload_bytes,impl,ns_per_msg" || return 0
    awk -F, 'NR > 1 {
        k = $1 " " $3 " B"
        if (!(k in seen)) { seen[k] = 1; order[++n] = k }
        v[k, $4] = $5
    }
    END {
        split("ring_write ring_rsv_cmt ring_b16 ck_malloc", im, " ")
        for (g = 1; g <= n; g++) {
            fl = v[order[g], "floor"]
            if (fl <= 0) continue
            for (i = 1; i <= 4; i++)
                if ((order[g], im[i]) in v) printf "%s\t%s\t%.3f\n", order[g], im[i], v[order[g], im[i]] / fl
        }
    }' "$f" >"$tmp/pub.long"
    {
        echo 'set title "Publish only (one thread, overwrite mode): time per message as a multiple of the memcpy floor"'
        echo "$ratio_axis"
        cat <<'GP'
set arrow from graph 0, first 1.3 to graph 1, first 1.3 nohead lw 2 lc rgb "#cc0000" front
set label "goal 1.3x" at graph 0.995, first 1.3 right offset 0,0.5 font ",8" tc rgb "#cc0000" front
GP
    } >"$tmp/pub.head"
    draw pub "ring_write|ring.write|#1f77b4;ring_rsv_cmt|ring.reserve+commit|#6baed6;ring_b16|ring.write_batch (16)|#2ca02c;ck_malloc|ck_ring+malloc|#ff7f0e" "$2/ring-publish.png" 1100 520
}

plot_spsc() { # ring-spsc.csv
    local f=$1/ring-spsc.csv
    csv_check "$f" "ring,capacity_bytes,slots,impl,mmsgs_per_sec" || return 0
    awk -F, 'NR > 1 { printf "%s\\n%s slots\t%s\t%s\n", $1, $3, $4, $5 }' "$f" >"$tmp/spsc.long"
    cat >"$tmp/spsc.head" <<'GP'
set title "1P1C: one producer, one reader thread, every 32-byte message delivered and checked"
set ylabel "million messages / s (higher is better)"
set logscale y
logy = 1
GP
    draw spsc "ring|ring (backpressure)|#1f77b4;ring_b16|ring, batches of 16|#2ca02c;ck_malloc|ck_ring+malloc|#ff7f0e;disruptor|Disruptor|#9467bd;disruptor_b16|Disruptor, batches of 16|#c5b0d5" "$2/ring-spsc.png" 900 500
}

plot_latency() { # ring-latency.csv
    local f=$1/ring-latency.csv
    csv_check "$f" "ring,capacity_bytes,mode,percentile,latency_ns" || return 0
    # one data file per ring size, one block per mode; x on a "nines" scale (p50 0.3, p99 2,
    # p99.9 3; max at 4)
    awk -F, -v dir="$tmp" 'NR > 1 {
        if (!($1 in rs)) { rs[$1] = ++nr; rname[nr] = $1 }
        if (!(($1, $3) in ms)) { ms[$1, $3] = 1; nm[$1]++; mode[$1, nm[$1]] = $3 }
        x = $4 >= 100 ? 4 : -log(1 - $4 / 100) / log(10)
        pts[$1, $3] = pts[$1, $3] sprintf("%.4f\t%s\n", x, $5 > 0 ? $5 : "NaN") # log scale
    }
    END {
        for (r = 1; r <= nr; r++) {
            out = dir "/lat" r ".dat"
            for (m = 1; m <= nm[rname[r]]; m++) {
                printf "# %s\n%s\n\n", mode[rname[r], m], pts[rname[r], mode[rname[r], m]] > out
            }
            print rname[r] > (dir "/lat.rings")
            for (m = 1; m <= nm[rname[r]]; m++) print r "\t" m - 1 "\t" mode[rname[r], m] > (dir "/lat.modes")
        }
    }' "$f"
    [ -s "$tmp/lat.rings" ] || return 0
    local nr
    nr=$(wc -l <"$tmp/lat.rings")
    {
        cat <<'GP'
set datafile separator "\t"
set logscale y
set grid xtics ytics lc rgb "#dddddd"
set xtics ("p50" 0.301, "p99" 2, "p99.9" 3, "max" 4)
set xrange [0:4.3]
set ylabel "writer-to-reader latency, ns"
set format y "%.0s%c"
set key outside bottom center horizontal maxrows 2
set linetype 1 lc rgb "#7f7f7f" pt 6
set linetype 2 lc rgb "#1f77b4" pt 7
set linetype 3 lc rgb "#2ca02c" pt 5
set linetype 4 lc rgb "#ff7f0e" pt 9
GP
        echo "set multiplot layout 1,$nr title \"Latency, one 32-byte message every 1000 ns, reader spinning (all samples of all runs)\""
        local r=1
        while IFS= read -r ring; do
            echo "set title \"ring $ring\""
            printf 'plot '
            awk -F'\t' -v r="$r" -v dat="$tmp/lat$r.dat" '$1 == r {
                lab = $3 == "floor_line" ? "floor: one cache line" : $3 == "ring_overwrite" ? "ring, overwrite" : \
                      $3 == "ring_backpressure" ? "ring, backpressure" : $3 == "ck_malloc" ? "ck_ring+malloc" : $3
                lt = $3 == "floor_line" ? 1 : $3 == "ring_overwrite" ? 2 : $3 == "ring_backpressure" ? 3 : 4
                printf "%s\"%s\" index %d using 1:2 with linespoints lt %d lw 2 title \"%s\"", (n++ ? ", " : ""), dat, $2, lt, lab
            } END { printf "\n" }' "$tmp/lat.modes"
            r=$((r + 1))
        done <"$tmp/lat.rings"
        echo "unset multiplot"
    } >"$tmp/lat.gp"
    render "$tmp/lat.gp" "$2/ring-latency.png" $((nr * 480 + 40)) 460
}

plot_alloc() { # alloc.csv
    local f=$1/alloc.csv
    csv_check "$f" "bench,impl,best_ns,median_ns" || return 0
    awk -F, 'NR > 1 { v[$1, $2] = $3; have[$1] = 1 }
    END {
        nb = split("pair batch xthread local2 arena", b, " ")
        split("alloc+free|1000 allocs, shuffled frees|alloc on A, free on B|pair on 2 threads|1000 allocs, release all", what, "|")
        ni = split("glibc jemalloc tcmalloc mimalloc pool pool_ts slab slab_ts arena queue", im, " ")
        for (i = 1; i <= nb; i++)
            if (have[b[i]])
                for (j = 1; j <= ni; j++)
                    if ((b[i], im[j]) in v) printf "%s\\n%s\t%s\t%s\n", b[i], what[i], im[j], v[b[i], im[j]]
    }' "$f" >"$tmp/alloc.long"
    cat >"$tmp/alloc.head" <<'GP'
set title "Allocators, 64-byte blocks: ns per operation, best run"
set ylabel "ns (lower is better)"
set logscale y
logy = 1
GP
    draw alloc "glibc|glibc malloc|#7f7f7f;jemalloc|jemalloc|#ff7f0e;tcmalloc|tcmalloc|#d62728;mimalloc|mimalloc|#8c564b;pool|ra_pool|#1f77b4;pool_ts|ra_pool thread-safe|#6baed6;slab|ra_slab|#2ca02c;slab_ts|ra_slab thread-safe|#98df8a;arena|ra_arena|#17becf;queue|harness floor (no allocator)|#c7c7c7" "$2/alloc.png" 1100 520
}

plot_replay() { # replay.csv
    local f=$1/replay.csv
    csv_check "$f" "run,input,messages,floor,best_s,median_s,peak_rss_kib,decompressed_bytes" || return 0
    awk -F, 'NR > 1 { best[$1] = $5; med[$1] = $6; fl[$1] = $4; in_[$1] = $2; order[++n] = $1 }
    END {
        goal["replay_pcapzst"] = 1.3; goal["replay_pcap"] = 1.5
        for (i = 1; i <= n; i++) {
            r = order[i]; f = fl[r]
            if (f == "" || !(f in best) || best[f] <= 0) continue
            g = in_[r] == "pcap.zst" ? ".pcap.zst\\nvs zstd -d" : in_[r] == "pcap" ? ".pcap\\nvs bare libpcap loop" : \
                in_[r] == "rtk.zst" ? ".rtk.zst\\nvs zstd -d" : in_[r]
            s = r ~ /^replay0_/ ? "readers0" : r ~ /^info_/ ? "info" : r ~ /_busy$/ ? "busy" : "replay"
            printf "%s\t%s\t%.3f\t%.3f\t%s\n", g, s, best[r] / best[f], med[r] / med[f], (r in goal) ? goal[r] : ""
        }
    }' "$f" >"$tmp/replay.long"
    {
        echo 'set title "replay --speed max: whole-process wall time as a multiple of its floor"'
        echo "$ratio_axis"
    } >"$tmp/replay.head"
    draw replay "replay|replay, 1 reader|#1f77b4;readers0|replay --readers 0|#6baed6;info|replay info (no ring)|#c7c7c7;busy|bare loop + busy thread (two-thread floor)|#ff7f0e" "$2/replay.png" 900 500
}

plot_bench() {
    local dir=${1:-$root/build/release/bench-results} out=${2:-$root/docs/img}
    [ -d "$dir" ] || die "$dir: no benchmark results (make bench writes them)"
    mkdir -p "$out"
    plot_publish "$dir" "$out"
    plot_spsc "$dir" "$out"
    plot_latency "$dir" "$out"
    plot_alloc "$dir" "$out"
    plot_replay "$dir" "$out"
}

plot_stats() {
    local csv=$1 out=$2
    [ -f "$csv" ] || die "$csv: no such file"
    awk -F, -v dir="$tmp" '
    NR == 1 {
        for (i = 1; i <= NF; i++) col[$i] = i
        split("elapsed_s msgs_per_sec ring_used_bytes overwritten reader lag_msgs latency_p50_ns latency_p99_ns", need, " ")
        for (k in need) if (!(need[k] in col)) { print "missing column " need[k] > "/dev/stderr"; bad = 1; exit 1 }
        next
    }
    function num(v) { return v == "" ? "NaN" : v }
    function pos(v) { return v == "" || v + 0 <= 0 ? "NaN" : v }
    {
        t = $col["elapsed_s"]
        if (!(t in seen)) {
            seen[t] = 1
            printf "%s\t%s\t%s\t%s\n", t, num($col["msgs_per_sec"]), num($col["ring_used_bytes"]), num($col["overwritten"]) > (dir "/totals.dat")
        }
        r = $col["reader"]
        if (r == "") next
        if (!(r in rid)) { rid[r] = nr++; print r > (dir "/readers") }
        rows[rid[r]] = rows[rid[r]] sprintf("%s\t%s\t%s\t%s\n", t, num($col["lag_msgs"]), pos($col["latency_p50_ns"]), pos($col["latency_p99_ns"]))
    }
    END {
        if (bad) exit 1
        for (i = 0; i < nr; i++) printf "# reader\n%s\n\n", rows[i] > (dir "/readers.dat")
    }' "$csv" || die "$csv: not a replay --stats-csv file"
    [ -s "$tmp/totals.dat" ] || die "$csv: no rows"
    local nr=0
    [ -s "$tmp/readers" ] && nr=$(wc -l <"$tmp/readers")
    local panels=$((nr > 0 ? 4 : 2))
    {
        cat <<GP
set datafile separator "\t"
set grid xtics ytics lc rgb "#dddddd"
set key outside right top
set lmargin 10
set rmargin 24
set yrange [0:*]
set y2range [0:*]
set multiplot layout $panels,1 title "replay statistics per interval: $(basename "$csv")"
set format y "%.1s%c"
set title "messages published per second"
plot "$tmp/totals.dat" using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb "#1f77b4" notitle
set title "ring: used bytes (left) and overwritten messages (right)"
$(if [ "$nr" -eq 0 ]; then echo 'set xlabel "elapsed seconds"'; fi)
set ytics nomirror
set y2tics
set format y2 "%.1s%c"
plot "$tmp/totals.dat" using 1:3 axes x1y1 with lines lw 2 lc rgb "#2ca02c" title "used bytes", \\
     "" using 1:4 axes x1y2 with lines lw 2 lc rgb "#d62728" title "overwritten"
unset y2tics
set ytics mirror
GP
        if [ "$nr" -gt 0 ]; then
            echo 'set title "per reader: lag behind the producer (messages)"'
            printf 'plot '
            awk -v dat="$tmp/readers.dat" '{ printf "%s\"%s\" index %d using 1:2 with lines lw 2 lt %d title \"reader %s\"", (NR > 1 ? ", " : ""), dat, NR - 1, NR, $1 } END { printf "\n" }' "$tmp/readers"
            echo 'set title "per reader: latency p50 (solid) and p99 (dashed), ns"'
            echo 'set logscale y'
            echo 'set yrange [*:*]'
            echo 'set format y "%.0s%c"'
            echo 'set xlabel "elapsed seconds"'
            printf 'plot '
            awk -v dat="$tmp/readers.dat" '{ printf "%s\"%s\" index %d using 1:3 with lines lw 2 lt %d title \"reader %s p50\", \"%s\" index %d using 1:4 with lines lw 2 dt 2 lt %d title \"reader %s p99\"", (NR > 1 ? ", " : ""), dat, NR - 1, NR, $1, dat, NR - 1, NR, $1 } END { printf "\n" }' "$tmp/readers"
        fi
        echo "unset multiplot"
    } >"$tmp/stats.gp"
    mkdir -p "$(dirname "$out")"
    render "$tmp/stats.gp" "$out" 1000 $((panels * 220 + 40))
}

case "${1:-bench}" in
bench)
    plot_bench "${2:-}" "${3:-}"
    ;;
stats)
    [ $# -eq 3 ] || die "usage: scripts/plot.sh stats FILE.csv OUT.png"
    plot_stats "$2" "$3"
    ;;
-h | --help)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    ;;
*)
    die "unknown mode '$1' (bench or stats; --help)"
    ;;
esac
