/*
 * console_tests.c: virtio-console through the real device.  con_names
 * prints the ports the device announced; con_out streams the pattern to a
 * named port (flush=0: and exits without waiting for the host to take
 * it, reset=1: after a device reset); con_in reads a port until the host's
 * PORT_OPEN 0 (EOF). Byte counts and FNV-1a checksums go to COM1 for the host
 * to compare.
 */
#include "console.h"
#include "guest.h"
#include "tests.h"

static void put_port(const struct con_port *p)
{
    put_str("port ");
    put_dec(p->id);
    put_str(" console=");
    put_dec(p->console);
    put_str(" open=");
    put_dec(p->host_open);
    put_str(" name=[");
    put_str(p->name);
    put_str("]\n");
}

/* Wait for every name of the comma-separated list (names). */
static const char *wait_names(char *names)
{
    char *n = names;

    while (*n) {
        char *end = n;

        while (*end && *end != ',')
            end++;
        char sep = *end;
        *end = 0;
        if (!con_wait_name(n))
            return "a port name did not arrive";
        n = sep ? end + 1 : end;
    }
    return NULL;
}

GUEST_TEST(test_con_names)
{
    char names[128] = "";
    const char *why = con_init(c);

    if (why)
        return why;
    put_str("ports=");
    put_dec(con_nports());
    put_char('\n');
    if (!con_wait_all_open())
        return "not every port was opened by the host";
    cmdline_arg(c, "names=", names, sizeof(names));
    why = wait_names(names);
    for (unsigned i = 0; i < con_nports(); i++)
        put_port(con_port(i));
    return why;
}

static struct con_port *named_port(const char *c, const char *dflt)
{
    char name[CON_NAME_MAX + 1];

    if (!cmdline_arg(c, "port=", name, sizeof(name)))
        memcpy(name, dflt, str_len(dflt) + 1);
    return con_wait_name(name);
}

/*
 * The output stream (tests/kvm/pattern.h): chains of an 8-byte sequence
 * number (le64) and OUT_REPEAT copies of one OUT_BLOCK-byte pattern block.
 * The block is built once and shared by every chain in flight, so the
 * guest does almost no per-byte work.
 */
#define OUT_BLOCK  16384
#define OUT_REPEAT 3

GUEST_TEST(test_con_out)
{
    static uint8_t block[OUT_BLOCK];
    static uint64_t seq[VQ_SIZE];
    uint64_t chains = cmdline_num(c, "chains=", 16);
    const char *why = con_init(c);
    struct con_port *p = why ? NULL : named_port(c, "krun-stdout");
    struct vbuf b[1 + OUT_REPEAT];

    if (why)
        return why;
    if (!p)
        return "no such port";
    for (uint32_t i = 0; i < OUT_BLOCK; i++)
        block[i] = pattern_byte(i);
    for (unsigned k = 0; k < OUT_REPEAT; k++)
        b[1 + k] = (struct vbuf){block, OUT_BLOCK, false};
    for (uint64_t n = 0; n < chains; n++) {
        /* A slot is reused VQ_SIZE chains later, long after it completed:
         * each chain takes 1 + OUT_REPEAT descriptors. */
        seq[n % VQ_SIZE] = n;
        b[0] = (struct vbuf){&seq[n % VQ_SIZE], 8, false};
        if (!con_tx(p, b, 1 + OUT_REPEAT))
            return "tx queue stuck";
    }
    put_str("out chains=");
    put_dec(chains);
    put_str(" bytes=");
    put_dec(chains * (8 + OUT_REPEAT * OUT_BLOCK));
    put_char('\n');
    /* flush=0: exit with the last chains still in the ring, unread by the
     * host, like a workload whose last write() was just before exit;
     * reset=1: and reset the device first, as Linux's reboot does. */
    if (cmdline_num(c, "flush=", 1) == 0) {
        if (cmdline_num(c, "reset=", 0))
            con_reset();
        return NULL;
    }
    return con_tx_flush(p) ? NULL : "tx buffers not consumed";
}

GUEST_TEST(test_con_in)
{
    struct csum sum = {0};
    const char *why = con_init(c);
    struct con_port *p = why ? NULL : named_port(c, "krun-stdin");
    const uint8_t *data;
    uint32_t len;
    uint64_t spin = 0;
    int head;

    if (why)
        return why;
    if (!p || !con_wait_all_open())
        return "no such port";
    con_set_open(p, true);
    for (bool eof = false;;) {
        con_poll();
        /* PORT_OPEN 0 comes after the data: drain once more, then stop. */
        eof = eof || !p->host_open;
        head = con_rx_take(p, &data, &len);
        if (head >= 0) {
            csum_add(&sum, data, len);
            con_rx_give(p, head);
        } else if (eof) {
            break;
        } else if (++spin > VQ_SPINS) {
            return "neither data nor EOF";
        }
    }
    put_str("in ");
    csum_put(&sum);
    put_str("\nin eof=1\n");
    return NULL;
}

/*
 * Wait for the ^C byte the host's SIGINT becomes (stdin not a terminal) on
 * the console port; the host keeps sending SIGINT until the VM ends.
 */
GUEST_TEST(test_con_intr)
{
    const char *why = con_init(c);
    struct con_port *p = why ? NULL : con_port(0);
    const uint8_t *data;
    uint32_t len;
    int head;

    if (why)
        return why;
    if (!p || !con_wait_all_open())
        return "no console port";
    con_set_open(p, true);
    put_str("waiting for ^C\n");
    for (uint64_t spin = 0; spin < VQ_SPINS; spin++) {
        con_poll();
        head = con_rx_take(p, &data, &len);
        if (head < 0)
            continue;
        for (uint32_t i = 0; i < len; i++) {
            if (data[i] == 0x03) {
                put_str("got ^C\n");
                return NULL;
            }
        }
        con_rx_give(p, head);
    }
    return "no ^C arrived";
}
