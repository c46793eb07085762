/*
 * server.h: the FUSE wire protocol, independent of transport and of the
 * host: it parses one request, checks every length against what the request
 * really holds, dispatches to a backend (fs_ops.h) and writes the reply.
 * No host syscalls happen here.
 *
 * Transports: /dev/fuse (devfuse.c) hands over one read() buffer as a single
 * iovec; virtio-fs hands over the readable and writable iovecs of a
 * descriptor chain.  Both call fuse_server_handle(); only framing differs.
 */
#ifndef KRUN_FUSE_SERVER_H
#define KRUN_FUSE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fuse/fs_ops.h"

/* The exit-code ioctl (libkrun-behaviour.md §4.6): _IO('v', 2). */
#define FUSE_EXIT_CODE_IOCTL 0x7602u

/* Where FUSE_IOCTL 0x7602 stores the guest's exit code.  Both fields are
 * written with atomic stores (code first, then set = 1) by any worker
 * thread; the VMM reads them with atomic loads when the VM stops. */
struct fuse_exit_code {
    int code;
    int set;
};

struct fuse_server_config {
    struct fs_backend backend; /* not owned; outlives the server */
    bool read_only;            /* every mutating op fails with EROFS */
    uint32_t max_write;        /* bytes; 0 = 1 MiB; rounded to pages */
    /* Threads that call fuse_server_handle concurrently.  Blocking lock
     * requests (SETLKW) are only offered to the guest when >= 2, and at
     * most workers - 1 of them wait at a time, so that the unlock can
     * still be served. */
    unsigned int workers;
    struct fuse_exit_code *exit_code; /* NULL: the ioctl gets ENOTTY */
};

struct fuse_server;

/* Largest request a transport must be able to receive: header, write
 * header and max_write bytes of data (for sizing /dev/fuse read buffers). */
size_t fuse_server_max_request(const struct fuse_server *srv);

/* Create a server for (cfg).  Returns 0 and *out, or -ENOMEM. */
int fuse_server_create(const struct fuse_server_config *cfg,
                       struct fuse_server **out);
/* Free (srv).  The backend is not destroyed.  No request may be running. */
void fuse_server_destroy(struct fuse_server *srv);

/*
 * Handle one request read from (in, in_cnt) and write its reply into
 * (out, out_cnt).  Returns the reply's length in bytes (the reply's
 * fuse_out_header.len), or 0 when no reply must be sent (FORGET,
 * BATCH_FORGET, INTERRUPT, or a request too short to carry a header, or an
 * out buffer too small for any reply).  Never fails otherwise: malformed
 * requests get an error reply.  Thread-safe: any number of threads may call
 * it at once; the buffers must not change during the call (virtio: the
 * caller copies nothing, so a guest rewriting its buffers only hurts its
 * own request, since every field is read once into a local).
 */
size_t fuse_server_handle(struct fuse_server *srv, const struct iovec *in,
                          unsigned int in_cnt, const struct iovec *out,
                          unsigned int out_cnt);

/* True once FUSE_DESTROY was handled (the transport may stop). */
bool fuse_server_destroyed(const struct fuse_server *srv);

#endif /* KRUN_FUSE_SERVER_H */
