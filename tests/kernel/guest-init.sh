#!/bin/busybox sh
# /init of the kernel sanity test's initramfs: checks that the guest kernel
# finds every device and feature ckrun relies on and prints TAP on the serial
# console, then reboots (QEMU runs with -no-reboot, so that ends the test).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
n=0 failed=0
t() { # description command...
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/out 2>&1; then echo "ok $n - $desc"; else
		echo "not ok $n - $desc"
		sed 's/^/# /' /tmp/out
		failed=$((failed + 1))
	fi
}
bound() { # a virtio driver has at least one device bound
	ls /sys/bus/virtio/drivers/"$1"/ | grep -q '^virtio[0-9]'
}
balloon_reporting() { # VIRTIO_BALLOON_F_REPORTING (bit 5) negotiated
	for d in /sys/bus/virtio/drivers/virtio_balloon/virtio*; do
		[ "$(cut -c6 "$d/features")" = 1 ] && return 0
	done
	return 1
}

nargs=$# args="$*"
echo "CKRUN-KERNEL-TEST start"
t "init reached user space as pid 1" test $$ -eq 1
t "2 CPUs online (MP table parsed)" test "$(nproc)" -eq 2
t "virtio interrupts routed through the IO-APIC (MP table)" grep -q IO-APIC /proc/interrupts
t "30 env entries reached init (INIT_ENV_ARG_LIMIT)" test "$ckrun_e30" = 30
# (QEMU appends its virtio_mmio.device= entries at the end, so no "--" here.)
# Without MODULES the kernel does not know "nomodule": it reaches init as an
# argument before the "--" ones, which init.krun therefore skips.
t "libkrun's base line gives init exactly 'nomodule' (got: $args)" test "$nargs:$args" = 1:nomodule
t "no kernel parameter leaked into init's environment" \
	sh -c '! env | grep -qiE "^(nomodule|quiet|rw|reboot|panic|console|no-kvmapf)"'
for drv in virtio_blk virtio_net virtio_rng virtio_balloon virtio_console virtiofs; do
	t "virtio-mmio device bound to $drv" bound $drv
done
t "virtio-balloon free page reporting negotiated" balloon_reporting
t "vsock virtio transport registered" test -d /sys/bus/virtio/drivers/vmw_vsock_virtio_transport
t "/dev/vsock exists" test -c /dev/vsock
t "/dev/hvc0 exists" test -c /dev/hvc0
t "write to hvc0" sh -c 'echo CKRUN-HVC0-OK >/dev/hvc0'
t "/dev/hwrng gives random bytes" sh -c 'test "$(head -c 64 /dev/hwrng | wc -c)" -eq 64'
t "eth0 exists" ip link show eth0
mkdir -p /mnt/blk /mnt/fs /mnt/cg /mnt/ovl /tmp/lower /tmp/upper /tmp/work
t "ext4 on /dev/vda mounts" mount -t ext4 /dev/vda /mnt/blk
t "ext4 file readable" grep -q CKRUN-EXT4 /mnt/blk/hello
t "virtiofs mount by tag" mount -t virtiofs ckrunfs /mnt/fs
t "virtiofs file readable" grep -q CKRUN-VIRTIOFS /mnt/fs/hello
t "virtiofs write" sh -c 'echo guest-wrote >/mnt/fs/from-guest && sync'
t "tmpfs mounts" mount -t tmpfs tmp /tmp/lower
t "overlayfs mounts" mount -t overlay ovl -o lowerdir=/tmp/lower,upperdir=/tmp/upper,workdir=/tmp/work /mnt/ovl
t "cgroup2 mounts" mount -t cgroup2 cg /mnt/cg
t "cgroup2 has cpu memory pids" sh -c 'for c in cpu memory pids; do grep -qw $c /mnt/cg/cgroup.controllers || exit 1; done'
t "mount/uts/ipc/net/pid namespaces" unshare -m -u -i -n -p -f true
t "user namespace" unshare -U -r true
t "seccomp filter support" grep -qE '^Seccomp_filters:|^Seccomp:' /proc/self/status
t "devtmpfs, proc, sysfs, fuse known" sh -c 'for f in devtmpfs proc sysfs fuse virtiofs ext4 overlay tmpfs cgroup2; do grep -qw $f /proc/filesystems || exit 1; done'
echo "1..$n"
echo "CKRUN-KERNEL-TEST done failed=$failed"
umount /mnt/fs 2>/dev/null
reboot -f
