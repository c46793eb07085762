/* test_cmdline: composing the guest kernel command line (§3.7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "config.h"
#include "libkrun.h"
#include "t.h"

/* A writable copy of a literal (config strings are char *). */
#define S(lit) ((char[]){lit})

static const char *const devs[] = {"virtio_mmio.device=4K@0xd0000000:5",
                                   "virtio_mmio.device=4K@0xd0001000:6"};

static char *compose(struct vm_config *cfg, char *const *env, int *err)
{
    char *out = NULL;

    *err = cmdline_compose(cfg, devs, 2, env, &out);
    return out;
}

static void test_default_line(void)
{
    struct vm_config cfg = {0};
    int err;
    char *s = compose(&cfg, NULL, &err);

    CHECK_EQ(err, 0);
    CHECK(s && strcmp(s, CMDLINE_DEFAULT_BASE
                      " init=/init.krun"
                      " virtio_mmio.device=4K@0xd0000000:5"
                      " virtio_mmio.device=4K@0xd0001000:6 --") == 0);
    free(s);
}

/* KRUN_DHCP=1 after the devices iff an interface asks for DHCP (§3.7 6). */
static void test_dhcp(void)
{
    struct vm_net nets[2] = {{.flags = 0}, {.flags = NET_FLAG_DHCP_CLIENT}};
    struct vm_config cfg = {.nets = nets, .nr_nets = 1};
    int err;
    char *s = compose(&cfg, NULL, &err);

    CHECK_EQ(err, 0);
    CHECK(s && !strstr(s, "KRUN_DHCP"));
    free(s);
    cfg.nr_nets = 2;
    s = compose(&cfg, NULL, &err);
    CHECK_EQ(err, 0);
    CHECK(s && strstr(s, ":6 KRUN_DHCP=1 --"));
    free(s);
}

static void test_workload(void)
{
    char *argv[] = {S("-c"), S("printf 'a  b\\n'"), NULL};
    char *envp[] = {S("A=1"), S("B=two words"), NULL};
    char *rl[] = {S("7=1024:2048"), S("6=100:200"), NULL};
    struct vm_config cfg = {.exec_path = S("/bin/sh"),
                            .argv = argv,
                            .env_set = true,
                            .envp = envp,
                            .workdir = S("/my dir"),
                            .rlimits = rl};
    int err;
    char *s = compose(&cfg, NULL, &err);

    CHECK_EQ(err, 0);
    CHECK(s && strstr(s, " init=/init.krun KRUN_INIT=\"/bin/sh\" "
                         "KRUN_WORKDIR=\"/my dir\" "
                         "KRUN_RLIMITS=\"7=1024:2048,6=100:200\" "
                         "\"A=1\" \"B=two words\" virtio_mmio"));
    CHECK(s && strstr(s, ":6 -- \"-c\" \"printf 'a  b\\n'\"") &&
          s[strlen(s) - 1] == '"');
    free(s);
}

static void test_host_environment(void)
{
    char *env[] = {S("HOME=/root"), S("PATH=/usr/bin:/bin"), S("BROKEN"), NULL};
    struct vm_config cfg = {.exec_path = S("/bin/true"), .env_set = true};
    int err;
    char *s = compose(&cfg, env, &err);

    CHECK_EQ(err, 0);
    CHECK(s && strstr(s, " HOME=\"/root\" PATH=\"/usr/bin:/bin\" virtio"));
    CHECK(s && !strstr(s, "BROKEN"));
    free(s);
}

static void test_custom_prolog_and_console(void)
{
    struct vm_config cfg = {.kernel_cmdline = S("console=ttyS0 quiet"),
                            .kernel_console = S("hvc1")};
    int err;
    char *s = compose(&cfg, NULL, &err);

    CHECK_EQ(err, 0);
    CHECK(s && strncmp(s, "console=hvc1 quiet virtio_mmio", 30) == 0);
    CHECK(s && !strstr(s, "init=/init.krun"));
    free(s);
    /* A caller's own line is verbatim, quotes included (upstream too). */
    cfg.kernel_cmdline = S("console=ttyS0 K=\"a b\"");
    s = compose(&cfg, NULL, &err);
    CHECK(s && strncmp(s, "console=hvc1 K=\"a b\" virtio", 27) == 0);
    free(s);
    cfg.kernel_cmdline = NULL;
    cfg.kernel_console = S("ttyS0");
    s = compose(&cfg, NULL, &err);
    CHECK(s && strstr(s, "nomodule console=ttyS0 rootfstype=virtiofs"));
    free(s);
}

static void test_block_root(void)
{
    struct vm_config cfg = {.block_root = true,
                            .block_root_device = S("/dev/vda1"),
                            .block_root_fstype = S("ext4")};
    int err;
    char *s = compose(&cfg, NULL, &err);

    CHECK(s && strstr(s, " KRUN_BLOCK_ROOT_DEVICE=\"/dev/vda1\" "
                         "KRUN_BLOCK_ROOT_FSTYPE=\"ext4\" virtio"));
    CHECK(s && !strstr(s, "OPTIONS"));
    free(s);
}

static void test_rejected_values(void)
{
    char *quote[] = {S("say \"hi\""), NULL};
    char *newline[] = {S("A=line\nbreak"), NULL};
    char *noeq[] = {S("JUSTAKEY"), NULL};
    struct vm_config cfg = {.exec_path = S("/bin/echo"), .argv = quote};
    int err;

    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -EINVAL);
    cfg.argv = NULL;
    cfg.env_set = true;
    cfg.envp = newline;
    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -EINVAL);
    cfg.envp = noeq;
    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -EINVAL);
    cfg.envp = NULL;
    cfg.env_set = false;
    cfg.kernel_console = S("tty S0");
    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -EINVAL);
}

static void test_guest_limits(void)
{
    char *envp[40], *argv[40], bufs[40][16];
    struct vm_config cfg = {.exec_path = S("/bin/true"), .env_set = true};
    char *s, *big;
    int err;

    for (int i = 0; i < 39; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "V%d=%d", i, i);
        envp[i] = argv[i] = bufs[i];
    }
    /* KRUN_INIT + 29 entries + HOME + TERM = 32: fits. */
    envp[29] = NULL;
    cfg.envp = envp;
    s = compose(&cfg, NULL, &err);
    CHECK_EQ(err, 0);
    free(s);
    envp[29] = bufs[29];
    envp[30] = NULL;
    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -E2BIG);
    /* 31 arguments plus argv[0] fit, 32 do not. */
    cfg.envp = NULL;
    cfg.env_set = false;
    argv[31] = NULL;
    cfg.argv = argv;
    s = compose(&cfg, NULL, &err);
    CHECK_EQ(err, 0);
    free(s);
    argv[31] = bufs[31];
    argv[32] = NULL;
    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -E2BIG);
    /* Over the 2048 bytes the guest keeps. */
    big = malloc(3000);
    memset(big, 'x', 2999);
    big[2999] = '\0';
    argv[0] = big;
    argv[1] = NULL;
    CHECK(compose(&cfg, NULL, &err) == NULL);
    CHECK_EQ(err, -E2BIG);
    free(big);
}

int main(void)
{
    RUN(test_default_line);
    RUN(test_workload);
    RUN(test_dhcp);
    RUN(test_host_environment);
    RUN(test_custom_prolog_and_console);
    RUN(test_block_root);
    RUN(test_rejected_values);
    RUN(test_guest_limits);
    return t_done();
}
