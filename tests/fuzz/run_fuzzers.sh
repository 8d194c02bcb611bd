#!/bin/sh
# run_fuzzers.sh - runs libFuzzer binaries for a fixed time each (make fuzz-run).
# usage: tests/fuzz/run_fuzzers.sh SECONDS BIN...   (from the repository root)
#   env: FUZZ_JOBS   targets run at once (default 1)
#        FUZZ_ARGS   extra libFuzzer flags
#        FUZZ_OUT    scratch directory (default build/fuzz)
# Each target works on a scratch corpus: new units go to $FUZZ_OUT/corpus/NAME (libFuzzer writes
# only to the first corpus directory), the committed seeds tests/fuzz/corpus/NAME are only read.
# A binary under .../fast/ (the allocator targets built without ASan) is named NAME.fast and reads
# the same committed seeds. Crashes, leaks and timeouts land in $FUZZ_OUT/artifacts/NAME/; the
# log is $FUZZ_OUT/logs/NAME.log. One line per target: executions, coverage (cov: edges, ft:
# features), corpus size. Exits 1 when any target failed (its log tail is printed).
set -u
if [ "${1:-}" = "--one" ]; then
    secs=$2 bin=$3
    out=${FUZZ_OUT:-build/fuzz}
    base=$(basename "$bin")
    name=$base
    case "$bin" in */fast/*) name=$base.fast ;; esac
    mkdir -p "$out/corpus/$name" "$out/artifacts/$name" "$out/logs"
    log=$out/logs/$name.log
    seeds=tests/fuzz/corpus/$base
    [ -d "$seeds" ] || seeds=
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$name/" ${FUZZ_ARGS:-} "$out/corpus/$name" $seeds \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
    cov=$(printf '%s' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s' "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    if [ $rc -eq 0 ]; then
        printf '%-22s %5ss %10s execs  cov %5s  ft %6s  corpus %5s  ok\n' "$name" "$secs" \
            "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
        exit 0
    fi
    printf '%-22s FAILED (exit %s) after %s execs; log %s, artifacts %s\n' "$name" "$rc" \
        "${execs:-?}" "$log" "$out/artifacts/$name/"
    grep -E 'ERROR|check failed|SUMMARY|Test unit written|^    #[0-9]' "$log" | head -n 40 |
        sed 's/^/    | /'
    exit 1
fi

[ $# -ge 2 ] || { echo "usage: $0 SECONDS BIN..." >&2; exit 2; }
secs=$1
shift
jobs=${FUZZ_JOBS:-1}
echo "fuzzing $# targets, $secs s each, $jobs at a time"
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one "$secs" {}
rc=$?
[ $rc -eq 0 ] || { echo "fuzz-run: some target failed"; exit 1; }
echo "fuzz-run: all $# targets ran clean"
