#!/bin/sh
# replay_dbn.sh - Databento DBN input: real files against their expected counts, generated files,
# zstd (one frame and several), stdin, headerless fragments, convert to .rtk byte for byte, DBZ
#
# The expected counts of the real files come from ../shared/data/README.md (counted by an
# independent reader): each DBN row there names a file (a "..." stands for any text, "(.zst)" for
# the plain and the compressed file), "dbn vN, messages M" and its by_type. Without the shared
# data those checks are skipped with a message; the rest runs on files made by `replay gen`.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_cmd python3
need_cmd zstd

# counts FILE [ARGS...] : "format version messages by_type" of `replay info --json`
counts() {
    f=$1
    shift
    "$REPLAY" info --json "$@" "$f" | python3 -c '
import json, sys
d = json.load(sys.stdin)["files"][0]
bt = " ".join("%s:%d" % kv for kv in sorted(d["by_type"].items()))
print(d["format"], (d["dbn"] or {}).get("version"), d["messages"], bt)'
}
# replay_counts FILE [ARGS...] : "messages by_type read" of a replay through the ring
replay_counts() {
    f=$1
    shift
    "$REPLAY" -q --json "$@" "$f" | python3 -c '
import json, sys
d = json.load(sys.stdin)
bt = " ".join("%s:%d" % kv for kv in sorted(d["feed"]["by_type"].items()))
print(d["feed"]["messages"], bt, d["readers"][0]["read"], d["input"]["truncated"])'
}
# records FILE [ARGS...] : the D lines of `replay info --dump` without the stream id
records() {
    f=$1
    shift
    "$REPLAY" info --dump "$@" "$f" | awk '$1 == "D" { $2 = ""; print }'
}

# ---- a generated file: gen's own counts, replay, info, convert, stdin, zstd frames, fragments --
"$REPLAY" gen --format dbn --messages 3000 --symbols 12 --seed 5 --json -q -o "$tmp/g.dbn" \
    >"$tmp/gen.json" || fail "gen --format dbn"
want=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["messages"], " ".join("%s:%d" % kv for kv in sorted(d["by_type"].items())))' "$tmp/gen.json")
[ "$want" = "3000 0xa0:3000" ] || fail "gen --json: $want"
[ "$(replay_counts "$tmp/g.dbn")" = "$want 3000 False" ] ||
    fail "replay of g.dbn: $(replay_counts "$tmp/g.dbn"), want $want"
[ "$(counts "$tmp/g.dbn")" = "dbn 3 $want" ] || fail "info of g.dbn: $(counts "$tmp/g.dbn")"
"$REPLAY" info --json "$tmp/g.dbn" | python3 -c '
import json, sys
m = json.load(sys.stdin)["files"][0]["dbn"]
assert m["dataset"] == "RPGEN.SYNTH" and m["schema"] == "mbo" and m["symbol_cstr_len"] == 71, m
assert len(m["symbols"]) == 12 and m["symbols"][0] == "AAPL", m["symbols"]
assert [x["raw_symbol"] for x in m["mappings"]] == m["symbols"], m["mappings"]
assert m["mappings"][11]["intervals"] == [
    {"start_date": "2024-01-02", "end_date": "2024-01-03", "symbol": "12"}], m["mappings"][11]
assert m["stype_in"] == "raw_symbol" and m["stype_out"] == "instrument_id" and not m["ts_out"]
' || fail "info --json: the dbn object of g.dbn"
"$REPLAY" gen --format dbn --messages 3000 --symbols 12 --seed 5 -q -o - | cmp -s - "$tmp/g.dbn" ||
    fail "gen --format dbn is not deterministic"
records "$tmp/g.dbn" >"$tmp/g.rec"
[ "$(wc -l <"$tmp/g.rec")" -eq 3000 ] || fail "dump of g.dbn: $(wc -l <"$tmp/g.rec") records"
# every record's time is its ts_recv (bytes 40..47 of an MBO record), increasing
awk '{ print $3 }' "$tmp/g.rec" | sort -c -n || fail "g.dbn: record times not in order"

# convert keeps every record byte for byte; the .rtk replays with the same counts
"$REPLAY" convert -q "$tmp/g.dbn" -o "$tmp/g.rtk" || fail "convert g.dbn"
records "$tmp/g.rtk" | cmp -s - "$tmp/g.rec" || fail "g.rtk: records differ from g.dbn"
[ "$(replay_counts "$tmp/g.rtk")" = "$want 3000 False" ] ||
    fail "replay of g.rtk: $(replay_counts "$tmp/g.rtk")"

