/*
 * dhcp.h: a minimal DHCPv4 client for eth0 (libkrun-behaviour.md §4.4):
 * DISCOVER with Rapid Commit, REQUEST after an OFFER, then the lease's
 * address, default route and MTU through rtnetlink and its DNS servers in
 * /etc/resolv.conf. No renewal: the lease is assumed to outlive the VM.
 *
 * The packet builder and the reply parser are pure functions (unit tests and
 * fuzz/fuzz_dhcp.c); every reply byte is untrusted (RFC 2131 §2, RFC 2132).
 */
#ifndef KRUN_INIT_DHCP_H
#define KRUN_INIT_DHCP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_PACKET_MAX  576 /* what every client must accept (RFC 2131) */
#define DHCP_MAX_DNS     3
#define DHCP_DISCOVER    1
#define DHCP_OFFER       2
#define DHCP_REQUEST     3
#define DHCP_ACK         5
#define DHCP_NAK         6
#define DHCP_MTU_MIN     1280
#define DHCP_MTU_MAX     65520
#define DHCP_MTU_DEFAULT 65520

/* What a reply offers; addresses in network byte order. */
struct dhcp_lease {
    int type;              /* DHCP_OFFER, DHCP_ACK, DHCP_NAK, ... (opt 53) */
    struct in_addr yiaddr; /* the client's address */
    struct in_addr server; /* option 54, 0 if absent */
    struct in_addr router; /* option 3 (first), 0 if absent */
    unsigned int prefix;   /* from option 1; 24 if absent or malformed */
    unsigned int mtu;      /* option 26 clamped, else DHCP_MTU_DEFAULT */
    struct in_addr dns[DHCP_MAX_DNS]; /* option 6 */
    unsigned int nr_dns;
};

/*
 * Build a DISCOVER (53=1, 80 Rapid Commit) or, with (type) DHCP_REQUEST, a
 * REQUEST for (req_addr) from (server) (options 50 and 54) into (buf) of
 * (cap) bytes: op 1, htype 1, hlen 6, (xid) (stored as given), broadcast
 * flag, chaddr (mac).  Returns the length, or 0 if (cap) is too small.
 */
size_t dhcp_build(uint8_t *buf, size_t cap, int type, uint32_t xid,
                  const uint8_t mac[6], struct in_addr req_addr,
                  struct in_addr server);

/*
 * Parse the reply (buf, len) to transaction (xid) of client (mac) into
 * (*lease).  Returns 0, or -EINVAL for anything that is not a well-formed
 * BOOTREPLY to us with a message type: too short, wrong op/htype/hlen/xid/
 * chaddr/cookie, an option running past the end, a missing or malformed
 * option 53.  Malformed optional options are ignored.
 */
int dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid,
               const uint8_t mac[6], struct dhcp_lease *lease);

/*
 * The UDP payload of the IPv4 packet (pkt, len) if it is an unfragmented
 * UDP datagram to port 68 whose lengths fit: (*payload, *plen) and the
 * source address (*src).  Returns 0 or -EINVAL.
 */
int dhcp_udp_payload(const uint8_t *pkt, size_t len, const uint8_t **payload,
                     size_t *plen, struct in_addr *src);

/*
 * Run DHCP on interface (ifname), which must be up, and apply the lease.
 * Each message is sent at most twice, 100 ms apart: no server costs the boot
 * 200 ms.  Returns 0, 1 if no server answered, or a negative errno (a
 * warning was printed).
 */
int dhcp_configure(const char *ifname);

#endif /* KRUN_INIT_DHCP_H */
