/*
 * test_fuse_escape.c: escape attempts against the FUSE wire server over the
 * passthrough backend on a scratch share, with crafted requests as a
 * hostile guest could send them on a virtqueue (node ids never returned,
 * names with '/', "..", empty and over-long names, huge sizes and offsets,
 * symlink/hard link/rename tricks, special files, a host-side race swapping
 * a directory for a symlink).  After each attempt a canary file outside the
 * share must be unread and unchanged (contents, atime, mtime, ctime, link
 * count) and nothing may have appeared beside the share.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "t.h"

static uint8_t out[1 << 17];
static char base[64], share[96], canary[128];
static struct stat canary_st;
static struct fuse_server *srv;
static int attempts;

struct reply {
    int err;
    size_t len;
};

static struct reply req(uint32_t opcode, uint64_t nodeid, const void *body,
                        size_t blen)
{
    static uint8_t in[1 << 16];
    struct fuse_in_header h = {.len = (uint32_t)(sizeof(h) + blen),
                               .opcode = opcode,
                               .unique = 7,
                               .nodeid = nodeid};
    struct iovec iv = {in, sizeof(h) + blen}, ov = {out, sizeof(out)};
    struct fuse_out_header oh;
    struct reply r;

    memcpy(in, &h, sizeof(h));
    if (blen)
        memcpy(in + sizeof(h), body, blen);
    r.len = fuse_server_handle(srv, &iv, 1, &ov, 1);
    memcpy(&oh, out, sizeof(oh));
    r.err = r.len ? oh.error : 1;
    return r;
}

/* A request body: a fixed struct followed by NUL-terminated strings. */
static size_t body(uint8_t *b, const void *fixed, size_t flen, const char *s1,
                   const char *s2)
{
    size_t n = flen;

    if (flen)
        memcpy(b, fixed, flen);
    if (s1) {
        memcpy(b + n, s1, strlen(s1) + 1);
        n += strlen(s1) + 1;
    }
    if (s2) {
        memcpy(b + n, s2, strlen(s2) + 1);
        n += strlen(s2) + 1;
    }
    return n;
}

static uint64_t lookup(uint64_t parent, const char *name)
{
    struct fuse_entry_out eo;
    struct reply r = req(FUSE_LOOKUP, parent, name, strlen(name) + 1);

    if (r.err)
        return 0;
    memcpy(&eo, out + sizeof(struct fuse_out_header), sizeof(eo));
    return eo.nodeid;
}

static uint64_t open_fh(uint64_t node, uint32_t flags, int *err)
{
    struct fuse_open_in oi = {.flags = flags};
    struct fuse_open_out oo;
    struct reply r = req(FUSE_OPEN, node, &oi, sizeof(oi));

    *err = r.err;
    if (r.err)
        return 0;
    memcpy(&oo, out + sizeof(struct fuse_out_header), sizeof(oo));
    return oo.fh;
}

/* Did a READ reply carry the canary's contents? */
static bool read_leaks(uint64_t node, uint64_t fh)
{
    struct fuse_read_in ri = {.fh = fh, .size = 64};
    struct reply r = req(FUSE_READ, node, &ri, sizeof(ri));

    return r.err == 0 && r.len > sizeof(struct fuse_out_header) &&
           memmem(out + sizeof(struct fuse_out_header),
                  r.len - sizeof(struct fuse_out_header), "CANARY", 6);
}

