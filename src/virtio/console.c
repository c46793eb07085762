/*
 * console.c: virtio-console, multiport (virtio 1.2 §5.3).  Queues: port 0
 * rx/tx = 0/1, control rx/tx = 2/3, port p rx/tx = 2+2p/3+2p.  All work
 * happens on the VMM loop under the device's qlock (see virtio.h).  Every
 * log record the guest can cause (control events, errors) is rate-limited.
 */
#define LOG_TAG "virtio-console"
#include "virtio/console.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_console.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "drain.h"
#include "evloop.h"
#include "iov.h"
#include "hostfd.h"
#include "log.h"
#include "term.h"
#include "util.h"
#include "virtio/virtio.h"

#define RX_BUF_SIZE  4096
#define LINE_MAX_LEN 256
#define CTRL_PENDING (4 * CONSOLE_MAX_PORTS + 8)
/* Per port: guest output a device reset took off the ring before out_fd
 * could take it.  Linux resets every virtio device on its way to reboot,
 * right after the workload's last write: at most a full ring (32 buffers of
 * at most 32 KiB from its driver), and a bound against a hostile guest. */
#define BACKLOG_MAX (2u << 20)

/* Control message header (virtio 1.2 §5.3.6.2), little endian. */
struct ctrl_hdr {
    uint32_t id;    /* le32 port */
    uint16_t event; /* le16 VIRTIO_CONSOLE_* */
    uint16_t value; /* le16 */
};
_Static_assert(sizeof(struct ctrl_hdr) == 8, "virtio 1.2 §5.3.6.2");

/* Device configuration layout (virtio 1.2 §5.3.4), little endian. */
struct console_config {
    uint16_t cols;         /* le16 */
    uint16_t rows;         /* le16 */
    uint32_t max_nr_ports; /* le32 */
    uint32_t emerg_wr;     /* le32, unused: F_EMERG_WRITE is not offered */
} __attribute__((packed));
_Static_assert(sizeof(struct console_config) == 12, "virtio 1.2 §5.3.4");

struct ctrl_msg {
    struct ctrl_hdr hdr;
    uint8_t payload[CONSOLE_NAME_MAX];
    uint32_t len; /* payload bytes */
};

/* Owner of every field: the VMM loop, under the device's qlock. */
struct port {
    struct console_dev *con;
    unsigned int id;
    struct console_port_cfg cfg;
    struct ev_source in_src;  /* cfg.in_fd, watched while guest_open */
    struct ev_source out_src; /* cfg.out_fd, watched while tx is blocked */
    bool in_watched, out_watched;
    bool guest_open; /* the driver opened the port (PORT_OPEN 1) */
    bool host_eof;   /* input reached EOF; PORT_OPEN 0 was queued */
    bool in_file;    /* in_fd cannot be polled (a file, /dev/null): always
                        ready, so it is read without epoll */
    uint8_t rx_buf[RX_BUF_SIZE]; /* input read, not yet in guest buffers */
    size_t rx_len, rx_off;
    bool tx_busy; /* tx_req is half written to a full out_fd */
    struct virtq_req tx_req;
    struct iov_iter tx_it;
    uint8_t *backlog; /* kept at a reset, written before any newer output */
    size_t backlog_off, backlog_len, backlog_cap;
    char line[LINE_MAX_LEN]; /* out_to_log: the unfinished line */
    size_t line_len;
};

struct console_dev {
    struct virtio_dev vdev;
    struct evloop *loop;
    struct console_config config;
    struct virtq_req req; /* scratch for control and rx requests */
    struct ctrl_msg pending[CTRL_PENDING]; /* to the driver, in order */
    unsigned int pending_head, pending_n;
    unsigned int nports;
    struct port ports[];
};

static unsigned int rx_queue(unsigned int port)
{
    return port == 0 ? 0 : 2 + 2 * port;
}

