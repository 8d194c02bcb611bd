#!/bin/sh
# ratrace_reports.sh - ratrace's options and report files: ratrace.h counters in a program's own
# test (exact counts traced, zeros untraced), every allocation entry point, exit/_exit/fork
# paths, --interval snapshots, --fail-on-leak with --suppress, --no-follow-fork, and the JSON,
# folded, SVG and Prometheus files agreeing with each other in count, full and sample mode.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ratrace/lib.sh

# ratrace.h: exact counts around a region when traced, zeros otherwise
"$RT_BIN/api" untraced || fail "api: untraced counters are not zero"
"$RATRACE" --quiet "$RT_BIN/api" traced || fail "api: traced counters are not exact"
LD_PRELOAD=$RT_LIB RATRACE_SUMMARY=0 "$RT_BIN/api" traced ||
    fail "api: counters wrong with the interposer preloaded directly"

# entry points, threads, allocation before main; exit from a nested function; fork
for how in return exit fork; do
    "$RATRACE" --quiet --json "$tmp/e.json" "$RT_BIN/entry" $how >/dev/null ||
        fail "entry $how: exit status $?"
    check "entry $how: nothing lost" "d['leaks']['count'] == 0" "$tmp/e.json"
    check "entry $how: 4 threads + main" "len(d['threads']) == 5" "$tmp/e.json"
    check "entry $how: all allocations" "d['allocs'] >= 12000" "$tmp/e.json"
done
child=$(ls "$tmp"/e.json.* 2>/dev/null | head -n 1)
if [ -n "$child" ]; then
    check "fork: the child's 123-byte leak" "d['leaks']['bytes'] == 123 and d['leaks']['count'] == 1" "$child"
    check "fork: the child's leak site" "d['leaks']['sites'][0]['stack'][0].startswith('fork_child')" "$child"
else
    fail "fork: no report from the child (e.json.PID)"
fi
rm -f "$tmp"/e.json*
"$RATRACE" --quiet --no-follow-fork --json "$tmp/e.json" "$RT_BIN/entry" fork >/dev/null
ls "$tmp"/e.json.* >/dev/null 2>&1 && fail "--no-follow-fork: the child wrote a report"
[ -f "$tmp/e.json" ] || fail "--no-follow-fork: no report from the program"
# _exit runs no destructor: no report, said on stderr; --fail-on-leak cannot check then (4)
"$RATRACE" --json "$tmp/x.json" "$RT_BIN/entry" _exit >/dev/null 2>"$tmp/x.err"
[ $? -eq 0 ] || fail "_exit: exit status changed"
grep -q "left no report" "$tmp/x.err" || fail "_exit: no message about the missing report"
"$RATRACE" --quiet --fail-on-leak "$RT_BIN/entry" _exit >/dev/null 2>&1
[ $? -eq 4 ] || fail "_exit with --fail-on-leak: want exit status 4"

# edge cases (realloc to 0, impossible sizes, alignment) the same traced and untraced; every
# block freed but stdout's buffer
"$RT_BIN/edge" >/dev/null || fail "edge: untraced"
"$RATRACE" --quiet --json "$tmp/edge.json" "$RT_BIN/edge" >/dev/null || fail "edge: traced"
check "edge: one live block at exit" \
    "d['live_blocks'] == 1 and d['allocs'] - d['frees'] == 1 and d['leaks']['count'] == 0" \
    "$tmp/edge.json"

# --time: every entry point entry.c calls is timed, histograms add up to the calls, JSON and
# Prometheus agree; without --time there is no "time" key
"$RATRACE" --quiet --time --json "$tmp/t.json" --prometheus "$tmp/t.prom" "$RT_BIN/entry" \
    >/dev/null || fail "--time: exit status $?"
python3 - "$tmp/t.json" "$tmp/t.prom" <<'PY' || fail "--time reports"
import json, sys
d = json.load(open(sys.argv[1]))
t = d['time']
assert t['clock'] in ('tsc', 'clock_gettime'), t['clock']
fns = t['functions']
want = {'malloc', 'calloc', 'realloc', 'reallocarray', 'free', 'posix_memalign', 'aligned_alloc',
        'memalign', 'valloc', 'pvalloc', 'malloc_usable_size'}
assert want <= set(fns), sorted(want - set(fns))
for name, f in fns.items():
    assert f['calls'] > 0 and sum(h['count'] for h in f['histogram']) == f['calls'], (name, f)
    assert f['mean_ns'] == f['ns'] // f['calls'], (name, f)
assert fns['malloc']['calls'] >= 4 * 1000 and fns['free']['calls'] <= d['frees'] + 1, fns['free']
prom = {l.split(' ')[0]: l.split(' ')[1] for l in open(sys.argv[2]) if not l.startswith('#')}
key = 'ratrace_calls_total{pid="%d",program="entry",function="malloc"}' % d['pid']
assert int(prom[key]) == fns['malloc']['calls'], (prom.get(key), fns['malloc'])
PY
"$RATRACE" --quiet --json "$tmp/t.json" "$RT_BIN/entry" >/dev/null
check "no --time: no time key" "'time' not in d" "$tmp/t.json"

