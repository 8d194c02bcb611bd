#!/bin/sh
# alloc_valgrind.sh - the allocator tests run clean under Valgrind memcheck: the pool's mempool
# client requests and the arena's access marks let memcheck see pooled blocks like heap blocks,
# and none of the tests (death tests' children aside) may produce a memcheck error.
# Skips (77) without valgrind, or when BUILD is a sanitizer build (they do not mix).
. "$(dirname "$0")/lib/common.sh"
cd "$ROOT" || exit 1
skip_sanitized_build "Valgrind does not run sanitized binaries"
need_cmd valgrind
ulimit -c 0 2>/dev/null
for t in test_pool test_slab test_arena test_stats; do
    bin=$(pwd)/$BUILD/tests/$t
    if [ ! -x "$bin" ]; then
        echo "FAIL: $bin is not built"
        failures=$((failures + 1))
        continue
    fi
    # cwd in a scratch directory: a crashing child must not leave vgcore files in the tree
    (cd "$tmp" && valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite "$bin" >"$tmp/$t.out" 2>"$tmp/$t.err")
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: $t under valgrind: exit $rc"
        tail -n 40 "$tmp/$t.err"
        tail -n 20 "$tmp/$t.out"
        failures=$((failures + 1))
    fi
done
[ $failures -eq 0 ] || exit 1
echo "alloc_valgrind: allocator tests clean under memcheck"
