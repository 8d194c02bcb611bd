#!/bin/sh
# make_ring_corpus.sh - writes the seed corpus of fuzz_ring (deterministic: fixed seeds).
# Each seed is an operation program (see tests/fuzz/fuzz_ring.c): random mixes, a write-heavy
# one that laps every reader, one that exercises reserve/commit shrink and peek/advance, and one
# whose readers resume with slack.
set -eu
out=${1:-$(dirname "$0")/corpus/fuzz_ring}
mkdir -p "$out"
python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
def save(name, b):
    open(f"{out}/{name}", "wb").write(bytes(b))
for seed in range(6):
    r = random.Random(seed)
    save(f"seed-random-{seed}", [r.randrange(256) for _ in range(256 + 256 * seed)])
# ops: (op >> 2) % 9 picks the operation, op % 3 the reader
def op(kind, reader, big=False):
    for o in range(256):
        if (o >> 2) % 9 == kind and o % 3 == reader and bool(o & 0x80) == big:
            return o
    raise SystemExit("no op")
r = random.Random(99)
prog = []
for i in range(600):
    prog += [op(0, 0, big=(i % 7 == 0)), r.randrange(256)]
    if i % 50 == 0:
        prog += [op(3, i % 3), 0, op(5, 1), 0, op(6, 1), 0]
save("seed-lapping", prog)
prog = []
for i in range(300):
    prog += [op(2, 0), r.randrange(256), op(5, i % 3), 0, op(0, 0), r.randrange(64),
             op(6, i % 3), 0, op(7, 2), 7, op(8, i % 3), r.randrange(256)]
save("seed-reserve-peek", prog)
# resume with slack (op 8, arg bit 0 set, bit 1 clear: oldest, slack (arg >> 2) % 8 * 512 bytes):
# the writer overruns slow readers, which read and poll (poll_ex) one message now and then
prog = []
for rd in range(3):
    prog += [op(8, rd), 1 | ((2 + 3 * rd) << 2)]
for i in range(700):
    prog += [op(0, 0), 24 + r.randrange(40)]
    if i % 5 == 0:
        prog += [op(3, i % 3), 0, op(7, (i + 1) % 3), 1 + i % 3]
save("seed-slack-lapping", prog)
PY
