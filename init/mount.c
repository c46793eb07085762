/* mount.c: early mounts, block root switch, config tmpfs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"

#define MS_DEFAULT (MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME)

struct early_mount {
    const char *fstype; /* also the source */
    const char *target;
    unsigned long flags;
    bool optional; /* not created; ENOENT/ENODEV = kernel lacks it, go on */
};

/* In this order: devtmpfs first so /dev/kvm can be fixed up early. */
static const struct early_mount early_mounts[] = {
    {"devtmpfs", "/dev", MS_RELATIME, false},
    {"proc", "/proc", MS_DEFAULT, false},
    {"sysfs", "/sys", MS_DEFAULT, false},
    {"cgroup2", "/sys/fs/cgroup", MS_DEFAULT, true},
    {"devpts", "/dev/pts", MS_NOEXEC | MS_NOSUID | MS_RELATIME, false},
    {"tmpfs", "/dev/shm", MS_DEFAULT, false},
};

int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; p <= buf + n; p++) {
        if (*p != '/' && *p)
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return -errno;
        *p = p == buf + n ? '\0' : '/';
    }
    return 0;
}

static int do_mount(const char *src, const char *target, const char *fstype,
                    unsigned long flags, const char *data)
{
    int err;

    if (!mount(src, target, fstype, flags, data) || errno == EBUSY)
        return 0;
    err = errno;
    fprintf(stderr, "init: mount %s (%s) on %s: %s\n", src ? src : "none",
            fstype ? fstype : "no type", target, strerror(err));
    return -err;
}

static int mount_one(const struct early_mount *m)
{
    int rc = m->optional ? 0 : mkdir_p(m->target);

    if (rc) {
        fprintf(stderr, "init: mkdir %s: %s\n", m->target, strerror(-rc));
        return rc;
    }
    if (!mount(m->fstype, m->target, m->fstype, m->flags, NULL) ||
        errno == EBUSY)
        return 0;
    rc = -errno;
    if (m->optional && (rc == -ENODEV || rc == -ENOENT))
        return 0;
    fprintf(stderr, "init: mount %s on %s: %s\n", m->fstype, m->target,
            strerror(-rc));
    return rc;
}

int mount_early(void)
{
    int rc;

    for (size_t i = 0; i < sizeof(early_mounts) / sizeof(early_mounts[0]);
         i++) {
        rc = mount_one(&early_mounts[i]);
        if (rc)
            return rc;
        if (!strcmp(early_mounts[i].target, "/dev"))
            chmod("/dev/kvm", 0666); /* best effort: nested VMs */
    }
    if (symlink("/proc/self/fd", "/dev/fd") && errno != EEXIST)
        fprintf(stderr, "init: symlink /dev/fd: %s\n", strerror(errno));
    return 0;
}

int mount_fs_next(const char **cursor, char *type, size_t len)
{
    const char *p = *cursor;

    while (*p) {
        const char *line = p, *t, *end = strchr(p, '\n');
        size_t n;

        if (!end)
            end = p + strlen(p);
        p = *end ? end + 1 : end;
        if (!strncmp(line, "nodev", 5))
            continue;
        t = line + strspn(line, " \t");
        n = strcspn(t, " \t\n");
        if (t + n > end)
            n = (size_t)(end - t);
        if (n == 0 || n >= len)
            continue;
        memcpy(type, t, n);
        type[n] = '\0';
        *cursor = p;
        return 1;
    }
    *cursor = p;
    return 0;
}

const char *mount_block_root_hint(int err)
{
    switch (err) {
    case ENOENT:
    case ENXIO:
        return " (no such disk: the guest names disks /dev/vda, /dev/vdb, "
               "... in the order they were added)";
    case ENODEV:
        return " (the guest kernel does not know this filesystem type)";
    case EINVAL:
    case EUCLEAN:
        return " (not a filesystem of this type, or bad mount options)";
    case EROFS:
    case EACCES:
        return " (the disk is read-only: mount it with the option ro)";
    default:
        return "";
    }
}

