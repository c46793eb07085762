/*
 * net.h: guest networking set up by init (libkrun-behaviour.md §4.2 steps
 * 6-7, §4.4). Failures print a warning; none of them stops the boot.
 */
#ifndef KRUN_INIT_NET_H
#define KRUN_INIT_NET_H

#include <stdbool.h>

#include <netinet/in.h>

/*
 * rtnetlink requests on interface index (ifindex), each acknowledged by the
 * kernel: the MTU; the address (addr)/(prefix) (with its broadcast); the
 * default route via (gw) (main table, RTPROT_BOOT).  Return 0 or -errno.
 */
int net_set_mtu(unsigned int ifindex, unsigned int mtu);
int net_add_address(unsigned int ifindex, struct in_addr addr,
                    unsigned int prefix);
int net_add_default_route(unsigned int ifindex, struct in_addr gw);

/* Bring lo up; with (dhcp) also bring eth0 up and configure it by DHCP. */
void net_setup(bool dhcp);

/*
 * With (tsi) (the kernel command line asks for tsi_hijack), give dummy0 the
 * address 203.0.113.1/24 and bring it up; silently skipped without dummy0.
 */
void net_setup_tsi(bool tsi);

#endif /* KRUN_INIT_NET_H */
