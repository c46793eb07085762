# Disk image library (src/disk/): raw, qcow2, VMDK.  Its unit tests
# (tests/unit/test_disk_*.c) run in check-unit; check-disk runs the
# differential tests against qemu-img / qemu-io (tests/disk/*.sh) through
# the host tool disktool.

# qcow2 compressed clusters (raw deflate)
LDLIBS += -lz

DISKTOOL := $(B)/tests/disk/disktool

$(DISKTOOL): $(B)/tests/disk/disktool.o $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ALL += $(DISKTOOL)

check-disk: $(DISKTOOL)
	DISKTOOL=$(DISKTOOL) $(RUN_TESTS) disk $(sort $(wildcard tests/disk/test-*.sh))

CHECKS += check-disk

# make bench runs bench/bench_disk.sh too (bench_all.sh); alone: bench-disk
bench: $(DISKTOOL)
bench-disk: $(DISKTOOL)
	DISKTOOL=$(DISKTOOL) bench/bench_disk.sh

.PHONY: check-disk bench-disk
