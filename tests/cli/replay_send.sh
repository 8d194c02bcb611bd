#!/bin/sh
# replay_send.sh - replay --send across network namespaces: datagrams equal to the capture's UDP
# payloads byte for byte (the real Nasdaq MoldUDP64 and IEX-TP captures), A/B destinations,
# multicast to two namespaces on a bridge, an ITCH file as MoldUDP64 packets, a tick file's gap as
# a sequence jump, --drop with a seed,
# ECONNREFUSED counted and not fatal. Usage errors are checked first, without the network.
# Needs root and `ip netns` (skips otherwise); namespaces and links are named after $$ and removed
# by the exit trap.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_cmd python3
UDPTOOL="$ROOT/tests/cli/lib/udptool.py"

# ---- usage errors (no network needed) ----
usage() { # usage ARGS... : replay must refuse with exit 1
    "$REPLAY" -q "$@" "$ROOT/data/sample.pcap" >/dev/null 2>"$tmp/usage.err"
    rc=$?
    [ $rc -eq 1 ] || fail "replay $*: exit $rc, want 1 (usage): $(cat "$tmp/usage.err")"
}
if [ -f "$ROOT/data/sample.pcap" ]; then
    usage --ttl 3
    usage --drop 0.5
    usage --send tcp://127.0.0.1:5000
    usage --send udp://127.0.0.1:70000
    usage --send udp://127.0.0.1:5000 --drop 1.5
    usage --send udp://127.0.0.1:5000 --mbps 10 --speed 2x
    usage --send udp://127.0.0.1:5000 --drop-list "$tmp/x"
    usage --send udp://127.0.0.1:5000 --port-map 5:0
fi

[ "$(id -u)" -eq 0 ] || skip "not root: the network namespaces need root"
ip netns list >/dev/null 2>&1 || skip "ip netns is unavailable"
need_shared_data
MOLD=$SHARED_DATA/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap
TOPS=$SHARED_DATA/iex_TOPS16.pcapng
ITCH=$SHARED_DATA/nasdaq_12302019_SNIPPET.NASDAQ_ITCH50

