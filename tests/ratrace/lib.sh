#!/bin/sh
# lib.sh - shared by the tests/cli/ratrace_*.sh scripts (sourced from the repository root):
# locates ratrace, the interposer and the test programs in $BUILD, makes a scratch directory
# ($tmp, removed at exit) and gives fail/check helpers and a JSON field reader (python3).
: "${BUILD:=build/release}"
RATRACE=$(pwd)/$BUILD/ratrace
RT_LIB=$(pwd)/$BUILD/libringalloc-trace.so
RT_BIN=$(pwd)/$BUILD/ratrace-tests
for f in "$RATRACE" "$RT_LIB"; do
    [ -e "$f" ] || { echo "FAIL: $f is not built"; exit 1; }
done
command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed (reads the JSON)"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# jget FILE EXPR : prints EXPR evaluated on the JSON document d (python syntax)
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# check DESCRIPTION PYTHON-CONDITION-ON-d FILE
check() { [ "$(jget "$3" "bool($2)")" = True ] || fail "$1 ($2) in $3"; }
# Sanitizer builds sanitize the tool only (the interposer and the traced programs are the same
# as in the release build): the slow tests of traced programs run once, in the release build.
skip_in_sanitizer_builds() {
    case "$BUILD" in
    *address* | *thread* | *undefined* | *leak* | *memory*)
        echo "BUILD=$BUILD is a sanitizer build: traced programs and the interposer are not" \
            "sanitized; ratrace_reports covers the sanitized tool"
        exit 77
        ;;
    esac
}
finish() {
    [ $failures -eq 0 ] || exit 1
    echo "$1: ok"
}
