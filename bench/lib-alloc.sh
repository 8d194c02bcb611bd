# lib-alloc.sh - the system allocators the benchmarks compare, for bench/run-*.sh (sourced; not
# run by `make bench` itself):
#   ALLOCATORS             glibc jemalloc tcmalloc mimalloc
#   find_lib NAME...       the first shared library of that name in the usual directories
#   allocator_preload A    the library to LD_PRELOAD for allocator A ("" for glibc); fails when
#                          it is not installed
multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null)
ALLOCATORS="glibc jemalloc tcmalloc mimalloc"
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
allocator_preload() {
    case $1 in
    glibc) echo "" ;;
    jemalloc) find_lib libjemalloc.so.2 libjemalloc.so ;;
    tcmalloc) find_lib libtcmalloc_minimal.so.4 libtcmalloc.so.4 libtcmalloc_minimal.so ;;
    mimalloc) find_lib libmimalloc.so.2 libmimalloc.so ;;
    *) return 1 ;;
    esac
}
