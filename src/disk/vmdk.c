#include <errno.h>
#include "disk/disk_int.h"
int vmdk_open(const char *path, const struct disk_opts *opts, struct disk **out,
              char *err, size_t errlen)
{
    return disk_err(err, errlen, -ENOTSUP, path, "VMDK not yet supported");
}
