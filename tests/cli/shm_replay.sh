#!/bin/sh
# shm_replay.sh - `replay --shm NAME` on the real captures with ringcat and ringstat reading the
# shared ring from other processes: the counts equal those of a plain replay, ringcat reads what
# was published (read + lost == published) and ends at close, ringcat prints the very messages
# `replay info --dump` lists, the ring is kept without --unlink and gone with it, and an existing
# name needs --shm-replace; --shm-dir puts the ring file elsewhere. Skips (77) when the shared
# data is absent.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_shared_data
. "$(dirname "$0")/lib/shm.sh"

# check_counts REPLAY_JSON SHM_JSON RINGCAT_JSON RINGSTAT_JSON NAME: the counts agree
check_counts() {
    python3 - "$@" <<'PY'
import json, sys
plain, shm, cat, stat = (json.load(open(p)) for p in sys.argv[1:5])
name = sys.argv[5]
bad = []
pub = shm['ring']['published']
if shm['feed']['messages'] != plain['feed']['messages']:
    bad.append('feed.messages %d != plain %d' % (shm['feed']['messages'], plain['feed']['messages']))
if pub != plain['ring']['published']:
    bad.append('published %d != plain %d' % (pub, plain['ring']['published']))
if shm['ring']['stamp_bytes'] != 0:
    bad.append('a shared ring has a record prefix')
if plain['ring']['published_bytes'] - shm['ring']['published_bytes'] != 8 * pub:
    bad.append('published_bytes do not differ by the 8-byte stamps')
s = shm.get('shm', {})
if s.get('name') != name or s.get('closed') is not True or s.get('kept') is not True:
    bad.append('shm key: %r' % s)
if shm['verified'] is not True:
    bad.append('the in-process reader was not verified')
if len(shm['readers']) != 2:
    bad.append('%d in-process readers, want 2' % len(shm['readers']))
for r in shm['readers']:
    if r['read'] + r['lost'] != pub:
        bad.append('in-process reader: read + lost != published')
if cat['read'] + cat['lost'] != pub or cat['lost'] != 0:
    bad.append('ringcat read %d lost %d, published %d' % (cat['read'], cat['lost'], pub))
if cat['closed'] is not True or cat['writer_dead'] is not False:
    bad.append('ringcat closed/writer_dead: %r/%r' % (cat['closed'], cat['writer_dead']))
if set(cat) != {'read', 'lost', 'laps', 'closed', 'writer_dead', 'latency_ns'}:
    bad.append('ringcat keys: %s' % sorted(cat))
if set(cat['latency_ns']) != {'p50', 'p99', 'p999', 'max'} or cat['latency_ns']['max'] < cat['latency_ns']['p50']:
    bad.append('ringcat latency: %r' % cat['latency_ns'])
rings = stat['rings']
if len(rings) != 1 or rings[0]['name'] != name:
    bad.append('ringstat rings: %r' % [r.get('name') for r in rings])
else:
    r = rings[0]
    if r['published'] != pub or r['capacity'] != shm['ring']['capacity']:
        bad.append('ringstat published %d capacity %d' % (r['published'], r['capacity']))
    if r['closed'] is not True or r['writer']['alive'] is not False:
        bad.append('ringstat: closed %r, writer alive %r' % (r['closed'], r['writer']['alive']))
    if r['overwritten'] != shm['ring']['overwritten'] or r['used_bytes'] <= 0:
        bad.append('ringstat overwritten %d used %d' % (r['overwritten'], r['used_bytes']))
if bad:
    print('\n'.join(bad))
    sys.exit(1)
PY
}

