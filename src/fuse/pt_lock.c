/*
 * pt_lock.c: passthrough locks: GETLK, SETLK/SETLKW, and what FLUSH and
 * RELEASE do to them.
 *
 * POSIX record locks belong to a lock owner (fuse_lk_in.owner: the guest
 * process's file table; for the guest's OFD locks, its open file), not to
 * a handle.  Each (inode, owner) with locks gets an open file description
 * of its own on the host: an fd reopened from a handle's fd through
 * /proc/self/fd (the same file, no path walk), used for nothing but F_OFD_*
 * locks.  All of an owner's locks live in that one description, so they
 * merge, split and convert like one process's locks do, and conflict with
 * every other owner's and with host processes' locks.  FLUSH with an owner
 * (close(2) in the guest) drops all of them by closing that fd; RELEASE
 * drops the owners first used through the handle (the guest file's own OFD
 * locks; a process that locked through it has closed it by then, and its
 * FLUSH came first).  An owner left without locks by an unlock of the whole
 * file, or whose first attempt failed, gives its fd back at once.
 *
 * The description is read-write when the server may open it so (never on
 * a read-only share), else of the handle's access mode; a lock its mode
 * cannot take answers ENOLCK.  Owner fds are capped (max_owners): beyond,
 * SETLK answers ENOLCK rather than running out of fds.
 *
 * flock(2) locks belong to the guest's open file, which is exactly one
 * handle: they are flock(2) on the handle's fd, gone when it is closed.
 */
#define LOG_TAG "fuse-pt"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "fuse/pt.h"
#include "util.h"

struct pt_owner {
    struct hnode node; /* in p->owners, key: node id */
    struct inode *ino; /* holds a reference */
    uint64_t owner;
    uint64_t fh;           /* the handle it was first used through */
    uint64_t gen;          /* successful locks so far */
    uint32_t pid;          /* guest process of its latest lock */
    uint32_t refs;         /* one for the table while listed + users */
    bool listed;           /* in p->owners */
    int fd;                /* its own open file description */
    struct pt_owner *next; /* on a list of owners to free */
};

void pt_lock_init(struct pt_fs *p, unsigned int max_owners)
{
    pthread_mutex_init(&p->olock, NULL);
    p->max_owners = max_owners;
}

/* The owner (owner) of node (id), or NULL (olock held). */
static struct pt_owner *owner_find(struct pt_fs *p, uint64_t id, uint64_t owner)
{
    struct hnode *n;

    for (n = hmap_first(&p->owners, id); n; n = hmap_next(n, id)) {
        struct pt_owner *o = container_of(n, struct pt_owner, node);

        if (o->owner == owner)
            return o;
    }
    return NULL;
}

static void unlock_all(int fd)
{
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET};

    (void)fcntl(fd, F_OFD_SETLK, &fl);
}

/* Take (o) out of the table (olock held); pushes it on (*dead) if nobody
 * uses it any more. */
static void owner_unlist(struct pt_fs *p, struct pt_owner *o,
                         struct pt_owner **dead)
{
    hmap_remove(&p->owners, &o->node);
    o->listed = false;
    if (--o->refs == 0) {
        o->next = *dead;
        *dead = o;
    }
}

/* Free owners unlisted by owner_unlist (olock not held). */
static void owners_free(struct pt_fs *p, struct pt_owner *dead)
{
    while (dead) {
        struct pt_owner *o = dead;

        dead = o->next;
        close(o->fd); /* its locks go with the description */
        itab_put(&p->itab, o->ino);
        pthread_mutex_lock(&p->olock);
        p->nowners--;
        pthread_mutex_unlock(&p->olock);
        free(o);
    }
}

/* A new description of handle (h)'s file: read-write if allowed, so that
 * the owner can take both kinds of lock whichever handle it comes through;
 * else the handle's own access mode.  O_NONBLOCK: never wait for a host
 * lease to break. */
