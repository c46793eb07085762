/*
 * test_init_dhcp.c: the guest init's DHCP packets (init/dhcp.c): the exact
 * DISCOVER and REQUEST bytes, and crafted replies: a full ACK, wrong
 * transaction or client, truncated packets and options, bad option lengths,
 * options running past the end, clamped MTUs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "../../init/dhcp.h"
#include "t.h"

static const uint8_t mac[6] = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};
static const uint32_t xid = 0x01000000; /* htonl(1): init is pid 1 */

static struct in_addr ip(const char *s)
{
    struct in_addr a;

    inet_pton(AF_INET, s, &a);
    return a;
}

/* A BOOTREPLY to us with (opts) (nopts bytes) after the cookie. */
static size_t reply(uint8_t *buf, const uint8_t *opts, size_t nopts)
{
    memset(buf, 0, 240);
    buf[0] = 2, buf[1] = 1, buf[2] = 6;
    memcpy(buf + 4, &xid, 4);
    memcpy(buf + 16, (uint8_t[]){10, 0, 2, 15}, 4); /* yiaddr */
    memcpy(buf + 28, mac, 6);
    memcpy(buf + 236, (uint8_t[]){0x63, 0x82, 0x53, 0x63}, 4);
    memcpy(buf + 240, opts, nopts);
    return 240 + nopts;
}

static void test_discover_bytes(void)
{
    uint8_t b[DHCP_PACKET_MAX], want_opts[] = {53, 1, 1, 80, 0, 255};
    struct in_addr z = {0};
    size_t n = dhcp_build(b, sizeof(b), DHCP_DISCOVER, xid, mac, z, z);

    CHECK_EQ(n, 240 + sizeof(want_opts));
    CHECK_EQ(b[0], 1);
    CHECK_EQ(b[1], 1);
    CHECK_EQ(b[2], 6);
    CHECK_EQ(b[3], 0);
    CHECK(memcmp(b + 4, &xid, 4) == 0);
    CHECK_EQ(b[10] << 8 | b[11], 0x8000); /* broadcast flag */
    CHECK(memcmp(b + 28, mac, 6) == 0);
    CHECK(memcmp(b + 236, (uint8_t[]){0x63, 0x82, 0x53, 0x63}, 4) == 0);
    CHECK(memcmp(b + 240, want_opts, sizeof(want_opts)) == 0);
    for (int i = 12; i < 28; i++) /* ciaddr, yiaddr, siaddr, giaddr */
        if (b[i])
            CHECK(!"address field not zero");
    CHECK_EQ(dhcp_build(b, 250, DHCP_DISCOVER, xid, mac, z, z), 0);
}

static void test_request_bytes(void)
{
    uint8_t b[DHCP_PACKET_MAX];
    uint8_t want[] = {53, 1, 3, 50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2, 255};
    size_t n = dhcp_build(b, sizeof(b), DHCP_REQUEST, xid, mac, ip("10.0.2.15"),
                          ip("10.0.2.2"));

    CHECK_EQ(n, 240 + sizeof(want));
    CHECK(memcmp(b + 240, want, sizeof(want)) == 0);
}

static void test_full_ack(void)
{
    uint8_t b[600], opts[] = {0,   0,                      /* pad */
                              53,  1,  5,                  /* ACK */
                              1,   4,  255,  255,  254, 0, /* /23 */
                              3,   8,  10,   0,    2,   2,
                              10,  0,  2,    3, /* two routers: the first */
                              6,   8,  8,    8,    8,   8,
                              1,   1,  1,    1,            /* DNS */
                              26,  2,  0x05, 0xdc,         /* MTU 1500 */
                              54,  4,  10,   0,    2,   2, /* server id */
                              99,  3,  1,    2,    3, /* unknown: skipped */
                              255, 77, 77}; /* END, then trailing junk */
    struct dhcp_lease l;

    CHECK_EQ(dhcp_parse(b, reply(b, opts, sizeof(opts)), xid, mac, &l), 0);
    CHECK_EQ(l.type, DHCP_ACK);
    CHECK_EQ(l.yiaddr.s_addr, ip("10.0.2.15").s_addr);
    CHECK_EQ(l.prefix, 23);
    CHECK_EQ(l.router.s_addr, ip("10.0.2.2").s_addr);
    CHECK_EQ(l.server.s_addr, ip("10.0.2.2").s_addr);
    CHECK_EQ(l.mtu, 1500);
    CHECK_EQ(l.nr_dns, 2);
    CHECK_EQ(l.dns[0].s_addr, ip("8.8.8.8").s_addr);
    CHECK_EQ(l.dns[1].s_addr, ip("1.1.1.1").s_addr);
}

