#!/usr/bin/env bash
# Fetch the guest kernel's source package (.deb) into the ckrun cache and print
# the path of the unpacked tarball's .deb.  Uses a private apt configuration
# (own sources list naming the suite, own lists and cache directories), so the
# system's apt sources and state are never touched.
#
# Preference order: Debian trixie's linux-source-6.12 (pinned version first,
# then whatever trixie currently carries), then bookworm's linux-source-6.1.
# Output (stdout, one line): <package> <version> <path-to-deb>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernel/source.conf
. "$here/source.conf"
cache=${CKRUN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckrun}
apt_root=$cache/apt
mkdir -p "$apt_root/lists/partial" "$apt_root/archives/partial" "$cache/src"

mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
	sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

apt_opts() { # suite
	printf '%s\n' "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $1 main" >"$apt_root/sources-$1.list"
	echo -o "Dir::Etc::SourceList=$apt_root/sources-$1.list" -o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$apt_root/lists-$1" -o "Dir::Cache=$apt_root/cache-$1" \
		-o "Dir::Cache::archives=$apt_root/archives" -o Debug::NoLocking=1 \
		-o APT::Sandbox::User=root
}

try_suite() { # suite package pinned-version
	local suite=$1 pkg=$2 pin=$3 opts ver deb
	# Cached .deb for the pinned version: no network needed at all.
	deb=$(ls "$cache/src/${pkg}_${pin}_all.deb" 2>/dev/null || true)
	if [ -n "$deb" ]; then echo "$pkg $pin $deb"; return 0; fi
	opts=$(apt_opts "$suite")
	mkdir -p "$apt_root/lists-$suite/partial" "$apt_root/cache-$suite"
	# shellcheck disable=SC2086
	apt-get $opts -qq update >&2 || return 1
	# shellcheck disable=SC2086
	if apt-cache $opts show "$pkg=$pin" >/dev/null 2>&1; then
		ver=$pin
	else
		# shellcheck disable=SC2086
		ver=$(apt-cache $opts policy "$pkg" | awk '/Candidate:/{print $2}')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
		echo "fetch-source: pinned $pkg $pin not in $suite, using $ver" >&2
	fi
	deb=$cache/src/${pkg}_${ver}_all.deb
	if [ ! -s "$deb" ]; then
		# shellcheck disable=SC2086
		(cd "$cache/src" && apt-get $opts -qq download "$pkg=$ver" >&2) || return 1
	fi
	echo "$pkg $ver $deb"
}

try_suite "$PRIMARY_SUITE" "$PRIMARY_PKG" "$PRIMARY_VERSION" ||
	try_suite "$FALLBACK_SUITE" "$FALLBACK_PKG" "$FALLBACK_VERSION" || {
	echo "fetch-source: cannot fetch $PRIMARY_PKG ($PRIMARY_SUITE) nor $FALLBACK_PKG ($FALLBACK_SUITE) from $mirror" >&2
	exit 1
}
