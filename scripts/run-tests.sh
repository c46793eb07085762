#!/usr/bin/env bash
# run-tests.sh SUITE PROGRAM...: run TAP-printing test programs, keep their
# output in build/test-logs/SUITE/, print "SUITE: N passed, N failed, N skipped"
# and fail if any check failed, a program exited non-zero (77 = skip), or a
# program printed no plan.  TEST_TIMEOUT (seconds, default 300) bounds each one.
set -u
suite=$1
shift
logdir=${TEST_LOGDIR:-build/test-logs}/$suite
mkdir -p "$logdir"
passed=0 failed=0 skipped=0 bad_programs=()
for prog in "$@"; do
	log=$logdir/$(basename "$prog").log
	timeout -k 5 "${TEST_TIMEOUT:-300}" "$prog" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		echo "SKIP $prog: $(grep -m1 'SKIP' "$log" | sed 's/.*SKIP *//')"
	elif [ $rc -ne 0 ] || [ "$f" -ne 0 ] || ! grep -q '^1\.\.[0-9]' "$log"; then
		bad_programs+=("$prog")
		echo "FAIL $prog (exit $rc, $f failed checks; log $log)"
		grep -A2 '^not ok ' "$log" | head -n 40 | sed 's/^/    /'
		[ $rc -ne 0 ] && [ "$f" -eq 0 ] && tail -n 15 "$log" | sed 's/^/    /'
		[ "$f" -eq 0 ] && failed=$((failed + 1))
	else
		echo "PASS $prog ($p checks)"
	fi
done
echo "$suite: $passed passed, $failed failed, $skipped skipped"
[ ${#bad_programs[@]} -eq 0 ]
