/*
 * test_api.c: the krun_* API layer without KVM: argument validation (exact
 * errno values), the context table, what gets recorded in struct vm_config,
 * the feature table, logging setup and krun_start_enter's pre-steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libkrun.h"

#include "api/api.h"
#include "api/args.h"
#include "api/ctx.h"
#include "config.h"
#include "fwlib.h"
#include "log.h"
#include "t.h"

static const char *const none[] = {NULL};
static char tap0[] = "tap0";
static char gv[] = "/g";

/* Run (expr) against the config of (id) with the table locked. */
#define WITH_CFG(id, var, ...)                                                 \
    do {                                                                       \
        struct ctx *ctx_ = ctx_get(id);                                        \
        CHECK(ctx_ != NULL);                                                   \
        if (ctx_) {                                                            \
            struct vm_config *var = &ctx_->cfg;                                \
            __VA_ARGS__;                                                       \
            ctx_put(ctx_);                                                     \
        }                                                                      \
    } while (0)

static uint32_t new_ctx(void)
{
    int32_t id = krun_create_ctx();

    CHECK(id >= 0);
    return (uint32_t)id;
}

static void test_ids_increase_and_free(void)
{
    int32_t a = krun_create_ctx(), b = krun_create_ctx();

    CHECK(a >= 0);
    CHECK_EQ(b, a + 1);
    CHECK_EQ(krun_free_ctx((uint32_t)a), 0);
    CHECK_EQ(krun_free_ctx((uint32_t)a), -ENOENT);
    CHECK_EQ(krun_set_vm_config((uint32_t)a, 1, 128), -ENOENT);
    CHECK_EQ(krun_create_ctx(), b + 1); /* ids are never reused */
    CHECK_EQ(krun_free_ctx((uint32_t)b), 0);
    CHECK_EQ(krun_free_ctx((uint32_t)b + 1), 0);
    CHECK_EQ(krun_free_ctx(0x7fffffff), -ENOENT);
}

static void test_defaults(void)
{
    uint32_t id = new_ctx();

    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_vcpus, 1);
        CHECK_EQ(c->ram_mib, 128);
        CHECK(!c->no_implicit_console);
        CHECK(!c->no_implicit_init);
        CHECK_EQ(c->vsock_mode, VM_VSOCK_IMPLICIT);
        CHECK_EQ(c->nr_fs, 0);
        CHECK(!c->env_set);
        CHECK_EQ(c->legacy_net.mac[0], 0x5a);
        CHECK_EQ(c->legacy_net.mac[5], 0xee);
    });
    krun_free_ctx(id);
}

/* Every ctx-taking function gives -ENOENT for an unknown context. */
static void test_unknown_ctx(void)
{
    const uint32_t bad = 0x7ffffff0;
    const char *const list[] = {"1:2", NULL};
    uint8_t mac[6] = {0};

    CHECK_EQ(krun_set_vm_config(bad, 1, 1), -ENOENT);
    CHECK_EQ(krun_set_root(bad, "/"), -ENOENT);
    CHECK_EQ(krun_add_virtiofs3(bad, "t", "/", 0, false), -ENOENT);
    CHECK_EQ(krun_set_root_disk(bad, "/x"), -ENOENT);
    CHECK_EQ(krun_set_data_disk(bad, "/x"), -ENOENT);
    CHECK_EQ(krun_add_disk(bad, "id", "/x", false), -ENOENT);
    CHECK_EQ(krun_set_root_disk_remount(bad, "/dev/vda", NULL, NULL), -ENOENT);
    CHECK_EQ(krun_add_net_unixstream(bad, "/s", -1, mac, 0, 0), -ENOENT);
    CHECK_EQ(krun_add_net_unixgram(bad, NULL, 3, mac, 0, 0), -ENOENT);
    CHECK_EQ(krun_add_net_tap(bad, tap0, mac, 0, 0), -ENOENT);
    CHECK_EQ(krun_set_passt_fd(bad, 3), -ENOENT);
    CHECK_EQ(krun_set_gvproxy_path(bad, gv), -ENOENT);
    CHECK_EQ(krun_set_net_mac(bad, mac), -ENOENT);
    CHECK_EQ(krun_set_port_map(bad, list), -ENOENT);
    CHECK_EQ(krun_set_gpu_options(bad, 0), -ENOENT);
    CHECK_EQ(krun_set_rlimits(bad, none), -ENOENT);
    CHECK_EQ(krun_set_smbios_oem_strings(bad, none), -ENOENT);
    CHECK_EQ(krun_set_workdir(bad, "/"), -ENOENT);
    CHECK_EQ(krun_set_exec(bad, "/bin/sh", NULL, none), -ENOENT);
    CHECK_EQ(krun_set_env(bad, none), -ENOENT);
    CHECK_EQ(krun_set_firmware(bad, "/fw"), -ENOENT);
    CHECK_EQ(krun_set_kernel(bad, "/k", 0, NULL, NULL), -ENOENT);
    CHECK_EQ(krun_add_vsock_port(bad, 1, "/s"), -ENOENT);
    CHECK_EQ(krun_add_vsock(bad, 0), -ENOENT);
    CHECK_EQ(krun_get_shutdown_eventfd(bad), -ENOENT);
    CHECK_EQ(krun_set_console_output(bad, "/o"), -ENOENT);
    CHECK_EQ(krun_setuid(bad, 1), -ENOENT);
    CHECK_EQ(krun_setgid(bad, 1), -ENOENT);
    CHECK_EQ(krun_set_nested_virt(bad, true), -ENOENT);
    CHECK_EQ(krun_split_irqchip(bad, false), -ENOENT);
    CHECK_EQ(krun_disable_implicit_console(bad), -ENOENT);
    CHECK_EQ(krun_disable_implicit_init(bad), -ENOENT);
    CHECK_EQ(krun_fs_add_overlay_dir(bad, "t", "d", 0755), -ENOENT);
    CHECK_EQ(krun_disable_implicit_vsock(bad), -ENOENT);
    CHECK_EQ(krun_set_kernel_console(bad, "ttyS0"), -ENOENT);
    CHECK_EQ(krun_add_virtio_console_default(bad, -1, -1, -1), -ENOENT);
    CHECK_EQ(krun_add_serial_console_default(bad, -1, -1), -ENOENT);
    CHECK_EQ(krun_add_virtio_console_multiport(bad), -ENOENT);
    CHECK_EQ(krun_add_console_port_inout(bad, 0, "p", -1, -1), -ENOENT);
    CHECK_EQ(krun_start_enter(bad), -ENOENT);
}

