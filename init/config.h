/*
 * config.h: what the workload is, from the kernel command line (init's
 * environment and argv) and /.krun_config.json (OCI or Docker shape).
 *
 * Precedence (libkrun-behaviour.md §4.2, §4.3):
 *  - argv: KRUN_INIT + init's argv[1..]; else the file's Entrypoint + args;
 *    else init's argv[1..]; else /bin/sh.
 *  - env: init's environment; file entries are added only for keys not yet
 *    set, except HOME and TERM, which the file overrides; then KRUN_HOME and
 *    KRUN_TERM override HOME and TERM.
 *  - workdir: KRUN_WORKDIR; else the file's cwd; else none.
 */
#ifndef KRUN_INIT_CONFIG_H
#define KRUN_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

#define CONFIG_DEFAULT_PATH  "/.krun_config.json"
#define CONFIG_DEFAULT_SHELL "/bin/sh"

/* What a config file says; every field is optional. */
struct file_config {
    struct strv args;  /* Entrypoint followed by args/Cmd */
    struct strv env;   /* "K=V" entries as written (no '=' = skipped later) */
    char *cwd;         /* NULL if absent or empty */
    struct strv tmpfs; /* destinations of tmpfs mounts, in file order */
};

/* The workload, ready to run. */
struct init_config {
    struct strv argv; /* argv[0] is the program, PATH-searched */
    struct strv env;  /* the complete environment */
    char *workdir;    /* NULL: stay in / */
    struct strv tmpfs;
};

/*
 * Parse a config document (text, len) in any of the shapes: keys are looked
 * up, ignoring case, in the "process" object, then the top level, then a
 * "config" object (Docker image configuration). Returns 0, or -EINVAL with
 * (err) naming the field and what is wrong with it, or -ENOMEM.
 */
int config_parse(const char *text, size_t len, struct file_config *fc,
                 char *err, size_t err_len);

/*
 * Read and parse the file at (path). Returns 0, -ENOENT if it does not exist
 * (not an error: there is no config), or another negative errno with (err)
 * saying why.
 */
int config_load(const char *path, struct file_config *fc, char *err,
                size_t err_len);

/*
 * Combine init's environment (envp), its arguments (argv, argc >= 1) and an
 * optional file config (fc, may be NULL) into (cfg) following the precedence
 * above. Returns 0 or -ENOMEM.
 */
int config_build(struct init_config *cfg, const char *const envp[], int argc,
                 const char *const argv[], const struct file_config *fc);

void file_config_free(struct file_config *fc);
void init_config_free(struct init_config *cfg);

#endif /* KRUN_INIT_CONFIG_H */
