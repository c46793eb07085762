#!/usr/bin/env bash
# mkrootfs.sh DIR: the default demo/test root filesystem, made from Debian's
# busybox-static: /bin/busybox with a link per applet, a minimal /etc, and the
# empty mount points the guest init uses.  (/init.krun is not in it: the
# library serves it as a virtual file on the root share.)
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR}
bb=/bin/busybox
file -L "$bb" | grep -q 'statically linked' ||
	{ echo "mkrootfs: $bb is not static: apt-get install busybox-static" >&2; exit 1; }
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
cd "$dir.tmp"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp run root home var/tmp mnt
chmod 1777 tmp var/tmp
cp "$bb" bin/busybox
for applet in $("$bb" --list-full); do
	case $applet in */*) ;; *) continue ;; esac # skip /linuxrc
	[ -e "$applet" ] || ln -s /bin/busybox "$applet"
done
cat >etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >etc/group <<'G'
root:x:0:
nogroup:x:65534:
G
echo ckrun >etc/hostname
printf '127.0.0.1 localhost\n::1 localhost\n' >etc/hosts
echo "Welcome to a ckrun microVM (busybox $("$bb" | head -n1 | awk '{print $2}'))." >etc/motd
cd - >/dev/null
rm -rf "$dir" && mv "$dir.tmp" "$dir"
