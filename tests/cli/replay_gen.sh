#!/bin/sh
# replay_gen.sh - `replay gen` then `replay`: the counts gen reports are the counts replay finds
# Also: an independent Python decoder agrees with gen (checksums, ITCH sizes, order references,
# books that never lock or cross),
# the same seed gives the same bytes, the bundled data/ samples regenerate byte for byte and
# replay with their documented counts, pacing/loop/limit keep the counts, JSON stays valid for odd
# file names, and a failed gen leaves nothing behind.
. "$(dirname "$0")/lib/common.sh"
need_replay

# compare GEN_JSON REPLAY_JSON [extra python assertions]: gen's counts == replay's counts
compare() {
    python3 - "$1" "$2" <<'PY'
import json, sys
g = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
pairs = [('packets', r['input']['packets']), ('messages', r['feed']['messages']),
         ('heartbeats', r['feed']['heartbeats']), ('gaps', r['feed']['gaps']),
         ('missing', r['feed']['missing']), ('by_type', r['feed']['by_type']),
         ('bytes', r['input']['bytes'])]
bad = ['%s: gen %s, replay %s' % (k, g[k], v) for k, v in pairs if g[k] != v]
if r['input']['format'] != 'pcap' or r['input']['framing'] != 'moldudp64':
    bad.append('format/framing %s/%s' % (r['input']['format'], r['input']['framing']))
if r['feed']['backward'] != 0 or r['input']['truncated'] or r['input']['decode_errors']:
    bad.append('backward/truncated/decode_errors not zero')
if not r['verified'] or r['ring']['published'] != g['messages']:
    bad.append('ring published %s, verified %s' % (r['ring']['published'], r['verified']))
if bad: print('\n'.join(bad)); sys.exit(1)
PY
}

# decode PCAP: an independent decoder written from the specs; prints gen-style counts as JSON
decode() {
    python3 - "$1" <<'PY'
import json, struct, sys
SIZES = dict(S=12, R=39, A=36, F=40, E=31, C=36, X=23, D=19, U=35, P=44)
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
d = open(sys.argv[1], 'rb').read()
assert struct.unpack('<I', d[:4])[0] == 0xa1b23c4d, 'not a little-endian ns pcap'
assert struct.unpack('<I', d[20:24])[0] == 1, 'not Ethernet'
off, live, by, pk, hb, gaps, missing, exp, msgs = 24, {}, {}, 0, 0, 0, 0, None, 0
where = {}  # ref -> (locate, side, price): a new order never meets or crosses the other side
def rest(ref, loc, side, px):
    other = [p for l, s, p in where.values() if l == loc and s != side]
    if other:
        assert (px < min(other)) if side == 'B' else (px > max(other)), \
            'locate %d: %s at %d crosses the other side (%d..%d)' % (loc, side, px, min(other),
                                                                      max(other))
    where[ref] = (loc, side, px)
last_ts = last_itch = 0
while off < len(d):
    sec, ns, cap, ln = struct.unpack('<IIII', d[off:off + 16]); off += 16
    assert cap == ln and off + cap <= len(d)
    f = d[off:off + cap]; off += cap; pk += 1
    ts = sec * 10**9 + ns; assert ts >= last_ts, 'capture time goes back'; last_ts = ts
    assert f[12:14] == b'\x08\x00'
    ip = f[14:34]; assert csum(ip) == 0xffff, 'IPv4 checksum'
    assert struct.unpack('!H', ip[2:4])[0] == len(f) - 14
    udp = f[34:]; ul = struct.unpack('!H', udp[4:6])[0]; assert ul == len(udp)
    assert csum(ip[12:20] + struct.pack('!BBH', 0, 17, ul) + udp) == 0xffff, 'UDP checksum'
    mold = udp[8:]; assert len(mold) <= 1400
    seq, cnt = struct.unpack('!QH', mold[10:20])
    if exp is not None:
        assert seq >= exp
        if seq > exp: gaps += 1; missing += seq - exp
    if cnt in (0, 0xffff):
        hb += 1; assert len(mold) == 20; exp = seq; continue
    p = 20
    for i in range(cnt):
        l = struct.unpack('!H', mold[p:p + 2])[0]; m = mold[p + 2:p + 2 + l]; p += 2 + l
        t = chr(m[0]); assert SIZES[t] == l, 'size of %s: %d' % (t, l)
        by[t] = by.get(t, 0) + 1; msgs += 1
        it = int.from_bytes(m[5:11], 'big'); assert it > last_itch; last_itch = it
        if t in 'AF':
            ref, sh = struct.unpack('!Q', m[11:19])[0], struct.unpack('!I', m[20:24])[0]
            assert ref not in live and sh > 0; live[ref] = sh
            rest(ref, struct.unpack('!H', m[1:3])[0], chr(m[19]), struct.unpack('!I', m[32:36])[0])
        elif t in 'EC':
            ref, sh = struct.unpack('!QI', m[11:23]); assert 0 < sh <= live[ref]; live[ref] -= sh
            if live[ref] == 0: del live[ref]
        elif t == 'X':
            ref, sh = struct.unpack('!QI', m[11:23]); assert 0 < sh < live[ref]; live[ref] -= sh
        elif t == 'D':
            ref = struct.unpack('!Q', m[11:19])[0]; del live[ref]
        elif t == 'U':
            old, new, sh = struct.unpack('!QQI', m[11:31])
            del live[old]; assert new not in live; live[new] = sh
            loc, side, _ = where.pop(old); rest(new, loc, side, struct.unpack('!I', m[31:35])[0])
        if t in 'ECXD' and ref not in live: where.pop(ref)
    assert p == len(mold), 'MoldUDP64 count and lengths disagree'
    exp = seq + cnt
assert mold[18:20] == b'\xff\xff', 'no end-of-session packet at the end'
print(json.dumps(dict(packets=pk, messages=msgs, heartbeats=hb, gaps=gaps, missing=missing,
                      by_type=by, bytes=len(d)), sort_keys=True))
PY
}

