#!/usr/bin/env bash
# check-abi.sh BUILD_DIR VERSION: check that the built libkrun.so.1 has the
# ABI of include/libkrun.h.
#  1. The exported (defined, dynamic) functions are exactly the functions
#     declared in the header (the difference is printed).
#  2. SONAME is libkrun.so.1.
#  3. A staged install (library, symlinks, header, libkrun.pc) works with
#     pkg-config: a C client compiles, links and runs against it.
#  4. The header compiles as C99, C11 and C++ with -Wall -Wextra -Werror
#     -pedantic, with gcc and (if present) clang.
#  5. crun <= 1.20's order (issue 11): libkrun.so.1 loaded by soname, then
#     chroot into an empty directory, then krun_create_ctx/krun_start_enter:
#     the kernel bundle (a stand-in libkrunfw.so.5) is still found, so the
#     start gets as far as /dev/kvm; with no bundle anywhere, "no kernel".
#  6. `make install-lib` with PREFIX/LIBDIR/DESTDIR other than those of the
#     build writes a libkrun.pc with the install's paths (issue 11), and a
#     client builds with it against the staged tree.
# Prints TAP and "check-abi: N passed, N failed"; exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
B=${1:-build}
VERSION=${2:-1.18.0}
HDR=include/libkrun.h
LIB=$B/libkrun.so.$VERSION
n=0 passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

