#!/usr/bin/env bash
# test-vmdk-qemu.sh: VMDK descriptors made by qemu-img (monolithicFlat,
# twoGbMaxExtentFlat across a 2 GiB extent boundary), written by qemu-io,
# read through our library and compared with `qemu-img convert -O raw`;
# random workloads through our library compared with a raw twin by
# `qemu-img compare`; qemu-img's sparse subformats refused with -ENOTSUP.
# Prints TAP; skips (77) without qemu-img.
set -u
DISKTOOL=${DISKTOOL:-build/tests/disk/disktool}
command -v qemu-img >/dev/null || { echo "1..0 # SKIP qemu-img not installed"; exit 77; }
[ -x "$DISKTOOL" ] || { echo "1..0 # SKIP $DISKTOOL not built"; exit 77; }
export DISKTOOL_SYNC=none
T=$(mktemp -d /tmp/test-vmdk-qemu.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
check() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$T/log" 2>&1; then echo "ok $n - $what"; else
		fails=$((fails + 1))
		echo "not ok $n - $what"
		sed 's/^/# /' "$T/log" | head -20
	fi
}
read_same() {
	"$DISKTOOL" read vmdk "$1" "$T/ours.raw" &&
		qemu-img convert -f vmdk -O raw "$1" "$T/theirs.raw" &&
		cmp "$T/ours.raw" "$T/theirs.raw"
}
workload() {
	qemu-img convert -f vmdk -O raw "$1" "$T/twin.raw" &&
		"$DISKTOOL" workload vmdk "$1" "$T/twin.raw" "$2" "$3" &&
		qemu-img compare -f vmdk -F raw "$1" "$T/twin.raw"
}

qemu-img create -q -f vmdk -o subformat=monolithicFlat "$T/mono.vmdk" 32M
qemu-io -f vmdk -c "write -P 0x61 0 1M" -c "write -P 0x62 5000k 7k" "$T/mono.vmdk" >/dev/null
check "read monolithicFlat written by qemu-io" read_same "$T/mono.vmdk"
check "workload on monolithicFlat" workload "$T/mono.vmdk" 3 600

qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat "$T/two.vmdk" 2100M
qemu-io -f vmdk -c "write -P 0x63 2047M 2M" "$T/two.vmdk" >/dev/null
check "twoGbMaxExtentFlat: 2 extents" test "$(grep -c '^RW .* FLAT ' "$T/two.vmdk")" = 2
check "twoGbMaxExtentFlat: a write across the extent boundary reads back" \
	bash -c "qemu-io -f raw -c 'write -P 0x63 0 2M' '$T/pat.raw' >/dev/null 2>&1 ||
		{ qemu-img create -q -f raw '$T/pat.raw' 2M && qemu-io -f raw -c 'write -P 0x63 0 2M' '$T/pat.raw' >/dev/null; } &&
		'$DISKTOOL' read vmdk '$T/two.vmdk' '$T/ours.raw' &&
		cmp -n 2097152 -i $((2047 << 20)):0 '$T/ours.raw' '$T/pat.raw' &&
		qemu-img compare -f vmdk -F raw '$T/two.vmdk' '$T/ours.raw'"
check "workload on twoGbMaxExtentFlat (2100 MiB)" workload "$T/two.vmdk" 4 400

for sub in monolithicSparse streamOptimized; do
	qemu-img create -q -f vmdk -o subformat=$sub "$T/$sub.vmdk" 8M
	check "$sub refused with -ENOTSUP" bash -c "! '$DISKTOOL' size vmdk '$T/$sub.vmdk' 2>&1 | grep -q . ||
		'$DISKTOOL' size vmdk '$T/$sub.vmdk' 2>&1 | grep -q 'disk_open: -95: .*sparse VMDK'"
done

echo "1..$n"
[ $fails -eq 0 ]
