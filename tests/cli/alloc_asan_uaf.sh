#!/bin/sh
# alloc_asan_uaf.sh - under AddressSanitizer a use-after-free of a pooled block, and a use of arena
# memory after reset, are reported (free pool blocks and released arena memory are poisoned).
# Builds a tiny program with $CC -fsanitize=address straight from the sources; skips (77) when the
# compiler cannot build with ASan. A control run without misuse must stay silent.
. "$(dirname "$0")/lib/common.sh"
CC=${CC:-cc}
cd "$ROOT" || exit 1

cat >"$tmp/uaf.c" <<'PROG'
#include <stdio.h>
#include <string.h>
#include "ringalloc/pool.h"
#include "ringalloc/arena.h"
int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "ok";
    ra_pool_config c = {.block_size = 64, .capacity = 16, .name = "orders"};
    ra_pool *p = NULL;
    if (ra_pool_create(&p, &c) != RA_OK) return 2;
    unsigned char *order = ra_pool_alloc(p);
    memset(order, 1, 64);
    ra_pool_free(p, order);
    if (strcmp(mode, "pool") == 0) order[8] = 42; /* use after free of a pooled block */
    ra_arena *a = NULL;
    if (ra_arena_create(&a, NULL) != RA_OK) return 2;
    unsigned char *s = ra_arena_alloc(a, 100, 8);
    memset(s, 1, 100);
    ra_arena_reset(a);
    if (strcmp(mode, "arena") == 0) s[10] = 42; /* use after the arena was reset */
    ra_arena_destroy(a);
    ra_pool_destroy(p);
    puts("done");
    return 0;
}
PROG

echo 'int main(void){return 0;}' >"$tmp/probe.c"
if ! $CC -fsanitize=address -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1 || ! "$tmp/probe"; then
    echo "$CC cannot build and run -fsanitize=address programs here"
    exit 77
fi
if ! $CC -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=address -fno-omit-frame-pointer -Iinclude \
    -Iringalloc -o "$tmp/uaf" "$tmp/uaf.c" ringalloc/pool.c ringalloc/pool_ts.c ringalloc/arena.c \
    ringalloc/osmem.c ringalloc/util.c -lpthread \
    2>"$tmp/cc.err"; then
    echo "FAIL: building the ASan program:"
    cat "$tmp/cc.err"
    exit 1
fi

failures=0
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
"$tmp/uaf" ok >"$tmp/out" 2>"$tmp/err"
if [ $? -ne 0 ] || [ -s "$tmp/err" ] || ! grep -q done "$tmp/out"; then
    echo "FAIL: control run (no misuse) reported something:"
    cat "$tmp/err"
    failures=$((failures + 1))
fi
for mode in pool arena; do
    "$tmp/uaf" $mode >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 0 ] || grep -q done "$tmp/out"; then
        echo "FAIL: $mode: the use after free went unreported (exit $rc)"
        failures=$((failures + 1))
    elif ! grep -q 'ERROR: AddressSanitizer: use-after-poison' "$tmp/err" ||
        ! grep -q 'WRITE of size 1' "$tmp/err" || ! grep -q 'uaf.c' "$tmp/err"; then
        echo "FAIL: $mode: unexpected report:"
        cat "$tmp/err"
        failures=$((failures + 1))
    fi
done
[ $failures -eq 0 ] || exit 1
echo "alloc_asan_uaf: pool and arena use-after-free reported by ASan"