result() { # result OK|FAIL description
	n=$((n + 1))
	if [ "$1" = OK ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}
check() { # check description command...
	local what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		result OK "$what"
	else
		result FAIL "$what"
		sed 's/^/#   /' "$tmp/out" | head -n 30
	fi
}

# 1. Function names: header (comments stripped by the preprocessor) vs
#    library.  A declaration is a krun_ name directly followed by '(';
#    function-pointer typedefs are "(*krun_..._fn)(" and do not match.
gcc -E -P -x c "$HDR" | grep -oE '\bkrun_[a-z0-9_]+[[:space:]]*\(' |
	sed 's/[[:space:](]//g' | sort -u >"$tmp/header.txt"
nm -D --defined-only "$LIB" | awk '$2 ~ /^[A-Za-z]$/ {print $3}' |
	sed 's/@.*//' | grep -v '^LIBKRUN_' | sort -u >"$tmp/lib.txt"
nh=$(wc -l <"$tmp/header.txt")
nl=$(wc -l <"$tmp/lib.txt")
if [ "$nh" -gt 0 ] && cmp -s "$tmp/header.txt" "$tmp/lib.txt"; then
	result OK "exported symbols = header functions ($nh)"
else
	result FAIL "exported symbols ($nl) = header functions ($nh)"
	comm -23 "$tmp/header.txt" "$tmp/lib.txt" | sed 's/^/#   declared, not exported: /'
	comm -13 "$tmp/header.txt" "$tmp/lib.txt" | sed 's/^/#   exported, not declared: /'
fi

# 2. SONAME.
soname=$(readelf -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = libkrun.so.1 ]; then
	result OK "SONAME is libkrun.so.1"
else
	result FAIL "SONAME is libkrun.so.1 (got '$soname')"
fi

# 3. Staged install under $tmp/usr, found through pkg-config.
prefix=$tmp/usr
libdir=$prefix/lib64
mkdir -p "$libdir/pkgconfig" "$prefix/include"
cp "$LIB" "$libdir/"
ln -s "libkrun.so.$VERSION" "$libdir/libkrun.so.1"
ln -s libkrun.so.1 "$libdir/libkrun.so"
cp "$HDR" "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" \
	-e "s|@INCLUDEDIR@|$prefix/include|" -e "s|@VERSION@|$VERSION|" \
	libkrun.pc.in >"$libdir/pkgconfig/libkrun.pc"
export PKG_CONFIG_PATH=$libdir/pkgconfig
check "pkg-config finds libkrun $VERSION" \
	sh -c "[ \"\$(pkg-config --modversion libkrun)\" = $VERSION ]"
cat >"$tmp/client.c" <<'C'
#include <errno.h>
#include <libkrun.h>
#include <stdio.h>

int main(void)
{
    int32_t ctx = krun_create_ctx();

    if (ctx < 0 || krun_set_vm_config((uint32_t)ctx, 1, 128) != 0 ||
        krun_set_root((uint32_t)ctx, "/") != 0 ||
        krun_has_feature(KRUN_FEATURE_NET) < 0 ||
        krun_has_feature(3) != -EINVAL ||
        krun_set_gpu_options((uint32_t)ctx, VIRGLRENDERER_USE_EGL) != 0 ||
        krun_free_ctx((uint32_t)ctx) != 0 ||
        krun_free_ctx((uint32_t)ctx) != -ENOENT) {
        fprintf(stderr, "unexpected API result\n");
        return 1;
    }
    return 0;
}
C
# shellcheck disable=SC2046
check "C client compiles and links with pkg-config" \
	gcc -std=c11 -Wall -Wextra -Werror -pedantic -o "$tmp/client" "$tmp/client.c" \
	$(pkg-config --cflags --libs libkrun)
check "C client runs against the staged library" \
	env LD_LIBRARY_PATH="$libdir" "$tmp/client"

# 4. The header alone, in several languages and compilers.
compilers="gcc"
command -v clang >/dev/null && compilers="$compilers clang"
for cc in $compilers; do
	for std in c99 c11; do
		check "header compiles as $std with $cc" \
			$cc -std=$std -Wall -Wextra -Werror -pedantic -Wstrict-prototypes \
			-fsyntax-only -x c -I"$prefix/include" - <<<'#include <libkrun.h>'
	done
done
cxx="g++"
command -v clang++ >/dev/null && cxx="$cxx clang++"
for cc in $cxx; do
	check "header compiles as C++ with $cc" \
		$cc -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ \
		-I"$prefix/include" - <<<'#include <libkrun.h>
int main() { return krun_create_ctx() < 0; }'
done

# 5. Kernel bundle found although the client chroots before creating a VM.
mkdir -p "$tmp/fw" "$tmp/empty"
check "stand-in libkrunfw.so.5 and the chroot client build" sh -c "
	gcc -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -Wl,-soname,libkrunfw.so.5 \
		-o '$tmp/fw/libkrunfw.so.5' tests/abi/fake_krunfw.c &&
	gcc -std=gnu11 -Wall -Wextra -Werror -o '$tmp/chroot_client' \
		tests/abi/chroot_client.c -ldl"
chroot_run() { # chroot_run LD_LIBRARY_PATH: client output in $tmp/cr.out/.err
	env LD_LIBRARY_PATH="$1" "$tmp/chroot_client" "$tmp/empty" \
		>"$tmp/cr.out" 2>"$tmp/cr.err"
}
chroot_run "$libdir:$tmp/fw"
check "chroot after loading: bundle found, start fails only at /dev/kvm (-EINVAL)" sh -c "
	cat '$tmp/cr.out' '$tmp/cr.err'
	grep -qx 'rc=-22' '$tmp/cr.out' &&
	grep -q 'cannot create the KVM VM: No such file or directory' '$tmp/cr.err' &&
	! grep -q 'libkrunfw' '$tmp/cr.err'"
chroot_run "$libdir"
check "chroot with no libkrunfw.so.5 anywhere: -ENOENT, 'no kernel'" sh -c "
	cat '$tmp/cr.out' '$tmp/cr.err'
	grep -qx 'rc=-2' '$tmp/cr.out' &&
	grep -q \"Couldn't find or load libkrunfw.so.5\" '$tmp/cr.err'"

# 6. The installed .pc follows the install's PREFIX/LIBDIR, not the build's.
#    install-lib's prerequisite "all" is not remade (-o all): only the library
#    is needed, and it is a prerequisite of check-abi.  A plain make, not a
#    recursive one: check-make's dry run must not run this script.
unset PKG_CONFIG_PATH
install_pc() { # install_pc DESTDIR make-vars...: stage install-lib
	local dest=$1
	shift
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -o all \
		B="$B" DESTDIR="$dest" "$@" install-lib
}
check "make install-lib PREFIX=/usr DESTDIR=... stages" install_pc "$tmp/d1" PREFIX=/usr
pcdir=$tmp/d1/usr/lib64/pkgconfig
check "installed libkrun.pc: prefix=/usr, libdir=/usr/lib64, -I/usr/include" sh -c "
	cat '$pcdir/libkrun.pc'
	[ \"\$(PKG_CONFIG_LIBDIR='$pcdir' pkg-config --variable=prefix libkrun)\" = /usr ] &&
	[ \"\$(PKG_CONFIG_LIBDIR='$pcdir' pkg-config --variable=libdir libkrun)\" = /usr/lib64 ] &&
	[ \"\$(PKG_CONFIG_LIBDIR='$pcdir' PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 pkg-config --cflags libkrun | xargs)\" = -I/usr/include ] &&
	grep -qx 'Libs: -L\${libdir} -lkrun' '$pcdir/libkrun.pc'"
# shellcheck disable=SC2046
check "C client links against the staged install through its libkrun.pc" \
	gcc -std=c11 -Wall -Wextra -Werror -o "$tmp/client2" "$tmp/client.c" \
	$(PKG_CONFIG_LIBDIR="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/d1" \
		PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1 \
		pkg-config --cflags --libs libkrun)
check "C client runs against the staged install" \
	env LD_LIBRARY_PATH="$tmp/d1/usr/lib64" "$tmp/client2"
check "make install-lib PREFIX=/opt/ck LIBDIR=/opt/ck/lib DESTDIR=... stages" \
	install_pc "$tmp/d2" PREFIX=/opt/ck LIBDIR=/opt/ck/lib
pcdir=$tmp/d2/opt/ck/lib/pkgconfig
check "installed libkrun.pc: libdir=/opt/ck/lib, includedir=/opt/ck/include" sh -c "
	cat '$pcdir/libkrun.pc'
	[ \"\$(PKG_CONFIG_LIBDIR='$pcdir' pkg-config --variable=libdir libkrun)\" = /opt/ck/lib ] &&
	[ \"\$(PKG_CONFIG_LIBDIR='$pcdir' pkg-config --variable=includedir libkrun)\" = /opt/ck/include ] &&
	[ -e '$tmp/d2/opt/ck/lib/libkrun.so.1' ]"

echo "1..$n"
echo "check-abi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