static void test_defaults_and_clamps(void)
{
    uint8_t b[600];
    uint8_t small[] = {53, 1, 2, 26, 2, 0, 100};        /* OFFER, MTU 100 */
    uint8_t big[] = {53, 1, 5, 26, 2, 0xff, 0xff, 255}; /* MTU 65535 */
    uint8_t holes[] = {53, 1, 5, 1, 4, 255, 0, 255, 0}; /* mask with a hole */
    uint8_t none[] = {53, 1, 5};                        /* no END */
    struct dhcp_lease l;

    CHECK_EQ(dhcp_parse(b, reply(b, small, sizeof(small)), xid, mac, &l), 0);
    CHECK_EQ(l.type, DHCP_OFFER);
    CHECK_EQ(l.mtu, DHCP_MTU_MIN);
    CHECK_EQ(dhcp_parse(b, reply(b, big, sizeof(big)), xid, mac, &l), 0);
    CHECK_EQ(l.mtu, DHCP_MTU_MAX);
    CHECK_EQ(dhcp_parse(b, reply(b, holes, sizeof(holes)), xid, mac, &l), 0);
    CHECK_EQ(l.prefix, 24);
    CHECK_EQ(dhcp_parse(b, reply(b, none, sizeof(none)), xid, mac, &l), 0);
    CHECK_EQ(l.mtu, DHCP_MTU_DEFAULT);
    CHECK_EQ(l.prefix, 24);
    CHECK_EQ(l.router.s_addr, 0);
    CHECK_EQ(l.nr_dns, 0);
}

static void test_bad_option_lengths(void)
{
    uint8_t b[600];
    uint8_t dns6[] = {53, 1, 5, 6, 6, 1, 2, 3, 4, 5, 6, 3, 3, 1, 2, 3, 255};
    uint8_t many[] = {53, 1, 5, 6, 20, 1, 1, 1, 1, 2, 2, 2, 2,
                      3,  3, 3, 3, 4,  4, 4, 4, 5, 5, 5, 5, 255};
    uint8_t type2[] = {53, 2, 5, 5, 255};
    uint8_t mtu3[] = {53, 1, 5, 26, 3, 5, 220, 0, 54, 2, 1, 1, 255};
    struct dhcp_lease l;

    /* DNS not a multiple of 4, router of 3 bytes: ignored. */
    CHECK_EQ(dhcp_parse(b, reply(b, dns6, sizeof(dns6)), xid, mac, &l), 0);
    CHECK_EQ(l.nr_dns, 0);
    CHECK_EQ(l.router.s_addr, 0);
    /* Five DNS servers: the first three. */
    CHECK_EQ(dhcp_parse(b, reply(b, many, sizeof(many)), xid, mac, &l), 0);
    CHECK_EQ(l.nr_dns, DHCP_MAX_DNS);
    CHECK_EQ(l.dns[2].s_addr, ip("3.3.3.3").s_addr);
    /* A two-byte message type is no message type. */
    CHECK_EQ(dhcp_parse(b, reply(b, type2, sizeof(type2)), xid, mac, &l),
             -EINVAL);
    CHECK_EQ(dhcp_parse(b, reply(b, mtu3, sizeof(mtu3)), xid, mac, &l), 0);
    CHECK_EQ(l.mtu, DHCP_MTU_DEFAULT);
    CHECK_EQ(l.server.s_addr, 0);
}