static struct console_dev *to_con(struct virtio_dev *dev)
{
    return container_of(dev, struct console_dev, vdev);
}

static bool live(struct console_dev *con)
{
    return con->vdev.active && !virtio_dev_failed(&con->vdev);
}

static void watch(struct port *p, struct ev_source *src, bool *watched,
                  uint32_t events, bool on)
{
    if (src->fd < 0 || *watched == on)
        return;
    if (on ? evloop_add(p->con->loop, src, events)
           : evloop_del(p->con->loop, src))
        log_ratelimited(LOG_WARN, "port %u: cannot %s fd %d", p->id,
                        on ? "watch" : "unwatch", src->fd);
    else
        *watched = on;
}

/* ---- control queue ------------------------------------------------------ */

/* Queue a message for the driver: header plus (len) bytes of (payload). */
static void ctrl_queue(struct console_dev *con, unsigned int id, uint16_t event,
                       uint16_t value, const void *payload, uint32_t len)
{
    struct ctrl_msg *m;

    if (con->pending_n == CTRL_PENDING) {
        log_ratelimited(LOG_WARN, "control queue overflow, event %u dropped",
                        event);
        return;
    }
    m = &con->pending[(con->pending_head + con->pending_n++) % CTRL_PENDING];
    m->hdr = (struct ctrl_hdr){htole32(id), htole16(event), htole16(value)};
    m->len = MIN(len, (uint32_t)sizeof(m->payload));
    if (m->len)
        memcpy(m->payload, payload, m->len);
}

/* Move queued control messages into the driver's control rx buffers. */
static void ctrl_flush(struct console_dev *con)
{
    struct virtq *vq = &con->vdev.vqs[2];
    struct iov_iter w;
    int rc = 0;

    while (con->pending_n > 0 && vq->ready &&
           (rc = virtq_pop(vq, &con->req)) > 0) {
        struct ctrl_msg *m = &con->pending[con->pending_head];
        size_t n;

        virtq_req_writer(&con->req, &w);
        n = iov_write(&w, &m->hdr, sizeof(m->hdr));
        n += iov_write(&w, m->payload, m->len);
        log_ratelimited(LOG_DEBUG, "to driver: event %u port %u value %u",
                        le16toh(m->hdr.event), le32toh(m->hdr.id),
                        le16toh(m->hdr.value));
        virtq_push(vq, con->req.head, (uint32_t)n);
        con->pending_head = (con->pending_head + 1) % CTRL_PENDING;
        con->pending_n--;
    }
    if (rc < 0)
        virtio_dev_fail(&con->vdev, "malformed control rx request");
    virtq_notify(vq);
}

static void port_deliver(struct port *p);

