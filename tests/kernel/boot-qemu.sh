#!/usr/bin/env bash
# boot-qemu.sh: the guest kernel's sanity test.  Boots $VMLINUX under QEMU's
# software CPU (TCG, -M microvm, virtio-mmio devices, 2 vCPUs) with a busybox
# initramfs whose /init (guest-init.sh) checks the devices and features ckrun
# relies on and prints TAP on the serial console.  QEMU TCG is our oracle for
# "the kernel configuration works": this machine's /dev/kvm cannot run Linux.
set -euo pipefail
: "${VMLINUX:?set VMLINUX}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(realpath -m "${WORK:-build/kernel-boot}")
rm -rf "$work" && mkdir -p "$work/root/bin" "$work/root"/{proc,sys,dev,tmp,mnt} "$work/share"
for tool in qemu-system-x86_64 cpio mkfs.ext4; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool missing (scripts/deps.sh)"; exit 1; }
done
virtiofsd=/usr/lib/qemu/virtiofsd
[ -x "$virtiofsd" ] || { echo "Bail out! $virtiofsd missing (qemu-system-x86)"; exit 1; }

# initramfs: static busybox + the check script
cp /bin/busybox "$work/root/bin/busybox"
file -L "$work/root/bin/busybox" | grep -q 'statically linked' ||
	{ echo "Bail out! /bin/busybox is not static (busybox-static)"; exit 1; }
install -m 0755 "$here/guest-init.sh" "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"

# an ext4 disk and a virtio-fs share, each with a marker file
mkdir -p "$work/ext4src" && echo CKRUN-EXT4 >"$work/ext4src/hello"
mkfs.ext4 -q -F -d "$work/ext4src" "$work/disk.ext4" 16M
echo CKRUN-VIRTIOFS >"$work/share/hello"
"$virtiofsd" --socket-path="$work/vfs.sock" -o source="$work/share" -o cache=none \
	>"$work/virtiofsd.log" 2>&1 &
vfs_pid=$!
trap 'kill $vfs_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -S "$work/vfs.sock" ] && break; sleep 0.1; done

env_args=$(for i in $(seq 1 30); do printf 'ckrun_e%d=%d ' "$i" "$i"; done)
set +e
timeout -k 5 180 qemu-system-x86_64 -M microvm,acpi=off,memory-backend=mem -accel tcg \
	-cpu max -m 256 -smp 2 \
	-object memory-backend-memfd,id=mem,size=256M,share=on \
	-global virtio-mmio.force-legacy=false \
	-nodefaults -no-user-config -nographic -no-reboot -serial stdio \
	-kernel "$VMLINUX" -initrd "$work/initramfs.cpio" \
	-append "reboot=t panic=-1 panic_print=0 nomodule console=ttyS0 rootfstype=virtiofs rw quiet no-kvmapf $env_args" \
	-drive id=d0,file="$work/disk.ext4",format=raw,if=none -device virtio-blk-device,drive=d0 \
	-netdev user,id=n0 -device virtio-net-device,netdev=n0 \
	-device virtio-rng-device \
	-device virtio-balloon-device,free-page-reporting=on \
	-device virtio-serial-device -chardev file,id=c1,path="$work/hvc0.txt" \
	-device virtconsole,chardev=c1 \
	-chardev socket,id=fs0,path="$work/vfs.sock" \
	-device vhost-user-fs-device,chardev=fs0,tag=ckrunfs \
	</dev/null >"$work/console.log" 2>&1
rc=$?
set -e
tr -d '\r' <"$work/console.log" >"$work/console.txt"
# The guest's TAP lines, then host-side checks appended to the same plan.
guest_tap=$(grep -E '^(ok|not ok) [0-9]+ |^# ' "$work/console.txt" || true)
n=$(grep -cE '^(ok|not ok) ' <<<"$guest_tap" || true)
echo "$guest_tap"
host() { # description command...
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; fi
}
host "guest ran its checks to the end" grep -q 'CKRUN-KERNEL-TEST done' "$work/console.txt"
host "qemu exited by guest reboot (rc 0, got $rc)" test "$rc" -eq 0
host "hvc0 output reached the host" grep -q CKRUN-HVC0-OK "$work/hvc0.txt"
host "guest write reached the host share" grep -qx guest-wrote "$work/share/from-guest"
echo "1..$n"
if ! grep -q 'CKRUN-KERNEL-TEST done' "$work/console.txt"; then
	echo "# console log tail:"
	tail -n 30 "$work/console.txt" | sed 's/^/# /'
fi
