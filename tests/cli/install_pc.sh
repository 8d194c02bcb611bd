#!/bin/sh
# install_pc.sh - `make install` writes a ringalloc.pc that names the directories it installed to:
# after the normal build (PREFIX /usr/local), `make install PREFIX=/opt/x DESTDIR=STAGE` must give
# prefix=/opt/x (and libdir, includedir below it), LIBDIR and INCLUDEDIR given on their own must be
# what the .pc says, pkg-config's flags must point at the installed header and library, the build
# directory's own ringalloc.pc must stay as it was, and `make uninstall` must remove the .pc.
# make runs in the build variant of BUILD (SANITIZE from its name), so nothing is recompiled.
. "$(dirname "$0")/lib/common.sh"
cd "$ROOT" || exit 1
need_cmd pkg-config
case "$BUILD" in
build/release) san= ;;
build/*) san=$(basename "$BUILD" | tr - ,) ;;
*) echo "BUILD=$BUILD is not a build directory of this Makefile"; exit 77 ;;
esac
[ -f "$BUILD/libringalloc.a" ] || { echo "$BUILD is not built"; exit 77; }

# mk ARGS... : make in this tree, as a separate make (not a sub-make of the one running the tests)
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory SANITIZE="$san" "$@" \
        >"$tmp/make.log" 2>&1 || { fail "make $*: exit $?"; sed 's/^/    /' "$tmp/make.log"; }
}
# pcvar DIR VAR : a variable of the ringalloc.pc in DIR, with pkg-config looking nowhere else
pcvar() {
    PKG_CONFIG_LIBDIR=$1 PKG_CONFIG_PATH= pkg-config --variable="$2" ringalloc 2>&1
}
# expect WHAT GOT WANT
expect() {
    if [ "$2" = "$3" ]; then echo "ok: $1 = $2"; else fail "$1 is '$2', expected '$3'"; fi
}

cp "$BUILD/ringalloc.pc" "$tmp/build.pc" 2>/dev/null || fail "$BUILD/ringalloc.pc is missing"

# 1. PREFIX alone
stage=$tmp/stage
mk install PREFIX=/opt/x DESTDIR="$stage"
pcdir=$stage/opt/x/lib/pkgconfig
[ -f "$pcdir/ringalloc.pc" ] || fail "no $pcdir/ringalloc.pc"
expect "prefix" "$(pcvar "$pcdir" prefix)" /opt/x
expect "libdir" "$(pcvar "$pcdir" libdir)" /opt/x/lib
expect "includedir" "$(pcvar "$pcdir" includedir)" /opt/x/include
flags=$(PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$stage \
    pkg-config --cflags --libs ringalloc 2>&1)
echo "pkg-config --cflags --libs ringalloc: $flags"
inc=$(printf '%s\n' $flags | sed -n 's/^-I//p')
lib=$(printf '%s\n' $flags | sed -n 's/^-L//p')
[ -f "$inc/ringalloc/ringalloc.h" ] || fail "-I$inc holds no ringalloc/ringalloc.h"
[ -e "$lib/libringalloc.so" ] && [ -f "$lib/libringalloc.a" ] ||
    fail "-L$lib holds no libringalloc.so / libringalloc.a"
printf '%s\n' $flags | grep -qx -- -lringalloc || fail "no -lringalloc in '$flags'"

# 2. LIBDIR and INCLUDEDIR of their own
mk install PREFIX=/opt/y LIBDIR=/opt/y/lib64 INCLUDEDIR=/opt/y/inc DESTDIR="$stage"
pcdir2=$stage/opt/y/lib64/pkgconfig
expect "prefix (LIBDIR, INCLUDEDIR set)" "$(pcvar "$pcdir2" prefix)" /opt/y
expect "libdir (LIBDIR set)" "$(pcvar "$pcdir2" libdir)" /opt/y/lib64
expect "includedir (INCLUDEDIR set)" "$(pcvar "$pcdir2" includedir)" /opt/y/inc
[ -f "$stage/opt/y/inc/ringalloc/ring.h" ] || fail "the headers are not in INCLUDEDIR"

# 3. the build tree is left alone
cmp -s "$tmp/build.pc" "$BUILD/ringalloc.pc" || fail "make install rewrote $BUILD/ringalloc.pc"

# 4. uninstall
mk uninstall PREFIX=/opt/x DESTDIR="$stage"
[ ! -e "$pcdir/ringalloc.pc" ] || fail "make uninstall left $pcdir/ringalloc.pc"
[ ! -e "$stage/opt/x/lib/libringalloc.so.0" ] || fail "make uninstall left libringalloc.so.0"

if [ $failures -ne 0 ]; then
    echo "install_pc: $failures failure(s)"
    exit 1
fi
echo "install_pc: ok"
