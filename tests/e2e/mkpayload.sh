#!/usr/bin/env bash
# mkpayload.sh BUILD_DIR OUT_DIR [e2e|demo]: assemble the end-to-end payload
# from a build tree.  OUT_DIR/run is what tests/e2e/testhost.sh runs inside
# the test host (or what e2e.sh runs directly on a hardware-KVM machine):
#   bin/      ckrun, e2e-client, crun-replay, libkrun.so.1, libkrunfw.so.5
#             (ckrun and e2e-client find the library through RUNPATH
#             $ORIGIN, crun-replay dlopen()s it there, the library finds
#             libkrunfw.so.5 beside itself)
#   rootfs/   the busybox test root (BUILD_DIR/rootfs), never written: the
#             runner copies it into a scratch directory for each use
#   configs/  .krun_config.json variants (OCI, Docker, lower-case nested)
#   bin/mke2fs, debugfs, e2fsck, qemu-img (e2e only): the disk cases make images
#             in the test host and read them back after the VM
#   run       tests/e2e/run (e2e) or tests/e2e/demo-run (demo)
#   only      (e2e, when E2E_ONLY is set) the regular expression of the cases
#             to run
set -euo pipefail
b=${1:?usage: mkpayload.sh BUILD_DIR OUT_DIR [e2e|demo]}
out=${2:?usage: mkpayload.sh BUILD_DIR OUT_DIR [e2e|demo]}
mode=${3:-e2e}
here=$(cd "$(dirname "$0")" && pwd)

need=("$b/ckrun" "$b/libkrun.so.1" "$b/libkrunfw.so.5" "$b/rootfs/bin/busybox")
[ "$mode" = demo ] || need+=("$b/tests/e2e/e2e-client" "$b/tests/e2e/crun-replay")
for f in "${need[@]}"; do
	[ -e "$f" ] || { echo "mkpayload: $f missing (make B=$b first)" >&2; exit 1; }
done

rm -rf "$out" && mkdir -p "$out/bin"
cp "$b/ckrun" "$out/bin/ckrun"
cp -L "$b/libkrun.so.1" "$out/bin/libkrun.so.1"
cp -L "$b/libkrunfw.so.5" "$out/bin/libkrunfw.so.5"
cp -a "$b/rootfs" "$out/rootfs"
if [ "$mode" = demo ]; then
	install -m 0755 "$here/demo-run" "$out/run"
else
	cp "$b/tests/e2e/e2e-client" "$out/bin/e2e-client"
	cp "$b/tests/e2e/crun-replay" "$out/bin/crun-replay"
	# the virtio-net cases' host programs, when installed (scripts/deps.sh)
	for p in passt dnsmasq; do
		f=$(PATH=$PATH:/usr/sbin command -v "$p" || true)
		[ -n "$f" ] && cp "$f" "$out/bin/$p"
	done
	cp -r "$here/configs" "$out/configs"
	for t in mke2fs debugfs e2fsck qemu-img; do
		p=$(PATH=$PATH:/sbin:/usr/sbin command -v "$t") ||
			{ echo "mkpayload: $t missing (e2fsprogs, qemu-utils)" >&2; exit 1; }
		cp "$p" "$out/bin/$t"
	done
	install -m 0755 "$here/run" "$out/run"
	# E2E_ONLY (an extended regular expression): only the cases whose
	# description matches run; the others are reported as skipped.
	if [ -n "${E2E_ONLY:-}" ]; then printf '%s\n' "$E2E_ONLY" >"$out/only"; fi
fi
