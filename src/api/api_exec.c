/*
 * api_exec.c: what runs in the guest: program, arguments, environment,
 * working directory and resource limits.
 */
#include <errno.h>
#include <stdlib.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "util.h"

extern char **environ;

/* Copy (envp), or this process's environment if it is NULL. */
static int copy_env(const char *const envp[], char ***out)
{
    return args_strv(envp ? envp : (const char *const *)environ, out);
}

/* Replace exec path (if (path) is given) and/or argv, and the environment.
 * All arguments are owned. */
static int set_workload(uint32_t ctx_id, char *path, char **argv, char **env,
                        bool set_exec)
{
    struct ctx *ctx = ctx_get(ctx_id);
    struct vm_config *cfg;

    if (!ctx) {
        free(path);
        args_strv_free(argv);
        args_strv_free(env);
        return -ENOENT;
    }
    cfg = &ctx->cfg;
    if (set_exec) {
        free(cfg->exec_path);
        args_strv_free(cfg->argv);
        cfg->exec_path = path;
        cfg->argv = argv;
    }
    args_strv_free(cfg->envp);
    cfg->envp = env;
    cfg->env_set = true;
    ctx_put(ctx);
    return 0;
}

KRUN_API int32_t krun_set_exec(uint32_t ctx_id, const char *exec_path,
                               const char *const argv[],
                               const char *const envp[])
{
    char *path = NULL, **args = NULL, **env = NULL;
    int rc;

    rc = args_str(exec_path, &path);
    if (rc == 0 && argv)
        rc = args_strv(argv, &args);
    if (rc == 0)
        rc = copy_env(envp, &env);
    if (rc < 0) {
        free(path);
        args_strv_free(args);
        return rc;
    }
    return set_workload(ctx_id, path, args, env, true);
}

KRUN_API int32_t krun_set_env(uint32_t ctx_id, const char *const envp[])
{
    char **env;
    int rc = copy_env(envp, &env);

    if (rc < 0)
        return rc;
    return set_workload(ctx_id, NULL, NULL, env, false);
}

KRUN_API int32_t krun_set_workdir(uint32_t ctx_id, const char *workdir_path)
{
    return API_SET_STR(ctx_id, workdir, workdir_path);
}

KRUN_API int32_t krun_set_rlimits(uint32_t ctx_id, const char *const rlimits[])
{
    return API_SET_STRV(ctx_id, rlimits, rlimits);
}
