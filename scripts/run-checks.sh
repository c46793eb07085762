#!/usr/bin/env bash
# run-checks.sh MAKE TARGET...: run every check target even when one fails,
# then print a summary and fail if any did.
set -u
make=$1
shift
failed=()
for t in "$@"; do
	echo "=== $t"
	start=$(date +%s)
	if "$make" --no-print-directory "$t"; then
		echo "=== $t: ok ($(($(date +%s) - start)) s)"
	else
		echo "=== $t: FAILED ($(($(date +%s) - start)) s)"
		failed+=("$t")
	fi
done
echo
echo "checks: $(($# - ${#failed[@]})) passed, ${#failed[@]} failed${failed:+: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
