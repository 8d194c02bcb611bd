#!/bin/sh
# replay_to_itch.sh - `replay convert --to itch`: a Nasdaq binary ITCH 5.0 file from the ITCH
# messages of a generated capture, a tick file of it, an ITCH file and a real MoldUDP64 capture;
# replaying the ITCH file gives the capture's message counts, an independent reader finds the same
# messages in the same order; inputs that carry no ITCH (DBN, IEX-TP) are refused and leave no file.
. "$(dirname "$0")/lib/common.sh"
need_replay

feed() { # JSON FILE -> "messages by_type"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["feed"]
print(d["messages"], sorted(d["by_type"].items()))' "$1"
}

# same_messages PCAP ITCH: the ITCH file holds exactly the decoded messages of the capture, in
# order (read independently: u16 big-endian length + message; the capture through info --dump)
same_messages() {
    "$REPLAY" info --dump "$1" >"$tmp/dump" || { fail "info --dump $1"; return; }
    python3 - "$tmp/dump" "$2" <<'PY' || fail "$2: messages differ from $1"
import struct, sys
want = [l.split()[-1] for l in open(sys.argv[1]) if not l.startswith('M ')]
d = open(sys.argv[2], 'rb').read(); off = 0; got = []
while off < len(d):
    n = struct.unpack('!H', d[off:off + 2])[0]; got.append(d[off + 2:off + 2 + n].hex()); off += 2 + n
assert off == len(d), 'trailing bytes'
if got != want: print(len(got), len(want)); sys.exit(1)
PY
}

"$REPLAY" gen -q --messages 20000 --seed 4 --symbols 10 --gap-every 25 --heartbeat-every 9 \
    -o "$tmp/g.pcap" || fail "gen"
"$REPLAY" -q --json "$tmp/g.pcap" >"$tmp/g.json" || fail "replay g.pcap"
"$REPLAY" convert -q --to itch "$tmp/g.pcap" -o "$tmp/g.itch" || fail "convert --to itch"
"$REPLAY" -q --json "$tmp/g.itch" >"$tmp/i.json" || fail "replay g.itch"
[ "$(feed "$tmp/g.json")" = "$(feed "$tmp/i.json")" ] ||
    fail "gen -> itch: counts differ: $(feed "$tmp/g.json") vs $(feed "$tmp/i.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
sys.exit(0 if d["input"]["format"] == "itch" and d["feed"]["gaps"] == 0 and d["verified"] else 1)' \
    "$tmp/i.json" || fail "g.itch is not read as a gap-free ITCH file"
same_messages "$tmp/g.pcap" "$tmp/g.itch"

# through a tick file, and ITCH to ITCH: the same bytes
"$REPLAY" convert -q "$tmp/g.pcap" -o "$tmp/g.rtk.zst" || fail "convert to rtk"
"$REPLAY" convert -q --to itch "$tmp/g.rtk.zst" -o "$tmp/r.itch" || fail "rtk --to itch"
cmp -s "$tmp/g.itch" "$tmp/r.itch" || fail "pcap and its tick file give different ITCH files"
"$REPLAY" convert -q --to itch "$tmp/g.itch" -o "$tmp/i2.itch" || fail "itch --to itch"
cmp -s "$tmp/g.itch" "$tmp/i2.itch" || fail "ITCH -> ITCH is not the identity"
"$REPLAY" convert --json -q --to itch "$tmp/g.pcap" -o "$tmp/g.itch" -f >"$tmp/c.json" ||
    fail "convert --json --to itch"
python3 -c 'import json,os,sys; d=json.load(open(sys.argv[1]))
sys.exit(0 if d["to"] == "itch" and d["size"]["output"] == os.path.getsize(sys.argv[2]) else 1)' \
    "$tmp/c.json" "$tmp/g.itch" || fail "convert --json: to/size.output"

# a real MoldUDP64 capture, when the shared data is there
mold="$SHARED_DATA/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap"
if [ -f "$mold" ]; then
    "$REPLAY" convert -q --to itch "$mold" -o "$tmp/m.itch" || fail "convert --to itch $mold"
    same_messages "$mold" "$tmp/m.itch"
else
    echo "note: $mold not found: the real capture is skipped"
fi

# refusals: no ITCH in the input, a compressed output; nothing is left behind
"$REPLAY" gen -q --format dbn --messages 200 -o "$tmp/g.dbn" || fail "gen dbn"
expect_refused() { # what, args...
    what=$1
    shift
    "$REPLAY" convert -q "$@" >/dev/null 2>"$tmp/err"
    rc=$?
    [ "$rc" -ne 0 ] || fail "$what: accepted"
    grep -q "$what" "$tmp/err" || fail "$what: message: $(cat "$tmp/err")"
}
expect_refused "not ITCH 5.0" --to itch "$tmp/g.dbn" -o "$tmp/x.itch"
iex="$SHARED_DATA/iex_TOPS16.pcapng"
[ -f "$iex" ] && expect_refused "IEX-TP" --to itch "$iex" -o "$tmp/x.itch"
expect_refused "not ITCH 5.0" --to itch "$tmp/g.pcap" --framing udp -o "$tmp/x.itch"
expect_refused "plain file" --to itch "$tmp/g.pcap" -o "$tmp/x.itch.zst"
expect_refused "bad --to" --to csv "$tmp/g.pcap" -o "$tmp/x.itch"
ls "$tmp"/x.itch* >/dev/null 2>&1 && fail "a refused conversion left a file"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo ok
