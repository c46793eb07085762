/*
 * devfuse.h: the /dev/fuse transport: the host kernel's FUSE client drives
 * the same server the virtio-fs device uses.  Framing: one read(2) returns
 * exactly one request; one write(2) sends exactly one reply.
 */
#ifndef KRUN_FUSE_DEVFUSE_H
#define KRUN_FUSE_DEVFUSE_H

struct fuse_server;

/* Serve requests from the /dev/fuse fd (fd) on the calling thread until the
 * connection ends (unmount or abort: ENODEV) or the server saw DESTROY.
 * Several threads may serve the same fd at once.  Returns 0 at a normal end
 * or -errno. */
int devfuse_serve(int fd, struct fuse_server *srv);

#endif /* KRUN_FUSE_DEVFUSE_H */
