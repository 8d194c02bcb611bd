# common.sh - the preamble of every CLI test: sourced first by each tests/cli/*.sh with
#   . "$(dirname "$0")/lib/common.sh"
# (tests/run.sh runs tests/cli/*.sh only, so this file is not a test itself.)
#
# It sets -u and gives:
#   ROOT          the repository (scripts that build or read sources `cd "$ROOT"`)
#   BUILD         build directory, relative to ROOT (default build/release)
#   SHARED_DATA   the real captures (default ../shared/data beside the repository)
#   tmp           a scratch directory, removed when the script exits
#   failures, fail MSG...   count a failure and say what failed
#   skip MSG...             say why, and exit 77 (skipped)
#   need_replay             REPLAY must name the built replay (exit 1 otherwise)
#   need_cmd CMD [WHAT]     skip unless CMD is installed
#   need_shared_data        skip unless SHARED_DATA exists
#   skip_sanitized_build WHY   skip when BUILD is a sanitizer build
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
: "${BUILD:=build/release}"
: "${SHARED_DATA:=$ROOT/../shared/data}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() {
    echo "$*"
    exit 77
}
need_replay() {
    : "${REPLAY:?set REPLAY to the built replay}"
    [ -x "$REPLAY" ] || { echo "REPLAY=$REPLAY is not an executable"; exit 1; }
}
need_cmd() { command -v "$1" >/dev/null 2>&1 || skip "${2:-$1} is not installed"; }
need_shared_data() { [ -d "$SHARED_DATA" ] || skip "shared data not found at $SHARED_DATA"; }
skip_sanitized_build() {
    case "$BUILD" in
    *address* | *thread* | *undefined* | *leak* | *memory*)
        skip "BUILD=$BUILD is a sanitizer build: $*"
        ;;
    esac
}