# same_counts A B : the gen-style keys of two JSON files agree
same_counts() {
    python3 - "$1" "$2" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
keys = ['packets', 'messages', 'heartbeats', 'gaps', 'missing', 'by_type', 'bytes']
bad = ['%s: %s vs %s' % (k, a[k], b[k]) for k in keys if a[k] != b[k]]
if bad: print('\n'.join(bad)); sys.exit(1)
PY
}

gen_and_replay() { # label, gen options...
    label=$1
    shift
    if ! "$REPLAY" gen "$@" -f -o "$tmp/g.pcap" --json -q >"$tmp/gen.json" 2>"$tmp/err"; then
        fail "$label: gen failed: $(cat "$tmp/err")"
        return
    fi
    if ! "$REPLAY" -q --json "$tmp/g.pcap" >"$tmp/replay.json" 2>"$tmp/err"; then
        fail "$label: replay failed: $(cat "$tmp/err")"
        return
    fi
    out=$(compare "$tmp/gen.json" "$tmp/replay.json") || fail "$label: $out"
    if ! decode "$tmp/g.pcap" >"$tmp/decoded.json" 2>"$tmp/err"; then
        fail "$label: independent decoder rejects the file: $(tail -n 1 "$tmp/err")"
        return
    fi
    out=$(same_counts "$tmp/gen.json" "$tmp/decoded.json") || fail "$label: decoder: $out"
}

gen_and_replay "plain" --messages 5000 --seed 7
gen_and_replay "gaps" --messages 5000 --seed 8 --gap-every 10
gen_and_replay "heartbeats" --messages 3000 --seed 9 --heartbeat-every 5
gen_and_replay "gaps+heartbeats, 40 symbols" --messages 8000 --seed 10 --symbols 40 \
    --gap-every 7 --heartbeat-every 3
gen_and_replay "minimum size" --messages 7 --symbols 1 --seed 11
"$REPLAY" gen --messages 5000 --seed 8 --gap-every 10 -q --json -o "$tmp/x.pcap" >"$tmp/x.json"
python3 -c 'import json,sys; g=json.load(open(sys.argv[1])); sys.exit(0 if g["gaps"] > 0 and g["missing"] >= g["gaps"] else 1)' \
    "$tmp/x.json" || fail "gap injection reported no gaps"

