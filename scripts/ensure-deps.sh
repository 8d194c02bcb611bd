#!/bin/sh
# ensure-deps.sh - install the Debian packages a build group needs, when any is missing.
# usage: scripts/ensure-deps.sh build|bench|fuzz|plot|all   (uses sudo when not root)
set -eu
group=${1:-build}
build_pkgs="pkg-config libzstd-dev libpcap-dev libcmocka-dev zstd libunwind-dev libdw-dev iproute2 nftables"
bench_pkgs="libck-dev libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev libdisruptor-java default-jdk-headless libzmq3-dev libnng-dev tcpreplay"
fuzz_pkgs="clang-14 libclang-rt-14-dev"
plot_pkgs="gnuplot-nox"
case "$group" in
build) want="$build_pkgs" ;;
bench) want="$build_pkgs $bench_pkgs" ;;
fuzz) want="$build_pkgs $fuzz_pkgs" ;;
plot) want="$plot_pkgs" ;;
all) want="$build_pkgs $bench_pkgs $fuzz_pkgs $plot_pkgs valgrind" ;;
*) echo "ensure-deps: unknown group '$group'" >&2; exit 1 ;;
esac
command -v dpkg-query >/dev/null 2>&1 || exit 0 # not Debian: trust the system
missing=""
for p in $want; do
    # a JDK installed some other way counts
    if [ "$p" = default-jdk-headless ] && command -v javac >/dev/null 2>&1; then continue; fi
    # so does any gnuplot (gnuplot-qt, gnuplot-x11, a build of its own)
    if [ "$p" = gnuplot-nox ] && command -v gnuplot >/dev/null 2>&1; then continue; fi
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "ringalloc: installing missing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