# --interval: the running program sees its own report rewritten ("final": false), then the exit
# report replaces it
"$RATRACE" --quiet --interval 1 --json "$tmp/i.json" "$RT_BIN/entry" wait "$tmp/i.json" >/dev/null ||
    fail "--interval: no report while the program ran"
check "--interval: the exit report last" "d['final'] and d['allocs'] >= 12000" "$tmp/i.json"

# --fail-on-leak and --suppress
"$RATRACE" --quiet --fail-on-leak "$RT_BIN/leaks" plain >/dev/null
[ $? -eq 3 ] || fail "--fail-on-leak: leaks did not give exit status 3"
"$RATRACE" --quiet --fail-on-leak "$RT_BIN/leaks" reachable >/dev/null ||
    fail "--fail-on-leak: no leak, yet exit status $?"
# (full mode: in count mode the strdup leak's one frame is strdup, not plain)
"$RATRACE" --quiet --mode full --fail-on-leak --suppress 'plain (leaks.c:*' --json "$tmp/s.json" \
    "$RT_BIN/leaks" plain >/dev/null || fail "--suppress: suppressed leaks still fail"
check "--suppress: all counted as suppressed" \
    "d['leaks']['suppressed']['count'] == d['leaks']['count'] == 7" "$tmp/s.json"
"$RATRACE" --quiet --mode full --fail-on-leak --suppress plain "$RT_BIN/leaks" plain list >/dev/null
[ $? -eq 3 ] || fail "--suppress: an unsuppressed leak (list) must still fail"

# report files in full mode: JSON, folded, SVG, Prometheus agree
"$RATRACE" --quiet --mode full --json "$tmp/f.json" --folded "$tmp/f.folded" \
    --svg "$tmp/f.svg" --prometheus "$tmp/f.prom" "$RT_BIN/stdmap" 20000 >/dev/null ||
    fail "full mode: exit status $?"
python3 - "$tmp/f.json" "$tmp/f.folded" "$tmp/f.svg" "$tmp/f.prom" <<'PY' || fail "full mode reports"
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
folded = [l.rsplit(' ', 1) for l in open(sys.argv[2]) if l.strip()]
total = sum(int(w) for _, w in folded)
assert 0.9 * d['bytes_allocated'] <= total <= d['bytes_allocated'], (total, d['bytes_allocated'])
assert any('main' in s.split(';') for s, _ in folded), 'no stack through main'
top = d['hot_spots']['by_count'][0]
assert top['count'] >= 20000 and any(f.startswith('main (') for f in top['stack']), top
peak = d['peak']
assert 0 < peak['snapshot_bytes'] <= d['bytes_peak'], peak['snapshot_bytes']
assert d['bytes_peak'] - peak['snapshot_bytes'] <= max(peak['snapshot_bytes'] // 50, 65536), peak
assert 0 < sum(s['bytes'] for s in peak['stacks']) <= peak['snapshot_bytes']
assert any(f.startswith('main (') for f in peak['stacks'][0]['stack']), peak['stacks'][0]
svg = ET.parse(sys.argv[3]).getroot()
assert svg.tag.endswith('svg')
titles = [t.text for t in svg.iter('{http://www.w3.org/2000/svg}title')]
assert any(t.startswith('main ') for t in titles) and len(titles) > 5, titles[:5]
prom = {l.split(' ')[0]: int(l.split(' ')[1]) for l in open(sys.argv[4]) if not l.startswith('#')}
assert prom['ratrace_allocs_total{pid="%d",program="stdmap"}' % d['pid']] == d['allocs']
inf = [v for k, v in prom.items() if 'le="+Inf"' in k]
assert inf == [d['allocs']], inf
PY
# sample mode: estimated bytes per stack add up to about the bytes allocated
"$RATRACE" --quiet --mode sample --sample-bytes 4096 --json "$tmp/s.json" \
    --folded "$tmp/s.folded" "$RT_BIN/stdmap" 20000 >/dev/null || fail "sample mode: exit status $?"
check "sample mode: estimated hot spots" "d['hot_spots']['estimated']" "$tmp/s.json"
total=$(awk '{ t += $NF } END { print t }' "$tmp/s.folded")
check "sample mode: estimate within 30% of the bytes allocated" \
    "0.7 < $total / d['bytes_allocated'] < 1.3" "$tmp/s.json"
# count mode: no stacks, so no hot spots and an empty flame graph, but leak sites by caller
"$RATRACE" --quiet --json "$tmp/c.json" --folded "$tmp/c.folded" "$RT_BIN/leaks" plain >/dev/null
check "count mode: no hot spots" "d['hot_spots']['by_count'] == []" "$tmp/c.json"
[ -s "$tmp/c.folded" ] && fail "count mode: folded stacks without stacks"
# bad options
"$RATRACE" --mode bogus true 2>/dev/null
[ $? -eq 2 ] || fail "--mode bogus: want exit status 2"
"$RATRACE" 2>/dev/null
[ $? -eq 2 ] || fail "no program: want exit status 2"
finish ratrace_reports
