/* test_term: raw mode and its restoration, on a pseudo-terminal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "evloop.h"
#include "hostsig.h"
#include "t.h"
#include "term.h"

static int open_pty(int *master)
{
    *master = posix_openpt(O_RDWR | O_NOCTTY);
    if (*master < 0 || grantpt(*master) || unlockpt(*master))
        return -1;
    return open(ptsname(*master), O_RDWR | O_NOCTTY);
}

static bool canonical(int fd)
{
    struct termios t;

    return tcgetattr(fd, &t) == 0 && (t.c_lflag & ICANON);
}

static void test_raw_and_restore(void)
{
    int master, pty = open_pty(&master);
    unsigned short cols, rows;
    int fds[2] = {-1, pty};

    if (!CHECK(pty >= 0))
        return;
    CHECK(canonical(pty));
    CHECK_EQ(term_make_raw(pty, false), 0);
    CHECK(!canonical(pty));
    CHECK_EQ(term_make_raw(STDIN_FILENO, false) == 0, isatty(STDIN_FILENO));
    term_restore_all();
    CHECK(canonical(pty));
    term_restore_all(); /* idempotent */
    CHECK(canonical(pty));
    CHECK_EQ(term_make_raw(master + 100, false), -ENOTTY);
    CHECK_EQ(term_size(fds, 2, &cols, &rows), pty);
    close(pty);
    close(master);
}

/* A VMM killed by SIGTERM puts the terminal back first. */
static void test_fatal_signal_restores(void)
{
    int master, pty = open_pty(&master), st = 0;
    pid_t pid;

    if (!CHECK(pty >= 0))
        return;
    pid = fork();
    if (pid == 0) {
        struct evloop loop;
        struct hostsig hs = {0};

        signal(SIGTERM, SIG_DFL);
        if (evloop_init(&loop, "t") || term_make_raw(pty, false) ||
            hostsig_setup(&hs, &loop, NULL, false))
            _exit(3);
        if (canonical(pty))
            _exit(4);
        raise(SIGTERM);
        _exit(5);
    }
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    CHECK(canonical(pty));
    close(pty);
    close(master);
}

int main(void)
{
    RUN(test_raw_and_restore);
    RUN(test_fatal_signal_restores);
    return t_done();
}
