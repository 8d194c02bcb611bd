#!/bin/sh
# bad_input.sh - hostile-input matrix: replay never crashes, hangs or trips a sanitizer on bad files
#
# For each input kind (pcap, pcapng, ITCH, .rtk, DBN) and the zstd-compressed form of every variant:
# empty, one byte, cut inside the file header, cut inside a record, cut by one byte, bit flips,
# length fields that lie (0, 0xFFFF, past the end; in every layer the kind has: pcap record,
# IPv4, UDP, MoldUDP64; pcapng block and packet; ITCH length prefix; .rtk record, header, end
# record, with their checks recomputed so that the lie reaches the bounds checks; DBN record
# length (0, below a header, one word past the end), version, metadata length, symbol count),
# wrong magic;
# plus zstd-level damage, a directory, /dev/null and a FIFO whose writer closes without writing.
# Base files come from `replay gen` (small), mutations from python3 (deterministic seeds).
#
# Every case runs `replay --json`, `replay info` and `replay convert` (where they exist) under
# `timeout`; a file that convert accepts must replay back cleanly (--strict), one it refuses must
# leave no output or temporary file behind. Allowed
# outcomes: exit 2 with a message naming the file (and a byte offset, for damage after the
# first bytes), or exit 0 (a cut last record must then print the truncation warning). Anything
# else fails: a signal, a timeout (hang), another exit code, a sanitizer report on stderr, or a
# half-written report on stdout with exit 2. Under ASan+UBSan, REPLAY is the sanitized build.
# .rtk rows need `replay convert`; without it they are skipped with a message.
. "$(dirname "$0")/lib/common.sh"
need_replay
need_cmd python3
have_zstd=1
command -v zstd >/dev/null 2>&1 || have_zstd=0
cases=0 runs=0
: "${BAD_INPUT_TIMEOUT:=30}"
# sanitizer reports go to stderr (checked below); a leak is a failure too
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export ASAN_OPTIONS

has_info=0
"$REPLAY" info --help >/dev/null 2>&1 && has_info=1
has_convert=0
"$REPLAY" convert --help >/dev/null 2>&1 && has_convert=1

# check ENTRY FILE EXPECT [ARGS...] : one run; EXPECT is
#   err   exit 2 required (stderr names FILE)
#   any   exit 0 or 2 (2: stderr names FILE and a byte offset)
#   cut   as any; exit 0 must print the truncation warning
#   plain as any, without the offset requirement (damage in the first bytes)
check() {
    entry=$1 file=$2 expect=$3
    shift 3
    runs=$((runs + 1))
    timeout -k 5 "$BAD_INPUT_TIMEOUT" "$REPLAY" "$@" "$file" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    what="$entry: replay $* $(basename "$file")"
    if [ -n "${BAD_INPUT_VERBOSE:-}" ]; then
        sum=$(head -n 1 "$tmp/err" | sed 's|.*/cases/||' | cut -c1-110)
        [ $rc -eq 0 ] && sum="$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1])); i=d["input"]; f=d.get("feed",{})
print("messages %s decode_errors %s truncated %s" % (f.get("messages"), i.get("decode_errors"),
      i.get("truncated")))' "$tmp/out" 2>/dev/null) $sum"
        printf '%-40s %-5s exit %3s  %s\n' "$entry" "${1%%-*}" "$rc" "$sum"
    fi
    if grep -Eq 'Sanitizer|runtime error:|SUMMARY:|Segmentation|core dumped' "$tmp/err"; then
        fail "$what: sanitizer/crash report (exit $rc):"
        sed 's/^/    | /' "$tmp/err" | head -n 30
        return
    fi
    case $rc in
    0)
        if [ "$expect" = err ]; then
            fail "$what: exit 0, want 2"
        elif [ "$expect" = cut ] && ! grep -q 'truncated' "$tmp/err" &&
            ! grep -q '"truncated": *true' "$tmp/out"; then
            fail "$what: exit 0 without the truncation warning: $(head -c 300 "$tmp/err")"
        fi
        ;;
    2)
        base=$(basename "$file")
        grep -q -- "$base" "$tmp/err" || fail "$what: exit 2, message does not name the file: $(head -c 300 "$tmp/err")"
        if [ "$expect" = any ] || [ "$expect" = cut ]; then
            grep -Eq 'offset [0-9]+|byte [0-9]+' "$tmp/err" ||
                fail "$what: exit 2 without a byte offset: $(head -c 300 "$tmp/err")"
        fi
        [ -s "$tmp/out" ] && fail "$what: exit 2 with a (half-written) report on stdout"
        ;;
    124 | 137) fail "$what: timed out after ${BAD_INPUT_TIMEOUT}s (hang?)" ;;
    *)
        fail "$what: exit $rc: $(head -c 400 "$tmp/err")"
        ;;
    esac
}

