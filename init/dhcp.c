/* dhcp.c: minimal DHCPv4 client (see dhcp.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dhcp.h"
#include "net.h"

/* RFC 2131 §2: the fixed BOOTP part; all multi-byte fields big-endian. */
#define OFF_OP      0
#define OFF_HTYPE   1
#define OFF_HLEN    2
#define OFF_XID     4
#define OFF_FLAGS   10
#define OFF_YIADDR  16
#define OFF_CHADDR  28
#define OFF_COOKIE  236
#define OFF_OPTIONS 240
#define BOOTREQUEST 1
#define BOOTREPLY   2
#define HTYPE_ETH   1

#define OPT_PAD             0
#define OPT_NETMASK         1
#define OPT_ROUTER          3
#define OPT_DNS             6
#define OPT_MTU             26
#define OPT_REQUESTED       50
#define OPT_MSG_TYPE        53
#define OPT_SERVER_ID       54
#define OPT_RAPID_COMMIT    80
#define OPT_END             255
#define DHCP_COOKIE         0x63825363u
#define DHCP_TIMEOUT_MS     100
#define DHCP_DEFAULT_PREFIX 24

size_t dhcp_build(uint8_t *buf, size_t cap, int type, uint32_t xid,
                  const uint8_t mac[6], struct in_addr req_addr,
                  struct in_addr server)
{
    uint32_t cookie = htonl(DHCP_COOKIE);
    size_t n = OFF_OPTIONS;

    if (cap < OFF_OPTIONS + 16)
        return 0;
    memset(buf, 0, OFF_OPTIONS);
    buf[OFF_OP] = BOOTREQUEST;
    buf[OFF_HTYPE] = HTYPE_ETH;
    buf[OFF_HLEN] = 6;
    memcpy(buf + OFF_XID, &xid, 4);
    buf[OFF_FLAGS] = 0x80; /* broadcast: we have no address to unicast to */
    memcpy(buf + OFF_CHADDR, mac, 6);
    memcpy(buf + OFF_COOKIE, &cookie, 4);
    buf[n++] = OPT_MSG_TYPE;
    buf[n++] = 1;
    buf[n++] = (uint8_t)type;
    if (type == DHCP_REQUEST) {
        buf[n++] = OPT_REQUESTED;
        buf[n++] = 4;
        memcpy(buf + n, &req_addr, 4);
        n += 4;
        buf[n++] = OPT_SERVER_ID;
        buf[n++] = 4;
        memcpy(buf + n, &server, 4);
        n += 4;
    } else {
        buf[n++] = OPT_RAPID_COMMIT;
        buf[n++] = 0;
    }
    buf[n++] = OPT_END;
    return n;
}

/* A netmask's prefix length, or -1 if its ones are not contiguous. */
static int mask_prefix(const uint8_t *p)
{
    uint32_t m = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                 (uint32_t)p[2] << 8 | p[3];
    int n = 0;

    while (n < 32 && (m & (0x80000000u >> n)))
        n++;
    return n == 32 || (m << n) == 0 ? n : -1;
}

/* Record option (code) with (len) bytes at (p) into (l). */
static void take_option(struct dhcp_lease *l, uint8_t code, const uint8_t *p,
                        uint8_t len)
{
    switch (code) {
    case OPT_MSG_TYPE:
        if (len == 1)
            l->type = p[0];
        break;
    case OPT_NETMASK:
        if (len == 4 && mask_prefix(p) > 0)
            l->prefix = (unsigned int)mask_prefix(p);
        break;
    case OPT_ROUTER:
        if (len >= 4 && len % 4 == 0)
            memcpy(&l->router, p, 4);
        break;
    case OPT_DNS:
        if (len % 4 != 0)
            break;
        l->nr_dns = 0;
        for (unsigned int i = 0; i < len / 4u && i < DHCP_MAX_DNS; i++)
            memcpy(&l->dns[l->nr_dns++], p + 4 * i, 4);
        break;
    case OPT_MTU:
        if (len == 2) {
            unsigned int mtu = (unsigned int)p[0] << 8 | p[1];

            l->mtu = mtu < DHCP_MTU_MIN   ? DHCP_MTU_MIN
                     : mtu > DHCP_MTU_MAX ? DHCP_MTU_MAX
                                          : mtu;
        }
        break;
    case OPT_SERVER_ID:
        if (len == 4)
            memcpy(&l->server, p, 4);
        break;
    default:
        break;
    }
}

int dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid,
               const uint8_t mac[6], struct dhcp_lease *lease)
{
    uint32_t cookie;
    size_t i = OFF_OPTIONS;

    memset(lease, 0, sizeof(*lease));
    lease->prefix = DHCP_DEFAULT_PREFIX;
    lease->mtu = DHCP_MTU_DEFAULT;
    if (len < OFF_OPTIONS || buf[OFF_OP] != BOOTREPLY ||
        buf[OFF_HTYPE] != HTYPE_ETH || buf[OFF_HLEN] != 6 ||
        memcmp(buf + OFF_XID, &xid, 4) != 0 ||
        memcmp(buf + OFF_CHADDR, mac, 6) != 0)
        return -EINVAL;
    memcpy(&cookie, buf + OFF_COOKIE, 4);
    if (cookie != htonl(DHCP_COOKIE))
        return -EINVAL;
    memcpy(&lease->yiaddr, buf + OFF_YIADDR, 4);
    while (i < len) {
        uint8_t code = buf[i++], olen;

        if (code == OPT_PAD)
            continue;
        if (code == OPT_END)
            break;
        if (i >= len)
            return -EINVAL; /* no length byte */
        olen = buf[i++];
        if (olen > len - i)
            return -EINVAL; /* runs past the packet */
        take_option(lease, code, buf + i, olen);
        i += olen;
    }
    return lease->type > 0 ? 0 : -EINVAL;
}

int dhcp_udp_payload(const uint8_t *pkt, size_t len, const uint8_t **payload,
                     size_t *plen, struct in_addr *src)
{
    size_t ihl, tot, ulen;

    if (len < 20 || (pkt[0] >> 4) != 4)
        return -EINVAL;
    ihl = (size_t)(pkt[0] & 15) * 4;
    tot = (size_t)pkt[2] << 8 | pkt[3];
    if (ihl < 20 || tot < ihl + 8 || tot > len || pkt[9] != 17 /* UDP */ ||
        (pkt[6] & 0x3f) != 0 || pkt[7] != 0) /* a fragment */
        return -EINVAL;
    if (((size_t)pkt[ihl + 2] << 8 | pkt[ihl + 3]) != 68)
        return -EINVAL; /* not to the client port */
    ulen = (size_t)pkt[ihl + 4] << 8 | pkt[ihl + 5];
    if (ulen < 8 || ulen > tot - ihl)
        return -EINVAL;
    memcpy(src, pkt + 12, 4);
    *payload = pkt + ihl + 8;
    *plen = ulen - 8;
    return 0;
}

/* ---- the exchange ------------------------------------------------------- */

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int open_socket(const char *ifname)
{
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(68)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
                   (socklen_t)strlen(ifname) + 1) < 0 ||
        bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    return fd;
}

/*
 * The receiving side: an IPv4 packet socket on (ifname).  Servers may
 * answer by unicast to the offered address (Debian's passt 2023 ignores the
 * broadcast flag), which the IP layer drops while eth0 has no address; a
 * packet socket sees the reply anyway.
 */
static int open_packet_socket(const char *ifname)
{
    struct sockaddr_ll ll = {.sll_family = AF_PACKET,
                             .sll_protocol = htons(ETH_P_IP),
                             .sll_ifindex = (int)if_nametoindex(ifname)};
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));

    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    return fd;
}

/*
 * Send (pkt) on (fd) and wait up to DHCP_TIMEOUT_MS on (pfd) for a reply of
 * ours.  Returns 0 with (*lease) and the sender in (*from), 1 on timeout,
 * -errno.
 */
static int exchange_once(int fd, int pfd, const uint8_t *pkt, size_t len,
                         uint32_t xid, const uint8_t mac[6],
                         struct dhcp_lease *lease, struct in_addr *from)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(67),
                             .sin_addr.s_addr = htonl(INADDR_BROADCAST)};
    long deadline = now_ms() + DHCP_TIMEOUT_MS;
    uint8_t buf[2048];

    if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
        return -errno;
    for (;;) {
        long left = deadline - now_ms();
        struct timeval tv = {.tv_sec = 0, .tv_usec = left * 1000};
        struct sockaddr_ll ll;
        socklen_t sl = sizeof(ll);
        const uint8_t *payload;
        size_t plen;
        ssize_t n;

        if (left <= 0)
            return 1;
        setsockopt(pfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = recvfrom(pfd, buf, sizeof(buf), 0, (struct sockaddr *)&ll, &sl);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (ll.sll_pkttype == PACKET_OUTGOING)
            continue; /* our own DISCOVER */
        if (dhcp_udp_payload(buf, (size_t)n, &payload, &plen, from) == 0 &&
            dhcp_parse(payload, plen, xid, mac, lease) == 0)
            return 0;
    }
}