static void ctrl_port_ready(struct console_dev *con, struct port *p)
{
    if (p->cfg.console) {
        /* RESIZE's payload: le16 cols, le16 rows, as in the config. */
        ctrl_queue(con, p->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0);
        ctrl_queue(con, p->id, VIRTIO_CONSOLE_RESIZE, 0, &con->config, 4);
    }
    ctrl_queue(con, p->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
    if (p->cfg.name[0])
        ctrl_queue(con, p->id, VIRTIO_CONSOLE_PORT_NAME, 0, p->cfg.name,
                   (uint32_t)strnlen(p->cfg.name, sizeof(p->cfg.name)));
}

static void ctrl_handle(struct console_dev *con, const struct ctrl_hdr *h)
{
    uint32_t id = le32toh(h->id);
    uint16_t event = le16toh(h->event), value = le16toh(h->value);
    struct port *p = id < con->nports ? &con->ports[id] : NULL;

    log_ratelimited(LOG_DEBUG, "driver: event %u port %u value %u", event, id,
                    value);
    if (event == VIRTIO_CONSOLE_DEVICE_READY) {
        if (value != 1)
            log_ratelimited(LOG_WARN, "driver failed to initialise");
        for (unsigned int i = 0; value == 1 && i < con->nports; i++)
            ctrl_queue(con, i, VIRTIO_CONSOLE_PORT_ADD, 0, NULL, 0);
    } else if (!p) {
        log_ratelimited(LOG_WARN, "control event %u for bad port %u", event,
                        id);
    } else if (event == VIRTIO_CONSOLE_PORT_READY) {
        if (value == 1)
            ctrl_port_ready(con, p);
        else
            log_ratelimited(LOG_WARN, "driver could not add port %u", id);
    } else if (event == VIRTIO_CONSOLE_PORT_OPEN) {
        p->guest_open = value != 0;
        /* An output-only port (no input fd) never reports EOF: PORT_OPEN 0
         * would tell the driver the host went away, and its writes to the
         * port would block. */
        if (p->guest_open)
            port_deliver(p);
        else
            watch(p, &p->in_src, &p->in_watched, EPOLLIN, false);
    }
    /* Other driver events carry nothing we act on. */
}

static void ctrl_rx_from_driver(struct console_dev *con, struct virtq *vq)
{
    struct ctrl_hdr h;
    struct iov_iter r;
    int rc;

    while ((rc = virtq_pop(vq, &con->req)) > 0) {
        bool whole;

        virtq_req_reader(&con->req, &r);
        whole = iov_read(&r, &h, sizeof(h)) == sizeof(h);
        /* Give the buffer back first: handling reuses con->req. */
        virtq_push(vq, con->req.head, 0);
        if (whole)
            ctrl_handle(con, &h);
        else
            log_ratelimited(LOG_WARN, "short control message");
    }
    if (rc < 0)
        virtio_dev_fail(&con->vdev, "malformed control tx request");
    virtq_notify(vq);
}

/* ---- host -> guest ------------------------------------------------------ */

static bool port_read(struct port *p);

/* Copy buffered input into the port's rx buffers; stop watching the input
 * when the guest has no buffer left (its rx kick resumes it). */
static void port_deliver(struct port *p)
{
    struct console_dev *con = p->con;
    struct virtq *vq = &con->vdev.vqs[rx_queue(p->id)];
    struct iov_iter w;
    bool want;
    int rc = 0;

    do {
        while (p->rx_off < p->rx_len && vq->ready &&
               (rc = virtq_pop(vq, &con->req)) > 0) {
            size_t n;

            virtq_req_writer(&con->req, &w);
            n = iov_write(&w, p->rx_buf + p->rx_off, p->rx_len - p->rx_off);
            p->rx_off += n;
            virtq_push(vq, con->req.head, (uint32_t)n);
        }
        if (p->rx_off == p->rx_len)
            p->rx_off = p->rx_len = 0;
        want = p->guest_open && !p->host_eof && p->rx_len == 0 && rc >= 0;
        /* A file is always readable: read on while the guest has room. */
    } while (want && p->in_file && port_read(p));
    if (rc < 0)
        virtio_dev_fail(&con->vdev, "malformed rx request");
    virtq_notify(vq);
    watch(p, &p->in_src, &p->in_watched, EPOLLIN, want && !p->in_file);
}

/* Read host input into rx_buf; false at EOF or error (then the driver is
 * told with PORT_OPEN 0) or when nothing is available.  qlock held. */
static bool port_read(struct port *p)
{
    struct console_dev *con = p->con;
    ssize_t n = read(p->cfg.in_fd, p->rx_buf, sizeof(p->rx_buf));

    if (n > 0) {
        p->rx_len = (size_t)n;
        p->rx_off = 0;
        return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        p->host_eof = true;
        if (!p->cfg.console)
            ctrl_queue(con, p->id, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL, 0);
        ctrl_flush(con);
    }
    return false;
}

static void port_input_ready(struct ev_source *src, uint32_t events)
{
    struct port *p = container_of(src, struct port, in_src);
    struct console_dev *con = p->con;

    pthread_mutex_lock(&con->vdev.qlock);
    if (live(con) && p->rx_len == 0) {
        port_read(p);
        port_deliver(p);
    }
    pthread_mutex_unlock(&con->vdev.qlock);
}

/* ---- guest -> host ------------------------------------------------------ */

static void port_log_line(struct port *p)
{
    p->line[p->line_len] = '\0';
    log_info("guest: %s", p->line);
    p->line_len = 0;
}

/* Console text when stdout is not a terminal: one log record per line.  Not
 * rate-limited: this is the guest's console output itself (its boot log),
 * which the host asked for by not giving the console a terminal. */
static void port_log(struct port *p, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        bool eol = buf[i] == '\n';

        if (!eol && buf[i] != '\r')
            p->line[p->line_len++] = (char)buf[i];
        if (eol || p->line_len == sizeof(p->line) - 1)
            port_log_line(p);
    }
}

