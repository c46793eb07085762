/*
 * fuzz_fuse.c: raw FUSE requests into the wire server over the passthrough
 * backend on a scratch directory.  The input is a sequence of requests,
 * each as long as its header's len says (bounded by what is left); every
 * request is split into two iovecs at a point taken from its first byte, to
 * exercise the cursor.  An INIT is sent first so every opcode is reachable;
 * the backend is reset (as by DESTROY) after each input.  The share is
 * tests/lib/fuse_scratch.c's (a private tmpfs where the process may mount
 * one), kept across inputs.
 */
#include <stdint.h>
#include <string.h>

#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "fuse_scratch.h"

static struct fuse_scratch scratch;
static struct fs_backend be;
static uint8_t out[1 << 21];

static int setup(void)
{
    if (fuse_scratch_setup(&scratch, "fuzz-fuse") < 0)
        return -1;
    return passthrough_create(
        &(struct passthrough_config){.root = scratch.root}, &be);
}

static void send_one(struct fuse_server *srv, const uint8_t *d, size_t len)
{
    fuse_scratch_send(&scratch, srv, d, len, out, sizeof(out));
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