/* exchange_once, sent a second time if the first got no answer: a lost
 * first frame or a slow server costs one more timeout, never more. */
static int exchange(int fd, int pfd, const uint8_t *pkt, size_t len,
                    uint32_t xid, const uint8_t mac[6],
                    struct dhcp_lease *lease, struct in_addr *from)
{
    int rc = exchange_once(fd, pfd, pkt, len, xid, mac, lease, from);

    return rc == 1 ? exchange_once(fd, pfd, pkt, len, xid, mac, lease, from)
                   : rc;
}

static int write_resolv_conf(const struct dhcp_lease *l)
{
    char text[64 * DHCP_MAX_DNS] = "";
    size_t n = 0;
    int fd, rc = 0;

    for (unsigned int i = 0; i < l->nr_dns; i++) {
        char a[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &l->dns[i], a, sizeof(a));
        n += (size_t)snprintf(text + n, sizeof(text) - n, "nameserver %s\n", a);
    }
    fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0644);
    if (fd < 0)
        return -errno;
    if (write(fd, text, n) != (ssize_t)n)
        rc = -EIO;
    close(fd);
    return rc;
}

/* Address, MTU, default route and DNS of (l) on (ifname). */
static int apply_lease(const char *ifname, const struct dhcp_lease *l)
{
    unsigned int idx = if_nametoindex(ifname);
    int rc;

    if (!idx)
        return -ENODEV;
    rc = net_set_mtu(idx, l->mtu);
    if (rc < 0)
        fprintf(stderr, "init: DHCP: MTU %u on %s: %s\n", l->mtu, ifname,
                strerror(-rc));
    rc = net_add_address(idx, l->yiaddr, l->prefix);
    if (rc < 0) {
        fprintf(stderr, "init: DHCP: address on %s: %s\n", ifname,
                strerror(-rc));
        return rc;
    }
    if (l->router.s_addr && (rc = net_add_default_route(idx, l->router)) < 0)
        fprintf(stderr, "init: DHCP: default route: %s\n", strerror(-rc));
    if (l->nr_dns && (rc = write_resolv_conf(l)) < 0)
        fprintf(stderr, "init: DHCP: /etc/resolv.conf: %s\n", strerror(-rc));
    return 0;
}

static int interface_mac(const char *ifname, uint8_t mac[6])
{
    struct ifreq ifr = {0};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

    if (fd < 0)
        return -errno;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
        rc = -errno;
    else
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(fd);
    return rc;
}

int dhcp_configure(const char *ifname)
{
    uint32_t xid = htonl((uint32_t)getpid());
    struct in_addr none = {0}, from;
    struct dhcp_lease lease;
    uint8_t mac[6], pkt[DHCP_PACKET_MAX];
    size_t len;
    int fd, pfd, rc = interface_mac(ifname, mac);

    if (rc < 0)
        goto warn;
    fd = open_socket(ifname);
    if (fd < 0) {
        rc = fd;
        goto warn;
    }
    pfd = open_packet_socket(ifname);
    if (pfd < 0) {
        rc = pfd;
        close(fd);
        goto warn;
    }
    len = dhcp_build(pkt, sizeof(pkt), DHCP_DISCOVER, xid, mac, none, none);
    rc = exchange(fd, pfd, pkt, len, xid, mac, &lease, &from);
    if (rc == 0 && lease.type == DHCP_OFFER) {
        /* §4.4: the server is the offer's sender. */
        len = dhcp_build(pkt, sizeof(pkt), DHCP_REQUEST, xid, mac, lease.yiaddr,
                         from.s_addr ? from : lease.server);
        rc = exchange(fd, pfd, pkt, len, xid, mac, &lease, &from);
    }
    close(pfd);
    close(fd);
    if (rc == 1)
        return 1; /* no server: silently done */
    if (rc == 0 && lease.type != DHCP_ACK) {
        fprintf(stderr, "init: DHCP on %s: server answered type %d\n", ifname,
                lease.type);
        return -EPROTO;
    }
    if (rc == 0)
        rc = apply_lease(ifname, &lease);
    if (rc >= 0)
        return 0;
warn:
    fprintf(stderr, "init: DHCP on %s: %s\n", ifname, strerror(-rc));
    return rc;
}
