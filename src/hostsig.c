/* hostsig.c: SIGWINCH/SIGINT to the console, SIGPIPE ignored (hostsig.h). */
#define LOG_TAG "hostsig"
#include "hostsig.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "term.h"
#include "util.h"
#include "virtio/console.h"

static void hostsig_ready(struct ev_source *src, uint32_t events)
{
    struct hostsig *hs = container_of(src, struct hostsig, src);
    const int stdio[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
    struct signalfd_siginfo si;
    unsigned short cols, rows;

    while (read(src->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (!hs->console)
            continue;
        if (si.ssi_signo == SIGWINCH && term_size(stdio, 3, &cols, &rows) >= 0)
            console_resize(hs->console, cols, rows);
        else if (si.ssi_signo == SIGINT)
            console_inject(hs->console, "\x03", 1);
    }
}

/* A fatal signal while a terminal is raw: put it back, then die of it. */
static void hostsig_fatal(int sig)
{
    term_restore_all();
    raise(sig); /* SA_RESETHAND: the default action now */
}

static void hostsig_catch_fatal(void)
{
    static const int fatal[] = {SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa = {.sa_handler = hostsig_fatal,
                           .sa_flags = (int)SA_RESETHAND};
    struct sigaction old;

    for (size_t i = 0; i < ARRAY_SIZE(fatal); i++) {
        /* Leave alone what the caller handles or ignores. */
        if (sigaction(fatal[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            sigaction(fatal[i], &sa, NULL);
    }
}

int hostsig_setup(struct hostsig *hs, struct evloop *loop,
                  struct virtio_dev *console, bool forward_sigint)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (forward_sigint)
        sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, &hs->old_mask) != 0)
        return -EINVAL;
    hs->old_sigpipe = signal(SIGPIPE, SIG_IGN);
    hostsig_catch_fatal();
    hs->active = true;
    hs->console = console;
    hs->src.fn = hostsig_ready;
    hs->src.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (hs->src.fd < 0)
        return -errno;
    return evloop_add(loop, &hs->src, EPOLLIN);
}

void hostsig_undo(struct hostsig *hs, struct evloop *loop)
{
    if (!hs->active)
        return;
    if (hs->src.fd >= 0) {
        evloop_del(loop, &hs->src);
        close(hs->src.fd);
    }
    signal(SIGPIPE, hs->old_sigpipe);
    pthread_sigmask(SIG_SETMASK, &hs->old_mask, NULL);
    hs->active = false;
}