static void test_vm_config(void)
{
    uint32_t id = new_ctx();

    CHECK_EQ(krun_set_vm_config(id, 0, 128), -EINVAL);
    CHECK_EQ(krun_set_vm_config(id, 1, 0), -EINVAL);
    CHECK_EQ(krun_set_vm_config(id, 255, 1 << 20), 0);
    CHECK_EQ(krun_set_nested_virt(id, true), 0);
    CHECK_EQ(krun_split_irqchip(id, true), 0);
    CHECK_EQ(krun_setuid(id, 1000), 0);
    CHECK_EQ(krun_setgid(id, 100), 0);
    CHECK_EQ(krun_get_shutdown_eventfd(id), -EINVAL);
    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_vcpus, 255);
        CHECK_EQ(c->ram_mib, 1 << 20);
        CHECK(c->nested_virt && c->split_irqchip);
        CHECK(c->set_uid && c->uid == 1000);
        CHECK(c->set_gid && c->gid == 100);
    });
    krun_free_ctx(id);
}

static void test_utf8(void)
{
    CHECK(args_utf8_ok(""));
    CHECK(args_utf8_ok("plain /path"));
    CHECK(args_utf8_ok("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80")); /* é € 😀 */
    CHECK(!args_utf8_ok("\xff"));
    CHECK(!args_utf8_ok("\xc0\xaf"));         /* overlong '/' */
    CHECK(!args_utf8_ok("\xe0\x80\xaf"));     /* overlong */
    CHECK(!args_utf8_ok("\xed\xa0\x80"));     /* surrogate */
    CHECK(!args_utf8_ok("\xf4\x90\x80\x80")); /* > U+10FFFF */
    CHECK(!args_utf8_ok("\xc3"));             /* truncated */
    CHECK(!args_utf8_ok("\xe2\x82"));
    CHECK(!args_utf8_ok("a\x80")); /* stray continuation */
}

