#!/bin/sh
# shm_signals.sh - the ends of a shared ring's stream as another process sees them: SIGTERM to
# `replay --shm` closes the ring (ringcat reports closed, exits 0, read + lost == published);
# kill -9 of the writer mid-run is seen as writer death (writer_dead, exit 3) after what was
# committed is read, and ringstat shows the writer dead and the ring open; ringcat --wait on a
# name that never appears exits 1 with a message; SIGTERM ends ringcat itself with its report.
. "$(dirname "$0")/lib/common.sh"
need_replay
. "$(dirname "$0")/lib/shm.sh"
in=$ROOT/data/sample.pcap

# -- SIGTERM to the writer: end of stream
name=$(shm_name term)
"$RINGCAT" --json --wait 30 "$name" >"$tmp/cat.json" 2>"$tmp/cat.err" &
cat_pid=$!
"$REPLAY" --shm "$name" --unlink --pps 2000 --json -q "$in" >"$tmp/rp.json" 2>"$tmp/rp.err" &
rp_pid=$!
wait_published "$name" || fail "term: the ring never showed published messages"
kill -TERM $rp_pid
wait $rp_pid
rc=$?
[ $rc -eq 130 ] || fail "term: replay exit $rc, want 130: $(cat "$tmp/rp.err")"
wait $cat_pid
rc=$?
[ $rc -eq 0 ] || fail "term: ringcat exit $rc, want 0: $(cat "$tmp/cat.err")"
[ "$(jget "$tmp/cat.json" closed)" = true ] || fail "term: ringcat did not see the close"
[ "$(jget "$tmp/cat.json" writer_dead)" = false ] || fail "term: ringcat saw a death"
[ "$(jget "$tmp/rp.json" shm.closed)" = true ] || fail "term: replay's report says not closed"
[ "$(jget "$tmp/rp.json" run.interrupted)" = true ] || fail "term: replay not interrupted"
pub=$(jget "$tmp/rp.json" ring.published)
read=$(jget "$tmp/cat.json" read)
lost=$(jget "$tmp/cat.json" lost)
[ $((read + lost)) -eq "$pub" ] || fail "term: ringcat read $read + lost $lost != published $pub"
[ "$pub" -lt 30000 ] || fail "term: replay was not interrupted mid-run (published $pub)"
[ -e "/dev/shm/$name" ] && fail "term: --unlink left the ring"

# -- kill -9 of the writer: death, after the committed messages
name=$(shm_name kill)
"$RINGCAT" --json --wait 30 "$name" >"$tmp/cat.json" 2>"$tmp/cat.err" &
cat_pid=$!
"$REPLAY" --shm "$name" --pps 2000 -q "$in" 2>"$tmp/rp.err" &
rp_pid=$!
wait_published "$name" || fail "kill: the ring never showed published messages"
kill -KILL $rp_pid
wait $rp_pid 2>/dev/null
wait $cat_pid
rc=$?
[ $rc -eq 3 ] || fail "kill: ringcat exit $rc, want 3: $(cat "$tmp/cat.err")"
[ "$(jget "$tmp/cat.json" writer_dead)" = true ] || fail "kill: ringcat did not see the death"
[ "$(jget "$tmp/cat.json" closed)" = false ] || fail "kill: ringcat saw a close"
grep -q 'died without closing' "$tmp/cat.err" || fail "kill: no message about the death"
"$RINGSTAT" --once --json --interval 0.05 "$name" >"$tmp/stat.json" || fail "kill: ringstat failed"
[ "$(jget "$tmp/stat.json" rings.0.writer.alive)" = false ] || fail "kill: ringstat: writer alive"
[ "$(jget "$tmp/stat.json" rings.0.closed)" = false ] || fail "kill: ringstat: ring closed"
pub=$(jget "$tmp/stat.json" rings.0.published)
read=$(jget "$tmp/cat.json" read)
lost=$(jget "$tmp/cat.json" lost)
[ $((read + lost)) -eq "$pub" ] || fail "kill: ringcat read $read + lost $lost != published $pub"
# a late reader of the dead writer's ring drains it, then reports the death too
"$RINGCAT" --count --wait 0 "$name" >"$tmp/count.out" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "kill: late ringcat exit $rc, want 3"
grep -q "read $pub," "$tmp/count.out" || fail "kill: late ringcat did not read all $pub: $(cat "$tmp/count.out")"

# -- a name that never appears: exit 1 after --wait, with a message
"$RINGCAT" --wait 0.3 "$(shm_name never)" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "missing: ringcat exit $rc, want 1"
grep -q 'no such ring' "$tmp/err" || fail "missing: no message: $(cat "$tmp/err")"

# -- SIGTERM to ringcat: its report, exit 130
name=$(shm_name idle)
"$REPLAY" --shm "$name" --pps 2000 -q "$in" 2>/dev/null &
rp_pid=$!
wait_published "$name" || fail "idle: the ring never showed published messages"
"$RINGCAT" --json --wait 5 "$name" >"$tmp/cat.json" 2>"$tmp/cat.err" &
cat_pid=$!
wait_published "$name"
sleep 0.3
kill -TERM $cat_pid
wait $cat_pid
rc=$?
[ $rc -eq 130 ] || fail "ringcat SIGTERM: exit $rc, want 130"
[ "$(jget "$tmp/cat.json" closed)" = false ] || fail "ringcat SIGTERM: closed in its report"
kill -TERM $rp_pid
wait $rp_pid
exit $((failures > 0))
