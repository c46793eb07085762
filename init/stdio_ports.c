/* stdio_ports.c: redirect stdio to the krun-* virtio-console ports. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stdio_ports.h"

static const struct {
    const char *name;
    int flags;
} ports[] = {
    {"krun-stdin", O_RDONLY},
    {"krun-stdout", O_WRONLY},
    {"krun-stderr", O_WRONLY},
};

int stdio_ports_fd_for_name(const char *name)
{
    size_t n = strcspn(name, "\n");

    for (int fd = 0; fd < 3; fd++)
        if (strlen(ports[fd].name) == n && !strncmp(name, ports[fd].name, n))
            return fd;
    return -1;
}

/* The contents of <dir>/<port>/name, or "" if unreadable. */
static void read_port_name(const char *port, char *buf, size_t len)
{
    char path[300];
    ssize_t r;
    int fd;

    buf[0] = '\0';
    snprintf(path, sizeof(path), VIRTIO_PORTS_DIR "/%s/name", port);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    r = read(fd, buf, len - 1);
    buf[r > 0 ? r : 0] = '\0';
    close(fd);
}

static int redirect(int target, const char *port)
{
    char path[300];
    int fd;

    snprintf(path, sizeof(path), "/dev/%s", port);
    fd = open(path, ports[target].flags);
    if (fd < 0) {
        int err = errno;

        fprintf(stderr, "init: open %s for %s: %s\n", path, ports[target].name,
                strerror(err));
        return -err;
    }
    if (fd != target) {
        if (dup2(fd, target) < 0) {
            fprintf(stderr, "init: dup2 %s: %s\n", path, strerror(errno));
            close(fd);
            return -EIO;
        }
        close(fd);
    }
    return 0;
}

int stdio_ports_redirect(void)
{
    DIR *dir = opendir(VIRTIO_PORTS_DIR);
    struct dirent *de;
    char name[64];
    int done = 0, rc = 0;

    if (!dir) {
        int err = errno;

        if (err == ENOENT) /* no virtio-console in this kernel */
            return 0;
        fprintf(stderr, "init: opendir %s: %s\n", VIRTIO_PORTS_DIR,
                strerror(err));
        return -err;
    }
    while (!rc && (de = readdir(dir))) {
        int target;

        if (de->d_name[0] == '.')
            continue;
        read_port_name(de->d_name, name, sizeof(name));
        target = stdio_ports_fd_for_name(name);
        if (target < 0)
            continue;
        rc = redirect(target, de->d_name);
        done += !rc;
    }
    closedir(dir);
    return rc ? rc : done;
}
