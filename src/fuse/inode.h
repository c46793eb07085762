/*
 * inode.h: the passthrough backend's inode table and a small intrusive hash
 * map.  An inode is a host file the guest knows by a node id; it is keyed by
 * (st_dev, st_ino), so hard links share one node id.  Inodes hold an O_PATH
 * fd only while it is useful: fds beyond a budget are closed in LRU order
 * and reopened on demand by name relative to the parent inode, after which
 * (dev, ino) is checked again (-ESTALE if the name now names another file).
 *
 * Reference counts: nlookup is the guest's (lookups minus forgets); refs
 * counts holders inside the server (requests in flight, children whose
 * parent it is, open handles).  An inode is freed when both are zero.
 * users counts requests using its fd right now; only unused fds are evicted.
 *
 * All functions are thread-safe (one mutex per table); none blocks while
 * holding it except close(2).
 */
#ifndef KRUN_FUSE_INODE_H
#define KRUN_FUSE_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Intrusive chained hash map keyed by a 64-bit value (duplicates allowed). */
struct hnode {
    struct hnode *next;
    uint64_t key;
};

struct hmap {
    struct hnode **buckets;
    size_t nbuckets; /* power of two, or 0 before the first insert */
    size_t count;
};

/* Insert (n) with key (key).  Returns 0 or -ENOMEM (growing failed; the
 * node is still inserted). */
int hmap_insert(struct hmap *m, struct hnode *n, uint64_t key);
/* Remove (n), which must be in (m). */
void hmap_remove(struct hmap *m, struct hnode *n);
/* First node with (key) or NULL; then hmap_next for further duplicates. */
struct hnode *hmap_first(const struct hmap *m, uint64_t key);
struct hnode *hmap_next(const struct hnode *n, uint64_t key);
/* Free the bucket array (the nodes belong to the caller). */
void hmap_free(struct hmap *m);

struct inode {
    struct hnode by_id;  /* key: node id */
    struct hnode by_key; /* key: hash of (dev, ino) */
    uint64_t id;
    dev_t dev;
    ino_t ino;
    mode_t type;          /* S_IFMT bits */
    uint64_t nlookup;     /* guest references */
    uint32_t refs;        /* server references */
    uint32_t users;       /* requests using fd */
    uint32_t opens;       /* open handles (maintained by the backend) */
    int fd;               /* O_PATH, or -1 */
    bool pinned;          /* fd never evicted (root, unlinked files) */
    bool keyed;           /* in the (dev, ino) map; false once retired */
    struct inode *parent; /* holds a ref; NULL for the root */
    char *name;           /* name in parent; NULL for the root */
    struct inode *lru_prev, *lru_next;
    struct inode *ret_prev, *ret_next; /* retired list, oldest first */
};

struct itab {
    pthread_mutex_t lock;
    struct hmap ids, keys;
    struct inode *root;
    struct inode lru; /* list head: most recent after it */
    uint64_t next_id;
    unsigned int open_fds;  /* fds held by non-pinned inodes */
    unsigned int fd_budget; /* ... at most this many */
    unsigned int peak_fds;  /* statistics */
    uint64_t reopens;
    struct inode retired;     /* list head of retired inodes */
    unsigned int nretired;    /* ... on it */
    unsigned int max_retired; /* ... kept at most (unless in use) */
};

/* Set up (t) with the share's root directory (root_fd, O_PATH, owned by the
 * table from now on) as node id 1 and at most (fd_budget) further fds.
 * At most max(fd_budget, 64) retired inodes are kept (itab_retire).
 * Returns 0 or -errno. */
int itab_init(struct itab *t, int root_fd, unsigned int fd_budget);
/* Close every fd and free every inode. */
void itab_destroy(struct itab *t);
/* The inode with node id (id) with one server reference, or NULL. */
struct inode *itab_get(struct itab *t, uint64_t id);
/* Take one more server reference on (ino). */
void itab_ref(struct itab *t, struct inode *ino);
/* Drop a server reference. */
void itab_put(struct itab *t, struct inode *ino);
/* Record one guest lookup of (name) in (parent) whose lstat is (st): finds
 * or creates the inode and adds to its nlookup.  Returns the node id, or 0
 * on -ENOMEM. */
uint64_t itab_lookup(struct itab *t, struct inode *parent, const char *name,
                     const struct stat *st);
/* Like itab_lookup for an inode with an open fd (fd is consumed: the table
 * keeps or closes it) and no name (O_TMPFILE); the inode is pinned. */
uint64_t itab_lookup_fd(struct itab *t, struct inode *parent, int fd,
                        const struct stat *st);
/* Drop every guest reference (FUSE_DESTROY, guest reboot). */
void itab_forget_all(struct itab *t);
/* Drop (n) guest references of node id (id); unknown ids are ignored. */
void itab_forget(struct itab *t, uint64_t id, uint64_t n);
/* The inode for (st_dev, st_ino) with a server reference, or NULL. */
struct inode *itab_find(struct itab *t, dev_t dev, ino_t ino);
/* An O_PATH fd for (ino) (caller holds a reference), valid until
 * itab_fd_put; opens it again by name if it was evicted.  Returns the fd or
 * -errno (-ESTALE: the name no longer names this file). */
int itab_fd(struct itab *t, struct inode *ino);
/* Release the use taken by itab_fd. */
void itab_fd_put(struct itab *t, struct inode *ino);
/* (ino) is about to lose its name (unlink, rename over it): if it has open
 * handles, keep an fd open for good so that requests without a handle still
 * reach it.  Returns 0 or -errno. */
int itab_pin(struct itab *t, struct inode *ino);
/* (ino)'s host file is gone (its last name was removed, or its number now
 * names another file): it leaves the (dev, ino) map, so that a new file
 * with the number gets a new node id, and joins the retired list.  Retired
 * inodes beyond the table's max_retired that no request or handle uses are
 * freed, oldest first, even if the guest never sent FORGET: their node ids
 * answer ESTALE from then on.  So a guest that creates and removes files
 * without ever forgetting them cannot grow the table (or, through pinned
 * fds of unlinked files, the process's fds) without bound. */
void itab_retire(struct itab *t, struct inode *ino);
/* Inodes in the table and retired ones among them (for tests and logs). */
void itab_counts(struct itab *t, size_t *inodes, unsigned int *retired);
/* (ino) is now (newname) in (newparent), after a rename. */
void itab_rename(struct itab *t, struct inode *ino, struct inode *newparent,
                 const char *newname);
/* Fds held right now / at most, and reopen count (for tests and logs). */
void itab_stats(struct itab *t, unsigned int *open_fds, unsigned int *peak,
                uint64_t *reopens);

/* Open (name), one path component, beneath (dirfd) with openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (plain
 * openat with O_NOFOLLOW where openat2 is missing: a single component
 * without '/' or ".." cannot leave dirfd either).  A trailing symlink is
 * opened as itself when (flags) has O_PATH | O_NOFOLLOW.  Returns the fd or
 * -errno. */
int inode_openat(int dirfd, const char *name, int flags, unsigned int mode);

#endif /* KRUN_FUSE_INODE_H */