static void test_string_args(void)
{
    uint32_t id = new_ctx();
    const char *const bad_list[] = {"ok", "\xff", NULL};
    char buf[16];

    CHECK_EQ(krun_set_workdir(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_workdir(id, "\xc3("), -EINVAL);
    CHECK_EQ(krun_set_root(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_root(id, "\xff"), -EINVAL);
    CHECK_EQ(krun_set_exec(id, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(krun_set_exec(id, "/bin/sh", bad_list, none), -EINVAL);
    CHECK_EQ(krun_set_exec(id, "/bin/sh", none, bad_list), -EINVAL);
    CHECK_EQ(krun_set_rlimits(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_rlimits(id, bad_list), -EINVAL);
    CHECK_EQ(krun_set_smbios_oem_strings(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_kernel_console(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_firmware(id, NULL), -EINVAL);

    /* Strings are copied: the caller's buffer may change afterwards. */
    strcpy(buf, "/work");
    CHECK_EQ(krun_set_workdir(id, buf), 0);
    strcpy(buf, "/changed");
    CHECK_EQ(krun_set_kernel_console(id, "ttyS0"), 0);
    CHECK_EQ(krun_set_firmware(id, "/fw.fd"), 0);
    WITH_CFG(id, c, {
        CHECK(strcmp(c->workdir, "/work") == 0);
        CHECK(c->workdir != buf);
        CHECK(strcmp(c->kernel_console, "ttyS0") == 0);
        CHECK(strcmp(c->firmware_path, "/fw.fd") == 0);
    });
    CHECK_EQ(krun_set_workdir(id, "/second"), 0); /* replaces */
    WITH_CFG(id, c, CHECK(strcmp(c->workdir, "/second") == 0));
    krun_free_ctx(id);
}

static void test_array_limit(void)
{
    uint32_t id = new_ctx();
    const char **v = calloc(VM_MAX_ARGS + 2, sizeof(*v));

    CHECK(v != NULL);
    if (!v)
        return;
    for (size_t i = 0; i < VM_MAX_ARGS; i++)
        v[i] = "6=1:2";
    CHECK_EQ(krun_set_rlimits(id, v), 0); /* exactly 4096: fine */
    v[VM_MAX_ARGS] = "x";
    CHECK_EQ(krun_set_rlimits(id, v), -EINVAL);
    CHECK_EQ(krun_set_env(id, v), -EINVAL);
    CHECK_EQ(krun_set_exec(id, "/bin/true", v, none), -EINVAL);
    CHECK_EQ(krun_set_smbios_oem_strings(id, v), -EINVAL);
    free(v);
    krun_free_ctx(id);
}

static void test_exec_env(void)
{
    uint32_t id = new_ctx();
    const char *argv[] = {"-c", "echo hi", NULL};
    const char *envp[] = {"A=1", "B=2", NULL};
    const char *envp2[] = {"C=3", NULL};

    CHECK_EQ(krun_set_exec(id, "/bin/sh", argv, envp), 0);
    WITH_CFG(id, c, {
        CHECK(strcmp(c->exec_path, "/bin/sh") == 0);
        CHECK(c->argv && strcmp(c->argv[0], "-c") == 0 &&
              strcmp(c->argv[1], "echo hi") == 0 && !c->argv[2]);
        CHECK(c->env_set && strcmp(c->envp[1], "B=2") == 0 && !c->envp[2]);
    });
    /* krun_set_env replaces only the environment. */
    CHECK_EQ(krun_set_env(id, envp2), 0);
    WITH_CFG(id, c, {
        CHECK(strcmp(c->envp[0], "C=3") == 0 && !c->envp[1]);
        CHECK(strcmp(c->exec_path, "/bin/sh") == 0);
    });
    /* NULL argv = no arguments; NULL envp = a copy of our environment. */
    setenv("CKRUN_TEST_VAR", "x", 1);
    CHECK_EQ(krun_set_exec(id, "/bin/true", NULL, NULL), 0);
    WITH_CFG(id, c, {
        bool found = false;

        CHECK(c->argv == NULL);
        for (char **e = c->envp; e && *e; e++)
            found |= strcmp(*e, "CKRUN_TEST_VAR=x") == 0;
        CHECK(found);
    });
    CHECK_EQ(krun_set_rlimits(id, (const char *const[]){"7=1024:4096", NULL}),
             0);
    WITH_CFG(id, c, CHECK(strcmp(c->rlimits[0], "7=1024:4096") == 0));
    krun_free_ctx(id);
}

static void test_virtiofs(void)
{
    uint32_t id = new_ctx();
    char tag36[37], tag37[38];

    memset(tag36, 'a', 36);
    tag36[36] = '\0';
    memset(tag37, 'a', 37);
    tag37[37] = '\0';
    CHECK_EQ(krun_add_virtiofs(id, NULL, "/"), -EINVAL);
    CHECK_EQ(krun_add_virtiofs(id, tag37, "/"), -EINVAL);
    CHECK_EQ(krun_add_virtiofs(id, "\xff", "/"), -EINVAL);
    CHECK_EQ(krun_add_virtiofs(id, "t", "\xff"), -EINVAL);
    CHECK_EQ(krun_add_virtiofs(id, tag36, "/srv"), 0);
    CHECK_EQ(krun_add_virtiofs2(id, "shm", "/dev/shm", 1 << 20), 0);
    CHECK_EQ(krun_add_virtiofs3(id, "null", NULL, 0, true), 0);
    CHECK_EQ(krun_set_mapped_volumes(id, none), -EINVAL);
    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_fs, 3);
        CHECK(strcmp(c->fs[0].tag, tag36) == 0);
        CHECK(strcmp(c->fs[0].path, "/srv") == 0 && !c->fs[0].add_init);
        CHECK_EQ(c->fs[1].shm_size, 1 << 20);
        CHECK(c->fs[2].path == NULL && c->fs[2].read_only);
    });
    krun_free_ctx(id);
}

static void test_root_and_implicit_init(void)
{
    uint32_t a = new_ctx(), b = new_ctx();

    CHECK_EQ(krun_set_root(a, "/"), 0);
    WITH_CFG(a, c, {
        CHECK_EQ(c->nr_fs, 1);
        CHECK(strcmp(c->fs[0].tag, KRUN_FS_ROOT_TAG) == 0);
        CHECK_EQ(c->fs[0].shm_size, 1ULL << 29);
        CHECK(c->fs[0].add_init && !c->fs[0].read_only);
    });
    CHECK_EQ(krun_disable_implicit_init(b), 0);
    CHECK_EQ(krun_add_virtiofs3(b, KRUN_FS_ROOT_TAG, "/", 0, true), 0);
    WITH_CFG(b, c, CHECK(!c->fs[0].add_init && c->fs[0].read_only));
    krun_free_ctx(a);
    krun_free_ctx(b);
}

static void test_default_init(void)
{
    const uint8_t *data;
    size_t len;

    CHECK_EQ(krun_get_default_init(NULL, &len), -EINVAL);
    CHECK_EQ(krun_get_default_init(&data, NULL), -EINVAL);
    CHECK_EQ(krun_get_default_init(&data, &len),
             krun_has_feature(KRUN_FEATURE_INIT_BLOB) ? 0 : -ENOTSUP);
}

static void test_overlays(void)
{
    static const uint8_t blob[] = "hello";
    uint32_t id = new_ctx();

    CHECK_EQ(krun_fs_add_overlay_dir(id, "fs", "d", 0755), -ENOENT);
    CHECK_EQ(krun_add_virtiofs3(id, "fs", NULL, 0, false), 0);
    CHECK_EQ(krun_fs_add_overlay_dir(id, NULL, "d", 0755), -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_dir(id, "fs", NULL, 0755), -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "f", NULL, 1, 0644, false),
             -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "", blob, 5, 0644, false),
             -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "/", blob, 5, 0644, false),
             -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_dir(id, "nope", "d", 0755), -ENOENT);
    CHECK_EQ(krun_fs_add_overlay_dir(id, "fs", "etc/x", 0755), -ENOENT);
    CHECK_EQ(krun_fs_add_overlay_dir(id, "fs", "/etc", 0755), 0);
    CHECK_EQ(krun_fs_add_overlay_dir(id, "fs", "etc", 0755), -EEXIST);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "etc/hostname", blob, 5,
                                      0100644, true),
             0);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "etc/hostname/x", blob, 5, 0644,
                                      false),
             -ENOTDIR);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "etc//y", blob, 5, 0644, false),
             -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "etc/", blob, 5, 0644, false),
             -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "etc/..", blob, 5, 0644, false),
             -EINVAL);
    CHECK_EQ(krun_fs_add_overlay_file(id, "fs", "empty", NULL, 0, 0600, false),
             0);
    WITH_CFG(id, c, {
        struct vm_fs *fs = &c->fs[0];

        CHECK_EQ(fs->nr_ovl, 3);
        CHECK(strcmp(fs->ovl[0].path, "etc") == 0);
        CHECK_EQ(fs->ovl[0].mode, S_IFDIR | 0755);
        CHECK(strcmp(fs->ovl[1].path, "etc/hostname") == 0);
        CHECK(fs->ovl[1].data == blob); /* referenced, not copied */
        CHECK_EQ(fs->ovl[1].len, 5);
        CHECK_EQ(fs->ovl[1].mode, S_IFREG | 0644);
        CHECK(fs->ovl[1].one_shot);
    });
    krun_free_ctx(id);
}

