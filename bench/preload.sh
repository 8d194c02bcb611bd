# preload.sh - sourced by bench/run-*.sh: run a benchmark with each system allocator as the
# shellcheck shell=sh
# process allocator (glibc as is; jemalloc, tcmalloc, mimalloc through LD_PRELOAD)

multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null)

# find_lib NAME... : the first shared library of that name in the usual directories
find_lib() {
    for n in "$@"; do
        for d in ${multiarch:+/usr/lib/$multiarch} /usr/lib64 /usr/lib /usr/local/lib; do
            if [ -f "$d/$n" ]; then
                echo "$d/$n"
                return 0
            fi
        done
    done
    return 1
}

# allocator_lib NAME : the library to LD_PRELOAD for allocator NAME (nothing for glibc); fails
# when it is not installed
allocator_lib() {
    case $1 in
    glibc) return 0 ;;
    jemalloc) find_lib libjemalloc.so.2 libjemalloc.so ;;
    tcmalloc) find_lib libtcmalloc_minimal.so.4 libtcmalloc.so.4 libtcmalloc_minimal.so ;;
    mimalloc) find_lib libmimalloc.so.2 libmimalloc.so ;;
    *) return 1 ;;
    esac
}

# run_preloaded NAME OUT CMD... : runs CMD with allocator NAME, its stdout to OUT; the program
# prints "allocator NAME" to prove which one it got. Appends a line about NAME to $notes.
# Returns 0 when it ran with that allocator, 1 when the run failed, 2 when NAME is not available.
run_preloaded() {
    a=$1
    out=$2
    shift 2
    pre=$(allocator_lib "$a")
    if [ "$a" != glibc ] && [ -z "$pre" ]; then
        notes="$notes  $a: n/a (shared library not found; Debian package lib$a-dev)
"
        return 2
    fi
    if ! LD_PRELOAD=$pre "$@" >"$out"; then
        notes="$notes  $a: n/a (the run failed)
"
        return 1
    fi
    got=$(sed -n 's/^allocator //p' "$out")
    if [ "$got" != "$a" ]; then
        notes="$notes  $a: n/a (LD_PRELOAD=$pre gave the process $got)
"
        return 2
    fi
    notes="$notes  $a: ${pre:-the C library malloc}
"
    return 0
}
