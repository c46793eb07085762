#!/usr/bin/env bash
# check-solo.sh MAKE B TARGET...: run each check target alone, as the only
# goal, in a fresh build directory B/solo-NAME, the way a developer does
# `make check-cli` on a clean clone.  A target that passes only because an
# earlier target of `make check` built what it needs fails here.  Prints
# "solo: N passed, N failed" and fails if any did.  The guest kernel comes
# from the kernel cache (kernel/build.sh), so no target rebuilds it.
set -u
make=$1 b=$2
shift 2
passed=0 failed=0
for t in "$@"; do
	dir=$b/solo-${t#check-}
	rm -rf "$dir"
	mkdir -p "$dir"
	start=$(date +%s)
	if TEST_LOGDIR=$dir/test-logs "$make" --no-print-directory B="$dir" "$t" \
		>"$dir/make.log" 2>&1; then
		passed=$((passed + 1))
		echo "PASS $t alone in $dir ($(($(date +%s) - start)) s)"
	else
		failed=$((failed + 1))
		echo "FAIL $t alone in $dir (log $dir/make.log)"
		tail -n 20 "$dir/make.log" | sed 's/^/    /'
	fi
done
echo "solo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
