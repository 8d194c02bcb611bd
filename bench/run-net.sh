#!/bin/sh
# run-net.sh - replay --send on a veth pair between two network namespaces (make bench)
#
# Sender: replay --send at --speed max beside tcpreplay --topspeed -K (PF_PACKET injection of the
# same frames) on
#   - a capture made by `replay gen` (NET_BENCH_MESSAGES, default 1 million messages), and
#   - the Nasdaq MoldUDP64 capture of ../shared/data looped NET_BENCH_LOOPS times (default 100000;
#     skipped when the shared data is absent).
# replay sends to a multicast group on the veth (no ICMP comes back; nobody listens, so only the
# sending is measured), with --readers 0 and a 1 MiB ring (its pages are faulted in once, not for
# every 2 MiB of messages as with the default 64 MiB ring); tcpreplay sends the captured frames as they are (multicast too). Each
# sender reports its own rate from its first to its last packet (replay: `send.pps`,
# `send.mbps` over UDP payload bytes; tcpreplay: its "Rated:" line, over whole frames); the
# receiving namespace's veth counter says how many frames arrived. Best of NET_BENCH_REPS runs
# (default 3). Goal: replay's pps at least tcpreplay's.
# Pacing: replay --send at realtime (a generated capture of NET_BENCH_PACE_MESSAGES, default
# 300000 messages, about 3 s at 8700 packets/s) and at 10x (the first 30 s of the IEX capture of
# ../shared/data, --duration 3, about 640 packets), measured at the
# receiver by bench_netrecv with kernel timestamps (SO_TIMESTAMPNS): |receive gap - scheduled gap|
# of consecutive packets, p50/p99/max, and the drift of the whole run against the schedule; each
# once as is and once with --rt-priority 50 (the sending thread under SCHED_FIFO).
# Goals: p99 <= 10 us, |drift| < 0.1%.
# Prints a markdown table and GOAL lines (met / MISSED), writes them to $BUILD/bench-net.md and a
# CSV to $BENCH_RESULTS/net.csv (default $BUILD/bench-results):
#   run,input,sender,packets,pps,mbps,delivered,p50_ns,p99_ns,max_ns,drift
# Needs root, `ip netns` and tcpreplay (skipped otherwise). Not a test: numbers depend on the
# machine and its load.
set -u
: "${BUILD:=build/release}"
: "${REPLAY:=$(pwd)/$BUILD/replay}"
: "${NET_BENCH_MESSAGES:=1000000}"
: "${NET_BENCH_PACE_MESSAGES:=300000}"
: "${NET_BENCH_LOOPS:=100000}"
: "${NET_BENCH_REPS:=3}"
: "${SHARED_DATA:=$(pwd)/../shared/data}"
RECV=$(pwd)/$BUILD/bench/bench_netrecv
UDPTOOL=$(pwd)/tests/cli/lib/udptool.py
DATA=$BUILD/bench-data
OUT=$BUILD/bench-net.md
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results}
[ "$(id -u)" -eq 0 ] || { echo "run-net: skipped (needs root for network namespaces)"; exit 0; }
ip netns list >/dev/null 2>&1 || { echo "run-net: skipped (ip netns unavailable)"; exit 0; }
for t in "$REPLAY" "$RECV"; do
    [ -x "$t" ] || { echo "run-net: $t not built (make bench builds it)"; exit 1; }
done
command -v tcpreplay >/dev/null 2>&1 || { echo "run-net: skipped (tcpreplay not installed)"; exit 0; }
mkdir -p "$DATA" "$RESULTS" || exit 1

S=rnS$$ R=rnR$$ VS=ns$$ VR=nr$$
cleanup() { ip netns del $S 2>/dev/null; ip netns del $R 2>/dev/null; }
trap cleanup EXIT INT TERM
ip netns add $S && ip netns add $R || exit 1
ip link add $VS type veth peer name $VR && ip link set $VS netns $S && ip link set $VR netns $R || exit 1
ip -n $S addr add 10.90.0.1/24 dev $VS && ip -n $R addr add 10.90.0.2/24 dev $VR
for ns in $S $R; do ip -n $ns link set lo up; done
ip -n $S link set $VS up && ip -n $R link set $VR up

gen() { # gen N FILE
    [ -s "$2" ] || "$REPLAY" gen --messages "$1" --seed 7 --symbols 64 -q -o "$2" || exit 1
}
big=$DATA/net-gen-$NET_BENCH_MESSAGES.pcap
pace=$DATA/net-gen-$NET_BENCH_PACE_MESSAGES.pcap
gen "$NET_BENCH_MESSAGES" "$big"
gen "$NET_BENCH_PACE_MESSAGES" "$pace"
MOLD=$SHARED_DATA/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap
rx() { ip -n $R -s link show $VR | awk '/RX:/ { getline; print $2; exit }'; }
CSV=$RESULTS/net.csv
echo "run,input,sender,packets,pps,mbps,delivered,p50_ns,p99_ns,max_ns,drift" >"$CSV"
: >"$DATA/net-rows.txt"

