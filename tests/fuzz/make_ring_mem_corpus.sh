#!/bin/sh
# make_ring_mem_corpus.sh - writes the seed corpus of fuzz_ring_mem (deterministic).
# Each seed: flags, messages written, then patches {u16 offset (little-endian), u8 length, bytes}
# over the ring's memory: control block at 0 (tail 128, intent 136, last_pos 144, head 256,
# head_seq 264, closed 24, consumed 384), data at 512 (see tests/fuzz/fuzz_ring_mem.c).
set -eu
out=${1:-$(dirname "$0")/corpus/fuzz_ring_mem}
mkdir -p "$out"
python3 - "$out" <<'PY'
import random, struct, sys
out = sys.argv[1]
def patch(off, b):
    return struct.pack("<HB", off, len(b)) + bytes(b)
def u64(v):
    return struct.pack("<Q", v & (2**64 - 1))
def save(name, flags, msgs, patches):
    open(f"{out}/{name}", "wb").write(bytes([flags, msgs]) + b"".join(patches))
save("seed-clean", 0, 40, [])
save("seed-tail-huge", 0, 40, [patch(128, u64(2**63 + 8))])
save("seed-tail-odd", 2, 40, [patch(128, u64(12345))])
save("seed-head-past-tail", 0, 60, [patch(256, u64(1 << 40)), patch(128, u64(4096))])
save("seed-intent-huge", 0, 60, [patch(136, u64(2**64 - 8)), patch(136, u64(2**64 - 8))])
save("seed-lastpos-odd", 4, 30, [patch(144, u64(77)), patch(144, u64(77))])
save("seed-rec-len", 0, 20, [patch(512, struct.pack("<IHH", 0xFFFFFF00, 1, 0)), patch(520, u64(5))])
save("seed-rec-seq", 0, 20, [patch(512 + 48, u64(999)), patch(512 + 8, u64(3))])
save("seed-all-pad", 0, 10, [patch(512 + 64 * i, struct.pack("<IHH", 40, 0, 1)) for i in range(20)])
save("seed-closed", 8, 25, [patch(24, b"\x01\x00\x00\x00")])
save("seed-consumer", 1, 200, [patch(384, u64(13)), patch(128, u64(1 << 20))])
r = random.Random(7)
for k in range(4):
    ps = [patch(r.randrange(4608), [r.randrange(256) for _ in range(r.randrange(1, 40))])
          for _ in range(30)]
    save(f"seed-random-{k}", r.randrange(16), r.randrange(256), ps)
PY
