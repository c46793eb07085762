/*
 * test_kvm_hint.c: kvm_host_hint() names kvm_pvm only when it is the one KVM
 * module loaded (a fake /sys/module per case).
 */
#include "kvm/kvm.h"
#include "t.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

/* A fresh fake /sys/module holding the (NULL-terminated) modules. */
static const char *fake_sysmodule(const char *const *mods)
{
    char path[128];

    snprintf(root, sizeof(root), "/tmp/ckrun-sysmod.XXXXXX");
    if (!mkdtemp(root))
        t_skip_all("mkdtemp: %m");
    for (; *mods; mods++) {
        snprintf(path, sizeof(path), "%s/%s", root, *mods);
        mkdir(path, 0755);
    }
    return root;
}

static void fake_remove(const char *const *mods)
{
    char path[128];

    for (; *mods; mods++) {
        snprintf(path, sizeof(path), "%s/%s", root, *mods);
        rmdir(path);
    }
    rmdir(root);
}

static const char *hint_for(const char *const *mods)
{
    const char *h = kvm_host_hint(fake_sysmodule(mods));

    fake_remove(mods);
    return h;
}

static void test_pvm_alone(void)
{
    const char *h = hint_for((const char *const[]){"kvm", "kvm_pvm", NULL});

    CHECK(h && strstr(h, "kvm_pvm module"));
    CHECK(h && strstr(h, "kvm_intel or kvm_amd"));
}

static void test_hardware_kvm(void)
{
    CHECK(!hint_for((const char *const[]){"kvm", "kvm_intel", NULL}));
    CHECK(!hint_for((const char *const[]){"kvm", "kvm_amd", NULL}));
    /* PVM beside a hardware module: /dev/kvm may well be the hardware one. */
    CHECK(
        !hint_for((const char *const[]){"kvm", "kvm_pvm", "kvm_intel", NULL}));
    CHECK(!hint_for((const char *const[]){NULL}));
}

int main(void)
{
    RUN(test_pvm_alone);
    RUN(test_hardware_kvm);
    return t_done();
}
