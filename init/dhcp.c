/* dhcp.c: minimal DHCPv4 client (see dhcp.h). */
#include <errno.h>
#include <stdio.h>

#include "dhcp.h"

int dhcp_configure(const char *ifname)
{
    /* TODO: not implemented yet (issue 6); networking needs virtio-net. */
    fprintf(stderr, "init: KRUN_DHCP=1: DHCP on %s is not implemented yet\n",
            ifname);
    return -ENOSYS;
}