static void test_disks(void)
{
    uint32_t id = new_ctx();

    CHECK_EQ(krun_add_disk(id, NULL, "/img", false), -EINVAL);
    CHECK_EQ(krun_add_disk(id, "id", NULL, false), -EINVAL);
    CHECK_EQ(krun_add_disk2(id, "id", "/img", 3, false), -EINVAL);
    CHECK_EQ(
        krun_add_disk3(id, "id", "/img", KRUN_DISK_FORMAT_RAW, false, false, 3),
        -EINVAL);
    CHECK_EQ(krun_set_root_disk_remount(id, "/dev/vda", NULL, NULL), -EINVAL);
    CHECK_EQ(krun_add_disk(id, "root", "/a.img", true), 0);
    CHECK_EQ(krun_add_disk3(id, "data", "/b.qcow2", KRUN_DISK_FORMAT_QCOW2,
                            false, true, KRUN_SYNC_NONE),
             0);
    CHECK_EQ(krun_set_root_disk(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_root_disk(id, "/r1"), 0);
    CHECK_EQ(krun_set_root_disk(id, "/r2"), 0);
    CHECK_EQ(krun_set_data_disk(id, "/d"), 0);
    CHECK_EQ(krun_set_root_disk_remount(id, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(krun_set_root_disk_remount(id, "/dev/vda1", "auto", "ro"), 0);
    CHECK_EQ(krun_set_root_disk_remount(id, "/dev/vda1", "ext4", NULL),
             -EINVAL); /* a /dev/root exists now */
    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_disks, 2);
        CHECK(strcmp(c->disks[0].id, "root") == 0 && c->disks[0].read_only);
        CHECK_EQ(c->disks[0].format, KRUN_DISK_FORMAT_RAW);
        CHECK_EQ(c->disks[0].sync_mode, KRUN_SYNC_FULL);
        CHECK(c->disks[1].direct_io);
        CHECK_EQ(c->disks[1].sync_mode, KRUN_SYNC_NONE);
        CHECK(strcmp(c->root_disk, "/r2") == 0);
        CHECK(c->block_root && !c->block_root_fstype);
        CHECK(strcmp(c->block_root_device, "/dev/vda1") == 0);
        CHECK(strcmp(c->block_root_options, "ro") == 0);
        CHECK_EQ(c->nr_fs, 1);
        CHECK(c->fs[0].path == NULL && c->fs[0].add_init);
        CHECK_EQ(c->fs[0].nr_ovl, 4);
        CHECK(strcmp(c->fs[0].ovl[3].path, "newroot") == 0);
    });
    /* Root already there: remount refused even with disks. */
    uint32_t b = new_ctx();
    CHECK_EQ(krun_set_root(b, "/"), 0);
    CHECK_EQ(krun_add_disk(b, "x", "/x", false), 0);
    CHECK_EQ(krun_set_root_disk_remount(b, "/dev/vda", NULL, NULL), -EINVAL);
    krun_free_ctx(id);
    krun_free_ctx(b);
}

