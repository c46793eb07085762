#!/usr/bin/env bash
# test-qcow2-qemu.sh: the qcow2 engine against qemu-img / qemu-io as the
# oracle.  Images made by qemu-img (cluster sizes 512 B..2 MiB, compat 0.10
# and 1.1, refcount widths 1..64 bits, compressed, with backing chains) are
# read through our library and compared byte for byte with
# `qemu-img convert -O raw`; random write / write-zeroes / discard
# workloads through our library must leave `qemu-img check` clean (no
# errors, no leaks) and `qemu-img compare` identical to the same workload
# on a raw twin.  Prints TAP; skips (77) without qemu-img.
set -u
DISKTOOL=${DISKTOOL:-build/tests/disk/disktool}
command -v qemu-img >/dev/null || { echo "1..0 # SKIP qemu-img not installed"; exit 77; }
[ -x "$DISKTOOL" ] || { echo "1..0 # SKIP $DISKTOOL not built"; exit 77; }
DISKTOOL=$(realpath "$DISKTOOL")
# flush orders and writes the metadata but skips fdatasync (the durability
# test covers that); keeps the run short on a busy disk
export DISKTOOL_SYNC=none
T=$(mktemp -d /tmp/test-qcow2-qemu.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >"$T/log" 2>&1; then ok "$what"; else notok "$what"; sed 's/^/# /' "$T/log" | head -20; fi
}

# read IMG: our library's view == qemu-img's view
read_same() {
	"$DISKTOOL" read qcow2 "$1" "$T/ours.raw" "${2:-1048576}" &&
		qemu-img convert -f qcow2 -O raw "$1" "$T/theirs.raw" &&
		cmp "$T/ours.raw" "$T/theirs.raw"
}

# clean IMG: qemu-img check finds no errors and no leaks
clean() {
	local out
	out=$(qemu-img check "$1" 2>&1) || { echo "$out"; return 1; }
	echo "$out" | grep -q "No errors were found" || { echo "$out"; return 1; }
	! echo "$out" | grep -qi "leak" || { echo "$out"; return 1; }
}

# workload IMG SEED N: the same random work on IMG (ours) and a raw twin
workload() {
	qemu-img convert -f qcow2 -O raw "$1" "$T/twin.raw" &&
		"$DISKTOOL" workload qcow2 "$1" "$T/twin.raw" "$2" "$3" &&
		clean "$1" &&
		qemu-img compare -f qcow2 -F raw "$1" "$T/twin.raw"
}

SIZE=$((24 << 20))
"$DISKTOOL" gen "$T/src.raw" $SIZE 1234 || exit 1

for cs in 512 4096 65536 2097152; do
	ops=$([ $cs -gt 65536 ] && echo 250 || echo 600)
	for compat in 0.10 1.1; do
		img=$T/c$cs-$compat.qcow2
		qemu-img convert -f raw -O qcow2 -o cluster_size=$cs,compat=$compat "$T/src.raw" "$img"
		check "read cluster_size=$cs compat=$compat" read_same "$img"
		check "read cluster_size=$cs compat=$compat in 12345-byte chunks" read_same "$img" 12345
		check "workload cluster_size=$cs compat=$compat" workload "$img" $cs $ops
		check "read after workload cluster_size=$cs compat=$compat" read_same "$img"
	done
	img=$T/z$cs.qcow2
	qemu-img convert -c -f raw -O qcow2 -o cluster_size=$cs "$T/src.raw" "$img"
	check "read compressed cluster_size=$cs" read_same "$img"
	check "workload over compressed clusters cluster_size=$cs" workload "$img" $((cs + 1)) $ops
done

# Refcount widths: 1 bit .. 64 bits; small clusters force new refcount
# blocks and refcount table growth.
for rb in 1 2 4 8 16 32 64; do
	img=$T/rb$rb.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=$rb "$img" $((24 << 20))
	check "workload refcount_bits=$rb cluster_size=512" workload "$img" $rb 1000
done
img=$T/grow.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 "$img" $((32 << 20))
"$DISKTOOL" gen "$T/full.raw" $((32 << 20)) 99
qemu-io -f raw -c "write -P 0x5a 0 32M" "$T/full.raw" >/dev/null
check "32 MiB written in order into 512-byte clusters with 64-bit refcounts" \
	"$DISKTOOL" copy "$T/full.raw" qcow2 "$img"
