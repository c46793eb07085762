/*
 * ckrun-fuse: serve a host directory through ckrun's FUSE server on a host
 * FUSE mount (no libfuse), to debug shares and to test the server with real
 * programs.  Foreground; serves until unmounted or SIGINT/SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuse/devfuse.h"
#include "fuse/passthrough.h"
#include "fuse/server.h"
#include "log.h"
#include "sandbox/sandbox.h"

struct worker {
    pthread_t thread;
    int fd;
    struct fuse_server *srv;
    pthread_t main_thread;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: ckrun-fuse [-o ro] [-t THREADS] [-v] SHARE_DIR MOUNTPOINT\n"
            "Serve SHARE_DIR at MOUNTPOINT through ckrun's FUSE server\n"
            "(the virtio-fs server of libkrun), over /dev/fuse.\n\n"
            "  -o ro        read-only share and mount (changes: EROFS)\n"
            "  -t THREADS   worker threads (default 4)\n"
            "  -v           log debug messages to stderr\n"
            "  -h, --help   this text\n\n"
            "Runs in the foreground until the mount is unmounted or it gets\n"
            "SIGINT/SIGTERM (then it unmounts); exits 0. Needs root.\n"
            "When the guest-exit-code ioctl (0x7602) was received, prints\n"
            "\"exit code: N\" to stderr on exit.\n");
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int rc;

    sandbox_enter_thread(SANDBOX_FS_WORKER); /* as the VMM's fs workers */
    rc = devfuse_serve(w->fd, w->srv);

    if (rc < 0)
        fprintf(stderr, "ckrun-fuse: %s\n", strerror(-rc));
    pthread_kill(w->main_thread, SIGUSR1); /* the connection is over */
    return NULL;
}

static int do_mount(int fd, const char *mp, bool ro)
{
    char opts[256];
    struct stat st;

    if (stat(mp, &st) < 0)
        return -errno;
    snprintf(opts, sizeof(opts),
             "fd=%d,rootmode=40000,user_id=0,group_id=0,"
             "default_permissions,allow_other",
             fd);
    /* MS_RDONLY as well as the server's EROFS: then access(W_OK), statvfs
     * (ST_RDONLY) and the kernel's own checks say read-only too. */
    if (mount("ckrun", mp, "fuse.ckrun",
              MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0), opts) < 0)
        return -errno;
    return 0;
}

/* Raise the soft fd limit to the hard one; the budget is derived from it. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct opts {
    bool ro;
    unsigned int threads;
    const char *share, *mp;
};

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;

    while ((c = getopt_long(argc, argv, "o:t:vh", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (strcmp(optarg, "ro") && strcmp(optarg, "rw"))
                return 2;
            o->ro = !strcmp(optarg, "ro");
            break;
        case 't':
            o->threads = (unsigned int)strtoul(optarg, NULL, 10);
            if (o->threads < 1 || o->threads > 64)
                return 2;
            break;
        case 'v':
            log_configure(LOG_DEBUG, -1, false);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return 2;
        }
    }
    if (argc - optind != 2)
        return 2;
    o->share = argv[optind];
    o->mp = argv[optind + 1];
    return 0;
}

static int serve(const struct opts *o, struct fuse_server *srv, int fd)
{
    struct worker w[64];
    struct timespec deadline;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (unsigned int i = 0; i < o->threads; i++) {
        w[i] = (struct worker){
            .fd = fd, .srv = srv, .main_thread = pthread_self()};
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
            return 1;
    }
    sigwait(&set, &sig);
    if (sig != SIGUSR1)
        umount2(o->mp, MNT_DETACH);
    /* Workers blocked in read() end with ENODEV once the connection is
     * gone.  A lazy unmount that something still uses keeps it: then give
     * up waiting and let exit() end them. */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    for (unsigned int i = 0; i < o->threads; i++) {
        if (pthread_timedjoin_np(w[i].thread, NULL, &deadline) != 0)
            return 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.threads = 4};
    struct fuse_exit_code ec = {0};
    struct fs_backend be;
    struct fuse_server *srv;
    int fd, rc;

    if (parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    raise_nofile();
    rc = passthrough_create(
        &(struct passthrough_config){.root = o.share, .read_only = o.ro}, &be);
    if (rc < 0) {
        fprintf(stderr, "ckrun-fuse: %s: %s\n", o.share, strerror(-rc));
        return 1;
    }
    rc = fuse_server_create(&(struct fuse_server_config){.backend = be,
                                                         .read_only = o.ro,
                                                         .workers = o.threads,
                                                         .exit_code = &ec},
                            &srv);
    fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (rc < 0 || fd < 0 || (rc = do_mount(fd, o.mp, o.ro)) < 0) {
        fprintf(stderr, "ckrun-fuse: mount %s: %s\n", o.mp,
                strerror(fd < 0 ? errno : -rc));
        return 1;
    }
    rc = sandbox_prepare(); /* KRUN_SECCOMP as for the VMM */
    if (rc < 0)
        return 1;
    rc = serve(&o, srv, fd);
    if (__atomic_load_n(&ec.set, __ATOMIC_ACQUIRE))
        fprintf(stderr, "exit code: %d\n", ec.code);
    close(fd);
    fuse_server_destroy(srv);
    passthrough_free(&be);
    return rc;
}
