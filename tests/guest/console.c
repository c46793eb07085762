/*
 * console.c: multiport virtio-console driver for the test guest; see
 * console.h.  Queue numbers (virtio 1.2 §5.3.2): port 0 rx/tx = 0/1,
 * control rx/tx = 2/3, port p >= 1 rx/tx = 2 + 2p / 3 + 2p.
 */
#include "console.h"
#include "guest.h"

/* Feature bit and config layout (virtio 1.2 §5.3.3, §5.3.4). */
#define F_MULTIPORT     (1u << 1)
#define CFG_MAX_NR_PORT 4

/* Control events (virtio 1.2 §5.3.6.2). */
enum {
    DEVICE_READY = 0,
    DEVICE_ADD = 1,
    DEVICE_REMOVE = 2,
    PORT_READY = 3,
    CONSOLE_PORT = 4,
    RESIZE = 5,
    PORT_OPEN = 6,
    PORT_NAME = 7,
};

/* struct virtio_console_control, little endian (x86 is too). */
struct ctrl_msg {
    uint32_t id;
    uint16_t event, value;
};
_Static_assert(sizeof(struct ctrl_msg) == 8, "virtio 1.2 §5.3.6.2");

#define CTRL_BUFS    VQ_SIZE
#define CTRL_BUFSIZE (sizeof(struct ctrl_msg) + CON_NAME_MAX)

static struct {
    struct vdev dev;
    struct vq crx, ctx;
    unsigned nports;
    uint8_t cbuf[CTRL_BUFS][CTRL_BUFSIZE];
    uint8_t *crx_of[VQ_SIZE];
    struct con_port port[CON_MAX_PORTS];
} con;

static uint8_t rx_mem[CON_MAX_PORTS][CON_RX_BUFS][CON_RX_BUFSIZE];

static uint16_t rx_queue(unsigned port)
{
    return (uint16_t)(port == 0 ? 0 : 2 + 2 * port);
}

/* Give (buf) to (q) as one writable buffer; remember it by its head. */
static void post(struct vq *q, uint8_t **of, uint8_t *buf, uint32_t len)
{
    struct vbuf b = {buf, len, true};
    int head = vq_add(q, &b, 1);

    if (head >= 0)
        of[head] = buf;
}

static void ctrl_send(unsigned id, uint16_t event, uint16_t value)
{
    static struct ctrl_msg m;
    struct vbuf b = {&m, sizeof(m), false};

    m = (struct ctrl_msg){id, event, value};
    if (vq_call(&con.ctx, &b, 1) < 0)
        put_str("console: control message not consumed\n");
}

static void port_added(struct con_port *p)
{
    if (p->added)
        return;
    p->added = true;
    for (unsigned i = 0; i < CON_RX_BUFS; i++)
        post(&p->rx, p->rx_of, rx_mem[p->id][i], CON_RX_BUFSIZE);
    vq_kick(&p->rx);
    ctrl_send(p->id, PORT_READY, 1);
}

static void ctrl_handle(const struct ctrl_msg *m, uint32_t len)
{
    struct con_port *p = m->id < con.nports ? &con.port[m->id] : NULL;
    uint32_t n = len - (uint32_t)sizeof(*m);

    if (!p) {
        put_str("console: control message for a bad port\n");
        return;
    }
    if (m->event == DEVICE_ADD) {
        port_added(p);
    } else if (m->event == CONSOLE_PORT) {
        p->console = true;
    } else if (m->event == PORT_OPEN) {
        p->open_seen = true;
        p->host_open = m->value != 0;
    } else if (m->event == PORT_NAME) {
        n = n > CON_NAME_MAX ? CON_NAME_MAX : n;
        memcpy(p->name, m + 1, n);
        p->name[n] = 0;
    }
}

