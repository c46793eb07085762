#!/usr/bin/env bash
# test-durability.sh: a writer process (disktool durable) writes 64 KiB
# blocks (half of them off cluster boundaries: copy-on-write), flushes
# every 4 writes and logs each acknowledged flush; it is killed with
# SIGKILL mid-stream.  Every write covered by a logged flush must be in the
# image, and the qcow2 image must pass `qemu-img check` (no errors; leaked
# clusters from the unflushed tail are reported, not errors).  Prints TAP.
set -u
DISKTOOL=${DISKTOOL:-build/tests/disk/disktool}
command -v qemu-img >/dev/null || { echo "1..0 # SKIP qemu-img not installed"; exit 77; }
[ -x "$DISKTOOL" ] || { echo "1..0 # SKIP $DISKTOOL not built"; exit 77; }
T=$(mktemp -d /tmp/test-durability.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
result() { # result OK? DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else fails=$((fails + 1)); echo "not ok $n - $2"; fi
}

# run_and_kill FMT IMG: start the writer, SIGKILL it mid-stream
run_and_kill() {
	local log=$T/$1.log i lines
	: >"$log"
	"$DISKTOOL" durable "$1" "$2" "$log" &
	local pid=$!
	# >= 40 flushes, or after 10 s at least one (slow disks), at most 60 s
	for i in $(seq 1 1200); do
		lines=$(wc -l <"$log")
		[ "$lines" -ge 40 ] && break
		[ "$i" -ge 200 ] && [ "$lines" -ge 1 ] && break
		sleep 0.05
	done
	kill -9 $pid
	wait $pid 2>/dev/null
	echo "# $1: killed after $(wc -l <"$log") acknowledged flushes"
}

for cs in 4096 65536; do
	img=$T/d$cs.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=$cs "$img" 64M
	run_and_kill qcow2 "$img"
	qemu-img check "$img" >"$T/check" 2>&1
	rc=$?
	sed 's/^/# /' "$T/check" | head -5
	# 0: clean, 3: only leaked clusters (allocated, never referenced)
	[ $rc -eq 0 ] || [ $rc -eq 3 ]
	result $? "qcow2 cluster_size=$cs after SIGKILL: qemu-img check finds no errors"
	qemu-img convert -f qcow2 -O raw "$img" "$T/out.raw"
	"$DISKTOOL" verify "$T/qcow2.log" "$T/out.raw" >"$T/v" 2>&1
	result $? "qcow2 cluster_size=$cs: every flushed write is in the image ($(cat "$T/v"))"
	# reopen read-write after the crash and keep writing: still clean
	qemu-img convert -f qcow2 -O raw "$img" "$T/twin.raw"
	DISKTOOL_SYNC=none "$DISKTOOL" workload qcow2 "$img" "$T/twin.raw" 5 300 >/dev/null &&
		qemu-img compare -q -f qcow2 -F raw "$img" "$T/twin.raw"
	result $? "qcow2 cluster_size=$cs: written again after the crash, contents right"
done

qemu-img create -q -f raw "$T/d.raw" 64M
run_and_kill raw "$T/d.raw"
"$DISKTOOL" verify "$T/raw.log" "$T/d.raw" >"$T/v" 2>&1
result $? "raw: every flushed write is in the image ($(cat "$T/v"))"

echo "1..$n"
[ $fails -eq 0 ]
