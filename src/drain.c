/* drain.c: blocking writes with a stall timeout for the exit path. */
#define LOG_TAG "exit"
#include "drain.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t drain_write(struct drain *d, int fd, const void *buf, size_t len)
{
    int64_t last = now_ms();
    size_t done = 0;

    while (done < len && d->err == 0) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left;

        if (n > 0) {
            done += (size_t)n;
            last = now_ms();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN) {
            d->err = errno;
            break;
        }
        /* Full (or a 0-byte write): wait for room, at most the rest of the
         * stall budget.  POLLERR/POLLHUP make the next write fail. */
        left = last + d->stall_ms - now_ms();
        if (left <= 0 ||
            (poll(&pfd, 1, (int)left) == 0 && now_ms() - last >= d->stall_ms))
            d->err = ETIMEDOUT;
    }
    return done;
}

void drain_report(const struct drain *d, const char *who, size_t dropped)
{
    if (dropped && d->err == ETIMEDOUT)
        log_error("%s: %zu bytes of guest output dropped at exit: the output "
                  "fd took nothing for %d ms",
                  who, dropped, d->stall_ms);
    else if (dropped)
        log_warn("%s: %zu bytes of guest output dropped at exit: %s", who,
                 dropped, strerror(d->err));
}
