#!/usr/bin/env bash
# bench_all.sh: `make bench`: the three benchmark parts in one invocation,
# each printing its own table (also collected in $B/bench/results.md).
#   1. bench_virtq     virtqueue pop+push vs a memcpy of the same ring bytes
#   2. bench_fuse.sh   host dir vs ckrun-fuse vs bindfs (needs root, /dev/fuse)
#   3. bench_vm.sh     ckrun ROOT -- /bin/true vs QEMU microvm, nested test host
#   4. bench_disk.sh   the disk engine (raw, qcow2) vs qemu-io, host side
# Exits 0 unless a part could not run at all (its reason is printed).
# Environment: B (build), BENCH_FUSE_ARGS (for bench_fuse.sh), RUNS (bench_vm).
set -euo pipefail
b=${B:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$b/bench/results.md
mkdir -p "$b/bench"
failed=()

part() { # NAME CMD...
	local name=$1 rc
	shift
	echo
	set +e
	"$@"
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || failed+=("$name (status $rc)")
}

{
	echo "# ckrun benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "machine: $(uname -srm), $(nproc) CPUs" \
		"($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))," \
		"$(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo) RAM," \
		"/dev/kvm module: $(cd /sys/module && echo kvm_* | sed "s/kvm_\*/none/")"
	part virtq "$b/bench/bench_virtq"
	# shellcheck disable=SC2086
	part fuse env CKRUN_FUSE="$b/ckrun-fuse" FSOPS="$b/bench/fsops" \
		"$here/bench_fuse.sh" ${BENCH_FUSE_ARGS:-}
	part vm env B="$b" "$here/bench_vm.sh"
	part disk env DISKTOOL="$b/tests/disk/disktool" "$here/bench_disk.sh"
	echo
	if [ ${#failed[@]} -eq 0 ]; then
		echo "bench: all three parts ran"
	else
		echo "bench: could not run: ${failed[*]}"
	fi
} 2>&1 | tee "$out"
grep -q '^bench: all three parts ran$' "$out"
