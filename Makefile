# ckrun: one non-recursive GNU Makefile.
#
#   make                 library, libkrunfw, CLI, tools, test programs
#   make check           every test (unit, ASan/UBSan, ABI, KVM, kernel, fuzz replay, format)
#   make install         PREFIX=/usr/local DESTDIR= LIBDIR=$(PREFIX)/lib64
#   make fuzz            libFuzzer binaries (clang)
#   make bench           benchmarks
#   make clean
#
# Areas add their own sources, programs and checks in mk/*.mk; the rules that
# are the same for everyone, and the paths other fragments name, live here.
# Every check-X also passes alone on a clean tree (check-solo tries a few).

VERSION_MAJOR := 1
VERSION_MINOR := 18
VERSION_PATCH := 0
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib64
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

B ?= build
CC ?= gcc
CLANG ?= clang
# Knobs that may come from the command line or the environment; defined
# (empty) so that `make --warn-undefined-variables` (check-make) stays quiet.
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=
SAN ?=

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wundef -Wvla \
	-Wcast-qual -Wwrite-strings -Wimplicit-fallthrough -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Isrc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -fPIC $(WARNINGS) $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)
LDLIBS := -lpthread -ldl -lseccomp

# Sanitizer builds of the unit tests: make B=build/asan SAN=1 unit-tests
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif
# ThreadSanitizer builds (mk/stress.mk): make B=build/tsan SAN=thread ...
# (gcc warns that TSan does not model the virtqueue's fences: -Wno-tsan.)
ifeq ($(SAN),thread)
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer \
	$(shell $(CC) -Werror -Wno-tsan -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-tsan)
LDFLAGS += -fsanitize=thread
endif

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
# Keep objects make would treat as intermediates (no rebuilds on the next run).
.SECONDARY:

# ---------------------------------------------------------------------------
# The library: every .c under src/, hidden by default, krun_* exported
# through libkrun.map.
LIB_SRCS := $(sort $(shell find src -name '*.c'))
LIB_ASM := $(sort $(shell find src -name '*.S'))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o) $(LIB_ASM:%.S=$(B)/%.o)
LIB_SONAME := libkrun.so.$(VERSION_MAJOR)
LIB_FILE := $(B)/libkrun.so.$(VERSION)

# Everything a test program may link: the library's objects as a static archive
# (the objects are the same; hidden visibility only affects dynamic export).
INTERNAL_A := $(B)/libkrun-internal.a

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fvisibility=hidden -MMD -MP -c -o $@ $<

$(B)/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB_FILE): $(LIB_OBJS) libkrun.map
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script=libkrun.map \
		-Wl,-z,defs -Wl,-z,now -Wl,-z,relro $(LDFLAGS) -o $@ $(LIB_OBJS) $(LDLIBS)
	ln -sf libkrun.so.$(VERSION) $(B)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(B)/libkrun.so

$(INTERNAL_A): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# The .pc is generated again by install-lib, so that it names the PREFIX/LIBDIR
# of the install, not those of an earlier plain `make`.
PC_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' libkrun.pc.in

$(B)/libkrun.pc: libkrun.pc.in Makefile
	@mkdir -p $(@D)
	$(PC_SUBST) >$@

ALL += $(LIB_FILE) $(B)/libkrun.pc

# ---------------------------------------------------------------------------
# Test programs: tests/<suite>/test_*.c, each linked with tests/lib and the
# internal archive.  They print TAP; scripts/run-tests.sh totals them.
TEST_LIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TEST_LIB_OBJS := $(TEST_LIB_SRCS:%.c=$(B)/%.o)

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) -MMD -MP -c -o $@ $<

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(TEST_LIB_OBJS) $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit-tests: $(UNIT_BINS)
ALL += $(UNIT_BINS)

RUN_TESTS := scripts/run-tests.sh

