#!/bin/sh
# replay_decode.sh - decoded dumps (`replay info --dump --dump-format json|csv`): one JSON line
# per message, each parsing back, as many as `replay info` counts; one CSV header and one row per
# message of the --type; --limit, --symbol, --ts raw, --px raw; the usage errors. On generated
# captures and DBN files, and on the real files of ../shared/data when present.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_cmd python3

# check_json FILE [ARGS...] : the JSON dump has info's message count of lines, each an object
# with "msg", and every decoded message has a name (no null "msg" unless the input has
# untyped messages)
check_json() {
    f=$1
    shift
    "$REPLAY" info --dump --dump-format json "$@" "$f" >"$tmp/j" 2>"$tmp/err" ||
        { fail "$f: json dump: $(cat "$tmp/err")"; return; }
    want=$("$REPLAY" info --json "$@" "$f" | python3 -c '
import json, sys
d = json.load(sys.stdin)["files"][0]
print(d["messages"], d["untyped"])')
    got=$(python3 -c '
import json, sys
n = raw = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and "msg" in o and "seq" in o, line
    n += 1
    raw += o["msg"] is None
print(n, raw)' "$tmp/j") || { fail "$f: a line does not parse"; return; }
    set -- $want
    msgs=$1 untyped=$2
    set -- $got
    [ "$1" -eq "$msgs" ] || fail "$f: $1 JSON lines for $msgs messages"
    [ "$2" -le "$untyped" ] || fail "$f: $2 undecoded of $msgs ($untyped untyped)"
}

# check_csv FILE TYPE KEY : one header and as many rows as info's by_type[KEY]
check_csv() {
    "$REPLAY" info --dump --dump-format csv --type "$2" "$1" >"$tmp/c" 2>"$tmp/err" ||
        { fail "$1: csv dump: $(cat "$tmp/err")"; return; }
    want=$("$REPLAY" info --json "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["files"][0]["by_type"].get(sys.argv[1], 0))' "$3")
    got=$(python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert rows[0][:3] == ["msg", "stream", "seq"], rows[0]
assert all(len(r) == len(rows[0]) for r in rows), "ragged"
print(len(rows) - 1)' "$tmp/c") || { fail "$1: csv $2 does not read back"; return; }
    [ "$got" -eq "$want" ] || fail "$1: $got CSV rows of $2 for $want messages"
}

"$REPLAY" gen -q --messages 3000 --symbols 5 --seed 7 -o "$tmp/g.pcap" || fail "gen pcap"
"$REPLAY" gen -q --format dbn --messages 2000 --symbols 3 -o "$tmp/g.dbn" || fail "gen dbn"
check_json "$tmp/g.pcap"
check_csv "$tmp/g.pcap" A A
check_csv "$tmp/g.pcap" add_order A
check_json "$tmp/g.dbn"
check_csv "$tmp/g.dbn" mbo 0xa0

# filters: --limit, --symbol (every line of that symbol), raw values are integers
n=$("$REPLAY" info --dump --dump-format json --limit 25 "$tmp/g.pcap" | wc -l)
[ "$n" -eq 25 ] || fail "--limit 25 gave $n lines"
n=$("$REPLAY" info --dump --limit 25 "$tmp/g.pcap" | grep -c '^D ')
[ "$n" -eq 25 ] || fail "hex --limit 25 gave $n D lines"
sym=$("$REPLAY" info --dump --dump-format json --type R "$tmp/g.pcap" | head -1 |
    python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["symbol"])')
"$REPLAY" info --dump --dump-format json --symbol "$sym" --ts raw --px raw "$tmp/g.pcap" |
    python3 -c '
import json, sys
lines = [json.loads(l) for l in sys.stdin]
assert len(lines) > 1, len(lines)
assert all(o["symbol"] == sys.argv[1] for o in lines)
assert all(isinstance(o["timestamp"], int) for o in lines)
assert all(isinstance(o["price"], int) for o in lines if "price" in o)' "$sym" ||
    fail "--symbol $sym with raw values"

# a CSV that matches nothing is its header alone
n=$("$REPLAY" info --dump --dump-format csv --type R --symbol NO.SUCH "$tmp/g.pcap" | wc -l)
[ "$n" -eq 1 ] || fail "csv without a match: $n lines, want the header"
n=$("$REPLAY" info --dump --dump-format csv --type statistics "$tmp/g.dbn" | grep -c '^msg,stream,seq,.*,stat_flags,symbol$')
[ "$n" -eq 1 ] || fail "csv of statistics in an MBO file: no header"

# usage errors
for args in "--dump --dump-format csv" "--dump --type no_such_type" "--symbol X" \
    "--dump --dump-format xml" "--dump --ts local" "--limit 3"; do
    "$REPLAY" info $args "$tmp/g.pcap" >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] || fail "info $args: exit $rc, want 1"
done

if [ -d "$SHARED_DATA" ]; then
    D=$SHARED_DATA
    check_json "$D/nasdaq_12302019_SNIPPET.NASDAQ_ITCH50"
    check_csv "$D/nasdaq_12302019_SNIPPET.NASDAQ_ITCH50" A A
    check_csv "$D/nasdaq_12302019_SNIPPET.NASDAQ_ITCH50" order_replace U
    check_json "$D/iex_TOPS16.pcapng"
    check_csv "$D/iex_TOPS16.pcapng" quote_update Q
    check_json "$D/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap"
    for f in "$D"/*.dbn "$D"/*.dbn.zst; do check_json "$f"; done
    check_csv "$D"/nautilus_futures_mbp-1_*.dbn.zst mbp-1 0x01
else
    echo "replay_decode: shared data not found at $SHARED_DATA: real files skipped"
fi
[ $failures -eq 0 ] || exit 1
echo "ok"