check "refcount table growth: qemu-img check clean" clean "$img"
check "refcount table growth: contents" qemu-img compare -f qcow2 -F raw "$img" "$T/full.raw"

# O_DIRECT: tables and headers of 512-byte clusters go through the
# aligned bounce (read-modify-write of 4 KiB blocks)
for c in 512:60 65536:600; do
	cs=${c%:*}
	img=$T/direct$cs.qcow2
	qemu-img convert -f raw -O qcow2 -o cluster_size=$cs "$T/src.raw" "$img"
	DISKTOOL_DIRECT=1 check "O_DIRECT workload cluster_size=$cs" workload "$img" 55 "${c#*:}"
done

# 8 threads writing interleaved 512-byte sectors: allocations, COW of the
# same clusters and in-place writes race; the result must be exact.
for cs in 4096 65536; do
	img=$T/thr$cs.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=$cs "$img" 16M
	qemu-img create -q -f raw "$T/thr.raw" 16M
	check "8 racing writer threads, cluster_size=$cs" \
		"$DISKTOOL" threads qcow2 "$img" "$T/thr.raw" $cs 3000
	check "8 racing writer threads, cluster_size=$cs: qemu-img check clean" clean "$img"
	check "8 racing writer threads, cluster_size=$cs: contents" \
		qemu-img compare -f qcow2 -F raw "$img" "$T/thr.raw"
done

# Backing chains: relative names resolved against the image's directory,
# raw and qcow2 backing files, partial-cluster copy-on-write.
mkdir -p "$T/chain"
qemu-img convert -q -f raw -O qcow2 -o cluster_size=65536 "$T/src.raw" "$T/chain/base.qcow2"
cp "$T/src.raw" "$T/chain/base.raw"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$T/chain/mid.qcow2"
qemu-io -f qcow2 -c "write -P 0x11 1000k 3k" -c "write -P 0x22 5M 100k" "$T/chain/mid.qcow2" >/dev/null
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4096 -b mid.qcow2 -F qcow2 "$T/chain/top.qcow2"
qemu-io -f qcow2 -c "write -P 0x33 1001k 1k" -c "write -z 6M 64k" "$T/chain/top.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b base.raw -F raw "$T/chain/onraw.qcow2"
pushd / >/dev/null
check "read 3-deep chain (relative backing names, run from /)" read_same "$T/chain/top.qcow2"
check "read qcow2 on a raw backing file" read_same "$T/chain/onraw.qcow2"
popd >/dev/null
check "workload on a v2 image over a 2-deep chain (COW from backing)" workload "$T/chain/top.qcow2" 77 800
check "workload on qcow2 over raw backing" workload "$T/chain/onraw.qcow2" 78 800
check "backing files untouched" cmp "$T/src.raw" "$T/chain/base.raw"
check "base.qcow2 untouched" bash -c "qemu-img compare -f qcow2 -F raw '$T/chain/base.qcow2' '$T/src.raw' >/dev/null"

# A backing file smaller than the image: the rest reads as zeroes.
qemu-img create -q -f raw "$T/chain/small.raw" 1M
qemu-io -f raw -c "write -P 0x44 0 1M" "$T/chain/small.raw" >/dev/null
qemu-img create -q -f qcow2 -b small.raw -F raw "$T/chain/big.qcow2" 8M
check "backing file shorter than the image" read_same "$T/chain/big.qcow2"

# Images written by qemu-io (not convert): zero clusters, preallocation.
img=$T/io.qcow2
qemu-img create -q -f qcow2 -o preallocation=metadata "$img" 16M
qemu-io -f qcow2 -c "write -P 0x66 0 1M" -c "write -z 512k 256k" -c "write -P 0x67 3M 4k" \
	-c "discard 0 64k" "$img" >/dev/null
check "read qemu-io image (metadata preallocation, zero clusters)" read_same "$img"
check "workload on a metadata-preallocated image" workload "$img" 91 1000

echo "1..$n"
[ $fails -eq 0 ]