static int owner_open(struct pt_fs *p, const struct pt_handle *h)
{
    int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK, acc, fd = -1;
    char name[16];

    pt_fdname(name, h->fd);
    if (!p->read_only)
        fd = openat(p->proc_fd, name, O_RDWR | flags);
    if (fd < 0 && (acc = fcntl(h->fd, F_GETFL)) >= 0)
        fd = openat(p->proc_fd, name, (acc & O_ACCMODE) | flags);
    return fd;
}

/* Owner (owner) of (h)'s inode with a use, made if (create) (through
 * handle fh); *out is NULL if it does not exist and !create.  *gen gets its
 * lock count now, *made whether this call made it.  Returns 0 or -ENOLCK
 * (cap reached, no fd). */
static int owner_get(struct pt_fs *p, struct pt_handle *h, uint64_t fh,
                     uint64_t owner, bool create, struct pt_owner **out,
                     uint64_t *gen, bool *made)
{
    uint64_t id = h->ino->id;
    struct pt_owner *o, *n;
    bool full = false;
    int fd;

    *made = false;
    pthread_mutex_lock(&p->olock);
    o = owner_find(p, id, owner);
    if (o) {
        o->refs++;
        *gen = o->gen;
    } else if (create && p->nowners >= p->max_owners) {
        full = true;
    } else if (create) {
        p->nowners++; /* reserved for the one made below */
    }
    pthread_mutex_unlock(&p->olock);
    *out = o;
    if (full)
        return -ENOLCK;
    if (o || !create)
        return 0;
    n = calloc(1, sizeof(*n));
    fd = n ? owner_open(p, h) : -1;
    pthread_mutex_lock(&p->olock);
    o = owner_find(p, id, owner);
    if (o || fd < 0) {
        /* Another request made it meanwhile, or no fd: give back ours. */
        p->nowners--;
        if (o) {
            o->refs++;
            *gen = o->gen;
        }
        pthread_mutex_unlock(&p->olock);
        if (fd >= 0)
            close(fd);
        free(n);
        *out = o;
        return o ? 0 : -ENOLCK;
    }
    *n = (struct pt_owner){.ino = h->ino,
                           .owner = owner,
                           .fh = fh,
                           .refs = 2,
                           .listed = true,
                           .fd = fd};
    itab_ref(&p->itab, h->ino);
    hmap_insert(&p->owners, &n->node, id);
    *gen = 0;
    *made = true;
    pthread_mutex_unlock(&p->olock);
    *out = n;
    return 0;
}

/* Drop the use taken by owner_get.  (locked): the request took a lock
 * (of guest process pid); (empty): it left the owner without locks if no
 * other request locked since (gen), so it can go. */
static void owner_put(struct pt_fs *p, struct pt_owner *o, bool locked,
                      uint32_t pid, bool empty, uint64_t gen)
{
    struct pt_owner *dead = NULL;

    pthread_mutex_lock(&p->olock);
    if (locked) {
        o->gen++;
        o->pid = pid;
    } else if (empty && o->listed && o->refs == 2 && o->gen == gen) {
        owner_unlist(p, o, &dead);
    }
    if (--o->refs == 0) {
        o->next = dead;
        dead = o;
    }
    pthread_mutex_unlock(&p->olock);
    owners_free(p, dead);
}

static int lk_to_flock(const struct fuse_file_lock *lk, struct flock *fl)
{
    if (lk->start > INT64_MAX || lk->end < lk->start ||
        (lk->type != F_RDLCK && lk->type != F_WRLCK && lk->type != F_UNLCK))
        return -EINVAL;
    *fl = (struct flock){
        .l_type = (short)lk->type,
        .l_whence = SEEK_SET,
        .l_start = (off_t)lk->start,
        .l_len = lk->end >= INT64_MAX ? 0 : (off_t)(lk->end - lk->start + 1),
    };
    return 0;
}

