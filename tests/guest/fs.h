/*
 * fs.h: the test guest's virtio-fs driver and minimal FUSE client (virtio
 * 1.2 §5.11): one request queue (queue 1), one request in flight, polled.
 */
#ifndef KRUN_TESTS_GUEST_FS_H
#define KRUN_TESTS_GUEST_FS_H

#include <stdint.h>

#include "fuse.h"
#include "virtio.h"

/* Largest reply body fs_call() accepts. */
#define FS_REPLY_MAX 65536

struct fs_reply {
    int32_t error; /* the out-header's error: 0 or -errno */
    uint32_t len;  /* reply body bytes */
    const void *body;
};

/* Find the virtio-fs device tagged (tag) and start its request queue. */
const char *fs_init(const char *cmdline, const char *tag);

/* The device (for status and reset checks) and its request queue. */
struct vdev *fs_dev(void);
struct vq *fs_queue(void);

/*
 * Send request (opcode) on (nodeid) with argument (arg, arglen) and payload
 * (data, datalen) (may be 0), wait for the reply.  NULL, or why the
 * transport failed (no reply, wrong unique, reply longer than written).
 */
const char *fs_call(uint32_t opcode, uint64_t nodeid, const void *arg,
                    uint32_t arglen, const void *data, uint32_t datalen,
                    struct fs_reply *r);

/* FUSE INIT; NULL or why it failed.  Prints the negotiated version. */
const char *fs_fuse_init(void);

/* LOOKUP (name) in (parent): 0 and (*e), or -errno. */
int fs_lookup(uint64_t parent, const char *name, struct fuse_entry_out *e);

/* Shared by fs_tests.c and fs_hostile.c: find the device tagged tag= (or
 * dflt_tag) and INIT; LOOKUP ".." at the root must give the root; print
 * "(what) err=-N". */
const char *fs_test_start(const char *c, const char *dflt_tag);
const char *fs_test_dotdot(void);
void fs_test_put_err(const char *what, int err);
/* The exit-code IOCTL (0x7602) on the root: the VM's status becomes (code). */
const char *fs_exit_code(uint64_t code);

#endif /* KRUN_TESTS_GUEST_FS_H */
