# End-to-end: Linux guests booted by ckrun through the real boot path
# (tests/e2e/).  Where the machine has hardware KVM the cases run directly;
# elsewhere (kvm_pvm) inside the nested test host, QEMU TCG with SVM.
#
#   make check-e2e   every case of tests/e2e/run (TAP), in one test-host boot
#   make demo        the README's demo VM on $(B)/rootfs
E2E_CLIENT := $(B)/tests/e2e/e2e-client

$(E2E_CLIENT): $(B)/tests/e2e/client.o $(LIB_FILE)
	$(CC) $(LDFLAGS) -Wl,-rpath,'$$ORIGIN' -o $@ $< -L$(B) -l:$(LIB_SONAME)

# crun's krun handler replayed: libkrun.so.1 is dlopen()ed, not linked; it is
# found beside the program through RUNPATH $ORIGIN (the caller's RUNPATH
# applies to dlopen).
E2E_CRUN := $(B)/tests/e2e/crun-replay

$(E2E_CRUN): $(B)/tests/e2e/crun_replay.o
	$(CC) $(LDFLAGS) -Wl,-rpath,'$$ORIGIN' -o $@ $< -ldl

ALL += $(E2E_CLIENT) $(E2E_CRUN)

E2E_DEPS := $(CLI) $(LIB_FILE) $(KRUNFW) $(ROOTFS)/bin/busybox \
	$(E2E_CLIENT) $(E2E_CRUN)

check-e2e: $(E2E_DEPS)
	tests/e2e/e2e.sh check $(B)

demo: $(CLI) $(LIB_FILE) $(KRUNFW) $(ROOTFS)/bin/busybox
	@tests/e2e/e2e.sh demo $(B)

CHECKS += check-e2e
.PHONY: check-e2e demo
