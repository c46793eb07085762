/* strv.c: NULL-terminated string vectors and environment lookups. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

int strv_push(struct strv *sv, const char *s)
{
    char *copy = strdup(s);
    char **v;

    if (!copy)
        return -ENOMEM;
    v = realloc(sv->v, (sv->n + 2) * sizeof(*v));
    if (!v) {
        free(copy);
        return -ENOMEM;
    }
    v[sv->n++] = copy;
    v[sv->n] = NULL;
    sv->v = v;
    return 0;
}

int strv_push_all(struct strv *sv, const char *const src[])
{
    for (size_t i = 0; src && src[i]; i++)
        if (strv_push(sv, src[i]))
            return -ENOMEM;
    return 0;
}

void strv_free(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

/* Index of the entry for (key) (length key_len), or -1. */
static long env_find(const struct strv *env, const char *key, size_t key_len)
{
    for (size_t i = 0; i < env->n; i++)
        if (!strncmp(env->v[i], key, key_len) && env->v[i][key_len] == '=')
            return (long)i;
    return -1;
}

const char *env_get(const struct strv *env, const char *key)
{
    size_t n = strlen(key);
    long i = env_find(env, key, n);

    return i < 0 ? NULL : env->v[i] + n + 1;
}

int env_set(struct strv *env, const char *key, const char *value,
            bool overwrite)
{
    size_t n = strlen(key);
    long i = env_find(env, key, n);
    char *entry;

    if (i >= 0 && !overwrite)
        return 0;
    if (asprintf(&entry, "%s=%s", key, value) < 0)
        return -ENOMEM;
    if (i < 0) {
        int rc = strv_push(env, entry);

        free(entry);
        return rc;
    }
    free(env->v[i]);
    env->v[i] = entry;
    return 0;
}
