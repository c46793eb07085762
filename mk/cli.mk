# The ckrun CLI: a client of the public API, linked against libkrun.so.1
# like any other program.  RUNPATH covers the build tree and PREFIX/lib64.
CLI_RUNPATH := -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib64'

$(CLI): $(B)/cli/ckrun.o $(LIB_FILE)
	$(CC) $(LDFLAGS) $(CLI_RUNPATH) -o $@ $(B)/cli/ckrun.o -L$(B) -l:$(LIB_SONAME)

$(B)/cli/%.o: cli/%.c include/libkrun.h
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -Iinclude $(CFLAGS) -c -o $@ $<

ALL += $(CLI)

install-cli: $(CLI)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/ckrun
	install -m 0644 man/ckrun.1 $(DESTDIR)$(MANDIR)/man1/ckrun.1
INSTALLS += install-cli

# The default root filesystem for the demo and the tests (busybox-static).
$(ROOTFS)/bin/busybox: scripts/mkrootfs.sh
	scripts/mkrootfs.sh $(ROOTFS)
rootfs: $(ROOTFS)/bin/busybox
ALL += $(ROOTFS)/bin/busybox

.PHONY: install-cli rootfs

check-cli: $(CLI) $(GUEST_ELF)
	CKRUN=$(CLI) GUEST_ELF=$(GUEST_ELF) $(RUN_TESTS) cli tests/cli/test-cli.sh
CHECKS += check-cli
.PHONY: check-cli
