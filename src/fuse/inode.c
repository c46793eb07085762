/* inode.c: inode table with an fd budget (see inode.h). */
#define LOG_TAG "fuse-inode"
#include "fuse/inode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "log.h"
#include "util.h"

static size_t hmap_slot(const struct hmap *m, uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)(key & (m->nbuckets - 1));
}

static int hmap_grow(struct hmap *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 64;
    struct hnode **nb = calloc(n, sizeof(*nb));
    struct hmap tmp = {.buckets = nb, .nbuckets = n};

    if (!nb)
        return -ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct hnode *e = m->buckets[i], *next;

        for (; e; e = next) {
            size_t s = hmap_slot(&tmp, e->key);

            next = e->next;
            e->next = nb[s];
            nb[s] = e;
        }
    }
    free(m->buckets);
    m->buckets = nb;
    m->nbuckets = n;
    return 0;
}

int hmap_insert(struct hmap *m, struct hnode *n, uint64_t key)
{
    int rc = 0;
    size_t s;

    if (m->count >= m->nbuckets)
        rc = hmap_grow(m);
    if (!m->nbuckets)
        return rc;
    n->key = key;
    s = hmap_slot(m, key);
    n->next = m->buckets[s];
    m->buckets[s] = n;
    m->count++;
    return 0;
}

void hmap_remove(struct hmap *m, struct hnode *n)
{
    struct hnode **pp = &m->buckets[hmap_slot(m, n->key)];

    for (; *pp; pp = &(*pp)->next) {
        if (*pp == n) {
            *pp = n->next;
            m->count--;
            return;
        }
    }
}

struct hnode *hmap_first(const struct hmap *m, uint64_t key)
{
    struct hnode *n;

    if (!m->nbuckets)
        return NULL;
    n = m->buckets[hmap_slot(m, key)];
    while (n && n->key != key)
        n = n->next;
    return n;
}

struct hnode *hmap_next(const struct hnode *n, uint64_t key)
{
    struct hnode *e = n->next;

    while (e && e->key != key)
        e = e->next;
    return e;
}

void hmap_free(struct hmap *m)
{
    free(m->buckets);
    *m = (struct hmap){0};
}

int inode_openat(int dirfd, const char *name, int flags, unsigned int mode)
{
    struct open_how how = {
        .flags = (uint64_t)(unsigned int)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
        .resolve =
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    static int no_openat2;
    long fd = -1;

    if (!READ_ONCE(no_openat2)) {
        fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS)
            WRITE_ONCE(no_openat2, 1);
    }
    if (READ_ONCE(no_openat2))
        fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    return fd < 0 ? -errno : (int)fd;
}

