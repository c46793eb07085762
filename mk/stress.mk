# tests/stress: concurrency stress programs, built with ThreadSanitizer.
#
#   make check-tsan   the FUSE server and passthrough under 4 threads for 3 s,
#                     then 3 s hostile (STRESS_HOSTILE=1: handles released
#                     under other threads' I/O, double RELEASE, FORGET of
#                     more than was looked up), and tests/unit/test_fs (the
#                     virtio-fs device's loop and workers); TSan build in
#                     $(B)/tsan; in `make check`
#   make stress       the same stress for STRESS_SECONDS (300) each
#
# Knobs: STRESS_THREADS (4), STRESS_SECONDS.  A data race, a lock-order
# inversion or any other TSan report fails the run (exit 66).
STRESS_SRCS := $(sort $(wildcard tests/stress/*.c))
STRESS_BINS := $(STRESS_SRCS:%.c=$(B)/%)
TSAN_DIR := $(B)/tsan
TSAN_STRESS := $(STRESS_SRCS:%.c=$(TSAN_DIR)/%)
TSAN_OPTIONS ?=
# gcc 12's TSan runtime cannot start on kernels with 32 bits of mmap
# randomisation ("unexpected memory mapping"): run without address space
# randomisation where the personality call is allowed (not under Docker's
# default seccomp profile, where it is left as it is).
TSAN_NORAND := $(shell setarch $$(uname -m) -R true 2>/dev/null && echo setarch $$(uname -m) -R)
TSAN_RUN := TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 $(TSAN_OPTIONS)"
STRESS_SECONDS ?= 300

$(B)/tests/stress/%: $(B)/tests/stress/%.o $(TEST_LIB_OBJS) $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ALL += $(STRESS_BINS)

# The TSan binaries, built by this Makefile again with B=$(TSAN_DIR)
# SAN=thread (one sub-make, so that no two build the same objects): the
# stress programs and the virtio-fs device test (its loop and workers).
TSAN_PROGS := $(TSAN_STRESS) $(TSAN_DIR)/tests/unit/test_fs

tsan-progs:
	$(MAKE) --no-print-directory B=$(TSAN_DIR) SAN=thread CC=$(CC) $(TSAN_PROGS)

check-tsan: tsan-progs
	$(TSAN_RUN) STRESS_SECONDS=3 $(TSAN_NORAND) $(RUN_TESTS) tsan $(TSAN_PROGS)
	$(TSAN_RUN) STRESS_SECONDS=3 STRESS_HOSTILE=1 $(TSAN_NORAND) $(RUN_TESTS) tsan-hostile $(TSAN_STRESS)

stress: tsan-progs
	$(TSAN_RUN) STRESS_SECONDS=$(STRESS_SECONDS) TEST_TIMEOUT=$$(($(STRESS_SECONDS) + 300)) \
		$(TSAN_NORAND) $(RUN_TESTS) stress $(TSAN_STRESS)
	$(TSAN_RUN) STRESS_SECONDS=$(STRESS_SECONDS) TEST_TIMEOUT=$$(($(STRESS_SECONDS) + 300)) \
		STRESS_HOSTILE=1 $(TSAN_NORAND) $(RUN_TESTS) stress-hostile $(TSAN_STRESS)

CHECKS += check-tsan
.PHONY: check-tsan stress tsan-progs