static void test_net(void)
{
    uint8_t mac[6] = {1, 2, 3, 4, 5, 6};
    uint32_t id = new_ctx();

    /* Exactly one of path and fd. */
    CHECK_EQ(krun_add_net_unixstream(id, NULL, -1, mac, 0, 0), -EINVAL);
    CHECK_EQ(krun_add_net_unixstream(id, "/s", 3, mac, 0, 0), -EINVAL);
    CHECK_EQ(krun_add_net_unixstream(id, "/s", -1, NULL, 0, 0), -EINVAL);
    CHECK_EQ(krun_add_net_unixstream(id, "/s", -1, mac, 1 << 2, 0), -EINVAL);
    CHECK_EQ(krun_add_net_unixstream(id, "/s", -1, mac, 0, NET_FLAG_VFKIT),
             -EINVAL);
    CHECK_EQ(krun_add_net_unixgram(id, "/s", -1, mac, 0, 1 << 2), -EINVAL);
    CHECK_EQ(krun_add_net_tap(id, NULL, mac, 0, 0), -EINVAL);
    CHECK_EQ(krun_add_net_tap(id, tap0, mac, 0, NET_FLAG_VFKIT), -EINVAL);
    CHECK_EQ(krun_add_net_tap(id, tap0, mac, NET_FEATURE_GUEST_TSO4, 0),
             -EINVAL);
    CHECK_EQ(krun_set_passt_fd(id, -1), -EINVAL);
    CHECK_EQ(krun_set_gvproxy_path(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_net_mac(id, NULL), -EINVAL);

    /* Legacy interface: allowed before any krun_add_net_*. */
    CHECK_EQ(krun_set_passt_fd(id, 5), 0);
    CHECK_EQ(krun_set_net_mac(id, mac), 0);
    CHECK_EQ(krun_add_net_unixstream(id, NULL, 7, mac, COMPAT_NET_FEATURES,
                                     NET_FLAG_DHCP_CLIENT),
             0);
    CHECK_EQ(krun_add_net_unixgram(id, "/g", -1, mac, 0,
                                   NET_FLAG_VFKIT | NET_FLAG_DHCP_CLIENT),
             0);
    CHECK_EQ(krun_add_net_tap(id, tap0, mac,
                              NET_FEATURE_GUEST_CSUM | NET_FEATURE_GUEST_TSO4,
                              0),
             0);
    CHECK_EQ(krun_set_passt_fd(id, 5), -EINVAL);
    CHECK_EQ(krun_set_gvproxy_path(id, gv), -EINVAL);
    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_nets, 3);
        CHECK_EQ(c->nets[0].fd, 7);
        CHECK(c->nets[0].path == NULL);
        CHECK_EQ(c->nets[0].features, 0x4c83);
        CHECK_EQ(c->nets[1].backend, VM_NET_UNIXGRAM);
        CHECK(strcmp(c->nets[1].path, "/g") == 0 && c->nets[1].fd == -1);
        CHECK(strcmp(c->nets[2].path, "tap0") == 0);
        CHECK_EQ(c->nets[2].mac[5], 6);
        CHECK_EQ(c->legacy_net.kind, VM_LEGACY_NET_PASST);
        CHECK_EQ(c->legacy_net.fd, 5);
        CHECK_EQ(c->legacy_net.mac[0], 1);
    });
    krun_free_ctx(id);
}

static void test_port_map(void)
{
    uint32_t id = new_ctx();
    uint8_t mac[6] = {0};

#define PM(...) ((const char *const[]){__VA_ARGS__, NULL})
    CHECK_EQ(krun_set_port_map(id, PM("8080")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("1:2:3")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM(":80")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("80:")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("65536:80")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("-1:80")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("8a:80")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("1:80", "2:80")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("1:80", "1:81")), -EINVAL);
    CHECK_EQ(krun_set_port_map(id, PM("18000:8000", "65535:0")), 0);
    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_port_map, 2);
        CHECK_EQ(c->port_map[0].host, 18000);
        CHECK_EQ(c->port_map[0].guest, 8000);
        CHECK_EQ(c->port_map[1].host, 65535);
    });
    CHECK_EQ(krun_set_port_map(id, none), 0);
    WITH_CFG(id, c, CHECK_EQ(c->nr_port_map, 0));
    CHECK_EQ(krun_set_port_map(id, NULL), 0);
    CHECK_EQ(krun_add_net_unixstream(id, "/s", -1, mac, 0, 0), 0);
    CHECK_EQ(krun_set_port_map(id, PM("1:2")), -EINVAL);
    krun_free_ctx(id);

    id = new_ctx();
    CHECK_EQ(krun_disable_implicit_vsock(id), 0);
    CHECK_EQ(krun_set_port_map(id, PM("1:2")), -ENODEV);
#undef PM
    krun_free_ctx(id);
}

