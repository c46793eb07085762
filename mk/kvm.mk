# tests/kvm: boot the test guest (mk/guest.mk) through the real /dev/kvm via
# the public API.  Each test_*.c is a TAP program; all exit 77 without KVM.
KVM_TEST_SRCS := $(sort $(wildcard tests/kvm/test_*.c))
KVM_TEST_BINS := $(KVM_TEST_SRCS:%.c=$(B)/%)
KVM_HELPER_OBJS := $(B)/tests/kvm/guest_run.o

$(KVM_HELPER_OBJS) $(KVM_TEST_SRCS:%.c=$(B)/%.o): \
	CPPFLAGS += -DGUEST_ELF='"$(abspath $(GUEST_ELF))"'

$(B)/tests/kvm/%: $(B)/tests/kvm/%.o $(KVM_HELPER_OBJS) $(TEST_LIB_OBJS) \
		$(INTERNAL_A) | $(GUEST_ELF)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(LDLIBS)

kvm-tests: $(KVM_TEST_BINS) $(GUEST_ELF)
ALL += $(KVM_TEST_BINS)

check-kvm: kvm-tests
	$(RUN_TESTS) kvm $(KVM_TEST_BINS)

CHECKS += check-kvm
.PHONY: kvm-tests check-kvm
