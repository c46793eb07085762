/* net.c: loopback, TSI's dummy0, eth0 by DHCP. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dhcp.h"
#include "net.h"

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
