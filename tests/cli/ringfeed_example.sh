#!/bin/sh
# ringfeed_example.sh - examples/strategy.c, built with pkg-config against a staged
# `make install`, attaches to the shared ring of a ringfeed on the loopback and counts every
# message a small MoldUDP64 sender (lib/moldsend.py) sends, by type, until ringfeed closes the
# ring; ringcat in a third process reads the same ring. Needs no root.
. "$(dirname "$0")/lib/common.sh"
cd "$ROOT" || exit 1
need_cmd pkg-config
RINGFEED=$ROOT/$BUILD/ringfeed
RINGCAT=$ROOT/$BUILD/ringcat
[ -x "$RINGFEED" ] || { echo "build ringfeed first ($BUILD)"; exit 1; }
case "$BUILD" in
build/release) san= ;;
build/*) san=$(basename "$BUILD" | tr - ,) ;;
*) skip "BUILD=$BUILD is not a build directory of this Makefile" ;;
esac
name=rfex_$$
trap 'rm -rf "$tmp"; rm -f /dev/shm/$name' EXIT
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory SANITIZE="$san" install \
    PREFIX="$tmp/usr" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make install"; }
# a sanitized library needs a sanitized program (the runtime must come first)
PKG_CONFIG_PATH=$tmp/usr/lib/pkgconfig make -s -C examples \
    CFLAGS="-O2 -Wall -Wextra -Werror${san:+ -fsanitize=$san}" \
    strategy >"$tmp/ex.log" 2>&1 || { cat "$tmp/ex.log"; fail "building examples/strategy"; }
mv examples/strategy "$tmp/strategy" 2>/dev/null

port=$((20000 + $$ % 20000))
"$RINGFEED" --shm "$name" --idle-exit 0.5 --json "udp://127.0.0.1:$port" >"$tmp/rf.json" \
    2>"$tmp/rf.err" &
rf=$!
LD_LIBRARY_PATH=$tmp/usr/lib "$tmp/strategy" "$name" >"$tmp/strategy.out" 2>"$tmp/strategy.err" &
st=$!
"$RINGCAT" --wait 10 --json "$name" >"$tmp/cat.json" 2>"$tmp/cat.err" &
cat=$!
sleep 0.5
$PY "$(dirname "$0")/lib/moldsend.py" --packets 400 --per 5 --skip 17 --heartbeat --gap-us 100 \
    "127.0.0.1:$port" >"$tmp/send.json" || fail "moldsend"
wait $rf || fail "ringfeed exited $?: $(cat "$tmp/rf.err")"
wait $st || fail "strategy exited $?: $(cat "$tmp/strategy.err")"
wait $cat || fail "ringcat exited $?: $(cat "$tmp/cat.err")"
first=$(head -n 1 "$tmp/strategy.out")
case "$first" in
"1995 messages,"*", lost 0,"*) ;;
*) fail "strategy says: $first (expected 1995 messages, lost 0)" ;;
esac
grep -q "^  S 1995$" "$tmp/strategy.out" || fail "strategy's by-type count: $(cat "$tmp/strategy.out")"
$PY - "$tmp/rf.json" "$tmp/cat.json" <<'PY' || fail "ringfeed's report (above)"
import json, sys
rf, cat = (json.load(open(f)) for f in sys.argv[1:])
f = rf['feed']
assert f['messages'] == 1995 and f['gaps'] == 1 and f['missing'] == 5, (f, rf['network'])
assert rf['ring']['published'] == 1995 and cat['read'] == 1995 and cat['closed'], (rf['ring'], cat)
PY
exit $((failures > 0))
