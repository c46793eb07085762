/* cmdline.c: the guest kernel command line (see cmdline.h). */
#define LOG_TAG "cmdline"
#include "cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "libkrun.h"
#include "log.h"

/* Upstream's builder capacity; the guest keeps only CMDLINE_GUEST_MAX. */
#define CMDLINE_CAP 0x10000

struct line {
    char buf[CMDLINE_CAP];
    size_t len;
    unsigned int envs; /* K=V tokens init will get as environment */
    unsigned int args; /* words init will get as arguments */
    int err;           /* first error, sticky */
};

static void fail(struct line *l, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct line *l, int err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (l->err)
        return;
    l->err = err;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_error("%s", msg);
}

static void add(struct line *l, const char *s)
{
    size_t n = strlen(s);

    if (l->err)
        return;
    if (n >= sizeof(l->buf) - l->len) {
        fail(l, -E2BIG, "kernel command line longer than %d bytes",
             CMDLINE_CAP);
        return;
    }
    memcpy(l->buf + l->len, s, n + 1);
    l->len += n;
}

/* How a value goes on the line. */
enum shape {
    RAW,    /* verbatim (a caller's whole command line) */
    QUOTED, /* inside double quotes: no '"' */
    BARE,   /* one unquoted token: no ' ' */
};

/* (s) may go on the line as (shape): printable ASCII and the rule above. */
static bool printable(struct line *l, const char *what, const char *s,
                      enum shape shape)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20 || c > 0x7e || (shape == QUOTED && c == '"') ||
            (shape == BARE && c == ' ')) {
            fail(l, -EINVAL,
                 "%s '%s' cannot be passed to the guest: character 0x%02x "
                 "at offset %zu is not allowed on the kernel command line",
                 what, s, c, (size_t)(p - s));
            return false;
        }
    }
    return true;
}

/* " KEY=\"value\"": one entry of init's environment. */
static void add_env_kv(struct line *l, const char *key, const char *value)
{
    if (!printable(l, key, value, QUOTED))
        return;
    add(l, " ");
    add(l, key);
    add(l, "=\"");
    add(l, value);
    add(l, "\"");
    l->envs++;
}

/* " \"K=V\"": an explicit environment entry, quoted whole (§3.7). */
static void add_env_entry(struct line *l, const char *entry)
{
    const char *eq = strchr(entry, '=');

    if (!eq || eq == entry) {
        fail(l, -EINVAL, "environment entry '%s' is not KEY=VALUE", entry);
        return;
    }
    if (!printable(l, "environment entry", entry, QUOTED))
        return;
    add(l, " \"");
    add(l, entry);
    add(l, "\"");
    l->envs++;
}

static void add_host_env(struct line *l, char *const *environ_)
{
    char key[256];

    for (size_t i = 0; environ_ && environ_[i]; i++) {
        const char *e = environ_[i], *eq = strchr(e, '=');

        if (!eq || eq == e || (size_t)(eq - e) >= sizeof(key)) {
            log_warn("host environment entry '%s' skipped", e);
            continue;
        }
        memcpy(key, e, (size_t)(eq - e));
        key[eq - e] = '\0';
        add_env_kv(l, key, eq + 1);
    }
}

static void add_rlimits(struct line *l, char *const *rl)
{
    if (!rl || !rl[0])
        return;
    add(l, " KRUN_RLIMITS=\"");
    for (size_t i = 0; rl[i]; i++) {
        if (!printable(l, "rlimit", rl[i], QUOTED))
            return;
        if (strchr(rl[i], ',')) {
            fail(l, -EINVAL, "rlimit '%s' contains ','", rl[i]);
            return;
        }
        add(l, i ? "," : "");
        add(l, rl[i]);
    }
    add(l, "\"");
    l->envs++;
}

static void add_block_root(struct line *l, const struct vm_config *cfg)
{
    static const char *const names[] = {"KRUN_BLOCK_ROOT_DEVICE",
                                        "KRUN_BLOCK_ROOT_FSTYPE",
                                        "KRUN_BLOCK_ROOT_OPTIONS"};
    const char *values[] = {cfg->block_root_device, cfg->block_root_fstype,
                            cfg->block_root_options};

    if (!cfg->block_root)
        return;
    for (size_t i = 0; i < 3; i++)
        if (values[i])
            add_env_kv(l, names[i], values[i]);
}

