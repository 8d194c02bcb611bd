#!/bin/sh
# replay_book.sh - `replay --book`: order books built in a reader thread from the ring
# Each book is compared with an independent one (lib/refbook.py over `replay info --dump
# --dump-format json`, which decodes every ITCH field): the top of every symbol, live orders and
# the error counts, on the Nasdaq ITCH snippet (skipped with a message when absent) and on
# generated captures: at max speed and paced, beside check readers, through a tick file and an
# ITCH file, with duplicated MoldUDP64 packets (applied once, counted). Also: generated books never
# cross; feed gaps and ring overwrite loss give complete false without clearing the book; a pool
# too small fails with exit 3 naming --book-orders; --bbo is written and not overwritten without
# --force; --symbol and --book-depth shape the report; the book options need --book.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_cmd python3
REF="$ROOT/tests/cli/lib/refbook.py"

# ref OUT INPUT [info options]: the independent book of INPUT
ref() {
    out=$1
    shift
    "$REPLAY" info --dump --dump-format json --px raw "$@" | python3 "$REF" >"$out" ||
        fail "reference book of $*"
}

# book OUT INPUT [replay options]: replay --book --json
book() {
    out=$1
    shift
    "$REPLAY" --book --json -q "$@" >"$out" 2>"$tmp/err" || fail "replay --book $*: $(cat "$tmp/err")"
}

# same LABEL REF BOOK [python condition on b (the book section) and d (the report)]: the book's
# top, live orders and error counts are the reference's, and the condition holds
same() {
    python3 - "$2" "$3" "${4:-True}" <<'PY' || fail "$1"
import json, sys
r = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2])); b = d['book']
bad = []
if r['top'] != b['top']:
    diff = [k for k in set(r['top']) | set(b['top']) if r['top'].get(k) != b['top'].get(k)]
    bad.append('top differs for %s: ref %s, book %s' % (diff[0], r['top'].get(diff[0]),
                                                        b['top'].get(diff[0])))
if r['orders_live'] != b['orders_live']:
    bad.append('orders_live: ref %d, book %d' % (r['orders_live'], b['orders_live']))
for k, v in r['errors'].items():
    if b['errors'][k] != v: bad.append('errors.%s: ref %d, book %d' % (k, v, b['errors'][k]))
if sum(b['errors'].values()) != sum(r['errors'].values()):
    bad.append('errors beyond the reference: %s' % b['errors'])
if not eval(' '.join(sys.argv[3].split())): bad.append('condition failed: %s' % sys.argv[3])
if bad: print('\n'.join(bad)); sys.exit(1)
PY
}

# ---- the Nasdaq ITCH snippet (starts mid-day: unknown references are expected) ----------------
snippet="$SHARED_DATA/nasdaq_12302019_SNIPPET.NASDAQ_ITCH50"
if [ -f "$snippet" ]; then
    ref "$tmp/snip.ref" "$snippet"
    book "$tmp/snip.json" "$snippet"
    same "snippet" "$tmp/snip.ref" "$tmp/snip.json" \
        "b['complete'] and b['symbols'] == len(b['top']) > 100 and b['errors']['unknown_ref'] > 0"
else
    echo "note: $snippet not found: the Nasdaq snippet is skipped"
fi

# ---- generated captures ------------------------------------------------------------------------
"$REPLAY" gen -q --messages 40000 --symbols 12 --seed 21 --gap-every 40 --heartbeat-every 9 \
    -o "$tmp/g.pcap" || fail "gen g.pcap"
ref "$tmp/g.ref" "$tmp/g.pcap"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
sys.exit(0 if not any(r["errors"].values()) and r["orders_live"] == 0 else 1)' "$tmp/g.ref" ||
    fail "generated capture: the reference book finds errors (crossed, unknown references)"
# the session ends with 'C': top is the book just before that reset; the gaps mark it incomplete
book "$tmp/g.json" "$tmp/g.pcap"
same "generated, gaps" "$tmp/g.ref" "$tmp/g.json" \
    "not b['complete'] and b['missed'] == d['feed']['missing'] > 0 and b['orders_high_water'] > 100
     and b['symbols'] == 12 and b['pool']['capacity'] > 0 and b['arena']['high_water'] > 0
     and any(t['bid_qty'] and t['ask_qty'] for t in b['top'].values())"

