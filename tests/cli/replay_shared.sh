#!/bin/sh
# replay_shared.sh - replay the real captures of ../shared/data and compare with their README counts
# The same files zstd-compressed (one frame, several frames, an empty frame between) and read from
# stdin must give the same counts. Skips (77) when the shared data is absent.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_shared_data
need_cmd zstd "zstd CLI"

# jcheck JSON_FILE PATH=VALUE... : compares values (compact JSON with sorted keys; strings bare)
jcheck() {
    python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
for spec in sys.argv[2:]:
    path, want = spec.split('=', 1)
    v = d
    try:
        for k in path.split('.'):
            v = v[int(k)] if isinstance(v, list) else v[k]
    except (KeyError, IndexError) as e:
        bad.append('%s: missing (%s)' % (path, e)); continue
    got = v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(',', ':'))
    if got != want:
        bad.append('%s: got %s, want %s' % (path, got, want))
# every run must be internally consistent
for i, r in enumerate(d['readers']):
    if r['read'] + r['lost'] != d['ring']['published']:
        bad.append('reader %d: read + lost != published' % i)
if d['ring']['published'] + d['ring']['too_big'] != d['feed']['messages']:
    bad.append('published + too_big != feed.messages')
if d['verified'] is not True:
    bad.append('verified is not true')
if bad:
    print('\n'.join(bad))
    sys.exit(1)
PY
}

# run NAME EXPECTED... (reads the replay input from $in and $args)
run_one() {
    label=$1
    shift
    # shellcheck disable=SC2086
    "$REPLAY" -q --json $args >"$tmp/out.json" 2>"$tmp/err.txt"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$label: exit $rc: $(cat "$tmp/err.txt")"
        return
    fi
    if ! out=$(jcheck "$tmp/out.json" "$@"); then
        fail "$label:"
        echo "$out" | sed 's/^/    /'
    fi
}

TOPS=iex_TOPS16.pcapng
MOLD=omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap
ITCH=nasdaq_12302019_SNIPPET.NASDAQ_ITCH50
CME=omi_cme_mdp3_v1.9_MdIncrementalRefreshBook.pcap
EOBI=omi_eurex_eobi_t7_v6.0_ProductSummary.pcap

expect() { # the README's counts per file
    case $1 in
    $TOPS) echo 'input.format=pcap input.packets=13022 feed.messages=57674 feed.heartbeats=237
        feed.gaps=0 feed.backward=0 input.truncated=false
        feed.by_type={"A":642,"B":3,"D":10,"H":7803,"O":7801,"P":7802,"Q":27217,"S":6,"T":6390}' ;;
    $MOLD) echo 'input.format=pcap input.packets=2 feed.messages=39 feed.gaps=1
        feed.missing=4244620 feed.backward=0 input.truncated=false
        feed.by_type={"A":36,"D":1,"F":2}' ;;
    $ITCH) echo 'input.format=itch feed.messages=1000 input.truncated=false
        feed.by_type={"A":367,"C":1,"D":167,"E":28,"F":193,"I":4,"P":4,"Q":4,"S":1,"U":225,"X":6}' ;;
    $CME | $EOBI) echo 'input.format=pcap input.packets=1 input.framing=udp feed.messages=1
        feed.by_type={} input.truncated=false' ;;
    esac
}

found=0
for f in $TOPS $MOLD $ITCH $CME $EOBI; do
    src=$SHARED_DATA/$f
    if [ ! -f "$src" ]; then
        echo "note: $f not in $SHARED_DATA, not checked"
        continue
    fi
    found=$((found + 1))
    # shellcheck disable=SC2046
    set -- $(expect $f)
    args=$src
    run_one "$f" "$@" input.compressed=false
    bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["input"]["bytes"])' \
        "$tmp/out.json" 2>/dev/null || echo none)

    # one zstd frame
    zstd -q -c "$src" >"$tmp/one.zst"
    args=$tmp/one.zst
    run_one "$f.zst" "$@" input.compressed=true "input.bytes=$bytes"

    # several frames, split at arbitrary byte offsets (inside records), with an empty frame
    size=$(wc -c <"$src")
    a=$((size / 3 + 7))
    b=$((size * 2 / 3 + 1))
    head -c "$a" "$src" | zstd -q -c >"$tmp/multi.zst"
    printf '' | zstd -q -c >>"$tmp/multi.zst"
    head -c "$b" "$src" | tail -c +$((a + 1)) | zstd -q -c >>"$tmp/multi.zst"
    tail -c +$((b + 1)) "$src" | zstd -q -c >>"$tmp/multi.zst"
    args=$tmp/multi.zst
    run_one "$f (3 zstd frames + an empty one)" "$@" input.compressed=true "input.bytes=$bytes"

    # stdin, plain and compressed
    args=-
    run_one "$f on stdin" "$@" <"$src"
    run_one "$f.zst on stdin" "$@" input.compressed=true <"$tmp/multi.zst"
done
if [ $found -eq 0 ]; then
    echo "none of the expected files is in $SHARED_DATA"
    exit 77
fi
[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok: $found shared files, plain, zstd (1 and 4 frames) and stdin"
