#!/bin/sh
# replay_ring.sh - overwrite and loss through the CLI: small rings and slow readers
# With a ring far smaller than the feed and readers slowed by --reader-delay-ns, the producer
# (which never waits) overwrites and laps them: ring.overwritten > 0, each reader laps > 0 and
# read + lost == published exactly, and its own count of skipped sequence numbers equals lost.
# A roomy ring loses nothing. Messages larger than the ring's maximum are refused and counted.
# Only paced runs prefault the ring (peak RSS of a small feed at --speed max stays small).
. "$(dirname "$0")/lib/common.sh"
need_replay

"$REPLAY" gen --messages 20000 --seed 4 -q -o "$tmp/feed.pcap" || { echo "gen failed"; exit 1; }

# check LABEL JSON EXPECTATION: EXPECTATION is lapped | lossless | toobig
check() {
    python3 - "$@" <<'PY'
import json, sys
label, path, want = sys.argv[1:4]
r = json.load(open(path))
ring, readers, bad = r['ring'], r['readers'], []
pub = ring['published']
if pub + ring['too_big'] != r['feed']['messages']:
    bad.append('published %d + too_big %d != messages %d' % (pub, ring['too_big'], r['feed']['messages']))
for i, x in enumerate(readers):
    if x['read'] + x['lost'] != pub:
        bad.append('reader %d: read %d + lost %d != published %d' % (i, x['read'], x['lost'], pub))
    if x['skipped'] != x['lost'] or x['seq_errors'] != 0:
        bad.append('reader %d: skipped %d, lost %d, seq_errors %d' % (i, x['skipped'], x['lost'], x['seq_errors']))
    # lag: every message read; latency: those the reader was waiting for (a subset)
    if x['lag_ns']['count'] != x['read'] or x['latency_ns']['count'] > x['read']:
        bad.append('reader %d: %d lag and %d latency samples for %d reads' % (i, x['lag_ns']['count'], x['latency_ns']['count'], x['read']))
    for key in ('lag_ns', 'latency_ns'):
        lat = x[key]
        if lat['count'] and not (lat['min'] <= lat['p50'] <= lat['p99'] <= lat['p999'] <= lat['max']):
            bad.append('reader %d: %s percentiles out of order %s' % (i, key, lat))
    if x['consumer'] != 'check':
        bad.append('reader %d: consumer %r' % (i, x['consumer']))
    if want == 'lapped' and (x['laps'] == 0 or x['lost'] == 0):
        bad.append('reader %d: laps %d lost %d, want both > 0' % (i, x['laps'], x['lost']))
    if want == 'lossless' and (x['laps'] or x['lost']):
        bad.append('reader %d: laps %d lost %d, want none' % (i, x['laps'], x['lost']))
if want == 'lapped' and (ring['overwritten'] == 0 or ring['overwritten_bytes'] == 0):
    bad.append('nothing overwritten')
if want == 'lossless' and ring['overwritten'] != 0:
    bad.append('overwritten %d in a roomy ring' % ring['overwritten'])
if want == 'toobig' and ring['too_big'] == 0:
    bad.append('no message refused as too big')
if not r['verified']:
    bad.append('verified is false')
if bad:
    print(label + ': ' + '; '.join(bad)); sys.exit(1)
PY
}

run() { # label expectation replay-args...
    label=$1
    want=$2
    shift 2
    if ! "$REPLAY" -q --json "$@" >"$tmp/r.json" 2>"$tmp/err"; then
        fail "$label: exit code $?: $(cat "$tmp/err")"
        return
    fi
    out=$(check "$label" "$tmp/r.json" "$want") || fail "$out"
}

# 4 KiB of ring holds about 80 records; readers take 200 us per message (the producer writes
# the 20000 messages in a few ms even under sanitizers, so it laps them many times)
run "small ring, 1 slow reader" lapped --ring-size 4K --reader-delay-ns 200000 "$tmp/feed.pcap"
run "small ring, 3 slow readers, resume oldest" lapped --ring-size 8K --readers 3 \
    --reader-delay-ns 200000 --resume oldest "$tmp/feed.pcap"
run "small ring, 2 slow readers, resume newest" lapped --ring-size 4K --readers 2 \
    --reader-delay-ns 200000 --resume newest "$tmp/feed.pcap"
run "small ring, looped input" lapped --ring-size 4K --reader-delay-ns 200000 --loop 2 \
    "$tmp/feed.pcap"
# a ring larger than the whole feed: nothing overwritten, every reader reads everything
run "roomy ring, 2 readers" lossless --ring-size 8M --readers 2 --reader-delay-ns 100 \
    "$tmp/feed.pcap"
# whole UDP payloads (up to 1400 bytes) do not fit a 4 KiB ring (max message 1000 bytes)
run "messages too big for the ring" toobig --ring-size 4K --framing udp "$tmp/feed.pcap"

# the human summary reports the same story
"$REPLAY" --ring-size 4K --reader-delay-ns 200000 "$tmp/feed.pcap" >"$tmp/h.txt" 2>&1 ||
    fail "human summary run failed"
