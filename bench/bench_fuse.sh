#!/usr/bin/env bash
# bench_fuse.sh: the same file-system workloads on (a) a host directory
# directly, (b) ckrun-fuse serving it through /dev/fuse, (c) bindfs (a libfuse
# passthrough, the peer) serving it; prints a markdown table with the ckrun /
# bindfs time ratio and ckrun's throughput as a share of native, then the
# servers' peak RSS (VmHWM) and open fds.  A benchmark, not a test: nothing
# here asserts a speed.
#
#   bench_fuse.sh [-q] [-n FILES] [-s MIB] [-r ROUNDS]
#     -q        quick: 2000 files, 64 MiB, 1 round
#     -n FILES  metadata workloads' file count (10000)
#     -s MIB    sequential file size (256)
#     -r ROUNDS rounds; each cell is the median (3)
#
# Environment: CKRUN_FUSE (build/ckrun-fuse), FSOPS (build/bench/fsops),
# BENCH_TREE (directory tarred for the tar-extract workload, /usr/include),
# TMPDIR (where the host directory lives).  Needs root and /dev/fuse; exits 2
# (with the reason) when ckrun-fuse cannot be measured at all.  Without bindfs
# its column reads n/a.
set -euo pipefail

nfiles=10000 mib=256 rounds=3 nrand=20000
while getopts qn:s:r: opt; do
	case $opt in
	q) nfiles=2000 mib=64 rounds=1 nrand=5000 ;;
	n) nfiles=$OPTARG ;;
	s) mib=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) echo "usage: bench_fuse.sh [-q] [-n FILES] [-s MIB] [-r ROUNDS]" >&2; exit 2 ;;
	esac
done

ckfuse=$(realpath "${CKRUN_FUSE:-build/ckrun-fuse}")
fsops=$(realpath "${FSOPS:-build/bench/fsops}")
tree=${BENCH_TREE:-/usr/include}

cannot() {
	echo "bench_fuse: cannot run: $*" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || cannot "needs root (FUSE mounts)"
[ -c /dev/fuse ] || cannot "no /dev/fuse"
[ -x "$ckfuse" ] || cannot "$ckfuse missing (make first)"
[ -x "$fsops" ] || cannot "$fsops missing (make first)"
[ -d "$tree" ] || cannot "tree $tree for the tar workload missing (set BENCH_TREE)"
have_bindfs=1
command -v bindfs >/dev/null || have_bindfs=0

work=$(mktemp -d "${TMPDIR:-/tmp}/ckrun-bench-fuse.XXXXXX")
share=$work/share
mounts=() pids=()

unmount_all() {
	local mp pid
	for mp in "${mounts[@]}"; do
		if mountpoint -q "$mp"; then
			umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
		fi
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	mounts=() pids=()
}
cleanup() {
	unmount_all
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$share" "$work/mnt-ckrun" "$work/mnt-bindfs"

# mount_fuse NAME MOUNTPOINT CMD...: start a foreground FUSE server, wait for
# its mount; sets the global $pid.
mount_fuse() {
	local name=$1 mp=$2
	shift 2
	"$@" >"$work/$name.log" 2>&1 &
	pid=$!
	pids+=("$pid")
	mounts+=("$mp")
	for _ in $(seq 100); do
		mountpoint -q "$mp" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "bench_fuse: $name did not mount; its output:" >&2
	sed 's/^/  /' "$work/$name.log" >&2
	return 1
}

mount_fuse ckrun-fuse "$work/mnt-ckrun" "$ckfuse" "$share" "$work/mnt-ckrun" ||
	cannot "ckrun-fuse did not mount"
ck_pid=$pid
targets=(native ckrun)
declare -A dir=([native]=$share/native [ckrun]=$work/mnt-ckrun/ckrun)
if [ "$have_bindfs" = 1 ]; then
	if mount_fuse bindfs "$work/mnt-bindfs" bindfs -f --multithreaded \
		-o allow_other "$share" "$work/mnt-bindfs"; then
		bf_pid=$pid
		targets+=(bindfs)
		dir[bindfs]=$work/mnt-bindfs/bindfs
	else
		have_bindfs=0
	fi
fi
for t in "${targets[@]}"; do mkdir -p "${dir[$t]}"; done

# Peak fds of each server, sampled after every workload.
declare -A maxfds=([ckrun]=0 [bindfs]=0)
declare -A spid=([ckrun]=$ck_pid [bindfs]=${bf_pid:-0})
sample_fds() {
	local s n
	for s in ckrun bindfs; do
		[ "${spid[$s]}" != 0 ] || continue
		n=$(ls "/proc/${spid[$s]}/fd" 2>/dev/null | wc -l)
		[ "$n" -le "${maxfds[$s]}" ] || maxfds[$s]=$n
	done
}

# Times in seconds: times[WORKLOAD,TARGET] = space-separated list.
declare -A times
order=() errors=()
record() { # WORKLOAD TARGET SECONDS
	[ -n "${times[$1,$2]+x}" ] || times[$1,$2]=""
	times[$1,$2]+="$3 "
	case " ${order[*]} " in *" $1 "*) ;; *) order+=("$1") ;; esac
}
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