for f in omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap \
    nasdaq_12302019_SNIPPET.NASDAQ_ITCH50 iex_TOPS16.pcapng; do
    in=$SHARED_DATA/$f
    [ -f "$in" ] || { fail "$f is missing from $SHARED_DATA"; continue; }
    name=$(shm_name "$(echo "$f" | tr -c 'A-Za-z0-9\n' _)")
    "$REPLAY" --json -q "$in" >"$tmp/plain.json" || fail "$f: plain replay failed"
    # the reader starts first and waits for the ring to appear
    "$RINGCAT" --json --from oldest --wait 30 "$name" >"$tmp/cat.json" 2>"$tmp/cat.err" &
    cat_pid=$!
    "$REPLAY" --shm "$name" --readers 2 --json -q "$in" >"$tmp/shm.json" 2>"$tmp/shm.err" ||
        fail "$f: replay --shm failed: $(cat "$tmp/shm.err")"
    wait $cat_pid
    rc=$?
    [ $rc -eq 0 ] || fail "$f: ringcat exit $rc: $(cat "$tmp/cat.err")"
    [ -f "/dev/shm/$name" ] || fail "$f: the ring was not kept without --unlink"
    "$RINGSTAT" --once --json --interval 0.05 "$name" >"$tmp/stat.json" 2>"$tmp/stat.err" ||
        fail "$f: ringstat failed: $(cat "$tmp/stat.err")"
    check_counts "$tmp/plain.json" "$tmp/shm.json" "$tmp/cat.json" "$tmp/stat.json" "$name" ||
        fail "$f: counts differ (above)"
    # a kept ring is read again from another process: the same messages as `replay info --dump`
    "$RINGCAT" --wait 0 "$name" >"$tmp/lines" 2>"$tmp/cat.err" || fail "$f: ringcat (print) failed"
    "$REPLAY" info --dump "$in" | grep '^D ' | awk '{print $5, $6, $7}' >"$tmp/want"
    awk '{print $5, $6, $7}' "$tmp/lines" >"$tmp/got"
    cmp -s "$tmp/want" "$tmp/got" || fail "$f: ringcat's messages differ from replay info --dump"
    case $f in # ITCH messages are decoded: the letter of the type and the time of day
    *ITCH50 | *itch50*)
        grep -q ' itch A [0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{9\}$' "$tmp/lines" ||
            fail "$f: ringcat does not decode the ITCH messages"
        ;;
    esac
    # the name exists: refused without --shm-replace (exit 1, naming the option)
    "$REPLAY" --shm "$name" -q "$in" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] || fail "$f: replay --shm on an existing name: exit $rc, want 1"
    grep -q -- '--shm-replace' "$tmp/err" || fail "$f: the error does not name --shm-replace"
    "$REPLAY" --shm "$name" --shm-replace --unlink --json -q "$in" >"$tmp/shm2.json" ||
        fail "$f: replay --shm-replace --unlink failed"
    [ -e "/dev/shm/$name" ] && fail "$f: the ring is still there after --unlink"
    [ "$(jget "$tmp/shm2.json" shm.kept)" = false ] || fail "$f: shm.kept is not false after --unlink"
done

# --shm-dir: the ring file in another directory, ringcat attaching by its path; --unlink removes
# it there; --shm-dir alone is a usage error
mkdir "$tmp/rings"
in=$SHARED_DATA/omi_nasdaq_totalview_itch50_moldudp64_Multiple.Packets.pcap
name=$(shm_name dir)
"$RINGCAT" --json --from oldest --wait 30 "$tmp/rings/$name" >"$tmp/catd.json" 2>"$tmp/catd.err" &
cat_pid=$!
"$REPLAY" --shm "$name" --shm-dir "$tmp/rings" --json -q "$in" >"$tmp/shmd.json" ||
    fail "replay --shm-dir failed"
wait $cat_pid || fail "ringcat on $tmp/rings/$name exited $?: $(cat "$tmp/catd.err")"
[ "$(jget "$tmp/shmd.json" shm.path)" = "$tmp/rings/$name" ] || fail "--shm-dir: shm.path"
[ "$(jget "$tmp/catd.json" read)" = "$(jget "$tmp/shmd.json" ring.published)" ] ||
    fail "--shm-dir: ringcat read $(jget "$tmp/catd.json" read) of $(jget "$tmp/shmd.json" ring.published)"
[ -f "$tmp/rings/$name" ] && [ ! -e "/dev/shm/$name" ] || fail "--shm-dir: the ring file is not in DIR"
"$REPLAY" --shm "$name" --shm-dir "$tmp/rings" --shm-replace --unlink -q "$in" ||
    fail "replay --shm-dir --shm-replace --unlink failed"
[ -e "$tmp/rings/$name" ] && fail "--shm-dir --unlink left the ring file"
"$REPLAY" --shm-dir "$tmp/rings" -q "$in" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "need --shm NAME" "$tmp/err" || fail "--shm-dir without --shm"
"$REPLAY" --shm "$name" --shm-dir "$tmp/none" -q "$in" >"$tmp/out" 2>"$tmp/err"
[ $? -ne 0 ] && grep -q "no such directory $tmp/none" "$tmp/err" && [ ! -s "$tmp/out" ] ||
    fail "--shm-dir of a missing directory: $(cat "$tmp/err")"
exit $((failures > 0))
