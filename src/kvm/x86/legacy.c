/*
 * legacy.c: i8042 reset, 16550A UARTs (COM1-4) and CMOS memory size.
 * Register behaviour follows the TI/National PC16550D data sheet; only what
 * a kernel's 8250 driver and early console use is implemented.
 */
#define LOG_TAG "legacy"
#include "kvm/x86/legacy.h"
#include "bus.h"
#include "drain.h"
#include "evloop.h"
#include "kvm/kvm.h"
#include "kvm/x86/layout.h"
#include "hostfd.h"
#include "log.h"
#include "term.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define I8042_BASE      0x60
#define I8042_LEN       5
#define I8042_CMD_PORT  4 /* 0x64 */
#define I8042_CMD_RESET 0xfe
#define CMOS_BASE       0x70
#define CMOS_LEN        8

/* 16550 registers (offsets from the base port) and bits. */
enum {
    UART_RBR_THR,
    UART_IER,
    UART_IIR_FCR,
    UART_LCR,
    UART_MCR,
    UART_LSR,
    UART_MSR,
    UART_SCR
};
#define UART_IER_RDI      0x01
#define UART_IER_THRI     0x02
#define UART_IIR_NONE     0x01
#define UART_IIR_THRI     0x02
#define UART_IIR_RDI      0x04
#define UART_IIR_FIFO     0xc0
#define UART_FCR_ENABLE   0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_LCR_DLAB     0x80
#define UART_MCR_LOOP     0x10
#define UART_LSR_DR       0x01
#define UART_LSR_THRE     0x20
#define UART_LSR_TEMT     0x40
#define UART_MSR_IDLE     0xb0 /* DCD | DSR | CTS */
#define UART_FIFO         64
#define UART_TX_BUF       4096 /* output the host fd has not taken yet */

struct uart {
    struct legacy *lg;
    uint16_t port;
    uint8_t irq;
    int in_fd, out_fd;       /* -1 when absent; out_fd is our own dup */
    struct ev_source in_src; /* input watch, owner: the VMM loop */
    bool in_watched, in_eof;
    struct ev_source out_src; /* out_fd, watched while tx holds bytes */
    /* Registers, protected by lg->lock. */
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    bool thri_pending; /* THR-empty interrupt not yet acknowledged */
    uint8_t rx[UART_FIFO];
    unsigned int rx_head, rx_len;
    /* Transmit buffer, protected by lg->lock: the guest's bytes in order
     * while out_fd is full.  THR reads empty while a FIFO's worth fits. */
    bool out_watched;
    uint8_t tx[UART_TX_BUF];
    unsigned int tx_head, tx_len;
};

struct legacy {
    struct kvm *kvm;
    struct evloop *loop;
    struct legacy_cfg cfg;
    pthread_mutex_t lock; /* UART registers, IRQ levels, CMOS index */
    struct uart com[4];
    uint8_t irq_level[16];
    uint8_t cmos_index;
};

static const struct {
    uint16_t port;
    uint8_t irq;
} com_ports[4] = {
    {0x3f8, LAYOUT_IRQ_COM1_3},
    {0x2f8, LAYOUT_IRQ_COM2_4},
    {0x3e8, LAYOUT_IRQ_COM1_3},
    {0x2e8, LAYOUT_IRQ_COM2_4},
};

/* ---- 16550 ------------------------------------------------------------ */

/* The guest may write a FIFO's worth (what the 8250 driver writes per
 * THR-empty interrupt) without overrunning the buffer. */
static bool uart_thr_empty(const struct uart *u)
{
    return u->tx_len <= UART_TX_BUF - UART_FIFO;
}

