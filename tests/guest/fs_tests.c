/*
 * fs_tests.c: virtio-fs through the real device, with the guest's own FUSE
 * client.  fs: INIT, LOOKUP, GETATTR, OPEN, READ, RELEASE, CREATE, WRITE,
 * LOOKUP ".." at the root, then the exit-code IOCTL.  fs_init: the one-shot
 * /init.krun of krun_set_root.  fs_badlen and fs_badchain: hostile requests
 * the device must answer with an error or NEEDS_RESET, never a crash.
 */
#include "fs.h"
#include "guest.h"
#include "tests.h"

static uint8_t file_buf[FS_REPLY_MAX];

void fs_test_put_err(const char *what, int err)
{
    put_str(what);
    put_str(" err=-");
    put_dec((uint64_t)-err);
    put_char('\n');
}

const char *fs_test_start(const char *c, const char *dflt_tag)
{
    char tag[40];
    const char *why;

    if (!cmdline_arg(c, "tag=", tag, sizeof(tag)))
        memcpy(tag, dflt_tag, str_len(dflt_tag) + 1);
    why = fs_init(c, tag);
    return why ? why : fs_fuse_init();
}

/* OPEN (nodeid) with (flags): 0 and (*fh), or -errno. */
static int fs_open(uint64_t nodeid, uint32_t flags, uint64_t *fh)
{
    struct fuse_open_in in = {.flags = flags};
    struct fs_reply r;

    if (fs_call(FUSE_OPEN, nodeid, &in, sizeof(in), 0, 0, &r))
        return -G_EIO;
    if (r.error || r.len < sizeof(struct fuse_open_out))
        return r.error ? r.error : -G_EIO;
    *fh = ((const struct fuse_open_out *)r.body)->fh;
    return 0;
}

static int fs_release(uint64_t nodeid, uint64_t fh)
{
    struct fuse_release_in in = {.fh = fh};
    struct fs_reply r;

    return fs_call(FUSE_RELEASE, nodeid, &in, sizeof(in), 0, 0, &r) ? -G_EIO
                                                                    : r.error;
}

/* READ all of (fh) into file_buf, 16 KiB at a time; the size or -errno. */
static int64_t read_all(uint64_t nodeid, uint64_t fh)
{
    struct fuse_rw_in in = {.fh = fh, .size = 16384};
    struct fs_reply r;

    for (;;) {
        if (fs_call(FUSE_READ, nodeid, &in, sizeof(in), 0, 0, &r))
            return -G_EIO;
        if (r.error)
            return r.error;
        if (in.offset + r.len > sizeof(file_buf))
            return -G_EIO;
        memcpy(file_buf + in.offset, r.body, r.len);
        in.offset += r.len;
        if (r.len < in.size)
            return (int64_t)in.offset;
    }
}

/* READ the first (len) bytes of (fh) into file_buf; bytes read or -errno. */
static int64_t read_head(uint64_t nodeid, uint64_t fh, uint32_t len)
{
    struct fuse_rw_in in = {.fh = fh, .size = len};
    struct fs_reply r;

    if (fs_call(FUSE_READ, nodeid, &in, sizeof(in), 0, 0, &r))
        return -G_EIO;
    if (r.error || r.len > len)
        return r.error ? r.error : -G_EIO;
    memcpy(file_buf, r.body, r.len);
    return r.len;
}

/* Look up, stat, open, read and release (name); its size or -errno. */
static int64_t read_file(const char *name)
{
    struct fuse_entry_out e;
    struct fuse_getattr_in gin = {0};
    struct fs_reply r;
    uint64_t fh;
    int64_t n;
    int rc = fs_lookup(FUSE_ROOT_ID, name, &e);

    if (rc < 0)
        return rc;
    if (fs_call(FUSE_GETATTR, e.nodeid, &gin, sizeof(gin), 0, 0, &r) ||
        r.error || r.len < sizeof(struct fuse_attr_out))
        return -G_EIO;
    const struct fuse_attr_out *a = r.body;
    put_str("getattr mode=");
    put_hex(a->attr.mode);
    put_str(" size=");
    put_dec(a->attr.size);
    put_char('\n');
    rc = fs_open(e.nodeid, G_O_RDONLY, &fh);
    if (rc < 0)
        return rc;
    n = read_all(e.nodeid, fh);
    rc = fs_release(e.nodeid, fh);
    return n < 0 ? n : rc < 0 ? rc : n;
}

