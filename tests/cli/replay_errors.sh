#!/bin/sh
# replay_errors.sh - replay's failure modes: exit codes and messages for bad inputs and usage
# Input errors exit 2 naming the file (and the byte offset where there is one) with nothing on
# stdout; a truncated last record is a warning (exit 0, input.truncated true) unless --strict;
# usage errors exit 1 naming the option or value.
. "$(dirname "$0")/lib/common.sh"
need_replay

# expect CODE PATTERN... -- ARGS... : runs replay ARGS, checks the exit code, that stderr matches
# every (grep -E) pattern, and for non-zero codes that stdout is empty
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
    if [ "$code" -ne 0 ] && [ -s "$tmp/out" ]; then
        fail "replay $*: exit $code but stdout is not empty (half-written report?)"
    fi
    return 0
}

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(json.dumps(d))' "$1" "$2"; }

"$REPLAY" gen --messages 3000 --seed 3 -q -o "$tmp/ok.pcap" || { echo "gen failed"; exit 1; }
size=$(wc -c <"$tmp/ok.pcap")

# ---- input errors: exit 2, the file named -------------------------------------------------------
expect 2 "$tmp/missing.pcap" "No such file" -- --json "$tmp/missing.pcap"
mkdir "$tmp/adir"
expect 2 "$tmp/adir" "directory" -- --json "$tmp/adir"
: >"$tmp/empty.pcap"
expect 2 "$tmp/empty.pcap" "empty" -- --json "$tmp/empty.pcap"
printf 'this is not market data, just text\n' >"$tmp/text.bin"
expect 2 "$tmp/text.bin" "unrecognised format" -- --json "$tmp/text.bin"
expect 2 "$tmp/text.bin" -- --json --format pcap "$tmp/text.bin"
head -c 10 "$tmp/ok.pcap" >"$tmp/shorthdr.pcap"
expect 2 "$tmp/shorthdr.pcap" "truncated pcap file header" -- --json "$tmp/shorthdr.pcap"
# an error in a later file stops the run: exit 2 and no report for the files before it
expect 2 "$tmp/missing.pcap" -- --json "$tmp/ok.pcap" "$tmp/missing.pcap"

