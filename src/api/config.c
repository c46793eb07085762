/* config.c: defaults and destruction of struct vm_config (config.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/args.h"

static const uint8_t default_legacy_mac[6] = {0x5a, 0x94, 0xef,
                                              0xe4, 0x0c, 0xee};

void vm_config_init(struct vm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nr_vcpus = 1;
    cfg->ram_mib = 128;
    cfg->vsock_mode = VM_VSOCK_IMPLICIT;
    cfg->legacy_net.kind = VM_LEGACY_NET_NONE;
    cfg->legacy_net.fd = -1;
    memcpy(cfg->legacy_net.mac, default_legacy_mac, sizeof(default_legacy_mac));
}

static void free_fs(struct vm_fs *fs)
{
    free(fs->path);
    for (size_t i = 0; i < fs->nr_ovl; i++)
        free(fs->ovl[i].path);
    free(fs->ovl);
}

static void free_console(struct vm_console *con)
{
    for (size_t i = 0; i < con->nr_ports; i++)
        free(con->ports[i].name);
    free(con->ports);
}

void vm_config_free(struct vm_config *cfg)
{
    char *strings[] = {
        cfg->kernel_path,       cfg->initramfs,          cfg->kernel_cmdline,
        cfg->firmware_path,     cfg->exec_path,          cfg->workdir,
        cfg->root_disk,         cfg->data_disk,          cfg->block_root_device,
        cfg->block_root_fstype, cfg->block_root_options, cfg->legacy_net.path,
        cfg->console_output,    cfg->kernel_console,
    };

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        free(strings[i]);
    args_strv_free(cfg->oem_strings);
    args_strv_free(cfg->argv);
    args_strv_free(cfg->envp);
    args_strv_free(cfg->rlimits);
    for (size_t i = 0; i < cfg->nr_fs; i++)
        free_fs(&cfg->fs[i]);
    free(cfg->fs);
    for (size_t i = 0; i < cfg->nr_disks; i++) {
        free(cfg->disks[i].id);
        free(cfg->disks[i].path);
    }
    free(cfg->disks);
    for (size_t i = 0; i < cfg->nr_nets; i++)
        free(cfg->nets[i].path);
    free(cfg->nets);
    for (size_t i = 0; i < cfg->nr_vsock_ports; i++)
        free(cfg->vsock_ports[i].path);
    free(cfg->vsock_ports);
    free(cfg->port_map);
    for (size_t i = 0; i < cfg->nr_consoles; i++)
        free_console(&cfg->consoles[i]);
    free(cfg->consoles);
    free(cfg->serials);
    memset(cfg, 0, sizeof(*cfg));
}
