/*
 * crun-replay: crun's krun handler, replayed (shared/reference/clients.md
 * §1).  The library is not linked: it is dlopen()ed by soname with RTLD_NOW
 * and every function is resolved with dlsym() where it is called, as crun
 * does.
 *
 *   crun-replay 1.21|1.28 CONFIG ROOTFS
 *
 * In the parent, on the host filesystem: krun_create_ctx() (crun >= 1.21
 * creates the context when the handler is loaded, so that libkrunfw is
 * opened before any namespace switch), then CONFIG is copied to
 * ROOTFS/.krun_config.json, mode 0444, opened with O_NOFOLLOW.  The
 * container process is cloned into new mount, PID, UTS, IPC and network
 * namespaces (it is PID 1 there, like the VMM under crun); it mounts /proc
 * and a tmpfs /dev with the default device nodes and /dev/kvm in ROOTFS,
 * pivots into ROOTFS (pivot_root, or MS_MOVE + chroot when / is the
 * initramfs, as crun --no-pivot), sets the hostname, closes every fd >= 3,
 * sets RLIMIT_NOFILE to 1024 (crun's default spec), keeps only crun's
 * default capabilities (AUDIT_WRITE, KILL, NET_BIND_SERVICE), becomes uid/gid
 * 0 with no supplementary groups, sets NoNewPrivs, and configures the VM:
 *
 *   1.21  krun_set_log_level(1), krun_set_vm_config(ctx, 1, 512),
 *         krun_set_root(ctx, "/"), krun_start_enter(ctx)
 *   1.28  krun_set_log_level(1), krun_add_virtiofs2(ctx, "/dev/root", "/",
 *         512 MiB), krun_set_vm_config(ctx, 1, 512), krun_start_enter(ctx)
 *
 * No krun_set_exec: the guest init takes the workload from
 * /.krun_config.json.  The parent exits with the container's status (128 +
 * signal if it was killed); 125 when the replay itself failed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTNAME "crun-replay"

/* The prototypes of libkrun.h, as crun declares them for dlsym. */
typedef int32_t (*create_ctx_fn)(void);
typedef int32_t (*ctx_fn)(uint32_t);
typedef int32_t (*set_log_level_fn)(uint32_t);
typedef int32_t (*set_vm_config_fn)(uint32_t, uint8_t, uint32_t);
typedef int32_t (*set_root_fn)(uint32_t, const char *);
typedef int32_t (*add_virtiofs2_fn)(uint32_t, const char *, const char *,
                                    uint64_t);

static void *krun;

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "crun-replay: %s: %s\n", what, strerror(errno));
    _exit(125);
}

static _Noreturn void die_krun(const char *fn, int32_t err)
{
    fprintf(stderr, "crun-replay: %s: %s\n", fn, strerror(-err));
    _exit(125);
}

/* crun's "could not find symbol in the krun library". */
static void *sym(const char *name)
{
    void *p = dlsym(krun, name);

    if (!p) {
        fprintf(stderr, "crun-replay: could not find symbol %s: %s\n", name,
                dlerror());
        _exit(125);
    }
    return p;
}

/* Copy CONFIG to ROOTFS/.krun_config.json (0444, no symlink followed). */
static void write_config(const char *config, const char *rootfs)
{
    char buf[65536];
    int dir, in, out;
    ssize_t n;

    dir = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        die(rootfs);
    in = open(config, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        die(config);
    out = openat(dir, ".krun_config.json",
                 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (out < 0)
        die(".krun_config.json");
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            die("writing .krun_config.json");
    if (n < 0 || fchmod(out, 0444) < 0)
        die("copying the config");
    close(out);
    close(in);
    close(dir);
}

static void mount_or_die(const char *src, const char *dst, const char *type,
                         unsigned long flags, const char *data)
{
    if (mount(src, dst, type, flags, data) < 0)
        die(dst);
}

/* /dev as crun makes it for the default spec, plus /dev/kvm. */
static void make_dev(const char *rootfs)
{
    static const struct {
        const char *name;
        unsigned maj, min;
    } nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    char path[4096];
    struct stat kvm;

    if (stat("/dev/kvm", &kvm) < 0)
        die("/dev/kvm");
    snprintf(path, sizeof(path), "%s/dev", rootfs);
    mount_or_die("tmpfs", path, "tmpfs", MS_NOSUID | MS_STRICTATIME,
                 "mode=755,size=65536k");
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        snprintf(path, sizeof(path), "%s/dev/%s", rootfs, nodes[i].name);
        if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)))
            die(path);
    }
    snprintf(path, sizeof(path), "%s/dev/kvm", rootfs);
    if (mknod(path, S_IFCHR | 0666, kvm.st_rdev) < 0 || chmod(path, 0666) < 0)
        die(path);
    snprintf(path, sizeof(path), "%s/dev/fd", rootfs);
    if (symlink("/proc/self/fd", path) < 0)
        die(path);
}

