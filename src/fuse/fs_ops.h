/*
 * fs_ops.h: the backend interface the FUSE wire server calls.  A backend is
 * a const ops table plus an opaque instance pointer (fs).  Every operation
 * returns 0 (or a byte count / offset where stated) or a negative errno.
 *
 * Node ids are the backend's own 64-bit names for inodes; FUSE_ROOT_ID (1)
 * is the root.  The guest may send any value: backends must treat unknown
 * ids as -ESTALE and never trust them.  Names passed in are already checked
 * by the server: NUL-terminated, 1..255 bytes, no '/'.  "." and ".." reach
 * only lookup (the backend decides).
 *
 * Threading: any operation may be called from several worker threads at
 * once, including on the same node id and handle; backends lock internally.
 * A NULL entry means "not supported" and the server answers -ENOSYS.
 */
#ifndef KRUN_FUSE_FS_OPS_H
#define KRUN_FUSE_FS_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <linux/fuse.h>

/* Who asks, from fuse_in_header. */
struct fs_req {
    uint64_t unique;
    uint32_t opcode;
    uint32_t uid;
    uint32_t gid;
    uint32_t pid;
};

/* The result of anything that creates a guest reference to an inode
 * (lookup, create, mkdir, ..., readdirplus): one "lookup" the guest will
 * later drop with forget.  ino == 0 is a negative entry (no reference). */
struct fs_entry {
    uint64_t ino;
    uint64_t generation;
    uint64_t entry_timeout; /* seconds */
    uint64_t attr_timeout;  /* seconds */
    struct stat st;
};

/* An open file or directory. */
struct fs_open {
    uint64_t fh;
    uint32_t open_flags; /* FOPEN_* */
};

/* SETATTR arguments; valid is the FATTR_* mask of fuse_setattr_in. */
struct fs_setattr {
    uint32_t valid;
    uint64_t fh; /* if valid & FATTR_FH */
    uint32_t mode, uid, gid;
    uint64_t size;
    struct timespec atime, mtime; /* UTIME_NOW when *_NOW is set */
};

/* In the open flags of open and create: the guest asked for
 * FUSE_OPEN_KILL_SUIDGID (an O_TRUNC open by a caller without CAP_FSETID,
 * with FUSE_HANDLE_KILLPRIV_V2).  No open(2) flag uses this bit. */
#define FS_OPEN_KILL_PRIV (1u << 31)

/* Directory listing being built by the server; see fs_dirbuf_add. */
struct fs_dirbuf;

