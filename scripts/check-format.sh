#!/usr/bin/env bash
# check-format.sh: every tracked C source and header must be clang-format clean.
# With --fix, rewrite them instead.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
[ -n "$files" ] || { echo "format: no C files"; exit 0; }
if [ "${1:-}" = --fix ]; then
	clang-format -i $files
	exit 0
fi
bad=0
for f in $files; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "format: $f is not clang-format clean (scripts/check-format.sh --fix)"
		bad=$((bad + 1))
	fi
done
echo "format: $(echo "$files" | wc -w) files checked, $bad not clean"
[ "$bad" -eq 0 ]