# sender_run NAME FILE LOOPS : best-of-reps pps of replay and tcpreplay; rows into net-rows.txt
sender_run() {
    name=$1 file=$2 loops=$3
    for who in replay tcpreplay; do
        best=0 bestm=0 bestn=0 bestd=0
        r=0
        while [ $r -lt "$NET_BENCH_REPS" ]; do
            r0=$(rx)
            if [ $who = replay ]; then
                line=$(ip netns exec $S "$REPLAY" -q --json --readers 0 --ring-size 1M --loop "$loops" \
                    --send udp://239.9.9.9:26477 --iface $VS "$file" | python3 -c \
                    'import json,sys; s=json.load(sys.stdin)["send"]; print(s["packets"], s["pps"], s["mbps"])')
            else
                line=$(ip netns exec $S tcpreplay -q --topspeed -K --loop="$loops" -i $VS "$file" 2>&1 |
                    awk '/Actual:/ { n = $2 } /Rated:/ { gsub(",", ""); print n, $6, $4 }')
            fi
            d=$(($(rx) - r0))
            set -- $line
            if awk -v a="${2:-0}" -v b="$best" 'BEGIN { exit !(a > b) }'; then
                bestn=${1:-0} best=${2:-0} bestm=${3:-0} bestd=$d
            fi
            r=$((r + 1))
        done
        echo "$name $who $bestn $best $bestm $bestd" >>"$DATA/net-rows.txt"
        echo "sender,$name,$who,$bestn,$best,$bestm,$bestd,,,," >>"$CSV"
    done
}
sender_run gen-$NET_BENCH_MESSAGES "$big" 1
[ -f "$MOLD" ] && sender_run nasdaq-x$NET_BENCH_LOOPS "$MOLD" "$NET_BENCH_LOOPS"

# pace_run NAME FILE SPEED(1, 10) [REPLAY ARGS] : bench_netrecv's numbers and replay's own timing
# error
pace_run() {
    name=$1 file=$2 sp=$3
    shift 3
    python3 "$UDPTOOL" times "$file" >"$DATA/net-sched.txt"
    ip netns exec $R "$RECV" 0.0.0.0 5600 --group 239.9.9.10 --ifaddr 10.90.0.2 \
        --schedule "$DATA/net-sched.txt" --speed "$sp" --idle 2 >"$DATA/net-recv.txt" &
    rp=$!
    i=0
    while ! grep -q ready "$DATA/net-recv.txt" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    spd=realtime
    [ "$sp" = 1 ] || spd=${sp}x
    own=$(ip netns exec $S "$REPLAY" -q --json --readers 0 --speed $spd "$@" \
        --send udp://239.9.9.10:5600 --iface $VS "$file" | python3 -c \
        'import json,sys; t=json.load(sys.stdin)["send"]["timing_error_ns"]; print("%d/%d/%d" % (t["p50"], t["p99"], t["max"]))')
    wait $rp
    got=$(tail -n 1 "$DATA/net-recv.txt")
    echo "$name $spd $got own=$own" >>"$DATA/net-rows.txt"
    v() { echo "$got" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
    echo "pacing,$name,replay-$spd,$(v packets),$(v pps),$(v mbps),$(v packets),$(v gap_err_p50_ns),$(v gap_err_p99_ns),$(v gap_err_max_ns),$(v drift)" >>"$CSV"
}
pace_run gen-$NET_BENCH_PACE_MESSAGES "$pace" 1
TOPS=$SHARED_DATA/iex_TOPS16.pcapng # its first 30 s of capture time (about 640 packets) at 10x
[ -f "$TOPS" ] && pace_run iex-30s "$TOPS" 10 --duration 3
# the same with the sender's thread under SCHED_FIFO (--rt-priority)
pace_run gen-$NET_BENCH_PACE_MESSAGES-rt "$pace" 1 --rt-priority 50
[ -f "$TOPS" ] && pace_run iex-30s-rt "$TOPS" 10 --duration 3 --rt-priority 50

{
    echo "## replay --send on a veth pair ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
    echo "| input | sender | packets | pps | Mbps | frames delivered |"
    echo "|---|---|---|---|---|---|"
    awk 'NF == 6 { printf "| %s | %s | %s | %.0f | %.1f | %s |\n", $1, $2, $3, $4, $5, $6 }' "$DATA/net-rows.txt"
    echo
    echo "| pacing | speed | packets | gap error p50 / p99 / max (us) | drift | replay's own error p50 / p99 / max (us) |"
    echo "|---|---|---|---|---|---|"
    awk '$2 ~ /x$|realtime/ {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        split(v["own"], o, "/")
        printf "| %s | %s | %s | %.1f / %.1f / %.1f | %.4f%% | %.1f / %.1f / %.1f |\n", $1, $2, v["packets"],
            v["gap_err_p50_ns"] / 1e3, v["gap_err_p99_ns"] / 1e3, v["gap_err_max_ns"] / 1e3, v["drift"] * 100,
            o[1] / 1e3, o[2] / 1e3, o[3] / 1e3 }' "$DATA/net-rows.txt"
    echo
    awk 'NF == 6 { pps[$1 " " $2] = $4; ins[$1] = 1 }
        END { for (i in ins) { a = pps[i " replay"]; b = pps[i " tcpreplay"]
            printf "GOAL sender %-18s replay pps >= tcpreplay pps: %.0f vs %.0f = %.2fx %s\n", i, a, b,
                (b > 0 ? a / b : 0), (a >= b ? "met" : "MISSED") } }' "$DATA/net-rows.txt"
    awk '$2 ~ /x$|realtime/ {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        d = v["drift"] < 0 ? -v["drift"] : v["drift"]
        printf "GOAL pacing %-8s %-18s p99 gap error <= 10 us: %.1f us %s\n", $2, $1, v["gap_err_p99_ns"] / 1e3,
            v["gap_err_p99_ns"] <= 10000 ? "met" : "MISSED"
        printf "GOAL pacing %-8s %-18s |drift| < 0.1%%: %.4f%% %s\n", $2, $1, d * 100, d < 0.001 ? "met" : "MISSED" }' \
        "$DATA/net-rows.txt"
} | tee "$OUT"
