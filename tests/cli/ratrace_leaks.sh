#!/bin/sh
# ratrace_leaks.sh - ratrace's leak report equals valgrind memcheck's: on tests/ratrace/leaks.c
# (plain leaks, leaks in threads, through realloc, a lost list giving indirect losses, still
# reachable globals, aligned blocks, an exit while threads still run) and on Debian's sort, the "definitely lost" and "indirectly
# lost" counts and bytes are the same, in each mode; leak sites name the leaking functions.
# Skips (77) without valgrind.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/ratrace/lib.sh
skip_in_sanitizer_builds
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; exit 77; }

# memcheck PROG... : valgrind's "definitely" and "indirectly lost" lines as "KIND COUNT BYTES"
memcheck() {
    valgrind --leak-check=full "$@" 2>&1 >/dev/null | tr -d , |
        awk '($2 == "definitely" || $2 == "indirectly") && $3 == "lost:" { print $2, $7, $4 }'
}

compare() { # NAME PROG... : memcheck once, then ratrace in each of $modes
    name=$1; shift
    memcheck "$@" >"$tmp/vg"
    [ "$(wc -l <"$tmp/vg")" -eq 2 ] || { fail "$name: no leak summary from valgrind"; return; }
    for mode in $modes; do
        "$RATRACE" --quiet --mode "$mode" --json "$tmp/r.json" -- "$@" >/dev/null ||
            { fail "$name: ratrace exited $?"; continue; }
        jget "$tmp/r.json" "'definitely %d %d\\nindirectly %d %d' % (d['leaks']['count'], \
            d['leaks']['bytes'], d['indirectly_lost']['count'], d['indirectly_lost']['bytes'])" \
            >"$tmp/rt"
        if cmp -s "$tmp/vg" "$tmp/rt"; then
            echo "$name ($mode): as memcheck:" $(cat "$tmp/rt")
        else
            fail "$name ($mode): ratrace:" $(cat "$tmp/rt") "memcheck:" $(cat "$tmp/vg")
        fi
    done
}

modes=count
for sc in plain thread realloc list reachable aligned running; do
    compare "leaks $sc" "$RT_BIN/leaks" "$sc"
done
modes="count sample full"
compare "leaks all" "$RT_BIN/leaks" all
modes=count
compare "sort" sort /etc/services

# the lost list: one definitely lost head (and one lost cycle), six indirectly lost nodes
"$RATRACE" --quiet --json "$tmp/l.json" "$RT_BIN/leaks" list >/dev/null
check "list: 2 definitely lost" "d['leaks']['count'] == 2" "$tmp/l.json"
check "list: 6 indirectly lost" "d['indirectly_lost']['count'] == 6" "$tmp/l.json"
# globals: reachable blocks, and one reached only through an interior pointer
"$RATRACE" --quiet --json "$tmp/g.json" "$RT_BIN/leaks" reachable >/dev/null
check "reachable: nothing lost" "d['leaks']['count'] == 0" "$tmp/g.json"
check "reachable: 300 bytes possibly lost" "d['possibly_lost']['bytes'] == 300" "$tmp/g.json"
check "reachable: the 4 global blocks" "d['still_reachable']['count'] >= 4" "$tmp/g.json"

# sites: full mode stacks name the functions; count mode names the caller of malloc
"$RATRACE" --quiet --mode full --json "$tmp/f.json" "$RT_BIN/leaks" all >/dev/null
for fn in plain thread_main reallocs list aligned; do
    check "full mode: a leak site in $fn" \
        "any(any(f.startswith('$fn (leaks.c:') for f in s['stack']) for s in d['leaks']['sites'])" \
        "$tmp/f.json"
done
check "full mode: sites add up" \
    "sum(s['bytes'] for s in d['leaks']['sites']) == d['leaks']['bytes']" "$tmp/f.json"
check "full mode: stacks reach main or the thread start" \
    "all(any(f.startswith(('main (', 'start_thread')) for f in s['stack']) \
    for s in d['leaks']['sites'])" "$tmp/f.json"
"$RATRACE" --quiet --json "$tmp/c.json" "$RT_BIN/leaks" plain >/dev/null
check "count mode: the caller of malloc" \
    "any(s['stack'][0].startswith('plain (leaks.c:') for s in d['leaks']['sites'])" "$tmp/c.json"
finish ratrace_leaks