/* The guest process of the owner holding lock [cs, ce] of node (id) that
 * conflicts with owner (self)'s (NULL: none) request for [rs, re].  Seen
 * from the holder's own description, nobody holds anything in the part
 * of its lock that was asked for (a write lock excludes everyone; a read
 * lock is found if no other owner reads there too); 0 when no single
 * owner is the answer (read locks shared there, a host process). */
static uint32_t holder_pid(struct pt_fs *p, uint64_t id,
                           const struct pt_owner *self, uint64_t cs,
                           uint64_t ce, uint64_t rs, uint64_t re)
{
    uint64_t s = MAX(cs, rs), e = MIN(ce, re);
    uint32_t pid = 0;
    struct hnode *n;

    pthread_mutex_lock(&p->olock);
    for (n = hmap_first(&p->owners, id); n; n = hmap_next(n, id)) {
        struct pt_owner *o = container_of(n, struct pt_owner, node);
        struct flock t = {.l_type = F_WRLCK,
                          .l_whence = SEEK_SET,
                          .l_start = (off_t)s,
                          .l_len = e >= INT64_MAX ? 0 : (off_t)(e - s + 1)};

        if (o == self || fcntl(o->fd, F_OFD_GETLK, &t) < 0)
            continue;
        if (t.l_type == F_UNLCK) {
            pid = o->pid;
            break;
        }
    }
    pthread_mutex_unlock(&p->olock);
    return pid;
}

static int getlk(struct pt_fs *p, struct pt_handle *h, uint64_t fh,
                 uint64_t owner, struct fuse_file_lock *lk)
{
    uint64_t id = h->ino->id;
    struct pt_owner *o;
    struct flock fl;
    uint64_t gen;
    bool made;
    int rc = lk_to_flock(lk, &fl);

    if (rc < 0)
        return rc;
    if (fl.l_type == F_UNLCK)
        return -EINVAL;
    (void)owner_get(p, h, fh, owner, false, &o, &gen, &made);
    /* The handle's own description holds no record locks: an owner
     * without any sees every lock there is. */
    rc = fcntl(o ? o->fd : h->fd, F_OFD_GETLK, &fl) < 0 ? -errno : 0;
    if (rc == 0) {
        uint64_t rs = lk->start, re = lk->end;

        lk->type = (uint32_t)fl.l_type;
        if (fl.l_type != F_UNLCK) {
            lk->start = (uint64_t)fl.l_start;
            lk->end = fl.l_len ? (uint64_t)(fl.l_start + fl.l_len - 1)
                               : (uint64_t)INT64_MAX;
            lk->pid = holder_pid(p, id, o, lk->start, lk->end, rs, re);
        }
    }
    if (o)
        owner_put(p, o, false, 0, false, gen);
    return rc;
}

int pt_getlk(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t owner, struct fuse_file_lock *lk)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_get(p, fh, id, false);
    int rc;

    if (!h)
        return -EBADF;
    rc = getlk(p, h, fh, owner, lk);
    pt_handle_put(p, h);
    return rc;
}

/* flock(2) through handle (h), which is put here.  A blocking one waits on
 * a dup of the fd (the same open file, so the same lock) without holding
 * the handle: RELEASE and DESTROY never wait for a lock wait. */
static int setlk_flock(struct pt_fs *p, struct pt_handle *h, uint32_t type,
                       bool sleep)
{
    int op = type == F_RDLCK ? LOCK_SH : type == F_WRLCK ? LOCK_EX : LOCK_UN;
    int fd = sleep ? fcntl(h->fd, F_DUPFD_CLOEXEC, 0) : h->fd, rc;

    if (fd < 0) {
        pt_handle_put(p, h);
        return errno == EMFILE ? -ENOLCK : -errno;
    }
    if (sleep)
        pt_handle_put(p, h);
    rc = flock(fd, op | (sleep ? 0 : LOCK_NB)) < 0 ? -errno : 0;
    if (sleep)
        close(fd);
    else
        pt_handle_put(p, h);
    return rc;
}

