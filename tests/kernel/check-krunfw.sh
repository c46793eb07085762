#!/usr/bin/env bash
# check-krunfw.sh: run test_krunfw against $KRUNFW with the facts readelf
# reports about $VMLINUX (first PT_LOAD's file offset and size, entry point),
# so that the test does not trust our own flatten tool's ELF parsing.
set -euo pipefail
: "${KRUNFW:?}" "${VMLINUX:?}"
read -r off filesz < <(readelf -lW "$VMLINUX" | awk '$1 == "LOAD" { print $2, $5; exit }')
entry=$(readelf -hW "$VMLINUX" | awk '/Entry point address:/ { print $4 }')
exec "$(dirname "$KRUNFW")/tests/kernel/test_krunfw" "$KRUNFW" "$VMLINUX" "$off" "$filesz" "$entry"
