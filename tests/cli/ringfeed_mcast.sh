#!/bin/sh
# ringfeed_mcast.sh - multicast fan-out: one sender and three receiver namespaces on a bridge;
# replay --send sends to a group once, and each ringfeed (two joined to the group, one by
# source-specific multicast) receives every message, with replay's counts. A receiver whose
# source filter names another host receives nothing.
. "$(dirname "$0")/lib/common.sh"
need_replay
. "$(dirname "$0")/lib/netns.sh"
need_netns
add_ns s || fail "making the namespaces"
br=${NS}br
in_ns s ip link add "$br" type bridge mcast_snooping 0 &&
    in_ns s ip addr add 10.77.9.1/24 dev "$br" && in_ns s ip link set "$br" up || fail "bridge"
for i in 1 2 3 4; do
    add_ns "r$i" || fail "namespace r$i"
    ip link add "${NS}p$i" netns "$(ns s)" type veth peer name "${NS}q$i" netns "$(ns "r$i")" ||
        fail "veth $i"
    in_ns s ip link set "${NS}p$i" master "$br" up
    in_ns "r$i" ip addr add "10.77.9.$((i + 1))/24" dev "${NS}q$i"
    in_ns "r$i" ip link set "${NS}q$i" up
done
grp=239.77.0.1
port=8001
"$REPLAY" gen --messages 100000 --heartbeat-every 100 -q -o "$tmp/gen.pcap" || fail "replay gen"
"$REPLAY" --json "$tmp/gen.pcap" >"$tmp/rp.json" 2>/dev/null || fail "replay --json"
pids=""
for i in 1 2 3 4; do
    case $i in
    1 | 2) ep="udp://$grp:$port" ;;
    3) ep="udp://10.77.9.1@$grp:$port" ;;
    4) ep="udp://10.77.9.99@$grp:$port" ;; # another source: nothing arrives
    esac
    idle=""
    [ $i -lt 4 ] && idle="--idle-exit 0.5"
    ip netns exec "$(ns "r$i")" "$RINGFEED" $idle --json --rcvbuf 256M --iface "${NS}q$i" "$ep" \
        >"$tmp/rf$i.json" 2>"$tmp/rf$i.err" &
    pids="$pids $!"
    wait_bound "r$i" $port || fail "ringfeed $i did not bind"
done
last=$!
in_ns s "$REPLAY" --send "udp://$grp:$port" --iface "$br" --ttl 2 -q "$tmp/gen.pcap" \
    2>"$tmp/send.err" || fail "replay --send: $(cat "$tmp/send.err")"
sleep 1
kill -TERM $last
for p in $pids; do wait "$p" || fail "a ringfeed exited $?"; done
pycheck "$tmp/rp.json" "$tmp/rf1.json" "$tmp/rf2.json" "$tmp/rf3.json" "$tmp/rf4.json" <<'PY'
rp = J[0]
for i, rf in enumerate(J[1:4], 1):
    if rf['network']['kernel_drops']: print('receiver', i, 'kernel drops')
    for k in ('messages', 'by_type', 'gaps', 'missing', 'heartbeats'):
        if rf['feed'][k] != rp['feed'][k]:
            print('receiver %d: feed.%s %s, replay says %s' % (i, k, rf['feed'][k], rp['feed'][k]))
if J[4]['network']['packets']: print('the receiver filtering another source got', J[4]['network']['packets'])
PY
exit $((failures > 0))
