#!/bin/sh
# run-feed.sh - the feed handler benchmark: ringfeed beside a bare recvmmsg loop
# (bench_recvloop, the same socket settings), and the wire-to-reader latency of ringfeed's
# shared ring. Sender and receiver are network namespaces joined by a veth pair (root needed;
# without it the benchmark says so and is skipped).
# usage: BUILD=build/release sh bench/run-feed.sh      (make bench runs it from the repo root)
# env:   FEED_MSGS (messages of the generated capture, default 2000000), FEED_REPS (default 3),
#        FEED_PPS (messages per second of the latency run, default 200000)
# Method.
# - Throughput with zero loss: the receiver starts with a 1 GiB socket buffer and is stopped
#   (SIGSTOP); replay --send puts the whole capture into its buffer; SIGCONT lets it drain the
#   buffer as fast as it can. msgs/s = messages / (last datagram - first datagram) as the
#   receiver timed them; a run with kernel drops is reported as such, not as a rate. ringfeed
#   writes into a shared ring (--shm, no in-process readers), once with --write messages and
#   once with --write packets; then with --write messages into an in-process ring (--readers 0,
#   transparent huge pages where the kernel gives them) and into a shared ring on huge pages (a
#   private hugetlbfs mount as --shm-dir, 40 huge pages reserved for the run and given back;
#   skipped when the kernel cannot reserve them). The best of FEED_REPS runs is kept.
# - Latency: replay --send paces the capture at FEED_PPS messages/s; ringcat (another process)
#   reads ringfeed's shared ring; each record's ts_ns is its packet's kernel receive time, so
#   ringcat's latency_ns (CLOCK_REALTIME at delivery - ts_ns) is wire to reader.
# Output: a table and GOAL lines; CSV in $BENCH_RESULTS (default $BUILD/bench-results):
#   feed-throughput.csv  impl,msgs_per_sec,kernel_drops
#   feed-latency.csv     percentile,latency_ns
set -u
BUILD=${BUILD:-build/release}
MSGS=${FEED_MSGS:-2000000}
REPS=${FEED_REPS:-3}
PPS=${FEED_PPS:-200000}
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}
REPLAY=${REPLAY:-$BUILD/replay}
LOOP=$BUILD/bench/bench_recvloop
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
echo "== feed handler benchmark (bench/run-feed.sh; docs/ringfeed.md explains it) =="
for b in "$REPLAY" "$BUILD/ringfeed" "$BUILD/ringcat" "$LOOP"; do
    [ -x "$b" ] || { echo "run-feed: $b is missing (make bench builds it)" >&2; exit 1; }
done
if [ "$(id -u)" != 0 ] || ! ip netns add "rfb$$probe" 2>/dev/null; then
    echo "run-feed: skipped (needs root and ip netns)"
    exit 0
