/*
 * pt.h: what the passthrough backend's files share (passthrough.c: setup,
 * lookup, attributes; pt_ns.c: creating, removing and renaming names;
 * pt_file.c: open files, data; pt_lock.c: locks; pt_dir.c: directories,
 * xattrs).
 */
#ifndef KRUN_FUSE_PT_H
#define KRUN_FUSE_PT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fuse/fs_ops.h"
#include "fuse/inode.h"

/* An open file or directory of the guest.  Reference-counted: the table
 * holds one while the handle is listed (from OPEN to RELEASE), and every
 * request using it holds one from pt_handle_get to pt_handle_put, so the
 * fd is closed and the struct freed only after the last use, never under
 * a request on another worker. */
struct pt_handle {
    struct hnode node; /* key: fh, while listed */
    int fd;
    struct inode *ino; /* holds a reference */
    bool dir;
    bool listed;          /* in p->handles (hlock) */
    uint32_t refs;        /* hlock */
    pthread_mutex_t lock; /* directories: serialises seek + getdents */
};

struct pt_fs {
    struct itab itab;
    int proc_fd;    /* /proc/self/fd, O_PATH */
    bool read_only; /* from the config */
    bool as_root;   /* euid 0: new files get the caller's uid/gid */
    uint64_t timeout;
    pthread_mutex_t hlock; /* protects the handle fields below */
    pthread_cond_t hfreed; /* a handle that was unlisted was freed */
    struct hmap handles;
    uint64_t next_fh;
    unsigned int nhandles;    /* handles alive or reserved (each an fd) */
    unsigned int max_handles; /* ... at most this many */
    unsigned int unlisted;    /* alive but no longer listed */
    pthread_mutex_t olock;    /* protects owners and nowners (pt_lock.c) */
    struct hmap owners;       /* POSIX lock owners, key: node id */
    unsigned int nowners;     /* their fds */
    unsigned int max_owners;  /* ... at most this many */
};

/* An inode in use by one request: reference + fd. */
struct pt_node {
    struct inode *ino;
    int fd;
};

/* Take (id) with its O_PATH fd.  Returns 0 or -ESTALE / -errno. */
int pt_node_get(struct pt_fs *p, uint64_t id, struct pt_node *n);
/* Release what pt_node_get took. */
void pt_node_put(struct pt_fs *p, struct pt_node *n);
/* "N" for /proc/self/fd/N relative to p->proc_fd. */
void pt_fdname(char buf[16], int fd);
/* Stat (name) in directory (dirfd) without following and register it as a
 * guest lookup in (parent); fills (e).  Returns 0 or -errno. */
int pt_lookup_at(struct pt_fs *p, struct inode *parent, int dirfd,
                 const char *name, struct fs_entry *e);
/* Give a new file the caller's identity and exactly (mode)'s permission
 * bits: (fd) is an O_PATH or real fd of it, (dir_st) its parent's stat. */
int pt_fix_new(struct pt_fs *p, const struct fs_req *r, int fd,
               const struct stat *dir_st, mode_t mode);
/* The permission bits to create with before pt_fix_new runs: no set-id
 * bits and nothing for group/other while the file may be root's. */
mode_t pt_create_mode(const struct pt_fs *p, const struct fs_req *r,
                      mode_t mode);
/* Open the file of O_PATH fd (path_fd) for I/O with (flags) (O_ACCMODE,
 * O_DIRECTORY, O_APPEND, ...), if it is of type (type): S_IFREG or S_IFDIR.
 * This is the only way the backend opens an existing file for I/O: the type
 * is checked on the fd before anything is opened (directories: -ENOTDIR;
 * regular files: -EISDIR, -ELOOP for a symlink, -EACCES for any other
 * type), so device nodes and FIFOs are never opened; the open is
 * O_NONBLOCK | O_NOCTTY (O_NONBLOCK cleared afterwards unless asked for),
 * and the result is checked to be the same file.  Returns the fd or
 * -errno. */