# run_case ENTRY FILE EXPECT : replay (ring through readers), info and convert where they exist;
# what convert writes from a damaged input (exit 0) must itself read back cleanly
run_case() {
    cases=$((cases + 1))
    check "$1" "$2" "$3" -q --json --ring-size 1M
    [ $has_info -eq 1 ] && check "$1" "$2" "$3" info --json
    if [ $has_convert -eq 1 ]; then
        rm -f "$tmp/conv.rtk"
        check "$1" "$2" "$3" convert -q -o "$tmp/conv.rtk"
        if [ $rc -ne 0 ]; then # documented: on any error nothing is left (temporaries too)
            leftover=$(find "$tmp" -maxdepth 1 -name 'conv.rtk*')
            [ -z "$leftover" ] || fail "$1: convert exit $rc left $leftover"
            rm -f "$tmp"/conv.rtk*
        else
            timeout -k 5 "$BAD_INPUT_TIMEOUT" "$REPLAY" -q --json --strict --ring-size 1M \
                "$tmp/conv.rtk" >"$tmp/out" 2>"$tmp/err" ||
                fail "$1: replay of what convert wrote: exit $?: $(head -c 300 "$tmp/err")"
        fi
    fi
}

# ---- base files ------------------------------------------------------------------------------
"$REPLAY" gen --messages 400 --seed 11 --gap-every 9 --heartbeat-every 7 -q -o "$tmp/base.pcap" ||
    { echo "gen failed"; exit 1; }
kinds="pcap pcapng itch"
"$REPLAY" gen --format dbn --messages 300 --seed 11 --symbols 4 -q -o "$tmp/base.dbn" 2>/dev/null &&
    kinds="$kinds dbn"
if [ $has_convert -eq 1 ]; then
    "$REPLAY" convert -q "$tmp/base.pcap" -o "$tmp/base.rtk" >/dev/null 2>"$tmp/err" ||
        { fail "convert base.pcap -> base.rtk: $(cat "$tmp/err")"; }
    [ -s "$tmp/base.rtk" ] && kinds="$kinds rtk"
else
    echo "note: \`replay convert\` is not available: the .rtk rows are skipped"
fi

# The mutator: writes the variants of each kind into DIR and a manifest "name expect" per line.
# shellcheck disable=SC2086 # one argument per kind
python3 - "$tmp" $kinds <<'PY' || { echo "mutator failed"; exit 1; }
import random, struct, sys, os, zlib
tmp, kinds = sys.argv[1], sys.argv[2:]
pcap = open(f"{tmp}/base.pcap", "rb").read()
man = open(f"{tmp}/manifest", "w")

def put(kind, name, data, expect):
    fn = f"{kind}-{name}.{kind}"
    open(f"{tmp}/cases/{fn}", "wb").write(bytes(data))
    man.write(f"{fn} {expect}\n")

os.makedirs(f"{tmp}/cases", exist_ok=True)

# classic pcap records: (offset of the 16-byte record header, caplen)
def pcap_records(d):
    out, off = [], 24
    while off + 16 <= len(d):
        caplen = struct.unpack_from("<I", d, off + 8)[0]
        out.append((off, caplen))
        off += 16 + caplen
    return out