static uint64_t devino_key(dev_t dev, ino_t ino)
{
    return (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev;
}

static void lru_unlink(struct inode *ino)
{
    if (ino->lru_next) {
        ino->lru_prev->lru_next = ino->lru_next;
        ino->lru_next->lru_prev = ino->lru_prev;
        ino->lru_prev = ino->lru_next = NULL;
    }
}

static void lru_push(struct itab *t, struct inode *ino)
{
    lru_unlink(ino);
    ino->lru_next = t->lru.lru_next;
    ino->lru_prev = &t->lru;
    t->lru.lru_next->lru_prev = ino;
    t->lru.lru_next = ino;
}

/* Close unused fds, least recently used first, until within budget. */
static void evict(struct itab *t)
{
    struct inode *ino = t->lru.lru_prev;

    while (t->open_fds > t->fd_budget && ino != &t->lru) {
        struct inode *prev = ino->lru_prev;

        if (ino->users == 0) {
            lru_unlink(ino);
            close(ino->fd);
            ino->fd = -1;
            t->open_fds--;
        }
        ino = prev;
    }
}

int itab_init(struct itab *t, int root_fd, unsigned int fd_budget)
{
    struct stat st;
    struct inode *root;

    if (fstat(root_fd, &st) < 0)
        return -errno;
    root = calloc(1, sizeof(*root));
    if (!root)
        return -ENOMEM;
    *t = (struct itab){.next_id = 2,
                       .fd_budget = fd_budget,
                       .max_retired = MAX(fd_budget, 64u)};
    pthread_mutex_init(&t->lock, NULL);
    t->lru.lru_next = t->lru.lru_prev = &t->lru;
    t->retired.ret_next = t->retired.ret_prev = &t->retired;
    *root = (struct inode){.id = 1,
                           .dev = st.st_dev,
                           .ino = st.st_ino,
                           .type = S_IFDIR,
                           .refs = 1,
                           .fd = root_fd,
                           .pinned = true,
                           .keyed = true};
    if (hmap_insert(&t->ids, &root->by_id, 1) < 0 ||
        hmap_insert(&t->keys, &root->by_key, devino_key(st.st_dev, st.st_ino)) <
            0) {
        itab_destroy(t);
        free(root);
        return -ENOMEM;
    }
    t->root = root;
    return 0;
}

static void ret_unlink(struct itab *t, struct inode *ino)
{
    if (ino->ret_next) {
        ino->ret_prev->ret_next = ino->ret_next;
        ino->ret_next->ret_prev = ino->ret_prev;
        ino->ret_prev = ino->ret_next = NULL;
        t->nretired--;
    }
}

static void ret_append(struct itab *t, struct inode *ino)
{
    ino->ret_next = &t->retired;
    ino->ret_prev = t->retired.ret_prev;
    t->retired.ret_prev->ret_next = ino;
    t->retired.ret_prev = ino;
    t->nretired++;
}

/* Free (ino) and then any ancestor that only it kept alive.  Locked. */
static void maybe_free(struct itab *t, struct inode *ino)
{
    while (ino && ino->nlookup == 0 && ino->refs == 0 && ino != t->root) {
        struct inode *parent = ino->parent;

        hmap_remove(&t->ids, &ino->by_id);
        if (ino->keyed)
            hmap_remove(&t->keys, &ino->by_key);
        lru_unlink(ino);
        ret_unlink(t, ino);
        if (ino->fd >= 0) {
            close(ino->fd);
            if (!ino->pinned)
                t->open_fds--;
        }
        free(ino->name);
        free(ino);
        ino = parent;
        if (ino)
            ino->refs--;
    }
}

void itab_destroy(struct itab *t)
{
    for (size_t i = 0; i < t->ids.nbuckets; i++) {
        struct hnode *n = t->ids.buckets[i], *next;

        for (; n; n = next) {
            struct inode *ino = container_of(n, struct inode, by_id);

            next = n->next;
            if (ino->fd >= 0)
                close(ino->fd);
            free(ino->name);
            free(ino);
        }
    }
    hmap_free(&t->ids);
    hmap_free(&t->keys);
    pthread_mutex_destroy(&t->lock);
    t->root = NULL;
}

static struct inode *get_locked(struct itab *t, uint64_t id)
{
    struct hnode *n = hmap_first(&t->ids, id);

    return n ? container_of(n, struct inode, by_id) : NULL;
}

struct inode *itab_get(struct itab *t, uint64_t id)
{
    struct inode *ino;

    pthread_mutex_lock(&t->lock);
    ino = get_locked(t, id);
    if (ino)
        ino->refs++;
    pthread_mutex_unlock(&t->lock);
    return ino;
}

void itab_ref(struct itab *t, struct inode *ino)
{
    pthread_mutex_lock(&t->lock);
    ino->refs++;
    pthread_mutex_unlock(&t->lock);
}

void itab_put(struct itab *t, struct inode *ino)
{
    if (!ino)
        return;
    pthread_mutex_lock(&t->lock);
    ino->refs--;
    maybe_free(t, ino);
    pthread_mutex_unlock(&t->lock);
}

static struct inode *find_locked(struct itab *t, dev_t dev, ino_t i)
{
    uint64_t key = devino_key(dev, i);
    struct hnode *n = hmap_first(&t->keys, key);

    for (; n; n = hmap_next(n, key)) {
        struct inode *ino = container_of(n, struct inode, by_key);

        if (ino->dev == dev && ino->ino == i)
            return ino;
    }
    return NULL;
}

/* Free retired inodes beyond max_retired that nothing in the server uses,
 * oldest first; the guest's references go with them (see itab_retire).
 * Looks at a few entries per call (busy ones move to the end), so the
 * cost stays constant while in-use ones are kept.  Locked. */
static void trim_retired(struct itab *t)
{
    for (int seen = 0; t->nretired > t->max_retired && seen < 8; seen++) {
        struct inode *ino = t->retired.ret_next;

        ret_unlink(t, ino);
        if (ino->refs == 0) {
            ino->nlookup = 0;
            maybe_free(t, ino);
        } else {
            ret_append(t, ino);
        }
    }
}

static void retire_locked(struct itab *t, struct inode *ino)
{
    if (!ino->keyed || ino == t->root)
        return;
    hmap_remove(&t->keys, &ino->by_key);
    ino->keyed = false;
    ret_append(t, ino);
    trim_retired(t);
}

/*
 * The inode (st) names now.  An entry for the same (dev, ino) whose fd was
 * closed (evicted under the fd budget) did not keep the host inode alive: if
 * its type differs, the file was deleted and the number reused, so the entry
 * is retired (it keeps its node id until the guest forgets it) and a new one
 * is made.  An entry holding an fd cannot be stale: the fd pins the inode.
 */
static struct inode *find_current_locked(struct itab *t, const struct stat *st)
{
    struct inode *ino = find_locked(t, st->st_dev, st->st_ino);

    if (ino && ino->fd < 0 && ino != t->root &&
        ino->type != (st->st_mode & S_IFMT)) {
        retire_locked(t, ino);
        return NULL;
    }
    return ino;
}

struct inode *itab_find(struct itab *t, dev_t dev, ino_t i)
{
    struct inode *ino;

    pthread_mutex_lock(&t->lock);
    ino = find_locked(t, dev, i);
    if (ino)
        ino->refs++;
    pthread_mutex_unlock(&t->lock);
    return ino;
}

/* Point (ino) at (name) in (parent).  Locked; on -ENOMEM nothing changes. */
static void set_name_locked(struct itab *t, struct inode *ino,
                            struct inode *parent, const char *name)
{
    char *dup = strdup(name);
    struct inode *old = ino->parent;

    if (!dup)
        return;
    free(ino->name);
    ino->name = dup;
    parent->refs++;
    ino->parent = parent;
    if (old) {
        old->refs--;
        maybe_free(t, old);
    }
}

static struct inode *new_locked(struct itab *t, struct inode *parent,
                                const char *name, const struct stat *st)
{
    struct inode *ino = calloc(1, sizeof(*ino));

    if (!ino || (name && !(ino->name = strdup(name)))) {
        free(ino);
        return NULL;
    }
    ino->id = t->next_id++;
    ino->dev = st->st_dev;
    ino->ino = st->st_ino;
    ino->type = st->st_mode & S_IFMT;
    ino->fd = -1;
    ino->parent = parent;
    parent->refs++;
    hmap_insert(&t->ids, &ino->by_id, ino->id);
    hmap_insert(&t->keys, &ino->by_key, devino_key(st->st_dev, st->st_ino));
    ino->keyed = true;
    return ino;
}

uint64_t itab_lookup(struct itab *t, struct inode *parent, const char *name,
                     const struct stat *st)
{
    struct inode *ino;
    uint64_t id = 0;

    pthread_mutex_lock(&t->lock);
    ino = find_current_locked(t, st);
    if (ino && ino != t->root &&
        (ino->parent != parent || !ino->name || strcmp(ino->name, name)))
        set_name_locked(t, ino, parent, name);
    if (!ino)
        ino = new_locked(t, parent, name, st);
    if (ino) {
        ino->nlookup++;
        id = ino->id;
    }
    pthread_mutex_unlock(&t->lock);
    return id;
}

uint64_t itab_lookup_fd(struct itab *t, struct inode *parent, int fd,
                        const struct stat *st)
{
    struct inode *ino;
    uint64_t id = 0;

    pthread_mutex_lock(&t->lock);
    ino = find_current_locked(t, st);
    if (!ino)
        ino = new_locked(t, parent, NULL, st);
    if (ino && ino->fd < 0) {
        ino->fd = fd;
        ino->pinned = true;
        fd = -1;
    }
    if (ino) {
        ino->nlookup++;
        id = ino->id;
    }
    pthread_mutex_unlock(&t->lock);
    if (fd >= 0)
        close(fd);
    return id;
}

void itab_forget(struct itab *t, uint64_t id, uint64_t n)
{
    struct inode *ino;

    pthread_mutex_lock(&t->lock);
    ino = get_locked(t, id);
    if (ino && ino != t->root) {
        ino->nlookup -= MIN(n, ino->nlookup);
        maybe_free(t, ino);
    }
    pthread_mutex_unlock(&t->lock);
}

/* Take a use of (ino)'s fd, which is open.  Locked. */
static int use_locked(struct itab *t, struct inode *ino)
{
    ino->users++;
    if (!ino->pinned)
        lru_push(t, ino);
    return ino->fd;
}

/*
 * One step down an evicted chain: (parent) has an fd (pfd) we hold a use
 * of; give (ino) its fd again by opening its stored name in (parent) and
 * checking (dev, ino).  Drops the use of (parent) and returns (ino)'s fd
 * with a use, or -errno; -EAGAIN if (ino) was renamed into another
 * directory meanwhile (the caller walks again).
 */
static int reopen_step(struct itab *t, struct inode *parent, int pfd,
                       struct inode *ino)
{
    char name[NAME_MAX + 1];
    struct stat st;
    int fd;

    pthread_mutex_lock(&t->lock);
    if (ino->fd >= 0) {
        fd = use_locked(t, ino); /* another thread was first */
        goto out;
    }
    if (ino->parent != parent || !ino->name) {
        fd = ino->name ? -EAGAIN : -ESTALE;
        goto out;
    }
    snprintf(name, sizeof(name), "%s", ino->name);
    t->reopens++;
    pthread_mutex_unlock(&t->lock);
    fd = inode_openat(pfd, name, O_PATH | O_NOFOLLOW, 0);
    if (fd == -ENOENT)
        fd = -ESTALE;
    if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != ino->dev ||
                    st.st_ino != ino->ino)) {
        close(fd);
        fd = -ESTALE;
    }
    pthread_mutex_lock(&t->lock);
    if (fd >= 0) {
        if (ino->fd >= 0) {
            close(fd); /* another thread won */
        } else {
            ino->fd = fd;
            t->open_fds++;
            t->peak_fds = MAX(t->peak_fds, t->open_fds);
        }
        fd = use_locked(t, ino);
    }
