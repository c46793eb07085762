/*
 * fuzz_disk.c: the disk library's image parsers (qcow2, VMDK descriptors,
 * raw) on hostile image bytes.  Input: a 17-byte header, then the image.
 *   byte 0: bits 0-1 format (0 raw, 1 qcow2, 2 vmdk, 3 qcow2), bit 2
 *           read-only
 *   bytes 1..16: four requests of 4 bytes {op, sector hi, sector lo,
 *           sectors}: op % 5 = read, write, write-zeroes (unmap = op & 8),
 *           discard, flush; offsets wrap at the disk size
 * The image lives in a memfd opened through /proc/self/fd, so relative
 * backing / extent names resolve inside /proc/self/fd.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk/disk.h"
#include "log.h"

#define HDR 17

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[1 << 17];

static void run_ops(struct disk *d, const uint8_t *ops)
{
    uint64_t dsize = disk_size(d);

    for (int i = 0; i < 4; i++) {
        const uint8_t *o = ops + i * 4;
        uint64_t len = ((uint64_t)o[3] % 255 + 1) * 512, off;
        struct iovec v[2];

        if (dsize < 512)
            return;
        if (len > dsize)
            len = dsize / 512 * 512;
        off =
            ((uint64_t)o[1] << 8 | o[2]) * 512 % (dsize - len + 1) / 512 * 512;
        v[0] = (struct iovec){buf, len / 3};
        v[1] = (struct iovec){buf + len / 3, len - len / 3};
        switch (o[0] % 5) {
        case 0:
            disk_preadv(d, v, 2, off);
            break;
        case 1:
            memset(buf, o[0], len);
            disk_pwritev(d, v, 2, off);
            break;
        case 2:
            disk_write_zeroes(d, off, len, o[0] & 8);
            break;
        case 3:
            disk_discard(d, off, len);
            break;
        default:
            disk_flush(d);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum disk_format fmts[4] = {DISK_FMT_RAW, DISK_FMT_QCOW2,
                                             DISK_FMT_VMDK, DISK_FMT_QCOW2};
    struct disk_opts opts = {.sync = DISK_SYNC_NONE};
    struct disk *d = NULL;
    char path[64], err[256];
    int fd;

    if (size < HDR)
        return 0;
    log_configure(0, -1, false);
    opts.format = fmts[data[0] & 3];
    opts.read_only = data[0] & 4;
    fd = memfd_create("fuzz_disk", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data + HDR, size - HDR) == (ssize_t)(size - HDR)) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (disk_open(path, &opts, &d, err, sizeof(err)) == 0) {
            run_ops(d, data + 1);
            disk_close(d);
        } else if (!err[0]) {
            abort(); /* every open failure must say why */
        }
    }
    close(fd);
    return 0;
}
