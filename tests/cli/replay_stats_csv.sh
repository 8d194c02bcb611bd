#!/bin/sh
# replay_stats_csv.sh - --stats-csv FILE: the header, one row per reader per interval and a last
# row per reader with the exact final counts (read + lost == msgs, lag 0), elapsed and msgs never
# going back, and with --readers 0 one row per interval with the reader fields empty.
. "$(dirname "$0")/lib/common.sh"
need_replay

"$REPLAY" gen --messages 20000 --seed 5 -q -o "$tmp/feed.pcap" || { echo "gen failed"; exit 1; }

# check LABEL CSV JSON READERS MIN_INTERVALS
check() {
    python3 - "$@" <<'PY'
import csv, json, sys
label, path, jpath, readers, min_int = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
head = open(path).readline().strip()
want = 'elapsed_s,msgs,msgs_per_sec,ring_used_bytes,overwritten,reader,read,lost,laps,lag_msgs,latency_p50_ns,latency_p99_ns'
bad = []
if head != want:
    bad.append('header %r' % head)
rows = list(csv.DictReader(open(path)))
per = max(readers, 1)
if len(rows) % per or len(rows) // per < min_int:
    bad.append('%d rows for %d reader(s), want a multiple with >= %d intervals' % (len(rows), per, min_int))
r = json.load(open(jpath))
pub = r['ring']['published']
for k in range(0, len(rows), per):
    group = rows[k:k + per]
    if len({(g['elapsed_s'], g['msgs']) for g in group}) != 1:
        bad.append('row %d: one interval with different elapsed/msgs' % k)
    want_ids = [str(i) for i in range(readers)] if readers else ['']
    if [g['reader'] for g in group] != want_ids:
        bad.append('row %d: readers %s' % (k, [g['reader'] for g in group]))
    if not readers and any(g[c] for g in group for c in ('read', 'lost', 'laps', 'lag_msgs', 'latency_p50_ns', 'latency_p99_ns')):
        bad.append('row %d: reader fields filled with --readers 0' % k)
prev = None
for g in rows:
    t, m = float(g['elapsed_s']), int(g['msgs'])
    if prev and (t < prev[0] or m < prev[1]):
        bad.append('elapsed/msgs went back: %s after %s' % ((t, m), prev))
    prev = (t, m)
    if readers and g['latency_p50_ns'] and int(g['latency_p50_ns']) > int(g['latency_p99_ns']):
        bad.append('p50 above p99 in %s' % g)
last = rows[-per:]
if int(last[0]['msgs']) != pub:
    bad.append('last msgs %s != published %d' % (last[0]['msgs'], pub))
for i, g in enumerate(last if readers else []):
    x = r['readers'][i]
    if int(g['read']) + int(g['lost']) != int(g['msgs']) or int(g['lag_msgs']) != 0:
        bad.append('reader %d last row: read %s + lost %s vs msgs %s, lag %s' % (i, g['read'], g['lost'], g['msgs'], g['lag_msgs']))
    if (int(g['read']), int(g['lost']), int(g['laps'])) != (x['read'], x['lost'], x['laps']):
        bad.append('reader %d last row %s differs from the JSON %s' % (i, g, x))
if bad:
    print(label + ': ' + '; '.join(bad)); sys.exit(1)
PY
}

run() { # label readers min_intervals replay-args...
    label=$1 readers=$2 min=$3
    shift 3
    rm -f "$tmp/s.csv"
    if ! "$REPLAY" -q --json --stats-csv "$tmp/s.csv" --readers "$readers" "$@" "$tmp/feed.pcap" \
        >"$tmp/r.json" 2>"$tmp/err"; then
        fail "$label: exit code $?: $(cat "$tmp/err")"
        return
    fi
    check "$label" "$tmp/s.csv" "$tmp/r.json" "$readers" "$min" || failures=$((failures + 1))
}

# paced for about 0.5 s at 0.1 s intervals: several rows per reader, then the final ones
run "paced, 2 readers" 2 4 --pps 40000 --stats-interval 0.1
run "paced, no reader" 0 4 --pps 40000 --stats-interval 0.1
# lapped readers: the last rows still add up (read + lost == msgs)
run "small ring, slow readers" 2 3 --ring-size 4K --reader-delay-ns 60000 --pps 40000 \
    --stats-interval 0.1
# default interval 1 s: a short run has only the final row per reader
run "max speed, default interval" 1 1
lines=$(wc -l <"$tmp/s.csv")
[ "$lines" -ge 2 ] || fail "default interval: $lines lines"
# --stats-csv alone prints no stats lines on stderr; with --stats-interval they come too
"$REPLAY" -q --stats-csv "$tmp/t.csv" --pps 20000 --limit 4000 "$tmp/feed.pcap" 2>"$tmp/err" ||
    fail "--stats-csv --pps: exit $?"
grep -q "messages" "$tmp/err" && fail "--stats-csv alone printed stats lines"
rm -f "$tmp/t.csv"
"$REPLAY" -q --stats-csv "$tmp/t.csv" --stats-interval 0.05 --pps 20000 --limit 4000 \
    "$tmp/feed.pcap" 2>"$tmp/err" || fail "--stats-csv --stats-interval: exit $?"
grep -q "messages" "$tmp/err" || fail "--stats-interval printed no stats line with --stats-csv"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
