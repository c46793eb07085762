/*
 * dhcp.h: a minimal DHCPv4 client for eth0 (libkrun-behaviour.md §4.4):
 * DISCOVER with Rapid Commit, REQUEST after an OFFER, then the lease's
 * address, default route and MTU through rtnetlink and its DNS servers in
 * /etc/resolv.conf. No renewal: the lease is assumed to outlive the VM.
 */
#ifndef KRUN_INIT_DHCP_H
#define KRUN_INIT_DHCP_H

/*
 * Configure interface (ifname), which must be up. Returns 0, 1 if no server
 * answered within the timeout, or a negative errno (a warning was printed).
 */
int dhcp_configure(const char *ifname);

#endif /* KRUN_INIT_DHCP_H */
