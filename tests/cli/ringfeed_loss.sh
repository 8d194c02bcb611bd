#!/bin/sh
# ringfeed_loss.sh - loss between replay --send and ringfeed, made by nft in the receiver's
# namespace on datagrams with messages. Random loss: received messages + missing = the file's
# messages (so missing is exactly the messages of the dropped packets; less the first data
# packet's when nft dropped that one, since a receiver starts at its first packet), ringfeed received every
# datagram nft let through, and gaps <= nft's count. Drops that never hit two packets in a row
# (every 7th data packet): feed.gaps equals nft's counter and missing equals the messages of
# those very packets (counted from the capture).
. "$(dirname "$0")/lib/common.sh"
need_replay
. "$(dirname "$0")/lib/netns.sh"
need_netns
need_cmd nft nftables
add_ns s && add_ns r && link_ns s r 1 || fail "making the namespaces"
dst=10.77.1.2
"$REPLAY" gen --messages 200000 --heartbeat-every 100 -q -o "$tmp/gen.pcap" || fail "replay gen"
"$REPLAY" --json "$tmp/gen.pcap" >"$tmp/rp.json" 2>/dev/null || fail "replay --json"
$PY "$(dirname "$0")/lib/moldcounts.py" "$tmp/gen.pcap" >"$tmp/counts.json" || fail "moldcounts"

# run PORT: sends the capture to PORT, ringfeed's report in rf.json, nft's counts in nft.json
run() {
    in_ns r "$RINGFEED" --idle-exit 0.5 --json --rcvbuf 256M "udp://$dst:$1" >"$tmp/rf.json" \
        2>"$tmp/rf.err" &
    rf=$!
    wait_bound r "$1" || fail "ringfeed did not bind $1"
    in_ns s "$REPLAY" --send "udp://$dst:$1" --json "$tmp/gen.pcap" >"$tmp/send.json" \
        2>"$tmp/send.err" || fail "replay --send: $(cat "$tmp/send.err")"
    wait $rf || fail "ringfeed exited $?: $(cat "$tmp/rf.err")"
    echo "[$(nft_dropped r | tr '\n' ',' | sed 's/,$//')]" >"$tmp/nft.json"
}

nft_drop r 6001 numgen random mod 100 '<' 5 || fail "nft rule"
run 6001
pycheck "$tmp/rf.json" "$tmp/rp.json" "$tmp/send.json" "$tmp/nft.json" "$tmp/counts.json" <<'PY'
rf, rp, snd, nft, counts = J
dropped = nft[0]
f, n = rf['feed'], rf['network']
if n['kernel_drops']: print('kernel drops', n['kernel_drops'])
if not dropped: print('nft dropped nothing')
# a dropped first data packet is no gap: the receiver starts at the first packet it gets, so
# that packet's messages are neither received nor missing
first = [c for c in counts if c][0]
if f['messages'] + f['missing'] not in (rp['feed']['messages'], rp['feed']['messages'] - first):
    print('received %d + missing %d != %d in the file' % (f['messages'], f['missing'], rp['feed']['messages']))
if n['packets'] + dropped != snd['send']['packets']:
    print('received %d + dropped %d != %d sent' % (n['packets'], dropped, snd['send']['packets']))
if not 0 < f['gaps'] <= dropped: print('gaps %d, nft dropped %d' % (f['gaps'], dropped))
PY

nft_drop r 6002 numgen inc mod 7 3 || fail "nft rule"
run 6002
pycheck "$tmp/rf.json" "$tmp/counts.json" "$tmp/nft.json" <<'PY'
rf, counts, nft = J
dropped = nft[1]
data = [c for c in counts if c]
lost = [c for i, c in enumerate(data) if i % 7 == 3]
f = rf['feed']
if rf['network']['kernel_drops']: print('kernel drops', rf['network']['kernel_drops'])
if f['gaps'] != dropped or dropped != len(lost):
    print('gaps %d, nft dropped %d, expected %d' % (f['gaps'], dropped, len(lost)))
if f['missing'] != sum(lost): print('missing %d, the dropped packets held %d' % (f['missing'], sum(lost)))
PY
exit $((failures > 0))
