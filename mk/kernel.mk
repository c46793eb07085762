# Guest kernel -> libkrunfw.so.5 (see kernel/build.sh and docs/ARCHITECTURE.md).
KERNEL_INPUTS := kernel/config.fragment kernel/build.sh kernel/checkconfig.sh \
	kernel/fetch-source.sh kernel/source.conf $(wildcard kernel/patches/*.patch)

# build.sh serves a cached vmlinux when one was built from the same inputs.
# Builds from several clones share the cache's work directory: one at a time
# (flock on the cache directory's lock file; a later one then hits the cache).
CKRUN_CACHE ?=
XDG_CACHE_HOME ?=
KERNEL_CACHE ?= $(or $(CKRUN_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ckrun)
$(VMLINUX): $(KERNEL_INPUTS)
	@mkdir -p $(KERNEL_CACHE)
	flock $(KERNEL_CACHE)/kernel-build.lock kernel/build.sh $(KDIR)

$(B)/tools/flatten: kernel/flatten.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<

$(KDIR)/kernel.bin $(KDIR)/kernel-layout.h &: $(VMLINUX) $(B)/tools/flatten
	$(B)/tools/flatten $< $(KDIR)/kernel.bin $(KDIR)/kernel-layout.h

$(KDIR)/krunfw.o: kernel/krunfw.c $(KDIR)/kernel-layout.h
	$(CC) $(CPPFLAGS) -I$(KDIR) $(CFLAGS) -fvisibility=hidden -c -o $@ $<

$(KDIR)/blob.o: kernel/blob.S $(KDIR)/kernel.bin
	$(CC) -DKRUNFW_IMAGE_PATH='"$(KDIR)/kernel.bin"' -c -o $@ $<

$(KRUNFW): $(KDIR)/krunfw.o $(KDIR)/blob.o kernel/libkrunfw.map
	$(CC) -shared -Wl,-soname,$(KRUNFW_SONAME) -Wl,--version-script=kernel/libkrunfw.map \
		-Wl,-z,noexecstack $(LDFLAGS) -o $@ $(KDIR)/krunfw.o $(KDIR)/blob.o
	ln -sf $(KRUNFW_SONAME) $(B)/libkrunfw.so

kernel: $(KRUNFW)
ALL += $(KRUNFW)

install-krunfw: $(KRUNFW)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 $(KRUNFW) $(DESTDIR)$(LIBDIR)/$(KRUNFW_SONAME)
	ln -sf $(KRUNFW_SONAME) $(DESTDIR)$(LIBDIR)/libkrunfw.so
INSTALLS += install-krunfw

# Tests: the library's ABI, then the kernel itself booted under QEMU TCG.
$(B)/tests/kernel/test_krunfw: $(B)/tests/kernel/test_krunfw.o $(B)/tests/lib/t.o
	$(CC) $(LDFLAGS) -o $@ $^ -ldl

check-krunfw: $(KRUNFW) $(B)/tests/kernel/test_krunfw
	KRUNFW=$(KRUNFW) VMLINUX=$(VMLINUX) $(RUN_TESTS) krunfw tests/kernel/check-krunfw.sh

check-kernel-boot: $(VMLINUX)
	VMLINUX=$(VMLINUX) WORK=$(B)/kernel-boot $(RUN_TESTS) kernel-boot tests/kernel/boot-qemu.sh

CHECKS += check-krunfw check-kernel-boot
.PHONY: kernel install-krunfw check-krunfw check-kernel-boot
