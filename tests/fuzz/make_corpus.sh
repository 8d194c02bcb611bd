#!/bin/sh
# make_corpus.sh - regenerate the seed corpora of replay's fuzz targets (tests/fuzz/corpus/fuzz_*)
# usage: tests/fuzz/make_corpus.sh   (from the repository root; needs cc and libzstd)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$(cd "$here/../.." && pwd)
${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O1 -I"$root/include" -I"$root/replay" \
    -o "$tmp/make_corpus" "$here/make_corpus.c" "$root/replay/itch.c" -lzstd
"$tmp/make_corpus" "$here/corpus"