static uint8_t uart_iir(const struct uart *u)
{
    uint8_t fifo = (u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

    if ((u->ier & UART_IER_RDI) && u->rx_len)
        return fifo | UART_IIR_RDI;
    if ((u->ier & UART_IER_THRI) && u->thri_pending)
        return fifo | UART_IIR_THRI;
    return fifo | UART_IIR_NONE;
}

/* Drive the UART's IRQ line: the OR of every UART sharing it. Locked. */
static void uart_update_irq(struct uart *u)
{
    struct legacy *lg = u->lg;
    uint8_t level = 0;

    for (unsigned int i = 0; i < ARRAY_SIZE(lg->com); i++)
        if (lg->com[i].irq == u->irq &&
            !(uart_iir(&lg->com[i]) & UART_IIR_NONE))
            level = 1;
    if (level != lg->irq_level[u->irq]) {
        lg->irq_level[u->irq] = level;
        kvm_irq_line(lg->kvm, u->irq, level);
    }
}

static void uart_watch_input(struct uart *u, bool on)
{
    if (u->in_fd < 0 || u->in_eof || u->in_watched == on)
        return;
    if (on ? evloop_add(u->lg->loop, &u->in_src, EPOLLIN) == 0
           : evloop_del(u->lg->loop, &u->in_src) == 0)
        u->in_watched = on;
}

static void uart_watch_output(struct uart *u, bool on)
{
    if (u->out_watched == on)
        return;
    if (on ? evloop_add(u->lg->loop, &u->out_src, EPOLLOUT) == 0
           : evloop_del(u->lg->loop, &u->out_src) == 0)
        u->out_watched = on;
    else
        log_ratelimited(LOG_WARN, "serial %#x: cannot %s output fd: %m",
                        u->port, on ? "watch" : "unwatch");
}

/* Write what the transmit buffer holds until out_fd is full (then wait for
 * EPOLLOUT).  A write error drops the buffer: nobody can take it.  Locked. */
static void uart_flush(struct uart *u)
{
    while (u->tx_len > 0) {
        unsigned int n = MIN(u->tx_len, UART_TX_BUF - u->tx_head);
        ssize_t done = write(u->out_fd, u->tx + u->tx_head, n);

        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0 && errno == EAGAIN)
            break;
        if (done < 0) {
            log_ratelimited(LOG_WARN,
                            "serial %#x: output: %m; %u bytes dropped", u->port,
                            u->tx_len);
            done = u->tx_len;
        }
        u->tx_head = (u->tx_head + (unsigned int)done) % UART_TX_BUF;
        u->tx_len -= (unsigned int)done;
    }
    if (u->tx_len == 0)
        u->tx_head = 0;
    uart_watch_output(u, u->tx_len > 0);
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
    if (u->mcr & UART_MCR_LOOP) {
        if (u->rx_len < UART_FIFO)
            u->rx[(u->rx_head + u->rx_len++) % UART_FIFO] = byte;
    } else if (u->out_fd >= 0 && u->tx_len == UART_TX_BUF) {
        /* The guest ignored THRE (an early console times out waiting). */
        log_ratelimited(LOG_WARN, "serial %#x: output fd full, byte dropped",
                        u->port);
    } else if (u->out_fd >= 0) {
        u->tx[(u->tx_head + u->tx_len++) % UART_TX_BUF] = byte;
        if (!u->out_watched) /* else EPOLLOUT comes first */
            uart_flush(u);
    }
    /* THR-empty again at once, unless the host fd is behind. */
    u->thri_pending = uart_thr_empty(u);
}

static uint8_t uart_read_rbr(struct uart *u)
{
    uint8_t b = 0;

    if (u->rx_len) {
        b = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % UART_FIFO;
        u->rx_len--;
        if (u->rx_len == 0)
            uart_watch_input(u, true);
    }
    return b;
}

static uint8_t uart_read(struct uart *u, unsigned int reg)
{
    uint8_t v;

    switch (reg) {
    case UART_RBR_THR:
        return (u->lcr & UART_LCR_DLAB) ? u->dll : uart_read_rbr(u);
    case UART_IER:
        return (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
    case UART_IIR_FCR:
        v = uart_iir(u);
        if ((v & 0x0f) == UART_IIR_THRI)
            u->thri_pending = false; /* reading IIR acknowledges THRE */
        return v;
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        return (uart_thr_empty(u) ? UART_LSR_THRE : 0) |
               (u->tx_len == 0 ? UART_LSR_TEMT : 0) |
               (u->rx_len ? UART_LSR_DR : 0);
    case UART_MSR:
        return (u->mcr & UART_MCR_LOOP) ? (uint8_t)((u->mcr & 0x0f) << 4)
                                        : UART_MSR_IDLE;
    default:
        return u->scr;
    }
}

static void uart_write(struct uart *u, unsigned int reg, uint8_t v)
{
    bool dlab = u->lcr & UART_LCR_DLAB;

    switch (reg) {
    case UART_RBR_THR:
        if (dlab)
            u->dll = v;
        else
            uart_transmit(u, v);
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = v;
        } else {
            /* Enabling THRI with an empty THR raises it (16550D). */
            if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI) &&
                uart_thr_empty(u))
                u->thri_pending = true;
            u->ier = v & 0x0f;
        }
        break;
    case UART_IIR_FCR:
        u->fcr = v;
        if (v & UART_FCR_CLEAR_RX)
            u->rx_len = 0;
        break;
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR:
        u->mcr = v & 0x1f;
        break;
    case UART_SCR:
        u->scr = v;
        break;
    default: /* LSR and MSR are read-only */
        break;
    }
}