static void test_vsock(void)
{
    char path[] = "/tmp/ckrun-test-vsock-XXXXXX";
    uint32_t id = new_ctx();
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    CHECK_EQ(krun_add_vsock_port(id, 1, NULL), -EINVAL);
    CHECK_EQ(krun_add_vsock_port2(id, 2, path, true), -EEXIST);
    CHECK_EQ(krun_add_vsock_port2(id, 2, path, false), 0);
    close(fd);
    unlink(path);
    CHECK_EQ(krun_add_vsock_port2(id, 3, path, true), 0);
    CHECK_EQ(krun_add_vsock_port(id, 2, "/replaced"), 0);
    WITH_CFG(id, c, {
        CHECK_EQ(c->nr_vsock_ports, 2);
        CHECK(strcmp(c->vsock_ports[0].path, "/replaced") == 0);
        CHECK(c->vsock_ports[1].listen);
    });
    CHECK_EQ(krun_add_vsock(id, 0), -EEXIST); /* implicit still on */
    CHECK_EQ(krun_disable_implicit_vsock(id), 0);
    CHECK_EQ(krun_add_vsock_port(id, 4, "/s"), -ENODEV);
    CHECK_EQ(krun_add_vsock(id, 4), -EINVAL);
    CHECK_EQ(krun_add_vsock(id, KRUN_TSI_HIJACK_INET | KRUN_TSI_HIJACK_UNIX),
             0);
    CHECK_EQ(krun_add_vsock(id, 0), -EEXIST);
    CHECK_EQ(krun_add_vsock_port(id, 4, "/s"), 0);
    WITH_CFG(id, c, {
        CHECK_EQ(c->vsock_mode, VM_VSOCK_EXPLICIT);
        CHECK_EQ(c->tsi_features, 3);
    });
    CHECK_EQ(krun_disable_implicit_vsock(id), 0); /* cancels add_vsock */
    WITH_CFG(id, c, CHECK_EQ(c->vsock_mode, VM_VSOCK_DISABLED));
    krun_free_ctx(id);
}

static void test_consoles(void)
{
    uint32_t id = new_ctx();
    int pipefd[2];

    CHECK_EQ(pipe(pipefd), 0);
    CHECK_EQ(krun_set_console_output(id, NULL), -EINVAL);
    CHECK_EQ(krun_set_console_output(id, "/tmp/out"), 0);
    CHECK_EQ(krun_set_console_output(id, "/tmp/out2"), -EINVAL);
    CHECK_EQ(krun_disable_implicit_console(id), 0);
    CHECK_EQ(krun_add_virtio_console_default(id, 0, 1, 2), 0);
    CHECK_EQ(krun_add_virtio_console_multiport(id), 1);
    CHECK_EQ(krun_add_virtio_console_multiport(id), 2);
    CHECK_EQ(krun_add_console_port_tty(id, 1, "tty", -1), -EINVAL);
    CHECK_EQ(krun_add_console_port_tty(id, 1, "tty", pipefd[0]), -ENOTTY);
    CHECK_EQ(krun_add_console_port_tty(id, 0, "tty", pipefd[0]), -EINVAL);
    CHECK_EQ(krun_add_console_port_inout(id, 0, "p", -1, -1), -EINVAL);
    CHECK_EQ(krun_add_console_port_inout(id, 9, "p", -1, -1), -EINVAL);
    CHECK_EQ(krun_add_console_port_inout(id, 1, "fifo", pipefd[0], pipefd[1]),
             0);
    CHECK_EQ(krun_add_console_port_inout(id, 1, NULL, -1, -1), 0);
    CHECK_EQ(krun_add_serial_console_default(id, 0, 1), 0);
    WITH_CFG(id, c, {
        CHECK(c->no_implicit_console);
        CHECK(strcmp(c->console_output, "/tmp/out") == 0);
        CHECK_EQ(c->nr_consoles, 3);
        CHECK_EQ(c->consoles[0].kind, VM_CONSOLE_DEFAULT);
        CHECK_EQ(c->consoles[0].err_fd, 2);
        CHECK_EQ(c->consoles[1].nr_ports, 2);
        CHECK(strcmp(c->consoles[1].ports[0].name, "fifo") == 0);
        CHECK(strcmp(c->consoles[1].ports[1].name, "") == 0);
        CHECK(!c->consoles[1].ports[0].is_tty);
        CHECK_EQ(c->nr_serials, 1);
    });
    close(pipefd[0]);
    close(pipefd[1]);
    krun_free_ctx(id);
}

static void test_kernel(void)
{
    uint32_t id = new_ctx();

    CHECK_EQ(krun_set_kernel(id, NULL, 0, NULL, NULL), -EINVAL);
    CHECK_EQ(krun_set_kernel(id, "/k", 6, NULL, NULL), -EINVAL);
    CHECK_EQ(krun_set_kernel(id, "/k", 1, "/nonexistent/initrd", NULL),
             -EINVAL);
    CHECK_EQ(
        krun_set_kernel(id, "/k", KRUN_KERNEL_FORMAT_ELF, "/", "console=hvc0"),
        0);
    WITH_CFG(id, c, {
        CHECK(strcmp(c->kernel_path, "/k") == 0);
        CHECK_EQ(c->kernel_format, 1);
        CHECK(strcmp(c->initramfs, "/") == 0);
        CHECK(strcmp(c->kernel_cmdline, "console=hvc0") == 0);
    });
    krun_free_ctx(id);
}

static void test_features(void)
{
    CHECK_EQ(krun_has_feature(3), -EINVAL);
    CHECK_EQ(krun_has_feature(5), -EINVAL);
    CHECK_EQ(krun_has_feature(12), -EINVAL);
    CHECK_EQ(krun_has_feature(1ULL << 40), -EINVAL);
    /* Of the optional features only net, blk and the embedded init exist. */
    for (uint64_t f = 0; f < KRUN_FEATURE_INIT_BLOB; f++) {
        if (f != 3 && f != 5)
            CHECK_EQ(krun_has_feature(f),
                     f == KRUN_FEATURE_BLK || f == KRUN_FEATURE_NET);
    }
    CHECK_EQ(krun_has_feature(KRUN_FEATURE_INIT_BLOB), 1);
}

