#!/usr/bin/env bash
# checkconfig.sh CONFIG FRAGMENT: fail unless every option of FRAGMENT ended
# up in CONFIG exactly as asked.  olddefconfig silently drops options whose
# dependencies are unmet, so this runs after every configuration.
set -euo pipefail
config=$1 fragment=$2 n=0 bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		n=$((n + 1))
		key=${line%%=*}
		if ! grep -qxF -- "$line" "$config"; then
			got=$(grep -E "^$key=|^# $key is not set" "$config" || echo "(absent)")
			echo "checkconfig: want $line, got $got" >&2
			bad=$((bad + 1))
		fi
		;;
	"# CONFIG_"*" is not set")
		n=$((n + 1))
		key=${line#\# }
		key=${key%% *}
		if grep -q "^$key=" "$config"; then
			echo "checkconfig: want $key off, got $(grep "^$key=" "$config")" >&2
			bad=$((bad + 1))
		fi
		;;
	esac
done <"$fragment"
echo "checkconfig: $n fragment options checked, $bad mismatched"
[ "$bad" -eq 0 ]