# a session cut short (--limit): the live book, with depth; a generated book never crosses
"$REPLAY" gen -q --messages 30000 --symbols 5 --seed 22 -o "$tmp/h.pcap" || fail "gen h.pcap"
ref "$tmp/h.ref" "$tmp/h.pcap" --limit 20000
book "$tmp/h.json" "$tmp/h.pcap" --limit 20000 --book-depth 3
same "generated, live book, depth" "$tmp/h.ref" "$tmp/h.json" \
    "b['complete'] and b['orders_live'] > 0 and b['levels'] > 10 and all(
     len(v['bids']) == 3 and len(v['asks']) == 3
     and v['bids'][0] == dict(px=b['top'][s]['bid_px'], qty=b['top'][s]['bid_qty'],
                              orders=b['top'][s]['bid_orders'])
     and v['bids'][0]['px'] > v['bids'][1]['px'] > v['bids'][2]['px']
     and v['asks'][0]['px'] < v['asks'][1]['px'] < v['asks'][2]['px']
     and v['bids'][0]['px'] < v['asks'][0]['px'] for s, v in b['depth'].items())"

# every pacing mode, and check readers beside the book
for spec in "1 --pps 400000" "1 --speed 50x" "3 --readers 2" "2 --speed 80x --readers 1"; do
    n=${spec%% *}
    opts=${spec#* }
    # shellcheck disable=SC2086
    book "$tmp/p.json" "$tmp/h.pcap" --limit 20000 $opts
    same "$opts" "$tmp/h.ref" "$tmp/p.json" \
        "d['verified'] and [x['consumer'] for x in d['readers']] == ['book'] + ['check'] * ($n - 1)"
done

# ---- the same books through a tick file and an ITCH file ---------------------------------------
"$REPLAY" convert -q "$tmp/g.pcap" -o "$tmp/g.rtk.zst" || fail "convert to rtk"
book "$tmp/rtk.json" "$tmp/g.rtk.zst"
same "tick file" "$tmp/g.ref" "$tmp/rtk.json" \
    "b['missed'] == json.load(open('$tmp/g.json'))['book']['missed'] and not b['complete']"
"$REPLAY" convert -q --to itch "$tmp/g.pcap" -o "$tmp/g.itch" || fail "convert --to itch"
book "$tmp/itch.json" "$tmp/g.itch"
same "ITCH file (no sequence numbers: no gaps)" "$tmp/g.ref" "$tmp/itch.json" "b['complete']"

# ---- duplicated MoldUDP64 packets: applied once, counted --------------------------------------
python3 - "$tmp/h.pcap" "$tmp/dup.pcap" <<'PY' >"$tmp/dups" || fail "making duplicates"
import struct, sys
d = open(sys.argv[1], 'rb').read(); out = [d[:24]]; off = 24; k = dups = 0
while off < len(d):
    cap = struct.unpack('<I', d[off + 8:off + 12])[0]; rec = d[off:off + 16 + cap]; off += 16 + cap
    out.append(rec); k += 1
    cnt = struct.unpack('!H', rec[16 + 42 + 18:16 + 42 + 20])[0]
    if k % 7 == 0 and 0 < cnt < 0xffff: out.append(rec); dups += cnt   # sent twice
open(sys.argv[2], 'wb').write(b''.join(out)); print(dups)
PY
ref "$tmp/dup.ref" "$tmp/h.pcap"
book "$tmp/dup.json" "$tmp/dup.pcap"
same "duplicates" "$tmp/dup.ref" "$tmp/dup.json" \
    "b['duplicates'] == $(cat "$tmp/dups") > 0 and d['feed']['backward'] > 0 and b['complete']"

# ---- overwrite loss: a tiny ring and a slow book reader --------------------------------------
book "$tmp/loss.json" "$tmp/h.pcap" --ring-size 4096 --reader-delay-ns 3000
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=d["book"]; r=d["readers"][0]
sys.exit(0 if r["lost"] > 0 and not b["complete"] and b["missed"] >= r["lost"] else 1)' \
    "$tmp/loss.json" || fail "overwrite loss: the book does not say it is incomplete"

# ---- a pool too small: exit 3, naming --book-orders --------------------------------------------
"$REPLAY" --book -q --book-orders 10 "$tmp/h.pcap" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 3 ] || fail "--book-orders 10: exit $rc, want 3"
grep -q -- "--book-orders" "$tmp/err" || fail "--book-orders 10: message: $(cat "$tmp/err")"
book "$tmp/grow.json" "$tmp/h.pcap" --limit 20000 --book-orders 10 --book-on-empty grow
same "--book-on-empty grow" "$tmp/h.ref" "$tmp/grow.json" "b['grows'] > 0"
book "$tmp/malloc.json" "$tmp/h.pcap" --limit 20000 --book-alloc malloc
same "--book-alloc malloc" "$tmp/h.ref" "$tmp/malloc.json"

