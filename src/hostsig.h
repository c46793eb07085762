/*
 * hostsig.h: host signals the running VM turns into guest events, read
 * through a signalfd on the VMM loop (libkrun-behaviour.md §3.9):
 *  - SIGWINCH: the terminal's new size goes to the console (RESIZE);
 *  - SIGINT, when stdin is not a terminal: a ^C byte goes to the console's
 *    input instead of killing the VMM (with a terminal, raw mode already
 *    passes ^C through);
 *  - SIGPIPE is ignored: a closed output pipe is the console's EPIPE;
 *  - SIGTERM, SIGHUP, SIGQUIT (unless the caller handles them) restore the
 *    terminal before the process dies of them.
 */
#ifndef KRUN_HOSTSIG_H
#define KRUN_HOSTSIG_H

#include <signal.h>
#include <stdbool.h>

#include "evloop.h"

struct virtio_dev;

struct hostsig {
    struct ev_source src;       /* the signalfd; owner: the VMM loop */
    struct virtio_dev *console; /* the implicit console, or NULL */
    bool active;                /* set up: undo on a failed start */
    sigset_t old_mask;          /* the caller's mask before setup */
    void (*old_sigpipe)(int);
};

/*
 * Block the signals in the calling thread (threads created afterwards, such
 * as vCPUs, inherit the mask), watch them on (loop) and deliver them to
 * (console) (may be NULL: signals are then only absorbed).  (forward_sigint)
 * adds SIGINT.  Returns 0 or -errno.  Build thread, before vCPUs start.
 */
int hostsig_setup(struct hostsig *hs, struct evloop *loop,
                  struct virtio_dev *console, bool forward_sigint);

/*
 * Undo hostsig_setup() when the VM does not start after all: the caller's
 * signal mask and SIGPIPE disposition come back.  Build thread.
 */
void hostsig_undo(struct hostsig *hs, struct evloop *loop);

#endif /* KRUN_HOSTSIG_H */