tar -C "$(dirname "$tree")" -cf "$work/tree.tar" "$(basename "$tree")"
tree_files=$(tar -tf "$work/tree.tar" | wc -l)
tree_mib=$(($(stat -c %s "$work/tree.tar") / 1048576))

w_meta="create $nfiles files (100 B)"
w_stat="stat $nfiles files"
w_rdir="readdir, $nfiles entries"
w_unl="unlink $nfiles files"
w_sw="seq write $mib MiB (1 MiB, fsync)"
w_sr="seq read $mib MiB (1 MiB)"
w_rr="random 4 KiB reads x $nrand"
w_tar="tar x ($tree_files entries, $tree_mib MiB)"
w_rm="rm -rf of that tree"

one_round() {
	local t d s
	for t in "${targets[@]}"; do
		d=${dir[$t]}
		mkdir "$d/meta"
		record "$w_meta" "$t" "$("$fsops" create "$d/meta" "$nfiles")"
		sample_fds
		record "$w_stat" "$t" "$("$fsops" stat "$d/meta" "$nfiles")"
		record "$w_rdir" "$t" "$("$fsops" readdir "$d/meta" 2>/dev/null)"
		record "$w_unl" "$t" "$("$fsops" unlink "$d/meta" "$nfiles")"
		rmdir "$d/meta"
		sample_fds
		record "$w_sw" "$t" "$("$fsops" seqwrite "$d/big" "$mib")"
		record "$w_sr" "$t" "$("$fsops" seqread "$d/big")"
		record "$w_rr" "$t" "$("$fsops" randread "$d/big" "$nrand")"
		rm -f "$d/big"
		sample_fds
		mkdir "$d/tar"
		s=$(now)
		if tar -xf "$work/tree.tar" -C "$d/tar" 2>"$work/tar.err"; then
			record "$w_tar" "$t" "$(elapsed "$s" "$(now)")"
		else
			# A failure is a finding, not a reason to lose the table.
			record "$w_tar" "$t" FAIL
			errors+=("round $r, $t: tar x: $(head -n 1 "$work/tar.err")")
		fi
		sample_fds
		s=$(now)
		rm -rf "$d/tar"
		record "$w_rm" "$t" "$(elapsed "$s" "$(now)")"
		sample_fds
	done
}

echo "## FUSE server: host directory vs ckrun-fuse vs bindfs"
echo
echo "host directory: $share ($(stat -f -c %T "$share")), $rounds round(s), median," \
	"times in ms; warm host page cache"
for r in $(seq "$rounds"); do
	one_round
	echo "  round $r done" >&2
done

median_ms() { # values in seconds -> median in ms (FAIL if a round failed)
	tr ' ' '\n' | awk 'NF' | sort -g | awk '$1 == "FAIL" { f = 1 } { v[NR] = $1 } END {
		if (f) { print "FAIL"; exit }
		if (NR == 0) { print "n/a"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f", m * 1000 }'
}
ratio() { # A B -> A/B
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a";
		else printf "%.2f", a / b }'
}

echo
echo "| workload | native | ckrun-fuse | bindfs | ckrun/bindfs time ratio | ckrun throughput vs native |"
echo "|---|---|---|---|---|---|"
for w in "${order[@]}"; do
	n=$(echo "${times[$w,native]}" | median_ms)
	c=$(echo "${times[$w,ckrun]}" | median_ms)
	b=n/a
	[ "$have_bindfs" = 0 ] || b=$(echo "${times[$w,bindfs]}" | median_ms)
	echo "| $w | $n | $c | $b | $(ratio "$c" "$b") | $(ratio "$n" "$c") |"
done

mem_line() { # NAME PID
	local hwm rss fds
	hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$2/status")
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$2/status")
	fds=$(ls "/proc/$2/fd" | wc -l)
	sample_fds
	echo "| $1 | $hwm | $rss | ${maxfds[$3]} | $fds | $(awk '/^Threads/ { print $2 }' "/proc/$2/status") |"
}
echo
echo "| server | peak RSS (VmHWM, KiB) | RSS at end (KiB) | open fds, max sampled | open fds at end | threads |"
echo "|---|---|---|---|---|---|"
mem_line ckrun-fuse "$ck_pid" ckrun
[ "$have_bindfs" = 0 ] || mem_line "bindfs --multithreaded" "$bf_pid" bindfs
echo
echo "(time ratio > 1: ckrun-fuse slower than bindfs; throughput vs native = native time /" \
	"ckrun-fuse time; fds sampled after each workload, including right after the creates)"
[ "$have_bindfs" = 1 ] || echo "(bindfs not installed: its column is n/a)"
for e in "${errors[@]}"; do echo "FAILED: $e"; done
