/* log.c: the process-wide logger behind log.h. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static struct {
    unsigned level;
    int fd;
    bool color;
    struct timespec start;
} logger = {.level = LOG_ERROR, .fd = -1};
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"OFF",  "ERROR", "WARN",
                                          "INFO", "DEBUG", "TRACE"};
static const char *const level_colors[] = {"", "31", "33", "32", "36", "35"};

void log_configure(unsigned level, int fd, bool color)
{
    pthread_mutex_lock(&log_lock);
    if (logger.fd > 2 && logger.fd != fd)
        close(logger.fd);
    logger.level = level > LOG_TRACE ? LOG_TRACE : level;
    logger.fd = fd;
    logger.color = color;
    pthread_mutex_unlock(&log_lock);
}

bool log_enabled(enum log_level level)
{
    return level != LOG_OFF &&
           (unsigned)level <= __atomic_load_n(&logger.level, __ATOMIC_RELAXED);
}

int log_fd(void)
{
    int fd = __atomic_load_n(&logger.fd, __ATOMIC_RELAXED);

    return fd < 0 ? STDERR_FILENO : fd;
}

static __attribute__((format(printf, 3, 0))) void
log_vwrite(enum log_level level, const char *tag, const char *fmt, va_list ap)
{
    char buf[1024];
    struct timespec now;
    int n, fd, saved_errno = errno; /* callers log and then test errno */
    double t;

    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&log_lock);
    if (logger.start.tv_sec == 0 && logger.start.tv_nsec == 0)
        logger.start = now;
    t = (double)(now.tv_sec - logger.start.tv_sec) +
        (double)(now.tv_nsec - logger.start.tv_nsec) / 1e9;
    fd = logger.fd < 0 ? STDERR_FILENO : logger.fd;
    if (logger.color)
        n = snprintf(buf, sizeof(buf), "[%10.6f ckrun \033[%sm%s\033[0m %s] ",
                     t, level_colors[level], level_names[level], tag);
    else
        n = snprintf(buf, sizeof(buf), "[%10.6f ckrun %s %s] ", t,
                     level_names[level], tag);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    if ((size_t)n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    /* One write() per record, so that concurrent records never interleave. */
    if (write(fd, buf, (size_t)n) < 0) {
        /* Nowhere left to report a logging failure. */
    }
    pthread_mutex_unlock(&log_lock);
    errno = saved_errno;
}

void log_write(enum log_level level, const char *tag, const char *fmt, ...)
{
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    log_vwrite(level, tag, fmt, ap);
    va_end(ap);
}

/* At most 10 records per second per call site. */
#define RATELIMIT_BURST 10

void log_write_ratelimited(uint64_t *state, enum log_level level,
                           const char *tag, const char *fmt, ...)
{
    struct timespec now;
    uint64_t second, old, count;
    va_list ap;

    if (!log_enabled(level))
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    second = (uint64_t)now.tv_sec;
    /* state packs (second << 8 | count-in-that-second). */
    old = __atomic_load_n(state, __ATOMIC_RELAXED);
    count = (old >> 8) == second ? (old & 0xff) + 1 : 1;
    if (count > RATELIMIT_BURST)
        return;
    __atomic_store_n(state, second << 8 | count, __ATOMIC_RELAXED);
    va_start(ap, fmt);
    log_vwrite(level, tag, fmt, ap);
    va_end(ap);
}
