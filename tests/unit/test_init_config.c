/*
 * test_init_config.c: the guest init's workload description from the kernel
 * command line (init's env and argv) and /.krun_config.json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "../../init/config.h"
#include "../../init/mount.h"
#include "../../init/kcmdline.h"
#include "../../init/net.h"

static char err[256];

/* Join a vector with '|' for easy comparison. */
static const char *join(const struct strv *sv)
{
    static char buf[1024];
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sv->n; i++)
        n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "|" : "", sv->v[i]);
    return buf;
}

static int parse(const char *json, struct file_config *fc)
{
    memset(fc, 0, sizeof(*fc));
    err[0] = '\0';
    return config_parse(json, strlen(json), fc, err, sizeof(err));
}

static void test_cmdline_only(void)
{
    const char *envp[] = {
        "HOME=/", "TERM=linux", "KRUN_INIT=/bin/echo", "KRUN_WORKDIR=/work dir",
        "A=x y",  NULL};
    const char *argv[] = {"/init.krun", "a b", "c", NULL};
    struct init_config cfg = {0};

    CHECK_EQ(config_build(&cfg, envp, 3, argv, NULL), 0);
    CHECK(!strcmp(join(&cfg.argv), "/bin/echo|a b|c"));
    CHECK(cfg.argv.v[cfg.argv.n] == NULL);
    CHECK(!strcmp(env_get(&cfg.env, "A"), "x y"));
    CHECK(!strcmp(cfg.workdir, "/work dir"));
    CHECK_EQ(cfg.env.n, 5);
    init_config_free(&cfg);
}

static void test_fallbacks(void)
{
    const char *envp[] = {"HOME=/", NULL};
    const char *argv1[] = {"/init.krun", NULL};
    const char *argv2[] = {"/init.krun", "ls", "-l", NULL};
    struct init_config cfg = {0};

    CHECK_EQ(config_build(&cfg, envp, 1, argv1, NULL), 0);
    CHECK(!strcmp(join(&cfg.argv), "/bin/sh"));
    CHECK(cfg.workdir == NULL);
    init_config_free(&cfg);
    CHECK_EQ(config_build(&cfg, envp, 3, argv2, NULL), 0);
    CHECK(!strcmp(join(&cfg.argv), "ls|-l"));
    init_config_free(&cfg);
    /* An empty KRUN_INIT counts as unset. */
    envp[0] = "KRUN_INIT=";
    CHECK_EQ(config_build(&cfg, envp, 1, argv1, NULL), 0);
    CHECK(!strcmp(join(&cfg.argv), "/bin/sh"));
    init_config_free(&cfg);
}

static const char oci[] =
    "{\"ociVersion\": \"1.0.2\",\n"
    " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0},\n"
    "   \"args\": [\"/bin/sh\", \"-c\", \"echo \\\"hi\\\"\"],\n"
    "   \"env\": [\"PATH=/usr/bin:/bin\", \"HOME=/root\", \"KEEP=file\",\n"
    "            \"NOEQUALS\", \"=nokey\", \"EQ=a=b\"],\n"
    "   \"cwd\": \"/srv\"},\n"
    " \"hooks\": {\"prestart\": [{\"path\": \"/x\", \"args\": [\"bad\"]}]},\n"
    " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\","
    " \"source\": \"proc\"},\n"
    "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": "
    "\"tmpfs\", \"options\": [\"nosuid\"]},\n"
    "   {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": "
    "\"shm\"},\n"
    "   {\"destination\": \"/run\", \"type\": \"tmpfs\", \"source\": "
    "\"tmpfs\"}]}";

static void test_oci_shape(void)
{
    const char *envp[] = {"HOME=/", "TERM=linux", "KEEP=cmdline", NULL};
    const char *argv[] = {"/init.krun", NULL};
    struct init_config cfg = {0};
    struct file_config fc;

    CHECK_EQ(parse(oci, &fc), 0);
    CHECK(!strcmp(join(&fc.args), "/bin/sh|-c|echo \"hi\""));
    CHECK(!strcmp(fc.cwd, "/srv"));
    CHECK(!strcmp(join(&fc.tmpfs), "/dev|/run"));
    CHECK_EQ(config_build(&cfg, envp, 1, argv, &fc), 0);
    CHECK(!strcmp(join(&cfg.argv), "/bin/sh|-c|echo \"hi\""));
    CHECK(!strcmp(cfg.workdir, "/srv"));
    /* File env: new keys added, existing kept, HOME/TERM overridden. */
    CHECK(!strcmp(env_get(&cfg.env, "KEEP"), "cmdline"));
    CHECK(!strcmp(env_get(&cfg.env, "HOME"), "/root"));
    CHECK(!strcmp(env_get(&cfg.env, "TERM"), "linux"));
    CHECK(!strcmp(env_get(&cfg.env, "PATH"), "/usr/bin:/bin"));
    CHECK(!strcmp(env_get(&cfg.env, "EQ"), "a=b"));
    CHECK(env_get(&cfg.env, "NOEQUALS") == NULL);
    CHECK_EQ(cfg.env.n, 5);
    CHECK(!strcmp(join(&cfg.tmpfs), "/dev|/run"));
    init_config_free(&cfg);
    file_config_free(&fc);
}