/* The prolog, with the console= value replaced if one was set (§3.7 3). */
static void add_prolog(struct line *l, const struct vm_config *cfg)
{
    const char *con;

    if (cfg->kernel_cmdline) {
        if (printable(l, "kernel command line", cfg->kernel_cmdline, RAW))
            add(l, cfg->kernel_cmdline);
    } else {
        add(l, CMDLINE_DEFAULT_BASE " init=/init.krun");
    }
    con = strstr(l->buf, "console=");
    if (!cfg->kernel_console || !con || l->err)
        return;
    if (!printable(l, "kernel console", cfg->kernel_console, BARE))
        return;
    {
        const char *end = strchr(con, ' ');
        char rest[CMDLINE_CAP];

        snprintf(rest, sizeof(rest), "%s", end ? end : "");
        l->len = (size_t)(con - l->buf) + strlen("console=");
        l->buf[l->len] = '\0';
        add(l, cfg->kernel_console);
        add(l, rest);
    }
}

static void add_args(struct line *l, const struct vm_config *cfg)
{
    add(l, " --");
    for (size_t i = 0; cfg->argv && cfg->argv[i]; i++) {
        if (!printable(l, "argument", cfg->argv[i], QUOTED))
            return;
        add(l, " \"");
        add(l, cfg->argv[i]);
        add(l, "\"");
        l->args++;
    }
}

/* KRUN_DHCP=1 after the devices if any interface asks for DHCP (§3.7 6). */
static void add_dhcp(struct line *l, const struct vm_config *cfg)
{
    for (size_t i = 0; i < cfg->nr_nets; i++)
        if (cfg->nets[i].flags & NET_FLAG_DHCP_CLIENT) {
            add(l, " KRUN_DHCP=1");
            l->envs++;
            return;
        }
}

/* What the guest kernel would truncate or panic on. */
static void check_guest_limits(struct line *l)
{
    /* The kernel seeds HOME and TERM; argv[0] is the init path. */
    if (l->envs + 2 > CMDLINE_MAX_INIT_ENVS)
        fail(l, -E2BIG,
             "%u environment entries for the guest, at most %d fit "
             "(the guest kernel panics beyond that)",
             l->envs, CMDLINE_MAX_INIT_ENVS - 2);
    if (l->args + 1 > CMDLINE_MAX_INIT_ARGS)
        fail(l, -E2BIG, "%u arguments for the guest, at most %d fit", l->args,
             CMDLINE_MAX_INIT_ARGS - 1);
    if (l->len + 1 > CMDLINE_GUEST_MAX)
        fail(l, -E2BIG,
             "kernel command line is %zu bytes, the guest keeps only %d "
             "(shorten the environment or arguments)",
             l->len, CMDLINE_GUEST_MAX - 1);
}

int cmdline_compose(const struct vm_config *cfg, const char *const *devices,
                    size_t n, char *const *environ_, char **out)
{
    struct line *l = calloc(1, sizeof(*l));
    int err;

    if (!l)
        return -ENOMEM;
    add_prolog(l, cfg);
    if (cfg->exec_path)
        add_env_kv(l, "KRUN_INIT", cfg->exec_path);
    if (cfg->workdir)
        add_env_kv(l, "KRUN_WORKDIR", cfg->workdir);
    add_block_root(l, cfg);
    add_rlimits(l, cfg->rlimits);
    if (cfg->env_set && cfg->envp)
        for (size_t i = 0; cfg->envp[i]; i++)
            add_env_entry(l, cfg->envp[i]);
    else if (cfg->env_set)
        add_host_env(l, environ_);
    for (size_t i = 0; i < n; i++) {
        add(l, " ");
        add(l, devices[i]);
    }
    add_dhcp(l, cfg);
    add_args(l, cfg);
    check_guest_limits(l);
    err = l->err;
    if (!err && !(*out = strdup(l->buf)))
        err = -ENOMEM;
    free(l);
    return err;
}
