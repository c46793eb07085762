/*
 * ckrun: run a command inside a KVM microVM whose root filesystem is a host
 * directory — think chroot, but in a VM.  A client of the public libkrun API
 * like any other: it includes only <libkrun.h> and links libkrun.so.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libkrun.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The guest kernel hands init at most 32 environment entries (§3.7); ckrun
 * itself passes a few KRUN_* entries, so user entries are capped below it. */
#define MAX_ENV   24
#define MAX_VOLS  16
#define MAX_DISKS 8
#define MAX_NETS  4

enum net_kind { NET_PASST, NET_TAP, NET_UNIXGRAM, NET_UNIXSTREAM };

struct net {
    enum net_kind kind;
    const char *arg; /* tap name or socket path; NULL for passt */
};

struct disk {
    const char *path;
    uint32_t format; /* KRUN_DISK_FORMAT_* */
    bool ro;
};

struct volume {
    char *host, *tag;
    bool ro;
};

struct opts {
    unsigned cpus, mib, log_level;
    const char *env[MAX_ENV + 1];
    unsigned nenv;
    struct volume vols[MAX_VOLS];
    unsigned nvols;
    struct disk disks[MAX_DISKS];
    unsigned ndisks;
    struct disk root_disk; /* path NULL: ROOTDIR is the root */
    struct net nets[MAX_NETS];
    unsigned nnets;
    uint8_t mac[6]; /* eth0's; eth1... add 1, 2... to the last byte */
    const char *workdir, *kernel, *cmdline, *rootdir;
    bool serial;
    char **argv; /* command and its arguments */
};

static const char usage_text[] =
    "Usage: ckrun [OPTIONS] ROOTDIR [--] CMD [ARGS...]\n"
    "       ckrun [OPTIONS] --root-disk IMAGE [--] CMD [ARGS...]\n"
    "Run CMD inside a KVM microVM whose root filesystem is ROOTDIR (or the\n"
    "ext4 filesystem of a disk image).\n"
    "ckrun exits with CMD's exit status (127: CMD not found in the guest).\n"
    "\n"
    "  -c, --cpus N           virtual CPUs (default 1)\n"
    "  -m, --memory MIB       guest RAM in MiB (default 512)\n"
    "  -e, --env K=V          set an environment variable (repeatable, at "
    "most 24)\n"
    "  -w, --workdir DIR      working directory inside the guest\n"
    "  -v, --volume HOST:TAG[:ro]\n"
    "                         share directory HOST as virtio-fs TAG "
    "(repeatable)\n"
    "      --disk PATH[:raw|qcow2|vmdk][:ro]\n"
    "                         attach a disk image (repeatable, at most 8): "
    "the\n"
    "                         guest sees /dev/vda, /dev/vdb, ... in order\n"
    "      --root-disk PATH[:raw|qcow2|vmdk]\n"
    "                         boot from the ext4 filesystem of this image\n"
    "                         (/dev/vda) instead of ROOTDIR\n"
    "      --net passt|tap:NAME|unixstream:PATH|unixgram:PATH\n"
    "                         add a network interface (repeatable, at most "
    "4:\n"
    "                         eth0, eth1, ...); the guest configures eth0 by\n"
    "                         DHCP; passt is started (and stopped) by ckrun\n"
    "      --mac MAC          MAC address of eth0 (default "
    "5a:94:ef:e4:0c:ee)\n"
    "      --kernel FILE      boot this ELF kernel instead of libkrunfw's\n"
    "      --cmdline STR      kernel command line for --kernel\n"
    "      --serial           attach COM1 (ttyS0) to stdin/stdout\n"
    "      --log-level N      0 off, 1 error, 2 warn, 3 info, 4 debug, 5 "
    "trace\n"
    "  -h, --help             show this help\n"
    "\n"
    "Example: ckrun -m 256 ./rootfs -- /bin/sh -c 'echo hello from a VM'\n";

__attribute__((format(printf, 1, 2), noreturn)) static void
die_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ckrun: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ckrun --help'.\n");
    exit(2);
}

static unsigned parse_uint(const char *s, unsigned max, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v == 0 || v > max || s[0] == '-') {
        fprintf(stderr, "ckrun: invalid %s '%s' (1..%u)\n", what, s, max);
        exit(2);
    }
    return (unsigned)v;
}

static void add_volume(struct opts *o, char *spec)
{
    struct volume *v;
    char *tag, *flag;

    if (o->nvols == MAX_VOLS)
        die_usage("too many volumes (at most 16): '%s'", spec);
    v = &o->vols[o->nvols++];
    tag = strchr(spec, ':');
    if (!tag || tag == spec || !tag[1])
        die_usage("invalid volume '%s' (expected HOSTDIR:TAG[:ro])", spec);
    *tag++ = '\0';
    flag = strchr(tag, ':');
    if (flag) {
        *flag++ = '\0';
        if (strcmp(flag, "ro") != 0)
            die_usage("invalid volume flag '%s' (only 'ro')", flag);
        v->ro = true;
    }
    v->host = spec;
    v->tag = tag;
}