static void test_docker_shapes(void)
{
    struct file_config fc;

    CHECK_EQ(parse("{\"Entrypoint\": [\"/ep\", \"-x\"], \"Cmd\": [\"a\"],"
                   " \"Env\": [\"K=V\"], \"WorkingDir\": \"/w\"}",
                   &fc),
             0);
    CHECK(!strcmp(join(&fc.args), "/ep|-x|a"));
    CHECK(!strcmp(join(&fc.env), "K=V"));
    CHECK(!strcmp(fc.cwd, "/w"));
    file_config_free(&fc);
    /* Image config ("config" object, any case), null Cmd, "" WorkingDir. */
    CHECK_EQ(parse("{\"architecture\": \"amd64\", \"CONFIG\": {\"cmd\": null,"
                   " \"ENTRYPOINT\": [\"/docker-entrypoint.sh\"],"
                   " \"workingDIR\": \"\", \"env\": [\"A=1\"]}}",
                   &fc),
             0);
    CHECK(!strcmp(join(&fc.args), "/docker-entrypoint.sh"));
    CHECK(fc.cwd == NULL);
    CHECK(!strcmp(join(&fc.env), "A=1"));
    file_config_free(&fc);
    /* muvm's shape; top-level Cwd. */
    CHECK_EQ(parse("{\"Config\": {\"Cmd\": [\"muvm-guest\", \"x\"]},"
                   " \"Cwd\": \"/c\"}",
                   &fc),
             0);
    CHECK(!strcmp(join(&fc.args), "muvm-guest|x"));
    CHECK(!strcmp(fc.cwd, "/c"));
    file_config_free(&fc);
    /* Empty args = no args; top-level args, any case. */
    CHECK_EQ(parse("{\"ARGS\": [], \"Entrypoint\": []}", &fc), 0);
    CHECK_EQ(fc.args.n, 0);
    file_config_free(&fc);
    /* "process" wins over the top level, field by field. */
    CHECK_EQ(parse("{\"args\": [\"top\"], \"cwd\": \"/top\","
                   " \"process\": {\"args\": [\"proc\"]}}",
                   &fc),
             0);
    CHECK(!strcmp(join(&fc.args), "proc"));
    CHECK(!strcmp(fc.cwd, "/top"));
    file_config_free(&fc);
}

static void test_precedence(void)
{
    const char *envp[] = {"KRUN_INIT=/bin/true", "KRUN_WORKDIR=/k",
                          "KRUN_HOME=/kh", "KRUN_TERM=vt100", NULL};
    const char *argv[] = {"/init.krun", "arg", NULL};
    struct init_config cfg = {0};
    struct file_config fc;

    CHECK_EQ(parse("{\"process\": {\"args\": [\"/bin/false\"], \"cwd\": "
                   "\"/f\", \"env\": [\"HOME=/fh\", \"TERM=xterm\"]}}",
                   &fc),
             0);
    CHECK_EQ(config_build(&cfg, envp, 2, argv, &fc), 0);
    CHECK(!strcmp(join(&cfg.argv), "/bin/true|arg"));
    CHECK(!strcmp(cfg.workdir, "/k"));
    CHECK(!strcmp(env_get(&cfg.env, "HOME"), "/kh"));
    CHECK(!strcmp(env_get(&cfg.env, "TERM"), "vt100"));
    init_config_free(&cfg);
    /* Without KRUN_INIT the file's args beat init's own argv. */
    envp[0] = "X=1";
    CHECK_EQ(config_build(&cfg, envp, 2, argv, &fc), 0);
    CHECK(!strcmp(join(&cfg.argv), "/bin/false"));
    init_config_free(&cfg);
    file_config_free(&fc);
}

static void expect_error(const char *json, const char *msg)
{
    struct file_config fc;
    bool ok;

    CHECK_EQ(parse(json, &fc), -EINVAL);
    ok = CHECK(strstr(err, msg) != NULL);
    if (!ok)
        t_diag("  error was \"%s\", want \"%s\"", err, msg);
    CHECK(fc.args.n == 0 && fc.env.n == 0 && !fc.cwd);
}

