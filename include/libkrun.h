/*
 * libkrun.h: the public C API of ckrun, a C implementation of libkrun 1.x.
 *
 * Names, signatures and constant values are those of upstream libkrun 1.x
 * (a NET+BLK build), so programs written for libkrun build and link against
 * ckrun unchanged.  The comments describe ckrun's contract; docs/API-STATUS.md
 * says which functions are fully implemented.
 *
 * Common rules:
 *  - Functions return 0 (or a documented non-negative value) on success and a
 *    negative errno value on failure; they never abort the process.
 *  - An unknown ctx_id gives -ENOENT.
 *  - Strings are NUL-terminated UTF-8 (invalid UTF-8 gives -EINVAL) and are
 *    copied, so the caller may free them after the call.  A NULL pointer where
 *    a string or array is required gives -EINVAL.
 *  - String arrays are NULL-terminated and hold at most 4096 entries (more
 *    gives -EINVAL).
 *  - Configuration calls only record data; files, sockets and devices are
 *    opened by krun_start_enter unless a function says otherwise.
 *  - Calls are thread-safe: contexts live in one table behind a mutex.
 */
#ifndef _LIBKRUN_H
#define _LIBKRUN_H

#ifdef __cplusplus
extern "C" {
#endif

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Logging */

#define KRUN_LOG_TARGET_DEFAULT -1

#define KRUN_LOG_LEVEL_OFF   0
#define KRUN_LOG_LEVEL_ERROR 1
#define KRUN_LOG_LEVEL_WARN  2
#define KRUN_LOG_LEVEL_INFO  3
#define KRUN_LOG_LEVEL_DEBUG 4
#define KRUN_LOG_LEVEL_TRACE 5

#define KRUN_LOG_STYLE_AUTO   0
#define KRUN_LOG_STYLE_ALWAYS 1
#define KRUN_LOG_STYLE_NEVER  2

#define KRUN_LOG_OPTION_NO_ENV 1

/*
 * Log to stderr at (level) (KRUN_LOG_LEVEL_*; above TRACE means TRACE).
 * RUST_LOG, if set to a level word ("debug") or digit, overrides (level).
 * May be called again to reconfigure.  Returns 0.
 */
int32_t krun_set_log_level(uint32_t level);

/*
 * Configure logging: records go to (target_fd) (KRUN_LOG_TARGET_DEFAULT or
 * 2 = stderr, 1 = stdout; any other fd > 2 is owned by the library from then
 * on), at (level), coloured per (style) (KRUN_LOG_STYLE_*).  Unless (options)
 * has KRUN_LOG_OPTION_NO_ENV, RUST_LOG and RUST_LOG_STYLE override level and
 * style.  -EINVAL for target_fd 0 or < -1, an unknown style or unknown option
 * bits.  May be called again to reconfigure.
 */
int32_t krun_init_log(int target_fd, uint32_t level, uint32_t style,
                      uint32_t options);

/* ------------------------------------------------------------------------ */
/* Contexts */

/*
 * Create a configuration context and return its id (0, 1, 2, ... in call
 * order, never reused).  The first call in the process also loads
 * libkrunfw.so.5 (the guest kernel); a failure to load it is only reported
 * by krun_start_enter.  Starts no thread and keeps no fd open.
 */
int32_t krun_create_ctx(void);

/* Discard context (ctx_id) and its configuration.  -ENOENT if unknown. */
int32_t krun_free_ctx(uint32_t ctx_id);

/*
 * Set the number of vCPUs and the guest RAM in MiB (defaults: 1 and 128).
 * -EINVAL if either is 0.
 */
int32_t krun_set_vm_config(uint32_t ctx_id, uint8_t num_vcpus,
                           uint32_t ram_mib);

/* ------------------------------------------------------------------------ */
/* Root filesystem, virtio-fs, overlays */

/* The virtio-fs tag of the guest's root filesystem. */
#define KRUN_FS_ROOT_TAG "/dev/root"

/*
 * Share host directory (root_path) as the guest's root filesystem (virtio-fs
 * tag KRUN_FS_ROOT_TAG, read-write, 512 MiB DAX window), with the built-in
 * init as /init.krun unless krun_disable_implicit_init was called first.
 */
int32_t krun_set_root(uint32_t ctx_id, const char *root_path);

/*
 * Deprecated: set the raw image used as /dev/vda (root) when no
 * krun_add_disk* disk is added.  Last call wins.
 */
int32_t krun_set_root_disk(uint32_t ctx_id, const char *disk_path);

/*
 * Deprecated: set the raw image used after the root disk (data) when no
 * krun_add_disk* disk is added.  Last call wins.
 */
int32_t krun_set_data_disk(uint32_t ctx_id, const char *disk_path);

/*
 * Add raw disk image (disk_path) as the next virtio-blk disk (vda, vdb, ...);
 * (block_id) is a label.  Same as krun_add_disk3(..., KRUN_DISK_FORMAT_RAW,
 * read_only, false, KRUN_SYNC_FULL).
 */
int32_t krun_add_disk(uint32_t ctx_id, const char *block_id,
                      const char *disk_path, bool read_only);

#define KRUN_DISK_FORMAT_RAW   0
#define KRUN_DISK_FORMAT_QCOW2 1
#define KRUN_DISK_FORMAT_VMDK  2

/*
 * Like krun_add_disk, with an explicit KRUN_DISK_FORMAT_* (-EINVAL if
 * unknown).  Never open an untrusted image as anything but raw: non-raw
 * images may reference other host files.
 */
int32_t krun_add_disk2(uint32_t ctx_id, const char *block_id,
                       const char *disk_path, uint32_t disk_format,
                       bool read_only);

/* Flush requests are not offered to the guest. */
#define KRUN_SYNC_NONE 0
/* Flush requests are honoured (on Linux the same as KRUN_SYNC_FULL). */
#define KRUN_SYNC_RELAXED 1
/* Flush requests are honoured with fdatasync. */
#define KRUN_SYNC_FULL 2

/*
 * Like krun_add_disk2, plus (direct_io) (open with O_DIRECT) and (sync_mode)
 * (KRUN_SYNC_*).  -EINVAL for an unknown format or sync mode.  The image is
 * opened by krun_start_enter (which then fails with -EINVAL if it cannot).
 */
int32_t krun_add_disk3(uint32_t ctx_id, const char *block_id,
                       const char *disk_path, uint32_t disk_format,
                       bool read_only, bool direct_io, uint32_t sync_mode);

/* No longer supported: always -EINVAL. */
int32_t krun_set_mapped_volumes(uint32_t ctx_id,
                                const char *const mapped_volumes[]);

/* krun_add_virtiofs3(ctx_id, c_tag, c_path, 0, false). */
int32_t krun_add_virtiofs(uint32_t ctx_id, const char *c_tag,
                          const char *c_path);

/* krun_add_virtiofs3(ctx_id, c_tag, c_path, shm_size, false). */
int32_t krun_add_virtiofs2(uint32_t ctx_id, const char *c_tag,
                           const char *c_path, uint64_t shm_size);

/*
 * Add a virtio-fs device with tag (c_tag) (at most 36 bytes, else -EINVAL)
 * sharing host directory (c_path); NULL c_path gives an empty filesystem that
 * holds only overlay entries.  (shm_size) is the DAX window in bytes (0 =
 * none); (read_only) makes every modification fail with EROFS.  With tag
 * KRUN_FS_ROOT_TAG this is the root filesystem, as with krun_set_root.
 */
int32_t krun_add_virtiofs3(uint32_t ctx_id, const char *c_tag,
                           const char *c_path, uint64_t shm_size,
                           bool read_only);

/* ------------------------------------------------------------------------ */
/* Networking */

/* Send gvproxy's vfkit magic after connecting (unixgram with a path). */
#define NET_FLAG_VFKIT (1 << 0)
/* Run a DHCP client on eth0 in the guest. */
#define NET_FLAG_DHCP_CLIENT (1 << 1)

/* TSI (transparent socket impersonation) families for krun_add_vsock. */
#define KRUN_TSI_HIJACK_INET (1 << 0)
#define KRUN_TSI_HIJACK_UNIX (1 << 1)

/* virtio-net feature bits (unparenthesised, as upstream defines them). */
#define NET_FEATURE_CSUM       1 << 0
#define NET_FEATURE_GUEST_CSUM 1 << 1
#define NET_FEATURE_GUEST_TSO4 1 << 7
#define NET_FEATURE_GUEST_TSO6 1 << 8
#define NET_FEATURE_GUEST_UFO  1 << 10
#define NET_FEATURE_HOST_TSO4  1 << 11
#define NET_FEATURE_HOST_TSO6  1 << 12
#define NET_FEATURE_HOST_UFO   1 << 14

/* The features of the interface made by krun_set_passt_fd/gvproxy_path. */
#define COMPAT_NET_FEATURES                                                    \
    NET_FEATURE_CSUM | NET_FEATURE_GUEST_CSUM | NET_FEATURE_GUEST_TSO4 |       \
        NET_FEATURE_GUEST_UFO | NET_FEATURE_HOST_TSO4 | NET_FEATURE_HOST_UFO

/*
 * Add a virtio-net interface (eth0, eth1, ... in call order) backed by a
 * unix stream socket (passt, socket_vmnet): either the socket at (c_path)
 * (fd must be -1) or the connected socket (fd) (c_path must be NULL).
 * (c_mac) is 6 bytes.  -EINVAL unless exactly one of c_path/fd is given, if
 * c_mac is NULL, (features) has bits other than NET_FEATURE_* or (flags) has
 * bits other than NET_FLAG_DHCP_CLIENT.  Any interface disables implicit TSI.
 */
int32_t krun_add_net_unixstream(uint32_t ctx_id, const char *c_path, int fd,
                                uint8_t *const c_mac, uint32_t features,
                                uint32_t flags);

/*
 * Like krun_add_net_unixstream for a unix datagram socket (gvproxy,
 * vmnet-helper); (flags) may also hold NET_FLAG_VFKIT.
 */
int32_t krun_add_net_unixgram(uint32_t ctx_id, const char *c_path, int fd,
                              uint8_t *const c_mac, uint32_t features,
                              uint32_t flags);

/*
 * Add a virtio-net interface backed by host TAP device (c_tap_name).
 * -EINVAL for a NULL name or mac, unknown feature or flag bits, or guest
 * TSO4/TSO6/UFO without NET_FEATURE_GUEST_CSUM.
 */
int32_t krun_add_net_tap(uint32_t ctx_id, char *c_tap_name,
                         uint8_t *const c_mac, uint32_t features,
                         uint32_t flags);

/*
 * Deprecated: one extra interface to passt over connected socket (fd), with
 * COMPAT_NET_FEATURES.  -EINVAL if fd < 0 or a krun_add_net_* call was made.
 */
int32_t krun_set_passt_fd(uint32_t ctx_id, int fd);

/*
 * Deprecated: one extra interface to gvproxy's vfkit datagram socket at
 * (c_path).  -EINVAL if a krun_add_net_* call was made.
 */
int32_t krun_set_gvproxy_path(uint32_t ctx_id, char *c_path);

/*
 * Deprecated: the MAC address (6 bytes) of the krun_set_passt_fd /
 * krun_set_gvproxy_path interface (default 5a:94:ef:e4:0c:ee).
 */
int32_t krun_set_net_mac(uint32_t ctx_id, uint8_t *const c_mac);

/*
 * Expose guest TCP ports on the host through TSI: entries "HOST:GUEST"
 * (16-bit decimal ports).  -EINVAL for a malformed entry, a repeated host or
 * guest port, or after a krun_add_net_* call; -ENODEV if vsock is disabled.
 * NULL clears the map (every guest listener is exposed on its own port).
 */
int32_t krun_set_port_map(uint32_t ctx_id, const char *const port_map[]);

/* ------------------------------------------------------------------------ */
/* GPU, display, input, vhost-user */

/* virglrenderer flags (unparenthesised, as upstream defines them). */
#define VIRGLRENDERER_USE_EGL            1 << 0
#define VIRGLRENDERER_THREAD_SYNC        1 << 1
#define VIRGLRENDERER_USE_GLX            1 << 2
#define VIRGLRENDERER_USE_SURFACELESS    1 << 3
#define VIRGLRENDERER_USE_GLES           1 << 4
#define VIRGLRENDERER_USE_EXTERNAL_BLOB  1 << 5
#define VIRGLRENDERER_VENUS              1 << 6
#define VIRGLRENDERER_NO_VIRGL           1 << 7
#define VIRGLRENDERER_USE_ASYNC_FENCE_CB 1 << 8
#define VIRGLRENDERER_RENDER_SERVER      1 << 9
#define VIRGLRENDERER_DRM                1 << 10

/*
 * Record virtio-gpu flags.  ckrun has no GPU: the flags are kept and
 * ignored, and the call succeeds (as in upstream builds without a GPU).
 */
int32_t krun_set_gpu_options(uint32_t ctx_id, uint32_t virgl_flags);

/* Like krun_set_gpu_options, with the host window size in bytes. */
int32_t krun_set_gpu_options2(uint32_t ctx_id, uint32_t virgl_flags,
                              uint64_t shm_size);

#define KRUN_MAX_DISPLAYS 16

/* Not supported by ckrun (no GPU): -ENOTSUP. */
int32_t krun_add_display(uint32_t ctx_id, uint32_t width, uint32_t height);

/* Not supported by ckrun (no GPU): -ENOTSUP. */
int32_t krun_display_set_edid(uint32_t ctx_id, uint32_t display_id,
                              const uint8_t *edid_blob, size_t blob_size);

/* Not supported by ckrun (no GPU): -ENOTSUP. */
int32_t krun_display_set_dpi(uint32_t ctx_id, uint32_t display_id,
                             uint32_t dpi);

/* Not supported by ckrun (no GPU): -ENOTSUP. */
int32_t krun_display_set_physical_size(uint32_t ctx_id, uint32_t display_id,
                                       uint16_t width_mm, uint16_t height_mm);

/* Not supported by ckrun (no GPU): -ENOTSUP. */
int32_t krun_display_set_refresh_rate(uint32_t ctx_id, uint32_t display_id,
                                      uint32_t refresh_rate);

/*
 * Not supported by ckrun (no GPU): -ENOTSUP.  (display_backend) would point
 * to a struct krun_display_backend of (backend_size) bytes.
 */
int32_t krun_set_display_backend(uint32_t ctx_id, const void *display_backend,
                                 size_t backend_size);

/*
 * Not supported by ckrun (no virtio-input): -ENOTSUP.  The arguments would
 * point to a struct krun_input_config and a struct krun_input_event_provider.
 */
int krun_add_input_device(uint32_t ctx_id, const void *config_backend,
                          size_t config_backend_size,
                          const void *events_backend,
                          size_t events_backend_size);

/* Not supported by ckrun (no virtio-input): -ENOTSUP. */
int krun_add_input_device_fd(uint32_t ctx_id, int input_fd);

/* Device types for krun_add_vhost_user_device (virtio device ids). */
#define KRUN_VIRTIO_DEVICE_CONSOLE 3
#define KRUN_VIRTIO_DEVICE_RNG     4
#define KRUN_VIRTIO_DEVICE_GPU     16
#define KRUN_VIRTIO_DEVICE_RTC     17
#define KRUN_VIRTIO_DEVICE_INPUT   18
#define KRUN_VIRTIO_DEVICE_VSOCK   19
#define KRUN_VIRTIO_DEVICE_SND     25
#define KRUN_VIRTIO_DEVICE_CAN     36

/* Default queue counts and sizes per vhost-user device type. */
#define KRUN_VHOST_USER_CONSOLE_NUM_QUEUES  4
#define KRUN_VHOST_USER_CONSOLE_QUEUE_SIZES ((uint16_t[]){128, 128, 64, 64})
#define KRUN_VHOST_USER_RNG_NUM_QUEUES      1
#define KRUN_VHOST_USER_RNG_QUEUE_SIZES     ((uint16_t[]){256})
#define KRUN_VHOST_USER_RTC_NUM_QUEUES      2
#define KRUN_VHOST_USER_RTC_QUEUE_SIZES     ((uint16_t[]){1024, 1024})
#define KRUN_VHOST_USER_INPUT_NUM_QUEUES    2
#define KRUN_VHOST_USER_INPUT_QUEUE_SIZES   ((uint16_t[]){1024, 1024})
#define KRUN_VHOST_USER_SND_NUM_QUEUES      4
#define KRUN_VHOST_USER_SND_QUEUE_SIZES     ((uint16_t[]){64, 64, 64, 64})
#define KRUN_VHOST_USER_VSOCK_NUM_QUEUES    3
#define KRUN_VHOST_USER_VSOCK_QUEUE_SIZES   ((uint16_t[]){128, 128, 128})
#define KRUN_VHOST_USER_CAN_NUM_QUEUES      3
#define KRUN_VHOST_USER_CAN_QUEUE_SIZES     ((uint16_t[]){64, 64, 64})
#define KRUN_VHOST_USER_GPU_NUM_QUEUES      2
#define KRUN_VHOST_USER_GPU_QUEUE_SIZES     ((uint16_t[]){1024, 1024})

/* Not supported by ckrun (no vhost-user): -ENOTSUP. */
int32_t krun_add_vhost_user_device(uint32_t ctx_id, uint32_t device_type,
                                   const char *socket_path, const char *name,
                                   uint16_t num_queues,
                                   const uint16_t *queue_sizes);

/* ------------------------------------------------------------------------ */
/* Workload */

/*
 * Resource limits for the guest workload: entries "RESOURCE=CUR:MAX" with
 * RESOURCE the numeric Linux RLIMIT_* id (e.g. "7=1024:4096").  Replaces an
 * earlier list.  -EINVAL for NULL.
 */
int32_t krun_set_rlimits(uint32_t ctx_id, const char *const rlimits[]);

/*
 * SMBIOS OEM strings.  Recorded but ignored on x86_64 (as upstream).  -EINVAL
 * for NULL; an empty list clears them.
 */
int32_t krun_set_smbios_oem_strings(uint32_t ctx_id,
                                    const char *const oem_strings[]);

/* The guest workload's working directory. */
int32_t krun_set_workdir(uint32_t ctx_id, const char *workdir_path);

/*
 * The guest workload: program (exec_path) (searched in the guest's PATH) with
 * arguments (argv) (NOT including argv[0]; NULL = none) and environment
 * (envp) (NULL = a copy of this process's environment, taken now).  Without
 * krun_set_exec/krun_set_env the guest reads /.krun_config.json instead.
 */
int32_t krun_set_exec(uint32_t ctx_id, const char *exec_path,
                      const char *const argv[], const char *const envp[]);

/* Boot firmware (path) instead of a kernel. */
int32_t krun_set_firmware(uint32_t ctx_id, const char *firmware_path);

#define KRUN_KERNEL_FORMAT_RAW        0
#define KRUN_KERNEL_FORMAT_ELF        1
#define KRUN_KERNEL_FORMAT_PE_GZ      2
#define KRUN_KERNEL_FORMAT_IMAGE_BZ2  3
#define KRUN_KERNEL_FORMAT_IMAGE_GZ   4
#define KRUN_KERNEL_FORMAT_IMAGE_ZSTD 5

/*
 * Boot kernel (kernel_path) of (kernel_format) (KRUN_KERNEL_FORMAT_*, -EINVAL
 * if unknown) instead of libkrunfw's, with optional (initramfs) (must exist
 * now, else -EINVAL) and optional (cmdline), which replaces the default
 * command line entirely.
 */
int32_t krun_set_kernel(uint32_t ctx_id, const char *kernel_path,
                        uint32_t kernel_format, const char *initramfs,
                        const char *cmdline);

/*
 * The workload's environment only (same rules as krun_set_exec's envp); the
 * last of krun_set_exec/krun_set_env wins.
 */
int32_t krun_set_env(uint32_t ctx_id, const char *const envp[]);

/* TEE builds only; ckrun has none: -ENOTSUP. */
int32_t krun_set_tee_config_file(uint32_t ctx_id, const char *filepath);

/* ------------------------------------------------------------------------ */
/* vsock */

/* krun_add_vsock_port2(ctx_id, port, c_filepath, false). */
int32_t krun_add_vsock_port(uint32_t ctx_id, uint32_t port,
                            const char *c_filepath);

/*
 * Bridge guest vsock (port) and host unix socket (c_filepath).  (listen)
 * false: guest connections to CID 2 are forwarded to the socket.  true: the
 * host listens at c_filepath (-EEXIST if it exists) and connections are
 * forwarded into the guest's port.  Re-adding a port replaces it.  -ENODEV
 * if vsock was disabled.
 */
int32_t krun_add_vsock_port2(uint32_t ctx_id, uint32_t port,
                             const char *c_filepath, bool listen);

/*
 * Add the vsock device explicitly, with TSI families (tsi_features)
 * (KRUN_TSI_HIJACK_*, else -EINVAL).  -EEXIST unless
 * krun_disable_implicit_vsock was called first, or on a second call.
 */
int32_t krun_add_vsock(uint32_t ctx_id, uint32_t tsi_features);

/* Linux has no shutdown eventfd: -EINVAL (-ENOENT for an unknown ctx). */
int32_t krun_get_shutdown_eventfd(uint32_t ctx_id);

/* ------------------------------------------------------------------------ */
/* Consoles */

/*
 * Send the implicit console's output to file (c_filepath) (created or
 * truncated at start) and ignore its input.  -EINVAL on a second call.
 */
int32_t krun_set_console_output(uint32_t ctx_id, const char *c_filepath);

/* ------------------------------------------------------------------------ */
/* Process and CPU settings */

/* setuid(uid) in krun_start_enter, after disks are opened. */
int32_t krun_setuid(uint32_t ctx_id, uid_t uid);

/* setgid(gid) in krun_start_enter, before setuid. */
int32_t krun_setgid(uint32_t ctx_id, gid_t gid);

/* Offer VMX/SVM to the guest if (enabled) and the host supports it. */
int32_t krun_set_nested_virt(uint32_t ctx_id, bool enabled);

/* 1 if the host's KVM allows nested virtualisation, else 0. */
int32_t krun_check_nested_virt(void);

#define KRUN_FEATURE_NET                 0
#define KRUN_FEATURE_BLK                 1
#define KRUN_FEATURE_GPU                 2
#define KRUN_FEATURE_INPUT               4
#define KRUN_FEATURE_TEE                 6
#define KRUN_FEATURE_AMD_SEV             7
#define KRUN_FEATURE_INTEL_TDX           8
#define KRUN_FEATURE_AWS_NITRO           9
#define KRUN_FEATURE_VIRGL_RESOURCE_MAP2 10
#define KRUN_FEATURE_INIT_BLOB           11

/*
 * 1 if (feature) (KRUN_FEATURE_*) works in this build, 0 if not, -EINVAL for
 * an unknown constant.
 */
int32_t krun_has_feature(uint64_t feature);

/* The most vCPUs KVM allows per VM, or -EINVAL if /dev/kvm is unusable. */
int32_t krun_get_max_vcpus(void);

/* Use KVM's split irqchip (LAPIC in KVM, IOAPIC/PIC in the VMM). */
int32_t krun_split_irqchip(uint32_t ctx_id, bool enable);

/* ------------------------------------------------------------------------ */
/* Implicit devices */

/* Do not create the implicit console (hvc0 on this process's stdio). */
int32_t krun_disable_implicit_console(uint32_t ctx_id);

/*
 * Do not add /init.krun to the root filesystem.  Must come before
 * krun_set_root / krun_add_virtiofs*(KRUN_FS_ROOT_TAG).
 */
int32_t krun_disable_implicit_init(uint32_t ctx_id);

/*
 * Point (*data_out, *len_out) at the built-in init executable (static data,
 * valid for the process lifetime).  -EINVAL for NULL arguments, -ENOTSUP if
 * the library has no built-in init.
 */
int32_t krun_get_default_init(const uint8_t **data_out, size_t *len_out);

/*
 * Add read-only file (path) with contents (data, data_len) to the virtio-fs
 * device tagged (fs_tag).  (data) is NOT copied: it must stay valid while the
 * VM runs (NULL only if data_len is 0).  Only the permission bits of (mode)
 * count; (one_shot) files can be looked up once.  A leading '/' is ignored;
 * parent components must be overlay directories.  -EINVAL for NULL or empty
 * names, -ENOENT for an unknown tag or missing parent, -ENOTDIR if a parent
 * is a file, -EEXIST if the entry exists.
 */
int32_t krun_fs_add_overlay_file(uint32_t ctx_id, const char *fs_tag,
                                 const char *path, const uint8_t *data,
                                 size_t data_len, uint32_t mode, bool one_shot);

/* Add an empty read-only directory; same rules as krun_fs_add_overlay_file. */
int32_t krun_fs_add_overlay_dir(uint32_t ctx_id, const char *fs_tag,
                                const char *path, uint32_t mode);

/* No vsock device at all (also undoes krun_add_vsock). */
int32_t krun_disable_implicit_vsock(uint32_t ctx_id);

/* The value of the kernel's console= parameter (default "hvc0"). */
int32_t krun_set_kernel_console(uint32_t ctx_id, const char *console_id);

/*
 * Add a virtio-console device set up from (input_fd, output_fd, err_fd) like
 * the implicit one (-1 = absent).
 */
int32_t krun_add_virtio_console_default(uint32_t ctx_id, int input_fd,
                                        int output_fd, int err_fd);

/*
 * Add a legacy 16550 serial port (ttyS0, ttyS1, ... in call order) on
 * (input_fd, output_fd); the library owns the fds.
 */
int32_t krun_add_serial_console_default(uint32_t ctx_id, int input_fd,
                                        int output_fd);

/*
 * Add an empty multiport virtio-console device; returns its console_id, the
 * index among explicitly added virtio-console devices.
 */
int32_t krun_add_virtio_console_multiport(uint32_t ctx_id);

/*
 * Add a console port named (name) on terminal (tty_fd) to multiport device
 * (console_id).  -EINVAL if tty_fd < 0 or console_id is not a multiport
 * device; -ENOTTY if tty_fd is not a terminal.
 */
int32_t krun_add_console_port_tty(uint32_t ctx_id, uint32_t console_id,
                                  const char *name, int tty_fd);

/*
 * Add a plain stream port named (name) (NULL = "") reading (input_fd) and
 * writing (output_fd) (-1 = absent) to multiport device (console_id).
 */
int32_t krun_add_console_port_inout(uint32_t ctx_id, uint32_t console_id,
                                    const char *name, int input_fd,
                                    int output_fd);

/*
 * Boot from block device (device) (e.g. "/dev/vda1") of a krun_add_disk*
 * disk, with (fstype) (NULL or "auto" = probe) and mount (options) (may be
 * NULL).  Creates the root virtio-fs itself; -EINVAL if one exists or no disk
 * was added.
 */
int32_t krun_set_root_disk_remount(uint32_t ctx_id, const char *device,
                                   const char *fstype, const char *options);

/*
 * Build and run the VM of context (ctx_id), which is consumed (also on
 * failure).  Does not return on success: the process exits with the guest
 * workload's status.  Returns -ENOENT for an unknown ctx or when no kernel was
 * given and libkrunfw.so.5 could not be loaded, -EINVAL for a configuration
 * the VM cannot be built from, -errno for a failed setgid/setuid.
 */
int32_t krun_start_enter(uint32_t ctx_id);

/* ------------------------------------------------------------------------ */
/* Display backend ABI (for krun_set_display_backend; unused by ckrun) */

#define KRUN_DISPLAY_ERR_INTERNAL           -1
#define KRUN_DISPLAY_ERR_METHOD_UNSUPPORTED -2
#define KRUN_DISPLAY_ERR_INVALID_SCANOUT_ID -3
#define KRUN_DISPLAY_ERR_INVALID_PARAM      -4
#define KRUN_DISPLAY_ERR_OUT_OF_BUFFERS     -5

/* Pixel formats, numbered as virtio-gpu's. */
#define KRUN_DISPLAY_FORMAT_B8G8R8A8_UNORM 1
#define KRUN_DISPLAY_FORMAT_B8G8R8X8_UNORM 2
#define KRUN_DISPLAY_FORMAT_A8R8G8B8_UNORM 3
#define KRUN_DISPLAY_FORMAT_X8R8G8B8_UNORM 4
#define KRUN_DISPLAY_FORMAT_R8G8B8A8_UNORM 67
#define KRUN_DISPLAY_FORMAT_X8B8G8R8_UNORM 68
#define KRUN_DISPLAY_FORMAT_A8B8G8R8_UNORM 121
#define KRUN_DISPLAY_FORMAT_R8G8B8X8_UNORM 134

#define KRUN_DISPLAY_FEATURE_BASIC_FRAMEBUFFER 1
#define KRUN_DISPLAY_FEATURE_DMABUF_CONSUMER   2

struct krun_rect {
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
};

struct krun_display_dmabuf_export {
    int dmabuf_fds[4];
    uint32_t n_planes;
    uint32_t width;
    uint32_t height;
    uint32_t fourcc;
    uint32_t strides[4];
    uint32_t offsets[4];
    uint64_t modifier;
};

typedef int32_t (*krun_display_create_fn)(void **instance, const void *userdata,
                                          const void *reserved);
typedef int32_t (*krun_display_destroy_fn)(void *instance);
typedef int32_t (*krun_display_configure_scanout_fn)(
    void *instance, uint32_t scanout_id, uint32_t display_width,
    uint32_t display_height, uint32_t width, uint32_t height, uint32_t format);
typedef int32_t (*krun_display_disable_scanout_fn)(void *instance,
                                                   uint32_t scanout_id);
typedef int32_t (*krun_display_alloc_frame_fn)(void *instance,
                                               uint32_t scanout_id,
                                               uint8_t **buffer,
                                               size_t *buffer_size);
typedef int32_t (*krun_display_present_frame_fn)(
    void *instance, uint32_t scanout_id, uint32_t frame_id,
    const struct krun_rect *damage_area);
typedef int32_t (*krun_display_import_dmabuf_fn)(
    void *instance, const struct krun_display_dmabuf_export *dmabuf_export);
typedef int32_t (*krun_display_unref_dmabuf_fn)(void *instance,
                                                uint32_t dmabuf_id);
typedef int32_t (*krun_display_configure_scanout_dmabuf_fn)(
    void *instance, uint32_t scanout_id, uint32_t display_width,
    uint32_t display_height, uint32_t dmabuf_id,
    const struct krun_rect *src_rect);
typedef int32_t (*krun_display_present_dmabuf_fn)(
    void *instance, uint32_t scanout_id, const struct krun_rect *damage_area);

struct krun_display_basic_framebuffer_vtable {
    krun_display_destroy_fn destroy;
    krun_display_disable_scanout_fn disable_scanout;
    krun_display_configure_scanout_fn configure_scanout;
    krun_display_alloc_frame_fn alloc_frame;
    krun_display_present_frame_fn present_frame;
};

struct krun_display_dmabuf_vtable {
    struct krun_display_basic_framebuffer_vtable basic_framebuffer;
    krun_display_import_dmabuf_fn import_dmabuf;
    krun_display_unref_dmabuf_fn unref_dmabuf;
    krun_display_configure_scanout_dmabuf_fn configure_scanout_dmabuf;
    krun_display_present_dmabuf_fn present_dmabuf;
};

union krun_display_vtable {
    struct krun_display_basic_framebuffer_vtable basic_framebuffer;
    struct krun_display_dmabuf_vtable dmabuf;
};

/* Zero-initialise it: fields may be added at the end. */
struct krun_display_backend {
    uint64_t features;
    void *create_userdata;
    krun_display_create_fn create;
    union krun_display_vtable vtable;
};

/* ------------------------------------------------------------------------ */
/* Input backend ABI (for krun_add_input_device; unused by ckrun) */

#define KRUN_INPUT_ERR_INTERNAL           -1
#define KRUN_INPUT_ERR_EAGAIN             -2
#define KRUN_INPUT_ERR_METHOD_UNSUPPORTED -3
#define KRUN_INPUT_ERR_INVALID_PARAM      -4

#define KRUN_INPUT_CONFIG_FEATURE_QUERY         1
#define KRUN_INPUT_EVENT_PROVIDER_FEATURE_QUEUE 1

/* Same layout as a Linux/virtio input event. */
struct krun_input_event {
    uint16_t type;
    uint16_t code;
    uint32_t value;
};

struct krun_input_device_ids {
    uint16_t bustype;
    uint16_t vendor;
    uint16_t product;
    uint16_t version;
};

struct krun_input_absinfo {
    uint32_t min;
    uint32_t max;
    uint32_t fuzz;
    uint32_t flat;
    uint32_t res;
};

typedef int32_t (*krun_input_create_fn)(void **instance, const void *userdata,
                                        const void *reserved);
typedef int32_t (*krun_input_destroy_fn)(void *instance);
typedef int (*krun_input_get_ready_efd_fn)(void *instance);
typedef int32_t (*krun_input_next_event_fn)(void *instance,
                                            struct krun_input_event *out_event);
typedef int32_t (*krun_input_query_device_name_fn)(void *instance,
                                                   uint8_t *name_buf,
                                                   size_t name_buf_len);
typedef int32_t (*krun_input_query_serial_name_fn)(void *instance,
                                                   uint8_t *name_buf,
                                                   size_t name_buf_len);
typedef int32_t (*krun_input_query_device_ids_fn)(
    void *instance, struct krun_input_device_ids *ids);
typedef int32_t (*krun_input_query_event_capabilities_fn)(
    void *instance, uint8_t event_type, uint8_t *bitmap_buf,
    size_t bitmap_buf_len);
typedef int32_t (*krun_input_query_abs_info_fn)(
    void *instance, uint8_t abs_axis, struct krun_input_absinfo *abs_info);
typedef int32_t (*krun_input_query_properties_fn)(void *instance,
                                                  uint8_t *bitmap_buf,
                                                  size_t bitmap_buf_len);

struct krun_input_event_provider_vtable {
    krun_input_destroy_fn destroy;
    krun_input_get_ready_efd_fn get_ready_efd;
    krun_input_next_event_fn next_event;
};

struct krun_input_config_vtable {
    krun_input_destroy_fn destroy;
    krun_input_query_device_name_fn query_device_name;
    krun_input_query_serial_name_fn query_serial_name;
    krun_input_query_device_ids_fn query_device_ids;
    krun_input_query_event_capabilities_fn query_event_capabilities;
    krun_input_query_abs_info_fn query_abs_info;
    krun_input_query_properties_fn query_properties;
};

struct krun_input_config {
    uint64_t features;
    void *create_userdata;
    krun_input_create_fn create;
    struct krun_input_config_vtable vtable;
};

struct krun_input_event_provider {
    uint64_t features;
    void *create_userdata;
    krun_input_create_fn create;
    struct krun_input_event_provider_vtable vtable;
};

#ifdef __cplusplus
}
#endif

#endif /* _LIBKRUN_H */
