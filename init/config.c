/* config.c: the workload's argv, env and workdir from cmdline env + file. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "json.h"

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t err_len,
                                                     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (err_len)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/*
 * The first of (names) found in "process", the top level or "config", in
 * that order; (path) receives its dotted name for messages.
 */
static const struct json *lookup(const struct json *root,
                                 const char *const names[], char *path,
                                 size_t path_len)
{
    static const char *const scopes[] = {"process", NULL, "config"};

    for (size_t s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++) {
        const struct json *obj = scopes[s] ? json_get(root, scopes[s]) : root;

        if (!obj || obj->type != JSON_OBJECT)
            continue;
        for (size_t i = 0; names[i]; i++) {
            const struct json *v = json_get(obj, names[i]);

            if (!v)
                continue;
            snprintf(path, path_len, "%.*s%s%s", obj == root ? 0 : 16,
                     obj == root ? "" : obj->key, obj == root ? "" : ".",
                     v->key);
            return v;
        }
    }
    return NULL;
}

static int check_string(const struct json *v, const char *path, char *err,
                        size_t err_len)
{
    if (v->type != JSON_STRING)
        return bad(err, err_len, "%s: expected a string, got %s", path,
                   json_type_name(v->type));
    if (strlen(v->str) != v->len)
        return bad(err, err_len, "%s: \"%s\" contains a NUL byte", path,
                   v->str);
    return 0;
}

/* An array of strings (null = absent) appended to (out). */
static int get_strings(const struct json *v, const char *path, struct strv *out,
                       char *err, size_t err_len)
{
    char item[96];
    size_t i = 0;

    if (!v || v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_ARRAY)
        return bad(err, err_len, "%s: expected an array of strings, got %s",
                   path, json_type_name(v->type));
    for (const struct json *c = v->child; c; c = c->next, i++) {
        int rc;

        snprintf(item, sizeof(item), "%s[%zu]", path, i);
        rc = check_string(c, item, err, err_len);
        if (!rc && strv_push(out, c->str))
            rc = -ENOMEM;
        if (rc)
            return rc;
    }
    return 0;
}

/* "cwd"/"WorkingDir": a string; null or "" = absent. */
static int get_cwd(const struct json *v, const char *path, char **out,
                   char *err, size_t err_len)
{
    int rc;

    if (!v || v->type == JSON_NULL)
        return 0;
    rc = check_string(v, path, err, err_len);
    if (rc || !v->len)
        return rc;
    *out = strdup(v->str);
    return *out ? 0 : -ENOMEM;
}

static bool is_string(const struct json *v, const char *s)
{
    return v && v->type == JSON_STRING && !strcmp(v->str, s);
}

/* OCI "mounts": collect destinations of type "tmpfs", source "tmpfs". */
static int get_tmpfs(const struct json *v, const char *path, struct strv *out,
                     char *err, size_t err_len)
{
    size_t i = 0;

    if (!v || v->type == JSON_NULL)
        return 0;
    if (v->type != JSON_ARRAY)
        return bad(err, err_len, "%s: expected an array, got %s", path,
                   json_type_name(v->type));
    for (const struct json *m = v->child; m; m = m->next, i++) {
        const struct json *dest;

        if (m->type != JSON_OBJECT)
            return bad(err, err_len, "%s[%zu]: expected an object, got %s",
                       path, i, json_type_name(m->type));
        if (!is_string(json_get(m, "type"), "tmpfs") ||
            !is_string(json_get(m, "source"), "tmpfs"))
            continue;
        dest = json_get(m, "destination");
        if (!dest || dest->type != JSON_STRING || dest->str[0] != '/' ||
            strlen(dest->str) != dest->len)
            return bad(err, err_len,
                       "%s[%zu].destination: expected an absolute path", path,
                       i);
        if (strv_push(out, dest->str))
            return -ENOMEM;
    }
    return 0;
}

/* Entrypoint, then args/Cmd: Entrypoint alone if there are no args. */
static int get_argv(const struct json *root, struct file_config *fc, char *err,
                    size_t err_len)
{
    static const char *const ep_names[] = {"entrypoint", NULL};
    static const char *const arg_names[] = {"args", "cmd", NULL};
    char path[64];
    const struct json *v;
    int rc;

    v = lookup(root, ep_names, path, sizeof(path));
    rc = get_strings(v, path, &fc->args, err, err_len);
    if (rc)
        return rc;
    v = lookup(root, arg_names, path, sizeof(path));
    return get_strings(v, path, &fc->args, err, err_len);
}

int config_parse(const char *text, size_t len, struct file_config *fc,
                 char *err, size_t err_len)
{
    static const char *const env_names[] = {"env", NULL};
    static const char *const cwd_names[] = {"cwd", "workingdir", NULL};
    static const char *const mount_names[] = {"mounts", NULL};
    struct json *root;
    char path[64];
    int rc;

    rc = json_parse(text, len, &root, err, err_len);
    if (rc)
        return rc;
    if (root->type != JSON_OBJECT) {
        rc = bad(err, err_len, "the document is %s %s, not an object",
                 root->type == JSON_ARRAY ? "an" : "a",
                 json_type_name(root->type));
        goto out;
    }
    rc = get_argv(root, fc, err, err_len);
    if (!rc)
        rc = get_strings(lookup(root, env_names, path, sizeof(path)), path,
                         &fc->env, err, err_len);
    if (!rc)
        rc = get_cwd(lookup(root, cwd_names, path, sizeof(path)), path,
                     &fc->cwd, err, err_len);
    if (!rc)
        rc = get_tmpfs(lookup(root, mount_names, path, sizeof(path)), path,
                       &fc->tmpfs, err, err_len);
out:
    json_free(root);
    if (rc)
        file_config_free(fc);
    return rc;
}