S=rpS$$ R=rpR$$ B=rpB$$ M1=rpM$$a M2=rpM$$b
cleanup() {
    for ns in $S $R $B $M1 $M2; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
ip netns add $S && ip netns add $R || skip "cannot create network namespaces"
ip link add rs$$ type veth peer name rr$$ || skip "cannot create veth pairs"
ip link set rs$$ netns $S && ip link set rr$$ netns $R
ip -n $S addr add 10.88.0.1/24 dev rs$$ && ip -n $R addr add 10.88.0.2/24 dev rr$$
for ns in $S $R; do ip -n $ns link set lo up; done
ip -n $S link set rs$$ up && ip -n $R link set rr$$ up

# recv NS ADDR:PORTS OUT ARGS... : starts the test receiver in NS; returns once it is bound
recv() {
    ns=$1 at=$2 out=$3
    shift 3
    rm -f "$out" "$out.ready"
    ip netns exec "$ns" python3 "$UDPTOOL" recv "$at" "$out" "$@" &
    i=0
    while [ ! -f "$out.ready" ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
}
# send ARGS... : replay in the sender namespace, JSON in $tmp/send.json
send() {
    ip netns exec $S "$REPLAY" -q --json "$@" >"$tmp/send.json" 2>"$tmp/send.err"
    src=$?
    [ $src -eq 0 ] || fail "replay $*: exit $src: $(cat "$tmp/send.err")"
}
jget() { python3 -c "import json,sys; d=json.load(open('$tmp/send.json')); print($1)"; }

# ---- byte for byte: the capture's payloads, in order, on their own port (PORT 0) ----
for cap in "$MOLD" "$TOPS"; do
    [ -f "$cap" ] || { echo "skip: $cap absent"; continue; }
    python3 "$UDPTOOL" payloads "$cap" >"$tmp/exp"
    [ "$cap" = "$TOPS" ] && cut -d' ' -f2 "$tmp/exp" >"$tmp/tops.exp"
    port=$(head -n 1 "$tmp/exp" | cut -d' ' -f1)
    n=$(wc -l <"$tmp/exp")
    recv $R "0.0.0.0:$port" "$tmp/got" --count "$n" --idle 2
    send --send udp://10.88.0.2:0 "$cap"
    wait
    cmp -s "$tmp/exp" "$tmp/got" ||
        fail "$(basename "$cap"): $(wc -l <"$tmp/got") datagrams received, $n expected, or bytes differ"
    [ "$(jget "d['send']['packets'], d['send']['errors'], d['feed']['messages']")" = \
        "$n 0 $(jget "d['send']['messages']")" ] ||
        fail "$(basename "$cap"): send counts: $(jget "d['send']")"
done

# ---- A/B: two destinations both get everything; --port-map ----
if [ -f "$TOPS" ]; then
    cp "$tmp/tops.exp" "$tmp/exp"
    n=$(wc -l <"$tmp/exp")
    recv $R "10.88.0.2:6001,6002" "$tmp/ab" --count $((2 * n)) --idle 2
    send --send udp://10.88.0.2:6001 --send udp://10.88.0.2:0 --port-map 16642:6002 "$TOPS"
    wait
    for p in 6001 6002; do
        grep "^$p " "$tmp/ab" | cut -d' ' -f2 | cmp -s - "$tmp/exp" || fail "A/B: line $p incomplete"
    done
    [ "$(jget "d['send']['datagrams']")" = $((2 * n)) ] || fail "A/B: datagrams $(jget "d['send']")"
fi

# ---- ITCH file -> MoldUDP64: contiguous sequence numbers, the file's messages ----
if [ -f "$ITCH" ]; then
    python3 - "$ITCH" >"$tmp/itch.exp" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, seq = 0, 1
while off + 2 <= len(d):
    n = struct.unpack('>H', d[off:off + 2])[0]
    print('%d %s' % (seq, d[off + 2:off + 2 + n].hex()))
    off, seq = off + 2 + n, seq + 1
PY
    recv $R "10.88.0.2:6100" "$tmp/itch.got" --idle 0.5
    send --send udp://10.88.0.2:6100 --packet-bytes 200 --session TESTSESS01 "$ITCH"
    wait
    python3 "$UDPTOOL" mold "$tmp/itch.got" >"$tmp/itch.msgs"
    cmp -s "$tmp/itch.exp" "$tmp/itch.msgs" || fail "ITCH as MoldUDP64: messages or numbers differ"
    python3 - "$tmp/itch.got" <<'PY' || fail "ITCH as MoldUDP64: packets"
import struct, sys
nxt = 1
for line in open(sys.argv[1]):
    p = bytes.fromhex(line.split()[1])
    assert p[:10] == b'TESTSESS01', p[:10]
    assert len(p) <= 200 or struct.unpack('>H', p[18:20])[0] == 1, len(p)
    seq, cnt = struct.unpack('>QH', p[10:20])
    assert seq == nxt, (seq, nxt)
    nxt = seq + cnt
PY
fi

# ---- a tick file converted from a capture with a gap: the gap is a sequence jump on the wire ----
if [ -f "$MOLD" ]; then
    python3 "$UDPTOOL" payloads "$MOLD" >"$tmp/mold.pl"
    python3 "$UDPTOOL" mold "$tmp/mold.pl" >"$tmp/rtk.exp"
    "$REPLAY" convert -q "$MOLD" -o "$tmp/mold.rtk" || fail "convert $MOLD"
    recv $R "10.88.0.2:6150" "$tmp/rtk.got" --idle 0.5
    send --send udp://10.88.0.2:6150 "$tmp/mold.rtk"
    wait
    python3 "$UDPTOOL" mold "$tmp/rtk.got" >"$tmp/rtk.msgs"
    cmp -s "$tmp/rtk.exp" "$tmp/rtk.msgs" ||
        fail ".rtk as MoldUDP64: sequence numbers or messages differ from the capture's"
fi

# ---- --drop with a seed: deterministic, and the listed packets are exactly the missing ones ----
"$REPLAY" gen --messages 20000 --seed 3 -q -o "$tmp/gen.pcap" || fail "replay gen"
python3 "$UDPTOOL" payloads "$tmp/gen.pcap" | cut -d' ' -f2 >"$tmp/exp"
for run in 1 2; do
    recv $R "10.88.0.2:6200" "$tmp/drop$run" --idle 0.5
    send --send udp://10.88.0.2:6200 --drop 0.1 --seed 9 --drop-list "$tmp/list$run" "$tmp/gen.pcap"
    wait
    cp "$tmp/send.json" "$tmp/drop$run.json"
done
cmp -s "$tmp/list1" "$tmp/list2" || fail "--drop --seed 9: two runs dropped different packets"
python3 - "$tmp/exp" "$tmp/drop1" "$tmp/list1" "$tmp/drop1.json" <<'PY' || fail "--drop list"
import json, struct, sys
exp = open(sys.argv[1]).read().split()
got = [l.split()[1] for l in open(sys.argv[2])]
listed = [l.split() for l in open(sys.argv[3]) if not l.startswith('#')]
idx = set(int(l[0]) for l in listed)
assert 0 < len(idx) < len(exp), len(idx)
assert got == [p for i, p in enumerate(exp) if i not in idx], 'received != capture - listed'
d = json.load(open(sys.argv[4]))['send']
assert d['dropped'] == len(idx) and [x['index'] for x in d['drops']] == sorted(idx)
assert d['packets'] + d['dropped'] == len(exp)
for l in listed:  # each packet's MoldUDP64 sequence number and count, as listed
    seq, cnt = struct.unpack('>QH', bytes.fromhex(exp[int(l[0])])[10:20])
    assert (int(l[1]), int(l[2])) == (seq, cnt if cnt != 0xFFFF else 0), l
PY

# ---- ECONNREFUSED: nobody listens; counted in send.errors, not fatal ----
send --send udp://10.88.0.2:6300 --pps 20000 --limit 2000 "$tmp/gen.pcap"
e=$(jget "d['send']['errors']")
[ "$e" -gt 0 ] 2>/dev/null || fail "ECONNREFUSED: send.errors is $e, want > 0"

# ---- multicast: two receiver namespaces on a bridge both get every packet ----
if [ -f "$TOPS" ] && ip netns add $B 2>/dev/null && ip netns add $M1 && ip netns add $M2; then
    ip -n $B link add br$$ type bridge && ip -n $B link set br$$ up
    i=1
    for ns in $M1 $M2 $S; do
        ip link add mb$$$i type veth peer name mh$$$i
        ip link set mb$$$i netns $B && ip link set mh$$$i netns $ns
        ip -n $B link set mb$$$i master br$$ && ip -n $B link set mb$$$i up
        ip -n $ns addr add 10.89.0.$i/24 dev mh$$$i && ip -n $ns link set mh$$$i up
        ip -n $ns link set lo up
        i=$((i + 1))
    done
    cp "$tmp/tops.exp" "$tmp/exp"
    n=$(wc -l <"$tmp/exp")
    recv $M1 "0.0.0.0:6400" "$tmp/mc1" --group 239.7.7.7 --ifaddr 10.89.0.1 --count "$n" --idle 2
    recv $M2 "0.0.0.0:6400" "$tmp/mc2" --group 239.7.7.7 --ifaddr 10.89.0.2 --count "$n" --idle 2
    sleep 0.2 # IGMP joins settle on the bridge
    send --send udp://239.7.7.7:6400 --iface mh$$3 --ttl 2 "$TOPS"
    wait
    for f in mc1 mc2; do
        cut -d' ' -f2 "$tmp/$f" | cmp -s - "$tmp/exp" || fail "multicast: $f got $(wc -l <"$tmp/$f") of $n"
    done
fi

[ $failures -eq 0 ] || exit 1
echo "replay_send: ok"
