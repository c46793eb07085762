/*
 * log.h: the library's logger.  Levels follow krun_set_log_level(): 0 off,
 * 1 error, 2 warn, 3 info, 4 debug, 5 trace.  Each .c file defines LOG_TAG
 * before including this header; records look like
 *   [  0.123456 ckrun ERROR virtio-blk] request past end of disk
 * and go to the configured fd (stderr by default).  Thread-safe.
 */
#ifndef KRUN_LOG_H
#define KRUN_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
    LOG_OFF = 0,
    LOG_ERROR = 1,
    LOG_WARN = 2,
    LOG_INFO = 3,
    LOG_DEBUG = 4,
    LOG_TRACE = 5,
};

#ifndef LOG_TAG
#define LOG_TAG "krun"
#endif

/* Set the level (values above LOG_TRACE mean trace), the output fd (-1 =
 * stderr; the logger owns any fd > 2) and whether to colour the level. */
void log_configure(unsigned level, int fd, bool color);
/* True if records at (level) are currently written. */
bool log_enabled(enum log_level level);

/* The fd records go to (stderr unless krun_set_log_level's file).  Any
 * thread, async-signal-safe: for writers that cannot take the log lock. */
int log_fd(void);
/* Write one record.  Use the macros below. */
void log_write(enum log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like log_write, but at most a few records per second per call site
 * (*state is that site's static bookkeeping); for anything a guest can
 * trigger. */
void log_write_ratelimited(uint64_t *state, enum log_level level,
                           const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(...) log_write(LOG_ERROR, LOG_TAG, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, LOG_TAG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, LOG_TAG, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, LOG_TAG, __VA_ARGS__)
#define log_trace(...) log_write(LOG_TRACE, LOG_TAG, __VA_ARGS__)
#define log_ratelimited(level, ...)                                            \
    do {                                                                       \
        static uint64_t log_rl_state_;                                         \
        log_write_ratelimited(&log_rl_state_, level, LOG_TAG, __VA_ARGS__);    \
    } while (0)

#endif /* KRUN_LOG_H */
