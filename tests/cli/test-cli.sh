#!/usr/bin/env bash
# CKRUN=... GUEST_ELF=... test-cli.sh: the ckrun CLI's user-facing behaviour — usage
# errors with clear messages and exit status 2, and a real VM (our test guest
# booted through /dev/kvm with --kernel/--serial) whose status ckrun returns.
set -u
ckrun=${CKRUN:?} guest=${GUEST_ELF:?}
n=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"
: >"$work/file"

# expect DESC STATUS PATTERN -- ckrun args...: exit status and a stderr/stdout match
expect() {
	local desc=$1 want=$2 pattern=$3 out rc
	shift 4
	out=$("$ckrun" "$@" </dev/null 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (exit $rc, want $want)"
		sed 's/^/# /' <<<"$out" | head -n 5
	fi
}

expect "--help prints usage" 0 '^Usage: ckrun' -- --help
expect "--help lists the disk options" 0 '--root-disk PATH' -- --help
expect "missing ROOTDIR" 2 'missing ROOTDIR' --
expect "missing CMD" 2 'missing CMD' -- "$work/root"
expect "ROOTDIR does not exist" 2 "ROOTDIR '$work/nope': No such file" -- "$work/nope" /bin/true
expect "ROOTDIR is not a directory" 2 "is not a directory" -- "$work/file" /bin/true
expect "bad CPU count" 2 "invalid CPU count '0'" -- -c 0 "$work/root" /bin/true
expect "bad memory size" 2 "invalid memory size \(MiB\) 'lots'" -- -m lots "$work/root" /bin/true
expect "bad env entry" 2 "invalid environment entry 'NOEQUALS'" -- -e NOEQUALS "$work/root" /bin/true
envs=()
for i in $(seq 25); do envs+=(-e "V$i=$i"); done
expect "too many env entries" 2 "too many environment entries at 'V25=25'" -- "${envs[@]}" "$work/root" /bin/true
expect "bad volume" 2 "invalid volume 'nocolon'" -- -v nocolon "$work/root" /bin/true
expect "volume flag other than ro" 2 "invalid volume flag 'rw'" -- -v "$work/root:tag:rw" "$work/root" /bin/true
expect "disk does not exist" 2 "disk '$work/nope.img': No such file" -- --disk "$work/nope.img" "$work/root" /bin/true
expect "disk with format and ro, missing" 2 "disk '$work/nope.img': No such file" -- --disk "$work/nope.img:qcow2:ro" "$work/root" /bin/true
expect "disk is a directory" 2 "disk '$work/root' is not a file" -- --disk "$work/root:ro" "$work/root" /bin/true
expect "disk without a path" 2 "invalid disk ':raw:ro'" -- --disk :raw:ro "$work/root" /bin/true
disks=()
for i in $(seq 9); do disks+=(--disk "$work/file"); done
expect "too many disks" 2 "too many disks \(at most 8\)" -- "${disks[@]}" "$work/root" /bin/true
expect "root disk does not exist" 2 "disk '$work/nope.img': No such file" -- --root-disk "$work/nope.img" /bin/true
expect "root disk: :ro is part of the path" 2 "disk '$work/file:ro': No such file" -- --root-disk "$work/file:ro" /bin/true
expect "root disk given twice" 2 "--root-disk given twice" -- --root-disk "$work/file" --root-disk "$work/file" /bin/true
expect "root disk without CMD" 2 'missing CMD' -- --root-disk "$work/file"
expect "unknown option" 2 "Try 'ckrun --help'" -- --bogus "$work/root" /bin/true
expect "--help lists the network options" 0 '--net passt\|tap:NAME' -- --help
expect "bad network kind" 2 "invalid network 'vde:/x'" -- --net vde:/x "$work/root" /bin/true
expect "tap without a name" 2 "invalid network 'tap:'" -- --net tap: "$work/root" /bin/true
nets=()
for i in $(seq 5); do nets+=(--net "unixgram:$work/s$i"); done
expect "too many networks" 2 "too many network interfaces \(at most 4\)" -- "${nets[@]}" "$work/root" /bin/true
expect "bad MAC" 2 "invalid MAC address '5a:94:ef:e4:0c'" -- --mac 5a:94:ef:e4:0c "$work/root" /bin/true
expect "MAC with junk" 2 "invalid MAC address '5a:94:ef:e4:0c:eex'" -- --mac 5a:94:ef:e4:0c:eex "$work/root" /bin/true
if ! command -v passt >/dev/null; then
	expect "passt missing" 1 "cannot start passt: No such file" -- --net passt "$work/root" /bin/true
fi

if [ -c /dev/kvm ] && [ -w /dev/kvm ]; then
	expect "test guest boots, prints on the serial console, exits 0" 0 '^PASS serial' \
		-- --kernel "$guest" --cmdline test=serial --serial "$work/root"
	expect "guest triple fault ends the VM with status 1" 1 'triple fault' \
		-- --kernel "$guest" --cmdline test=triple --serial "$work/root"
	truncate -s 1M "$work/disk.img" "$work/disk2.img"
	expect "test guest boots with two disks attached" 0 '^PASS serial' \
		-- --kernel "$guest" --cmdline test=serial --serial --disk "$work/disk.img" \
		--disk "$work/disk2.img:raw:ro" "$work/root"
	expect "missing kernel file: clear error" 1 'cannot (use the kernel|start the VM)' \
		-- --kernel "$work/nope.elf" --serial "$work/root"
else
	echo "# no usable /dev/kvm: VM cases not run"
fi
echo "1..$n"
