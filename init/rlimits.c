/* rlimits.c: parse and apply KRUN_RLIMITS. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rlimits.h"

/* A decimal unsigned 64-bit number spanning exactly [s, end). */
static bool parse_u64(const char *s, const char *end, unsigned long long *out)
{
    unsigned long long v = 0;

    if (s == end)
        return false;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (unsigned)(*s - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

static int parse_item(const char *s, const char *end, struct rlimit_item *out)
{
    const char *sep1 = memchr(s, '=', end - s), *sep2;
    unsigned long long id, cur, max;

    if (!sep1)
        sep1 = memchr(s, ':', end - s);
    if (!sep1)
        return -EINVAL;
    sep2 = memchr(sep1 + 1, ':', end - sep1 - 1);
    if (!sep2 || !parse_u64(s, sep1, &id) || id >= RLIM_NLIMITS ||
        !parse_u64(sep1 + 1, sep2, &cur) || !parse_u64(sep2 + 1, end, &max))
        return -EINVAL;
    out->resource = (int)id;
    out->limit.rlim_cur = cur;
    out->limit.rlim_max = max;
    return 0;
}

int rlimits_next(const char **cursor, struct rlimit_item *out, char *err,
                 size_t err_len)
{
    const char *s = *cursor, *end;
    int rc;

    while (*s == '"' || *s == ',' || *s == ' ')
        s++;
    if (!*s) {
        *cursor = s;
        return 0;
    }
    end = s + strcspn(s, ",\"");
    *cursor = end;
    rc = parse_item(s, end, out);
    if (rc && err_len)
        snprintf(err, err_len,
                 "bad rlimit \"%.*s\": expected ID=CUR:MAX with ID < %d",
                 (int)(end - s), s, RLIM_NLIMITS);
    return rc ? rc : 1;
}

int rlimits_apply(const char *spec)
{
    const char *cursor = spec;
    struct rlimit_item it;
    char err[160];
    int rc, failures = 0;

    while ((rc = rlimits_next(&cursor, &it, err, sizeof(err))) != 0) {
        if (rc < 0) {
            fprintf(stderr, "init: KRUN_RLIMITS: %s\n", err);
            failures++;
        } else if (setrlimit(it.resource, &it.limit)) {
            fprintf(stderr, "init: setrlimit(%d, %llu:%llu): %s\n", it.resource,
                    (unsigned long long)it.limit.rlim_cur,
                    (unsigned long long)it.limit.rlim_max, strerror(errno));
            failures++;
        }
    }
    return failures;
}