fi
ip netns del "rfb$$probe"
NS=rfb$$
tmp=$(mktemp -d)
cleanup() {
    for n in s r; do
        ip netns pids "$NS$n" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$NS$n" 2>/dev/null
    done
    mountpoint -q "$tmp/huge" 2>/dev/null && umount "$tmp/huge"
    [ -n "${old_nr:-}" ] && echo "$old_nr" >/proc/sys/vm/nr_hugepages
    rm -rf "$tmp"
    rm -f /dev/shm/"${NS}"_*
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "${NS}s" && ip netns add "${NS}r" &&
    ip link add "${NS}a" netns "${NS}s" type veth peer name "${NS}b" netns "${NS}r" &&
    ip -n "${NS}s" addr add 10.78.0.1/24 dev "${NS}a" && ip -n "${NS}r" addr add 10.78.0.2/24 dev "${NS}b" &&
    ip -n "${NS}s" link set "${NS}a" up && ip -n "${NS}r" link set "${NS}b" up &&
    ip -n "${NS}r" link set lo up || { echo "run-feed: cannot make the namespaces" >&2; exit 1; }
"$REPLAY" gen --messages "$MSGS" -q -o "$tmp/gen.pcap" || exit 1
mkdir -p "$RESULTS"
echo "impl,msgs_per_sec,kernel_drops" >"$RESULTS/feed-throughput.csv"

# drain NAME CMD...: one stopped-then-drained run; prints "msgs_per_sec kernel_drops"
drain() {
    port=$((port + 1))
    ip netns exec "${NS}r" "$@" "$port" >"$tmp/out.json" 2>"$tmp/err" &
    pid=$!
    i=0
    until ip netns exec "${NS}r" ss -uln | grep -q ":$port "; do
        i=$((i + 1))
        [ $i -gt 200 ] && break
        sleep 0.05
    done
    kill -STOP $pid
    ip netns exec "${NS}s" "$REPLAY" --send "udp://10.78.0.2:$port" -q "$tmp/gen.pcap" 2>/dev/null
    sleep 0.2
    kill -CONT $pid
    wait $pid
    $PY - "$tmp/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if 'network' in d:
    print(d['throughput']['msgs_per_sec'], d['network']['kernel_drops'])
else:
    print(d['msgs_per_sec'], d['kernel_drops'])
PY
}
port=9000
best() { # impl CMD...: the best of REPS runs with zero drops
    impl=$1
    shift
    b=0
    r=0
    while [ $r -lt "$REPS" ]; do
        set -- "$@"
        line=$(drain "$@")
        rate=${line% *}
        drops=${line#* }
        echo "$impl,$rate,$drops" >>"$RESULTS/feed-throughput.csv"
        [ "$drops" = 0 ] && b=$($PY -c "print(max($b, $rate))")
        r=$((r + 1))
    done
    echo "$b"
}
loop=$(best recvloop sh -c "exec $LOOP --rcvbuf 1073741824 --idle-exit 0.5 10.78.0.2 \"\$0\"")
msgs=$(best ringfeed-messages sh -c "exec $BUILD/ringfeed --shm ${NS}_m --shm-replace --unlink --rcvbuf 1G --idle-exit 0.5 --json udp://10.78.0.2:\$0")
pkts=$(best ringfeed-packets sh -c "exec $BUILD/ringfeed --shm ${NS}_p --shm-replace --unlink --write packets --rcvbuf 1G --idle-exit 0.5 --json udp://10.78.0.2:\$0")
inproc=$(best ringfeed-inprocess sh -c "exec $BUILD/ringfeed --readers 0 --rcvbuf 1G --idle-exit 0.5 --json udp://10.78.0.2:\$0")
# the shared ring on huge pages: a private hugetlbfs mount, with pages reserved for the run only
# (the 64 MiB ring and its header regions, each on its own 2 MiB page)
huge=0
old_nr=$(cat /proc/sys/vm/nr_hugepages)
want=$((old_nr + 40))
mkdir "$tmp/huge"
if echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null &&
    [ "$(cat /proc/sys/vm/nr_hugepages)" -ge "$want" ] && mount -t hugetlbfs none "$tmp/huge"; then
    huge=$(best ringfeed-hugetlbfs sh -c "exec $BUILD/ringfeed --shm ${NS}_h --shm-dir $tmp/huge --shm-replace --unlink --rcvbuf 1G --idle-exit 0.5 --json udp://10.78.0.2:\$0")
    umount "$tmp/huge"
else
    echo "run-feed: no hugetlbfs run (cannot reserve 40 huge pages or mount hugetlbfs)"
fi
echo "$old_nr" >/proc/sys/vm/nr_hugepages
old_nr=

# latency: paced sender, ringcat in another process
port=$((port + 1))
ip netns exec "${NS}r" "$BUILD/ringfeed" --shm "${NS}_l" --shm-replace --unlink --rcvbuf 64M \
    --idle-exit 0.5 --json "udp://10.78.0.2:$port" >"$tmp/lat-rf.json" 2>/dev/null &
rf=$!
sleep 0.3
"$BUILD/ringcat" --wait 10 --json "${NS}_l" >"$tmp/lat-cat.json" 2>/dev/null &
cat=$!
sleep 0.2
ip netns exec "${NS}s" "$REPLAY" --send "udp://10.78.0.2:$port" --pps "$PPS" -q "$tmp/gen.pcap" 2>/dev/null
wait $rf
wait $cat
$PY - "$tmp/lat-cat.json" "$tmp/lat-rf.json" "$loop" "$msgs" "$pkts" "$RESULTS/feed-latency.csv" "$MSGS" "$PPS" "$inproc" "$huge" <<'PY'
import json, sys
cat, rf = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
loop, msgs, pkts = (float(x) for x in sys.argv[3:6])
inproc, huge = float(sys.argv[9]), float(sys.argv[10])
rows = [('messages, /dev/shm', msgs), ('packets, /dev/shm', pkts), ('messages, in-process', inproc)]
if huge:
    rows.append(('messages, hugetlbfs', huge))
lat = cat['latency_ns']
with open(sys.argv[6], 'w') as f:
    f.write('percentile,latency_ns\n')
    for k in ('p50', 'p99', 'p999', 'max'):
        f.write('%s,%d\n' % (k[1:] if k != 'max' else 'max', lat[k]))
print('capture: %s messages (replay gen); drain test, best run with zero kernel drops' % sys.argv[7])
print('%-34s %14s %8s' % ('receiver', 'msgs/s', 'ratio'))
print('%-34s %14.0f %8s' % ('bare recvmmsg loop', loop, '1.00x'))
for name, v in rows:
    print('%-34s %14.0f %7.2fx' % ('ringfeed --write ' + name, v, v / loop if loop else 0))
print('latency at %s msgs/s, kernel receive -> ringcat (another process): p50 %.1f us, p99 %.1f us, '
      'p99.9 %.1f us, max %.1f us (%d read, %d kernel drops)' % (sys.argv[8], lat['p50'] / 1e3,
      lat['p99'] / 1e3, lat['p999'] / 1e3, lat['max'] / 1e3, cat['read'], rf['network']['kernel_drops']))
for name, v in rows:
    r = v / loop if loop else 0
    print('GOAL ringfeed --write %-20s >= 0.90x bare recvmmsg loop: %.2fx %s' % (name, r, 'met' if r >= 0.9 else 'MISSED'))
PY