/* Strip a trailing ":WORD" from (spec) if it is (word). */
static bool strip_suffix(char *spec, const char *word)
{
    size_t n = strlen(spec), w = strlen(word);

    if (n < w + 1 || spec[n - w - 1] != ':' || strcmp(spec + n - w, word))
        return false;
    spec[n - w - 1] = '\0';
    return true;
}

/* PATH[:raw|qcow2|vmdk][:ro] (ro only if (allow_ro)). */
static void parse_disk(struct disk *d, char *spec, bool allow_ro)
{
    static const char *const formats[] = {"raw", "qcow2", "vmdk"};
    const char *arg = spec;
    char *copy = strdup(spec);

    if (!copy)
        die_usage("%s", "out of memory");
    d->ro = allow_ro && strip_suffix(copy, "ro");
    d->format = KRUN_DISK_FORMAT_RAW;
    for (uint32_t f = 0; f < 3; f++)
        if (strip_suffix(copy, formats[f])) {
            d->format = f;
            break;
        }
    if (!copy[0])
        die_usage("invalid disk '%s' (expected PATH[:raw|qcow2|vmdk]%s)", arg,
                  allow_ro ? "[:ro]" : "");
    d->path = copy;
}

static void add_disk(struct opts *o, char *spec)
{
    if (o->ndisks == MAX_DISKS)
        die_usage("too many disks (at most %d): '%s'", MAX_DISKS, spec);
    parse_disk(&o->disks[o->ndisks++], spec, true);
}

static void add_net(struct opts *o, const char *spec)
{
    static const struct {
        const char *prefix;
        enum net_kind kind;
    } kinds[] = {
        {"tap:", NET_TAP},
        {"unixgram:", NET_UNIXGRAM},
        {"unixstream:", NET_UNIXSTREAM},
    };
    struct net *n;

    if (o->nnets == MAX_NETS)
        die_usage("too many network interfaces (at most %d): '%s'", MAX_NETS,
                  spec);
    n = &o->nets[o->nnets];
    if (strcmp(spec, "passt") == 0) {
        *n = (struct net){.kind = NET_PASST};
        o->nnets++;
        return;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t len = strlen(kinds[i].prefix);

        if (strncmp(spec, kinds[i].prefix, len) == 0 && spec[len]) {
            *n = (struct net){.kind = kinds[i].kind, .arg = spec + len};
            o->nnets++;
            return;
        }
    }
    die_usage("invalid network '%s' (expected passt, tap:NAME, "
              "unixstream:PATH or unixgram:PATH)",
              spec);
}

static void parse_mac(uint8_t mac[6], const char *s)
{
    unsigned v[6];
    char end;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &end) != 6 ||
        strlen(s) != 17)
        die_usage("invalid MAC address '%s' (expected xx:xx:xx:xx:xx:xx)", s);
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    enum {
        OPT_KERNEL = 256,
        OPT_CMDLINE,
        OPT_SERIAL,
        OPT_LOG,
        OPT_DISK,
        OPT_ROOT_DISK,
        OPT_NET,
        OPT_MAC
    };
    static const struct option longopts[] = {
        {"cpus", required_argument, NULL, 'c'},
        {"memory", required_argument, NULL, 'm'},
        {"env", required_argument, NULL, 'e'},
        {"workdir", required_argument, NULL, 'w'},
        {"volume", required_argument, NULL, 'v'},
        {"kernel", required_argument, NULL, OPT_KERNEL},
        {"cmdline", required_argument, NULL, OPT_CMDLINE},
        {"serial", no_argument, NULL, OPT_SERIAL},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"disk", required_argument, NULL, OPT_DISK},
        {"root-disk", required_argument, NULL, OPT_ROOT_DISK},
        {"net", required_argument, NULL, OPT_NET},
        {"mac", required_argument, NULL, OPT_MAC},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    int c;

    /* '+': stop at the first non-option, so CMD's own options stay its. */
    while ((c = getopt_long(argc, argv, "+c:m:e:w:v:h", longopts, NULL)) !=
           -1) {
        switch (c) {
        case 'c':
            o->cpus = parse_uint(optarg, 255, "CPU count");
            break;
        case 'm':
            o->mib = parse_uint(optarg, 1u << 20, "memory size (MiB)");
            break;
        case 'e':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                die_usage("invalid environment entry '%s' (expected K=V)",
                          optarg);
            if (o->nenv == MAX_ENV)
                die_usage("too many environment entries at '%s' (the guest "
                          "kernel passes at most 24 user entries)",
                          optarg);
            o->env[o->nenv++] = optarg;
            break;
        case 'w':
            o->workdir = optarg;
            break;
        case 'v':
            add_volume(o, optarg);
            break;
        case OPT_KERNEL:
            o->kernel = optarg;
            break;
        case OPT_CMDLINE:
            o->cmdline = optarg;
            break;
        case OPT_SERIAL:
            o->serial = true;
            break;
        case OPT_LOG:
            o->log_level = parse_uint(optarg, 5, "log level");
            break;
        case OPT_DISK:
            add_disk(o, optarg);
            break;
        case OPT_ROOT_DISK:
            if (o->root_disk.path)
                die_usage("--root-disk given twice: '%s'", optarg);
            parse_disk(&o->root_disk, optarg, false);
            break;
        case OPT_NET:
            add_net(o, optarg);
            break;
        case OPT_MAC:
            parse_mac(o->mac, optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default:
            fprintf(stderr, "Try 'ckrun --help'.\n");
            exit(2);
        }
    }
    if (!o->root_disk.path && optind < argc &&
        strcmp(argv[optind - 1], "--") != 0)
        o->rootdir = argv[optind++];
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    o->argv = &argv[optind];
    if (!o->rootdir && !o->root_disk.path)
        die_usage("%s", "missing ROOTDIR");
    if (!o->argv[0] && !o->kernel)
        die_usage("%s", "missing CMD");
}

