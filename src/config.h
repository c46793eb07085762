/*
 * config.h: struct vm_config, the plain description of one VM as the krun_*
 * API recorded it.  Written only by src/api/ (under the context table lock),
 * then handed to vm_start(), which reads it.  Every string and array is owned
 * by the config (copied from the caller) except vm_overlay.data.
 */
#ifndef KRUN_CONFIG_H
#define KRUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Most entries read from a caller's NULL-terminated string array. */
#define VM_MAX_ARGS 4096
/* Longest virtio-fs tag: the size of the tag field in its config space. */
#define VM_FS_TAG_MAX 36
/* DAX window of krun_set_root's and the block-root's virtio-fs. */
#define VM_ROOT_SHM_SIZE (1ULL << 29)

/* A virtual file or directory served on top of a virtio-fs device. */
struct vm_overlay {
    char *path;          /* relative, '/'-separated, no empty components */
    const uint8_t *data; /* NOT owned: the caller keeps it alive */
    size_t len;
    uint32_t mode; /* S_IFREG or S_IFDIR | permission bits */
    bool one_shot; /* may be looked up only once */
};

struct vm_fs {
    char tag[VM_FS_TAG_MAX + 1];
    char *path;        /* host directory; NULL = empty fs with only overlays */
    uint64_t shm_size; /* DAX window in bytes, 0 = none */
    bool read_only;    /* mutating requests fail with EROFS */
    bool add_init;     /* serve the built-in init as /init.krun */
    struct vm_overlay *ovl; /* in the order added */
    size_t nr_ovl;
};

struct vm_disk {
    char *id;           /* caller's label */
    char *path;         /* host image */
    uint32_t format;    /* KRUN_DISK_FORMAT_* */
    uint32_t sync_mode; /* KRUN_SYNC_* */
    bool read_only;
    bool direct_io;
};

enum vm_net_backend {
    VM_NET_UNIXSTREAM,
    VM_NET_UNIXGRAM,
    VM_NET_TAP,
};

struct vm_net {
    enum vm_net_backend backend;
    char *path; /* socket path or tap name; NULL when fd is used */
    int fd;     /* connected socket, -1 when path is used */
    uint8_t mac[6];
    uint32_t features; /* NET_FEATURE_* */
    uint32_t flags;    /* NET_FLAG_* */
};

/* The deprecated single interface of krun_set_passt_fd/gvproxy_path. */
enum vm_legacy_net_kind {
    VM_LEGACY_NET_NONE,
    VM_LEGACY_NET_PASST,   /* fd */
    VM_LEGACY_NET_GVPROXY, /* path, with the vfkit magic */
};

struct vm_legacy_net {
    enum vm_legacy_net_kind kind;
    int fd;
    char *path;
    uint8_t mac[6]; /* krun_set_net_mac, default 5a:94:ef:e4:0c:ee */
};

enum vm_vsock_mode {
    VM_VSOCK_IMPLICIT, /* decided at start (libkrun-behaviour.md §2.8) */
    VM_VSOCK_DISABLED, /* krun_disable_implicit_vsock */
    VM_VSOCK_EXPLICIT, /* krun_add_vsock after disabling */
};

struct vm_vsock_port {
    uint32_t port;
    char *path;  /* host unix socket */
    bool listen; /* host listens at path, connections go to the guest */
};

struct vm_port_map {
    uint16_t host;
    uint16_t guest;
};

struct vm_console_port {
    char *name;  /* "" when the caller gave NULL */
    bool is_tty; /* console port on tty in_fd (in == out) */
    int in_fd;   /* -1 = none */
    int out_fd;  /* -1 = none */
};

enum vm_console_kind {
    VM_CONSOLE_DEFAULT,   /* krun_add_virtio_console_default: from fds */
    VM_CONSOLE_MULTIPORT, /* krun_add_virtio_console_multiport: ports */
};

/* An explicitly added virtio-console; its index is the console_id. */
struct vm_console {
    enum vm_console_kind kind;
    int in_fd, out_fd, err_fd;     /* VM_CONSOLE_DEFAULT; -1 = absent */
    struct vm_console_port *ports; /* VM_CONSOLE_MULTIPORT */
    size_t nr_ports;
};

struct vm_serial {
    int in_fd; /* owned by the library */
    int out_fd;
};

struct vm_config {
    /* Shape */
    uint8_t nr_vcpus; /* default 1 */
    uint32_t ram_mib; /* default 128 */
    bool nested_virt;
    bool split_irqchip;
    bool set_uid, set_gid;
    uid_t uid;
    gid_t gid;
    char **oem_strings; /* ignored on x86_64 */

    /* Kernel or firmware (none: libkrunfw's kernel) */
    char *kernel_path;
    uint32_t kernel_format; /* KRUN_KERNEL_FORMAT_* */
    char *initramfs;
    char *kernel_cmdline; /* replaces the default command line */
    char *firmware_path;

    /* Filesystems, in the order added */
    struct vm_fs *fs;
    size_t nr_fs;
    bool no_implicit_init;

    /* Workload */
    char *exec_path;
    char **argv;  /* without argv[0]; NULL = none */
    bool env_set; /* krun_set_exec/krun_set_env was called */
    char **envp;
    char *workdir;
    char **rlimits; /* "RESOURCE=CUR:MAX" */

    /* Block devices */
    struct vm_disk *disks;
    size_t nr_disks;
    char *root_disk, *data_disk; /* used only if nr_disks == 0 */
    bool block_root;             /* krun_set_root_disk_remount */
    char *block_root_device;
    char *block_root_fstype; /* NULL = probe */
    char *block_root_options;

    /* Network */
    struct vm_net *nets;
    size_t nr_nets;
    struct vm_legacy_net legacy_net;

    /* vsock and TSI */
    enum vm_vsock_mode vsock_mode;
    uint32_t tsi_features; /* VM_VSOCK_EXPLICIT: KRUN_TSI_HIJACK_* */
    struct vm_vsock_port *vsock_ports;
    size_t nr_vsock_ports;
    struct vm_port_map *port_map; /* guest -> host */
    size_t nr_port_map;

    /* Consoles */
    bool no_implicit_console;
    char *console_output; /* implicit console writes here */
    char *kernel_console; /* console= value; NULL = "hvc0" */
    struct vm_console *consoles;
    size_t nr_consoles;
    struct vm_serial *serials;
    size_t nr_serials;

    /* GPU flags: recorded, no device */
    uint32_t gpu_flags;
    uint64_t gpu_shm_size;
};

/* Fill (cfg) with the defaults of a new context. */
void vm_config_init(struct vm_config *cfg);
/* Free everything (cfg) owns (not cfg itself); it may be zeroed after. */
void vm_config_free(struct vm_config *cfg);

#endif /* KRUN_CONFIG_H */