static bool same_ts(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* One attempt done: the canary and the share's surroundings are intact. */
static void attempt(const char *what, bool refused)
{
    char buf[64] = "";
    struct stat st;
    int fd, entries = 0;
    FILE *ls;
    char cmd[160];

    attempts++;
    if (!t_check(refused, what, __FILE__, __LINE__))
        t_diag("attempt %d (%s) was not refused", attempts, what);
    if (stat(canary, &st) == 0 && same_ts(st.st_atim, canary_st.st_atim) &&
        same_ts(st.st_mtim, canary_st.st_mtim) &&
        same_ts(st.st_ctim, canary_st.st_ctim) &&
        st.st_nlink == canary_st.st_nlink && st.st_size == 6 &&
        st.st_mode == canary_st.st_mode && st.st_uid == canary_st.st_uid) {
        /* O_NOATIME: reading to compare must not change atime itself. */
        fd = open(canary, O_RDONLY | O_NOATIME);
        if (fd >= 0) {
            (void)!read(fd, buf, sizeof(buf) - 1);
            close(fd);
        }
    }
    snprintf(cmd, sizeof(cmd), "ls -A '%s'", base);
    ls = popen(cmd, "r");
    while (ls && fgets(cmd, sizeof(cmd), ls))
        entries++;
    if (ls)
        pclose(ls);
    if (!t_check(!strcmp(buf, "CANARY") && entries == 2, "canary intact",
                 __FILE__, __LINE__))
        t_diag("canary read or changed after attempt %d (%s)", attempts, what);
}

static void host_file(const char *rel, const char *s)
{
    char p[256];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", share, rel);
    f = fopen(p, "w");
    if (f) {
        fputs(s, f);
        fclose(f);
    }
}

static void setup(void)
{
    char p[256];
    struct timespec ts[2] = {{1000000000, 0}, {0, UTIME_OMIT}};

    snprintf(base, sizeof(base), "/tmp/ckrun-fuse-esc-XXXXXX");
    if (!mkdtemp(base))
        t_skip_all("mkdtemp: %s", strerror(errno));
    snprintf(share, sizeof(share), "%s/share", base);
    snprintf(canary, sizeof(canary), "%s/canary", base);
    mkdir(share, 0755);
    {
        FILE *f = fopen(canary, "w");

        fputs("CANARY", f);
        fclose(f);
    }
    /* atime older than mtime: relatime would record any read. */
    utimensat(AT_FDCWD, canary, ts, 0);
    stat(canary, &canary_st);
    snprintf(p, sizeof(p), "%s/abs", share);
    symlink(canary, p);
    snprintf(p, sizeof(p), "%s/rel", share);
    symlink("../canary", p);
    snprintf(p, sizeof(p), "%s/up", share);
    symlink("..", p);
    snprintf(p, sizeof(p), "%s/dir", share);
    mkdir(p, 0755);
    host_file("dir/canary", "inside");
    host_file("file", "file");
    snprintf(p, sizeof(p), "%s/fifo", share);
    mkfifo(p, 0666);
    if (geteuid() == 0) {
        snprintf(p, sizeof(p), "%s/null", share);
        mknod(p, S_IFCHR | 0666, makedev(1, 3));
    }
}

static atomic_int stop_swap;

/* The host (not the guest) swaps share/race (a directory) and share/link (a
 * symlink to the canary's directory) continuously. */
static void *swapper(void *arg)
{
    char a[256], b[256];

    snprintf(a, sizeof(a), "%s/race", share);
    snprintf(b, sizeof(b), "%s/racelink", share);
    while (!atomic_load(&stop_swap))
        renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
    return NULL;
}

static void test_escapes(void)
{
    uint8_t b[1024];
    char longname[300];
    size_t n;
    int err;
    uint64_t abs, rel, up, dir, file, fifo, fh, x;

    /* Node ids never returned, and node 0. */
    attempt(
        "GETATTR of a never-returned node id",
        req(FUSE_GETATTR, 0x123456, b, sizeof(struct fuse_getattr_in)).err ==
            -ESTALE);
    attempt("LOOKUP under node id 0",
            req(FUSE_LOOKUP, 0, "canary", 7).err != 0);
    attempt("LOOKUP under node id ~0",
            req(FUSE_LOOKUP, ~0ull, "canary", 7).err != 0);
    /* Names. */
    attempt("LOOKUP \"../canary\" (name with '/')",
            req(FUSE_LOOKUP, 1, "../canary", 10).err == -EINVAL);
    attempt("LOOKUP \"..\" at the root stays at the root",
            lookup(1, "..") == 1 && lookup(lookup(1, ".."), "canary") == 0);
    dir = lookup(1, "dir");
    x = lookup(dir, "..");
    attempt("LOOKUP \"..\" below the root is refused or the root",
            x == 0 || x == 1);
    attempt("LOOKUP empty name", req(FUSE_LOOKUP, 1, "", 1).err == -EINVAL);
    memset(longname, 'a', sizeof(longname));
    longname[256] = 0;
    attempt("LOOKUP 256-byte name",
            req(FUSE_LOOKUP, 1, longname, 257).err == -ENAMETOOLONG);
    attempt("LOOKUP name without NUL",
            req(FUSE_LOOKUP, 1, "canary", 6).err == -EINVAL);
    /* Symlinks: never followed by the host. */
    abs = lookup(1, "abs");
    rel = lookup(1, "rel");
    up = lookup(1, "up");
    open_fh(abs, O_RDONLY, &err);
    attempt("OPEN of an absolute symlink to the canary", err != 0);
    open_fh(rel, O_RDWR | O_TRUNC, &err);
    attempt("OPEN O_TRUNC of a relative symlink to ../canary", err != 0);
    attempt("LOOKUP \"canary\" under a symlink to \"..\"",
            lookup(up, "canary") == 0);
    {
        struct fuse_setattr_in sa = {.valid = FATTR_SIZE | FATTR_MODE,
                                     .size = 0,
                                     .mode = S_IFREG | 0777};

        req(FUSE_SETATTR, abs, &sa, sizeof(sa));
        attempt("SETATTR size/mode on the outward symlink", true);
    }
    {
        struct fuse_setxattr_in sx = {.size = 1};

        n = body(b, &sx, sizeof(sx), "user.x", NULL);
        b[n++] = 'v';
        req(FUSE_SETXATTR, rel, b, n);
        attempt("SETXATTR on the outward symlink", true);
    }
    /* Hard links: only inodes already inside can be linked. */
    {
        struct fuse_link_in li = {.oldnodeid = abs};
        uint64_t hl;

        n = body(b, &li, sizeof(li), "hl", NULL);
        req(FUSE_LINK, 1, b, n);
        hl = lookup(1, "hl");
        open_fh(hl, O_RDONLY, &err);
        attempt("LINK of the outward symlink, then OPEN the link", err != 0);
        li.oldnodeid = 0x7777;
        n = body(b, &li, sizeof(li), "hl2", NULL);
        attempt("LINK of a never-returned node id",
                req(FUSE_LINK, 1, b, n).err != 0);
        li.oldnodeid = lookup(1, "file");
        n = body(b, &li, sizeof(li), "../hl3", NULL);
        attempt("LINK to \"../hl3\"", req(FUSE_LINK, 1, b, n).err == -EINVAL);
    }
    /* Creating names outside. */
    {
        struct fuse_create_in ci = {.flags = O_RDWR | O_CREAT, .mode = 0644};
        struct fuse_mkdir_in mi = {.mode = 0755};

        n = body(b, &ci, sizeof(ci), "../evil", NULL);
        attempt("CREATE \"../evil\"", req(FUSE_CREATE, 1, b, n).err != 0);
        n = body(b, &mi, sizeof(mi), "..", NULL);
        attempt("MKDIR \"..\"", req(FUSE_MKDIR, 1, b, n).err != 0);
        n = body(b, NULL, 0, "evil", "../canary");
        req(FUSE_SYMLINK, 1, b, n); /* allowed: a link is just a string */
        open_fh(lookup(1, "evil"), O_RDONLY, &err);
        attempt("SYMLINK to ../canary, then OPEN it", err != 0);
        n = body(b, &ci, sizeof(ci), "f", NULL);
        attempt("CREATE under a symlink node",
                req(FUSE_CREATE, abs, b, n).err != 0);
    }
    /* Rename tricks. */
    {
        struct fuse_rename2_in ri = {.newdir = 1};

        n = body(b, &ri, sizeof(ri), "file", "../canary");
        attempt("RENAME2 file to \"../canary\"",
                req(FUSE_RENAME2, 1, b, n).err == -EINVAL);
        ri.newdir = abs;
        n = body(b, &ri, sizeof(ri), "file", "canary");
        attempt("RENAME2 into a symlink node",
                req(FUSE_RENAME2, 1, b, n).err != 0);
        ri.newdir = 1;
        ri.flags = RENAME_EXCHANGE;
        n = body(b, &ri, sizeof(ri), "file", "abs");
        req(FUSE_RENAME2, 1, b, n); /* swaps the two names inside */
        file = lookup(1, "file");
        open_fh(file, O_RDONLY, &err);
        attempt("RENAME_EXCHANGE file<->abs, then OPEN \"file\"", err != 0);
        req(FUSE_RENAME2, 1, b, n);
    }
    /* Special files are never opened by the server (no hang on a FIFO). */
    fifo = lookup(1, "fifo");
    open_fh(fifo, O_RDWR, &err);
    attempt("OPEN of a FIFO for I/O", err != 0);
    open_fh(fifo, O_WRONLY, &err);
    attempt("OPEN O_WRONLY of a FIFO (would block)", err != 0);
    if (geteuid() == 0) {
        open_fh(lookup(1, "null"), O_RDWR, &err);
        attempt("OPEN of a host-made device node", err != 0);
        {
            struct fuse_mknod_in mk = {.mode = S_IFCHR | 0666,
                                       .rdev = makedev(1, 1)};

            struct stat hst;
            char hp[160];

            /* Made, but as an inert file on the host (pt_meta.c). */
            n = body(b, &mk, sizeof(mk), "mem", NULL);
            req(FUSE_MKNOD, 1, b, n);
            snprintf(hp, sizeof(hp), "%s/mem", share);
            attempt("MKNOD char 1:1 (host: inert file)",
                    lstat(hp, &hst) == 0 && hst.st_mode == (S_IFREG | 01600));
            open_fh(lookup(1, "mem"), O_RDWR, &err);
            attempt("OPEN of a guest-made device node", err != 0);
            mk.mode = S_IFBLK | 0666;
            mk.rdev = makedev(8, 0);
            n = body(b, &mk, sizeof(mk), "sda", NULL);
            req(FUSE_MKNOD, 1, b, n);
            snprintf(hp, sizeof(hp), "%s/sda", share);
            attempt("MKNOD block 8:0 (host: inert file)",
                    lstat(hp, &hst) == 0 && hst.st_mode == (S_IFREG | 01600));
        }
    }
    /* Sizes, offsets and handles. */
    file = lookup(1, "file");
    fh = open_fh(file, O_RDWR, &err);
    {
        struct fuse_read_in ri = {.fh = fh, .size = 0xffffffffu};
        struct {
            struct fuse_write_in w;
            char d[8];
        } wr = {.w = {.fh = fh, .size = 0x7fffffff, .offset = 0}};

        attempt("READ of 4 GiB - 1",
                req(FUSE_READ, file, &ri, sizeof(ri)).err == -EINVAL);
        ri.size = 64;
        ri.offset = ~0ull;
        attempt("READ at offset 2^64 - 1",
                req(FUSE_READ, file, &ri, sizeof(ri)).err != 0 ||
                    !read_leaks(file, fh));
        attempt("WRITE claiming more than it carries",
                req(FUSE_WRITE, file, &wr, sizeof(wr)).err == -EINVAL);
        wr.w.size = 8;
        wr.w.offset = (uint64_t)INT64_MAX;
        attempt("WRITE at offset 2^63 - 1",
                req(FUSE_WRITE, file, &wr, sizeof(wr)).err != 0);
        ri.fh = 0x4242;
        ri.offset = 0;
        attempt("READ with a never-returned handle",
                req(FUSE_READ, file, &ri, sizeof(ri)).err == -EBADF);
        ri.fh = fh;
        attempt("READ with a handle of another node",
                req(FUSE_READ, dir, &ri, sizeof(ri)).err != 0);
    }
    {
        struct fuse_getxattr_in gx = {.size = 0xffffffffu};

        n = body(b, &gx, sizeof(gx), "user.x", NULL);
        attempt("GETXATTR with a 4 GiB buffer",
                req(FUSE_GETXATTR, file, b, n).len <= sizeof(out));
    }
    /* FORGET, then use. */
    {
        struct fuse_forget_in fi = {.nlookup = 1000};
        uint64_t d2 = lookup(1, "dir");

        req(FUSE_FORGET, d2, &fi, sizeof(fi));
        attempt("LOOKUP under a forgotten node id",
                req(FUSE_LOOKUP, d2, "canary", 7).err != 0);
    }
}

static void test_swap_race(void)
{
    char p[256];
    pthread_t t;
    int leaks = 0, tries = 0;

    snprintf(p, sizeof(p), "%s/race", share);
    mkdir(p, 0755);
    host_file("race/canary", "inside");
    snprintf(p, sizeof(p), "%s/racelink", share);
    symlink(base, p);
    pthread_create(&t, NULL, swapper, NULL);
    for (int i = 0; i < 3000; i++) {
        const char *names[2] = {"race", "racelink"};
        uint64_t d = lookup(1, names[i & 1]), c;
        int err;
        uint64_t fh;

        if (!d)
            continue;
        c = lookup(d, "canary");
        if (!c)
            continue;
        fh = open_fh(c, O_RDONLY, &err);
        if (err)
            continue;
        tries++;
        leaks += read_leaks(c, fh);
    }
    atomic_store(&stop_swap, 1);
    pthread_join(t, NULL);
    t_diag("swap race: %d reads of race/canary got through", tries);
    attempt("host-side race swapping a directory for a symlink", leaks == 0);
}

int main(void)
{
    struct fs_backend be;
    struct fuse_init_in init = {.major = 7, .minor = 38, .flags = 0xffffffff};
    char cmd[160];

    setup();
    if (passthrough_create(&(struct passthrough_config){.root = share}, &be) <
        0)
        t_skip_all("passthrough_create failed");
    if (fuse_server_create(
            &(struct fuse_server_config){.backend = be, .workers = 2}, &srv) <
        0)
        t_skip_all("fuse_server_create failed");
    req(FUSE_INIT, 0, &init, sizeof(init));
    RUN(test_escapes);
    RUN(test_swap_race);
    t_diag("escape attempts: %d", attempts);
    CHECK(attempts >= 20);
    fuse_server_destroy(srv);
    passthrough_free(&be);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        t_diag("cleanup failed");
    return t_done();
}
