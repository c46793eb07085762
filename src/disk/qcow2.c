#include <errno.h>
#include "disk/disk_int.h"
int qcow2_open(const char *path, const struct disk_opts *opts, unsigned depth,
               struct disk **out, char *err, size_t errlen)
{
    return disk_err(err, errlen, -ENOTSUP, path, "qcow2 not yet supported");
}