/* One write of (n) bytes to out_fd: the bytes it took, all (n) after an
 * error (dropped: nobody can take them), or -1 while the fd is full. */
static ssize_t port_out(struct port *p, const void *buf, size_t n)
{
    ssize_t done;

    do
        done = write(p->cfg.out_fd, buf, n);
    while (done < 0 && errno == EINTR);
    if (done < 0 && errno == EAGAIN)
        return -1;
    if (done < 0) {
        log_ratelimited(LOG_WARN, "port %u: output: %m; dropping", p->id);
        return (ssize_t)n;
    }
    return done;
}

/* Write the rest of tx_req; false if out_fd is full (retry on EPOLLOUT). */
static bool port_write(struct port *p)
{
    void *buf;
    size_t n;

    while ((n = iov_peek(&p->tx_it, &buf, SIZE_MAX)) > 0) {
        ssize_t done = (ssize_t)n;

        if (p->cfg.out_to_log)
            port_log(p, buf, n);
        else if (p->cfg.out_fd >= 0 && (done = port_out(p, buf, n)) < 0)
            return false;
        iov_skip(&p->tx_it, (size_t)done);
    }
    return true;
}

/* Write the backlog; false while out_fd is full. */
static bool port_write_backlog(struct port *p)
{
    while (p->backlog_off < p->backlog_len) {
        ssize_t done = port_out(p, p->backlog + p->backlog_off,
                                p->backlog_len - p->backlog_off);

        if (done < 0)
            return false;
        p->backlog_off += (size_t)done;
    }
    p->backlog_off = p->backlog_len = 0;
    return true;
}

/* Keep (len) bytes of guest output behind the backlog (reset path). */
static void port_keep(struct port *p, const uint8_t *buf, size_t len)
{
    size_t want;

    if (p->cfg.out_to_log)
        return port_log(p, buf, len);
    if (p->cfg.out_fd < 0)
        return;
    if (p->backlog_off > 0) {
        memmove(p->backlog, p->backlog + p->backlog_off,
                p->backlog_len - p->backlog_off);
        p->backlog_len -= p->backlog_off;
        p->backlog_off = 0;
    }
    want = p->backlog_len + MIN(len, BACKLOG_MAX - p->backlog_len);
    if (want > p->backlog_cap) {
        uint8_t *nb;

        want = MIN(MAX(want, 2 * p->backlog_cap), (size_t)BACKLOG_MAX);
        nb = realloc(p->backlog, want);

        if (nb) {
            p->backlog = nb;
            p->backlog_cap = want;
        }
    }
    if (len > p->backlog_cap - p->backlog_len)
        log_ratelimited(LOG_WARN,
                        "port %u: %zu bytes of output dropped at "
                        "a reset (backlog full)",
                        p->id, len - (p->backlog_cap - p->backlog_len));
    len = MIN(len, p->backlog_cap - p->backlog_len);
    if (len > 0)
        memcpy(p->backlog + p->backlog_len, buf, len);
    p->backlog_len += len;
}