out:
    parent->users--;
    evict(t);
    pthread_mutex_unlock(&t->lock);
    return fd;
}

/* Drop the references walk_up took on (chain[0..n)).  Locked. */
static void chain_put_locked(struct itab *t, struct inode **chain, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        chain[i]->refs--;
        maybe_free(t, chain[i]);
    }
}

/*
 * (ino) and its ancestors up to the nearest one holding an fd, each with a
 * reference, into *chain (grown as needed): chain[0] is (ino).  Returns the
 * count with a use of that ancestor's fd in *pfd and the ancestor in *top,
 * or -errno.  Locked.  A loop, not recursion: a guest can make the chain
 * as deep as it likes, one MKDIR at a time.
 */
static long walk_up(struct itab *t, struct inode *ino, struct inode ***chain,
                    size_t *cap, struct inode **top, int *pfd)
{
    size_t n = 0;

    for (; ino && ino->fd < 0; ino = ino->parent) {
        if (n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            struct inode **nc = realloc(*chain, ncap * sizeof(*nc));

            if (!nc) {
                chain_put_locked(t, *chain, n);
                return -ENOMEM;
            }
            *chain = nc;
            *cap = ncap;
        }
        ino->refs++;
        (*chain)[n++] = ino;
    }
    if (!ino) { /* no name to reopen by (a lost O_TMPFILE) */
        chain_put_locked(t, *chain, n);
        return -ESTALE;
    }
    *top = ino;
    *pfd = use_locked(t, ino);
    return (long)n;
}

