# tests/guest: our own tiny test guest, a freestanding ELF64 "kernel" at
# 16 MiB entered through the same direct 64-bit boot path as Linux.  Plain
# integer instructions only: kvm_pvm emulates guest ring 0 (kernel.md §4.2).
GUEST_SRCS := $(sort $(wildcard tests/guest/*.c tests/guest/*.S))
GUEST_OBJS := $(patsubst tests/guest/%,$(B)/tests/guest/%.o,$(GUEST_SRCS))
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-ffreestanding -nostdlib -mgeneral-regs-only -mno-red-zone -fno-pic \
	-fno-pie -static -fno-stack-protector -fcf-protection=none \
	-fno-asynchronous-unwind-tables -fno-builtin -D_GNU_SOURCE

$(B)/tests/guest/%.c.o: tests/guest/%.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/guest/%.S.o: tests/guest/%.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(GUEST_ELF): $(GUEST_OBJS) tests/guest/guest.ld
	$(CC) $(GUEST_CFLAGS) -Wl,-T,tests/guest/guest.ld \
		-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
		-Wl,-z,noexecstack -Wl,--no-warn-rwx-segments -o $@ $(GUEST_OBJS)

ALL += $(GUEST_ELF)
