#!/bin/sh
# alloc_valgrind.sh - the allocator tests run clean under Valgrind memcheck: the pool's mempool
# client requests and the arena's access marks let memcheck see pooled blocks like heap blocks,
# and none of the tests (death tests' children aside) may produce a memcheck error.
# Skips (77) without valgrind, or when BUILD is a sanitizer build (they do not mix).
set -u
: "${BUILD:=build/release}"
cd "$(dirname "$0")/../.." || exit 1
case "$BUILD" in
*address* | *thread* | *undefined* | *leak* | *memory*)
    echo "BUILD=$BUILD is a sanitizer build: Valgrind does not run sanitized binaries"
    exit 77
    ;;
esac
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
ulimit -c 0 2>/dev/null
failures=0
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
