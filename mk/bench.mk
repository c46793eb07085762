# Benchmarks (not tests: no timed assertions; each part prints a table with
# ratios against a peer measured in the same invocation).  Not in `make check`.
#
#   make bench             all three parts (scripts in bench/)
#   make bench-fuse        ckrun-fuse vs bindfs vs the host directory
#   make bench-virtq       virtqueue pop+push vs a memcpy loop
#   make bench-vm          ckrun ROOT -- /bin/true vs QEMU microvm, nested test host
#
# (Paths are spelled out: mk/bench.mk is read before the fragments that
# name them.)
# Knobs: BENCH_FUSE_ARGS for bench_fuse.sh (e.g. "-q" for a quick run),
# RUNS for bench_vm.sh (10).  `make bench` exits 0 unless a part could not run at all.
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

bench-fuse: $(B)/ckrun-fuse $(B)/bench/fsops
	CKRUN_FUSE=$(B)/ckrun-fuse FSOPS=$(B)/bench/fsops bench/bench_fuse.sh $(BENCH_FUSE_ARGS)

bench-vm: $(B)/kernel/vmlinux $(B)/ckrun $(LIB_FILE) $(B)/libkrunfw.so.5 $(B)/rootfs/bin/busybox $(B)/bench/runstat
	B=$(B) bench/bench_vm.sh

bench: $(B)/kernel/vmlinux $(BENCH_BIN) $(B)/ckrun-fuse $(B)/ckrun $(LIB_FILE) $(B)/libkrunfw.so.5 $(B)/rootfs/bin/busybox
	B=$(B) bench/bench_all.sh

.PHONY: bench bench-fuse bench-virtq bench-vm
