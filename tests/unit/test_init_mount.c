/*
 * test_init_mount.c: the host-testable parts of the guest init's block-root
 * switch: the filesystem types probed from /proc/filesystems, and the hint
 * a failed mount prints.
 */
#include <errno.h>
#include <string.h>

#include "../../init/mount.h"
#include "t.h"

static void test_fs_next(void)
{
    const char *text = "nodev\tsysfs\n"
                       "nodev\ttmpfs\n"
                       "\text4\n"
                       "nodev\tvirtiofs\n"
                       "\tvfat\n"
                       "\tiso9660";
    const char *cur = text;
    char type[16];

    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 1);
    CHECK(strcmp(type, "ext4") == 0);
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 1);
    CHECK(strcmp(type, "vfat") == 0);
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 1); /* no final \n */
    CHECK(strcmp(type, "iso9660") == 0);
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 0);
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 0);
}

static void test_fs_next_edge(void)
{
    const char *empty = "", *only_nodev = "nodev\tproc\nnodev\tsysfs\n";
    const char *long_name = "\tabcdefghijklmnopqrstuvwxyz\n\tbtrfs\n\n\t\n";
    const char *cur;
    char type[8];

    cur = empty;
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 0);
    cur = only_nodev;
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 0);
    /* A name that does not fit is skipped, blank lines too. */
    cur = long_name;
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 1);
    CHECK(strcmp(type, "btrfs") == 0);
    CHECK_EQ(mount_fs_next(&cur, type, sizeof(type)), 0);
}

static void test_hints(void)
{
    CHECK(strstr(mount_block_root_hint(ENOENT), "/dev/vda, /dev/vdb") != NULL);
    CHECK(strstr(mount_block_root_hint(ENXIO), "no such disk") != NULL);
    CHECK(strstr(mount_block_root_hint(ENODEV), "filesystem type") != NULL);
    CHECK(strstr(mount_block_root_hint(EINVAL), "not a filesystem") != NULL);
    CHECK(strstr(mount_block_root_hint(EACCES), "read-only") != NULL);
    CHECK(strcmp(mount_block_root_hint(EIO), "") == 0);
}

int main(void)
{
    RUN(test_fs_next);
    RUN(test_fs_next_edge);
    RUN(test_hints);
    return t_done();
}
