#!/bin/sh
# replay_rtk.sh - native tick files end to end: convert every input kind replay reads (plain and
# .rtk.zst), check that replaying the result gives the source's feed counts and that every message
# (stream, seq, timestamp, type, payload bytes) and every sequenced-packet mark is identical
# (`replay info --dump`); multi-input and re-conversion; info --json on each input kind; version
# refusal; truncated and corrupted .rtk / .rtk.zst files.
# The project's samples (data/) and inputs made here always run; the real captures of
# ../shared/data run when present, else the test ends with exit 77 (skip) after the rest passed.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_cmd zstd "zstd CLI"
need_cmd python3

# feed FILE.json : the feed counts that must survive a conversion, one line
feed() {
    python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d['feed']
keys = ('messages', 'by_type', 'untyped', 'heartbeats', 'gaps', 'missing', 'backward',
        'message_bytes')
print(json.dumps({k: f[k] for k in keys}, sort_keys=True))
if d['input']['truncated'] or not d['verified']:
    print('truncated or not verified')
PY
}

# replay_json OUT ARGS... : replay --json into OUT; fails the test on a non-zero exit
replay_json() {
    jout=$1
    shift
    if ! "$REPLAY" -q --json "$@" >"$jout" 2>"$tmp/err"; then
        fail "replay $*: exit $?: $(cat "$tmp/err")"
        echo '{}' >"$jout"
        return 1
    fi
}

# roundtrip LABEL SRC [SOURCE OPTIONS...] : convert SRC to .rtk and .rtk.zst; same feed counts,
# same dump; the converted file converts again to the same dump
roundtrip() {
    label=$1
    src=$2
    shift 2
    replay_json "$tmp/src.json" "$@" "$src" || return
    feed "$tmp/src.json" >"$tmp/src.feed"
    "$REPLAY" info --dump "$@" "$src" >"$tmp/src.dump" 2>"$tmp/err" ||
        { fail "$label: info --dump: $(cat "$tmp/err")"; return; }
    for ext in rtk rtk.zst; do
        out=$tmp/conv.$ext
        if ! "$REPLAY" convert -q -f --json "$@" "$src" -o "$out" >"$tmp/conv.json" 2>"$tmp/err"; then
            fail "$label: convert to .$ext: $(cat "$tmp/err")"
            continue
        fi
        python3 - "$tmp/conv.json" "$tmp/src.json" "$ext" <<'PY' || fail "$label: convert report (.$ext)"
import json, sys
c, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ('messages', 'heartbeats', 'gaps', 'missing', 'backward', 'by_type'):
    assert c['feed'][k] == s['feed'][k], (k, c['feed'][k], s['feed'][k])
assert c['compressed'] == (sys.argv[3] == 'rtk.zst')
assert c['size']['output'] > 0 and c['size']['rtk'] >= c['size']['output'] * (sys.argv[3] == 'rtk')
PY
        replay_json "$tmp/conv.json" "$out" || continue
        feed "$tmp/conv.json" >"$tmp/conv.feed"
        cmp -s "$tmp/src.feed" "$tmp/conv.feed" ||
            fail "$label: .$ext feed differs: $(cat "$tmp/src.feed") vs $(cat "$tmp/conv.feed")"
        "$REPLAY" info --dump "$out" >"$tmp/conv.dump" 2>"$tmp/err" ||
            { fail "$label: info --dump .$ext: $(cat "$tmp/err")"; continue; }
        cmp -s "$tmp/src.dump" "$tmp/conv.dump" ||
            fail "$label: .$ext messages differ: $(diff "$tmp/src.dump" "$tmp/conv.dump" | head -3)"
    done
    # a tick file converts again (rtk -> rtk.zst) to the same messages and marks
    "$REPLAY" convert -q -f "$tmp/conv.rtk" -o "$tmp/again.rtk.zst" 2>"$tmp/err" ||
        { fail "$label: re-convert: $(cat "$tmp/err")"; return; }
    "$REPLAY" info --dump "$tmp/again.rtk.zst" >"$tmp/again.dump" 2>"$tmp/err"
    cmp -s "$tmp/src.dump" "$tmp/again.dump" || fail "$label: re-converted file differs"
    checked=$((checked + 1))
}

