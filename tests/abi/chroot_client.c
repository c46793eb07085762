/*
 * chroot_client.c: the crun <= 1.20 order of calls (issue 11, gap 1).  Loads
 * libkrun.so.1 by soname, as crun does, then chroots into DIR (an empty
 * directory: no libkrunfw.so.5, no /dev/kvm), and only then creates the
 * context and starts it.  Prints "rc=<krun_start_enter result>"; the caller
 * checks it and the library's stderr.
 *
 * usage: chroot_client DIR
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef int32_t (*create_fn)(void);
typedef int32_t (*vm_config_fn)(uint32_t, uint8_t, uint32_t);
typedef int32_t (*root_fn)(uint32_t, const char *);
typedef int32_t (*start_fn)(uint32_t);

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);

    if (!p)
        fprintf(stderr, "chroot_client: no %s\n", name);
    return p;
}

int main(int argc, char **argv)
{
    create_fn create;
    vm_config_fn vm_config;
    root_fn set_root;
    start_fn start;
    int32_t ctx;
    void *h;

    if (argc != 2) {
        fprintf(stderr, "usage: chroot_client DIR\n");
        return 2;
    }
    h = dlopen("libkrun.so.1", RTLD_NOW);
    if (!h) {
        fprintf(stderr, "chroot_client: %s\n", dlerror());
        return 2;
    }
    create = (create_fn)(uintptr_t)sym(h, "krun_create_ctx");
    vm_config = (vm_config_fn)(uintptr_t)sym(h, "krun_set_vm_config");
    set_root = (root_fn)(uintptr_t)sym(h, "krun_set_root");
    start = (start_fn)(uintptr_t)sym(h, "krun_start_enter");
    if (!create || !vm_config || !set_root || !start)
        return 2;
    /* Without root, a user namespace gives CAP_SYS_CHROOT. */
    if (geteuid() != 0 && unshare(CLONE_NEWUSER) < 0) {
        fprintf(stderr, "chroot_client: unshare: %s\n", strerror(errno));
        return 2;
    }
    if (chroot(argv[1]) < 0 || chdir("/") < 0) {
        fprintf(stderr, "chroot_client: chroot %s: %s\n", argv[1],
                strerror(errno));
        return 2;
    }
    ctx = create();
    if (ctx < 0 || vm_config((uint32_t)ctx, 1, 128) != 0 ||
        set_root((uint32_t)ctx, "/") != 0) {
        fprintf(stderr, "chroot_client: context setup failed\n");
        return 2;
    }
    printf("rc=%d\n", start((uint32_t)ctx));
    return 0;
}
