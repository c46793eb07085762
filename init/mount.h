/*
 * mount.h: the guest's early filesystems, the optional switch to a block
 * device root and the config file's tmpfs (libkrun-behaviour.md §4.2).
 * Functions return 0 or a negative errno after printing what failed.
 */
#ifndef KRUN_INIT_MOUNT_H
#define KRUN_INIT_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

/*
 * mkdir -p /dev /proc /sys; devtmpfs on /dev (and /dev/kvm made 0666),
 * proc, sysfs, cgroup2, devpts on /dev/pts, tmpfs on /dev/shm and the
 * /dev/fd symlink. EBUSY counts as success.
 */
int mount_early(void);

/*
 * KRUN_BLOCK_ROOT_*: mount (device) on /newroot with (fstype) (NULL, "" or
 * "auto": try every block filesystem in /proc/filesystems) and (options),
 * move it onto / and chroot into it, then mount_early() again.
 */
int mount_block_root(const char *device, const char *fstype,
                     const char *options);

/*
 * The next filesystem type of (*cursor), the text of /proc/filesystems,
 * skipping "nodev" lines: stores it in (type) (len bytes) and returns 1, or
 * 0 at the end.  Advances (*cursor).
 */
int mount_fs_next(const char **cursor, char *type, size_t len);

/* What the user should check when mounting the block root failed (err). */
const char *mount_block_root_hint(int err);

/* mount --make-rshared / */
int mount_make_shared(void);

/*
 * Mount a tmpfs on the first of (dests) that is not already a mount point
 * according to /proc/mounts (never stat: that could trigger automounts).
 */
int mount_config_tmpfs(const struct strv *dests);

/*
 * Whether (path) is a mount point in (mounts), the text of /proc/mounts
 * (octal escapes such as \040 in mount points are decoded).
 */
bool mount_table_has(const char *mounts, const char *path);

/* mkdir -p (path) with mode 0755. Returns 0 or a negative errno. */
int mkdir_p(const char *path);

#endif /* KRUN_INIT_MOUNT_H */
