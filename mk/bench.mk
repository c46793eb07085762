# Benchmarks (not tests: no timed assertions; each part prints a table with
# ratios against a peer measured in the same invocation).  Not in `make check`.
#
#   make bench             all three parts (scripts in bench/)
#   make bench-fuse        ckrun-fuse vs bindfs vs the host directory
#   make bench-virtq       virtqueue pop+push vs a memcpy loop
#   make bench-vm          ckrun ROOT -- /bin/true vs QEMU microvm, nested test host
#   make bench-vmm         ckrun vs QEMU microvm on this /dev/kvm, null guest
# Knobs: BENCH_FUSE_ARGS for bench_fuse.sh (e.g. "-q" for a quick run),
# RUNS for bench_vm.sh (10); RUNS (20) and PIO_N (100000) for bench_vmm.sh.  `make bench` exits 0 unless a part could not run at all.
BENCH_BIN := $(B)/bench/bench_virtq $(B)/bench/fsops $(B)/bench/runstat

$(B)/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/bench/bench_virtq: $(B)/bench/bench_virtq.o $(TEST_LIB_OBJS) $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/fsops: $(B)/bench/fsops.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/bench/runstat: $(B)/bench/runstat.o
	$(CC) $(LDFLAGS) -o $@ $^

bench-virtq: $(B)/bench/bench_virtq
	$(B)/bench/bench_virtq

bench-fuse: $(FUSE_TOOL) $(B)/bench/fsops
	CKRUN_FUSE=$(FUSE_TOOL) FSOPS=$(B)/bench/fsops bench/bench_fuse.sh $(BENCH_FUSE_ARGS)

bench-vm: $(VMLINUX) $(CLI) $(LIB_FILE) $(KRUNFW) $(ROOTFS)/bin/busybox $(B)/bench/runstat
	B=$(B) bench/bench_vm.sh

# bench-vmm: the null guest (one ELF: 64-bit direct entry for ckrun, PVH
# note for QEMU -kernel), a minimal libkrun client, and the driver.
BENCH_VMM_BIN := $(B)/bench/bench_vmm $(B)/bench/null_run $(B)/bench/null_guest.elf

$(B)/bench/null_guest.elf: bench/null_start.S bench/null_guest.c bench/null_guest.ld
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -Wl,-T,bench/null_guest.ld -Wl,--build-id=none \
		-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
		-Wl,--no-warn-rwx-segments -o $@ bench/null_start.S bench/null_guest.c

$(B)/bench/null_run: bench/null_run.c include/libkrun.h $(LIB_FILE)
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -Iinclude $(CFLAGS) $(LDFLAGS) \
		-Wl,-rpath,'$$ORIGIN/..' -o $@ $< -L$(B) -l:$(LIB_SONAME)

$(B)/bench/bench_vmm: $(B)/bench/bench_vmm.o
	$(CC) $(LDFLAGS) -o $@ $^

bench-vmm: $(BENCH_VMM_BIN)
	B=$(B) bench/bench_vmm.sh

bench: $(VMLINUX) $(BENCH_BIN) $(BENCH_VMM_BIN) $(FUSE_TOOL) $(CLI) $(LIB_FILE) $(KRUNFW) $(ROOTFS)/bin/busybox
	rc=0; B=$(B) bench/bench_all.sh || rc=1; \
	B=$(B) bench/bench_vmm.sh >$(B)/bench/vmm.md 2>&1 || rc=1; \
	cat $(B)/bench/vmm.md; cat $(B)/bench/vmm.md >>$(B)/bench/results.md; exit $$rc

.PHONY: bench bench-fuse bench-virtq bench-vm bench-vmm