void con_poll(void)
{
    uint32_t len;
    int head;
    bool any = false;

    while ((head = vq_used(&con.crx, &len)) >= 0) {
        uint8_t *buf = con.crx_of[head];

        if (len >= sizeof(struct ctrl_msg) && len <= CTRL_BUFSIZE)
            ctrl_handle((const struct ctrl_msg *)buf, len);
        post(&con.crx, con.crx_of, buf, CTRL_BUFSIZE);
        any = true;
    }
    if (any) /* the device may hold messages until it has buffers */
        vq_kick(&con.crx);
}

static const char *setup_queues(void)
{
    const char *why = vq_setup(&con.dev, &con.crx, 2);

    if (!why)
        why = vq_setup(&con.dev, &con.ctx, 3);
    for (unsigned i = 0; !why && i < con.nports; i++) {
        struct con_port *p = &con.port[i];

        p->id = i;
        why = vq_setup(&con.dev, &p->rx, rx_queue(i));
        if (!why)
            why = vq_setup(&con.dev, &p->tx, (uint16_t)(rx_queue(i) + 1));
    }
    return why;
}

const char *con_init(const char *cmdline)
{
    const char *why = vdev_find(cmdline, VIRTIO_ID_CONSOLE, 0, &con.dev);

    if (!why)
        why = vdev_negotiate(&con.dev, F_MULTIPORT);
    if (why)
        return why;
    con.nports = vdev_cfg32(&con.dev, CFG_MAX_NR_PORT);
    if (con.nports == 0)
        return "max_nr_ports is 0";
    if (con.nports > CON_MAX_PORTS)
        con.nports = CON_MAX_PORTS;
    why = setup_queues();
    if (!why)
        why = vdev_ready(&con.dev);
    if (why)
        return why;
    for (unsigned i = 0; i < CTRL_BUFS; i++)
        post(&con.crx, con.crx_of, con.cbuf[i], CTRL_BUFSIZE);
    vq_kick(&con.crx);
    ctrl_send(0, DEVICE_READY, 1);
    return NULL;
}

unsigned con_nports(void)
{
    return con.nports;
}

struct con_port *con_port(unsigned id)
{
    return id < con.nports ? &con.port[id] : NULL;
}

bool con_wait_all_open(void)
{
    for (uint64_t spin = 0; spin < VQ_SPINS; spin++) {
        unsigned open = 0;

        con_poll();
        for (unsigned i = 0; i < con.nports; i++)
            open += con.port[i].open_seen;
        if (open == con.nports)
            return true;
    }
    return false;
}

struct con_port *con_wait_name(const char *name)
{
    for (uint64_t spin = 0; spin < VQ_SPINS; spin++) {
        con_poll();
        for (unsigned i = 0; i < con.nports; i++)
            if (str_ncmp(con.port[i].name, name, CON_NAME_MAX + 1) == 0)
                return &con.port[i];
    }
    return NULL;
}

void con_set_open(struct con_port *p, bool open)
{
    ctrl_send(p->id, PORT_OPEN, open);
}

bool con_tx(struct con_port *p, const struct vbuf *b, unsigned n)
{
    uint32_t len;

    while (p->tx.nr_free < n)
        if (vq_wait(&p->tx, &len, VQ_SPINS) < 0)
            return false;
    if (vq_add(&p->tx, b, n) < 0)
        return false;
    vq_kick(&p->tx);
    return true;
}

bool con_tx_flush(struct con_port *p)
{
    uint32_t len;

    while (p->tx.nr_free < VQ_SIZE)
        if (vq_wait(&p->tx, &len, VQ_SPINS) < 0)
            return false;
    return true;
}

void con_reset(void)
{
    vdev_reset(&con.dev);
}

int con_rx_take(struct con_port *p, const uint8_t **data, uint32_t *len)
{
    int head = vq_used(&p->rx, len);

    if (head < 0)
        return -1;
    *data = p->rx_of[head];
    if (*len > CON_RX_BUFSIZE)
        *len = CON_RX_BUFSIZE;
    return head;
}

void con_rx_give(struct con_port *p, int head)
{
    post(&p->rx, p->rx_of, p->rx_of[head], CON_RX_BUFSIZE);
    vq_kick(&p->rx);
}
