#!/usr/bin/env bash
# build.sh OUTDIR: produce OUTDIR/vmlinux and OUTDIR/config for the guest
# kernel.  The result is cached outside the work tree, in
#   ${CKRUN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckrun}/kernel-<key>
# where <key> hashes every input: the source package and version, the config
# fragment, our patches, this script, checkconfig.sh and the toolchain.  A
# cache hit costs nothing; a miss unpacks the source, configures tinyconfig +
# fragment, verifies the fragment survived olddefconfig and builds vmlinux.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
cache=${CKRUN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckrun}
mkdir -p "$cache" "$out"

read -r pkg ver deb < <("$here/fetch-source.sh" | tail -n1)
[ -s "$deb" ] || { echo "kernel: source package $deb missing" >&2; exit 1; }

key=$(
	{
		echo "$pkg $ver"
		cat "$here/config.fragment" "$here/build.sh" "$here/checkconfig.sh"
		find "$here/patches" -name '*.patch' -type f | LC_ALL=C sort | xargs -r cat
		gcc --version | head -n1
		ld --version | head -n1
	} | sha256sum | cut -c1-16
)
dest=$cache/kernel-$key

if [ ! -s "$dest/vmlinux" ]; then
	echo "kernel: building $pkg $ver (cache key $key); ~5 min on 2 cores" >&2
	work=$cache/build-$key
	rm -rf "$work" && mkdir -p "$work"
	trap 'rm -rf "$work"' EXIT
	dpkg -x "$deb" "$work/pkg"
	tarball=$(ls "$work"/pkg/usr/src/linux-source-*.tar.xz)
	tar -C "$work" -xf "$tarball"
	rm -rf "$work/pkg"
	src=$(ls -d "$work"/linux-source-*)
	for p in $(find "$here/patches" -name '*.patch' -type f | LC_ALL=C sort); do
		echo "kernel: applying $(basename "$p")" >&2
		patch -d "$src" -p1 --forward --quiet <"$p"
	done
	kmake() {
		make -C "$src" ARCH=x86_64 KBUILD_BUILD_USER=ckrun KBUILD_BUILD_HOST=ckrun \
			KBUILD_BUILD_TIMESTAMP="1970-01-01 00:00:00 UTC" "$@"
	}
	kmake -s tinyconfig
	(cd "$src" && scripts/kconfig/merge_config.sh -m -O . .config "$here/config.fragment" >/dev/null)
	kmake -s olddefconfig
	"$here/checkconfig.sh" "$src/.config" "$here/config.fragment"
	kmake -s -j"$(nproc)" vmlinux
	mkdir -p "$dest.tmp"
	cp "$src/vmlinux" "$dest.tmp/vmlinux"
	cp "$src/.config" "$dest.tmp/config"
	echo "$pkg $ver" >"$dest.tmp/source"
	rm -rf "$dest" && mv "$dest.tmp" "$dest"
	echo "kernel: cached in $dest" >&2
fi
cp "$dest/vmlinux" "$out/vmlinux.tmp" && mv "$out/vmlinux.tmp" "$out/vmlinux"
cp "$dest/config" "$out/config"
cp "$dest/source" "$out/source"