# Paths of the artefacts that more than one fragment names (built by
# mk/cli.mk, fuse.mk, guest.mk, init.mk, kernel.mk, fuzz.mk).  Make expands a
# rule's targets and prerequisites when it reads the rule, so a path defined
# in a fragment is empty in every fragment read before it; defined here,
# before the includes, no fragment depends on include order.  check-make
# fails if any variable is read before it is defined.
CLI := $(B)/ckrun
ROOTFS := $(B)/rootfs
FUSE_TOOL := $(B)/ckrun-fuse
GUEST_ELF := $(B)/tests/guest/guest.elf
INIT_DIR := $(B)/init
INIT_BIN := $(INIT_DIR)/init.krun
KDIR := $(B)/kernel
VMLINUX := $(KDIR)/vmlinux
KRUNFW_SONAME := libkrunfw.so.5
KRUNFW := $(B)/$(KRUNFW_SONAME)
FUZZ_DIR := $(B)/fuzz

# Areas: kernel/, cli/, init/, tests/kvm, tests/guest, fuzz/, bench/, ...
include $(sort $(wildcard mk/*.mk))

all: $(ALL)

# ---------------------------------------------------------------------------
# Checks.  Each area appends its targets to CHECKS in mk/*.mk.
check-unit: $(UNIT_BINS)
	$(RUN_TESTS) unit $(UNIT_BINS)

check-asan:
	$(MAKE) --no-print-directory B=$(B)/asan SAN=1 CC=$(CC) unit-tests
	$(RUN_TESTS) unit-asan $(UNIT_BINS:$(B)/%=$(B)/asan/%)

check-format:
	scripts/check-format.sh

# No fragment reads a variable before it is defined (a path named as a
# prerequisite before its fragment is read expands to nothing, so its rule
# never runs): a dry run of every goal must print no undefined-variable
# warning.
MAKE_PROBE_GOALS = all fuzz bench install $(filter-out check-make check-solo,$(CHECKS))
check-make:
	@mkdir -p $(B)
	@$(MAKE) --no-print-directory -n --warn-undefined-variables \
		B=$(B)/make-probe $(MAKE_PROBE_GOALS) >$(B)/make-probe.log 2>&1 || \
		{ tail -n 20 $(B)/make-probe.log; echo "make: 0 passed, 1 failed"; exit 1; }
	@if grep 'undefined variable' $(B)/make-probe.log | sort -u | grep .; then \
		echo "make: 0 passed, 1 failed"; exit 1; fi
	@echo "make: 1 passed, 0 failed"

# A few checks, each alone in a fresh build directory (scripts/check-solo.sh).
SOLO_CHECKS ?= check-cli check-kvm
check-solo:
	scripts/check-solo.sh $(MAKE) $(B) $(SOLO_CHECKS)

# The same code must build warning-free with clang too.
check-clang:
	$(MAKE) --no-print-directory B=$(B)/clang CC=$(CLANG) $(B)/clang/libkrun.so.$(VERSION) unit-tests
	@echo "clang: 1 passed, 0 failed"

CHECKS := check-format check-make check-clang check-unit check-asan $(CHECKS) check-solo

check: all
	scripts/run-checks.sh $(MAKE) $(CHECKS)

# ---------------------------------------------------------------------------
install: install-lib $(INSTALLS)

install-lib: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(LIB_FILE) $(DESTDIR)$(LIBDIR)/
	ln -sf libkrun.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libkrun.so
	install -m 0644 include/libkrun.h $(DESTDIR)$(INCLUDEDIR)/
	$(PC_SUBST) >$(DESTDIR)$(LIBDIR)/pkgconfig/libkrun.pc
	chmod 0644 $(DESTDIR)$(LIBDIR)/pkgconfig/libkrun.pc

clean:
	rm -rf build

.PHONY: all check clean install install-lib $(INSTALLS) unit-tests check-unit check-asan check-format check-make check-solo check-clang \
	$(CHECKS)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