struct fs_ops {
    /* FUSE_DESTROY / teardown: drop every inode and handle (no reply). */
    void (*destroy)(void *fs);
    int (*lookup)(void *fs, const struct fs_req *r, uint64_t parent,
                  const char *name, struct fs_entry *e);
    /* Drop (nlookup) guest references; never fails. */
    void (*forget)(void *fs, uint64_t ino, uint64_t nlookup);
    /* (fh) is valid if has_fh. */
    int (*getattr)(void *fs, const struct fs_req *r, uint64_t ino, bool has_fh,
                   uint64_t fh, struct stat *st, uint64_t *timeout);
    int (*setattr)(void *fs, const struct fs_req *r, uint64_t ino,
                   const struct fs_setattr *sa, struct stat *st,
                   uint64_t *timeout);
    /* Returns the target's length (<= size, not NUL-terminated). */
    int (*readlink)(void *fs, const struct fs_req *r, uint64_t ino, char *buf,
                    size_t size);
    int (*symlink)(void *fs, const struct fs_req *r, uint64_t parent,
                   const char *name, const char *target, struct fs_entry *e);
    int (*mknod)(void *fs, const struct fs_req *r, uint64_t parent,
                 const char *name, uint32_t mode, uint32_t rdev,
                 struct fs_entry *e);
    int (*mkdir)(void *fs, const struct fs_req *r, uint64_t parent,
                 const char *name, uint32_t mode, struct fs_entry *e);
    int (*unlink)(void *fs, const struct fs_req *r, uint64_t parent,
                  const char *name);
    int (*rmdir)(void *fs, const struct fs_req *r, uint64_t parent,
                 const char *name);
    /* (flags): RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT. */
    int (*rename)(void *fs, const struct fs_req *r, uint64_t parent,
                  const char *name, uint64_t newparent, const char *newname,
                  uint32_t flags);
    int (*link)(void *fs, const struct fs_req *r, uint64_t ino,
                uint64_t newparent, const char *newname, struct fs_entry *e);
    /* (flags): the guest's open(2) flags, plus FS_OPEN_KILL_PRIV. */
    int (*open)(void *fs, const struct fs_req *r, uint64_t ino, uint32_t flags,
                struct fs_open *o);
    int (*create)(void *fs, const struct fs_req *r, uint64_t parent,
                  const char *name, uint32_t mode, uint32_t flags,
                  struct fs_entry *e, struct fs_open *o);
    /* O_TMPFILE in directory (parent). */
    int (*tmpfile)(void *fs, const struct fs_req *r, uint64_t parent,
                   uint32_t mode, uint32_t flags, struct fs_entry *e,
                   struct fs_open *o);
    /* Read up to the total of (iov) at (off) into guest buffers; returns the
     * byte count (0 at end of file). */
    ssize_t (*read)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                    uint64_t off, const struct iovec *iov, unsigned int cnt);
    /* Write the bytes of (iov) at (off); returns the byte count.
     * (write_flags): FUSE_WRITE_*. */
    ssize_t (*write)(void *fs, const struct fs_req *r, uint64_t ino,
                     uint64_t fh, uint64_t off, const struct iovec *iov,
                     unsigned int cnt, uint32_t write_flags);
    int (*statfs)(void *fs, const struct fs_req *r, uint64_t ino,
                  struct statvfs *sv);
    /* (lock_owner) is the file's flock owner if release_flags has
     * FUSE_RELEASE_FLOCK_UNLOCK. */
    int (*release)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                   uint32_t flags, uint32_t release_flags, uint64_t lock_owner);
    int (*fsync)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                 bool datasync);
    /* close(2) in the guest: (lock_owner)'s POSIX locks on the file go. */
    int (*flush)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                 uint64_t lock_owner);
    int (*opendir)(void *fs, const struct fs_req *r, uint64_t ino,
                   uint32_t flags, struct fs_open *o);
    /* Fill (db) from cookie (off) with fs_dirbuf_add until it is full or the
     * directory ends.  With fs_dirbuf_plus(db), entries carry a lookup. */
    int (*readdir)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                   uint64_t off, struct fs_dirbuf *db);
    int (*releasedir)(void *fs, const struct fs_req *r, uint64_t ino,
                      uint64_t fh);
    int (*fsyncdir)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                    bool datasync);
    int (*setxattr)(void *fs, const struct fs_req *r, uint64_t ino,
                    const char *name, const void *value, size_t size,
                    uint32_t flags);
    /* size 0: return the value's size; else copy and return its length or
     * -ERANGE. */
    int (*getxattr)(void *fs, const struct fs_req *r, uint64_t ino,
                    const char *name, void *buf, size_t size);
    int (*listxattr)(void *fs, const struct fs_req *r, uint64_t ino, void *buf,
                     size_t size);
    int (*removexattr)(void *fs, const struct fs_req *r, uint64_t ino,
                       const char *name);
    int (*access)(void *fs, const struct fs_req *r, uint64_t ino,
                  uint32_t mask);
    int (*fallocate)(void *fs, const struct fs_req *r, uint64_t ino,
                     uint64_t fh, uint32_t mode, uint64_t off, uint64_t len);
    /* Returns the new offset through (*res). */
    int (*lseek)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                 uint64_t off, uint32_t whence, uint64_t *res);
    ssize_t (*copy_file_range)(void *fs, const struct fs_req *r,
                               uint64_t ino_in, uint64_t fh_in, uint64_t off_in,
                               uint64_t ino_out, uint64_t fh_out,
                               uint64_t off_out, uint64_t len, uint64_t flags);
    /* POSIX locks (F_RDLCK/F_WRLCK/F_UNLCK in lk->type, lk->pid the
     * locking guest process) per (owner), whichever handle (fh) they come
     * through; is_flock selects flock(2) semantics (per handle).  getlk
     * rewrites *lk with the conflicting lock and its holder's pid. */
    int (*getlk)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                 uint64_t owner, struct fuse_file_lock *lk);
    int (*setlk)(void *fs, const struct fs_req *r, uint64_t ino, uint64_t fh,
                 uint64_t owner, const struct fuse_file_lock *lk, bool sleep,
                 bool is_flock);
    int (*syncfs)(void *fs, const struct fs_req *r, uint64_t ino);
};

/* A backend instance: what the server and stacking backends hold. */
struct fs_backend {
    const struct fs_ops *ops;
    void *fs;
};

/* True if (db) wants READDIRPLUS entries (with a lookup reference each). */
bool fs_dirbuf_plus(const struct fs_dirbuf *db);
/* True if an entry with a name of (namelen) bytes still fits.  Call before
 * taking a lookup reference for a plus entry. */
bool fs_dirbuf_fits(const struct fs_dirbuf *db, size_t namelen);
/* Append one entry: (name, namelen), host inode number (d_ino), DT_* type,
 * cookie of the next entry (next_off), and for plus listings the entry (e;
 * e->ino 0 = no reference, e.g. for "." and "..").  Returns 0, or -ENOSPC if
 * it does not fit (nothing appended; the caller drops its reference). */
int fs_dirbuf_add(struct fs_dirbuf *db, const char *name, size_t namelen,
                  uint64_t d_ino, uint32_t type, uint64_t next_off,
                  const struct fs_entry *e);

#endif /* KRUN_FUSE_FS_OPS_H */
