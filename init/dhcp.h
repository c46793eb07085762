/*
 * dhcp.h: the DHCPv4 client for eth0 that KRUN_DHCP=1 asks for
 * (libkrun-behaviour.md §4.4).  Not implemented yet (issue 6: it needs
 * virtio-net): dhcp_configure() prints that and returns -ENOSYS.
 */
#ifndef KRUN_INIT_DHCP_H
#define KRUN_INIT_DHCP_H

/*
 * Configure interface (ifname) by DHCP.  Today: prints that DHCP is not
 * implemented and returns -ENOSYS.
 */
int dhcp_configure(const char *ifname);

#endif /* KRUN_INIT_DHCP_H */
