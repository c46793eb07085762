/*
 * console.h: the test guest's multiport virtio-console driver (virtio 1.2
 * §5.3).  One device, polled: con_poll() handles control messages, and the
 * read/write helpers call it while they wait.
 */
#ifndef KRUN_TESTS_GUEST_CONSOLE_H
#define KRUN_TESTS_GUEST_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

#define CON_MAX_PORTS  8
#define CON_NAME_MAX   64
#define CON_RX_BUFS    4
#define CON_RX_BUFSIZE 4096

struct con_port {
    unsigned id;
    char name[CON_NAME_MAX + 1]; /* from PORT_NAME; "" if none */
    bool added;                  /* PORT_ADD seen, PORT_READY sent */
    bool console;                /* CONSOLE_PORT seen */
    bool open_seen;              /* the host sent PORT_OPEN at least once */
    bool host_open;              /* the last PORT_OPEN value */
    struct vq rx, tx;
    uint8_t *rx_of[VQ_SIZE]; /* head descriptor -> its rx buffer */
};

/* Find, negotiate (MULTIPORT) and start the console; sends DEVICE_READY. */
const char *con_init(const char *cmdline);

/* Ports the device has (max_nr_ports, capped at CON_MAX_PORTS). */
unsigned con_nports(void);
struct con_port *con_port(unsigned id);

/* Handle the control messages that arrived. */
void con_poll(void);

/* Poll until every port has sent PORT_OPEN; false on timeout. */
bool con_wait_all_open(void);

/* Poll until a port named (name) appears; NULL on timeout. */
struct con_port *con_wait_name(const char *name);

/* Tell the device the guest opened / closed (p) (PORT_OPEN 1/0). */
void con_set_open(struct con_port *p, bool open);

/*
 * Send the chain (b, n) (all device-readable) on (p), first waiting for
 * enough free descriptors.  The buffers must stay untouched until
 * con_tx_flush(); the device only reads them, so chains may share them.
 */
bool con_tx(struct con_port *p, const struct vbuf *b, unsigned n);

/* Wait until the device has consumed every tx buffer of (p). */
bool con_tx_flush(struct con_port *p);

/* Reset the device (status 0), as Linux does to every virtio device when it
 * shuts down for a reboot. */
void con_reset(void);

/*
 * The next rx buffer the device filled on (p): its head (for con_rx_give)
 * with (*data, *len) pointing into it; -1 if none is there now.
 */
int con_rx_take(struct con_port *p, const uint8_t **data, uint32_t *len);

/* Give rx buffer (head) back to the device. */
void con_rx_give(struct con_port *p, int head);

#endif /* KRUN_TESTS_GUEST_CONSOLE_H */
