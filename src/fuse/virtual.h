/*
 * virtual.h: a stacking backend that adds read-only virtual entries (files
 * served from memory, empty directories) over any backend, or over the null
 * backend (an empty root, for shares without a host directory).  Virtual
 * entries are found by LOOKUP before the inner backend and never appear in
 * READDIR (libkrun-behaviour.md §5.2).  One-shot files vanish from their
 * directory at their first LOOKUP (/init.krun).  Virtual node ids have bit 63
 * set; the inner backend's ids must not.
 */
#ifndef KRUN_FUSE_VIRTUAL_H
#define KRUN_FUSE_VIRTUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuse/fs_ops.h"

#define VFS_ID_BIT (1ull << 63)

/* The null backend: an empty root directory (0755), every lookup ENOENT. */
extern const struct fs_ops vfs_null_ops;

/* Wrap (inner) (not owned; vfs_null_ops with fs NULL for no directory).
 * Returns 0 and *out, or -ENOMEM. */
int vfs_create(struct fs_backend inner, struct fs_backend *out);
/* Free the wrapper (after its server stopped). */
void vfs_free(struct fs_backend *b);
/* Add a file at (path) ("a/b/c", a leading '/' ignored; every directory on
 * the way must be a virtual directory) with (len) bytes at (data), not
 * copied, and permission bits (mode).  Before the VM runs only.  Returns 0,
 * -ENOENT / -ENOTDIR (bad parent), -EEXIST, -EINVAL (empty leaf), -ENOMEM. */
int vfs_add_file(struct fs_backend *b, const char *path, const void *data,
                 size_t len, uint32_t mode, bool one_shot);
/* Add an empty directory; same rules. */
int vfs_add_dir(struct fs_backend *b, const char *path, uint32_t mode);

#endif /* KRUN_FUSE_VIRTUAL_H */
