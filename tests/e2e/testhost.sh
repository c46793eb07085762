#!/usr/bin/env bash
# testhost.sh PAYLOAD_DIR: run PAYLOAD_DIR/run inside a nested test host that
# has a working hardware-style /dev/kvm, and relay its TAP output.
#
# This machine's /dev/kvm may be kvm_pvm, which cannot run a Linux guest.  QEMU
# TCG can emulate an AMD CPU with SVM and nested paging; a Debian cloud kernel
# running there (the "test host") loads kvm_amd, and Linux guests boot inside
# it.  The payload directory (binaries, libraries they need are added
# automatically, test data) is packed into the test host's initramfs as
# /payload; its `run` script prints TAP.  Exit status: 0 iff the payload's run
# exited 0 and printed a plan.  Lines the payload prints as "OUT| text" are
# relayed as "text" (program output, e.g. make demo).
#
# TESTHOST_MODE=demo: relay only the OUT| lines and the lines between
# DEMO-BEGIN and DEMO-END (less the test host's own kernel messages), and exit
# with the status of the payload's run (no TAP expected).
#
# Environment: TESTHOST_MEM (MiB, 2048), TESTHOST_SMP (1), TESTHOST_TIMEOUT
# (s, 900), TESTHOST_MODE (tap), WORK (scratch dir, build/testhost),
# CKRUN_CACHE.
set -euo pipefail
payload=$(realpath "${1:?usage: testhost.sh PAYLOAD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(realpath -m "${WORK:-build/testhost}")
cache=${CKRUN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckrun}
mem=${TESTHOST_MEM:-2048} smp=${TESTHOST_SMP:-1} limit=${TESTHOST_TIMEOUT:-900}
mkdir -p "$work" "$cache/src"

# The test host's kernel: Debian's cloud kernel (kvm, kvm_amd as modules).
kernel_deb() {
	local pkg deb
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || { echo "Bail out! no linux-image-cloud-amd64 in apt" >&2; exit 1; }
	deb=$(ls "$cache/src/${pkg}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache/src" && apt-get -o APT::Sandbox::User=root download -qq "$pkg" >&2) ||
			{ echo "Bail out! cannot download $pkg" >&2; exit 1; }
		deb=$(ls "$cache/src/${pkg}"_*.deb | head -n1)
	fi
	echo "$deb"
}

extract_kernel() {
	local deb=$1 kd m
	rm -rf "$work/kdeb" "$work/root" && dpkg -x "$deb" "$work/kdeb"
	cp "$work"/kdeb/boot/vmlinuz-* "$work/vmlinuz"
	mkdir -p "$work/root/lib/kvm"
	kd=$(ls -d "$work"/kdeb/lib/modules/*/kernel)
	for m in virt/lib/irqbypass arch/x86/kvm/kvm arch/x86/kvm/kvm-amd fs/fuse/fuse; do
		if [ -f "$kd/$m.ko" ]; then cp "$kd/$m.ko" "$work/root/lib/kvm/"
		elif [ -f "$kd/$m.ko.xz" ]; then xz -dc "$kd/$m.ko.xz" >"$work/root/lib/kvm/$(basename "$m").ko"
		else echo "Bail out! module $m not in $deb" >&2; exit 1; fi
	done
	# Optional (virtio-net cases: a tap, a dummy uplink for passt).
	for m in drivers/net/tun drivers/net/dummy; do
		if [ -f "$kd/$m.ko" ]; then cp "$kd/$m.ko" "$work/root/lib/kvm/"
		elif [ -f "$kd/$m.ko.xz" ]; then xz -dc "$kd/$m.ko.xz" >"$work/root/lib/kvm/$(basename "$m").ko"; fi
	done
	rm -rf "$work/kdeb"
}

# Copy the shared libraries every ELF in the payload needs, plus the loader.
add_libs() {
	local root=$1 f
	mkdir -p "$root/lib64" "$root/lib/x86_64-linux-gnu"
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	find "$root/payload" -type f -perm -u+x -o -type f -name '*.so*' | while read -r f; do
		file -L "$f" | grep -q 'dynamically linked' || continue
		ldd "$f" 2>/dev/null | awk '/=> \// { print $3 }'
	done | sort -u | while read -r lib; do
		cp -Ln "$lib" "$root/lib/x86_64-linux-gnu/" 2>/dev/null || true
	done
}

build() {
	extract_kernel "$(kernel_deb)"
	local r=$work/root
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,root,etc}
	cp /bin/busybox "$r/bin/busybox"
	install -m 0755 "$here/testhost-init.sh" "$r/init"
	cp -a "$payload" "$r/payload"
	add_libs "$r"
	# passt, started as root, changes to nobody
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
	gcc -O2 -o "$work/tsckhz" "$here/tsckhz.c"
}

run() {
	local log=$work/console.log rc
	set +e
	timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt \
		-M microvm -m "$mem" -smp "$smp" -nodefaults -no-user-config -nographic \
		-no-reboot -serial stdio -kernel "$work/vmlinuz" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet tsc_early_khz=$("$work/tsckhz")" \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" |
		if [ "${TESTHOST_MODE:-tap}" = demo ]; then
			sed -u -n -E 's/^OUT\| //p; /^Bail out!/p
				/^DEMO-BEGIN$/,/^DEMO-END/ { /^DEMO-|^\[ *[0-9]+\.[0-9]+\] /d; p; }'
		else
			sed -u -n -E 's/^OUT\| //p; /^(ok|not ok) [0-9]+|^1\.\.[0-9]+|^# |^Bail out!/p'
		fi
	rc=${PIPESTATUS[0]}
	set -e
	result=$(sed -n 's/^TESTHOST-RESULT rc=\([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
	if [ -z "$result" ]; then
		echo "# testhost: the payload did not finish (qemu rc $rc); console tail:"
		tail -n 40 "$log" | sed 's/^/#   /'
		exit 1
	fi
	if [ "${TESTHOST_MODE:-tap}" = demo ]; then
		exit "$result"
	fi
	if [ "$result" != 0 ] || ! grep -qE '^1\.\.[0-9]+$' "$log"; then
		echo "# testhost: payload failed (run rc $result, qemu rc $rc) or printed no plan"
		exit 1
	fi
}

# One test host at a time on this machine: two of them (QEMU TCG, one vCPU
# each) on a 2-core machine slow each other's guests into their timeouts.
exec 9>"$cache/testhost.lock"
if ! flock -n 9; then
	echo "# testhost: waiting for another test host on this machine ($cache/testhost.lock)" >&2
	flock 9
fi
build
run