for p in '^Ring: .*published 20000' 'overwritten [1-9]' '^Reader 0 .*lost [1-9][0-9]*, laps [1-9]' \
    '^Actual: +20000 messages' '^Rated: .*Bps, .*Mbps, .*pps' '^Verified: +yes'; do
    grep -Eq "$p" "$tmp/h.txt" || fail "summary lacks /$p/"
done

# --stats-interval writes periodic lines to stderr (400 messages at 10000/s take at least 40 ms,
# eight intervals); -q keeps the summary off stdout
"$REPLAY" -q --stats-interval 0.005 --pps 10000 --limit 400 "$tmp/feed.pcap" >"$tmp/o.txt" \
    2>"$tmp/e.txt" || fail "stats-interval run failed"
grep -Eq '^\[ *[0-9.]+s\] messages [0-9]+' "$tmp/e.txt" || fail "no stats line: $(cat "$tmp/e.txt")"
[ -s "$tmp/o.txt" ] && fail "-q still printed on stdout"

# lag at --speed max, latency when paced: the human summary names what it measured
"$REPLAY" --ring-size 8M "$tmp/feed.pcap" >"$tmp/h.txt" 2>&1 || fail "max-speed run failed"
grep -Eq '^ +lag p50 .*, p99 .*, p99.9 .*, max ' "$tmp/h.txt" || fail "max speed: no lag line"
grep -q 'latency p50' "$tmp/h.txt" && fail "max speed: the summary calls lag latency"
"$REPLAY" --pps 20000 --limit 2000 "$tmp/feed.pcap" >"$tmp/h.txt" 2>&1 || fail "paced run failed"
grep -Eq '^ +latency p50 .*, p99 .*, p99.9 .*, max ' "$tmp/h.txt" || fail "paced: no latency line"
grep -q ' lag p50' "$tmp/h.txt" && fail "paced: the summary says lag"
run "paced, 2 readers" lossless --pps 20000 --limit 2000 --readers 2 "$tmp/feed.pcap"
python3 -c "
import json, sys
for x in json.load(open('$tmp/r.json'))['readers']:
    sys.exit(0 if x['latency_ns']['count'] >= 1 else 1)" || fail "paced: no latency sample"

# more threads than CPUs: one warning, before the run; none without readers
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
"$REPLAY" -q --readers "$cpus" --limit 100 "$tmp/feed.pcap" 2>"$tmp/e.txt" || fail "crowded run failed"
[ "$(grep -c 'warning: 1 producer + .* reader threads on .* CPU' "$tmp/e.txt")" -eq 1 ] ||
    fail "want one crowded warning: $(cat "$tmp/e.txt")"
"$REPLAY" -q --readers 0 --limit 100 "$tmp/feed.pcap" 2>"$tmp/e.txt" || fail "--readers 0 failed"
[ -s "$tmp/e.txt" ] && fail "--readers 0 warned: $(cat "$tmp/e.txt")"

# --ring-size goes up to 1T: accepted; creating the ring may then fail for want of memory, which
# is a clear error (exit 3), never a crash. A paced run, which would prefault it all, refuses a
# ring larger than the machine's memory the same way.
# (sanitizers abort on such an allocation unless told to fail it like malloc does)
for pace in "--speed max" "--pps 1000"; do
    # shellcheck disable=SC2086
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1" \
        TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}allocator_may_return_null=1" \
        "$REPLAY" -q --json --ring-size 1T $pace --limit 10 "$tmp/feed.pcap" >"$tmp/r.json" \
        2>"$tmp/e.txt"
    rc=$?
    case $rc in
    0) python3 -c "import json; assert json.load(open('$tmp/r.json'))['ring']['capacity'] == 1 << 40" ||
        fail "1T ($pace): ran without a 1T ring" ;;
    3) grep -q "cannot create a ring of 1099511627776 bytes" "$tmp/e.txt" ||
        fail "1T ($pace): exit 3 without a clear message: $(cat "$tmp/e.txt")" ;;
    *) fail "1T ($pace): exit $rc: $(cat "$tmp/e.txt")" ;;
    esac
done
"$REPLAY" -q --ring-size 2T "$tmp/feed.pcap" 2>"$tmp/e.txt" && fail "--ring-size 2T accepted"

# Memory: a paced run prefaults its whole ring; at --speed max only the pages the producer
# reaches are backed, so a small feed in a 64 MiB ring costs a few MiB, not 64. Peak RSS of the
# child (ru_maxrss), compared between the two runs so that sanitizer overhead cancels out.
peak_rss_kib() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if rc == 0 else -1)
PY
}
max_kib=$(peak_rss_kib "$REPLAY" -q --ring-size 64M "$tmp/feed.pcap")
paced_kib=$(peak_rss_kib "$REPLAY" -q --ring-size 64M --pps 2000000 "$tmp/feed.pcap")
if [ "$max_kib" -lt 0 ] || [ "$paced_kib" -lt 0 ]; then
    fail "memory runs failed (max speed $max_kib, paced $paced_kib)"
elif [ $((paced_kib - max_kib)) -lt $((48 * 1024)) ]; then
    fail "peak RSS: max speed $max_kib KiB, paced $paced_kib KiB; want the paced run (prefaulted 64 MiB ring) at least 48 MiB above"
fi

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