# determinism: same seed -> same bytes; another seed -> other bytes
"$REPLAY" gen --messages 4000 --seed 42 --gap-every 9 -q -o "$tmp/d1.pcap" &&
    "$REPLAY" gen --messages 4000 --seed 42 --gap-every 9 -q -o "$tmp/d2.pcap" &&
    "$REPLAY" gen --messages 4000 --seed 43 --gap-every 9 -q -o "$tmp/d3.pcap" ||
    fail "gen failed"
cmp -s "$tmp/d1.pcap" "$tmp/d2.pcap" || fail "same seed gave different files"
cmp -s "$tmp/d1.pcap" "$tmp/d3.pcap" && fail "different seeds gave the same file"

# the bundled samples: regenerate with the README's commands, replay with the README's counts
if [ -f data/README.md ] && [ -f data/sample.pcap ]; then
    grep -o '`build/release/replay gen [^`]*`' data/README.md | tr -d '`' |
        sed "s#^build/release/replay#$REPLAY#; s#-o data/#-o $tmp/#" >"$tmp/cmds"
    [ "$(wc -l <"$tmp/cmds")" -eq 2 ] || fail "data/README.md: expected 2 gen commands"
    while read -r cmd; do
        # shellcheck disable=SC2086
        $cmd -q || fail "README command failed: $cmd"
    done <"$tmp/cmds"
    for f in sample.pcap sample-gaps.pcap; do
        cmp -s "data/$f" "$tmp/$f" || fail "data/$f differs from what its README command writes"
    done
    check_sample() { # file packets messages heartbeats gaps missing by_type
        "$REPLAY" -q --json "data/$1" >"$tmp/s.json" || { fail "replay data/$1"; return; }
        python3 - "$tmp/s.json" "$@" <<'PY' || fail "data/$2: counts differ from data/README.md"
import json, sys
r = json.load(open(sys.argv[1]))
f, pk, msgs, hb, gaps, missing, by = sys.argv[2:]
got = (r['input']['packets'], r['feed']['messages'], r['feed']['heartbeats'], r['feed']['gaps'],
       r['feed']['missing'], r['feed']['by_type'])
want = (int(pk), int(msgs), int(hb), int(gaps), int(missing),
        {k: int(v) for k, v in (kv.split(':') for kv in by.split())})
if got != want or not r['verified']: print('got', got, 'want', want); sys.exit(1)
PY
    }
    check_sample sample.pcap 2610 30000 1 0 0 \
        "A:10467 C:904 D:7256 E:3001 F:1486 P:1538 R:8 S:6 U:2986 X:2348"
    check_sample sample-gaps.pcap 960 10000 46 18 100 \
        "A:3501 C:327 D:2382 E:952 F:509 P:525 R:12 S:6 U:999 X:787"
    # several files: counts add up, streams do not leak gaps into each other
    "$REPLAY" -q --json data/sample.pcap data/sample-gaps.pcap >"$tmp/two.json" ||
        fail "replay of two files"
    python3 - "$tmp/two.json" <<'PY' || fail "two files: counts do not add up"
import json, sys
r = json.load(open(sys.argv[1]))
got = (r['input']['packets'], r['feed']['messages'], r['feed']['heartbeats'], r['feed']['gaps'],
       r['feed']['missing'], r['feed']['by_type']['R'], len(r['input']['files']), r['verified'])
want = (2610 + 960, 40000, 47, 18, 100, 20, 2, True)
if got != want: print('got', got, 'want', want); sys.exit(1)
PY
else
    fail "data/README.md or data/sample.pcap missing (run from the repository root)"
fi

# pacing, loop and limit change timing, never counts (at max speed the producer takes a packet's
# messages as one batch: a limit inside a packet must still stop at exactly that many)
"$REPLAY" gen --messages 300 --seed 5 -q -o "$tmp/p.pcap" || fail "gen p.pcap"
for opts in "--speed realtime" "--speed 4x" "--speed 0.5x --limit 50" "--pps 20000" \
    "--loop 3" "--loop 2 --speed 8x" "--loop 3 --pps 50000" "--limit 7" "--limit 1" \
    "--loop 2 --limit 413"; do
    # shellcheck disable=SC2086
    "$REPLAY" -q --json $opts "$tmp/p.pcap" >"$tmp/p.json" 2>"$tmp/err" ||
        { fail "replay $opts: $(cat "$tmp/err")"; continue; }
    python3 - "$tmp/p.json" "$opts" <<'PY' || fail "replay $opts: wrong counts"