/* WRITE (len) bytes of (buf) at (off); bytes written or -errno. */
static int64_t write_at(uint64_t nodeid, uint64_t fh, uint64_t off,
                        const void *buf, uint32_t len)
{
    struct fuse_rw_in in = {.fh = fh, .offset = off, .size = len};
    struct fs_reply r;

    if (fs_call(FUSE_WRITE, nodeid, &in, sizeof(in), buf, len, &r))
        return -G_EIO;
    if (r.error || r.len < sizeof(struct fuse_write_out))
        return r.error ? r.error : -G_EIO;
    return ((const struct fuse_write_out *)r.body)->size;
}

/* CREATE (name) and write (len) bytes of file_buf in two WRITEs. */
static const char *create_file(const char *name, uint32_t len)
{
    struct {
        struct fuse_create_in in;
        char name[32];
    } req = {
        .in = {.flags = G_O_WRONLY | G_O_CREAT | G_O_EXCL, .mode = 0100644}};
    uint32_t nlen = (uint32_t)str_len(name) + 1, half = len / 2;
    const struct fuse_entry_out *e;
    struct fs_reply r;
    uint64_t nodeid, fh;

    memcpy(req.name, name, nlen);
    if (fs_call(FUSE_CREATE, FUSE_ROOT_ID, &req, sizeof(req.in) + nlen, 0, 0,
                &r) ||
        r.error || r.len < sizeof(*e) + sizeof(struct fuse_open_out))
        return "CREATE failed";
    e = r.body;
    nodeid = e->nodeid;
    fh = ((const struct fuse_open_out *)(e + 1))->fh;
    if (write_at(nodeid, fh, 0, file_buf, half) != half ||
        write_at(nodeid, fh, half, file_buf + half, len - half) != len - half)
        return "WRITE failed";
    put_str("wrote bytes=");
    put_dec(len);
    put_char('\n');
    return fs_release(nodeid, fh) == 0 ? NULL : "RELEASE failed";
}

const char *fs_exit_code(uint64_t code)
{
    struct fuse_ioctl_in in = {.cmd = KRUN_EXIT_CODE_IOCTL, .arg = code};
    struct fs_reply r;

    if (fs_call(FUSE_IOCTL, FUSE_ROOT_ID, &in, sizeof(in), 0, 0, &r) || r.error)
        return "exit-code IOCTL failed";
    return NULL;
}

const char *fs_test_dotdot(void)
{
    struct fuse_entry_out e;
    int rc = fs_lookup(FUSE_ROOT_ID, "..", &e);

    if (rc < 0)
        return "LOOKUP .. failed";
    put_str("dotdot nodeid=");
    put_dec(e.nodeid);
    put_str(" dir=");
    put_dec((e.attr.mode & G_S_IFMT) == G_S_IFDIR);
    put_char('\n');
    return e.nodeid == FUSE_ROOT_ID ? NULL : "LOOKUP .. left the root";
}

GUEST_TEST(test_fs)
{
    struct csum sum = {0};
    struct fuse_entry_out e;
    const char *why = fs_test_start(c, "ckrun-test");
    int64_t n;

    if (why)
        return why;
    n = why ? 0 : read_file("hello.bin");
    if (n < 0)
        return "reading hello.bin failed";
    csum_add(&sum, file_buf, (size_t)n);
    put_str("read ");
    csum_put(&sum);
    put_char('\n');
    why = create_file("written.bin", (uint32_t)n);
    if (!why)
        why = fs_test_dotdot();
    if (!why && fs_lookup(FUSE_ROOT_ID, "missing", &e) != -G_ENOENT)
        why = "LOOKUP of a missing file did not give ENOENT";
    if (!why)
        why = fs_exit_code(cmdline_num(c, "code=", 42));
    return why;
}

/* /init.krun: a 0755 regular file of the embedded init's size (initlen=),
 * an ELF file, and gone after its first lookup. */
GUEST_TEST(test_fs_init)
{
    struct fuse_entry_out e;
    const char *why = fs_test_start(c, "/dev/root");
    uint64_t fh;
    int rc;

    if (why)
        return why;
    rc = fs_lookup(FUSE_ROOT_ID, "init.krun", &e);
    if (rc < 0)
        return "LOOKUP init.krun failed";
    put_str("init.krun mode=");
    put_hex(e.attr.mode);
    put_str(" size=");
    put_dec(e.attr.size);
    put_char('\n');
    if (e.attr.mode != (G_S_IFREG | 0755) ||
        e.attr.size != cmdline_num(c, "initlen=", 0))
        return "init.krun has the wrong mode or size";
    rc = fs_open(e.nodeid, G_O_RDONLY, &fh);
    if (rc == 0 && read_head(e.nodeid, fh, 4) == 4)
        put_str(str_ncmp((char *)file_buf, "\177ELF", 4) ? "not ELF\n"
                                                         : "init.krun ELF\n");
    fs_test_put_err("second lookup", fs_lookup(FUSE_ROOT_ID, "init.krun", &e));
    return fs_test_dotdot();
}
