#!/bin/sh
# hardening.sh - the release build is hardened: replay is a PIE with full RELRO (GNU_RELRO +
# BIND_NOW), a non-executable stack, stack protector and _FORTIFY_SOURCE checks; the shared
# library has full RELRO, no text relocations and the stack protector. What `hardening-check`
# (devscripts) reports, from readelf alone. Skips (77) for sanitizer builds (not hardened).
. "$(dirname "$0")/lib/common.sh"
cd "$ROOT" || exit 1
skip_sanitized_build "hardening flags are only in the release build"
need_cmd readelf

# elf_check FILE KIND : KIND is exe (PIE, fortify required) or lib
elf_check() {
    f=$1 kind=$2 before=$failures
    [ -f "$f" ] || { fail "$f is not built"; return; }
    h=$(readelf -h "$f") d=$(readelf -d "$f") l=$(readelf -lW "$f") s=$(readelf -sW --dyn-syms "$f")
    printf '%s' "$h" | grep -q 'Type: *DYN' || fail "$f: not position independent (ELF type)"
    if [ "$kind" = exe ]; then
        printf '%s' "$d" | grep -q 'FLAGS_1.*PIE' || fail "$f: not a PIE (no DF_1_PIE)"
        printf '%s' "$l" | grep -q 'INTERP' || fail "$f: no program interpreter"
    fi
    printf '%s' "$l" | grep -q 'GNU_RELRO' || fail "$f: no GNU_RELRO segment"
    printf '%s' "$d" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW' || fail "$f: no BIND_NOW (partial RELRO)"
    printf '%s' "$d" | grep -q 'TEXTREL' && fail "$f: has text relocations"
    printf '%s' "$l" | grep 'GNU_STACK' | grep -q 'RWE' && fail "$f: executable stack"
    printf '%s' "$s" | grep -q '__stack_chk_fail' || fail "$f: no stack protector (__stack_chk_fail)"
    nchk=$(printf '%s' "$s" | grep -Ec '__[a-z_]+_chk(@|$| )')
    [ "$kind" = exe ] && [ "$nchk" -eq 0 ] && fail "$f: no _FORTIFY_SOURCE checks (__*_chk)"
    [ $failures -eq "$before" ] && echo "$f: $(printf '%s' "$h" | sed -n 's/.*Type: *//p' | cut -d' ' -f1)," \
        "$(printf '%s' "$d" | grep -o 'Flags: .*' | head -n 1), GNU_RELRO," \
        "stack $(printf '%s' "$l" | grep GNU_STACK | awk '{print $(NF-1)}')," \
        "__stack_chk_fail, $nchk fortified calls"
}

elf_check "$BUILD/replay" exe
elf_check "$(find "$BUILD" -maxdepth 1 -name 'libringalloc.so.*.*.*' | head -n 1)" lib
[ $failures -eq 0 ] || exit 1
echo "hardening: ok"
