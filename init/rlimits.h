/*
 * rlimits.h: KRUN_RLIMITS, a comma-separated list of "ID=CUR:MAX" (or
 * "ID:CUR:MAX") items where ID is the numeric Linux RLIMIT_* resource,
 * optionally wrapped in double quotes (libkrun-behaviour.md §4.2 step 12).
 */
#ifndef KRUN_INIT_RLIMITS_H
#define KRUN_INIT_RLIMITS_H

#include <stddef.h>
#include <sys/resource.h>

struct rlimit_item {
    int resource;        /* RLIMIT_* */
    struct rlimit limit; /* soft (cur) and hard (max) */
};

/*
 * Parse the next item at (*cursor), a position inside a KRUN_RLIMITS value,
 * and advance it past the item. Returns 1 with (out) filled, 0 at the end,
 * or -EINVAL with (err) naming the bad item (the cursor still advances, so
 * the caller can go on with the next item).
 */
int rlimits_next(const char **cursor, struct rlimit_item *out, char *err,
                 size_t err_len);

/*
 * Apply every valid item of (spec) with setrlimit(); bad items and failed
 * calls are reported on stderr and skipped. Returns the number of failures.
 */
int rlimits_apply(const char *spec);

#endif /* KRUN_INIT_RLIMITS_H */
