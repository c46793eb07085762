/*
 * fuzz_dhcp.c: the guest init's DHCP reply parser (init/dhcp.c).  Input: a
 * reply as it would arrive on port 68; the first 6 bytes of chaddr and the
 * xid are taken from the input itself half the time, so that parsing gets
 * past the header checks.  Checks the lease's invariants; the same bytes
 * also go through dhcp_udp_payload (the IPv4/UDP unwrapping).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../init/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};
    uint32_t xid = 0x01000000;
    struct dhcp_lease l;
    uint8_t *copy;
    int rc;

    if (size >= 34 && (data[3] & 1)) { /* hops byte chooses: match us */
        memcpy(&xid, data + 4, 4);
        memcpy(mac, data + 28, 6);
    }
    /* An exact-size heap copy: ASan sees any read past the packet. */
    copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    rc = dhcp_parse(copy, size, xid, mac, &l);
    if (rc != 0 && rc != -22)
        abort();
    {
        /* The same bytes as an IPv4 packet from the packet socket. */
        const uint8_t *pl;
        struct dhcp_lease l2;
        struct in_addr src;
        size_t plen;

        if (dhcp_udp_payload(copy, size, &pl, &plen, &src) == 0 &&
            (pl < copy || pl + plen > copy + size ||
             dhcp_parse(pl, plen, xid, mac, &l2) < -22))
            abort();
    }
    if (rc == 0 && (l.type <= 0 || l.type > 255 || l.prefix > 32 ||
                    l.prefix == 0 || l.mtu < DHCP_MTU_MIN ||
                    l.mtu > DHCP_MTU_MAX || l.nr_dns > DHCP_MAX_DNS))
        abort();
    free(copy);
    return 0;
}