/* Try every filesystem of /proc/filesystems that is not "nodev". */
static int mount_probe(const char *device, const char *target,
                       const char *options)
{
    char buf[4096], type[64];
    const char *cur = buf;
    int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC), err = ENODEV;
    ssize_t n;

    if (fd < 0) {
        fprintf(stderr, "init: /proc/filesystems: %s\n", strerror(errno));
        return -errno;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    while (mount_fs_next(&cur, type, sizeof(type))) {
        if (!mount(device, target, type, 0, options))
            return 0;
        /* The first real complaint beats "not this type". */
        if (errno != EINVAL && errno != ENODEV && errno != EUCLEAN &&
            err == ENODEV)
            err = errno;
    }
    fprintf(stderr,
            "init: cannot mount the block root %s: no filesystem type of "
            "/proc/filesystems fits: %s%s\n",
            device, strerror(err), mount_block_root_hint(err));
    return -err;
}

int mount_block_root(const char *device, const char *fstype,
                     const char *options)
{
    int rc = mkdir_p("/newroot");

    if (rc) {
        fprintf(stderr, "init: mkdir /newroot: %s\n", strerror(-rc));
        return rc;
    }
    if (fstype && *fstype && strcmp(fstype, "auto")) {
        if (mount(device, "/newroot", fstype, 0, options)) {
            rc = errno;
            fprintf(stderr,
                    "init: cannot mount the block root %s as %s%s%s: %s%s\n",
                    device, fstype, options ? " with options " : "",
                    options ? options : "", strerror(rc),
                    mount_block_root_hint(rc));
            return -rc;
        }
    } else if ((rc = mount_probe(device, "/newroot", options))) {
        return rc;
    }
    if (chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) ||
        chroot(".") || chdir("/")) {
        rc = -errno;
        fprintf(stderr, "init: switching root to %s: %s\n", device,
                strerror(-rc));
        return rc;
    }
    return mount_early();
}

int mount_make_shared(void)
{
    return do_mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL);
}

/* Decode /proc/mounts octal escapes of [s, end) into (out). */
static void unescape(const char *s, const char *end, char *out, size_t len)
{
    size_t n = 0;

    while (s < end && n + 1 < len) {
        if (s[0] == '\\' && end - s >= 4 && s[1] >= '0' && s[1] <= '3' &&
            s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
            out[n++] = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
            s += 4;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
}

bool mount_table_has(const char *mounts, const char *path)
{
    char mp[PATH_MAX];

    for (const char *line = mounts; line && *line;) {
        const char *eol = strchr(line, '\n'), *f2, *f2_end;

        if (!eol)
            eol = line + strlen(line);
        f2 = memchr(line, ' ', eol - line);
        if (f2) {
            f2++;
            f2_end = memchr(f2, ' ', eol - f2);
            unescape(f2, f2_end ? f2_end : eol, mp, sizeof(mp));
            if (!strcmp(mp, path))
                return true;
        }
        line = *eol ? eol + 1 : eol;
    }
    return false;
}

/* The whole of /proc/mounts as a string (it has no meaningful st_size). */
static char *read_mounts(void)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    int fd = open("/proc/mounts", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    for (;;) {
        ssize_t r;

        if (cap - len < 4096) {
            char *nb = realloc(buf, cap += 65536);

            if (!nb)
                break;
            buf = nb;
        }
        r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += r;
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int mount_config_tmpfs(const struct strv *dests)
{
    char *table = dests->n ? read_mounts() : NULL;
    int rc = 0;

    for (size_t i = 0; i < dests->n; i++) {
        if (table && mount_table_has(table, dests->v[i]))
            continue;
        rc = mkdir_p(dests->v[i]);
        if (rc)
            fprintf(stderr, "init: mkdir %s: %s\n", dests->v[i], strerror(-rc));
        else
            rc = do_mount("tmpfs", dests->v[i], "tmpfs", MS_DEFAULT, NULL);
        break;
    }
    free(table);
    return rc;
}
