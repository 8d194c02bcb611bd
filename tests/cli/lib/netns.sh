# netns.sh - helpers of the ringfeed network tests (ringfeed_*.sh), sourced after common.sh:
# hosts are network namespaces joined by veth pairs (or a bridge), all named after this run's
# pid and removed at exit.
#   RINGFEED, RINGCAT     the built tools (the script exits 1 when they are missing)
#   need_netns            skip unless root with a working `ip netns`
#   NS                    the prefix of this run's namespaces ("rf<pid>"); ns NAME -> "$NS$NAME"
#   in_ns NAME CMD...     runs CMD in namespace NAME
#   add_ns NAME           a namespace with its loopback up
#   link_ns A B I         a veth pair A <-> B: A is 10.77.I.1/24, B 10.77.I.2/24
#   wait_bound NAME PORT  waits until a UDP socket is bound to PORT in namespace NAME
#   PY                    a python3 that starts quickly (the system one when there is one)
#   pycheck FILE... <<PY  runs the python on stdin with J[0], J[1]... the JSON FILEs; each line
#                         it prints is a failure (counted)
RINGFEED=$ROOT/$BUILD/ringfeed
RINGCAT=$ROOT/$BUILD/ringcat
[ -x "$RINGFEED" ] && [ -x "$RINGCAT" ] || { echo "build ringfeed and ringcat first ($BUILD)"; exit 1; }
NS="rf$$"
SHM_PREFIX="rftest_$$_"
netns_cleanup() {
    for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS"); do
        ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$n" 2>/dev/null
    done
    ip link del "${NS}br" 2>/dev/null
    rm -rf "$tmp"
    rm -f /dev/shm/"$SHM_PREFIX"*
}
trap netns_cleanup EXIT
trap "exit 143" INT TERM
need_netns() {
    [ "$(id -u)" = 0 ] || skip "not root: the network tests need ip netns"
    need_cmd ip iproute2
    ip netns add "${NS}probe" 2>/dev/null || skip "ip netns add does not work here"
    ip netns del "${NS}probe"
}
ns() { echo "$NS$1"; }
in_ns() {
    n=$1
    shift
    ip netns exec "$NS$n" "$@"
}
add_ns() {
    ip netns add "$NS$1" && ip -n "$NS$1" link set lo up
}
link_ns() {
    ip link add "${NS}a$3" netns "$NS$1" type veth peer name "${NS}b$3" netns "$NS$2" || return 1
    ip -n "$NS$1" addr add "10.77.$3.1/24" dev "${NS}a$3"
    ip -n "$NS$2" addr add "10.77.$3.2/24" dev "${NS}b$3"
    ip -n "$NS$1" link set "${NS}a$3" up
    ip -n "$NS$2" link set "${NS}b$3" up
}
wait_bound() {
    i=0
    while [ $i -lt 100 ]; do
        in_ns "$1" ss -uln 2>/dev/null | grep -q ":$2 " && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
pycheck() {
    $PY -c 'import json, sys
J = [json.load(open(f)) for f in sys.argv[1:]]
exec(sys.stdin.read())' "$@" >"$tmp/pycheck.out" 2>&1 || echo "the check itself failed" >>"$tmp/pycheck.out"
    while IFS= read -r line; do fail "$line"; done <"$tmp/pycheck.out"
}
#   nft_drop NAME PORT RULE...   in namespace NAME, a rule of the input chain that drops UDP
#                         datagrams to PORT with messages (UDP length > 28: heartbeats and the
#                         end of session pass) matching RULE (e.g. numgen random mod 100 < 5)
#   nft_dropped NAME      the packets all of NAME's drop rules counted, one line per rule
nft_drop() {
    n=$1
    p=$2
    shift 2
    if ! in_ns "$n" nft list table ip rftest >/dev/null 2>&1; then
        in_ns "$n" nft add table ip rftest &&
            in_ns "$n" nft add chain ip rftest in '{ type filter hook input priority 0; }' ||
            return 1
    fi
    in_ns "$n" nft add rule ip rftest in udp dport "$p" udp length gt 28 "$@" counter drop
}
nft_dropped() {
    in_ns "$1" nft list chain ip rftest in | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}
