#!/usr/bin/env bash
# bench_vmm.sh: `make bench-vmm`: ckrun vs QEMU microvm on this machine's
# /dev/kvm, both booting bench/null_guest.c (see bench_vmm.c for what is
# measured).  Environment: B (build dir), RUNS (20), PIO_N (100000).
# Exits 2 (with the reason) when the part cannot run at all.
set -euo pipefail
b=${B:-build}
runs=${RUNS:-20}
pio=${PIO_N:-100000}
cannot() {
	echo "bench_vmm: cannot run: $*" >&2
	exit 2
}
for f in "$b/bench/bench_vmm" "$b/bench/null_run" "$b/bench/null_guest.elf"; do
	[ -e "$f" ] || cannot "$f missing (make B=$b bench-vmm builds it)"
done
[ -r /dev/kvm ] && [ -w /dev/kvm ] || cannot "/dev/kvm not usable"
qemu=$(command -v qemu-system-x86_64) || cannot "qemu-system-x86_64 not installed"

echo "## VMM cost: ckrun vs QEMU microvm, null guest on this machine's /dev/kvm"
echo
echo "host: $(uname -r), /dev/kvm module: $(cd /sys/module && echo kvm_* | sed "s/kvm_\*/none/")," \
	"$($qemu --version | head -1)"
"$b/bench/bench_vmm" "$b/bench/null_run" "$b/bench/null_guest.elf" "$qemu" "$runs" "$pio"