static void test_invalid_fields(void)
{
    expect_error("{\"process\": {\"args\": \"/bin/sh\"}}",
                 "process.args: expected an array of strings, got string");
    expect_error("{\"Cmd\": [\"a\", 1]}", "Cmd[1]: expected a string, got "
                                          "number");
    expect_error("{\"Env\": {\"A\": \"1\"}}",
                 "Env: expected an array of strings, got object");
    expect_error("{\"WorkingDir\": 7}",
                 "WorkingDir: expected a string, got number");
    expect_error("{\"mounts\": {}}", "mounts: expected an array, got object");
    expect_error("{\"mounts\": [1]}", "mounts[0]: expected an object");
    expect_error("{\"mounts\": [{\"type\": \"tmpfs\", \"source\": \"tmpfs\","
                 " \"destination\": \"run\"}]}",
                 "mounts[0].destination: expected an absolute path");
    expect_error("{\"args\": [\"a\\u0000b\"]}", "args[0]: \"a\" contains a "
                                                "NUL byte");
    expect_error("[1, 2]", "the document is an array, not an object");
    expect_error("{\"args\": [\"a\",]}",
                 "offset 14: expected a value, got ']'");
    expect_error("", "offset 0: expected a value, got end of input");
}

static void test_load_file(void)
{
    char dir[] = "/tmp/test_init_config.XXXXXX", path[64];
    struct file_config fc = {0};
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/cfg.json", dir);
    CHECK_EQ(config_load(path, &fc, err, sizeof(err)), -ENOENT);
    f = fopen(path, "w");
    fputs(oci, f);
    fclose(f);
    CHECK_EQ(config_load(path, &fc, err, sizeof(err)), 0);
    CHECK(!strcmp(join(&fc.args), "/bin/sh|-c|echo \"hi\""));
    file_config_free(&fc);
    f = fopen(path, "w");
    fputs("{\"args\": 1}", f);
    fclose(f);
    CHECK_EQ(config_load(path, &fc, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, path) && strstr(err, "args: expected"));
    unlink(path);
    CHECK_EQ(config_load(dir, &fc, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "not a regular file"));
    rmdir(dir);
}

static void test_cmdline_words(void)
{
    CHECK(kcmdline_has_word("reboot=k tsi_hijack quiet -- x", "tsi_hijack"));
    CHECK(kcmdline_has_word("tsi_hijack", "tsi_hijack"));
    CHECK(!kcmdline_has_word("a tsi_hijack_unix b", "tsi_hijack"));
    CHECK(!kcmdline_has_word("a -- tsi_hijack", "tsi_hijack"));
    CHECK(!kcmdline_has_word("a --x tsi_hijack=1", "tsi_hijack"));
    CHECK(kcmdline_has_word("a\ttsi_hijack\n", "tsi_hijack"));
    CHECK(!kcmdline_has_word("", "tsi_hijack"));
    /* Workload arguments: the tokens after the first bare "--". */
    CHECK_EQ(kcmdline_args_after_dashes("a b -- \"x y\" z"), 2);
    CHECK_EQ(kcmdline_args_after_dashes("nomodule init=/init.krun --"), 0);
    CHECK_EQ(kcmdline_args_after_dashes("K=\"a -- b\" -- c"), 1);
    CHECK_EQ(kcmdline_args_after_dashes("no dashes here"), -1);
    CHECK_EQ(kcmdline_args_after_dashes("-- a -- b"), 3);
    CHECK_EQ(kcmdline_args_after_dashes("--x -- \"\" q"), 2);
    CHECK(!kcmdline_has_word("K=\"x tsi_hijack\" y", "tsi_hijack"));
}

static void test_mount_table(void)
{
    const char *t = "rootfs / rootfs rw 0 0\n"
                    "proc /proc proc rw,nosuid 0 0\n"
                    "tmpfs /my\\040dir tmpfs rw 0 0\n"
                    "broken\n"
                    "tmpfs /last tmpfs rw 0 0";

    CHECK(mount_table_has(t, "/proc"));
    CHECK(mount_table_has(t, "/my dir"));
    CHECK(mount_table_has(t, "/last"));
    CHECK(!mount_table_has(t, "/run"));
    CHECK(!mount_table_has(t, "/pro"));
    CHECK(!mount_table_has("", "/"));
}

int main(void)
{
    RUN(test_cmdline_only);
    RUN(test_fallbacks);
    RUN(test_oci_shape);
    RUN(test_docker_shapes);
    RUN(test_precedence);
    RUN(test_invalid_fields);
    RUN(test_load_file);
    RUN(test_cmdline_words);
    RUN(test_mount_table);
    return t_done();
}
