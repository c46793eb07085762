#!/usr/bin/env bash
# bench_vm.sh: VM start-to-exit inside the nested test host
# (tests/e2e/testhost.sh): `ckrun ROOT -- /bin/true` against QEMU
# `-M microvm -enable-kvm` booting the same kernel ($B/kernel/vmlinux) with a
# busybox initramfs whose /init runs /bin/true and reboots.  Both run RUNS
# times, alternating, in the same test-host boot; prints mean/min/max/median
# wall time, the peak RSS of each VMM process (wait4 ru_maxrss) and the
# ckrun/QEMU ratios.  Absolute numbers under nested TCG are meaningless: only
# the ratios within one run count.
#
# Environment: B (build dir, build), RUNS (10), TESTHOST_* (testhost.sh).
# Exits 2 (with the reason) when the part could not run at all.
set -euo pipefail
b=$(realpath "${B:-build}")
runs=${RUNS:-10}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

cannot() {
	echo "bench_vm: cannot run: $*" >&2
	exit 2
}
need=("$b/ckrun" "$b/libkrun.so.1" "$b/libkrunfw.so.5" "$b/rootfs/bin/busybox"
	"$b/kernel/vmlinux" "$b/bench/runstat")
for f in "${need[@]}"; do
	[ -e "$f" ] || cannot "$f missing (make B=$b bench builds it)"
done
qemu=$(command -v qemu-system-x86_64) || cannot "qemu-system-x86_64 not installed"
[ -x "$top/tests/e2e/testhost.sh" ] || cannot "tests/e2e/testhost.sh missing"

work=$b/bench/vm
p=$work/payload
rm -rf "$work" && mkdir -p "$p/bin" "$p/share/qemu" "$p/l3" "$work/l3root/bin"
cleanup() { rm -rf "$p" "$work/l3root"; }
trap cleanup EXIT

# The payload: ckrun and its libraries (RUNPATH $ORIGIN), runstat, QEMU and
# the firmware its microvm machine loads, the test root, the L3 kernel.
cp "$b/ckrun" "$p/bin/ckrun"
cp -L "$b/libkrun.so.1" "$b/libkrunfw.so.5" "$p/bin/"
cp "$b/bench/runstat" "$p/bin/runstat"
cp "$qemu" "$p/bin/qemu-system-x86_64"
for f in bios-microvm.bin qboot.rom pvh.bin linuxboot_dma.bin; do
	[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$p/share/qemu/"
done
[ -e "$p/share/qemu/bios-microvm.bin" ] || cannot "/usr/share/qemu/bios-microvm.bin missing"
cp -a "$b/rootfs" "$p/rootfs"
cp "$b/kernel/vmlinux" "$p/l3/vmlinux"
chmod -x "$p/l3/vmlinux"
echo "RUNS=$runs" >"$p/bench.conf"
install -m 0755 "$here/vm-run" "$p/run"

# The QEMU guest's initramfs: busybox-static and bench/l3-init.
cp "$b/rootfs/bin/busybox" "$work/l3root/bin/busybox"
ln -s busybox "$work/l3root/bin/true"
ln -s busybox "$work/l3root/bin/sh"
mkdir -p "$work/l3root/dev" "$work/l3root/proc"
install -m 0755 "$here/l3-init" "$work/l3root/init"
(cd "$work/l3root" && find . | cpio -o -H newc --quiet | gzip -1) >"$p/l3/initrd.gz"

echo "## VM start-to-exit: ckrun vs QEMU microvm (nested test host)"
echo
echo "test host: QEMU TCG (AMD SVM + NPT emulated) -> kvm_amd; guests: 1 vCPU, 512 MiB," \
	"$runs runs each, alternating, after one warm-up each"
set +e
WORK=$work/testhost "$top/tests/e2e/testhost.sh" "$p" >"$work/testhost.out" 2>&1
rc=$?
set -e
log=$work/testhost/console.log
if [ ! -s "$log" ]; then
	sed 's/^/  /' "$work/testhost.out" >&2
	cannot "the test host did not start (testhost.sh status $rc)"
fi
grep -E '^# BENCH (testhost|ckrun|qemu)|^#   |^(not )?ok ' "$log" | sed 's/^/  /' || true

# "# BENCH RUN LABEL I STATUS MS RSS_KIB"
stats() { # LABEL -> "ok n mean min max median rss_max rss_mean" (n = runs seen)
	awk -v l="$1" '$1 == "#" && $2 == "BENCH" && $3 == "RUN" && $4 == l {
		n++; if ($6 != 0) next
		k++; t[k] = $7; s += $7; r += $8; if ($8 > rm) rm = $8 }
	END {
		if (!k) { printf "0 %d\n", n; exit }
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
		med = k % 2 ? t[(k + 1) / 2] : (t[k / 2] + t[k / 2 + 1]) / 2
		printf "%d %d %.1f %.1f %.1f %.1f %d %.0f\n", k, n, s / k, t[1], t[k], med, rm, r / k }' "$log"
}
read -r ck_ok ck_n ck_mean ck_min ck_max ck_med ck_rss ck_rssm <<<"$(stats ckrun)"
read -r q_ok q_n q_mean q_min q_max q_med q_rss q_rssm <<<"$(stats qemu)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo
echo "| VMM | ok/runs | mean ms | min ms | max ms | median ms | peak RSS max (KiB) | peak RSS mean (KiB) |"
echo "|---|---|---|---|---|---|---|---|"
row() { # NAME ok n mean min max med rss rssm
	if [ "$2" = 0 ]; then
		echo "| $1 | 0/$3 | n/a | n/a | n/a | n/a | n/a | n/a |"
	else
		echo "| $1 | $2/$3 | $4 | $5 | $6 | $7 | $8 | $9 |"
	fi
}
row "ckrun ROOT -- /bin/true" "$ck_ok" "$ck_n" "${ck_mean:-}" "${ck_min:-}" "${ck_max:-}" \
	"${ck_med:-}" "${ck_rss:-}" "${ck_rssm:-}"
row "qemu -M microvm -enable-kvm" "$q_ok" "$q_n" "${q_mean:-}" "${q_min:-}" "${q_max:-}" \
	"${q_med:-}" "${q_rss:-}" "${q_rssm:-}"
if [ "$ck_ok" != 0 ] && [ "$q_ok" != 0 ]; then
	echo "| **ckrun/qemu ratio** | | $(ratio "$ck_mean" "$q_mean") | $(ratio "$ck_min" "$q_min") |" \
		"$(ratio "$ck_max" "$q_max") | $(ratio "$ck_med" "$q_med") | $(ratio "$ck_rss" "$q_rss") |" \
		"$(ratio "$ck_rssm" "$q_rssm") |"
fi
echo
echo "(wall time from fork to wait4 in the test host, including the VMM's own start-up;" \
	"peak RSS = the VMM process's ru_maxrss, guest RAM it touched included;" \
	"absolute numbers under nested TCG are meaningless, only the ratios within one run count)"
if [ "$ck_ok" = 0 ] && [ "$q_ok" = 0 ]; then
	echo "bench_vm: neither VMM completed a run (testhost.sh status $rc; console: $log)" >&2
	exit 2
fi
[ "$ck_ok" = "$ck_n" ] && [ "$q_ok" = "$q_n" ] && [ "$ck_n" != 0 ] ||
	echo "(some runs failed: see $log)"
exit 0