# info_check FILE PATH=VALUE... : replay info --json FILE, then compares files.0.<path> values
info_check() {
    f=$1
    shift
    if ! "$REPLAY" info --json "$f" >"$tmp/info.json" 2>"$tmp/err"; then
        fail "info $f: $(cat "$tmp/err")"
        return
    fi
    python3 - "$tmp/info.json" "$@" <<'PY' || fail "info --json $f"
import json, sys
d = json.load(open(sys.argv[1]))['files'][0]
bad = []
for spec in sys.argv[2:]:
    path, want = spec.split('=', 1)
    v = d
    for k in path.split('.'):
        v = v[k]
    got = v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(',', ':'))
    if got != want:
        bad.append('%s: got %s, want %s' % (path, got, want))
for k in ('format', 'compressed', 'link_type', 'framing', 'packets', 'messages', 'by_type',
          'gaps', 'first_ts_ns', 'last_ts_ns', 'span_ns', 'tick_file'):
    if k not in d:
        bad.append('missing key ' + k)
if bad:
    print('\n'.join(bad))
    sys.exit(1)
PY
}

checked=0
# ---- inputs made here: the samples, a pcapng and an ITCH file with the same messages -----------
roundtrip "data/sample.pcap" data/sample.pcap
roundtrip "data/sample-gaps.pcap" data/sample-gaps.pcap
zstd -q -c data/sample-gaps.pcap >"$tmp/gaps.pcap.zst"
roundtrip "sample-gaps.pcap.zst" "$tmp/gaps.pcap.zst"
roundtrip "sample-gaps.pcap --framing udp" data/sample-gaps.pcap --framing udp

# pcapng (section header, interface with ns resolution, enhanced packets) from sample-gaps.pcap
python3 - data/sample-gaps.pcap "$tmp/gaps.pcapng" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert d[:4] == b'\x4d\x3c\xb2\xa1'  # ns, little-endian
def block(t, body):
    body += b'\0' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack('<II', t, n) + body + struct.pack('<I', n)
out = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
out += block(1, struct.pack('<HHI', 1, 0, 65535) + struct.pack('<HHB3x', 9, 1, 9) + b'\0' * 4)
at = 24
while at < len(d):
    sec, frac, cap, ln = struct.unpack_from('<IIII', d, at)
    ts = sec * 10**9 + frac
    out += block(6, struct.pack('<IIIII', 0, ts >> 32, ts & 0xFFFFFFFF, cap, ln) +
                 d[at + 16:at + 16 + cap])
    at += 16 + cap
open(sys.argv[2], 'wb').write(out)
PY
roundtrip "pcapng" "$tmp/gaps.pcapng"

# ITCH 5.0 file (u16 big-endian length + message) holding sample.pcap's messages
"$REPLAY" info --dump data/sample.pcap | python3 -c '
import sys
out = open(sys.argv[1], "wb")
for line in sys.stdin:
    f = line.split()
    if f[0] == "D":
        p = bytes.fromhex(f[6]) if len(f) > 6 else b""
        out.write(len(p).to_bytes(2, "big") + p)
' "$tmp/s.itch"
roundtrip "ITCH file" "$tmp/s.itch"

# ---- info --json on each input kind -------------------------------------------------------------
"$REPLAY" convert -q data/sample-gaps.pcap -o "$tmp/g.rtk"
"$REPLAY" convert -q data/sample-gaps.pcap -o "$tmp/g.rtk.zst"
common='messages=10000 heartbeats=46 gaps=18 missing=100 backward=0 truncated=false
    by_type={"A":3501,"C":327,"D":2382,"E":952,"F":509,"P":525,"R":12,"S":6,"U":999,"X":787}
    framing=moldudp64 marks=960 first_ts_ns=1704205800000015820 last_ts_ns=1704205800098188150'