recs = pcap_records(pcap)
assert len(recs) > 20

# ITCH file from the MoldUDP64 payloads (Ethernet 14 + IPv4 20 + UDP 8 + MoldUDP64 20)
itch = bytearray()
for off, caplen in recs:
    p = pcap[off + 16: off + 16 + caplen]
    count = struct.unpack_from("!H", p, 42 + 18)[0]
    q = 42 + 20
    if count == 0xFFFF:
        continue
    for _ in range(count):
        n = struct.unpack_from("!H", p, q)[0]
        itch += p[q:q + 2 + n]
        q += 2 + n
itch = bytes(itch)
itch_recs, q = [], 0
while q + 2 <= len(itch):
    n = struct.unpack_from("!H", itch, q)[0]
    itch_recs.append((q, n))
    q += 2 + n

# pcapng: section header, interface description (Ethernet, ns resolution), enhanced packets
def block(btype, body):
    body = bytes(body) + b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
idb = block(1, struct.pack("<HHI", 1, 0, 65535) + struct.pack("<HHBxxx", 9, 1, 9) + b"\0" * 4)
png = bytearray(shb + idb)
png_blocks = []
ts_hi, ts_lo = struct.unpack_from("<II", pcap, 24)  # first record's seconds / ns
for off, caplen in recs:
    sec, frac = struct.unpack_from("<II", pcap, off)
    t = sec * 1000000000 + frac
    png_blocks.append(len(png))
    png += block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, caplen, caplen) +
                 pcap[off + 16: off + 16 + caplen])
png = bytes(png)

def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xFFFFFFFF

M = (1 << 64) - 1
def rotl(x, r): return ((x << r) | (x >> (64 - r))) & M
def rec_check(h):
    a = ((struct.unpack_from("<Q", h, 0)[0] ^ 0x52544B3100000000) * 0x9E3779B97F4A7C15) & M
    b = ((struct.unpack_from("<I", h, 8)[0] ^ 0x73747265) * 0xC2B2AE3D27D4EB4F) & M
    c = (struct.unpack_from("<Q", h, 16)[0] * 0x165667B19E3779F9) & M
    d = (struct.unpack_from("<Q", h, 24)[0] * 0xD6E8FEB86659FD93) & M
    x = a ^ rotl(b, 17) ^ rotl(c, 31) ^ rotl(d, 47)
    x ^= x >> 32
    x = (x * 0x9E3779B97F4A7C15) & M
    return x >> 32

