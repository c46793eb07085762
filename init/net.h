/*
 * net.h: guest networking set up by init (libkrun-behaviour.md §4.2 steps
 * 6-7, §4.4). Failures print a warning; none of them stops the boot.
 */
#ifndef KRUN_INIT_NET_H
#define KRUN_INIT_NET_H

#include <stdbool.h>

/* Bring lo up; with (dhcp) also bring eth0 up and configure it by DHCP. */
void net_setup(bool dhcp);

/*
 * With (tsi) (the kernel command line asks for tsi_hijack), give dummy0 the
 * address 203.0.113.1/24 and bring it up; silently skipped without dummy0.
 */
void net_setup_tsi(bool tsi);

#endif /* KRUN_INIT_NET_H */
