/*
 * test_init_pid1.c: the real /init.krun binary as PID 1 of fresh mount, PID,
 * UTS and network namespaces, chrooted into a busybox root. No VM: "/" is
 * not virtio-fs, so init prints the exit code it could not report, and its
 * reboot() ends the PID namespace. Needs root and busybox; skips otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

#define BUSYBOX "/bin/busybox"

static char root[] = "/tmp/test_init_pid1.XXXXXX";
static char out[8192], err[8192];

#define SH(...)                                                                \
    do {                                                                       \
        char cmd_[512];                                                        \
        snprintf(cmd_, sizeof(cmd_), __VA_ARGS__);                             \
        if (system(cmd_))                                                      \
            t_diag("command failed: %s", cmd_);                                \
    } while (0)

/* A mutable copy of a string vector, for execve(). */
static char **dupv(const char *const v[])
{
    size_t n = 0;
    char **copy;

    while (v[n])
        n++;
    copy = calloc(n + 1, sizeof(*copy));
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup(v[i]);
    return copy;
}

static void make_root(void)
{
    static const char *const applets[] = {"sh",  "cat",  "echo",  "hostname",
                                          "pwd", "grep", "sleep", "true"};
    char path[256];

    if (!mkdtemp(root))
        t_skip_all("mkdtemp: %s", strerror(errno));
    SH("mkdir -p %s/bin %s/work", root, root);
    SH("cp %s %s/bin/busybox", BUSYBOX, root);
    SH("cp %s %s/init.krun", INIT_KRUN_PATH, root);
    for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++) {
        snprintf(path, sizeof(path), "%s/bin/%s", root, applets[i]);
        if (symlink("busybox", path))
            t_diag("symlink %s: %s", path, strerror(errno));
    }
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", root, name);
    f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t r = fd < 0 ? 0 : read(fd, buf, len - 1);

    buf[r > 0 ? r : 0] = '\0';
    if (fd >= 0)
        close(fd);
}

/* In the new namespaces: become PID 1's parent; exit with its fate. */
static __attribute__((noreturn)) void in_namespaces(const char *const envp[],
                                                    const char *const argv[])
{
    char path[256];
    pid_t pid;
    int st;

    if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNET) ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount(root, root, NULL, MS_BIND, NULL))
        _exit(90);
    pid = fork();
    if (pid == 0) {
        snprintf(path, sizeof(path), "%s.out", root);
        int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        snprintf(path, sizeof(path), "%s.err", root);
        int e = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        dup2(o, 1);
        dup2(e, 2);
        if (chdir(root) || chroot("."))
            _exit(91);
        execve("/init.krun", dupv(argv), dupv(envp));
        _exit(92);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        _exit(93);
    _exit(WIFSIGNALED(st) ? 100 + WTERMSIG(st) : WEXITSTATUS(st));
}

/* Run init with (envp, argv); returns how PID 1 ended (see above). */
static int run_init(const char *const envp[], const char *const argv[])
{
    struct stat kvm;
    bool have_kvm = !stat("/dev/kvm", &kvm);
    char path[256];
    pid_t pid = fork();
    int st = -1;

    if (pid == 0)
        in_namespaces(envp, argv);
    for (int i = 0; i < 300 && waitpid(pid, &st, WNOHANG) == 0; i++)
        usleep(100 * 1000);
    if (st == -1) {
        t_diag("init did not finish within 30 s");
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    /* init made the shared devtmpfs's /dev/kvm 0666: put it back. */
    if (have_kvm)
        chmod("/dev/kvm", kvm.st_mode & 07777);
    snprintf(path, sizeof(path), "%s.out", root);
    read_file(path, out, sizeof(out));
    snprintf(path, sizeof(path), "%s.err", root);
    read_file(path, err, sizeof(err));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool has(const char *buf, const char *s)
{
    if (strstr(buf, s))
        return true;
    t_diag("missing \"%s\" in:\n%s", s, buf);
    return false;
}

static const char oci_config[] =
    "{\"process\": {\"args\": [\"/bin/sh\", \"-c\", "
    "\"echo pid=$$ ppid=$PPID; echo cwd=$(pwd); echo A=$A B=$B; "
    "echo nofile=$(ulimit -n); echo host=$(hostname); "
    "grep -q ' /run tmpfs' /proc/mounts && echo run=tmpfs; "
    "grep -q ' /dev devtmpfs' /proc/mounts && echo dev=ok; "
    "echo lo=$(cat /sys/class/net/lo/flags); "
    "(sleep 0.2; echo orphan) & exit 42\"],"
    " \"env\": [\"A=from-file\", \"B=file b\", \"PATH=/bin\"],"
    " \"cwd\": \"/work\"},"
    " \"mounts\": [{\"destination\": \"/run\", \"type\": \"tmpfs\","
    " \"source\": \"tmpfs\"}]}";

static void test_oci_config_as_pid1(void)
{
    const char *envp[] = {"HOME=/",
                          "TERM=linux",
                          "A=from-cmdline",
                          "KRUN_RLIMITS=\"7=123:456\"",
                          "HOSTNAME=ckrun-test",
                          NULL};
    const char *argv[] = {"/init.krun", NULL};

    write_file(".krun_config.json", oci_config);
    CHECK_EQ(run_init(envp, argv), 100 + SIGHUP); /* reboot() in a PID ns */
    CHECK(has(out, "pid=2 ppid=1\n"));
    CHECK(has(out, "cwd=/work\n"));
    CHECK(has(out, "A=from-cmdline B=file b\n"));
    CHECK(has(out, "nofile=123\n"));
    CHECK(has(out, "host=ckrun-test\n"));
    CHECK(has(out, "run=tmpfs\n"));
    CHECK(has(out, "dev=ok\n"));
    CHECK(has(out, "lo=0x9\n"));
    CHECK(has(err, "exit code 42 not reported"));
}

static void test_cmdline_exec_as_pid1(void)
{
    const char *envp[] = {
        "HOME=/",    "TERM=linux", "KRUN_INIT=/bin/sh", "KRUN_WORKDIR=/bin",
        "PATH=/bin", NULL};
    const char *argv[] = {
        "/init.krun", "-c",  "echo \"$0|$1\" $(pwd); kill -9 $$",
        "zero",       "x y", NULL};

    CHECK_EQ(run_init(envp, argv), 100 + SIGHUP);
    CHECK(has(out, "zero|x y /bin\n"));
    CHECK(has(err, "exit code 137 not reported"));
}

static void test_missing_program(void)
{
    const char *envp[] = {"HOME=/", "KRUN_INIT=nothere", "PATH=/bin", NULL};
    const char *argv[] = {"/init.krun", NULL};

    CHECK_EQ(run_init(envp, argv), 100 + SIGHUP);
    CHECK(has(err, "Couldn't execute 'nothere': No such file or directory"));
    CHECK(has(err, "exit code 127 not reported"));
}

int main(void)
{
    if (geteuid() != 0)
        t_skip_all("needs root for namespaces and mounts");
    if (access(BUSYBOX, X_OK))
        t_skip_all("%s missing (busybox-static)", BUSYBOX);
    if (unshare(CLONE_NEWNS) && errno == EPERM)
        t_skip_all("unshare: %s", strerror(errno));
    make_root();
    RUN(test_oci_config_as_pid1);
    RUN(test_cmdline_exec_as_pid1);
    unlink(strcat(strcpy(out, root), "/.krun_config.json"));
    RUN(test_missing_program);
    SH("rm -rf %s %s.out %s.err", root, root, root);
    return t_done();
}
