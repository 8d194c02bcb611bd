#!/bin/sh
# ratrace_snapshots.sh - reports of a running program: --report-signal (the signal sent to the
# program, and to ratrace, which passes it on) and --interval rewrite the report files with a
# snapshot ("final": false: counts, live blocks, no leak scan) while the program runs on; the
# exit report replaces them. The program is tests/ratrace/longrun.c, which keeps 1000 blocks
# alive until told to stop.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ratrace/lib.sh
skip_in_sanitizer_builds

# wait_for FILE PYTHON-CONDITION-ON-d : polls (up to 30 s) until FILE is JSON satisfying it
wait_for() {
    i=0
    while [ $i -lt 300 ]; do
        [ -s "$1" ] && [ "$(jget "$1" "bool($2)" 2>/dev/null)" = True ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# start ARGS... : ratrace ARGS longrun in the background ($rt: ratrace's PID, $prog: longrun's)
start() {
    rm -f "$tmp/pid" "$tmp/stop" "$tmp/r.json" "$tmp/r.prom"
    "$RATRACE" "$@" --json "$tmp/r.json" --prometheus "$tmp/r.prom" -- \
        "$RT_BIN/longrun" "$tmp/pid" "$tmp/stop" >/dev/null 2>"$tmp/err" &
    rt=$!
    i=0
    while [ ! -s "$tmp/pid" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    prog=$(cat "$tmp/pid" 2>/dev/null)
    [ -n "$prog" ] || fail "longrun did not start"
}

# stop NAME : tells longrun to end, then checks the exit report replaced the snapshot
stop() {
    : >"$tmp/stop"
    wait "$rt" || fail "$1: exit status $?"
    check "$1: the exit report last" "d['final'] and d['leaks']['count'] == 0" "$tmp/r.json"
    check "$1: nothing live at exit" "d['live_blocks'] == d['allocs'] - d['frees']" "$tmp/r.json"
}

# --report-signal: no snapshot until the signal comes
start --report-signal USR2
sleep 1
[ -e "$tmp/r.json" ] && fail "--report-signal: a report before the signal"
kill -USR2 "$prog"
wait_for "$tmp/r.json" "not d['final'] and d['live_blocks'] >= 1000 and d['allocs'] >= 1000" ||
    fail "--report-signal: no snapshot after the signal to the program"
first=$(jget "$tmp/r.json" "d['allocs']")
grep -q "ratrace_live_blocks" "$tmp/r.prom" || fail "--report-signal: no Prometheus snapshot"
grep -q "running" "$tmp/err" || fail "--report-signal: no snapshot summary on stderr"
# the same signal sent to ratrace reaches the program; the program's counts moved on meanwhile
kill -USR2 "$rt"
wait_for "$tmp/r.json" "not d['final'] and d['allocs'] > $first" ||
    fail "--report-signal: no second snapshot after the signal to ratrace"
stop "--report-signal"

# SIGUSR1 by number, and --interval: snapshots follow each other every second
start --quiet --interval 1 --report-signal 10
wait_for "$tmp/r.json" "not d['final'] and d['live_blocks'] >= 1000" ||
    fail "--interval: no snapshot"
first=$(jget "$tmp/r.json" "d['allocs']")
wait_for "$tmp/r.json" "not d['final'] and d['allocs'] > $first" ||
    fail "--interval: the snapshot was not rewritten"
[ -s "$tmp/err" ] && fail "--quiet: snapshot lines on stderr"
stop "--interval"

"$RATRACE" --report-signal KILL true 2>/dev/null
[ $? -eq 2 ] || fail "--report-signal KILL: want exit status 2"
"$RATRACE" --report-signal NOSUCH true 2>/dev/null
[ $? -eq 2 ] || fail "--report-signal NOSUCH: want exit status 2"
finish ratrace_snapshots