/* Catch the mistakes a user makes before the library would. */
static void check_disk(const struct disk *d)
{
    struct stat st;

    if (stat(d->path, &st) != 0) {
        fprintf(stderr, "ckrun: disk '%s': %s\n", d->path, strerror(errno));
        exit(2);
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        fprintf(stderr, "ckrun: disk '%s' is not a file or block device\n",
                d->path);
        exit(2);
    }
}

static void check_host(const struct opts *o)
{
    struct stat st;

    if (o->root_disk.path)
        check_disk(&o->root_disk);
    for (unsigned i = 0; i < o->ndisks; i++)
        check_disk(&o->disks[i]);
    if (o->rootdir && stat(o->rootdir, &st) != 0) {
        fprintf(stderr, "ckrun: ROOTDIR '%s': %s\n", o->rootdir,
                strerror(errno));
        exit(2);
    }
    if (o->rootdir && !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ckrun: ROOTDIR '%s' is not a directory\n", o->rootdir);
        exit(2);
    }
    for (unsigned i = 0; i < o->nvols; i++) {
        if (stat(o->vols[i].host, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "ckrun: volume '%s' is not a directory\n",
                    o->vols[i].host);
            exit(2);
        }
    }
    if (access("/dev/kvm", F_OK) != 0) {
        fprintf(stderr,
                "ckrun: /dev/kvm does not exist: KVM is not available.\n"
                "  Enable virtualization in the firmware, then load the "
                "module: modprobe kvm_intel (or kvm_amd).\n");
        exit(1);
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        fprintf(stderr,
                "ckrun: no permission to use /dev/kvm: %s.\n"
                "  Add yourself to its group: sudo usermod -aG kvm $USER "
                "(then log in again).\n",
                strerror(errno));
        exit(1);
    }
}

static int fail(const char *what, int err)
{
    fprintf(stderr, "ckrun: %s: %s\n", what, strerror(-err));
    return 1;
}

/*
 * Start passt as crun does: one end of a socketpair as --fd (which implies
 * one-off mode: passt quits when the VM's end closes), in the foreground so
 * it stays our child, with SIGTERM when we die.  Returns our end or -errno
 * (exec failures come back through a close-on-exec pipe).
 */
static int start_passt(void)
{
    int sv[2], pipefd[2], err = 0;
    pid_t pid;
    ssize_t n;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        err = -errno;
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    pid = fork();
    if (pid == 0) {
        char fdarg[16];

        prctl(PR_SET_PDEATHSIG, SIGTERM);
        close(sv[0]);
        close(pipefd[0]);
        fcntl(sv[1], F_SETFD, 0); /* passt inherits it */
        snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
        execlp("passt", "passt", "-f", "-q", "--fd", fdarg, (char *)NULL);
        err = errno;
        if (write(pipefd[1], &err, sizeof(err)) < 0)
            (void)0;
        _exit(127);
    }
    if (pid < 0)
        err = -errno;
    close(sv[1]);
    close(pipefd[1]);
    if (pid > 0 && (n = read(pipefd[0], &err, sizeof(err))) == sizeof(err)) {
        err = -err; /* exec failed */
        waitpid(pid, NULL, 0);
    } else {
        err = 0;
    }
    close(pipefd[0]);
    if (err < 0) {
        close(sv[0]);
        return err;
    }
    return sv[0];
}

