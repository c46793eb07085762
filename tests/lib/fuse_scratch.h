/*
 * fuse_scratch.h: a scratch share for the FUSE fuzzers, and the way they
 * hand a raw request to the wire server.
 *
 * The share (a file, a directory with a file, a symlink, a FIFO and, as
 * root, a 1:3 null-device node) lives on a private 64 MiB tmpfs when the
 * process may mount one (a mount namespace of its own, in a user namespace
 * of its own when not root; detached at once, so nothing shows or stays on
 * the host); elsewhere on a plain directory under /tmp with RLIMIT_FSIZE at
 * 64 MiB, so that no input can fill the host's disk.
 */
#ifndef KRUN_TESTS_FUSE_SCRATCH_H
#define KRUN_TESTS_FUSE_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuse/server.h"

struct fuse_scratch {
    char dir[48];  /* the mkdtemp() directory */
    char root[48]; /* what the backend is given */
    bool on_tmpfs;
};

/* Make (s) under /tmp/ckrun-TAG-XXXXXX.  Call before the process has
 * threads of its own (a user namespace needs a single-threaded process).
 * Returns 0 or -errno. */
int fuse_scratch_setup(struct fuse_scratch *s, const char *tag);

/* Hand the request (d, len) to (srv), split into two iovecs at a point
 * taken from its first byte (to exercise the server's cursor), the reply
 * into (out, out_len) split after 100 bytes.  Requests that could hang or
 * fill the host are dropped: SETLKW (a lock nobody releases) and, off the
 * tmpfs, FALLOCATE. */
void fuse_scratch_send(const struct fuse_scratch *s, struct fuse_server *srv,
                       const uint8_t *d, size_t len, uint8_t *out,
                       size_t out_len);

#endif /* KRUN_TESTS_FUSE_SCRATCH_H */
