/* hostfd.c: non-blocking host fds, restored at exit (hostfd.h). */
#include <fcntl.h>

#include "hostfd.h"
#include "log.h"

static struct {
    int fd;
    int flags;
} saved[HOSTFD_MAX];
static unsigned int nr_saved;

void hostfd_set_nonblock(int fd)
{
    int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
    unsigned int i;

    if (fl < 0)
        return;
    for (i = 0; i < nr_saved && saved[i].fd != fd; i++)
        ;
    if (i == nr_saved) {
        if (nr_saved < HOSTFD_MAX)
            saved[nr_saved++] = (typeof(saved[0])){fd, fl};
        else
            log_debug("fd %d: more than %d host fds made non-blocking; this "
                      "one stays non-blocking after the VM",
                      fd, HOSTFD_MAX);
    }
    if (!(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void hostfd_restore(void)
{
    while (nr_saved > 0) {
        nr_saved--;
        fcntl(saved[nr_saved].fd, F_SETFL, saved[nr_saved].flags);
    }
}
