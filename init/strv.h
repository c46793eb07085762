/*
 * strv.h: growable NULL-terminated string vectors, used for the workload's
 * argv and environment ("KEY=VALUE" entries).
 */
#ifndef KRUN_INIT_STRV_H
#define KRUN_INIT_STRV_H

#include <stdbool.h>
#include <stddef.h>

struct strv {
    char **v; /* NULL-terminated once anything was pushed; may be NULL */
    size_t n; /* entries, not counting the terminator */
};

/* Append a copy of (s). Returns 0 or -ENOMEM. */
int strv_push(struct strv *sv, const char *s);
/* Append copies of every entry of the NULL-terminated (src). 0 or -ENOMEM. */
int strv_push_all(struct strv *sv, const char *const src[]);
/* Free every entry and the vector; leaves (sv) empty. */
void strv_free(struct strv *sv);

/* Value of (key) in an environment vector, or NULL. */
const char *env_get(const struct strv *env, const char *key);
/*
 * Set (key) to (value) in (env): replaces an existing entry if (overwrite),
 * else leaves it alone. Returns 0 or -ENOMEM.
 */
int env_set(struct strv *env, const char *key, const char *value,
            bool overwrite);

#endif /* KRUN_INIT_STRV_H */
