#!/bin/sh
# ringfeed_net.sh - replay --send in one network namespace, ringfeed in another (a veth pair):
# with no loss ringfeed's feed.messages, by_type, gaps, missing and heartbeats equal
# `replay --json` on the same capture (the Nasdaq MoldUDP64 and IEX captures of ../shared/data
# when present, and a generated capture of 1M messages, 300k under TSan); the shared ring is read by ringcat in
# another process, which gets every record and end of stream, and ringstat lists it; --write
# packets puts one record per datagram; a receiver started mid-stream sees no false gap and a
# SIGTERM stops it with its report.
. "$(dirname "$0")/lib/common.sh"
need_replay
. "$(dirname "$0")/lib/netns.sh"
need_netns
add_ns s && add_ns r && link_ns s r 1 || fail "making the namespaces"
dst=10.77.1.2
port=5000

# same FILE [RINGFEED OPTIONS...]: sends FILE at max speed, compares the counts with replay's
same() {
    f=$1
    shift
    port=$((port + 1))
    in_ns r "$RINGFEED" --idle-exit 0.5 --json --rcvbuf 256M "$@" "udp://$dst:$port" \
        >"$tmp/rf.json" 2>"$tmp/rf.err" &
    rf=$!
    wait_bound r $port || fail "ringfeed did not bind $port"
    in_ns s "$REPLAY" --send "udp://$dst:$port" -q "$f" 2>"$tmp/send.err" ||
        fail "replay --send $f: $(cat "$tmp/send.err")"
    wait $rf || fail "ringfeed on $f exited $?: $(cat "$tmp/rf.err")"
    "$REPLAY" --json "$f" >"$tmp/rp.json" 2>/dev/null || fail "replay --json $f"
    pycheck "$tmp/rf.json" "$tmp/rp.json" <<PY
rf, rp = J
if rf['network']['kernel_drops']: print('$f: kernel drops', rf['network']['kernel_drops'])
for k in ('messages', 'by_type', 'gaps', 'missing', 'heartbeats', 'backward'):
    if rf['feed'][k] != rp['feed'][k]:
        print('$f $*: feed.%s is %s, replay says %s' % (k, rf['feed'][k], rp['feed'][k]))
PY
}

nasdaq=$SHARED_DATA/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap
iex=$SHARED_DATA/iex_TOPS16.pcapng
if [ -f "$nasdaq" ]; then same "$nasdaq"; else echo "note: $nasdaq absent, not sent"; fi
if [ -f "$iex" ]; then same "$iex"; else echo "note: $iex absent, not sent"; fi
big=1000000
case "$BUILD" in *thread*) big=300000 ;; esac # TSan: keep the script near 20 s
"$REPLAY" gen --messages $big --heartbeat-every 500 --gap-every 2000 -q -o "$tmp/gen.pcap" ||
    fail "replay gen"
same "$tmp/gen.pcap" --readers 2
pycheck "$tmp/rf.json" <<'PY'
rf = J[0]
if rf['feed']['messages'] < 290000: print('the generated capture gave', rf['feed']['messages'])
for i, r in enumerate(rf['readers']):
    if r['read'] != rf['ring']['published'] or r['out_of_order'] or r['error']:
        print('reader', i, r)
PY
"$REPLAY" gen --messages 20000 -q -o "$tmp/small.pcap" || fail "replay gen small"
same "$tmp/small.pcap" --write packets
pycheck "$tmp/rf.json" <<'PY'
rf = J[0]
if rf['ring']['published'] != rf['input']['packets']: print('--write packets: not one record per datagram')
if rf['readers'][0]['read'] != rf['ring']['published']: print('--write packets: reader', rf['readers'][0])
PY

# the shared ring: ringcat in another process reads every message, then end of stream
name=${SHM_PREFIX}feed
port=$((port + 1))
in_ns r "$RINGFEED" --shm "$name" --idle-exit 0.5 --json --rcvbuf 256M "udp://$dst:$port" \
    >"$tmp/rf.json" 2>"$tmp/rf.err" &
rf=$!
wait_bound r $port || fail "ringfeed did not bind $port"
"$RINGCAT" --wait 10 --json "$name" >"$tmp/cat.json" 2>"$tmp/cat.err" &
cat=$!
# ringfeed binds its sockets before it creates (and prefaults) the ring: wait for the ring
i=0
until "$ROOT/$BUILD/ringstat" --once --json --interval 0.05 "$name" >"$tmp/stat.json" 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "ringstat on ringfeed's ring: $(cat "$tmp/stat.json")"
    sleep 0.05
done
in_ns s "$REPLAY" --send "udp://$dst:$port" -q "$tmp/small.pcap" 2>"$tmp/send.err" || fail "send"
wait $rf || fail "ringfeed --shm exited $?: $(cat "$tmp/rf.err")"
wait $cat || fail "ringcat exited $?: $(cat "$tmp/cat.err")"
pycheck "$tmp/rf.json" "$tmp/cat.json" "$tmp/stat.json" <<'PY'
rf, cat, st = J
if cat['read'] != rf['ring']['published'] or cat['lost']:
    print('ringcat read %d (lost %d) of %d' % (cat['read'], cat['lost'], rf['ring']['published']))
if not cat['closed']: print('ringcat did not see the close')
if rf['network']['kernel_drops']: print('shm: kernel drops')
w = st['rings'][0]['writer']
if not w['alive'] or w['pid'] <= 0: print('ringstat: no live writer', w)
PY

# late start: the sender runs paced, ringfeed joins mid-stream and is stopped by SIGTERM
port=$((port + 1))
rx_packets() { in_ns r cat "/sys/class/net/${NS}b1/statistics/rx_packets" 2>/dev/null || echo 0; }
rx0=$(rx_packets)
in_ns s "$REPLAY" --send "udp://$dst:$port" --pps 10000 -q "$tmp/small.pcap" &
snd=$!
# start once the stream is flowing: the receiving interface has counted some of its packets
i=0
while [ $i -lt 200 ]; do
    [ $(($(rx_packets) - rx0)) -gt 200 ] && break
    sleep 0.05
    i=$((i + 1))
done
ip netns exec "$(ns r)" "$RINGFEED" --json "udp://$dst:$port" >"$tmp/rf.json" 2>"$tmp/rf.err" &
rf=$!
wait $snd
sleep 0.2
kill -TERM $rf
wait $rf || fail "ringfeed after SIGTERM exited $?"
pycheck "$tmp/rf.json" <<'PY'
rf = J[0]
m = rf['feed']['messages']
if not 0 < m < 20000: print('late start: %d messages (not mid-stream?)' % m)
if rf['feed']['gaps'] or rf['feed']['missing']: print('late start: a false gap', rf['feed'])
if not rf['run']['interrupted']: print('SIGTERM: not reported as interrupted')
if rf['readers'][0]['error'] or rf['readers'][0]['read'] != rf['ring']['published']:
    print('the reader did not end cleanly', rf['readers'][0])
PY
exit $((failures > 0))