static int configure_net(uint32_t ctx, const struct opts *o)
{
    for (unsigned i = 0; i < o->nnets; i++) {
        const struct net *n = &o->nets[i];
        uint8_t mac[6];
        char tap[64];
        int err, fd;

        memcpy(mac, o->mac, 6);
        mac[5] = (uint8_t)(mac[5] + i);
        switch (n->kind) {
        case NET_PASST:
            fd = start_passt();
            if (fd < 0)
                return fail("cannot start passt", fd);
            err = krun_add_net_unixstream(
                ctx, NULL, fd, mac, COMPAT_NET_FEATURES, NET_FLAG_DHCP_CLIENT);
            break;
        case NET_TAP:
            snprintf(tap, sizeof(tap), "%s", n->arg);
            err = krun_add_net_tap(ctx, tap, mac, COMPAT_NET_FEATURES,
                                   NET_FLAG_DHCP_CLIENT);
            break;
        case NET_UNIXGRAM:
            err =
                krun_add_net_unixgram(ctx, n->arg, -1, mac, COMPAT_NET_FEATURES,
                                      NET_FLAG_DHCP_CLIENT);
            break;
        default:
            err = krun_add_net_unixstream(ctx, n->arg, -1, mac,
                                          COMPAT_NET_FEATURES,
                                          NET_FLAG_DHCP_CLIENT);
            break;
        }
        if (err < 0)
            return fail(n->arg ? n->arg : "passt", err);
    }
    return 0;
}

static int configure(uint32_t ctx, const struct opts *o)
{
    int err;

    if ((err = krun_set_vm_config(ctx, (uint8_t)o->cpus, o->mib)) < 0)
        return fail("cannot set VM size", err);
    if (o->root_disk.path) {
        /* The root disk is vda, whatever the order of the options. */
        err = krun_add_disk2(ctx, "root", o->root_disk.path,
                             o->root_disk.format, false);
        if (err < 0)
            return fail(o->root_disk.path, err);
    }
    for (unsigned i = 0; i < o->ndisks; i++) {
        char id[16];

        snprintf(id, sizeof(id), "disk%u", i);
        err = krun_add_disk2(ctx, id, o->disks[i].path, o->disks[i].format,
                             o->disks[i].ro);
        if (err < 0)
            return fail(o->disks[i].path, err);
    }
    if (o->root_disk.path)
        err = krun_set_root_disk_remount(ctx, "/dev/vda", "ext4", NULL);
    else
        err = krun_set_root(ctx, o->rootdir);
    if (err < 0)
        return fail(o->rootdir ? "cannot share ROOTDIR"
                               : "cannot boot from the root disk",
                    err);
    for (unsigned i = 0; i < o->nvols; i++) {
        err = krun_add_virtiofs3(ctx, o->vols[i].tag, o->vols[i].host, 0,
                                 o->vols[i].ro);
        if (err < 0)
            return fail(o->vols[i].tag, err);
    }
    if (o->workdir && (err = krun_set_workdir(ctx, o->workdir)) < 0)
        return fail("cannot set the working directory", err);
    if (o->argv[0]) {
        err = krun_set_exec(ctx, o->argv[0], (const char *const *)&o->argv[1],
                            o->env);
        if (err < 0)
            return fail("cannot set the command", err);
    }
    if (o->kernel) {
        err = krun_set_kernel(ctx, o->kernel, KRUN_KERNEL_FORMAT_ELF, NULL,
                              o->cmdline);
        if (err < 0)
            return fail("cannot use the kernel", err);
    }
    if (configure_net(ctx, o) != 0)
        return 1;
    if (o->serial) {
        int in = dup(STDIN_FILENO), out = dup(STDOUT_FILENO);

        if ((err = krun_add_serial_console_default(ctx, in, out)) < 0)
            return fail("cannot attach the serial console", err);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .cpus = 1, .mib = 512, .mac = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee}};
    int32_t ctx;
    int err;

    parse_args(&o, argc, argv);
    check_host(&o);
    if (o.log_level)
        krun_set_log_level(o.log_level);
    ctx = krun_create_ctx();
    if (ctx < 0)
        return fail("cannot create a VM context", ctx);
    if (configure((uint32_t)ctx, &o) != 0)
        return 1;
    err = krun_start_enter((uint32_t)ctx);
    /* Only reached when the VM could not start. */
    if (err == -E2BIG)
        fprintf(stderr, "ckrun: the command line, environment or arguments "
                        "are too long for the guest kernel\n");
    return fail("cannot start the VM", err);
}