static void test_rejected(void)
{
    uint8_t b[600], ok[] = {53, 1, 5, 255};
    uint8_t past[] = {53, 1, 5, 6, 8, 1, 2, 3, 4};    /* 8 claimed, 4 left */
    uint8_t nolen[] = {53, 1, 5, 6};                  /* code, no length */
    uint8_t notype[] = {1, 4, 255, 255, 255, 0, 255}; /* no option 53 */
    uint8_t other[6] = {1, 2, 3, 4, 5, 6};
    struct dhcp_lease l;
    size_t n = reply(b, ok, sizeof(ok));

    CHECK_EQ(dhcp_parse(b, n, xid, mac, &l), 0);
    CHECK_EQ(dhcp_parse(b, n, xid + 1, mac, &l), -EINVAL); /* wrong xid */
    CHECK_EQ(dhcp_parse(b, n, xid, other, &l), -EINVAL);   /* not our MAC */
    CHECK_EQ(dhcp_parse(b, 239, xid, mac, &l), -EINVAL);   /* truncated */
    CHECK_EQ(dhcp_parse(b, 240, xid, mac, &l), -EINVAL);   /* no options */
    b[0] = 1; /* a BOOTREQUEST (another client's DISCOVER) */
    CHECK_EQ(dhcp_parse(b, n, xid, mac, &l), -EINVAL);
    b[0] = 2, b[236] = 0x64; /* bad cookie */
    CHECK_EQ(dhcp_parse(b, n, xid, mac, &l), -EINVAL);
    b[236] = 0x63, b[2] = 16; /* hlen 16 */
    CHECK_EQ(dhcp_parse(b, n, xid, mac, &l), -EINVAL);
    CHECK_EQ(dhcp_parse(b, reply(b, past, sizeof(past)), xid, mac, &l),
             -EINVAL);
    CHECK_EQ(dhcp_parse(b, reply(b, nolen, sizeof(nolen)), xid, mac, &l),
             -EINVAL);
    CHECK_EQ(dhcp_parse(b, reply(b, notype, sizeof(notype)), xid, mac, &l),
             -EINVAL);
    /* Truncated in the middle of an option (the last byte cut off). */
    CHECK_EQ(dhcp_parse(b, reply(b, ok, 2), xid, mac, &l), -EINVAL);
}

/* The IPv4/UDP wrapping a packet socket hands over. */
static void test_udp_payload(void)
{
    uint8_t p[28 + 4] = {0x45, 0,  0, 32, 0,  0,  0x40, 0, 64,  17,  0,   0,
                         10,   9,  0, 1,  10, 9,  0,    2, /* src, dst */
                         0,    67, 0, 68, 0,  12, 0,    0, 'a', 'b', 'c', 'd'};
    const uint8_t *pl;
    size_t n;
    struct in_addr src;

    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), 0);
    CHECK(pl == p + 28);
    CHECK_EQ(n, 4);
    CHECK_EQ(src.s_addr, ip("10.9.0.1").s_addr);
    CHECK_EQ(dhcp_udp_payload(p, 31, &pl, &n, &src), -EINVAL); /* tot > len */
    p[25] = 13; /* UDP length past the IP packet */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    p[25] = 7; /* shorter than a UDP header */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    p[25] = 12, p[23] = 69; /* another port */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    p[23] = 68, p[9] = 6; /* TCP */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    p[9] = 17, p[6] = 0x20; /* more fragments */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    p[6] = 0x40, p[0] = 0x4f; /* IHL 60: options past the packet */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    p[0] = 0x65; /* IPv6 version nibble */
    CHECK_EQ(dhcp_udp_payload(p, sizeof(p), &pl, &n, &src), -EINVAL);
    CHECK_EQ(dhcp_udp_payload(p, 19, &pl, &n, &src), -EINVAL);
}

int main(void)
{
    RUN(test_discover_bytes);
    RUN(test_request_bytes);
    RUN(test_full_ack);
    RUN(test_defaults_and_clamps);
    RUN(test_bad_option_lengths);
    RUN(test_rejected);
    RUN(test_udp_payload);
    return t_done();
}
