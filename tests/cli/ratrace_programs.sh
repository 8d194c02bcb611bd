#!/bin/sh
# ratrace_programs.sh - real programs nobody here wrote run under ratrace to the same output as
# without it, and their counts are plausible: zstd compressing a file, python3 building a dict,
# sort of a big file, xz -T2 (threads), a C++ std::map program, a program that forks and execs.
# Plausible: frees <= allocs, bytes freed <= allocated, peak >= current, the histogram and the
# per-thread rows add up to the totals, the report is complete. Programs that are not installed
# are reported and left out.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ratrace/lib.sh
skip_in_sanitizer_builds

seq 1 300000 | awk '{ print ($1 * 7919) % 300007, "line", $1 }' >"$tmp/big.txt"

plausible() { # NAME JSON
    check "$1: frees <= allocs" "0 < d['frees'] <= d['allocs']" "$2"
    check "$1: bytes freed <= allocated" "d['bytes_freed'] <= d['bytes_allocated']" "$2"
    check "$1: peak >= current" "d['bytes_peak'] >= d['bytes_current']" "$2"
    check "$1: current = allocated - freed" \
        "d['bytes_current'] == d['bytes_allocated'] - d['bytes_freed']" "$2"
    check "$1: histogram adds up" "sum(h['count'] for h in d['histogram']) == d['allocs']" "$2"
    check "$1: threads add up" "sum(t['allocs'] for t in d['threads']) == d['allocs']" "$2"
    check "$1: complete report" "d['complete']" "$2"
}

# same NAME MODE CMD... : stdout and exit status traced equal untraced; then plausible counts
same() {
    name=$1 mode=$2; shift 2
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "$name: $1 is not installed, left out"
        return 1
    fi
    "$@" >"$tmp/plain.out" 2>/dev/null
    want=$?
    "$RATRACE" --quiet --mode "$mode" --json "$tmp/$name.json" -- "$@" >"$tmp/traced.out" 2>/dev/null
    got=$?
    [ $got -eq $want ] || fail "$name: exit status $got under ratrace, $want without"
    cmp -s "$tmp/plain.out" "$tmp/traced.out" || fail "$name: output differs under ratrace"
    [ -f "$tmp/$name.json" ] || { fail "$name: no report"; return 1; }
    plausible "$name" "$tmp/$name.json"
    echo "$name ($mode):" $(jget "$tmp/$name.json" \
        "'%d allocs, %d frees, peak %d' % (d['allocs'], d['frees'], d['bytes_peak'])")
}

if same zstd count zstd -q -c "$tmp/big.txt"; then
    check "zstd: allocations seen" "d['allocs'] >= 10" "$tmp/zstd.json"
fi
export PYTHONMALLOC=malloc
if same python3 count python3 -c \
    'd = {i: str(i) for i in range(200000)}; print(len(d), sum(len(v) for v in d.values()))'; then
    check "python3: 200000 strings allocated" "d['allocs'] >= 200000" "$tmp/python3.json"
fi
unset PYTHONMALLOC
same sort full sort "$tmp/big.txt"
if same xz count xz -T2 -1 -c "$tmp/big.txt"; then
    check "xz -T2: worker threads counted" "len(d['threads']) >= 2" "$tmp/xz.json"
fi
if same stdmap sample "$RT_BIN/stdmap" 50000; then
    check "stdmap: a node per entry" "d['allocs'] >= 50000" "$tmp/stdmap.json"
fi
if same forkexec count "$RT_BIN/forkexec"; then
    ls "$tmp"/forkexec.json.* >/dev/null 2>&1 || fail "forkexec: no report from the exec'ed child"
    for f in "$tmp"/forkexec.json.*; do
        [ -f "$f" ] && plausible "forkexec child $(jget "$f" "d['program']")" "$f"
    done
fi
# exit statuses pass through, signals as 128 + N
"$RATRACE" --quiet -- sh -c 'exit 7'
[ $? -eq 7 ] || fail "exit status 7 not passed through"
"$RATRACE" --quiet -- sh -c 'kill -TERM $$'
[ $? -eq 143 ] || fail "death by SIGTERM not reported as 143"
finish ratrace_programs
