/*
 * test_fuse_server.c: the FUSE wire server with crafted requests: framing
 * errors, minimum sizes, names, INIT, sizes above max, the exit-code ioctl,
 * and crafted requests against the passthrough backend on a scratch
 * directory (node ids never returned, "..", names with '/').
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "fuse/virtual.h"
#include "iov.h"
#include "t.h"

static uint8_t out[1 << 16];
static int fake_lookups;

static int fake_lookup(void *fs, const struct fs_req *r, uint64_t parent,
                       const char *name, struct fs_entry *e)
{
    fake_lookups++;
    if (strcmp(name, "x"))
        return -ENOENT;
    e->ino = 7;
    e->st.st_mode = S_IFREG | 0644;
    return 0;
}

static int fake_getattr(void *fs, const struct fs_req *r, uint64_t ino,
                        bool has_fh, uint64_t fh, struct stat *st,
                        uint64_t *timeout)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_mode = S_IFDIR | 0755;
    return 0;
}

static ssize_t fake_read(void *fs, const struct fs_req *r, uint64_t ino,
                         uint64_t fh, uint64_t off, const struct iovec *iov,
                         unsigned int cnt)
{
    return (ssize_t)iov_copy_to(iov, cnt, "abcdef", 6);
}

static const struct fs_ops fake_ops = {
    .lookup = fake_lookup,
    .getattr = fake_getattr,
    .read = fake_read,
};

/* Send (opcode, nodeid, body) with header length (len or computed); returns
 * the reply length; *err gets the reply's error. */
static size_t send_req(struct fuse_server *srv, uint32_t opcode,
                       uint64_t nodeid, const void *body, size_t blen,
                       uint32_t len_override, int *err)
{
    uint8_t in[8192];
    struct fuse_in_header h = {
        .len = len_override ? len_override : (uint32_t)(sizeof(h) + blen),
        .opcode = opcode,
        .unique = 99,
        .nodeid = nodeid,
    };
    struct iovec iv = {in, sizeof(h) + blen}, ov = {out, sizeof(out)};
    struct fuse_out_header oh;
    size_t n;

    memcpy(in, &h, sizeof(h));
    memcpy(in + sizeof(h), body, blen);
    n = fuse_server_handle(srv, &iv, 1, &ov, 1);
    memcpy(&oh, out, sizeof(oh));
    *err = n ? oh.error : 1;
    if (n && (oh.len != n || oh.unique != 99))
        t_diag("bad reply header len %u/%zu", oh.len, n);
    return n;
}

static struct fuse_server *new_server(struct fs_backend be, bool ro,
                                      struct fuse_exit_code *ec)
{
    struct fuse_server *srv;
    struct fuse_init_in init = {.major = 7, .minor = 38, .flags = 0xffffffff};
    int err;

    if (fuse_server_create(
            &(struct fuse_server_config){
                .backend = be, .read_only = ro, .workers = 2, .exit_code = ec},
            &srv) < 0)
        return NULL;
    send_req(srv, FUSE_INIT, 0, &init, sizeof(init), 0, &err);
    return err == 0 ? srv : NULL;
}

static void test_framing(void)
{
    struct fuse_server *srv;
    struct fs_backend be = {&fake_ops, NULL};
    uint8_t shorty[10] = {0};
    struct iovec iv = {shorty, sizeof(shorty)}, ov = {out, sizeof(out)};
    int err;

    CHECK(fuse_server_create(&(struct fuse_server_config){.backend = be},
                             &srv) == 0);
    /* Before INIT everything else is EIO. */
    send_req(srv, FUSE_GETATTR, 1, out, sizeof(struct fuse_getattr_in), 0,
             &err);
    CHECK_EQ(err, -EIO);
    fuse_server_destroy(srv);
    srv = new_server(be, false, NULL);
    CHECK(srv != NULL);
    CHECK_EQ(fuse_server_handle(srv, &iv, 1, &ov, 1), 0); /* no header */
    send_req(srv, FUSE_GETATTR, 1, "", 0, 16, &err);      /* len < hdr */
    CHECK_EQ(err, -EINVAL);
    send_req(srv, FUSE_GETATTR, 1, "", 0, 4000, &err); /* len > data */
    CHECK_EQ(err, -EINVAL);
    send_req(srv, FUSE_GETATTR, 1, "", 0, 0, &err); /* below min size */
    CHECK_EQ(err, -EINVAL);
    send_req(srv, 9999, 1, "", 0, 0, &err);
    CHECK_EQ(err, -ENOSYS);
    send_req(srv, FUSE_BMAP, 1, out, 64, 0, &err);
    CHECK_EQ(err, -ENOSYS);
    send_req(srv, FUSE_MKDIR, 1, "\0\0\0\0\0\0\0\0d", 10, 0, &err);
    CHECK_EQ(err, -ENOSYS); /* backend has no mkdir */
    /* Out buffer too small for any reply: nothing is written. */
    ov.iov_len = 8;
    iv = (struct iovec){out, 0};
    CHECK_EQ(fuse_server_handle(srv, &iv, 1, &ov, 1), 0);
    fuse_server_destroy(srv);
}

