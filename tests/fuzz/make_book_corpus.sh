#!/bin/sh
# make_book_corpus.sh - writes the seed corpus of fuzz_book (deterministic).
# Each seed is a program for tests/fuzz/fuzz_book.c: a configuration byte (pool size, what an
# empty pool does), then steps: 2 = a built ITCH message (type index into "AFECXDURSP", ref,
# second ref, price step, quantity step, extra byte), 3 = a built MBO record (instrument bits,
# time, order id, price step, size step, action index into "ACMRTFNZ"), 0 = raw ITCH (length,
# bytes), 1 = raw MBO (56 bytes), 4 = end of session, 5 = a loss.
set -eu
out=${1:-$(dirname "$0")/corpus/fuzz_book}
mkdir -p "$out"
python3 - "$out" <<'PY'
import random, sys
out = sys.argv[1]
T = "AFECXDURSP"
A = "ACMRTFNZ"
def itch(t, ref=0, ref2=0, px=0, qty=1, k=1):
    return bytes([2, T.index(t), ref, ref2, px, qty, k])
def mbo(a, oid=0, px=0, size=1, k=4):
    return bytes([3, k, 1, oid, px, size, A.index(a)])
def save(name, cfg, steps):
    open(f"{out}/{name}", "wb").write(bytes([cfg]) + b"".join(steps))
# a book on both sides: adds at several prices, executions (E, C at a price), cancels, replace
book = [itch("A", r, 0, r % 5, 2 + r % 3, 1 + 2 * (r % 2)) for r in range(10)]
save("seed-itch-book", 20, book + [itch("E", 1, 0, 0, 1), itch("C", 2, 0, 3, 1), itch("X", 3, 0, 0, 1),
                                   itch("U", 4, 14, 2, 3), itch("D", 5), itch("D", 5)])
save("seed-itch-session", 20, book + [itch("S", k=1), itch("A", 1, 0, 1, 1, 1), bytes([4])])
save("seed-itch-errors", 8, [itch("E", 9, 0, 0, 1), itch("U", 9, 10), itch("A", 1, 0, 1, 7),
                             itch("E", 1, 0, 0, 7), itch("A", 2, 0, 1, 1, 65), itch("R", k=2),
                             itch("P")])
save("seed-itch-crossed", 20, [itch("A", 1, 0, 1, 1, 0), itch("A", 2, 0, 5, 1, 1),
                               itch("A", 3, 0, 9, 1, 1)])
save("seed-pool-fail", 0, [itch("A", r, 0, r % 3, 1, 1) for r in range(12)])
save("seed-pool-fallback", 64, [itch("A", r, 0, r % 3, 1, 1) for r in range(12)])
save("seed-pool-grow", 128, [itch("A", r, 0, r % 3, 1, 1) for r in range(20)])
save("seed-mbo", 20, [mbo("A", o, o % 4, 2, 4 + 4 * (o % 2)) for o in range(8)] +
     [mbo("C", 1, 1, 1), mbo("M", 2, 3, 5), mbo("T", 3), mbo("F", 3), mbo("R", k=5), mbo("Z")])
save("seed-raw", 20, [bytes([0, 3]) + b"A\x00\x01", bytes([0, 0]), bytes([1]) + bytes(56),
                      bytes([5, 9])])
r = random.Random(11)
for k in range(4):
    save(f"seed-random-{k}", r.randrange(256), [bytes([2]) + bytes(r.randrange(256) for _ in range(6))
                                                 for _ in range(60)])
PY