import json, sys
r = json.load(open(sys.argv[1])); opts = sys.argv[2].split()
loops = int(opts[opts.index('--loop') + 1]) if '--loop' in opts else 1
limit = int(opts[opts.index('--limit') + 1]) if '--limit' in opts else None
want = limit if limit else 300 * loops
ok = (r['feed']['messages'] == want and r['ring']['published'] == want and r['verified']
      and r['run']['limited'] == (limit is not None)
      and r['run']['passes'] == (limit // 300 if limit else loops)
      and all(x['read'] == want for x in r['readers']))
if not ok: print(json.dumps(r['feed']), json.dumps(r['run'])); sys.exit(1)
PY
done

# --loop reads small inputs once and replays them from memory: a compressed input and several
# inputs (one of them ITCH) give every pass's messages, in order, with the file names reported
zstd -q -f "$tmp/p.pcap" -o "$tmp/p.pcap.zst" || fail "zstd p.pcap"
"$REPLAY" convert --to itch -q "$tmp/p.pcap" -o "$tmp/p.itch" 2>"$tmp/err" ||
    fail "convert --to itch: $(cat "$tmp/err")"
"$REPLAY" -q --json --loop 3 "$tmp/p.pcap.zst" "$tmp/p.itch" >"$tmp/l.json" 2>"$tmp/err" ||
    fail "replay --loop 3 of .pcap.zst and .itch: $(cat "$tmp/err")"
"$REPLAY" -q --json "$tmp/p.itch" >"$tmp/i.json" 2>"$tmp/err" || fail "replay p.itch: $(cat "$tmp/err")"
python3 - "$tmp/l.json" "$tmp/i.json" <<'PY' || fail "--loop from memory: wrong counts"
import json, sys
r, i = (json.load(open(f)) for f in sys.argv[1:3])
want = 3 * (300 + i['feed']['messages'])
ok = (r['feed']['messages'] == want and r['ring']['published'] == want and r['verified']
      and r['run']['passes'] == 3 and len(r['input']['files']) == 2
      and all(x['read'] == want for x in r['readers']))
if not ok: print(json.dumps(r['feed']), json.dumps(r['run']), r['input']['files']); sys.exit(1)
PY

# odd file names still give valid JSON, and the name round-trips when it is valid UTF-8
odd="$tmp/we\"ird \\ na	me ü.pcap"
cp "$tmp/p.pcap" "$odd"
"$REPLAY" -q --json "$odd" >"$tmp/o.json" || fail "replay of an oddly named file"
python3 - "$tmp/o.json" "$odd" <<'PY' || fail "JSON of an odd file name"
import json, sys
r = json.loads(open(sys.argv[1], 'rb').read().decode('utf-8'))
assert r['input']['files'] == [sys.argv[2]], r['input']['files']
PY
bad_utf8=$(printf '%s/bad\377\376name.pcap' "$tmp")
cp "$tmp/p.pcap" "$bad_utf8"
"$REPLAY" -q --json "$bad_utf8" >"$tmp/b.json" || fail "replay of a non-UTF-8 file name"
python3 -c 'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))' \
    "$tmp/b.json" || fail "JSON of a non-UTF-8 file name is not valid UTF-8 JSON"

# a gen that cannot write leaves nothing behind and says where
"$REPLAY" gen --messages 100 -o "$tmp/no/such/dir/x.pcap" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "gen to a missing directory: exit $rc, want 2"
grep -q "no/such/dir/x.pcap" "$tmp/err" || fail "gen error does not name the file: $(cat "$tmp/err")"
echo "previous" >"$tmp/keep.pcap"
"$REPLAY" gen --messages 3 --symbols 8 -o "$tmp/keep.pcap" 2>/dev/null
[ "$(cat "$tmp/keep.pcap")" = "previous" ] || fail "a refused gen touched its output"
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left behind"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
