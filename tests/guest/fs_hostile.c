/*
 * fs_hostile.c: requests a hostile guest could send to virtio-fs.  Framing
 * errors get an error reply (fs_badlen); a descriptor outside guest RAM
 * marks the device NEEDS_RESET, and after a reset it works again
 * (fs_badchain).  The VM keeps running throughout.
 */
#include "fs.h"
#include "guest.h"
#include "tests.h"

/* A request whose header is (h) followed by (extra) bytes of (arg). */
static int send_raw(const struct fuse_in_header *h, const void *arg,
                    uint32_t extra)
{
    static uint8_t req[256];
    static struct fuse_out_header out;
    struct vbuf b[2] = {{req, (uint32_t)sizeof(*h) + extra, false},
                        {&out, sizeof(out), true}};

    memcpy(req, h, sizeof(*h));
    memcpy(req + sizeof(*h), arg, extra);
    out = (struct fuse_out_header){0};
    if (vq_call(fs_queue(), b, 2) != sizeof(out) || out.unique != h->unique)
        return 1; /* not a plain error reply */
    return out.error;
}

static const char *expect(const char *what, int err, int want)
{
    fs_test_put_err(what, err);
    if (want ? err != want : err >= 0)
        return what;
    return NULL;
}

GUEST_TEST(test_fs_badlen)
{
    static const char name[] = {'a', 'b', 'c'}; /* no NUL */
    struct fuse_in_header h = {
        .opcode = FUSE_LOOKUP, .unique = 1000, .nodeid = FUSE_ROOT_ID};
    const char *why = fs_test_start(c, "ckrun-test");

    if (why)
        return why;
    h.len = sizeof(h) + 1000; /* larger than what the chain holds */
    why = expect("len past buffer", send_raw(&h, "..", 3), -G_EINVAL);
    h.len = 8; /* shorter than the header itself */
    if (!why)
        why = expect("len below header", send_raw(&h, "..", 3), -G_EINVAL);
    h.len = sizeof(h) + sizeof(name);
    if (!why)
        why = expect("name without NUL", send_raw(&h, name, sizeof(name)),
                     -G_EINVAL);
    h = (struct fuse_in_header){
        .len = sizeof(h), .opcode = 9999, .unique = 1001, .nodeid = 1};
    if (!why)
        why = expect("opcode 9999", send_raw(&h, 0, 0), -G_ENOSYS);
    h = (struct fuse_in_header){.len = sizeof(h) + 16,
                                .opcode = FUSE_GETATTR,
                                .unique = 1002,
                                .nodeid = 0x5eed};
    if (!why)
        why = expect("nodeid never returned",
                     send_raw(&h, (uint8_t[16]){0}, 16), 0);
    return why ? why : fs_test_dotdot();
}

/* Publish a LOOKUP whose reply buffer lies far outside guest RAM. */
static void publish_bad_chain(void)
{
    static struct {
        struct fuse_in_header h;
        char name[8];
    } req = {{.len = sizeof(req),
              .opcode = FUSE_LOOKUP,
              .unique = 2000,
              .nodeid = FUSE_ROOT_ID},
             ".."};
    struct vbuf b[2] = {{&req, sizeof(req), false},
                        {(void *)0x4000000000ULL, 4096, true}};

    vq_add(fs_queue(), b, 2);
    vq_kick(fs_queue());
}

GUEST_TEST(test_fs_badchain)
{
    const char *why = fs_test_start(c, "ckrun-test");
    uint32_t status = 0;

    if (why)
        return why;
    publish_bad_chain();
    for (uint64_t spin = 0; spin < VQ_SPINS; spin++)
        if ((status = vdev_status(fs_dev())) & VIRTIO_S_NEEDS_RESET)
            break;
    put_str("needs_reset=");
    put_dec(!!(status & VIRTIO_S_NEEDS_RESET));
    put_str(" isr_config=");
    put_dec(!!(vdev_isr(fs_dev()) & VIRTIO_INT_CONFIG));
    put_char('\n');
    if (!(status & VIRTIO_S_NEEDS_RESET))
        return "device did not set NEEDS_RESET";
    /* The driver's way out (virtio 1.2 §2.1.2): reset and start over. */
    vdev_reset(fs_dev());
    vq_pool_reset();
    why = fs_test_start(c, "ckrun-test");
    if (!why)
        why = fs_test_dotdot();
    if (!why)
        put_str("recovered after reset\n");
    return why;
}
