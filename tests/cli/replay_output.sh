#!/bin/sh
# replay_output.sh - outputs are never lost: gen and convert refuse an existing OUT unless
# -f/--force, never write over one of their inputs (even forced, even through a symlink or a hard
# link), leave no file behind when they fail, and take "-" as stdout; --stats-csv the same.
. "$(dirname "$0")/lib/common.sh"
need_replay
sum() { cksum <"$1"; }

# expect CODE PATTERN ARGS... : exit code and a stderr line matching PATTERN
expect() {
    want=$1 pat=$2
    shift 2
    "$REPLAY" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "replay $*: exit $got, want $want: $(head -c 300 "$tmp/err")"
    grep -q -- "$pat" "$tmp/err" || fail "replay $*: no '$pat' in: $(head -c 300 "$tmp/err")"
}

"$REPLAY" gen --messages 3000 --seed 2 -q -o "$tmp/a.pcap" || { echo "gen failed"; exit 1; }
a=$(sum "$tmp/a.pcap")

# ---- gen ---------------------------------------------------------------------------------------
expect 1 "exists.*--force" gen --messages 3000 --seed 3 -q -o "$tmp/a.pcap"
[ "$(sum "$tmp/a.pcap")" = "$a" ] || fail "gen without --force changed an existing file"
"$REPLAY" gen --messages 3000 --seed 3 -q -f -o "$tmp/a.pcap" || fail "gen -f failed"
[ "$(sum "$tmp/a.pcap")" != "$a" ] || fail "gen -f did not replace the file"
"$REPLAY" gen --messages 3000 --seed 2 -q --force -o "$tmp/a.pcap" || fail "gen --force failed"
[ "$(sum "$tmp/a.pcap")" = "$a" ] || fail "gen --force: not the same bytes again"
# -o - is stdout (no file named "-"), the same bytes as the file
(cd "$tmp" && "$REPLAY" gen --messages 3000 --seed 2 -q -o - >"$tmp/stdout.pcap") ||
    fail "gen -o - failed"
[ -e "$tmp/-" ] && fail "gen -o - wrote a file named '-'"
[ "$(sum "$tmp/stdout.pcap")" = "$a" ] || fail "gen -o -: not the bytes of gen -o FILE"
expect 1 "--json needs stdout" gen --messages 3000 --json -o -
# a directory that cannot be written: exit 2, nothing left
mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
if [ ! -w "$tmp/ro" ]; then
    expect 2 "ro/x.pcap" gen --messages 3000 -q -o "$tmp/ro/x.pcap"
fi
chmod 755 "$tmp/ro"
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls "$tmp")"

# ---- convert -----------------------------------------------------------------------------------
cp "$tmp/a.pcap" "$tmp/in.pcap"
in=$(sum "$tmp/in.pcap")
expect 1 "also the input" convert -q "$tmp/in.pcap" -o "$tmp/in.pcap"
expect 1 "also the input" convert -q -f "$tmp/in.pcap" -o "$tmp/in.pcap"
ln -s in.pcap "$tmp/link.pcap"
expect 1 "also the input" convert -q --force "$tmp/in.pcap" -o "$tmp/link.pcap"
ln "$tmp/in.pcap" "$tmp/hard.pcap"
expect 1 "also the input" convert -q --force "$tmp/in.pcap" -o "$tmp/hard.pcap"
expect 1 "also the input" convert -q --force "$tmp/link.pcap" -o "$tmp/./in.pcap"
expect 1 "also the input" convert -q --force - -o "$tmp/in.pcap" <"$tmp/in.pcap"
[ "$(sum "$tmp/in.pcap")" = "$in" ] || fail "convert wrote over its input"
[ -L "$tmp/link.pcap" ] || fail "the symlink to the input was replaced"
"$REPLAY" convert -q "$tmp/in.pcap" -o "$tmp/t.rtk" || fail "convert to a new file failed"
t=$(sum "$tmp/t.rtk")
expect 1 "exists.*--force" convert -q "$tmp/a.pcap" "$tmp/in.pcap" -o "$tmp/t.rtk"
[ "$(sum "$tmp/t.rtk")" = "$t" ] || fail "convert without --force changed an existing file"
"$REPLAY" convert -q -f "$tmp/a.pcap" "$tmp/in.pcap" -o "$tmp/t.rtk" || fail "convert -f failed"
[ "$(sum "$tmp/t.rtk")" != "$t" ] || fail "convert -f did not replace the file"
# a failing convert (an input that is not a capture) leaves nothing
printf 'not a capture at all, not at all\n' >"$tmp/junk.pcap"
expect 2 "junk.pcap" convert -q --format pcap "$tmp/junk.pcap" -o "$tmp/j.rtk"
[ -e "$tmp/j.rtk" ] && fail "a failed convert left its output"
(cd "$tmp" && "$REPLAY" convert -q in.pcap -o - >"$tmp/stdout.rtk") || fail "convert -o - failed"
[ -e "$tmp/-" ] && fail "convert -o - wrote a file named '-'"
"$REPLAY" info --dump "$tmp/stdout.rtk" >"$tmp/d1" && "$REPLAY" info --dump "$tmp/in.pcap" >"$tmp/d2" ||
    fail "info --dump failed"
cmp -s "$tmp/d1" "$tmp/d2" || fail "convert -o -: not the messages of its input"
ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls "$tmp")"

# ---- replay --stats-csv ------------------------------------------------------------------------
: >"$tmp/s.csv"
expect 1 "exists.*--force" -q --stats-csv "$tmp/s.csv" "$tmp/in.pcap"
[ -s "$tmp/s.csv" ] && fail "--stats-csv without --force wrote an existing file"
expect 1 "also the input" -q -f --stats-csv "$tmp/link.pcap" "$tmp/in.pcap"
expect 1 "bad --stats-csv" -q --stats-csv - "$tmp/in.pcap"
"$REPLAY" -q -f --stats-csv "$tmp/s.csv" "$tmp/in.pcap" || fail "--stats-csv -f failed"
[ -s "$tmp/s.csv" ] || fail "--stats-csv -f wrote nothing"
[ "$(sum "$tmp/in.pcap")" = "$in" ] || fail "replay changed its input"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
