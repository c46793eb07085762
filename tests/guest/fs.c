/*
 * fs.c: virtio-fs driver and FUSE client for the test guest; see fs.h.
 * Config layout (virtio 1.2 §5.11.4): tag[36], le32 num_request_queues.
 * Queue 0 is hiprio (FORGET/INTERRUPT only, unused here), queue 1 the
 * first request queue.
 */
#include "fs.h"
#include "guest.h"

#define CFG_TAG_LEN  36
#define CFG_NR_QUEUE 36
#define REQ_MAX      4096

static struct {
    struct vdev dev;
    struct vq rq;
    uint64_t unique;
    uint8_t req[REQ_MAX];
    struct fuse_out_header out;
    uint8_t body[FS_REPLY_MAX];
} fs;

static bool tag_is(struct vdev *d, const char *tag)
{
    size_t n = str_len(tag);

    if (n > CFG_TAG_LEN)
        return false;
    for (size_t i = 0; i < CFG_TAG_LEN; i++)
        if (vdev_cfg8(d, (uint32_t)i) != (i < n ? (uint8_t)tag[i] : 0))
            return false;
    return true;
}

const char *fs_init(const char *cmdline, const char *tag)
{
    const char *why = NULL;
    unsigned nth = 0;

    for (;; nth++) {
        why = vdev_find(cmdline, VIRTIO_ID_FS, nth, &fs.dev);
        if (why || tag_is(&fs.dev, tag))
            break;
    }
    if (!why && vdev_cfg32(&fs.dev, CFG_NR_QUEUE) < 1)
        why = "no request queue";
    if (!why)
        why = vdev_negotiate(&fs.dev, 0);
    if (!why)
        why = vq_setup(&fs.dev, &fs.rq, 1);
    return why ? why : vdev_ready(&fs.dev);
}

struct vdev *fs_dev(void)
{
    return &fs.dev;
}

struct vq *fs_queue(void)
{
    return &fs.rq;
}

const char *fs_call(uint32_t opcode, uint64_t nodeid, const void *arg,
                    uint32_t arglen, const void *data, uint32_t datalen,
                    struct fs_reply *r)
{
    struct fuse_in_header *h = (struct fuse_in_header *)fs.req;
    uint32_t hlen = (uint32_t)sizeof(*h) + arglen;
    struct vbuf b[4] = {{fs.req, hlen, false}};
    unsigned n = 1;
    int64_t written;

    if (hlen > REQ_MAX)
        return "request too big";
    *h = (struct fuse_in_header){.len = hlen + datalen,
                                 .opcode = opcode,
                                 .unique = ++fs.unique,
                                 .nodeid = nodeid};
    memcpy(h + 1, arg, arglen);
    if (datalen)
        b[n++] = (struct vbuf){(void *)data, datalen, false};
    b[n++] = (struct vbuf){&fs.out, sizeof(fs.out), true};
    b[n++] = (struct vbuf){fs.body, sizeof(fs.body), true};
    fs.out = (struct fuse_out_header){0};
    written = vq_call(&fs.rq, b, n);
    if (written < (int64_t)sizeof(fs.out))
        return "no reply";
    if (fs.out.unique != fs.unique)
        return "reply for another request";
    if (fs.out.len != written || fs.out.len > sizeof(fs.out) + FS_REPLY_MAX)
        return "reply length differs from the bytes written";
    *r = (struct fs_reply){fs.out.error, fs.out.len - (uint32_t)sizeof(fs.out),
                           fs.body};
    return NULL;
}

const char *fs_fuse_init(void)
{
    struct fuse_init_in in = {
        .major = FUSE_KERNEL_VERSION, .minor = 31, .max_readahead = 65536};
    const struct fuse_init_out *o;
    struct fs_reply r;
    const char *why = fs_call(FUSE_INIT, 0, &in, sizeof(in), 0, 0, &r);

    if (why)
        return why;
    if (r.error || r.len < 24)
        return "INIT failed";
    o = r.body;
    put_str("init major=");
    put_dec(o->major);
    put_str(" minor=");
    put_dec(o->minor);
    put_str(" max_write=");
    put_dec(o->max_write);
    put_char('\n');
    return o->major == FUSE_KERNEL_VERSION && o->minor == 31
               ? NULL
               : "unexpected INIT version";
}

int fs_lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
    struct fs_reply r;

    if (fs_call(FUSE_LOOKUP, parent, name, (uint32_t)str_len(name) + 1, 0, 0,
                &r))
        return -G_EIO;
    if (r.error)
        return r.error;
    if (r.len < sizeof(*e))
        return -G_EIO;
    memcpy(e, r.body, sizeof(*e));
    return 0;
}