# ---- --bbo, --symbol ---------------------------------------------------------------------------
book "$tmp/bbo.json" "$tmp/h.pcap" --limit 20000 --bbo "$tmp/bbo.csv" --symbol MSFT
python3 - "$tmp/bbo.csv" "$tmp/bbo.json" "$tmp/h.ref" <<'PY' || fail "--bbo csv / --symbol"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
b = json.load(open(sys.argv[2]))['book']; r = json.load(open(sys.argv[3]))
assert list(b['top']) == ['MSFT'] and b['top']['MSFT'] == r['top']['MSFT'], b['top']
assert rows and all(x['symbol'] == 'MSFT' for x in rows), 'rows of other symbols'
ts = [int(x['ts']) for x in rows]; assert ts == sorted(ts), 'timestamps go back'
last = {k: int(v) for k, v in rows[-1].items() if k not in ('ts', 'symbol')}
assert last == r['top']['MSFT'], (last, r['top']['MSFT'])   # the last change is the final top
PY
sum=$(cksum <"$tmp/bbo.csv")
"$REPLAY" --book -q --bbo "$tmp/bbo.csv" "$tmp/h.pcap" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--force" "$tmp/err" || fail "--bbo over an existing file: exit $rc"
[ "$(cksum <"$tmp/bbo.csv")" = "$sum" ] || fail "--bbo without --force changed the file"
"$REPLAY" --book -q -f --bbo "$tmp/bbo.csv" --limit 20000 "$tmp/h.pcap" >/dev/null ||
    fail "--bbo --force"
[ "$(cksum <"$tmp/bbo.csv")" != "$sum" ] || fail "--bbo --force did not replace the file"
book "$tmp/bboj.json" "$tmp/h.pcap" --limit 20000 --bbo "$tmp/bbo.jsonl"
python3 -c 'import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]
syms={x["symbol"] for x in rows}; sys.exit(0 if len(rows) > 100 and len(syms) == 5 else 1)' \
    "$tmp/bbo.jsonl" || fail "--bbo FILE.jsonl: JSON lines of every symbol"

# ---- DBN MBO ------------------------------------------------------------------------------------
"$REPLAY" gen -q --format dbn --messages 20000 --symbols 6 --seed 3 -o "$tmp/g.dbn" || fail "gen dbn"
book "$tmp/dbn.json" "$tmp/g.dbn"
python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["book"]
sys.exit(0 if b["complete"] and b["messages"] == 20000 and b["orders_live"] > 0 and
         not any(b["errors"].values()) and sorted(b["top"]) ==
         sorted(["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META"]) else 1)' "$tmp/dbn.json" ||
    fail "DBN MBO: $(head -c 600 "$tmp/dbn.json")"

# ---- usage --------------------------------------------------------------------------------------
for o in "--book-depth 3" "--bbo $tmp/x.csv" "--symbol AAPL" "--book-orders 5"; do
    # shellcheck disable=SC2086
    "$REPLAY" -q $o "$tmp/h.pcap" >/dev/null 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 1 ] && grep -q "need --book" "$tmp/err" || fail "$o without --book: exit $rc"
done
[ -e "$tmp/x.csv" ] && fail "a refused run wrote its --bbo file"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo ok