int itab_fd(struct itab *t, struct inode *ino)
{
    struct inode **chain = NULL, *top;
    size_t cap = 0;
    int fd = -EAGAIN;

    /* A rename racing with the walk makes it start again, a few times. */
    for (int tries = 0; fd == -EAGAIN && tries < 8; tries++) {
        long n;

        pthread_mutex_lock(&t->lock);
        n = walk_up(t, ino, &chain, &cap, &top, &fd);
        pthread_mutex_unlock(&t->lock);
        if (n < 0) {
            fd = (int)n;
            break;
        }
        /* Down from the ancestor with an fd, one component per step. */
        for (long i = n - 1; i >= 0 && fd >= 0; i--) {
            fd = reopen_step(t, top, fd, chain[i]);
            top = chain[i];
        }
        pthread_mutex_lock(&t->lock);
        chain_put_locked(t, chain, (size_t)n);
        pthread_mutex_unlock(&t->lock);
    }
    free(chain);
    return fd == -EAGAIN ? -ESTALE : fd;
}

void itab_fd_put(struct itab *t, struct inode *ino)
{
    pthread_mutex_lock(&t->lock);
    ino->users--;
    if (t->open_fds > t->fd_budget)
        evict(t);
    pthread_mutex_unlock(&t->lock);
}