int pt_setlk(void *fs, const struct fs_req *r, uint64_t id, uint64_t fh,
             uint64_t owner, const struct fuse_file_lock *lk, bool sleep,
             bool is_flock)
{
    struct pt_fs *p = fs;
    struct pt_handle *h = pt_handle_get(p, fh, id, false);
    struct pt_owner *o = NULL;
    struct flock fl = {0};
    uint64_t gen = 0;
    bool made, unlock, whole;
    int rc;

    if (!h)
        return -EBADF;
    if (is_flock)
        return setlk_flock(p, h, lk->type, sleep);
    rc = lk_to_flock(lk, &fl);
    unlock = fl.l_type == F_UNLCK;
    whole = unlock && fl.l_start == 0 && fl.l_len == 0;
    if (rc == 0)
        rc = owner_get(p, h, fh, owner, !unlock, &o, &gen, &made);
    /* The owner has a description of its own: a lock wait holds no
     * handle. */
    pt_handle_put(p, h);
    if (rc < 0 || !o)
        return rc; /* no locks to remove when there is no owner */
    if (fcntl(o->fd, sleep ? F_OFD_SETLKW : F_OFD_SETLK, &fl) < 0)
        /* EBADF: the owner's description cannot take this kind of lock
         * (it could not be opened read-write). */
        rc = errno == EBADF ? -ENOLCK : -errno;
    owner_put(p, o, rc == 0 && !unlock, lk->pid,
              rc == 0 ? whole : made && !unlock, gen);
    return rc;
}

void pt_lock_flush(struct pt_fs *p, struct inode *ino, uint64_t owner)
{
    struct pt_owner *o, *dead = NULL;

    pthread_mutex_lock(&p->olock);
    o = owner_find(p, ino->id, owner);
    /* In use (a lock of the same owner is being waited for): keep the
     * description, without locks. */
    if (o && o->refs > 1)
        unlock_all(o->fd);
    else if (o)
        owner_unlist(p, o, &dead);
    pthread_mutex_unlock(&p->olock);
    owners_free(p, dead);
}

void pt_lock_release(struct pt_fs *p, struct pt_handle *h, uint64_t fh,
                     bool flock_unlock, uint64_t lock_owner)
{
    uint64_t id = h->ino->id;
    struct pt_owner *dead = NULL;
    struct hnode *n, *next;

    if (flock_unlock)
        (void)flock(h->fd, LOCK_UN);
    pthread_mutex_lock(&p->olock);
    for (n = hmap_first(&p->owners, id); n; n = next) {
        struct pt_owner *o = container_of(n, struct pt_owner, node);

        next = hmap_next(n, id);
        if (o->fh != fh && !(flock_unlock && o->owner == lock_owner))
            continue;
        if (o->refs > 1)
            unlock_all(o->fd); /* freed by its last user */
        owner_unlist(p, o, &dead);
    }
    pthread_mutex_unlock(&p->olock);
    owners_free(p, dead);
}

void pt_lock_destroy(struct pt_fs *p)
{
    struct pt_owner *dead = NULL;

    pthread_mutex_lock(&p->olock);
    for (size_t i = 0; i < p->owners.nbuckets; i++) {
        struct hnode *n = p->owners.buckets[i], *next;

        for (; n; n = next) {
            struct pt_owner *o = container_of(n, struct pt_owner, node);

            next = n->next;
            o->listed = false;
            if (o->refs > 1)
                unlock_all(o->fd);
            if (--o->refs == 0) {
                o->next = dead;
                dead = o;
            }
        }
        p->owners.buckets[i] = NULL;
    }
    p->owners.count = 0;
    pthread_mutex_unlock(&p->olock);
    owners_free(p, dead);
}

void pt_lock_free(struct pt_fs *p)
{
    hmap_free(&p->owners);
    pthread_mutex_destroy(&p->olock);
}