static void test_unsupported(void)
{
    uint32_t id = new_ctx();
    struct krun_display_backend be = {0};
    uint16_t q[] = {256};

    CHECK_EQ(krun_set_gpu_options(id, VIRGLRENDERER_USE_EGL), 0);
    WITH_CFG(id, c, CHECK_EQ(c->gpu_shm_size, 1ULL << 33));
    CHECK_EQ(krun_set_gpu_options2(id, VIRGLRENDERER_VENUS, 1 << 20), 0);
    WITH_CFG(id, c, CHECK_EQ(c->gpu_flags, 1 << 6));
    CHECK_EQ(krun_add_display(id, 800, 600), -ENOTSUP);
    CHECK_EQ(krun_display_set_edid(id, 0, NULL, 0), -ENOTSUP);
    CHECK_EQ(krun_display_set_dpi(id, 0, 96), -ENOTSUP);
    CHECK_EQ(krun_display_set_physical_size(id, 0, 1, 1), -ENOTSUP);
    CHECK_EQ(krun_display_set_refresh_rate(id, 0, 60), -ENOTSUP);
    CHECK_EQ(krun_set_display_backend(id, &be, sizeof(be)), -ENOTSUP);
    CHECK_EQ(krun_add_input_device(id, NULL, 0, NULL, 0), -ENOTSUP);
    CHECK_EQ(krun_add_input_device_fd(id, 0), -ENOTSUP);
    CHECK_EQ(krun_add_vhost_user_device(id, KRUN_VIRTIO_DEVICE_RNG, "/s", NULL,
                                        1, q),
             -ENOTSUP);
    CHECK_EQ(krun_set_tee_config_file(id, "/t.json"), -ENOTSUP);
    krun_free_ctx(id);
}

static void test_host_queries(void)
{
    int32_t n = krun_check_nested_virt();
    int32_t m = krun_get_max_vcpus();

    CHECK(n == 0 || n == 1);
    if (access("/dev/kvm", R_OK | W_OK) == 0)
        CHECK(m > 0);
    else
        CHECK_EQ(m, -EINVAL);
}

/* Logging: fd rules, style/options validation, repeated calls. */
static void test_log(void)
{
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    CHECK_EQ(krun_init_log(-2, 1, 0, 0), -EINVAL);
    CHECK_EQ(krun_init_log(0, 1, 0, 0), -EINVAL);
    CHECK_EQ(krun_init_log(-1, 1, 3, 0), -EINVAL);
    CHECK_EQ(krun_init_log(-1, 1, 0, 2), -EINVAL);
    CHECK_EQ(krun_init_log(KRUN_LOG_TARGET_DEFAULT, KRUN_LOG_LEVEL_WARN,
                           KRUN_LOG_STYLE_NEVER, KRUN_LOG_OPTION_NO_ENV),
             0);
    CHECK_EQ(krun_init_log(1, 99, KRUN_LOG_STYLE_ALWAYS, 0), 0);
    CHECK_EQ(krun_init_log(fd, KRUN_LOG_LEVEL_TRACE, 0, 0), 0);
    /* The logger now owns (fd); reconfiguring closes it. */
    CHECK_EQ(krun_set_log_level(KRUN_LOG_LEVEL_ERROR), 0);
    CHECK(fcntl(fd, F_GETFD) < 0);
    CHECK_EQ(krun_set_log_level(KRUN_LOG_LEVEL_OFF), 0); /* again: no abort */
    setenv("RUST_LOG", "foo=trace,debug", 1);
    CHECK_EQ(krun_set_log_level(0), 0);
    CHECK(log_enabled(LOG_DEBUG) && !log_enabled(LOG_TRACE));
    setenv("RUST_LOG", "2", 1);
    CHECK_EQ(krun_init_log(-1, 5, 0, 0), 0);
    CHECK(log_enabled(LOG_WARN) && !log_enabled(LOG_INFO));
    CHECK_EQ(krun_init_log(-1, 0, 0, KRUN_LOG_OPTION_NO_ENV), 0);
    CHECK(!log_enabled(LOG_ERROR));
    setenv("RUST_LOG", "nonsense", 1);
    CHECK_EQ(krun_set_log_level(3), 0);
    CHECK(log_enabled(LOG_INFO) && !log_enabled(LOG_DEBUG));
    unsetenv("RUST_LOG");
    CHECK_EQ(krun_set_log_level(KRUN_LOG_LEVEL_OFF), 0);
}

