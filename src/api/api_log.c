/*
 * api_log.c: krun_set_log_level and krun_init_log on top of log.h.
 *
 * Environment overrides (unless KRUN_LOG_OPTION_NO_ENV): RUST_LOG uses
 * env_logger's syntax, of which ckrun understands the global level only: the
 * last comma-separated item that is a level word (off, error, warn, info,
 * debug, trace; any case) or a digit 0-5.  Per-module items ("a=debug") are
 * ignored, and so is a RUST_LOG without a global level.  RUST_LOG_STYLE is
 * "auto", "always" or "never".  Unlike upstream, both functions may be called
 * any number of times; each call reconfigures the logger.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "libkrun.h"

#include "log.h"
#include "util.h"

static const char *const level_words[] = {"off",  "error", "warn",
                                          "info", "debug", "trace"};
static const char *const style_words[] = {"auto", "always", "never"};

/* Index of (s, len) in (words), or -1. */
static int word_index(const char *s, size_t len, const char *const *words,
                      size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
            return (int)i;
    }
    if (len == 1 && s[0] >= '0' && (size_t)(s[0] - '0') < nr)
        return s[0] - '0';
    return -1;
}

/* The global level RUST_LOG sets, or (level) if it sets none. */
static uint32_t env_level(uint32_t level)
{
    const char *s = getenv("RUST_LOG");

    while (s && *s) {
        size_t len = strcspn(s, ",");
        int i = word_index(s, len, level_words, ARRAY_SIZE(level_words));

        if (i >= 0)
            level = (uint32_t)i;
        s += len + (s[len] == ',');
    }
    return level;
}

/* The style RUST_LOG_STYLE sets, or (style). */
static uint32_t env_style(uint32_t style)
{
    const char *s = getenv("RUST_LOG_STYLE");
    int i = s ? word_index(s, strlen(s), style_words, 3) : -1;

    /* Digits are not a style. */
    return i >= 0 && (s[0] < '0' || s[0] > '9') ? (uint32_t)i : style;
}

static void configure(int fd, uint32_t level, uint32_t style, bool use_env)
{
    bool color;

    if (use_env) {
        level = env_level(level);
        style = env_style(style);
    }
    if (style == KRUN_LOG_STYLE_AUTO)
        color = isatty(fd < 0 ? STDERR_FILENO : fd) == 1;
    else
        color = style == KRUN_LOG_STYLE_ALWAYS;
    log_configure(level, fd, color);
}

KRUN_API int32_t krun_set_log_level(uint32_t level)
{
    configure(-1, level, KRUN_LOG_STYLE_AUTO, true);
    return 0;
}

KRUN_API int32_t krun_init_log(int target_fd, uint32_t level, uint32_t style,
                               uint32_t options)
{
    if (target_fd < KRUN_LOG_TARGET_DEFAULT || target_fd == STDIN_FILENO)
        return -EINVAL;
    if (style > KRUN_LOG_STYLE_NEVER || (options & ~KRUN_LOG_OPTION_NO_ENV))
        return -EINVAL;
    configure(target_fd == STDERR_FILENO ? -1 : target_fd, level, style,
              !(options & KRUN_LOG_OPTION_NO_ENV));
    return 0;
}