# shellcheck disable=SC2086
{
    info_check data/sample-gaps.pcap format=pcap compressed=false link_type=1 link_name=EN10MB \
        packets=960 bytes=404548 tick_file=null $common
    info_check "$tmp/gaps.pcap.zst" format=pcap compressed=true bytes=404548 $common
    info_check "$tmp/gaps.pcapng" format=pcapng compressed=false link_type=1 $common
    info_check "$tmp/g.rtk" format=rtk compressed=false link_type=null packets=10000 \
        tick_file.version=1.1 tick_file.source_format=pcap tick_file.streams=1 $common
    info_check "$tmp/g.rtk.zst" format=rtk compressed=true packets=10000 $common
}
info_check "$tmp/s.itch" format=itch framing=none messages=30000 marks=0 link_type=null \
    first_ts_ns=34200000016521 'by_type={"A":10467,"C":904,"D":7256,"E":3001,"F":1486,"P":1538,"R":8,"S":6,"U":2986,"X":2348}'

# ---- several inputs into one file: their streams stay apart ------------------------------------
"$REPLAY" convert -q data/sample.pcap data/sample-gaps.pcap "$tmp/s.itch" -o "$tmp/multi.rtk.zst" \
    2>"$tmp/err" || fail "multi-input convert: $(cat "$tmp/err")"
replay_json "$tmp/a.json" data/sample.pcap data/sample-gaps.pcap "$tmp/s.itch"
replay_json "$tmp/b.json" "$tmp/multi.rtk.zst"
feed "$tmp/a.json" >"$tmp/a.feed"
feed "$tmp/b.json" >"$tmp/b.feed"
cmp -s "$tmp/a.feed" "$tmp/b.feed" || fail "multi-input: $(cat "$tmp/a.feed") vs $(cat "$tmp/b.feed")"
info_check "$tmp/multi.rtk.zst" messages=70000 gaps=18 heartbeats=47 tick_file.streams=3 \
    tick_file.source_format=pcap,itch
# stdin in, stdout out
"$REPLAY" convert -q - -o - <"$tmp/gaps.pcap.zst" >"$tmp/pipe.rtk" 2>"$tmp/err" ||
    fail "convert - -o -: $(cat "$tmp/err")"
"$REPLAY" info --dump - <"$tmp/pipe.rtk" >"$tmp/pipe.dump" 2>"$tmp/err" || fail "info -: $(cat "$tmp/err")"
"$REPLAY" info --dump data/sample-gaps.pcap >"$tmp/gaps.dump"
cmp -s "$tmp/pipe.dump" "$tmp/gaps.dump" || fail "stdin/stdout conversion differs"

