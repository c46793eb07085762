# FUSE server area: the ckrun-fuse tool (the /dev/fuse transport), its
# real-mount tests and the server's unit tests (those are picked up by the
# top-level tests/unit rule).

$(FUSE_TOOL): $(B)/cli/ckrun-fuse.o $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Not a client of the public API (cli.mk's rule): it uses src/fuse directly.
$(B)/cli/ckrun-fuse.o: cli/ckrun-fuse.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# tests/fuse/test_*.c: real-mount tests (root and /dev/fuse, else skip 77).
FUSE_TEST_SRCS := $(sort $(wildcard tests/fuse/test_*.c))
FUSE_TEST_BINS := $(FUSE_TEST_SRCS:%.c=$(B)/%)
FUSE_HELPERS := $(B)/tests/fuse/mktree $(B)/tests/fuse/conform

$(B)/tests/fuse/test_%: $(B)/tests/fuse/test_%.o $(B)/tests/fuse/fusetest.o \
		$(TEST_LIB_OBJS) $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/fuse/mktree: $(B)/tests/fuse/mktree.o
	$(CC) $(LDFLAGS) -o $@ $^

# The conformance script (also usable on its own: conform EMPTY_DIR).
$(B)/tests/fuse/conform: $(B)/tests/fuse/conform.o
	$(CC) $(LDFLAGS) -o $@ $^

# Real workloads (tar x of the kernel source, cp -a, git, dpkg -x, find |
# stat) on a mount, checked against the same work on a host directory.
FUSE_WORKLOADS := tests/fuse/test-workloads.sh

ALL += $(FUSE_TOOL) $(FUSE_TEST_BINS) $(FUSE_HELPERS)

check-fuse: $(FUSE_TOOL) $(FUSE_TEST_BINS) $(FUSE_HELPERS)
	CKRUN_FUSE=$(FUSE_TOOL) FUSE_MKTREE=$(B)/tests/fuse/mktree \
		FUSE_CONFORM=$(B)/tests/fuse/conform \
		FUSE_CONFORM_ALLOW=tests/fuse/conform.allow \
		$(RUN_TESTS) fuse $(FUSE_TEST_BINS) $(FUSE_WORKLOADS)

CHECKS += check-fuse
INSTALLS += install-fuse

install-fuse: $(FUSE_TOOL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(FUSE_TOOL) $(DESTDIR)$(BINDIR)/
	install -m 0644 man/ckrun-fuse.1 $(DESTDIR)$(MANDIR)/man1/

.PHONY: check-fuse install-fuse
