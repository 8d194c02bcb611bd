#!/bin/sh
# make_alloc_corpus.sh - writes the seed corpora of fuzz_pool, fuzz_slab and fuzz_arena
# (deterministic: fixed seeds). Each seed is a configuration header followed by an operation
# program (the input formats are described at the top of tests/fuzz/fuzz_{pool,slab,arena}.c):
# every configuration family (flags, alignments, caller memory, on_empty, size-class spacing,
# caps, marks) with a random program, plus a few directed ones (exhaust then refill, nested marks).
# usage: tests/fuzz/make_alloc_corpus.sh [CORPUS_DIR]   (default tests/fuzz/corpus)
set -eu
out=${1:-$(dirname "$0")/corpus}
mkdir -p "$out/fuzz_pool" "$out/fuzz_slab" "$out/fuzz_arena"
python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
def save(target, name, b):
    open(f"{out}/{target}/seed-{name}", "wb").write(bytes(b))

# ---- pool: c0 block size, c1 align code | flags << 4, c2 capacity | mem << 6 | system << 7,
#      c3 misalignment | mem length kind << 6, c4 threads; then (op, arg) pairs
def pool_ops(r, n, alloc_bias=3):
    ops = []
    for _ in range(n):
        k = r.randrange(8 + alloc_bias)
        op = k if k < 8 else r.choice([0, 1, 2])
        ops += [op | (r.randrange(32) << 3), r.randrange(256)]
    return ops
r = random.Random(7)
i = 0
for bs in [1, 24, 0x80 | 2, 0x80 | 127]:            # 1, 24, 75, 4700 bytes
    for acode in [0, 1, 4, 8, 13]:                   # default, 1, 8, 128, 4096
        for flags in [0, 1, 2, 3]:                   # -, threadsafe, debug, both
            if (acode + flags + bs) % 3:             # a spread, not the full product
                continue
            cap = [1, 5, 63][i % 3]
            system = (i % 2) << 7
            save("fuzz_pool", f"cfg-{i:02d}",
                 [bs, acode | flags << 4, cap | system, r.randrange(64), i % 8] +
                 pool_ops(r, 150))
            i += 1
for kind in range(4):                                # caller memory: each length variant
    save("fuzz_pool", f"mem-{kind}", [40, 5, 16 | 0x40, r.randrange(64) | kind << 6, 200] +
         pool_ops(r, 120))
save("fuzz_pool", "prefault-huge", [64, 0xC0 | 7, 8, 0, 0] + pool_ops(r, 80))
prog = []                                            # exhaust, fall back, free all, refill
for _ in range(12): prog += [0, 0]
prog += [7, 2]
for _ in range(12): prog += [0x80, 0]
prog += [7, 1 | (40 << 2)]                           # churn (wraps the inline 16-bit count)
save("fuzz_pool", "exhaust-system", [32, 0, 8 | 0x80, 0, 0] + prog)
save("fuzz_pool", "exhaust-null-ts", [32, 0x10, 8, 0, 3] + prog)

# ---- slab: c0 min, c1 c2 max (BE), c3 bpc | cpd << 4, c4 flags, c5 threads; (op, arg, arg2)
def slab_ops(r, n):
    ops = []
    for _ in range(n):
        ops += [r.randrange(256), r.randrange(256), r.randrange(256)]
    return ops
cfgs = [(1, 256, 2, 4, 0), (16, 4096, 3, 0, 4), (20, 1000, 1, 1, 2), (100, 65535, 2, 8, 1),
        (1, 2000, 4, 3, 4 | 1), (8, 8192, 5, 5, 2 | 4), (16, 600, 15, 6, 0), (1, 100, 1, 0, 0x20),
        (1, 200, 2, 0, 0x60), (200, 100, 1, 0, 0), (16, 1 << 20, 1, 1, 0)]
for j, (mn, mx, bpc, cpd, fl) in enumerate(cfgs):
    if mx >= 1 << 20:
        hdr = [mn, 0xFF, 0]
    else:
        hdr = [mn, mx >> 8, mx & 255]
    save("fuzz_slab", f"cfg-{j:02d}", hdr + [bpc | cpd << 4, fl, j % 8] + slab_ops(r, 150))

# ---- arena: c0 chunk/64, c1 max_bytes/512, c2 max_chunk/256, c3 mem | misalign << 1 |
#      prefault << 7, c4 mem_len/33, c5 extra; then (op, arg, arg2)
def arena_ops(r, n, big=0.1):
    ops = []
    for _ in range(n):
        k = r.random()
        if k < 0.5:    # alloc: mostly small
            op = r.choice([0, 1, 2]) | (0x80 if r.random() < big else (0x40 if r.random() < 0.05 else 0))
            ops += [op, r.randrange(256), r.randrange(64)]
        elif k < 0.7:  # save
            ops += [r.choice([3, 4]), r.randrange(8), 0]
        elif k < 0.9:  # rewind
            ops += [r.choice([5, 6]), r.randrange(8), 0]
        else:          # reset or check
            ops += [7, r.randrange(256), r.randrange(256)]
    return ops
acfgs = [(0, 0, 0, 0, 0), (16, 0, 64, 0, 0), (4, 8, 16, 1 | 5 << 1, 60), (64, 128, 0, 1, 31),
         (2, 4, 4, 0, 0), (255, 255, 255, 1 | 33 << 1, 255), (8, 0, 8, 0x80, 0), (1, 1, 1, 0, 0)]
for j, c in enumerate(acfgs):
    save("fuzz_arena", f"cfg-{j:02d}", list(c) + [0] + arena_ops(r, 160))
prog = []                                            # nested marks, rewinds innermost first
for d in range(8):
    prog += [3, d, 0, 0, 0, 40 + d]
for d in reversed(range(8)):
    prog += [5, d, 0]
prog += [5, 0, 0, 7, 0, 0, 5, 3, 0]                  # again, reset, stale mark
save("fuzz_arena", "nested-marks", [16, 0, 0, 0, 0, 0] + prog)
save("fuzz_arena", "huge-pages", [16, 0, 0, 0, 0, 0xFE] + arena_ops(r, 60, big=0.3))
PY
