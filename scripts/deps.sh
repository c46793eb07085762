#!/usr/bin/env bash
# deps.sh: every Debian package ckrun's build, tests and benchmarks need.
# As root: installs the missing ones with apt-get.  Otherwise: prints the exact
# command to run and fails if anything is missing.
#   scripts/deps.sh          check / install
#   scripts/deps.sh --list   print the package list
set -euo pipefail

packages=(
	# build: library, CLI, init, tests
	build-essential pkg-config linux-libc-dev binutils file
	# the VMM's seccomp filters (src/sandbox)
	libseccomp-dev
	# style and sanitizer/fuzzer builds
	clang clang-format libclang-rt-14-dev
	# guest kernel (kernel/build.sh): Debian's kernel build dependencies
	bc bison flex libelf-dev libssl-dev cpio xz-utils dpkg-dev
	# kernel sanity test and nested end-to-end tests (QEMU TCG), test rootfs;
	# the test host (tests/e2e/testhost.sh) also packs its initramfs with
	# cpio + gzip, unpacks kernel modules with xz and fetches
	# linux-image-cloud-amd64 with apt-get download (no install)
	qemu-system-x86 busybox-static e2fsprogs gzip
	# make bench: bindfs is the libfuse passthrough peer of ckrun-fuse (bench/bench_fuse.sh)
	bindfs
	# disk images: qcow2 compressed clusters (zlib raw deflate); qemu-img and
	# qemu-io are the oracle of the qcow2 differential tests (tests/disk/)
	zlib1g-dev qemu-utils
	# virtio-net end-to-end cases in the test host: passt (started as crun
	# does), dnsmasq as the tap case's DHCP server (the -base package: no
	# service is installed or started)
	passt dnsmasq-base
)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "deps.sh: apt-get update failed; trying the cached lists" >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