static void test_names(void)
{
    struct fuse_server *srv =
        new_server((struct fs_backend){&fake_ops, NULL}, false, NULL);
    char longname[300];
    int err;

    fake_lookups = 0;
    CHECK(send_req(srv, FUSE_LOOKUP, 1, "x", 2, 0, &err) > 16 && err == 0);
    send_req(srv, FUSE_LOOKUP, 1, "xy", 2, 0, &err); /* no NUL */
    CHECK_EQ(err, -EINVAL);
    send_req(srv, FUSE_LOOKUP, 1, "a/b", 4, 0, &err);
    CHECK_EQ(err, -EINVAL);
    send_req(srv, FUSE_LOOKUP, 1, "\0", 2, 0, &err);
    CHECK_EQ(err, -EINVAL);
    memset(longname, 'a', sizeof(longname));
    longname[299] = 0;
    send_req(srv, FUSE_LOOKUP, 1, longname, 300, 0, &err);
    CHECK_EQ(err, -ENAMETOOLONG);
    CHECK_EQ(fake_lookups, 1); /* the bad ones never reached the backend */
    fuse_server_destroy(srv);
}

static void test_init_and_sizes(void)
{
    struct fuse_server *srv;
    struct fuse_init_in old = {.major = 7, .minor = 20};
    struct fuse_read_in rd = {.size = 4096};
    struct fuse_init_out io;
    int err;

    CHECK(fuse_server_create(
              &(struct fuse_server_config){.backend = {&fake_ops, NULL}},
              &srv) == 0);
    send_req(srv, FUSE_INIT, 0, &old, sizeof(old), 0, &err);
    CHECK_EQ(err, -EPROTO);
    old.minor = 31;
    old.max_readahead = 1 << 30;
    old.flags = FUSE_DO_READDIRPLUS | FUSE_WRITEBACK_CACHE | FUSE_MAX_PAGES;
    CHECK(send_req(srv, FUSE_INIT, 0, &old, 16, 0, &err) ==
          sizeof(struct fuse_out_header) + sizeof(io));
    memcpy(&io, out + sizeof(struct fuse_out_header), sizeof(io));
    CHECK_EQ(io.minor, 31);
    CHECK_EQ(io.max_write, 1 << 20);
    CHECK_EQ(io.max_pages, 256);
    CHECK(io.flags & FUSE_DO_READDIRPLUS);
    CHECK(!(io.flags & FUSE_WRITEBACK_CACHE));
    CHECK_EQ(io.max_readahead, 1 << 20);
    CHECK(send_req(srv, FUSE_READ, 2, &rd, sizeof(rd), 0, &err) == 16 + 6);
    CHECK(!memcmp(out + 16, "abcdef", 6));
    rd.size = (1 << 20) + 1;
    send_req(srv, FUSE_READ, 2, &rd, sizeof(rd), 0, &err);
    CHECK_EQ(err, -EINVAL);
    fuse_server_destroy(srv);
}

static void test_write_and_ro(void)
{
    struct fuse_server *srv =
        new_server((struct fs_backend){&fake_ops, NULL}, true, NULL);
    struct {
        struct fuse_write_in w;
        char data[8];
    } wr = {.w = {.size = 100}};
    struct fuse_open_in op = {.flags = O_RDWR};
    int err;

    send_req(srv, FUSE_WRITE, 2, &wr, sizeof(wr), 0, &err);
    CHECK_EQ(err, -EROFS);
    send_req(srv, FUSE_OPEN, 2, &op, sizeof(op), 0, &err);
    CHECK_EQ(err, -EROFS);
    send_req(srv, FUSE_UNLINK, 1, "x", 2, 0, &err);
    CHECK_EQ(err, -EROFS);
    fuse_server_destroy(srv);
    srv = new_server((struct fs_backend){&fake_ops, NULL}, false, NULL);
    send_req(srv, FUSE_WRITE, 2, &wr, sizeof(wr), 0, &err); /* size > data */
    CHECK_EQ(err, -EINVAL);
    fuse_server_destroy(srv);
}

static void test_exit_code_ioctl(void)
{
    struct fuse_exit_code ec = {0};
    struct fuse_server *srv =
        new_server((struct fs_backend){&fake_ops, NULL}, false, &ec);
    struct fuse_ioctl_in io = {.cmd = 0x7602, .arg = 42};
    int err;

    send_req(srv, FUSE_IOCTL, 1, &io, sizeof(io), 0, &err);
    CHECK_EQ(err, 0);
    CHECK(ec.set == 1 && ec.code == 42);
    io.cmd = 0x5401;
    send_req(srv, FUSE_IOCTL, 1, &io, sizeof(io), 0, &err);
    CHECK_EQ(err, -ENOTTY);
    fuse_server_destroy(srv);
}

