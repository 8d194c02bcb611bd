#!/bin/sh
# ringfeed_example.sh - examples/strategy.c, built with pkg-config against a staged
# `make install`, attaches to the shared ring of a ringfeed on the loopback and counts every
# message a small MoldUDP64 sender (lib/moldsend.py) sends, by type, until ringfeed closes the
# ring; ringcat in a third process reads the same ring. Then --shm-dir: the ring in a directory
# of the test's, and (as root, where huge pages can be reserved) on a hugetlbfs mount. Needs no
# root for the rest.
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
old_nr=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    mountpoint -q "$tmp/huge" 2>/dev/null && umount "$tmp/huge"
    [ -n "$old_nr" ] && echo "$old_nr" >/proc/sys/vm/nr_hugepages
    rm -rf "$tmp"
    rm -f /dev/shm/$name
}
trap cleanup EXIT
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

# ---- --shm-dir: the ring file in another directory; readers attach by its path -----------------
"$RINGFEED" --shm-dir "$tmp" udp://127.0.0.1:1 >/dev/null 2>"$tmp/usage.err"
[ $? -eq 1 ] && grep -q "need --shm NAME" "$tmp/usage.err" || fail "--shm-dir without --shm"
"$RINGFEED" --shm "$name" --shm-dir "$tmp/none" udp://127.0.0.1:1 >/dev/null 2>"$tmp/usage.err"
[ $? -eq 2 ] && grep -q "no such directory $tmp/none" "$tmp/usage.err" ||
    fail "--shm-dir of a missing directory: $(cat "$tmp/usage.err")"
# dirrun DIR KIND: ringfeed into DIR/NAME (a 4 MiB ring), ringcat on that path, 50 packets of 4;
# checks both reports, and that the ring is on huge pages exactly when KIND is huge
dirrun() {
    port=$((port + 1))
    "$RINGFEED" --shm "$name" --shm-dir "$1" --ring-size 4M --unlink --idle-exit 0.5 --json \
        "udp://127.0.0.1:$port" >"$tmp/rfd.json" 2>"$tmp/rfd.err" &
    rf=$!
    "$RINGCAT" --wait 10 --json "$1/$name" >"$tmp/catd.json" 2>"$tmp/catd.err" &
    cat=$!
    sleep 0.5
    $PY "$(dirname "$0")/lib/moldsend.py" --packets 50 --per 4 --gap-us 100 "127.0.0.1:$port" \
        >/dev/null || fail "moldsend ($1)"
    wait $rf || fail "ringfeed --shm-dir $1 exited $?: $(cat "$tmp/rfd.err")"
    wait $cat || fail "ringcat $1/$name exited $?: $(cat "$tmp/catd.err")"
    $PY - "$tmp/rfd.json" "$tmp/catd.json" "$1/$name" "$2" <<'PY' || fail "--shm-dir $1 (above)"
import json, sys
rf, cat = (json.load(open(f)) for f in sys.argv[1:3])
assert rf['shm']['path'] == sys.argv[3] and rf['feed']['messages'] == 200, rf['shm']
assert cat['read'] == 200 and cat['lost'] == 0 and cat['closed'], cat
assert rf['ring']['hugepages'] == (sys.argv[4] == 'huge'), rf['ring']
PY
    [ ! -e "$1/$name" ] || fail "--unlink left $1/$name"
}
mkdir "$tmp/rings"
dirrun "$tmp/rings" small
# on hugetlbfs (root, and the kernel can reserve the pages): the ring is on huge pages; the
# mount and the reservation go at exit
if [ "$(id -u)" = 0 ] && mkdir "$tmp/huge" && old_nr=$(cat /proc/sys/vm/nr_hugepages) &&
    echo $((old_nr + 8)) >/proc/sys/vm/nr_hugepages 2>/dev/null &&
    [ "$(cat /proc/sys/vm/nr_hugepages)" -ge $((old_nr + 8)) ] &&
    mount -t hugetlbfs none "$tmp/huge" 2>/dev/null; then
    dirrun "$tmp/huge" huge
else
    echo "ringfeed_example: no hugetlbfs run (needs root, a hugetlbfs mount and 8 free huge pages)"
fi
exit $((failures > 0))
