/* term.c: raw mode for host terminals and its restoration (see term.h). */
#include "term.h"

#include <errno.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

#define TERM_MAX 8

static struct {
    int fd;
    struct termios mode;
} saved[TERM_MAX];
static unsigned int nsaved; /* entries [0, nsaved) are valid */
static pthread_mutex_t term_lock = PTHREAD_MUTEX_INITIALIZER;

int term_make_raw(int fd, bool keep_isig)
{
    struct termios old, raw;
    int rc = 0;

    if (fd < 0 || !isatty(fd))
        return -ENOTTY;
    if (tcgetattr(fd, &old) < 0)
        return -errno;
    raw = old;
    cfmakeraw(&raw);
    if (keep_isig)
        raw.c_lflag |= ISIG;
    pthread_mutex_lock(&term_lock);
    if (nsaved == TERM_MAX) {
        rc = -ENOSPC;
    } else if (tcsetattr(fd, TCSANOW, &raw) < 0) {
        rc = -errno;
    } else {
        saved[nsaved].fd = fd;
        saved[nsaved].mode = old;
        __atomic_store_n(&nsaved, nsaved + 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&term_lock);
    return rc;
}

void term_restore_all(void)
{
    /* No lock: this may run in a signal handler or while another thread is
     * inside term_make_raw(); exchanging the count makes it idempotent. */
    unsigned int n = __atomic_exchange_n(&nsaved, 0, __ATOMIC_ACQ_REL);

    while (n-- > 0)
        tcsetattr(saved[n].fd, TCSANOW, &saved[n].mode);
}

int term_size(const int *fds, unsigned int n, unsigned short *cols,
              unsigned short *rows)
{
    struct winsize ws;

    for (unsigned int i = 0; i < n; i++) {
        if (fds[i] >= 0 && isatty(fds[i]) &&
            ioctl(fds[i], TIOCGWINSZ, &ws) == 0) {
            *cols = ws.ws_col;
            *rows = ws.ws_row;
            return fds[i];
        }
    }
    *cols = 0;
    *rows = 0;
    return -1;
}
