#!/bin/sh
# make_rtk_source_corpus.sh - writes the seed corpus of fuzz_rtk_source (deterministic): for each
# mode (plain / zstd, intact / cut / one flipped byte, streams in the header or not) a program of
# data records and marks - a sequenced feed with gaps, heartbeats, end of session, a backward
# packet, a sequence number near 2^64 - in the input format of tests/fuzz/fuzz_rtk_source.c.
# usage: tests/fuzz/make_rtk_source_corpus.sh [DIR]   (default tests/fuzz/corpus/fuzz_rtk_source)
set -eu
out=${1:-$(dirname "$0")/corpus/fuzz_rtk_source}
mkdir -p "$out"
python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
def data(stream, typ, ts, payload):
    return [0 | stream << 2, typ, len(payload), ts >> 8, ts & 255] + list(payload)
def mark(stream, how, extra, count, ts):
    # how: bits 0-1 seq step kind, bit 2 heartbeat, bits 2-3 both: end of session, bits 4-5 framing
    b = [2 | stream << 2, how]
    if how & 3:
        b.append(extra)
    if not how & 4:
        b.append(count)
    return b + [ts >> 8, ts & 255]
for mode in range(16):
    r = random.Random(mode)
    prog = [mode]
    if mode & 4:
        prog += [3 | 1 << 2, 9]                      # declare stream 1 after the header
    for pkt in range(12):
        s = r.randrange(3)
        kind = r.choice([0, 0, 0, 1, 2, 3]) if pkt > 2 else 0
        hb = pkt % 5 == 4
        how = kind | (4 if hb else 0) | (0x0C if pkt == 11 else 0) | (1 << 4)
        n = 0 if hb else r.randrange(1, 4)
        prog += mark(s, how, r.randrange(1, 9), n, pkt * 7)
        for i in range(n):
            body = bytes(r.randrange(256) for _ in range(r.randrange(1, 40)))
            prog += data(s, ord("AEFDXUP"[r.randrange(7)]), pkt * 7 + i, body)
    prog += data(7, 0xFF, 999, b"untyped")         # untyped payload, stream 7
    prog += [0 | 7 << 2 | 0x80, 0xFE, 0x41, 0, 3, 0, 0, 1, 2]   # no stream, 16-bit type
    prog += [r.randrange(256) for _ in range(3)]  # where to cut / flip (damaged modes)
    open(f"{out}/seed-mode-{mode:02d}", "wb").write(bytes(prog))
PY
