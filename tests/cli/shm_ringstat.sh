#!/bin/sh
# shm_ringstat.sh - ringstat beside a live writer: a registered ringcat is listed with its pid and
# counters, the Prometheus textfile parses and holds the ring's and the reader's metrics, --csv
# has one header line, every ring of /dev/shm is found without names, a NAME that is not a ring
# is a clear error (exit 1), and rings that vanish or shrink while ringstat runs give messages.
. "$(dirname "$0")/lib/common.sh"
need_replay
. "$(dirname "$0")/lib/shm.sh"
in=$ROOT/data/sample.pcap
name=$(shm_name live)

"$REPLAY" --shm "$name" --unlink --pps 1000 -q "$in" 2>"$tmp/rp.err" &
rp_pid=$!
wait_published "$name" || fail "the ring never showed published messages"
"$RINGCAT" --register --count --wait 5 "$name" >"$tmp/cat.out" 2>"$tmp/cat.err" &
cat_pid=$!
# the reader shows up once it has registered
i=0
while [ $i -lt 100 ]; do
    "$RINGSTAT" --once --json --interval 0.05 "$name" >"$tmp/stat.json" 2>"$tmp/stat.err"
    [ "$(jget "$tmp/stat.json" rings.0.readers 2>/dev/null)" != "[]" ] && break
    sleep 0.1
    i=$((i + 1))
done
python3 - "$tmp/stat.json" "$name" "$cat_pid" "$rp_pid" <<'PY' || fail "ringstat --json (above)"
import json, sys
d = json.load(open(sys.argv[1]))
name, cat_pid, rp_pid = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
bad = []
r = d['rings'][0]
for k in ('name', 'published', 'overwritten', 'used_bytes', 'capacity', 'writer', 'readers'):
    if k not in r: bad.append('missing key ' + k)
if r['name'] != name: bad.append('name %r' % r['name'])
w = r['writer']
if w['pid'] != rp_pid or w['alive'] is not True: bad.append('writer %r' % w)
if not isinstance(w['heartbeat_age_ns'], int): bad.append('heartbeat_age_ns %r' % w['heartbeat_age_ns'])
rd = [x for x in r['readers'] if x['pid'] == cat_pid]
if len(rd) != 1: bad.append('readers %r' % r['readers'])
else:
    x = rd[0]
    for k in ('position_seq', 'lag_msgs', 'read', 'lost', 'laps'):
        if not isinstance(x.get(k), int): bad.append('reader key %s: %r' % (k, x.get(k)))
    if x['position_seq'] > r['published']: bad.append('position beyond published')
if r['msgs_per_sec'] <= 0: bad.append('msgs_per_sec %r while the writer runs' % r['msgs_per_sec'])
if bad:
    print('\n'.join(bad)); sys.exit(1)
PY

# the Prometheus textfile: written whole, every sample line parses
"$RINGSTAT" --once --quiet --interval 0.05 --prometheus "$tmp/ring.prom" "$name" ||
    fail "ringstat --prometheus failed"
python3 - "$tmp/ring.prom" "$name" "$cat_pid" <<'PY' || fail "the Prometheus file (above)"
import re, sys
name, cat_pid = sys.argv[2], sys.argv[3]
pat = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_]+="(?:[^"\\]|\\.)*",?)*)\} (\S+)$')
seen = {}
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('#'):
        if not re.match(r'^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$', line):
            sys.exit('bad comment line: ' + line)
        continue
    m = pat.match(line)
    if not m: sys.exit('bad sample line: ' + line)
    float(m.group(3))
    seen.setdefault(m.group(1), []).append(m.group(2))
for metric in ('ringalloc_ring_published_total', 'ringalloc_ring_writer_alive',
               'ringalloc_reader_lag_messages', 'ringalloc_reader_read_total'):
    if metric not in seen: sys.exit('missing ' + metric)
if 'ring="%s"' % name not in seen['ringalloc_ring_published_total']:
    sys.exit('no sample for the ring')
if not any('pid="%s"' % cat_pid in l for l in seen['ringalloc_reader_read_total']):
    sys.exit('no sample for the registered reader')
PY
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file of --prometheus was left"

# --csv: one header line, then rows of the same width
"$RINGSTAT" --csv --count 2 --interval 0.05 "$name" >"$tmp/stat.csv" || fail "ringstat --csv failed"
[ "$(grep -c '^time_s,' "$tmp/stat.csv")" -eq 1 ] || fail "--csv: not one header line"
[ "$(wc -l <"$tmp/stat.csv")" -eq 3 ] || fail "--csv: not two rows for two refreshes"
[ "$(awk -F, '{print NF}' "$tmp/stat.csv" | sort -u | wc -l)" -eq 1 ] || fail "--csv: ragged rows"

# without names: every ring, this one included
"$RINGSTAT" --once --json --interval 0.05 >"$tmp/all.json" || fail "ringstat (all rings) failed"
python3 -c "import json,sys; n=[r['name'] for r in json.load(open(sys.argv[1]))['rings']]; sys.exit(0 if sys.argv[2] in n else 1)" \
    "$tmp/all.json" "$name" || fail "the scan of /dev/shm did not find $name"

# a name that is not a ring, and one that does not exist: clear errors, exit 1
printf 'not a ring at all\n' >"/dev/shm/$(shm_name junk)"
"$RINGSTAT" --once --json --interval 0.05 "$(shm_name junk)" >"$tmp/junk.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "a file that is not a ring: exit $rc, want 1"
grep -q "$(shm_name junk)" "$tmp/err" || fail "a file that is not a ring: no message"
"$RINGSTAT" --once --interval 0.05 "$(shm_name nope)" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "a missing NAME: exit $rc, want 1"
grep -q 'no such ring' "$tmp/err" || fail "a missing NAME: no message: $(cat "$tmp/err")"

# rings that vanish or shrink under a running ringstat: a message each, no crash
gone=$(shm_name gone)
shrunk=$(shm_name shrunk)
"$REPLAY" --shm "$gone" -q "$in" && "$REPLAY" --shm "$shrunk" -q "$in" || fail "replay --shm failed"
"$RINGSTAT" --csv --count 8 --interval 0.2 "$gone" "$shrunk" >"$tmp/chg.csv" 2>"$tmp/chg.err" &
st_pid=$!
i=0 # both rings attached: the first rows are out (the file may not exist yet)
while [ "$(cat "$tmp/chg.csv" 2>/dev/null | grep -c ratest)" -lt 2 ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
rm -f "/dev/shm/$gone"
truncate -s 4096 "/dev/shm/$shrunk"
wait $st_pid
rc=$?
[ $rc -le 1 ] || fail "ringstat with rings changing under it: exit $rc: $(cat "$tmp/chg.err")"
grep -q "$gone: the ring vanished" "$tmp/chg.err" || fail "no message for the vanished ring"
grep -q "$shrunk: \(dropped\|not shown\)" "$tmp/chg.err" ||
    fail "no message for the shrunk ring: $(cat "$tmp/chg.err")"
[ "$(grep -c "$gone: no such ring" "$tmp/chg.err")" -le 1 ] ||
    fail "the missing ring is reported at every refresh"

kill -TERM $rp_pid
wait $rp_pid
wait $cat_pid
rc=$?
[ $rc -eq 0 ] || fail "the registered ringcat: exit $rc: $(cat "$tmp/cat.err")"
grep -q 'end of stream' "$tmp/cat.out" || fail "the registered ringcat: no summary on stdout"
exit $((failures > 0))