static void test_start_enter(void)
{
    uint32_t id = new_ctx();
    int32_t rc;

    /* No kernel given: depends on libkrunfw being loadable here. */
    if (!fwlib_available()) {
        CHECK_EQ(krun_start_enter(id), -ENOENT);
        CHECK_EQ(krun_free_ctx(id), -ENOENT); /* consumed */
    } else {
        t_diag("libkrunfw.so.5 is loadable: skipping the -ENOENT case");
        krun_free_ctx(id);
    }
    /* With a (missing) kernel file the VMM is asked and must fail. */
    id = new_ctx();
    CHECK_EQ(krun_set_kernel(id, "/nonexistent/vmlinux", 1, NULL, NULL), 0);
    CHECK_EQ(krun_disable_implicit_console(id), 0);
    rc = krun_start_enter(id);
    CHECK(rc < 0);
    CHECK_EQ(krun_free_ctx(id), -ENOENT); /* consumed on failure too */
    CHECK_EQ(krun_start_enter(id), -ENOENT);
    /* A missing disk image: -EINVAL with a message naming it, before the
     * kernel is looked at. */
    id = new_ctx();
    CHECK_EQ(krun_set_kernel(id, "/nonexistent/vmlinux", 1, NULL, NULL), 0);
    CHECK_EQ(krun_add_disk(id, "d", "/nonexistent/disk.img", false), 0);
    {
        char tmpl[] = "/tmp/test_api_log.XXXXXX", buf[4096] = "";
        int fd = mkstemp(tmpl), rd = dup(fd);

        unlink(tmpl);
        CHECK_EQ(krun_init_log(fd, KRUN_LOG_LEVEL_ERROR, KRUN_LOG_STYLE_NEVER,
                               KRUN_LOG_OPTION_NO_ENV),
                 0);
        CHECK_EQ(krun_start_enter(id), -EINVAL);
        CHECK_EQ(krun_set_log_level(KRUN_LOG_LEVEL_OFF), 0);
        CHECK(pread(rd, buf, sizeof(buf) - 1, 0) > 0);
        CHECK(strstr(buf, "/nonexistent/disk.img") != NULL);
        CHECK(strstr(buf, "vmlinux") == NULL);
        close(rd);
    }
}

/* Devices ckrun does not have yet: their entry points refuse, naming the
 * feature, instead of recording settings nothing would use. */
static void test_pending_devices(void)
{
    uint8_t mac[6] = {0};
    const char *map[] = {"8080:80", NULL};
    int32_t ctx = krun_create_ctx();

    api_pending_allow(false);
    /* virtio-net exists: recorded (the legacy setters then refuse, §2.7). */
    CHECK_EQ(krun_set_net_mac(ctx, mac), 0);
    CHECK_EQ(krun_add_net_unixstream(ctx, NULL, 3, mac, 0, 0), 0);
    CHECK_EQ(krun_add_net_unixgram(ctx, "/x", -1, mac, 0, 0), 0);
    CHECK_EQ(krun_add_net_tap(ctx, (char[]){"tap0"}, mac, 0, 0), 0);
    CHECK_EQ(krun_set_passt_fd(ctx, 3), -EINVAL);
    CHECK_EQ(krun_set_gvproxy_path(ctx, (char[]){"/x"}), -EINVAL);
    CHECK_EQ(krun_set_port_map(ctx, map), -ENOTSUP);
    CHECK_EQ(krun_add_vsock_port(ctx, 1, "/tmp/x"), -ENOTSUP);
    CHECK_EQ(krun_add_vsock_port2(ctx, 1, "/tmp/x", false), -ENOTSUP);
    CHECK_EQ(krun_add_vsock(ctx, 0), -ENOTSUP);
    CHECK_EQ(krun_set_firmware(ctx, "/x"), -ENOTSUP);
    CHECK_EQ(krun_set_nested_virt(ctx, true), -ENOTSUP);
    CHECK_EQ(krun_set_nested_virt(ctx, false), 0);
    CHECK_EQ(krun_split_irqchip(ctx, true), -ENOTSUP);
    CHECK_EQ(krun_split_irqchip(ctx, false), 0);
    CHECK_EQ(krun_set_kernel(ctx, "/k", KRUN_KERNEL_FORMAT_RAW, NULL, NULL),
             -ENOTSUP);
    CHECK_EQ(
        krun_set_kernel(ctx, "/k", KRUN_KERNEL_FORMAT_ELF, "/dev/null", NULL),
        -ENOTSUP);
    CHECK_EQ(krun_set_kernel(ctx, "/k", KRUN_KERNEL_FORMAT_ELF, NULL, NULL), 0);
    /* What remains of vsock is truthful: there is none to disable. */
    CHECK_EQ(krun_disable_implicit_vsock(ctx), 0);
    krun_free_ctx((uint32_t)ctx);
    api_pending_allow(true);
}

int main(void)
{
    /* The validation and recording of not-yet-built devices is tested as
     * upstream behaves; test_pending_devices checks what callers get today. */
    api_pending_allow(true);
    RUN(test_pending_devices);
    RUN(test_ids_increase_and_free);
    RUN(test_defaults);
    RUN(test_unknown_ctx);
    RUN(test_vm_config);
    RUN(test_utf8);
    RUN(test_string_args);
    RUN(test_array_limit);
    RUN(test_exec_env);
    RUN(test_virtiofs);
    RUN(test_root_and_implicit_init);
    RUN(test_default_init);
    RUN(test_overlays);
    RUN(test_disks);
    RUN(test_net);
    RUN(test_port_map);
    RUN(test_vsock);
    RUN(test_consoles);
    RUN(test_kernel);
    RUN(test_features);
    RUN(test_unsupported);
    RUN(test_host_queries);
    RUN(test_log);
    RUN(test_start_enter);
    return t_done();
}
