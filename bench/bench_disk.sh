#!/usr/bin/env bash
# bench_disk.sh: host-side throughput of our disk engine (through
# disktool) against qemu-io on the same images and the same command files
# (qemu-io -t writeback, its own command syntax: both read the file line by line, one
# synchronous request at a time, page cache, flush at the end).  Rows:
# sequential 1 MiB writes into an empty image (allocation), sequential 1 MiB
# reads, random 4 KiB writes in place, random 4 KiB reads, random 4 KiB
# writes into an empty image (allocation + copy-on-write of the rest of
# each cluster).  qcow2 (64 KiB clusters) and raw.  Wall time of the whole
# process for both (best of DISK_RUNS, default 3).  Not a test: no assertions.
# Environment: DISKTOOL, SIZE_MB (256), NRAND (8192), DISK_RUNS (3).
set -euo pipefail
DISKTOOL=${DISKTOOL:-build/tests/disk/disktool}
SIZE_MB=${SIZE_MB:-256}
NRAND=${NRAND:-8192}
RUNS=${DISK_RUNS:-3}
command -v qemu-io >/dev/null || { echo "bench_disk: qemu-io not installed (qemu-utils)"; exit 1; }
[ -x "$DISKTOOL" ] || { echo "bench_disk: $DISKTOOL not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/bench_disk.XXXXXX")
trap 'rm -rf "$T"' EXIT

size=$((SIZE_MB << 20))
seq_cmds() { # write|read
	for ((i = 0; i < SIZE_MB; i++)); do
		if [ "$1" = write ]; then echo "write -P 0x5a $((i << 20)) 1048576"; else echo "read $((i << 20)) 1048576"; fi
	done
}
rand_cmds() { # write|read
	awk -v n="$NRAND" -v blocks=$((size / 4096)) -v op="$1" 'BEGIN { srand(7);
		for (i = 0; i < n; i++) { o = int(rand() * blocks) * 4096;
			if (op == "write") print "write -P 0x3c " o " 4096"; else print "read " o " 4096" } }'
}
seq_cmds write >"$T/seqw"
seq_cmds read >"$T/seqr"
rand_cmds write >"$T/randw"
rand_cmds read >"$T/randr"

mkimg() { # FMT PATH
	rm -f "$2"
	qemu-img create -q -f "$1" ${3:+-o "$3"} "$2" "$size"
}
now() { date +%s%N; }
# best TOOL FMT CMDS FRESH: best wall time in ns over RUNS
best() {
	local tool=$1 fmt=$2 cmds=$3 fresh=$4 b=0 t0 t r
	for ((r = 0; r < RUNS; r++)); do
		if [ "$fresh" = 1 ] || [ ! -e "$T/img.$tool" ]; then
			mkimg "$fmt" "$T/img.$tool" "$([ "$fmt" = qcow2 ] && echo cluster_size=65536)"
			[ "$fresh" = 1 ] || "$DISKTOOL" ops "$fmt" "$T/img.$tool" "$T/seqw"
		fi
		t0=$(now)
		if [ "$tool" = ours ]; then
			"$DISKTOOL" ops "$fmt" "$T/img.$tool" "$cmds"
		else
			qemu-io -t writeback -f "$fmt" "$T/img.$tool" <"$cmds" >/dev/null
		fi
		t=$(($(now) - t0))
		if [ $b -eq 0 ] || [ $t -lt $b ]; then b=$t; fi
	done
	echo $b
}

echo "## disk engine: ckrun (disktool) vs qemu-io, host side"
echo
echo "$SIZE_MB MiB image, $NRAND random 4 KiB requests, best of $RUNS, wall time per process"
echo
echo "| format | work | ckrun MB/s | qemu-io MB/s | ratio |"
echo "| --- | --- | ---: | ---: | ---: |"
for fmt in qcow2 raw; do
	for row in "seq 1 MiB write (empty image):seqw:1:$size" "seq 1 MiB read:seqr:0:$size" \
		"rand 4 KiB write (allocated):randw:0:$((NRAND * 4096))" "rand 4 KiB read:randr:0:$((NRAND * 4096))" \
		"rand 4 KiB write (empty image):randw:1:$((NRAND * 4096))"; do
		IFS=: read -r name cmds fresh bytes <<<"$row"
		rm -f "$T/img.ours" "$T/img.qemu"
		o=$(best ours $fmt "$T/$cmds" "$fresh")
		q=$(best qemu $fmt "$T/$cmds" "$fresh")
		awk -v f=$fmt -v n="$name" -v o=$o -v q=$q -v b=$bytes 'BEGIN {
			printf "| %s | %s | %.0f | %.0f | %.2f |\n", f, n, b / o * 1e3, b / q * 1e3, q / o }'
	done
done
