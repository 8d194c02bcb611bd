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
    if x['latency_ns']['count'] != x['read']:
        bad.append('reader %d: %d latency samples for %d reads' % (i, x['latency_ns']['count'], x['read']))
    lat = x['latency_ns']
    if x['read'] and not (lat['p50'] <= lat['p99'] <= lat['p999'] <= lat['max']):
        bad.append('reader %d: percentiles out of order %s' % (i, lat))
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