# ---- version refusal, truncation, corruption ----------------------------------------------------
# expect CODE PATTERN... -- ARGS... : exit code, stderr patterns (grep -E), nothing on stdout if
# the code is not 0
expect() {
    code=$1
    shift
    pats=""
    while [ "$1" != "--" ]; do
        pats="$pats$1
"
        shift
    done
    shift
    "$REPLAY" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -ne "$code" ]; then
        fail "replay $*: exit $rc, want $code; stderr: $(cat "$tmp/err")"
        return
    fi
    printf '%s' "$pats" | while IFS= read -r p; do
        [ -n "$p" ] || continue
        grep -Eq -- "$p" "$tmp/err" || echo "replay $*: stderr lacks /$p/: $(cat "$tmp/err")"
    done >"$tmp/miss"
    [ -s "$tmp/miss" ] && fail "$(cat "$tmp/miss")"
    if [ "$code" -ne 0 ] && [ -s "$tmp/out" ]; then fail "replay $*: exit $code with stdout"; fi
    return 0
}
hs=$(python3 -c 'import struct,sys; print(struct.unpack_from("<I", open(sys.argv[1],"rb").read(), 12)[0])' "$tmp/g.rtk")
size=$(wc -c <"$tmp/g.rtk")
python3 - "$tmp/g.rtk" "$tmp" "$hs" <<'PY'
import struct, sys
d, t, hs = open(sys.argv[1], 'rb').read(), sys.argv[2], int(sys.argv[3])
v2 = bytearray(d); struct.pack_into('<H', v2, 8, 2)       # a newer major version
open(t + '/v2.rtk', 'wb').write(v2)
bad = bytearray(d); bad[hs + 8] ^= 0x40                    # first record's stream id
open(t + '/bad.rtk', 'wb').write(bad)
open(t + '/cut.rtk', 'wb').write(d[:len(d) // 2 + 5])      # inside a record
open(t + '/noend.rtk', 'wb').write(d[:-48])                # at a record boundary, no end record
PY
zstd -q -c "$tmp/v2.rtk" >"$tmp/v2.rtk.zst"
for f in v2.rtk v2.rtk.zst; do
    expect 2 "$f" "version 2\.[0-9]+ is newer than this reader" "byte offset 8" -- --json "$tmp/$f"
    expect 2 "$f" "version 2\.[0-9]+ is newer" -- info --json "$tmp/$f"
done
expect 2 "bad.rtk" "byte offset $hs\b" "record check mismatch" -- --json "$tmp/bad.rtk"
expect 2 "bad.rtk" "byte offset $hs\b" -- convert "$tmp/bad.rtk" -o "$tmp/x.rtk"
[ -e "$tmp/x.rtk" ] && fail "a failed convert left its output"
ls "$tmp"/x.rtk.tmp.* >/dev/null 2>&1 && fail "a failed convert left its temporary file"
for f in cut.rtk noend.rtk; do
    expect 0 "warning: .*$f: the last record is truncated" -- --json "$tmp/$f"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["input"]["truncated"] is True' \
        "$tmp/out" || fail "$f: input.truncated is not true"
    expect 2 "$f" "truncated after [0-9]+ bytes" "--strict" -- --strict --json "$tmp/$f"
done
# compressed: a damaged frame (zstd checksum or block error) and a cut frame
python3 - "$tmp/g.rtk.zst" "$tmp" <<'PY'
import sys
d, t = open(sys.argv[1], 'rb').read(), sys.argv[2]
bad = bytearray(d)
for i in range(len(d) // 2, len(d) // 2 + 16): bad[i] ^= 0x5a
open(t + '/bad.rtk.zst', 'wb').write(bad)
open(t + '/cut.rtk.zst', 'wb').write(d[:len(d) // 2])
PY
expect 2 "bad.rtk.zst" "offset [0-9]+" -- --json "$tmp/bad.rtk.zst"
expect 2 "bad.rtk.zst" "offset [0-9]+" -- info "$tmp/bad.rtk.zst"
expect 0 "warning: .*cut.rtk.zst: the last record is truncated" -- --json "$tmp/cut.rtk.zst"
expect 2 "cut.rtk.zst" "truncated after [0-9]+ bytes" -- --strict --json "$tmp/cut.rtk.zst"
expect 2 "cut.rtk.zst" "truncated" -- info --strict "$tmp/cut.rtk.zst"
[ "$size" -gt "$hs" ] || fail "g.rtk is too small ($size bytes)"

# ---- the real captures of ../shared/data ----------------------------------------------------------
shared=0
if [ -d "$SHARED_DATA" ]; then
    for f in iex_TOPS16.pcapng omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap \
        nasdaq_12302019_SNIPPET.NASDAQ_ITCH50 omi_cme_mdp3_v1.9_MdIncrementalRefreshBook.pcap \
        omi_eurex_eobi_t7_v6.0_ProductSummary.pcap; do
        [ -f "$SHARED_DATA/$f" ] || { echo "note: $f not in $SHARED_DATA"; continue; }
        roundtrip "$f" "$SHARED_DATA/$f"
        shared=$((shared + 1))
    done
    # a compressed capture and the IEX one's heartbeats and types, by info
    zstd -q -c "$SHARED_DATA/iex_TOPS16.pcapng" >"$tmp/tops.pcap.zst" 2>/dev/null &&
        "$REPLAY" convert -q "$tmp/tops.pcap.zst" -o "$tmp/tops.rtk.zst" &&
        info_check "$tmp/tops.rtk.zst" format=rtk messages=57674 heartbeats=237 gaps=0 \
            framing=iextp 'by_type={"A":642,"B":3,"D":10,"H":7803,"O":7801,"P":7802,"Q":27217,"S":6,"T":6390}'
fi

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
if [ $shared -eq 0 ]; then
    echo "ok: $checked local inputs; shared data not found at $SHARED_DATA: real captures skipped"
    exit 77
fi
echo "ok: $checked inputs round-tripped (plain and zstd), $shared of them from $SHARED_DATA"
