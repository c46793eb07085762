#!/bin/busybox sh
# /init of the nested test host (L2): a Debian cloud kernel running under QEMU
# TCG with AMD SVM + nested paging, so that kvm_amd gives it a real
# hardware-style /dev/kvm.  Loads KVM, runs the payload's /payload/run with
# TAP on the serial console, prints "TESTHOST-RESULT rc=N" and powers off.
# First move from the initramfs (rootfs, where pivot_root is refused) onto a
# tmpfs: passt sandboxes itself with pivot_root (the virtio-net cases).
if [ ! -e /.on-tmpfs ]; then
	/bin/busybox mkdir -p /newroot
	/bin/busybox mount -t tmpfs -o size=90% tmproot /newroot
	for d in /*; do
		[ "$d" = /newroot ] || /bin/busybox cp -a "$d" /newroot/
	done
	/bin/busybox touch /newroot/.on-tmpfs
	exec /bin/busybox switch_root /newroot /init
fi
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/payload/bin:/bin:/usr/bin:/sbin HOME=/root TMPDIR=/tmp
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=75% tmpfs /tmp
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
ip link set lo up 2>/dev/null
for m in irqbypass kvm kvm-amd; do
	insmod /lib/kvm/$m.ko || echo "# testhost: insmod $m failed"
done
if [ ! -c /dev/kvm ]; then
	echo "Bail out! testhost: /dev/kvm missing after loading kvm_amd"
	echo "TESTHOST-RESULT rc=99"
	poweroff -f
fi
# FUSE for the /dev/fuse transport tests, when the kernel has it as a module;
# tun and dummy for the virtio-net cases.
for m in fuse tun dummy; do
	[ -f /lib/kvm/$m.ko ] && insmod /lib/kvm/$m.ko 2>/dev/null
done
echo "# testhost: kvm ready at $(cut -d' ' -f1 /proc/uptime) s"
cd /payload && ./run
echo "TESTHOST-RESULT rc=$?"
poweroff -f
