/*
 * test_fs.c: virtio-fs through the real /dev/kvm, driven by the test
 * guest's own FUSE client (tests/guest/fs.c): a file the host wrote is read
 * back exactly, a file the guest creates lands on the host disk byte for
 * byte, the exit-code ioctl sets the process's status, krun_set_root serves
 * a one-shot /init.krun, and hostile requests get errors or NEEDS_RESET
 * while the VM keeps running.
 */
#include "guest_run.h"
#include "pattern.h"
#include "t.h"

#include <fcntl.h>
#include <libkrun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HELLO_LEN 40003 /* not a multiple of 8 nor of the 16 KiB reads */

static char share[64];

static void die(const char *what)
{
    t_diag("%s: %m", what);
    exit(1);
}

static void share_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", share, name);
}

/* A fresh share holding hello.bin (HELLO_LEN pattern bytes, mode 0644). */
static void share_create(void)
{
    uint8_t buf[HELLO_LEN];
    char path[128];
    int fd;

    snprintf(share, sizeof(share), "/tmp/ckrun-test-fs.XXXXXX");
    if (!mkdtemp(share))
        die("mkdtemp");
    share_path(path, sizeof(path), "hello.bin");
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    pattern_fill(buf, sizeof(buf), 0);
    if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf) ||
        fchmod(fd, 0644) < 0)
        die("hello.bin");
    close(fd);
}

static void share_remove(void)
{
    char path[128];

    share_path(path, sizeof(path), "hello.bin");
    unlink(path);
    share_path(path, sizeof(path), "written.bin");
    unlink(path);
    rmdir(share);
}

static int setup_share(uint32_t ctx, void *arg)
{
    return krun_add_virtiofs(ctx, "ckrun-test", share);
}

static bool has(const struct guest_result *r, const char *s)
{
    if (strstr(r->serial, s))
        return true;
    t_diag("missing [%s] in serial: %s", s, r->serial);
    return false;
}

/* written.bin on the host disk holds exactly hello.bin's bytes. */
static bool written_ok(void)
{
    uint8_t got[HELLO_LEN + 1], want[HELLO_LEN];
    char path[128];
    ssize_t n;
    int fd;

    share_path(path, sizeof(path), "written.bin");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, got, sizeof(got));
    close(fd);
    pattern_fill(want, sizeof(want), 0);
    return n == HELLO_LEN && memcmp(got, want, HELLO_LEN) == 0;
}

static void run_fs(const char *cmdline, int want_status)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = cmdline, .setup = setup_share};
    uint8_t buf[HELLO_LEN];
    char line[128];

    share_create();
    pattern_fill(buf, sizeof(buf), 0);
    CHECK(guest_run(&o, &r) == 0 && !r.timed_out);
    CHECK_EQ(r.status, want_status); /* the exit-code ioctl's value */
    CHECK(has(&r, "init major=7 minor=31 max_write="));
    CHECK(has(&r, "getattr mode=0x81a4 size=40003\n"));
    strcpy(line, "read ");
    csum_line(buf, sizeof(buf), line + 5, sizeof(line) - 5);
    strcat(line, "\n");
    CHECK(has(&r, line));
    CHECK(has(&r, "wrote bytes=40003\n"));
    CHECK(has(&r, "dotdot nodeid=1 dir=1\n"));
    CHECK(has(&r, "PASS fs\n"));
    CHECK(written_ok());
    share_remove();
}

/* INIT, LOOKUP, GETATTR, OPEN, READ, RELEASE, CREATE, WRITE, IOCTL 42. */
static void test_fs_roundtrip(void)
{
    run_fs("test=fs tag=ckrun-test code=42", 42);
}

/* The status is the ioctl's argument, not a constant. */
static void test_fs_exit_code_7(void)
{
    run_fs("test=fs tag=ckrun-test code=7", 7);
}

static int setup_root(uint32_t ctx, void *arg)
{
    return krun_set_root(ctx, share);
}

/* krun_set_root's /init.krun: 0755, the embedded init's size, one shot. */
static void test_fs_init_krun(void)
{
    const uint8_t *init;
    size_t len = 0;
    char cmdline[64], line[80];
    struct guest_result r;
    struct guest_opts o = {.cmdline = cmdline, .setup = setup_root};

    CHECK(krun_get_default_init(&init, &len) == 0 && len > 0);
    snprintf(cmdline, sizeof(cmdline), "test=fs_init initlen=%zu", len);
    snprintf(line, sizeof(line), "init.krun mode=0x81ed size=%zu\n", len);
    share_create();
    CHECK(guest_run(&o, &r) == 0 && !r.timed_out);
    CHECK_EQ(r.status, 0);
    CHECK(has(&r, line));
    CHECK(has(&r, "init.krun ELF\n"));
    CHECK(has(&r, "second lookup err=-2\n")); /* ENOENT: one shot */
    CHECK(has(&r, "dotdot nodeid=1 dir=1\n"));
    CHECK(has(&r, "PASS fs_init\n"));
    share_remove();
}

/* Framing errors get error replies; the device keeps serving. */
static void test_fs_bad_requests(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=fs_badlen tag=ckrun-test",
                           .setup = setup_share};

    share_create();
    CHECK(guest_run(&o, &r) == 0 && !r.timed_out);
    CHECK_EQ(r.status, 0);
    CHECK(has(&r, "len past buffer err=-22\n"));
    CHECK(has(&r, "len below header err=-22\n"));
    CHECK(has(&r, "name without NUL err=-22\n"));
    CHECK(has(&r, "opcode 9999 err=-38\n"));
    CHECK(has(&r, "nodeid never returned err=-"));
    CHECK(has(&r, "dotdot nodeid=1 dir=1\n"));
    CHECK(has(&r, "PASS fs_badlen\n"));
    share_remove();
}

static int setup_share_warn(uint32_t ctx, void *arg)
{
    krun_set_log_level(KRUN_LOG_LEVEL_WARN); /* for the NEEDS_RESET record */
    return setup_share(ctx, arg);
}

/* A reply buffer outside guest RAM: NEEDS_RESET with a config interrupt,
 * the VM runs on, and a reset brings the device back. */
static void test_fs_bad_chain(void)
{
    struct guest_result r;
    struct guest_opts o = {.cmdline = "test=fs_badchain tag=ckrun-test",
                           .setup = setup_share_warn};

    share_create();
    CHECK(guest_run(&o, &r) == 0 && !r.timed_out);
    CHECK_EQ(r.status, 0);
    CHECK(has(&r, "needs_reset=1 isr_config=1\n"));
    CHECK(has(&r, "recovered after reset\n"));
    CHECK(has(&r, "PASS fs_badchain\n"));
    CHECK(strstr(r.log, "device needs reset") != NULL);
    share_remove();
}

int main(void)
{
    guest_require_kvm();
    RUN(test_fs_roundtrip);
    RUN(test_fs_exit_code_7);
    RUN(test_fs_init_krun);
    RUN(test_fs_bad_requests);
    RUN(test_fs_bad_chain);
    return t_done();
}