# zstd: one frame, several frames (the file cut in three, each part its own frame), stdin
zstd -q -c "$tmp/g.dbn" >"$tmp/g.dbn.zst"
size=$(wc -c <"$tmp/g.dbn")
head -c 1000 "$tmp/g.dbn" | zstd -q -c >"$tmp/multi.dbn.zst"
tail -c +1001 "$tmp/g.dbn" | head -c $((size / 2)) | zstd -q -c >>"$tmp/multi.dbn.zst"
tail -c +$((1001 + size / 2)) "$tmp/g.dbn" | zstd -q -c >>"$tmp/multi.dbn.zst"
for f in "$tmp/g.dbn.zst" "$tmp/multi.dbn.zst"; do
    records "$f" | cmp -s - "$tmp/g.rec" || fail "$(basename "$f"): records differ from g.dbn"
    [ "$(replay_counts "$f")" = "$want 3000 False" ] || fail "replay of $(basename "$f")"
done
"$REPLAY" info --dump - <"$tmp/multi.dbn.zst" | awk '$1 == "D" { $2 = ""; print }' |
    cmp -s - "$tmp/g.rec" || fail "stdin (zstd): records differ from g.dbn"
[ "$(replay_counts - <"$tmp/g.dbn")" = "$want 3000 False" ] || fail "replay of stdin"

# a headerless fragment: the records alone, read with --format dbn-frag and a version
meta=$(od -An -tu4 -j4 -N4 "$tmp/g.dbn" | tr -d ' ')
tail -c +$((8 + meta + 1)) "$tmp/g.dbn" >"$tmp/g.dbn.frag"
records "$tmp/g.dbn.frag" --format dbn-frag --dbn-version 3 | cmp -s - "$tmp/g.rec" ||
    fail "g.dbn.frag: records differ from g.dbn"
[ "$(counts "$tmp/g.dbn.frag" --format dbn-frag --dbn-version 2)" = "dbn-frag 2 $want" ] ||
    fail "info of g.dbn.frag: $(counts "$tmp/g.dbn.frag" --format dbn-frag --dbn-version 2)"
"$REPLAY" info "$tmp/g.dbn.frag" >/dev/null 2>"$tmp/err" && fail "a fragment is never detected"
grep -q "g.dbn.frag: unrecognised format" "$tmp/err" || fail "fragment: $(cat "$tmp/err")"
"$REPLAY" info --format dbn-frag --dbn-version 4 "$tmp/g.dbn.frag" >/dev/null 2>&1
[ $? -eq 1 ] || fail "--dbn-version 4 is not a usage error"

# DBZ (a zstd skippable frame holding "DBZ" + version, then zstd frames): named, not supported
{
    printf 'P*M\030\020\000\000\000DBZ\001xxxxxxxxxxxx'
    head -c 300 "$tmp/g.dbn.frag" | zstd -q -c
} >"$tmp/old.dbz"
"$REPLAY" info "$tmp/old.dbz" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "old.dbz: Databento DBZ (legacy DBN, version 1) at byte offset 0: not supported" \
    "$tmp/err" || fail "DBZ: exit $rc: $(cat "$tmp/err")"

# ---- the real files, against ../shared/data/README.md ---------------------------------------
if [ ! -d "$SHARED_DATA" ]; then
    echo "replay_dbn: shared data not found at $SHARED_DATA: the real DBN files are skipped"
else
    python3 - "$SHARED_DATA" >"$tmp/expected" <<'PY' || fail "README.md: no DBN rows"
import glob, os, re, sys
d = sys.argv[1]
rows = 0
for line in open(os.path.join(d, "README.md")):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 3 or not cells[1].startswith("dbn v"):
        continue
    m = re.match(r"dbn v(\d+), messages (\d+)$", cells[1])
    bt = " ".join(sorted(cells[2].split()))
    names = [cells[0].replace("(.zst)", ""), cells[0].replace("(.zst)", ".zst")]
    for name in sorted(set(names)):
        for f in glob.glob(os.path.join(d, glob.escape(name).replace("...", "*"))):
            print(f, "dbn", m.group(1), m.group(2), bt)
            rows += 1
sys.exit(0 if rows else 1)
PY
    n=0
    while read -r f fmt v msgs bt; do
        n=$((n + 1))
        got=$(counts "$f")
        [ "$got" = "$fmt $v $msgs $bt" ] || fail "$(basename "$f"): info $got, want $fmt $v $msgs $bt"
        got=$(replay_counts "$f")
        [ "$got" = "$msgs $bt $msgs False" ] || fail "$(basename "$f"): replay $got"
        "$REPLAY" convert -q "$f" -o "$tmp/real.rtk" -f || fail "convert $(basename "$f")"
        records "$f" >"$tmp/real.rec"
        records "$tmp/real.rtk" | cmp -s - "$tmp/real.rec" ||
            fail "$(basename "$f"): the .rtk records differ"
    done <"$tmp/expected"
    echo "replay_dbn: $n real DBN files checked"
fi
[ $failures -eq 0 ] || exit 1
echo "ok"
