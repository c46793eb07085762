/* net.c: loopback, TSI's dummy0, eth0 by DHCP; rtnetlink requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dhcp.h"
#include "net.h"

/* One rtnetlink request under construction. */
struct nlreq {
    struct nlmsghdr h;
    union {
        struct ifinfomsg ifi;
        struct ifaddrmsg ifa;
        struct rtmsg rt;
    } u;
    uint8_t attrs[64];
};

static void nl_attr(struct nlreq *r, unsigned short type, const void *data,
                    unsigned short len)
{
    struct rtattr *a =
        (struct rtattr *)((uint8_t *)r + NLMSG_ALIGN(r->h.nlmsg_len));

    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send (r) and wait for the kernel's acknowledgement. */
static int nl_talk(struct nlreq *r)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    union {
        struct nlmsghdr h;
        uint8_t buf[512];
    } ack;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc;
    ssize_t n;

    if (fd < 0)
        return -errno;
    r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    r->h.nlmsg_seq = 1;
    if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel,
               sizeof(kernel)) < 0) {
        rc = -errno;
        goto out;
    }
    n = recv(fd, &ack, sizeof(ack), 0);
    if (n < 0)
        rc = -errno;
    else if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
             ack.h.nlmsg_type != NLMSG_ERROR)
        rc = -EPROTO;
    else
        rc = ((struct nlmsgerr *)NLMSG_DATA(&ack.h))->error;
out:
    close(fd);
    return rc;
}

int net_set_mtu(unsigned int ifindex, unsigned int mtu)
{
    struct nlreq r = {0};
    uint32_t v = mtu;

    r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.ifi));
    r.h.nlmsg_type = RTM_NEWLINK;
    r.u.ifi.ifi_family = AF_UNSPEC;
    r.u.ifi.ifi_index = (int)ifindex;
    nl_attr(&r, IFLA_MTU, &v, sizeof(v));
    return nl_talk(&r);
}

int net_add_address(unsigned int ifindex, struct in_addr addr,
                    unsigned int prefix)
{
    struct nlreq r = {0};
    struct in_addr brd = addr;

    if (prefix > 32)
        return -EINVAL;
    if (prefix < 32)
        brd.s_addr |= htonl(0xffffffffu >> prefix);
    r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.ifa));
    r.h.nlmsg_type = RTM_NEWADDR;
    r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    r.u.ifa.ifa_family = AF_INET;
    r.u.ifa.ifa_prefixlen = (unsigned char)prefix;
    r.u.ifa.ifa_index = ifindex;
    nl_attr(&r, IFA_LOCAL, &addr, 4);
    nl_attr(&r, IFA_ADDRESS, &addr, 4);
    nl_attr(&r, IFA_BROADCAST, &brd, 4);
    return nl_talk(&r);
}

int net_add_default_route(unsigned int ifindex, struct in_addr gw)
{
    struct nlreq r = {0};
    uint32_t oif = ifindex;

    r.h.nlmsg_len = NLMSG_LENGTH(sizeof(r.u.rt));
    r.h.nlmsg_type = RTM_NEWROUTE;
    r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    r.u.rt.rtm_family = AF_INET;
    r.u.rt.rtm_table = RT_TABLE_MAIN;
    r.u.rt.rtm_protocol = RTPROT_BOOT;
    r.u.rt.rtm_scope = RT_SCOPE_UNIVERSE;
    r.u.rt.rtm_type = RTN_UNICAST;
    nl_attr(&r, RTA_GATEWAY, &gw, 4);
    nl_attr(&r, RTA_OIF, &oif, 4);
    return nl_talk(&r);
}

/* ifconfig (name) up; returns 0 or a negative errno. */
static int link_up(int sock, const char *name)
{
    struct ifreq ifr = {0};

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr))
        return -errno;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(sock, SIOCSIFFLAGS, &ifr) ? -errno : 0;
}

static int set_ipv4(int sock, const char *name, unsigned long req,
                    const char *addr)
{
    struct ifreq ifr = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    return ioctl(sock, req, &ifr) ? -errno : 0;
}

void net_setup(bool dhcp)
{
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

    if (sock < 0) {
        fprintf(stderr, "init: socket: %s\n", strerror(errno));
        return;
    }
    rc = link_up(sock, "lo");
    if (rc)
        fprintf(stderr, "init: bringing lo up: %s\n", strerror(-rc));
    if (dhcp && if_nametoindex("eth0")) {
        rc = link_up(sock, "eth0");
        if (rc)
            fprintf(stderr, "init: bringing eth0 up: %s\n", strerror(-rc));
        else
            dhcp_configure("eth0");
    }
    close(sock);
}

void net_setup_tsi(bool tsi)
{
    int sock, rc;

    if (!tsi || !if_nametoindex("dummy0"))
        return;
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return;
    rc = set_ipv4(sock, "dummy0", SIOCSIFADDR, "203.0.113.1");
    if (!rc)
        rc = set_ipv4(sock, "dummy0", SIOCSIFNETMASK, "255.255.255.0");
    if (!rc)
        rc = link_up(sock, "dummy0");
    if (rc && rc != -ENODEV)
        fprintf(stderr, "init: configuring dummy0: %s\n", strerror(-rc));
    close(sock);
}
