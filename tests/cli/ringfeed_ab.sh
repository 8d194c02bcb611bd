#!/bin/sh
# ringfeed_ab.sh - A/B lines: replay --send sends every packet over two veth pairs, each with its
# own loss made by nft in the receiver's namespace, and ringfeed --arbitrate merges them.
# Deterministic loss (line A every 5th data packet, line B every 7th): missing is exactly the
# messages of the packets lost on both lines (every 35th), one gap each; duplicates are every
# datagram received beyond the first copy. Random loss on both lines: delivered messages +
# missing = the file's messages, and duplicates are counted. Without --arbitrate the same two
# lines count every message twice.
. "$(dirname "$0")/lib/common.sh"
need_replay
. "$(dirname "$0")/lib/netns.sh"
need_netns
need_cmd nft nftables
add_ns s && add_ns r && link_ns s r 1 && link_ns s r 2 || fail "making the namespaces"
"$REPLAY" gen --messages 200000 --heartbeat-every 100 -q -o "$tmp/gen.pcap" || fail "replay gen"
"$REPLAY" --json "$tmp/gen.pcap" >"$tmp/rp.json" 2>/dev/null || fail "replay --json"
$PY "$(dirname "$0")/lib/moldcounts.py" "$tmp/gen.pcap" >"$tmp/counts.json" || fail "moldcounts"

# ab PORT [RINGFEED OPTIONS]: the capture over both lines to PORT
ab() {
    p=$1
    shift
    in_ns r "$RINGFEED" --idle-exit 0.5 --json --rcvbuf 256M --arb-window 1 "$@" \
        "udp://10.77.1.2:$p" "udp://10.77.2.2:$p" >"$tmp/rf.json" 2>"$tmp/rf.err" &
    rf=$!
    wait_bound r "$p" || fail "ringfeed did not bind $p"
    in_ns s "$REPLAY" --send "udp://10.77.1.2:$p" --send "udp://10.77.2.2:$p" -q "$tmp/gen.pcap" \
        2>"$tmp/send.err" || fail "replay --send: $(cat "$tmp/send.err")"
    wait $rf || fail "ringfeed exited $?: $(cat "$tmp/rf.err")"
}

nft_drop r 7001 iifname "${NS}b1" numgen inc mod 5 1 || fail "nft rule"
nft_drop r 7001 iifname "${NS}b2" numgen inc mod 7 1 || fail "nft rule"
ab 7001 --arbitrate
pycheck "$tmp/rf.json" "$tmp/counts.json" <<'PY'
rf, counts = J
data = [c for c in counts if c]
both = [c for i, c in enumerate(data) if i % 35 == 1]
f, n = rf['feed'], rf['network']
if n['kernel_drops']: print('kernel drops', n['kernel_drops'])
if f['missing'] != sum(both): print('missing %d, lost on both lines %d' % (f['missing'], sum(both)))
if f['gaps'] != len(both): print('gaps %d, packets lost on both %d' % (f['gaps'], len(both)))
if f['messages'] + f['missing'] != sum(counts): print('messages + missing != the file', f['messages'])
lines = n['lines']
if n['duplicates'] != lines[0]['packets'] + lines[1]['packets'] - rf['input']['packets']:
    print('duplicates %d, lines %d + %d, delivered %d' % (n['duplicates'], lines[0]['packets'],
          lines[1]['packets'], rf['input']['packets']))
if not n['duplicates']: print('no duplicates counted')
filled = lines[0]['gaps_filled'] + lines[1]['gaps_filled']
only_one = sum(1 for i in range(len(data)) if (i % 5 == 1) != (i % 7 == 1))
if filled > only_one: print('gaps_filled %d, packets only one line lost %d' % (filled, only_one))
PY

nft_drop r 7002 iifname "${NS}b1" numgen random mod 100 '<' 10 || fail "nft rule"
nft_drop r 7002 iifname "${NS}b2" numgen random mod 100 '<' 10 || fail "nft rule"
ab 7002 --arbitrate --write packets
pycheck "$tmp/rf.json" "$tmp/rp.json" "$tmp/counts.json" <<'PY'
rf, rp, counts = J
f, n = rf['feed'], rf['network']
if n['kernel_drops']: print('kernel drops', n['kernel_drops'])
# both lines may lose the first data packet: the stream then starts at the second (no gap
# before a receiver's first packet), and that packet's messages are neither delivered nor missing
first = [c for c in counts if c][0]
got = f['messages'] + f['missing']
if got not in (rp['feed']['messages'], rp['feed']['messages'] - first):
    print('random A/B: delivered %d + missing %d != %d' % (f['messages'], f['missing'], rp['feed']['messages']))
if not n['duplicates']: print('random A/B: no duplicates')
if f['missing'] >= rp['feed']['messages'] * 0.05: print('random A/B: missing', f['missing'])
PY

ab 7003
pycheck "$tmp/rf.json" "$tmp/rp.json" <<'PY'
rf, rp = J
if rf['feed']['messages'] != 2 * rp['feed']['messages'] or rf['network']['duplicates']:
    print('without --arbitrate: %d messages (the file has %d)' % (rf['feed']['messages'], rp['feed']['messages']))
PY
exit $((failures > 0))
