/* test_log.c: the logger's record format and its errno contract. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

/* Read what the logger wrote to (fd) into (buf); returns its length. */
static ssize_t drain(int fd, char *buf, size_t len)
{
    ssize_t n = read(fd, buf, len - 1);

    buf[n > 0 ? n : 0] = '\0';
    return n;
}

/* A record is "[   t.tttttt ckrun LEVEL tag] message\n", one write. */
static void test_record_format(void)
{
    char buf[256];
    int p[2];

    CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    log_configure(LOG_INFO, p[1], false);
    log_write(LOG_INFO, "tag", "x=%d", 42);
    log_write(LOG_DEBUG, "tag", "not written");
    CHECK_EQ(drain(p[0], buf, sizeof(buf)), 33);
    CHECK(buf[0] == '[' && buf[11] == ' ');
    CHECK(strcmp(buf + 12, "ckrun INFO tag] x=42\n") == 0);
    log_configure(LOG_OFF, -1, false); /* closes p[1] */
    close(p[0]);
}

/* Callers log and then look at errno (return -errno; "%m" twice). */
static void test_errno_preserved(void)
{
    char buf[256];
    int p[2], ro;

    CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    log_configure(LOG_WARN, p[1], false);
    errno = ENOENT;
    log_write(LOG_WARN, "t", "first: %m");
    CHECK_EQ(errno, ENOENT);
    log_write(LOG_WARN, "t", "again: %m");
    CHECK_EQ(errno, ENOENT);
    CHECK(drain(p[0], buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "t] first: No such file or directory\n") != NULL);
    CHECK(strstr(buf, "t] again: No such file or directory\n") != NULL);

    /* A failing write(2) (EBADF on a read-only fd) must not leak either. */
    ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(ro > 2);
    log_configure(LOG_WARN, ro, false);
    errno = EXDEV;
    log_write(LOG_WARN, "t", "lost");
    CHECK_EQ(errno, EXDEV);
    errno = EXDEV;
    log_ratelimited(LOG_WARN, "lost too");
    CHECK_EQ(errno, EXDEV);
    log_configure(LOG_OFF, -1, false);
    close(p[0]);
}

int main(void)
{
    RUN(test_record_format);
    RUN(test_errno_preserved);
    return t_done();
}