/*
 * Hand (sink) every byte the guest gave the port and the host did not write
 * yet, in order: the rest of tx_req, then each request on the tx queue (at
 * most one queue's worth: a guest that keeps adding cannot hold us here),
 * pushed as used when (push).  Returns what the sinks return, summed.
 */
static size_t port_take_tx(struct port *p, bool push,
                           size_t (*sink)(struct port *p, const uint8_t *buf,
                                          size_t len, void *arg),
                           void *arg)
{
    struct virtq *vq = &p->con->vdev.vqs[rx_queue(p->id) + 1];
    bool can_pop = live(p->con) && vq->ready;
    size_t sum = 0;
    void *buf;
    size_t n;

    for (unsigned int i = 0; i <= vq->size; i++) {
        if (!p->tx_busy) {
            if (!can_pop || virtq_pop(vq, &p->tx_req) <= 0)
                break;
            virtq_req_reader(&p->tx_req, &p->tx_it);
        }
        p->tx_busy = false;
        while ((n = iov_peek(&p->tx_it, &buf, SIZE_MAX)) > 0) {
            sum += sink(p, buf, n, arg);
            iov_skip(&p->tx_it, n);
        }
        if (push)
            virtq_push(vq, p->tx_req.head, 0);
    }
    return sum;
}

static void port_tx(struct port *p, struct virtq *vq)
{
    bool backlog_out = port_write_backlog(p);
    int rc = 0;

    while (backlog_out) {
        if (!p->tx_busy) {
            rc = virtq_pop(vq, &p->tx_req);
            if (rc <= 0)
                break;
            virtq_req_reader(&p->tx_req, &p->tx_it);
            p->tx_busy = true;
        }
        if (!port_write(p))
            break;
        p->tx_busy = false;
        virtq_push(vq, p->tx_req.head, 0);
    }
    if (rc < 0)
        virtio_dev_fail(&p->con->vdev, "malformed tx request");
    virtq_notify(vq);
    watch(p, &p->out_src, &p->out_watched, EPOLLOUT,
          p->tx_busy || !backlog_out);
}

static size_t sink_keep(struct port *p, const uint8_t *buf, size_t len,
                        void *arg)
{
    port_keep(p, buf, len);
    return 0;
}

/* Exit path: write with waits; returns the bytes dropped. */
static size_t sink_drain(struct port *p, const uint8_t *buf, size_t len,
                         void *arg)
{
    if (p->cfg.out_to_log)
        port_log(p, buf, len);
    else if (p->cfg.out_fd >= 0)
        return len - drain_write(arg, p->cfg.out_fd, buf, len);
    return 0;
}

static size_t port_drain(struct port *p, int stall_ms)
{
    struct drain d = {.stall_ms = stall_ms};
    size_t dropped;
    char who[32];

    dropped = p->backlog_len ? sink_drain(p, p->backlog + p->backlog_off,
                                          p->backlog_len - p->backlog_off, &d)
                             : 0;
    p->backlog_off = p->backlog_len = 0;
    dropped += port_take_tx(p, true, sink_drain, &d);
    if (p->line_len > 0)
        port_log_line(p);
    snprintf(who, sizeof(who), "console port %u", p->id);
    drain_report(&d, who, dropped);
    return dropped;
}

size_t console_drain(struct virtio_dev *dev, int stall_ms)
{
    struct console_dev *con = to_con(dev);
    size_t dropped = 0;

    pthread_mutex_lock(&dev->qlock);
    for (unsigned int i = 0; i < con->nports; i++)
        dropped += port_drain(&con->ports[i], stall_ms);
    pthread_mutex_unlock(&dev->qlock);
    return dropped;
}

/* out_fd has room: the backlog first, then the queue if the device runs. */
static void port_output_ready(struct ev_source *src, uint32_t events)
{
    struct port *p = container_of(src, struct port, out_src);

    pthread_mutex_lock(&p->con->vdev.qlock);
    if (live(p->con))
        port_tx(p, &p->con->vdev.vqs[rx_queue(p->id) + 1]);
    else
        watch(p, &p->out_src, &p->out_watched, EPOLLOUT,
              !port_write_backlog(p));
    pthread_mutex_unlock(&p->con->vdev.qlock);
}

