/*
 * passthrough.h: the host-directory backend.  Serves one host directory to
 * the guest with every path resolution confined beneath it (see
 * docs/FUSE-THREAT-MODEL.md): inodes are O_PATH fds reached one name at a
 * time with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), symlinks are
 * never followed on the host, device nodes cannot be created, special files
 * are never opened for I/O.
 */
#ifndef KRUN_FUSE_PASSTHROUGH_H
#define KRUN_FUSE_PASSTHROUGH_H

#include <stdbool.h>
#include <stdint.h>

#include "fuse/fs_ops.h"

struct passthrough_config {
    const char *root;        /* the shared host directory */
    bool read_only;          /* refuse every change (the server does too) */
    unsigned int fd_budget;  /* inode fds kept open; 0 = RLIMIT_NOFILE / 4 */
    unsigned int lock_fds;   /* POSIX lock owner fds; 0 = fd_budget / 2 */
    unsigned int handle_fds; /* open files (handles); 0 = fd_budget; more
                              * OPEN/OPENDIR/CREATE get EMFILE */
    uint64_t timeout;        /* entry/attr cache seconds; 0 = 1 */
};

/* Open (cfg->root) and fill (*out).  Returns 0 or -errno (-ENOTDIR, ...). */
int passthrough_create(const struct passthrough_config *cfg,
                       struct fs_backend *out);
/* Free a backend made by passthrough_create (after its server stopped). */
void passthrough_free(struct fs_backend *b);
/* Inode fds open now, their peak, and reopens by name so far. */
void passthrough_stats(const struct fs_backend *b, unsigned int *open_fds,
                       unsigned int *peak, uint64_t *reopens);

#endif /* KRUN_FUSE_PASSTHROUGH_H */