static void uart_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
                    bool is_write)
{
    struct uart *u = opaque;

    pthread_mutex_lock(&u->lg->lock);
    for (uint32_t i = 0; i < len && off + i < 8; i++) {
        if (is_write)
            uart_write(u, (unsigned int)(off + i), data[i]);
        else
            data[i] = uart_read(u, (unsigned int)(off + i));
    }
    uart_update_irq(u);
    pthread_mutex_unlock(&u->lg->lock);
}

/* COM1 input is readable: fill the receive FIFO (VMM loop thread). */
static void uart_input_ready(struct ev_source *src, uint32_t events)
{
    struct uart *u = container_of(src, struct uart, in_src);
    uint8_t buf[UART_FIFO];
    ssize_t n;

    pthread_mutex_lock(&u->lg->lock);
    n = read(u->in_fd, buf, UART_FIFO - u->rx_len);
    if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
        uart_watch_input(u, false);
        u->in_eof = true; /* EOF or error: stop watching for good */
    }
    for (ssize_t i = 0; i < n; i++)
        u->rx[(u->rx_head + u->rx_len++) % UART_FIFO] = buf[i];
    if (u->rx_len == UART_FIFO)
        uart_watch_input(u, false);
    uart_update_irq(u);
    pthread_mutex_unlock(&u->lg->lock);
}

/* out_fd has room again (VMM loop thread). */
static void uart_output_ready(struct ev_source *src, uint32_t events)
{
    struct uart *u = container_of(src, struct uart, out_src);
    bool was_empty;

    pthread_mutex_lock(&u->lg->lock);
    was_empty = uart_thr_empty(u);
    uart_flush(u);
    if (!was_empty && uart_thr_empty(u))
        u->thri_pending = true; /* THR-empty again: the driver goes on */
    uart_update_irq(u);
    pthread_mutex_unlock(&u->lg->lock);
}

/* ---- i8042 and CMOS ----------------------------------------------------- */

static void i8042_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
                     bool is_write)
{
    struct legacy *lg = opaque;

    if (!is_write) {
        memset(data, 0, len); /* status 0: input buffer empty, no data */
        return;
    }
    if (off == I8042_CMD_PORT && data[0] == I8042_CMD_RESET) {
        log_debug("i8042 reset requested by the guest");
        lg->cfg.reset(lg->cfg.opaque);
    }
}

uint8_t legacy_cmos_mem_reg(const struct legacy_cfg *cfg, uint8_t reg)
{
    uint64_t mid =
        cfg->low_end > (16ULL << 20) ? (cfg->low_end - (16ULL << 20)) >> 16 : 0;
    uint64_t high =
        cfg->high_end > LAYOUT_4G ? (cfg->high_end - LAYOUT_4G) >> 16 : 0;

    mid = MIN(mid, 0xffffULL);
    high = MIN(high, 0xffffffULL);
    switch (reg) {
    case 0x34: /* 64 KiB blocks between 16 MiB and the gap */
        return (uint8_t)mid;
    case 0x35:
        return (uint8_t)(mid >> 8);
    case 0x5b: /* 64 KiB blocks above 4 GiB */
        return (uint8_t)high;
    case 0x5c:
        return (uint8_t)(high >> 8);
    case 0x5d:
        return (uint8_t)(high >> 16);
    default: /* clock registers read 0: the guest uses kvmclock */
        return 0;
    }
}

static void cmos_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
                    bool is_write)
{
    struct legacy *lg = opaque;

    pthread_mutex_lock(&lg->lock);
    if (off == 0 && is_write) {
        lg->cmos_index = data[0] & 0x7f; /* bit 7 is the NMI mask */
    } else if (off == 1 && !is_write) {
        data[0] = legacy_cmos_mem_reg(&lg->cfg, lg->cmos_index);
        memset(data + 1, 0, len - 1);
    } else if (!is_write) {
        memset(data, 0xff, len);
    }
    pthread_mutex_unlock(&lg->lock);
}

/* ---- setup -------------------------------------------------------------- */