int pt_open_fd(struct pt_fs *p, int path_fd, int flags, mode_t type);
/* Reserve room for one handle within the budget before opening its fd.
 * Returns 0 or -EMFILE. */
int pt_handle_reserve(struct pt_fs *p);
/* Give back a reservation that did not become a handle. */
void pt_handle_unreserve(struct pt_fs *p);
/* Add an open fd as a handle on (ino) (a new reference is taken), using a
 * reservation.  Returns 0 with *fh, or -ENOMEM (fd is closed, reservation
 * given back). */
int pt_handle_add(struct pt_fs *p, struct inode *ino, int fd, bool dir,
                  uint64_t *fh);
/* The handle (fh) with a reference if it exists, is of kind (dir) and was
 * opened on node (id), else NULL.  pt_handle_put when done. */
struct pt_handle *pt_handle_get(struct pt_fs *p, uint64_t fh, uint64_t id,
                                bool dir);
void pt_handle_put(struct pt_fs *p, struct pt_handle *h);
/* FSYNC / FSYNCDIR: fsync or fdatasync the handle (fh) of node (id), a
 * directory handle iff (dir).  0 or -errno (-EBADF for a bad handle). */
int pt_handle_sync(struct pt_fs *p, uint64_t fh, uint64_t id, bool dir,
                   bool datasync);
/* Unlist handle (fh) of kind (dir) (RELEASE): later gets fail; the
 * table's reference goes to the caller, who puts it.  NULL if there is no
 * such handle (a second RELEASE). */
struct pt_handle *pt_handle_take(struct pt_fs *p, uint64_t fh, bool dir);

/* Lock owners (pt_lock.c): set up with at most (max_owners) fds. */
void pt_lock_init(struct pt_fs *p, unsigned int max_owners);
/* FLUSH of a handle of (ino) with (owner): drop all of its POSIX locks. */
void pt_lock_flush(struct pt_fs *p, struct inode *ino, uint64_t owner);
/* RELEASE of handle (h) (fh), before it is deleted: drop its flock, the
 * owners first used through it and (lock_owner) if (flock_unlock). */
void pt_lock_release(struct pt_fs *p, struct pt_handle *h, uint64_t fh,
                     bool flock_unlock, uint64_t lock_owner);
/* Drop every owner (FUSE_DESTROY); pt_lock_free at the end. */
void pt_lock_destroy(struct pt_fs *p);
void pt_lock_free(struct pt_fs *p);

/* Private host xattrs (pt_meta.c, pt_xattr.c): the guest's own names never
 * reach them. */
#define PT_XATTR_PRIVATE "user.ckrun."
#define PT_META_XATTR    PT_XATTR_PRIVATE "meta"

/* Present the host file (name) in directory (fd), or the inode of (fd)
 * itself if (name) is NULL, whose lstat is (st), as the guest made it: an
 * inert device node as the device, stored set-id bits. */
void pt_present(int fd, const char *name, struct stat *st);
/* MKNOD of a device node (mode, rdev): an inert regular file (name) in
 * (dirfd), 0600 and the VMM's, with the node in its private xattr.
 * Returns 0 or -errno. */
int pt_make_dev(struct pt_fs *p, const struct fs_req *r, int dirfd,
                const char *name, mode_t mode, dev_t rdev);
/* chmod of the inode of (fd) whose guest type is (type): set-id (and, once
 * marked, sticky) bits of regular files and everything of device nodes go
 * to the private xattr. */
int pt_set_mode(struct pt_fs *p, int fd, mode_t type, mode_t mode);
/* chown of the inode of (fd) ((uid_t)-1: unchanged), dropping privileges
 * as Linux does; device nodes only change their private owner. */
int pt_set_owner(struct pt_fs *p, int fd, mode_t type, uid_t uid, gid_t gid);
/* True if the inode of (fd) is the inert host file of a guest-made device
 * node (never to be opened). */
