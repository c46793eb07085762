/*
 * main.c: /init.krun, the guest's PID 1 (libkrun-behaviour.md §4). It mounts
 * the basic filesystems, works out the workload from the kernel command
 * line and /.krun_config.json, runs it, reports its exit code to the host
 * through the virtio-fs root and reboots, which ends the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "kcmdline.h"
#include "mount.h"
#include "net.h"
#include "rlimits.h"

/* A step that cannot be skipped failed: end the VM with status 125. */
static __attribute__((noreturn)) void fatal(const char *step)
{
    fprintf(stderr, "init: %s failed; stopping the VM\n", step);
    exitcode_report_and_reboot(EXIT_SETUP_FAILED);
}

static void mount_root(void)
{
    const char *dev = getenv("KRUN_BLOCK_ROOT_DEVICE");

    if (mount_early())
        fatal("mounting /dev, /proc and /sys");
    if (dev && *dev)
        exitcode_keep_root(); /* the exit code goes through virtio-fs */
    if (dev && *dev &&
        mount_block_root(dev, getenv("KRUN_BLOCK_ROOT_FSTYPE"),
                         getenv("KRUN_BLOCK_ROOT_OPTIONS")))
        fatal("switching to the block root");
    if (mount_make_shared())
        fatal("making / shared");
}

/*
 * The kernel opens /dev/console as our fds 0-2 before running us.  With a
 * multiport virtio-console, hvc0 only exists once the host has answered the
 * driver's control messages, which may happen after that: then the fds are
 * missing, and every write of the workload would fail.  Wait for the console
 * (bounded) and open it ourselves.
 */
#define CONSOLE_WAIT_MS 5000

static void open_console(void)
{
    int fd = -1;

    if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 &&
        fcntl(2, F_GETFD) >= 0)
        return;
    for (int ms = 0; fd < 0 && ms < CONSOLE_WAIT_MS; ms += 5) {
        fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            usleep(5000);
    }
    if (fd < 0)
        return; /* no console at all: the workload runs without one */
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

static void take_console(void)
{
    open_console();
    setsid();
    ioctl(0, TIOCSCTTY, 1); /* hvc0 becomes the controlling terminal */
}

static void setup_network(void)
{
    const char *dhcp = getenv("KRUN_DHCP");
    char cmdline[4096];

    net_setup(dhcp && !strcmp(dhcp, "1"));
    net_setup_tsi(kcmdline_read(cmdline, sizeof(cmdline)) &&
                  kcmdline_has_word(cmdline, "tsi_hijack"));
}

/*
 * The workload's arguments are the words after "--" on the kernel command
 * line, which the kernel puts at the end of our argv, after any bare word it
 * did not know from before "--" (such as "nomodule" on a kernel without
 * modules).  Keep argv[0] and those last words only.
 */
static int workload_args(int argc, char **argv)
{
    char cmdline[4096];
    ssize_t n;

    if (!kcmdline_read(cmdline, sizeof(cmdline)))
        return argc;
    n = kcmdline_args_after_dashes(cmdline);
    if (n < 0 || n + 1 >= argc)
        return argc;
    memmove(&argv[1], &argv[argc - (int)n], (n + 1) * sizeof(argv[0]));
    return (int)n + 1;
}

static void load_config(struct init_config *cfg, int argc, char **argv)
{
    const char *path = getenv("KRUN_CONFIG");
    struct file_config fc = {0};
    char err[256];
    int rc;

    rc = config_load(path && *path ? path : CONFIG_DEFAULT_PATH, &fc, err,
                     sizeof(err));
    if (rc && rc != -ENOENT)
        fprintf(stderr, "init: ignoring the config file: %s\n", err);
    if (config_build(cfg, (const char *const *)environ, argc,
                     (const char *const *)argv, rc ? NULL : &fc))
        fatal("building the workload's configuration (out of memory)");
    file_config_free(&fc);
    if (cfg->tmpfs.n && mount_config_tmpfs(&cfg->tmpfs))
        fatal("mounting the config file's tmpfs");
}

static void set_hostname(const struct init_config *cfg)
{
    const char *name = env_get(&cfg->env, "HOSTNAME");

    if (!name || !*name)
        name = "localhost";
    if (sethostname(name, strlen(name)))
        perror("init: sethostname");
}

static void apply_limits_and_workdir(const struct init_config *cfg)
{
    const char *rlimits = env_get(&cfg->env, "KRUN_RLIMITS");

    if (rlimits)
        rlimits_apply(rlimits);
    if (cfg->workdir && chdir(cfg->workdir)) {
        fprintf(stderr, "init: chdir %s: %m\n", cfg->workdir);
        exitcode_report_and_reboot(EXIT_SETUP_FAILED);
    }
}

static int run(const struct init_config *cfg)
{
    const char *pid1 = env_get(&cfg->env, "KRUN_INIT_PID1");

    if (pid1 && pid1[0] == '1')
        return exitcode_exec_pid1(cfg);
    return exitcode_run_workload(cfg);
}

int main(int argc, char **argv)
{
    struct init_config cfg = {0};

    mount_root();
    take_console();
    setup_network();
    argc = workload_args(argc, argv);
    load_config(&cfg, argc, argv);
    set_hostname(&cfg);
    apply_limits_and_workdir(&cfg);
    exitcode_report_and_reboot(run(&cfg));
}
