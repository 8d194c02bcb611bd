# shm.sh - helpers of the shared-ring CLI tests (shm_*.sh), sourced after common.sh:
#   RINGCAT, RINGSTAT     the built tools (the script exits 1 when they are missing)
#   shm_name TAG          a ring name unique to this script run (removed at exit)
#   jget FILE PATH        a value of a JSON file (dotted path, list indexes as numbers)
#   wait_published NAME   waits (retrying) until ringstat sees NAME with published > 0;
#                         returns 1 if it never does
RINGCAT=$ROOT/$BUILD/ringcat
RINGSTAT=$ROOT/$BUILD/ringstat
[ -x "$RINGCAT" ] && [ -x "$RINGSTAT" ] || { echo "build ringcat and ringstat first ($BUILD)"; exit 1; }
SHM_PREFIX="ratest_$$_"
trap 'rm -rf "$tmp"; rm -f /dev/shm/"$SHM_PREFIX"*' EXIT
shm_name() { echo "$SHM_PREFIX$1"; }
jget() {
    python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))
PY
}
wait_published() {
    i=0
    while [ $i -lt 200 ]; do
        if "$RINGSTAT" --once --json --interval 0.02 "$1" >"$tmp/ws.json" 2>/dev/null &&
            [ "$(jget "$tmp/ws.json" rings.0.published 2>/dev/null || echo 0)" -gt 0 ]; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