bool pt_is_dev_node(int fd);
/* A private file capability was set on the inode of (fd): mark it so that
 * pt_kill_priv looks (regular files). */
int pt_mark_priv(struct pt_fs *p, int fd, mode_t type);
/* Write, truncate or chown of a regular file (FUSE_HANDLE_KILLPRIV_V2):
 * clear set-user-id, set-group-id (if group-executable) and the file
 * capability, stored or on the host.  Returns 0 or -errno. */
int pt_kill_priv(struct pt_fs *p, int fd, mode_t type);

/* Operations implemented outside passthrough.c. */
int pt_mknod(void *fs, const struct fs_req *r, uint64_t parent,
             const char *name, uint32_t mode, uint32_t rdev,
             struct fs_entry *e);
int pt_mkdir(void *fs, const struct fs_req *r, uint64_t parent,
             const char *name, uint32_t mode, struct fs_entry *e);
int pt_symlink(void *fs, const struct fs_req *r, uint64_t parent,
               const char *name, const char *target, struct fs_entry *e);
int pt_link(void *fs, const struct fs_req *r, uint64_t id, uint64_t newparent,
            const char *newname, struct fs_entry *e);
int pt_unlink(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name);
int pt_rmdir(void *fs, const struct fs_req *r, uint64_t parent,
             const char *name);
int pt_rename(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name, uint64_t newparent, const char *newname,
              uint32_t flags);
int pt_open(void *fs, const struct fs_req *r, uint64_t id, uint32_t flags,
            struct fs_open *o);
int pt_create(void *fs, const struct fs_req *r, uint64_t parent,
              const char *name, uint32_t mode, uint32_t flags,
              struct fs_entry *e, struct fs_open *o);
int pt_tmpfile(void *fs, const struct fs_req *r, uint64_t parent, uint32_t mode,
               uint32_t flags, struct fs_entry *e, struct fs_open *o);
ssize_t pt_read(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                uint64_t off, const struct iovec *iov, unsigned int cnt);
ssize_t pt_write(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                 uint64_t off, const struct iovec *iov, unsigned int cnt,
                 uint32_t write_flags);
int pt_release(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
               uint32_t flags, uint32_t release_flags, uint64_t lock_owner);
int pt_fsync(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             bool datasync);
int pt_flush(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t lock_owner);
int pt_fallocate(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                 uint32_t mode, uint64_t off, uint64_t len);
int pt_lseek(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t off, uint32_t whence, uint64_t *res);
ssize_t pt_copy_file_range(void *fs, const struct fs_req *r, uint64_t ino_in,
                           uint64_t fh_in, uint64_t off_in, uint64_t ino_out,
                           uint64_t fh_out, uint64_t off_out, uint64_t len,
                           uint64_t flags);
int pt_getlk(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t owner, struct fuse_file_lock *lk);
int pt_setlk(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t owner, const struct fuse_file_lock *lk, bool sleep,
             bool is_flock);
int pt_opendir(void *fs, const struct fs_req *r, uint64_t id, uint32_t flags,
               struct fs_open *o);
int pt_readdir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
               uint64_t off, struct fs_dirbuf *db);
int pt_releasedir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh);
int pt_fsyncdir(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
                bool datasync);
int pt_setxattr(void *fs, const struct fs_req *r, uint64_t id, const char *name,
                const void *value, size_t size, uint32_t flags);
int pt_getxattr(void *fs, const struct fs_req *r, uint64_t id, const char *name,
                void *buf, size_t size);
int pt_listxattr(void *fs, const struct fs_req *r, uint64_t id, void *buf,
                 size_t size);
int pt_removexattr(void *fs, const struct fs_req *r, uint64_t id,
                   const char *name);
int pt_syncfs(void *fs, const struct fs_req *r, uint64_t id);

#endif /* KRUN_FUSE_PT_H */