/* ---- device ------------------------------------------------------------- */

static void console_notify(struct virtio_dev *dev, struct virtq *vq)
{
    struct console_dev *con = to_con(dev);
    unsigned int q = vq->index;
    struct port *p;

    if (q == 2) {
        ctrl_flush(con);
        return;
    }
    if (q == 3) {
        ctrl_rx_from_driver(con, vq);
        ctrl_flush(con);
        return;
    }
    p = &con->ports[q < 2 ? 0 : (q - 2) / 2];
    if (q % 2 == 0)
        port_deliver(p);
    else
        port_tx(p, vq);
}

static void console_reset(struct virtio_dev *dev)
{
    struct console_dev *con = to_con(dev);

    con->pending_n = 0;
    for (unsigned int i = 0; i < con->nports; i++) {
        struct port *p = &con->ports[i];

        watch(p, &p->in_src, &p->in_watched, EPOLLIN, false);
        p->guest_open = false;
        /* The driver handed these bytes over (Linux resets on its way to
         * reboot): keep them for out_fd instead of dropping them. */
        port_take_tx(p, false, sink_keep, NULL);
        watch(p, &p->out_src, &p->out_watched, EPOLLOUT,
              !port_write_backlog(p));
    }
}

static void console_destroy(struct virtio_dev *dev)
{
    struct console_dev *con = to_con(dev);

    for (unsigned int i = 0; i < con->nports; i++) {
        struct port *p = &con->ports[i];

        watch(p, &p->in_src, &p->in_watched, EPOLLIN, false);
        watch(p, &p->out_src, &p->out_watched, EPOLLOUT, false);
        if (p->cfg.in_fd >= 0)
            close(p->cfg.in_fd);
        if (p->cfg.out_fd >= 0)
            close(p->cfg.out_fd);
        free(p->backlog);
    }
    free(con);
}

static const struct virtio_dev_ops console_ops = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .queue_max = CONSOLE_QUEUE_SIZE,
    .features = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_CONSOLE_F_SIZE |
                1ULL << VIRTIO_CONSOLE_F_MULTIPORT,
    .notify = console_notify,
    .reset = console_reset,
    .destroy = console_destroy,
};

/* epoll refuses regular files and /dev/null, which are always readable. */
static bool pollable(int fd)
{
    struct epoll_event ev = {.events = EPOLLIN};
    int ep = epoll_create1(EPOLL_CLOEXEC);
    bool ok =
        ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 || errno != EPERM;

    if (ep >= 0)
        close(ep);
    return ok;
}

int console_create(const struct guest_mem *gm, struct evloop *loop,
                   const struct console_port_cfg *ports, unsigned int nports,
                   struct virtio_dev **out)
{
    struct console_dev *con;
    int rc;

    if (nports == 0 || nports > CONSOLE_MAX_PORTS || !loop)
        return -EINVAL;
    con = calloc(1, sizeof(*con) + nports * sizeof(con->ports[0]));
    if (!con)
        return -ENOMEM;
    /* Queues: port 0 rx/tx, control rx/tx, then rx/tx per further port. */
    rc = virtio_dev_init(&con->vdev, &console_ops, 2 + 2 * nports, gm,
                         "console");
    if (rc < 0) {
        free(con);
        return rc;
    }
    con->loop = loop;
    con->nports = nports;
    con->config.max_nr_ports = htole32(nports);
    con->vdev.config = (uint8_t *)&con->config;
    con->vdev.config_len = sizeof(con->config);
    for (unsigned int i = 0; i < nports; i++) {
        struct port *p = &con->ports[i];

        p->con = con;
        p->id = i;
        p->cfg = ports[i];
        p->in_src = (struct ev_source){p->cfg.in_fd, port_input_ready};
        p->out_src = (struct ev_source){p->cfg.out_fd, port_output_ready};
        if (p->cfg.console && con->config.cols == 0) {
            con->config.cols = htole16(p->cfg.cols);
            con->config.rows = htole16(p->cfg.rows);
        }
        hostfd_set_nonblock(p->cfg.in_fd);
        p->in_file = p->cfg.in_fd >= 0 && !pollable(p->cfg.in_fd);
        hostfd_set_nonblock(p->cfg.out_fd);
    }
    *out = &con->vdev;
    return 0;
}