static void uart_init(struct legacy *lg, unsigned int i, int in_fd, int out_fd)
{
    struct uart *u = &lg->com[i];

    u->lg = lg;
    u->port = com_ports[i].port;
    u->irq = com_ports[i].irq;
    u->in_fd = in_fd;
    /* Our own fd for the output watch: epoll takes an fd once, and the
     * caller's may also be an input (or another UART's output). */
    u->out_fd = out_fd >= 0 ? fcntl(out_fd, F_DUPFD_CLOEXEC, 3) : -1;
    if (out_fd >= 0 && u->out_fd < 0)
        log_warn("serial %#x: cannot dup output fd %d: %s; output discarded",
                 u->port, out_fd, strerror(errno));
    /* Never block a vCPU on a full host fd: tx[] holds the bytes. */
    if (u->out_fd >= 0)
        hostfd_set_nonblock(u->out_fd); /* shares the caller's flags */
    u->in_src = (struct ev_source){.fd = in_fd, .fn = uart_input_ready};
    u->out_src = (struct ev_source){.fd = u->out_fd, .fn = uart_output_ready};
    u->mcr = 0x08; /* OUT2 */
}

static int legacy_register(struct legacy *lg, struct bus *pio)
{
    int rc = bus_register(pio, I8042_BASE, I8042_LEN, i8042_io, lg);

    if (rc == 0)
        rc = bus_register(pio, CMOS_BASE, CMOS_LEN, cmos_io, lg);
    for (unsigned int i = 0; rc == 0 && i < ARRAY_SIZE(lg->com); i++)
        rc = bus_register(pio, lg->com[i].port, 8, uart_io, &lg->com[i]);
    return rc;
}

static void close_com_fds(const struct legacy_cfg *cfg)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(cfg->com_in); i++) {
        if (cfg->com_in[i] >= 0)
            close(cfg->com_in[i]);
        if (cfg->com_out[i] >= 0 && cfg->com_out[i] != cfg->com_in[i])
            close(cfg->com_out[i]);
    }
}

int legacy_create(struct legacy **out, struct kvm *kvm, struct bus *pio,
                  struct evloop *loop, const struct legacy_cfg *cfg)
{
    struct legacy *lg = calloc(1, sizeof(*lg));
    int rc;

    if (!lg) {
        close_com_fds(cfg);
        return -ENOMEM;
    }
    lg->kvm = kvm;
    lg->loop = loop;
    lg->cfg = *cfg;
    pthread_mutex_init(&lg->lock, NULL);
    for (unsigned int i = 0; i < ARRAY_SIZE(lg->com); i++)
        uart_init(lg, i, cfg->com_in[i], cfg->com_out[i]);
    rc = legacy_register(lg, pio);
    if (rc < 0) {
        legacy_destroy(lg);
        return rc;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(lg->com); i++) {
        struct uart *u = &lg->com[i];

        if (u->in_fd < 0)
            continue;
        if (isatty(u->in_fd))
            term_make_raw(u->in_fd, false); /* restored by term_restore_all */
        uart_watch_input(u, true);
        if (!u->in_watched)
            log_warn("serial input fd %d cannot be polled; ignored", u->in_fd);
    }
    *out = lg;
    return 0;
}

void legacy_destroy(struct legacy *lg)
{
    if (!lg)
        return;
    for (unsigned int i = 0; i < ARRAY_SIZE(lg->com); i++) {
        uart_watch_input(&lg->com[i], false);
        uart_watch_output(&lg->com[i], false);
        if (lg->com[i].out_fd >= 0)
            close(lg->com[i].out_fd);
    }
    close_com_fds(&lg->cfg);
    pthread_mutex_destroy(&lg->lock);
    free(lg);
}

size_t legacy_drain(struct legacy *lg, int stall_ms)
{
    size_t dropped = 0;

    pthread_mutex_lock(&lg->lock);
    for (unsigned int i = 0; i < ARRAY_SIZE(lg->com); i++) {
        struct uart *u = &lg->com[i];
        struct drain d = {.stall_ms = stall_ms};
        size_t lost = 0;
        char who[32];

        while (u->tx_len > 0) {
            unsigned int n = MIN(u->tx_len, UART_TX_BUF - u->tx_head);

            lost += n - drain_write(&d, u->out_fd, u->tx + u->tx_head, n);
            u->tx_head = (u->tx_head + n) % UART_TX_BUF;
            u->tx_len -= n;
        }
        snprintf(who, sizeof(who), "serial %#x", u->port);
        drain_report(&d, who, lost);
        dropped += lost;
    }
    pthread_mutex_unlock(&lg->lock);
    return dropped;
}