int itab_pin(struct itab *t, struct inode *ino)
{
    int fd;

    pthread_mutex_lock(&t->lock);
    if (ino->pinned || ino->opens == 0) {
        pthread_mutex_unlock(&t->lock);
        return 0;
    }
    pthread_mutex_unlock(&t->lock);
    fd = itab_fd(t, ino);
    if (fd < 0)
        return fd;
    pthread_mutex_lock(&t->lock);
    if (!ino->pinned) {
        ino->pinned = true;
        lru_unlink(ino);
        t->open_fds--;
    }
    ino->users--;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

void itab_retire(struct itab *t, struct inode *ino)
{
    pthread_mutex_lock(&t->lock);
    retire_locked(t, ino);
    pthread_mutex_unlock(&t->lock);
}

void itab_counts(struct itab *t, size_t *inodes, unsigned int *retired)
{
    pthread_mutex_lock(&t->lock);
    *inodes = t->ids.count;
    *retired = t->nretired;
    pthread_mutex_unlock(&t->lock);
}

void itab_rename(struct itab *t, struct inode *ino, struct inode *newparent,
                 const char *newname)
{
    pthread_mutex_lock(&t->lock);
    if (ino != t->root)
        set_name_locked(t, ino, newparent, newname);
    pthread_mutex_unlock(&t->lock);
}

void itab_stats(struct itab *t, unsigned int *open_fds, unsigned int *peak,
                uint64_t *reopens)
{
    pthread_mutex_lock(&t->lock);
    *open_fds = t->open_fds;
    *peak = t->peak_fds;
    *reopens = t->reopens;
    pthread_mutex_unlock(&t->lock);
}

void itab_forget_all(struct itab *t)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->ids.nbuckets; i++) {
        struct hnode *n = t->ids.buckets[i];

        for (; n; n = n->next)
            container_of(n, struct inode, by_id)->nlookup = 0;
    }
    /* Freeing changes the buckets: restart after each free. */
    for (size_t i = 0; i < t->ids.nbuckets; i++) {
        struct hnode *n = t->ids.buckets[i];

        while (n) {
            struct inode *ino = container_of(n, struct inode, by_id);

            n = n->next;
            if (ino->refs == 0 && ino != t->root) {
                maybe_free(t, ino);
                n = t->ids.buckets[i];
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
}
