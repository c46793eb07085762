/*
 * fuzz_fuse.c: raw FUSE requests into the wire server over the passthrough
 * backend on a scratch directory.  The input is a sequence of requests,
 * each as long as its header's len says (bounded by what is left); every
 * request is split into two iovecs at a point taken from its first byte, to
 * exercise the cursor.  An INIT is sent first so every opcode is reachable;
 * the backend is reset (as by DESTROY) after each input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"

static struct fs_backend be;
static uint8_t out[1 << 21];

static int setup(void)
{
    static char dir[] = "/tmp/ckrun-fuzz-fuse-XXXXXX";
    char p[64];
    FILE *f;

    if (!mkdtemp(dir))
        return -1;
    snprintf(p, sizeof(p), "%s/file", dir);
    f = fopen(p, "w");
    if (f) {
        fputs("some data\n", f);
        fclose(f);
    }
    snprintf(p, sizeof(p), "%s/sub", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/link", dir);
    symlink("/etc/passwd", p);
    return passthrough_create(&(struct passthrough_config){.root = dir}, &be);
}

static void send_one(struct fuse_server *srv, const uint8_t *d, size_t len)
{
    size_t cut = len ? d[0] % (len + 1) : 0;
    struct iovec in[2] = {{(void *)(uintptr_t)d, cut},
                          {(void *)(uintptr_t)(d + cut), len - cut}};
    struct iovec ov[2] = {{out, 100}, {out + 100, sizeof(out) - 100}};

    fuse_server_handle(srv, in, 2, ov, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct fuse_server *srv;
    struct {
        struct fuse_in_header h;
        struct fuse_init_in i;
    } init = {{.len = sizeof(init), .opcode = FUSE_INIT},
              {.major = 7, .minor = 38, .flags = 0xffffffff}};
    struct fuse_exit_code ec;

    if (!ready)
        ready = setup() == 0 ? 1 : -1;
    if (ready < 0 || fuse_server_create(
                         &(struct fuse_server_config){
                             .backend = be, .workers = 1, .exit_code = &ec},
                         &srv) < 0)
        return 0;
    send_one(srv, (const uint8_t *)&init, sizeof(init));
    while (size >= sizeof(struct fuse_in_header)) {
        uint32_t len;
        size_t n;

        memcpy(&len, data, sizeof(len));
        n = len < sizeof(struct fuse_in_header) || len > size ? size : len;
        send_one(srv, data, n);
        data += n;
        size -= n;
    }
    be.ops->destroy(be.fs);
    fuse_server_destroy(srv);
    return 0;
}