static void enter_rootfs(const char *rootfs)
{
    char path[4096];

    mount_or_die(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    mount_or_die(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
    snprintf(path, sizeof(path), "%s/proc", rootfs);
    mount_or_die("proc", path, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
    make_dev(rootfs);
    if (chdir(rootfs) < 0)
        die(rootfs);
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        if (umount2(".", MNT_DETACH) < 0)
            die("umount2 old root");
    } else if (errno == EINVAL) {
        /* / is the initramfs: crun --no-pivot. */
        mount_or_die(rootfs, "/", NULL, MS_MOVE, NULL);
        if (chroot(".") < 0)
            die("chroot");
    } else {
        die("pivot_root");
    }
    if (chdir("/") < 0)
        die("chdir /");
}

static void close_fds(void)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
        return;
#endif
    for (long fd = 3, max = sysconf(_SC_OPEN_MAX); fd < max; fd++)
        close((int)fd);
}

/* crun's default spec: bounding, effective, permitted = these three. */
static void drop_caps(void)
{
    const uint64_t keep = (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) |
                          (1ULL << CAP_NET_BIND_SERVICE);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
        if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
            die("PR_CAPBSET_DROP");
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 2; i++) {
        data[i].effective = (uint32_t)(keep >> (32 * i));
        data[i].permitted = data[i].effective;
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        die("capset");
}

static _Noreturn void container(uint32_t id, bool virtiofs2, const char *rootfs)
{
    const struct rlimit nofile = {1024, 1024};
    int32_t err;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        die("PR_SET_PDEATHSIG");
    enter_rootfs(rootfs);
    if (sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
        die("sethostname");
    close_fds();
    if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
        die("RLIMIT_NOFILE");
    if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups(0, NULL) < 0 ||
        setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        die("setuid");
    drop_caps();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("PR_SET_NO_NEW_PRIVS");

    set_log_level_fn set_log_level =
        (set_log_level_fn)sym("krun_set_log_level");
    set_log_level(1);
    if (virtiofs2) {
        add_virtiofs2_fn add_virtiofs2 =
            (add_virtiofs2_fn)sym("krun_add_virtiofs2");
        err = add_virtiofs2(id, "/dev/root", "/", 512ULL << 20);
        if (err < 0)
            die_krun("krun_add_virtiofs2", err);
    }
    set_vm_config_fn set_vm_config =
        (set_vm_config_fn)sym("krun_set_vm_config");
    if ((err = set_vm_config(id, 1, 512)) < 0)
        die_krun("krun_set_vm_config", err);
    if (!virtiofs2) {
        set_root_fn set_root = (set_root_fn)sym("krun_set_root");
        if ((err = set_root(id, "/")) < 0)
            die_krun("krun_set_root", err);
    }
    ctx_fn start_enter = (ctx_fn)sym("krun_start_enter");
    err = start_enter(id);
    die_krun("krun_start_enter", err);
}

int main(int argc, char **argv)
{
    const int ns =
        CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
    bool virtiofs2;
    int32_t ctx;
    long pid;
    int status;

    if (argc != 4 ||
        (strcmp(argv[1], "1.21") != 0 && strcmp(argv[1], "1.28") != 0)) {
        fprintf(stderr, "usage: crun-replay 1.21|1.28 CONFIG ROOTFS\n");
        return 2;
    }
    virtiofs2 = !strcmp(argv[1], "1.28");

    krun = dlopen("libkrun.so.1", RTLD_NOW);
    if (!krun) {
        fprintf(stderr, "crun-replay: failed to open `libkrun.so.1`: %s\n",
                dlerror());
        return 125;
    }
    ctx = ((create_ctx_fn)sym("krun_create_ctx"))();
    if (ctx < 0)
        die_krun("krun_create_ctx", ctx);
    write_config(argv[2], argv[3]);

    fflush(NULL);
    /* clone() without a stack: a fork into new namespaces, as crun does. */
    pid =
        syscall(SYS_clone, (unsigned long)ns | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
        die("clone");
    if (pid == 0)
        container((uint32_t)ctx, virtiofs2, argv[3]);
    if (waitpid((pid_t)pid, &status, 0) < 0)
        die("waitpid");
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