void console_resize(struct virtio_dev *dev, unsigned short cols,
                    unsigned short rows)
{
    struct console_dev *con = to_con(dev);
    uint16_t size[2] = {htole16(cols), htole16(rows)};

    virtio_dev_config_update(dev, 0, size, sizeof(size));
    pthread_mutex_lock(&dev->qlock);
    for (unsigned int i = 0; live(con) && i < con->nports; i++) {
        if (con->ports[i].cfg.console) {
            ctrl_queue(con, i, VIRTIO_CONSOLE_RESIZE, 0, size, sizeof(size));
            ctrl_flush(con);
        }
    }
    pthread_mutex_unlock(&dev->qlock);
}

void console_inject(struct virtio_dev *dev, const void *buf, size_t len)
{
    struct console_dev *con = to_con(dev);
    struct port *p = &con->ports[0];

    pthread_mutex_lock(&dev->qlock);
    if (live(con) && p->rx_len == 0 && len <= sizeof(p->rx_buf)) {
        memcpy(p->rx_buf, buf, len);
        p->rx_len = len;
        p->rx_off = 0;
        port_deliver(p);
    }
    pthread_mutex_unlock(&dev->qlock);
}

/* Add a port reading (in) and writing (out), dup'ed; -errno if dup fails. */
static int add_port(struct console_port_cfg *ports, unsigned int *n,
                    const char *name, int in, int out)
{
    struct console_port_cfg *c = &ports[(*n)++];

    *c = (struct console_port_cfg){.in_fd = -1, .out_fd = -1};
    snprintf(c->name, sizeof(c->name), "%s", name);
    if (in >= 0 && (c->in_fd = fcntl(in, F_DUPFD_CLOEXEC, 3)) < 0)
        return -errno;
    if (out >= 0 && (c->out_fd = fcntl(out, F_DUPFD_CLOEXEC, 3)) < 0)
        return -errno;
    return 0;
}

int console_autoconfig(int in, int out, int err, struct console_port_cfg *ports)
{
    bool in_tty = in >= 0 && isatty(in), out_tty = out >= 0 && isatty(out);
    int fds[3] = {in, out, err};
    unsigned int n = 0;
    int rc, tty;

    /* Port 0, the console: the terminal if there is one, else the log. */
    rc = add_port(ports, &n, "", in_tty ? in : -1, out_tty ? out : -1);
    ports[0].console = true;
    ports[0].out_to_log = !out_tty;
    if (rc == 0 && in >= 0 && !in_tty)
        rc = add_port(ports, &n, "krun-stdin", in, -1);
    if (rc == 0 && out >= 0 && !out_tty)
        rc = add_port(ports, &n, "krun-stdout", -1, out);
    if (rc == 0 && err >= 0 && !isatty(err))
        rc = add_port(ports, &n, "krun-stderr", -1, err);
    if (rc < 0) {
        for (unsigned int i = 0; i < n; i++) {
            if (ports[i].in_fd >= 0)
                close(ports[i].in_fd);
            if (ports[i].out_fd >= 0)
                close(ports[i].out_fd);
        }
        return rc;
    }
    tty = term_size(fds, 3, &ports[0].cols, &ports[0].rows);
    if (tty >= 0)
        term_make_raw(tty, !in_tty);
    return (int)n;
}