/* Crafted requests against the real backend on a scratch directory. */
static void test_passthrough_crafted(void)
{
    char dir[] = "/tmp/ckrun-fuse-unit-XXXXXX", path[256];
    struct fs_backend be;
    struct fuse_server *srv;
    struct fuse_entry_out eo;
    struct fuse_open_in op = {.flags = O_RDONLY};
    int err;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/share", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/share/out", dir);
    CHECK(symlink("/etc/passwd", path) == 0);
    snprintf(path, sizeof(path), "%s/share", dir);
    CHECK(passthrough_create(&(struct passthrough_config){.root = path}, &be) ==
          0);
    srv = new_server(be, false, NULL);
    send_req(srv, FUSE_GETATTR, 12345, out, sizeof(struct fuse_getattr_in), 0,
             &err);
    CHECK_EQ(err, -ESTALE); /* never returned */
    send_req(srv, FUSE_LOOKUP, 1, "..", 3, 0, &err);
    CHECK_EQ(err, 0);
    memcpy(&eo, out + 16, sizeof(eo));
    CHECK_EQ(eo.nodeid, 1); /* ".." of the root is the root */
    send_req(srv, FUSE_LOOKUP, 1, "out", 4, 0, &err);
    memcpy(&eo, out + 16, sizeof(eo));
    CHECK(err == 0 && S_ISLNK(eo.attr.mode));
    send_req(srv, FUSE_OPEN, eo.nodeid, &op, sizeof(op), 0, &err);
    CHECK(err != 0); /* the link is never opened, let alone followed */
    send_req(srv, FUSE_LOOKUP, eo.nodeid, "x", 2, 0, &err);
    CHECK_EQ(err, -ENOTDIR);
    fuse_server_destroy(srv);
    passthrough_free(&be);
    snprintf(path, sizeof(path), "rm -rf %s", dir);
    CHECK(system(path) == 0);
}

static void test_virtual(void)
{
    struct fs_backend vb;
    struct fuse_server *srv;
    struct fuse_entry_out eo;
    struct fuse_open_in op = {.flags = O_RDONLY};
    struct fuse_read_in rd = {.size = 100};
    int err;

    CHECK(vfs_create((struct fs_backend){&vfs_null_ops, NULL}, &vb) == 0);
    CHECK_EQ(vfs_add_file(&vb, "/init.krun", "ELF!", 4, 0755, true), 0);
    CHECK_EQ(vfs_add_dir(&vb, "etc", 0755), 0);
    CHECK_EQ(vfs_add_file(&vb, "etc/hosts", "h", 1, 0644, false), 0);
    CHECK_EQ(vfs_add_file(&vb, "nodir/x", "h", 1, 0644, false), -ENOENT);
    CHECK_EQ(vfs_add_file(&vb, "init.krun/x", "h", 1, 0644, false), -ENOTDIR);
    CHECK_EQ(vfs_add_file(&vb, "etc/", "h", 1, 0644, false), -EINVAL);
    CHECK_EQ(vfs_add_dir(&vb, "etc", 0755), -EEXIST);
    srv = new_server(vb, false, NULL);
    send_req(srv, FUSE_LOOKUP, 1, "init.krun", 10, 0, &err);
    memcpy(&eo, out + 16, sizeof(eo));
    CHECK(err == 0 && eo.attr.size == 4 && eo.entry_valid == 0);
    send_req(srv, FUSE_OPEN, eo.nodeid, &op, sizeof(op), 0, &err);
    CHECK_EQ(err, 0);
    CHECK(send_req(srv, FUSE_READ, eo.nodeid, &rd, sizeof(rd), 0, &err) ==
              16 + 4 &&
          !memcmp(out + 16, "ELF!", 4));
    op.flags = O_WRONLY;
    send_req(srv, FUSE_OPEN, eo.nodeid, &op, sizeof(op), 0, &err);
    CHECK_EQ(err, -EACCES);
    send_req(srv, FUSE_LOOKUP, 1, "init.krun", 10, 0, &err);
    CHECK_EQ(err, -ENOENT); /* one-shot */
    send_req(srv, FUSE_LOOKUP, 1, "etc", 4, 0, &err);
    memcpy(&eo, out + 16, sizeof(eo));
    CHECK(err == 0 && S_ISDIR(eo.attr.mode));
    send_req(srv, FUSE_LOOKUP, eo.nodeid, "hosts", 6, 0, &err);
    CHECK_EQ(err, 0);
    send_req(srv, FUSE_MKDIR, eo.nodeid, "\0\0\0\0\0\0\0\0d", 10, 0, &err);
    CHECK_EQ(err, -EROFS);
    send_req(srv, FUSE_LOOKUP, 1, "etc", 4, 0, &err);
    CHECK_EQ(err, 0); /* persistent */
    fuse_server_destroy(srv);
    vfs_free(&vb);
}

int main(void)
{
    RUN(test_virtual);
    RUN(test_framing);
    RUN(test_names);
    RUN(test_init_and_sizes);
    RUN(test_write_and_ro);
    RUN(test_exit_code_ioctl);
    RUN(test_passthrough_crafted);
    return t_done();
}