# corrupted zstd: a damaged block, a damaged frame header, a stream cut inside its frame
zstd -q -c "$tmp/ok.pcap" >"$tmp/ok.pcap.zst"
python3 - "$tmp/ok.pcap.zst" "$tmp" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
mid = bytearray(d)
for i in range(len(d) // 2, len(d) // 2 + 64): mid[i] ^= 0x5a
open(sys.argv[2] + '/block.zst', 'wb').write(mid)
hdr = bytearray(d); hdr[4] ^= 0xff  # frame header descriptor
open(sys.argv[2] + '/header.zst', 'wb').write(hdr)
open(sys.argv[2] + '/cut.zst', 'wb').write(d[:len(d) // 2])
PY
expect 2 "$tmp/block.zst" -- --json "$tmp/block.zst"
expect 2 "$tmp/header.zst" "zstd" -- --json "$tmp/header.zst"
expect 2 "$tmp/cut.zst" "zstd" -- --json "$tmp/cut.zst"

# a length running past the end: a pcap record longer than the snapshot length, and a
# MoldUDP64 message length running past its packet (with the framing forced)
python3 - "$tmp/ok.pcap" "$tmp" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
cap = bytearray(d); struct.pack_into('<II', cap, 24 + 8, 0x7fffffff, 0x7fffffff)
open(sys.argv[2] + '/caplen.pcap', 'wb').write(cap)
mold = bytearray(d); struct.pack_into('!H', mold, 24 + 16 + 42 + 20, 4000)
open(sys.argv[2] + '/moldlen.pcap', 'wb').write(mold)
PY
expect 2 "$tmp/caplen.pcap" "offset 24" "length" -- --json "$tmp/caplen.pcap"
# a damaged packet (a MoldUDP64 length past the end of a whole datagram): a decode error and a
# warning naming packet and offset, the rest of the capture replays, no false gap; --strict: exit 2
python3 - "$tmp/ok.pcap" "$tmp" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off = 24
for _ in range(4):  # the 5th packet
    off += 16 + struct.unpack_from('<I', d, off + 8)[0]
print(off, file=open(sys.argv[2] + '/dmg.off', 'w'))
struct.pack_into('!H', d, off + 16 + 42 + 20, 4000)
open(sys.argv[2] + '/damaged.pcap', 'wb').write(d)
PY
off=$(cat "$tmp/dmg.off")
expect 0 "warning: .*damaged.pcap: packet 5 at byte offset $off: MoldUDP64 message 1 of .*length 4000" \
    "1 damaged packet in all" -- --json -q "$tmp/damaged.pcap"
[ "$(jget "$tmp/out" input.decode_errors)" = "1" ] || fail "damaged.pcap: decode_errors not 1"
[ "$(jget "$tmp/out" feed.gaps)" = "0" ] || fail "damaged.pcap: a false gap"
msgs=$(jget "$tmp/out" feed.messages)
[ "$msgs" -gt 2900 ] && [ "$msgs" -lt 3000 ] || fail "damaged.pcap: $msgs messages"
expect 2 "damaged.pcap: packet 5 at byte offset $off: .*runs past the end.*--strict" -- \
    --json --strict "$tmp/damaged.pcap"
expect 2 "moldlen.pcap: packet 1 at byte offset 24: .*runs past the end" -- \
    --json --strict --framing moldudp64 "$tmp/moldlen.pcap"
expect 0 "warning: .*damaged" -- info "$tmp/damaged.pcap"
expect 2 "damaged.pcap: packet 5" -- info --strict "$tmp/damaged.pcap"

# formats replay knows of but does not read: named, with what to do
gzip -c "$tmp/ok.pcap" >"$tmp/ok.pcap.gz"
expect 2 "ok.pcap.gz: gzip-compressed input at byte offset 0: decompress it first, e.g. .zcat .*ok.pcap.gz \\| replay -" -- \
    --json "$tmp/ok.pcap.gz"
# DBN is read (tests/cli/replay_dbn.sh); metadata cut short is an input error with its offset
printf 'DBN\003\140\001\000\000GLBX.MDP3 and the rest of its metadata' >"$tmp/x.dbn"
expect 2 "x.dbn: DBN metadata cut short at byte offset 46: its length says 352 bytes" -- \
    info "$tmp/x.dbn"

# ---- truncated last record: a warning, exit 0 with truncated true; --strict: exit 2 ------------
head -c $((size - 100)) "$tmp/ok.pcap" >"$tmp/trunc.pcap"
expect 0 "warning: .*trunc.pcap.*truncated" -- --json -q "$tmp/trunc.pcap"
[ "$(jget "$tmp/out" input.truncated)" = "true" ] || fail "trunc.pcap: input.truncated not true"
msgs=$(jget "$tmp/out" feed.messages)
[ "$msgs" -gt 0 ] && [ "$msgs" -lt 3000 ] || fail "trunc.pcap: $msgs messages"
expect 2 "trunc.pcap" "truncated" "--strict" -- --json --strict "$tmp/trunc.pcap"
# looped: the warning once, not once per pass; every pass counts the intact messages
expect 0 "warning: .*trunc.pcap.*truncated" -- --json -q --loop 3 "$tmp/trunc.pcap"
n=$(grep -c "truncated" "$tmp/err")
[ "$n" -eq 1 ] || fail "trunc.pcap --loop 3: the truncation warned $n times"
[ "$(jget "$tmp/out" feed.messages)" -eq $((msgs * 3)) ] || fail "trunc.pcap --loop 3: messages"
zstd -q -c "$tmp/trunc.pcap" >"$tmp/trunc.pcap.zst"
expect 0 "warning: .*truncated" -- --json -q "$tmp/trunc.pcap.zst"
[ "$(jget "$tmp/out" input.truncated)" = "true" ] || fail "trunc.pcap.zst: not truncated"
expect 2 "trunc.pcap.zst" "truncated" -- --json --strict "$tmp/trunc.pcap.zst"
# an ITCH file: cut inside a message, and a length field running past the end
python3 - "$tmp" <<'PY'
import struct, sys
msg = lambda t, n: struct.pack('!H', n) + bytes([ord(t)]) + bytes(n - 1)
good = msg('S', 12) + msg('A', 36) + msg('D', 19)
open(sys.argv[1] + '/cut.itch', 'wb').write(good + msg('E', 31)[:20])
open(sys.argv[1] + '/long.itch', 'wb').write(good + struct.pack('!H', 5000) + b'X' * 22)
PY
for f in cut.itch long.itch; do
    expect 0 "warning: .*$f.*truncated" -- --json -q --format itch "$tmp/$f"
    [ "$(jget "$tmp/out" input.truncated)" = "true" ] || fail "$f: input.truncated not true"
    [ "$(jget "$tmp/out" feed.messages)" = "3" ] || fail "$f: want the 3 complete messages"
    expect 2 "$f" "truncated" -- --json --strict --format itch "$tmp/$f"
done

# ---- usage errors: exit 1 naming the problem ---------------------------------------------------
expect 1 "unknown option '--bogus'" -- --bogus "$tmp/ok.pcap"
expect 1 "unknown option '-Z'" -- -Z "$tmp/ok.pcap"
expect 1 "missing value for '--readers'" -- "$tmp/ok.pcap" --readers
expect 1 "no input files" -- --json
expect 1 "bad --ring-size.*'1000'" -- --ring-size 1000 "$tmp/ok.pcap"
expect 1 "bad --ring-size.*'3M'" -- --ring-size 3M "$tmp/ok.pcap"
expect 1 "bad --ring-size.*'64Q'" -- --ring-size 64Q "$tmp/ok.pcap"
expect 1 "bad --readers.*'-1'" -- --readers -1 "$tmp/ok.pcap"
expect 1 "bad --readers.*'65'" -- --readers 65 "$tmp/ok.pcap"
expect 1 "bad --readers.*'two'" -- --readers two "$tmp/ok.pcap"
expect 1 "bad --reader-delay-ns.*'-5'" -- --reader-delay-ns -5 "$tmp/ok.pcap"
expect 1 "bad --resume.*'middle'" -- --resume middle "$tmp/ok.pcap"
expect 1 "bad --speed.*'fast'" -- --speed fast "$tmp/ok.pcap"
expect 1 "bad --speed.*'0x'" -- --speed 0x "$tmp/ok.pcap"
expect 1 "bad --pps.*'0'" -- --pps 0 "$tmp/ok.pcap"
expect 1 "cannot be combined" -- --speed 2x --pps 100 "$tmp/ok.pcap"
expect 1 "bad --loop.*'-1'" -- --loop -1 "$tmp/ok.pcap"
expect 1 "bad --rt-priority.*'0'" -- --rt-priority 0 "$tmp/ok.pcap"
expect 1 "bad --rt-priority.*'100'" -- --rt-priority 100 "$tmp/ok.pcap"
expect 1 "bad --limit.*'1e3'" -- --limit 1e3 "$tmp/ok.pcap"
expect 1 "bad --format.*'csv'" -- --format csv "$tmp/ok.pcap"
expect 1 "bad --framing.*'tcp'" -- --framing tcp "$tmp/ok.pcap"
expect 1 "bad --filter 'udp port \(\(': .*syntax error" -- -F "udp port ((" "$tmp/ok.pcap"
expect 1 "bad --stats-interval.*'-1'" -- --stats-interval -1 "$tmp/ok.pcap"
expect 1 "'-'.*once" -- - -
expect 1 "--loop.*'-'" -- --loop 2 -
expect 1 "info: no input files" -- info --json
expect 1 "convert: -o OUT is required" -- convert "$tmp/ok.pcap"
expect 1 "convert: --level needs a compressed output" -- convert --level 5 "$tmp/ok.pcap" -o "$tmp/x.rtk"
[ -e "$tmp/x.rtk" ] && fail "a refused convert wrote its output"
expect 1 "-o OUT is required" -- gen --messages 100
expect 1 "too small" -- gen --messages 5 --symbols 8 -o "$tmp/g.pcap"
expect 1 "bad --symbols" -- gen --symbols 0 -o "$tmp/g.pcap"
expect 1 "unknown option '--speed'" -- gen --speed 2x -o "$tmp/g.pcap"
[ -e "$tmp/g.pcap" ] && fail "a refused gen wrote its output"

# ---- help and version tell the truth -----------------------------------------------------------
# each subcommand's --help lists exactly the options that subcommand takes (one option table)
help_has() { # subcommand ("" for replay), then options that must appear, "--", options that must not
    sub=$1
    shift
    # shellcheck disable=SC2086
    "$REPLAY" $sub --help >"$tmp/help" 2>&1 || fail "${sub:-replay} --help exit code"
    must=1
    for o in "$@"; do
        if [ "$o" = "--" ]; then must=0; continue; fi
        if [ $must -eq 1 ]; then
            grep -q -- "$o\b" "$tmp/help" || fail "${sub:-replay} --help does not mention $o"
        else
            grep -q -- "$o\b" "$tmp/help" && fail "${sub:-replay} --help mentions $o, which it refuses"
        fi
    done
}
help_has "" --format --dbn-version --framing --filter -F --strict --ring-size --readers \
    --reader-delay-ns --resume --speed --pps --loop --limit --json --stats-interval --quiet -q \
    --help --version --send --drop --seed -- --messages --symbols --gap-every --heartbeat-every \
    --output --dump --zstd --level
help_has gen --format --messages --seed --symbols --gap-every --heartbeat-every --output --json \
    --quiet --help -- --dbn-version --ring-size --readers --speed --dump --zstd --strict
help_has info --format --dbn-version --framing --filter --strict --json --dump --help -- --quiet \
    --output --ring-size --readers --messages --zstd
help_has convert --format --framing --filter --strict --json --quiet --output --zstd --level \
    --workers --frame-size --help -- --dump --ring-size --readers --speed --messages
# and what a help lists, that subcommand accepts: the option names each help prints
for sub in gen info convert; do
    "$REPLAY" $sub --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/opts"
    while read -r o; do
        "$REPLAY" $sub "$o" 2>&1 | grep -q "unknown option '$o'" && fail "$sub --help lists $o, refused"
    done <"$tmp/opts"
done
# --framing iex-tp is another name for iextp in every subcommand
"$REPLAY" -q --json --framing iex-tp "$tmp/ok.pcap" >/dev/null 2>"$tmp/err" ||
    fail "replay --framing iex-tp: $(cat "$tmp/err")"
"$REPLAY" info --json --framing iex-tp "$tmp/ok.pcap" >/dev/null 2>"$tmp/err" ||
    fail "info --framing iex-tp: $(cat "$tmp/err")"
"$REPLAY" convert -q --framing iex-tp "$tmp/ok.pcap" -o "$tmp/iex.rtk" 2>"$tmp/err" ||
    fail "convert --framing iex-tp: $(cat "$tmp/err")"
for sub in "" info convert; do
    # shellcheck disable=SC2086
    "$REPLAY" $sub --framing iex-tpx "$tmp/ok.pcap" -o "$tmp/no.rtk" 2>&1 | grep -q "bad --framing" ||
        fail "${sub:-replay} --framing iex-tpx accepted"
done
"$REPLAY" --version >"$tmp/ver" 2>&1 || fail "--version exit code"
grep -Eq '^replay .*[0-9]+\.[0-9]+\.[0-9]+$' "$tmp/ver" || fail "--version: $(cat "$tmp/ver")"
# every option the help lists is accepted (each with a valid value; -h/-V/gen options aside)
for a in "--format pcap" "--framing moldudp64" "-F udp" "--filter udp" "--strict" \
    "--ring-size 1M" "--readers 2" "--reader-delay-ns 10" "--resume newest" "--speed max" \
    "--pps 1000000" "--loop 2" "--limit 10" "--json" "--stats-interval 5" "-q" "--quiet" \
    "--rt-priority 5 --speed 1000x"; do
    # shellcheck disable=SC2086
    "$REPLAY" -q $a "$tmp/ok.pcap" >/dev/null 2>"$tmp/err" || fail "replay $a: $(cat "$tmp/err")"
done

# --rt-priority: the same counts; a refusal (no privilege, or a container without real-time
# runtime) is a warning on stderr, never an error
"$REPLAY" -q --json --rt-priority 7 --speed 1000x "$tmp/ok.pcap" >"$tmp/rt.json" 2>"$tmp/rt.err" ||
    fail "--rt-priority: $(cat "$tmp/rt.err")"
"$REPLAY" -q --json "$tmp/ok.pcap" >"$tmp/nort.json" 2>"$tmp/err" ||
    fail "replay ok.pcap: $(cat "$tmp/err")"
python3 - "$tmp/rt.json" "$tmp/nort.json" "$tmp/rt.err" "$(id -u)" <<'PY' ||
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
err = open(sys.argv[3]).read()
if a['feed'] != b['feed'] or a['ring']['published'] != b['ring']['published']:
    print('counts differ'); sys.exit(1)
if sys.argv[4] != '0' and '--rt-priority: SCHED_FIFO' not in err: print('no warning:', err); sys.exit(1)
if err and 'warning: --rt-priority: SCHED_FIFO priority 7 refused' not in err: print(err); sys.exit(1)
PY
    fail "--rt-priority changed the run"
nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && nobody test -x "$REPLAY" &&
    cp "$tmp/ok.pcap" /tmp/rp_rt_$$.pcap && chmod 644 /tmp/rp_rt_$$.pcap; then
    # without the privilege: the warning, and the run completes
    nobody "$REPLAY" -q --rt-priority 7 /tmp/rp_rt_$$.pcap >/dev/null 2>"$tmp/rt.err" ||
        fail "--rt-priority as nobody failed"
    grep -q "warning: --rt-priority: SCHED_FIFO priority 7 refused" "$tmp/rt.err" ||
        fail "--rt-priority as nobody: no warning: $(cat "$tmp/rt.err")"
    rm -f /tmp/rp_rt_$$.pcap
fi

# ---- real captures (skipped without ../shared/data) ---------------------------------------------
omi=$SHARED_DATA/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap
tops=$SHARED_DATA/iex_TOPS16.pcapng
if [ -f "$omi" ] && [ -f "$tops" ]; then
    # a filter that matches nothing warns; the OMI capture is VLAN-tagged
    expect 0 "warning: .*Packets.pcap: filter 'udp port 26477' matched none of its 2 packets.*vlan and udp port 26477" \
        -- --json -q -F 'udp port 26477' "$omi"
    [ "$(jget "$tmp/out" feed.messages)" = "0" ] || fail "omi -F 'udp port 26477': messages"
    expect 0 -- --json -q -F 'vlan and udp port 26477' "$omi"
    [ "$(jget "$tmp/out" feed.messages)" = "39" ] || fail "omi -F 'vlan and ...': not 39 messages"
    # info lists the UDP flows and the time range (README.md: 2 packets, 39 messages; TOPS 13022
    # packets, 57674 messages over 400 s)
    expect 0 -- info --json "$omi" "$tops"
    python3 - "$tmp/out" <<'PY' || fail "info --json flows/time of the real captures"
import json, sys
omi, tops = json.load(open(sys.argv[1]))["files"]
f = omi["flows"]
assert len(f) == 1 and f[0]["dport"] == 26477 and f[0]["dst"] == "233.54.12.111:26477", f
assert f[0]["packets"] == 2 and f[0]["messages"] == 39 and f[0]["framing"] == "moldudp64", f
t = tops["flows"]
assert len(t) == 1 and t[0]["dst"] == "224.67.0.199:16642" and t[0]["dport"] == 16642, t
assert t[0]["packets"] == 13022 and t[0]["messages"] == 57674 and t[0]["framing"] == "iextp", t
for x in (omi, tops):
    assert x["min_ts_ns"] <= x["first_ts_ns"] <= x["max_ts_ns"], x
    assert x["span_ns"] == x["max_ts_ns"] - x["min_ts_ns"] and x["backward_steps"] >= 0, x
assert 400e9 < tops["span_ns"] < 401e9, tops["span_ns"]
assert "by_protocol" not in tops
PY
    expect 0 -- info "$omi"
    grep -q "206.200.127.138:49653 > 233.54.12.111:26477  moldudp64, 2 packets, 39 messages" \
        "$tmp/out" || fail "info: the OMI flow is not listed: $(cat "$tmp/out")"
    # both protocols in one run: by_type adds them, by_protocol keeps them apart
    expect 0 -- --json -q --readers 0 "$tops" "$tmp/ok.pcap"
    python3 - "$tmp/out" <<'PY' || fail "by_protocol of a mixed run"
import json, sys
f = json.load(open(sys.argv[1]))["feed"]
p = f["by_protocol"]
assert p["iextp"]["P"] == 7802 and f["by_type"]["P"] == 7802 + p["itch"].get("P", 0), p
PY
else
    echo "skip the real-capture checks: $SHARED_DATA lacks them"
fi

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