def mutations(kind, d, hdr_len, recs_at, lies, magic_len):
    """recs_at: offsets of records; lies: list of (name, function(bytearray) -> None)"""
    # a stable seed: str hash() changes with every interpreter run (PYTHONHASHSEED)
    rng = random.Random(zlib.crc32(kind.encode()))
    put(kind, "ok", d, "plain")
    put(kind, "empty", b"", "err")
    put(kind, "one-byte", d[:1], "err")
    put(kind, "cut-header", d[:max(1, hdr_len // 2)], "err")
    mid = recs_at[len(recs_at) // 2]
    put(kind, "cut-record", d[:mid + 5], "cut")
    put(kind, "cut-one-byte", d[:-1], "cut")
    put(kind, "cut-last-record", d[:recs_at[-1] + 3], "cut")
    for i in range(6):
        b = bytearray(d)
        lo = hdr_len if i < 4 else 0
        for _ in range(1 + i):
            k = rng.randrange(lo, len(b))
            b[k] ^= 1 << rng.randrange(8)
        put(kind, f"flip-{i}", b, "any" if i < 4 else "plain")
    b = bytearray(d)
    for k in range(hdr_len, len(b), 97):
        b[k] ^= 0xFF
    put(kind, "flip-many", b, "any")
    for lie in lies:  # (name, mutate[, expect]): header-level lies need no offset
        b = bytearray(d)
        lie[1](b)
        put(kind, "lie-" + lie[0], b, lie[2] if len(lie) > 2 else "any")
    b = bytearray(d)
    b[0:magic_len] = b"\xde\xad\xbe\xef\x00\x11\x22\x33"[:magic_len]
    put(kind, "bad-magic", b, "err")

def pcap_lies():
    first, mid = recs[0][0], recs[len(recs) // 2][0]
    L = []
    for where, off in (("first", first), ("mid", mid)):
        for v in (0, 0xFFFF, 0x7FFFFFFF):
            def f(b, off=off, v=v): struct.pack_into("<I", b, off + 8, v)
            L.append((f"caplen-{where}-{v:x}", f))
        def g(b, off=off): struct.pack_into("<I", b, off + 12, 0)   # orig_len < caplen
        L.append((f"origlen-{where}-0", g))
        p = off + 16
        for name, at, fmt, vals in (("ip-totlen", 14 + 2, "!H", (0, 20, 0xFFFF)),
                                    ("ip-ihl", 14, "!B", (0x40, 0x4F)),
                                    ("udp-len", 34 + 4, "!H", (0, 7, 0xFFFF)),
                                    ("mold-count", 42 + 18, "!H", (0, 0xFFFE, 0xFFFF)),
                                    ("mold-msglen", 62, "!H", (0, 1, 0xFFFF))):
            for v in vals:
                def h(b, p=p, at=at, fmt=fmt, v=v): struct.pack_into(fmt, b, p + at, v)
                L.append((f"{name}-{where}-{v:x}", h))
    def snap(b): struct.pack_into("<I", b, 16, 0)  # snaplen 0
    L.append(("snaplen-0", snap, "plain"))
    def linktype(b): struct.pack_into("<I", b, 20, 0xFFFF)
    L.append(("linktype-ffff", linktype, "plain"))
    return L

def pcapng_lies():
    L = []
    for where, off in (("first", png_blocks[0]), ("mid", png_blocks[len(png_blocks) // 2])):
        for v in (0, 0xFFFF, 0x7FFFFFF0):
            def f(b, off=off, v=v): struct.pack_into("<I", b, off + 4, v)
            L.append((f"blocklen-{where}-{v:x}", f))
            def g(b, off=off, v=v): struct.pack_into("<I", b, off + 20, v)   # captured len
            L.append((f"caplen-{where}-{v:x}", g))
        def t(b, off=off): struct.pack_into("<I", b, off + 8, 7)             # no such interface
        L.append((f"ifid-{where}", t))
    def shblen(b): struct.pack_into("<I", b, 4, 0xFFFF)
    L.append(("shb-len-ffff", shblen))
    def idblen(b): struct.pack_into("<I", b, len(shb) + 4, 0)
    L.append(("idb-len-0", idblen))
    return L

def itch_lies():
    L = []
    for where, (off, n) in (("first", itch_recs[0]), ("mid", itch_recs[len(itch_recs) // 2])):
        for v in (0, 1, 0xFFFF, len(itch) - off):
            def f(b, off=off, v=v): struct.pack_into("!H", b, off, v & 0xFFFF)
            L.append((f"len-{where}-{v:x}", f, "plain" if where == "first" else "any"))
    return L

kinds_data = {}
mutations("pcap", pcap, 24, [o for o, _ in recs], pcap_lies(), 4)
mutations("pcapng", png, len(shb) + len(idb), png_blocks, pcapng_lies(), 4)
mutations("itch", itch, 3, [o for o, _ in itch_recs], itch_lies(), 1)

if "rtk" in kinds:
    rtk = open(f"{tmp}/base.rtk", "rb").read()
    hs, rhs = struct.unpack_from("<I", rtk, 12)[0], struct.unpack_from("<I", rtk, 20)[0]
    rrecs, off = [], hs
    while off + rhs <= len(rtk):
        n, typ, kind = struct.unpack_from("<IHH", rtk, off)
        rrecs.append((off, n, kind))
        off += (rhs + n + 7) // 8 * 8
    def fixhdr(b):  # recompute the header CRC
        struct.pack_into("<I", b, hs - 4, crc32c(bytes(b[:hs - 4])))
    def setrec(b, off, fmt, at, v):  # change a record header field, recompute its check
        struct.pack_into(fmt, b, off + at, v)
        struct.pack_into("<I", b, off + 12, rec_check(bytes(b[off:off + 32])))
    L = []
    data = [r for r in rrecs if r[2] == 0]
    for where, (off, n, kind) in (("first", data[0]), ("mid", data[len(data) // 2]),
                                  ("end", rrecs[-1])):
        for v in (0, 0xFFFF, len(rtk), 0xFFFFFFFF):
            L.append((f"reclen-{where}-{v:x}",
                      lambda b, off=off, v=v: setrec(b, off, "<I", 0, v)))
        L.append((f"reckind-{where}-8000", lambda b, off=off: setrec(b, off, "<H", 6, 0x8000)))
        L.append((f"reckind-{where}-9", lambda b, off=off: setrec(b, off, "<H", 6, 9)))
    marks = [r for r in rrecs if r[2] == 3]
    if marks:
        L.append(("mark-len-0", lambda b: setrec(b, marks[0][0], "<I", 0, 0)))
    end = rrecs[-1][0]
    L.append(("end-count", lambda b: (struct.pack_into("<Q", b, end + 32, 7))))
    for name, at, fmt, v in (("hdrsize-0", 12, "<I", 0), ("hdrsize-big", 12, "<I", 1 << 20),
                             ("hdrsize-odd", 12, "<I", hs + 4),
                             ("rechdr-0", 20, "<I", 0), ("rechdr-256", 20, "<I", 256),
                             ("maxpayload-0", 32, "<I", 0), ("maxpayload-big", 32, "<I", 1 << 30),
                             ("streams-big", 36, "<I", 0xFFFFFFFF),
                             ("namelen-big", 40, "<H", 0xFFFF), ("version-99", 8, "<H", 99),
                             ("must-understand", 16, "<I", 1 << 20)):
        def f(b, at=at, fmt=fmt, v=v):
            struct.pack_into(fmt, b, at, v)
            if at != 12:
                fixhdr(b)
        L.append((name, f))
    mutations("rtk", rtk, hs, [r[0] for r in rrecs], L, 8)

if "dbn" in kinds:
    dbn = open(f"{tmp}/base.dbn", "rb").read()
    meta = 8 + struct.unpack_from("<I", dbn, 4)[0]
    drecs, off = [], meta
    while off < len(dbn):
        drecs.append(off)
        off += dbn[off] * 4
    L = []
    for where, off in (("first", drecs[0]), ("mid", drecs[len(drecs) // 2])):
        for v in (0, 1, 3, 0xFF):
            L.append((f"reclen-{where}-{v:x}", lambda b, off=off, v=v: b.__setitem__(off, v)))
    last = drecs[-1]
    L.append(("reclen-last-past-end", lambda b: b.__setitem__(last, b[last] + 1)))
    for v in (0, 4, 99):
        L.append((f"version-{v}", lambda b, v=v: b.__setitem__(3, v), "err"))
    for name, v in (("short", meta - 8 - 80), ("long", meta - 8 + 56), ("huge", 0x7FFFFFF0),
                    ("below-fixed", 50), ("zero", 0)):
        L.append((f"metalen-{name}", lambda b, v=v: struct.pack_into("<I", b, 4, v), "err"))
    L.append(("symbols-count-big", lambda b: struct.pack_into("<I", b, 8 + 104, 0x10000000), "err"))
    L.append(("schema-def-big", lambda b: struct.pack_into("<I", b, 8 + 100, 0xFFFFFFF0), "err"))
    mutations("dbn", dbn, meta, drecs, L, 4)
man.close()
PY

# ---- run: every case plain, then (when zstd is there) compressed ----------------------------
while read -r name expect; do
    run_case "$name" "$tmp/cases/$name" "$expect"
    if [ $have_zstd -eq 1 ]; then
        zstd -q -c <"$tmp/cases/$name" >"$tmp/cases/$name.zst"
        run_case "$name.zst" "$tmp/cases/$name.zst" "$expect"
    fi
done <"$tmp/manifest"

# zstd-level damage of a good compressed file (one kind is enough: the reader is shared)
if [ $have_zstd -eq 1 ]; then
    zstd -q -c <"$tmp/base.pcap" >"$tmp/cases/z.pcap.zst"
    python3 - "$tmp/cases" <<'PY'
import random, sys
d = open(f"{sys.argv[1]}/z.pcap.zst", "rb").read()
def put(n, b): open(f"{sys.argv[1]}/zstd-{n}.pcap.zst", "wb").write(bytes(b))
put("cut-frame-header", d[:6])
put("cut-mid", d[:len(d) // 2])
put("cut-one-byte", d[:-1])
r = random.Random(5)
for i in range(4):
    b = bytearray(d)
    for _ in range(1 + 3 * i):
        k = r.randrange(4, len(b))
        b[k] ^= 1 << r.randrange(8)
    put(f"flip-{i}", b)
put("magic-only", d[:4])
put("trailing-garbage", d + b"\x01\x02\x03garbage")
put("skippable-only", b"\x50\x2a\x4d\x18" + (8).to_bytes(4, "little") + b"\0" * 8)
PY
    for f in "$tmp"/cases/zstd-*.pcap.zst; do
        run_case "$(basename "$f")" "$f" plain
    done
fi

# ---- every kind read as every other (--format) and every framing forced on the capture ------
for f in "$tmp"/cases/*-ok.*; do
    case $f in *.zst) continue ;; esac
    for fmt in pcap pcapng itch rtk dbn dbn-frag; do
        case $f in *".$fmt") continue ;; esac
        cases=$((cases + 1))
        check "$(basename "$f") as $fmt" "$f" plain -q --json --ring-size 1M --format "$fmt"
    done
done
for fr in udp moldudp64 iextp; do
    cases=$((cases + 1))
    check "pcap-ok.pcap framing $fr" "$tmp/cases/pcap-ok.pcap" plain -q --json --ring-size 1M \
        --framing "$fr"
done

# ---- not regular files -----------------------------------------------------------------------
mkdir "$tmp/cases/a-directory.pcap"
run_case "directory" "$tmp/cases/a-directory.pcap" err
run_case "/dev/null" /dev/null err
# a FIFO whose writer opens and closes without writing: replay must see EOF and exit, not hang
mkfifo "$tmp/cases/empty.fifo" 2>/dev/null && {
    for sub in replay info; do
        [ $sub = info ] && [ $has_info -eq 0 ] && continue
        (exec 3>"$tmp/cases/empty.fifo"; exec 3>&-) &
        wpid=$!
        if [ $sub = replay ]; then
            check fifo "$tmp/cases/empty.fifo" err -q --json --ring-size 1M
        else
            check fifo "$tmp/cases/empty.fifo" err info --json
        fi
        # if replay never opened the FIFO the writer is still blocked: release it
        kill "$wpid" 2>/dev/null
        wait "$wpid" 2>/dev/null
    done
    # and a FIFO that carries a whole capture works like a file
    (cat "$tmp/base.pcap" >"$tmp/cases/empty.fifo") &
    wpid=$!
    check fifo-data "$tmp/cases/empty.fifo" plain -q --json --ring-size 1M
    kill "$wpid" 2>/dev/null
    wait "$wpid" 2>/dev/null
}

echo "bad_input: $cases cases, $runs runs, $failures failure(s) (kinds: $kinds$([ $have_zstd -eq 1 ] && echo ', each also .zst'))"
[ $failures -eq 0 ] || exit 1
echo "ok"
