#!/bin/sh
# soak.sh - long-running checks (make soak; not in CI): replay in a loop, then the ring alone.
# env: REPLAY, BUILD (for soak_ring), SOAK_MINUTES (default 10; half replay, half ring)
#
# 1. replay: a generated capture (gaps and heartbeats included), also as .pcap.zst and (when
#    `replay convert` exists) .rtk.zst, replayed in successive bounded runs (--loop, a 1 MiB ring,
#    3 readers; --reader-delay-ns cycles through 0, 500 and 5000 so readers keep up in some runs
#    and are lapped all the time in others; replay gives all readers of one run the same delay)
#    while VmRSS of the replay process is sampled every 0.2 s. Every run must exit 0 with
#    "verified": true, read + lost == published and skipped == lost for every reader, no
#    sequence errors, and feed.messages == loops x the capture's messages. RSS is flat when no run
#    grows after its first half (peak of the second half within 2 MiB of the first) and the peaks
#    of runs of one configuration stay within 4 MiB of each other.
# 2. ring: build/.../soak_ring, one producer and four readers of different speeds (0, 200, 2000
#    and 50000 ns of work per message) checking every message (see tests/soak/soak_ring.c).
# Prints one verdict line at the end; exit 0 on PASS.
set -u
: "${REPLAY:?set REPLAY to the built replay}"
: "${BUILD:=build/release}"
: "${SOAK_MINUTES:=10}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
total=$(python3 -c "print(int(float('$SOAK_MINUTES') * 60))")
half=$((total / 2))
[ $half -ge 10 ] || half=10
fail=0

"$REPLAY" gen --messages 200000 --seed 17 --symbols 64 --gap-every 40 --heartbeat-every 25 -q \
    -o "$tmp/soak.pcap" || { echo "soak: gen failed"; exit 1; }
inputs="$tmp/soak.pcap"
if command -v zstd >/dev/null 2>&1; then
    zstd -q -3 -c "$tmp/soak.pcap" >"$tmp/soak.pcap.zst" && inputs="$inputs $tmp/soak.pcap.zst"
fi
if "$REPLAY" convert --help >/dev/null 2>&1; then
    "$REPLAY" convert -q "$tmp/soak.pcap" -o "$tmp/soak.rtk.zst" >/dev/null 2>&1 &&
        inputs="$inputs $tmp/soak.rtk.zst"
fi
"$REPLAY" --json -q "$tmp/soak.pcap" >"$tmp/one.json" || { echo "soak: replay failed"; exit 1; }
per_pass=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["feed"]["messages"])' \
    "$tmp/one.json")
loops=100

# ---- 1. replay in a loop ------------------------------------------------------------------------
echo "soak: replay phase, $half s: $(echo "$inputs" | wc -w) inputs, $per_pass messages per pass, $loops passes per run"
start=$(date +%s)
run=0
: >"$tmp/runs"
while [ $(($(date +%s) - start)) -lt $half ]; do
    for f in $inputs; do
        for delay in 0 500 5000; do
            [ $(($(date +%s) - start)) -lt $half ] || break 2
            run=$((run + 1))
            "$REPLAY" --json -q --loop $loops --readers 3 --reader-delay-ns $delay \
                --ring-size 1M "$f" >"$tmp/run.json" 2>"$tmp/run.err" &
            pid=$!
            : >"$tmp/rss"
            while kill -0 $pid 2>/dev/null; do
                sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null >>"$tmp/rss"
                sleep 0.2
            done
            wait $pid
            rc=$?
            python3 - "$tmp/run.json" "$tmp/rss" "$rc" "$(basename "$f")" "$delay" \
                "$((per_pass * loops))" >>"$tmp/runs" 2>"$tmp/check.err" <<'PY' || {
import json, sys
path, rssf, rc, name, delay, want = sys.argv[1:7]
rss = [int(x) for x in open(rssf).read().split() if x.strip()]
problems = []
if rc != "0":
    problems.append(f"exit {rc}")
try:
    d = json.load(open(path))
except Exception as e:
    d = None
    problems.append(f"no JSON report ({e})")
if d:
    if d.get("verified") is not True:
        problems.append("verified is not true")
    if d["feed"]["messages"] != int(want):
        problems.append(f"feed.messages {d['feed']['messages']} != {want}")
    pub = d["ring"]["published"]
    for i, r in enumerate(d["readers"]):
        if r["read"] + r["lost"] != pub:
            problems.append(f"reader {i}: read {r['read']} + lost {r['lost']} != published {pub}")
        if r.get("skipped", r["lost"]) != r["lost"] or r.get("seq_errors", 0) != 0:
            problems.append(f"reader {i}: skipped {r.get('skipped')} / seq_errors {r.get('seq_errors')}")
h = len(rss) // 2
first, second = (max(rss[:h]) if h else 0), (max(rss[h:]) if rss[h:] else 0)
grew = len(rss) >= 4 and second > first + 2048
if grew:
    problems.append(f"RSS grew within the run: {first} -> {second} kB")
msgs = d["feed"]["messages"] if d else 0
lost = [r["lost"] for r in d["readers"]] if d else []
print(json.dumps({"name": name, "delay": int(delay), "msgs": msgs, "peak": max(rss or [0]),
                  "first": first, "second": second, "lost": lost, "problems": problems}))
sys.exit(1 if problems else 0)
PY
                fail=1
                echo "soak: replay run $run ($(basename "$f"), delay $delay) FAILED:"
                tail -n 1 "$tmp/runs"
                cat "$tmp/check.err" "$tmp/run.err" | tail -n 20
            }
        done
    done
done
replay_summary=$(python3 - "$tmp/runs" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = sum(1 for r in runs if r["problems"])
msgs = sum(r["msgs"] for r in runs)
peaks = {}
for r in runs:
    peaks.setdefault((r["name"], r["delay"]), []).append(r["peak"])
spread = max((max(v) - min(v) for v in peaks.values()), default=0)
allp = [r["peak"] for r in runs] or [0]
flat = spread <= 4096 and not any("RSS" in p for r in runs for p in r["problems"])
lapped = sum(1 for r in runs if any(r["lost"]))
print(f"{'ok' if not bad and flat else 'FAIL'}|replay {len(runs)} runs, {msgs / 1e6:.1f}M messages, "
      f"{bad} failed, {lapped} with lapped readers; peak RSS {min(allp) / 1024:.1f}-"
      f"{max(allp) / 1024:.1f} MB, spread per config {spread} kB ({'flat' if flat else 'GREW'})")
PY
)
echo "soak: $replay_summary"
case $replay_summary in ok\|*) ;; *) fail=1 ;; esac

# ---- 2. the ring alone, readers of different speeds ------------------------------------------
ring_secs=$((total - $(($(date +%s) - start))))
[ $ring_secs -ge 10 ] || ring_secs=10
echo "soak: ring phase, $ring_secs s"
if [ -x "$BUILD/soak_ring" ]; then
    "$BUILD/soak_ring" "$ring_secs" 0,200,2000,50000 >"$tmp/ring.out" || fail=1
    cat "$tmp/ring.out"
    ring_summary=$(tail -n 1 "$tmp/ring.out")
else
    ring_summary="soak_ring not built ($BUILD/soak_ring)"
    fail=1
fi
elapsed=$(($(date +%s) - start))
verdict=PASS
[ $fail -eq 0 ] || verdict=FAIL
echo "soak: $verdict after $((elapsed / 60)) min $((elapsed % 60)) s: ${replay_summary#*|}; ring $(echo "$ring_summary" | sed 's/^soak_ring: [A-Z]* //')"
[ $fail -eq 0 ]
