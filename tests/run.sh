#!/bin/sh
# run.sh - run every test: cmocka programs, then fuzz-corpus replays, then CLI tests.
# usage: tests/run.sh TEST_BIN... -- FUZZ_REPLAY_BIN...   (env: BUILD, REPLAY, SHARED_DATA)
# A test exiting 77 is skipped (it says why). Each test has a time limit (TEST_TIMEOUT seconds).
set -u
: "${SHARED_DATA:=$(cd "$(dirname "$0")/.." && pwd)/../shared/data}"
: "${TEST_TIMEOUT:=600}"
export SHARED_DATA REPLAY BUILD
pass=0 fail=0 skip=0 failed=""
t0=$(date +%s)
run() { # name, command...
    name=$1; shift
    start=$(date +%s)
    log=$(mktemp)
    timeout "$TEST_TIMEOUT" "$@" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS  %-40s %4ss\n' "$name" "$secs"
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$log")"
    else
        fail=$((fail + 1)); failed="$failed $name"
        printf 'FAIL  %-40s (exit %s)\n' "$name" "$rc"; sed 's/^/    | /' "$log" | tail -n 60
    fi
    rm -f "$log"
}
fuzz=0
for t in "$@"; do
    if [ "$t" = "--" ]; then fuzz=1; continue; fi
    n=$(basename "$t")
    if [ $fuzz -eq 0 ]; then
        run "$n" "$t"
    else
        run "corpus/$n" "$t" "$(dirname "$0")/fuzz/corpus/$n"
    fi
done
for c in "$(dirname "$0")"/cli/*.sh; do
    [ -f "$c" ] || continue
    run "cli/$(basename "$c" .sh)" sh "$c"
done
echo "tests: $pass passed, $fail failed, $skip skipped ($(($(date +%s) - t0)) s)"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
