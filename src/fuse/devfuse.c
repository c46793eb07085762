/* devfuse.c: /dev/fuse framing around fuse_server_handle (see devfuse.h). */
#define LOG_TAG "devfuse"
#include "fuse/devfuse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fuse/server.h"
#include "log.h"
#include "util.h"

/* The kernel refuses reads into buffers smaller than this (fuse_i.h). */
#define MIN_READ_BUFFER 8192u

static int serve_loop(int fd, struct fuse_server *srv, uint8_t *in,
                      size_t in_size, uint8_t *out, size_t out_size)
{
    for (;;) {
        ssize_t n = read(fd, in, in_size);
        struct iovec iv, ov = {.iov_base = out, .iov_len = out_size};
        size_t len;

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ENOENT)
                continue; /* ENOENT: the request was interrupted */
            return errno == ENODEV ? 0 : -errno;
        }
        if (n == 0)
            return 0;
        iv = (struct iovec){.iov_base = in, .iov_len = (size_t)n};
        len = fuse_server_handle(srv, &iv, 1, &ov, 1);
        if (len > 0 && write(fd, out, len) < 0 && errno != ENOENT) {
            if (errno == ENODEV)
                return 0;
            log_ratelimited(LOG_WARN, "reply write failed: %s",
                            strerror(errno));
        }
        if (fuse_server_destroyed(srv))
            return 0;
    }
}

int devfuse_serve(int fd, struct fuse_server *srv)
{
    size_t in_size = MAX(fuse_server_max_request(srv) + 4096, MIN_READ_BUFFER);
    size_t out_size = in_size;
    uint8_t *in = malloc(in_size), *out = malloc(out_size);
    int rc = -ENOMEM;

    if (in && out)
        rc = serve_loop(fd, srv, in, in_size, out, out_size);
    free(in);
    free(out);
    return rc;
}