/* Read a whole regular file of at most JSON_MAX_INPUT bytes. */
static int read_file(int fd, const char *path, char **out, size_t *out_len,
                     char *err, size_t err_len)
{
    struct stat st;
    size_t n = 0;
    char *buf;

    if (fstat(fd, &st))
        return bad(err, err_len, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bad(err, err_len, "%s: not a regular file", path);
    if ((unsigned long long)st.st_size > JSON_MAX_INPUT)
        return bad(err, err_len, "%s: %lld bytes is larger than %u", path,
                   (long long)st.st_size, JSON_MAX_INPUT);
    buf = malloc(st.st_size + 1);
    if (!buf)
        return -ENOMEM;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, st.st_size - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return bad(err, err_len, "%s: %s", path,
                       r ? strerror(errno) : "file shrank while reading");
        }
        n += r;
    }
    *out = buf;
    *out_len = n;
    return 0;
}

int config_load(const char *path, struct file_config *fc, char *err,
                size_t err_len)
{
    char *text = NULL, msg[200];
    size_t len = 0;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        if (rc != -ENOENT)
            bad(err, err_len, "%s: %s", path, strerror(-rc));
        return rc;
    }
    rc = read_file(fd, path, &text, &len, err, err_len);
    close(fd);
    if (rc)
        return rc;
    rc = config_parse(text, len, fc, msg, sizeof(msg));
    if (rc && err_len)
        snprintf(err, err_len, "%s: %s", path, msg);
    free(text);
    return rc;
}

/* File env entries: only new keys, except HOME and TERM. */
static int merge_env(struct strv *env, const struct strv *add)
{
    for (size_t i = 0; i < add->n; i++) {
        char *eq = strchr(add->v[i], '='), *key;
        bool force;
        int rc;

        if (!eq || eq == add->v[i])
            continue;
        key = strndup(add->v[i], eq - add->v[i]);
        if (!key)
            return -ENOMEM;
        force = !strcmp(key, "HOME") || !strcmp(key, "TERM");
        rc = env_set(env, key, eq + 1, force);
        free(key);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_env(struct strv *env, const char *const envp[],
                     const struct file_config *fc)
{
    static const char *const renames[][2] = {{"KRUN_HOME", "HOME"},
                                             {"KRUN_TERM", "TERM"}};

    if (strv_push_all(env, envp) || (fc && merge_env(env, &fc->env)))
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(renames) / sizeof(renames[0]); i++) {
        const char *v = env_get(env, renames[i][0]);
        char *copy = v ? strdup(v) : NULL;
        int rc;

        if (!v)
            continue;
        rc = copy ? env_set(env, renames[i][1], copy, true) : -ENOMEM;
        free(copy);
        if (rc)
            return rc;
    }
    return 0;
}

static int build_argv(struct strv *out, const struct strv *env, int argc,
                      const char *const argv[], const struct file_config *fc)
{
    const char *init = env_get(env, "KRUN_INIT");

    if (init && *init) {
        if (strv_push(out, init))
            return -ENOMEM;
        return argc > 1 ? strv_push_all(out, argv + 1) : 0;
    }
    if (fc && fc->args.n)
        return strv_push_all(out, (const char *const *)fc->args.v);
    if (argc > 1)
        return strv_push_all(out, argv + 1);
    return strv_push(out, CONFIG_DEFAULT_SHELL);
}

int config_build(struct init_config *cfg, const char *const envp[], int argc,
                 const char *const argv[], const struct file_config *fc)
{
    const char *wd;

    if (build_env(&cfg->env, envp, fc) ||
        build_argv(&cfg->argv, &cfg->env, argc, argv, fc) ||
        (fc && strv_push_all(&cfg->tmpfs, (const char *const *)fc->tmpfs.v)))
        goto nomem;
    wd = env_get(&cfg->env, "KRUN_WORKDIR");
    if (!wd || !*wd)
        wd = fc ? fc->cwd : NULL;
    if (wd && !(cfg->workdir = strdup(wd)))
        goto nomem;
    return 0;
nomem:
    init_config_free(cfg);
    return -ENOMEM;
}

void file_config_free(struct file_config *fc)
{
    strv_free(&fc->args);
    strv_free(&fc->env);
    strv_free(&fc->tmpfs);
    free(fc->cwd);
    fc->cwd = NULL;
}

void init_config_free(struct init_config *cfg)
{
    strv_free(&cfg->argv);
    strv_free(&cfg->env);
    strv_free(&cfg->tmpfs);
    free(cfg->workdir);
    cfg->workdir = NULL;
}
