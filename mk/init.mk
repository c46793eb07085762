# The guest init /init.krun: a static executable, embedded into the library
# by src/bundle/init_blob.S.  It never includes anything from src/.
INIT_SRCS := $(sort $(wildcard init/*.c))
INIT_STATIC_OBJS := $(INIT_SRCS:init/%.c=$(INIT_DIR)/static/%.o)

# Not $(CFLAGS): the init is never built with sanitizers or -fPIC.
INIT_CFLAGS := -std=gnu11 -Os -D_GNU_SOURCE $(WARNINGS) -ffunction-sections \
	-fdata-sections $(EXTRA_CFLAGS)

$(INIT_DIR)/static/%.o: init/%.c
	@mkdir -p $(@D)
	$(CC) $(INIT_CFLAGS) -MMD -MP -c -o $@ $<

$(INIT_BIN): $(INIT_STATIC_OBJS)
	$(CC) -static -Wl,--gc-sections -s -o $@ $^

init: $(INIT_BIN)
ALL += $(INIT_BIN)

# The library embeds the binary; the path reaches the .incbin the way
# kernel/blob.S gets its image (mk/kernel.mk).
$(B)/src/bundle/init_blob.o: src/bundle/init_blob.S $(INIT_BIN)
	@mkdir -p $(@D)
	$(CC) -DINIT_BLOB_PATH='"$(INIT_BIN)"' -MMD -MP -c -o $@ $<

# Host unit tests link only tests/lib/t.o and the init's own objects,
# compiled like the library's by the generic $(B)/%.o rule (so SAN=1 builds
# sanitize them too); never the library archive: init/ stands alone.
INIT_T_OBJS = $(B)/tests/lib/t.o $(addprefix $(B)/init/,$(1:=.o))
INIT_UNIT_LINK = $(CC) $(LDFLAGS) -o $@ $(filter %.o,$^)

$(B)/tests/unit/test_init_json: $(B)/tests/unit/test_init_json.o \
		$(call INIT_T_OBJS,json)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_config: $(B)/tests/unit/test_init_config.o \
		$(call INIT_T_OBJS,json strv config net dhcp mount kcmdline)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_mount: $(B)/tests/unit/test_init_mount.o \
		$(call INIT_T_OBJS,mount strv)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_dhcp: $(B)/tests/unit/test_init_dhcp.o \
		$(call INIT_T_OBJS,dhcp net)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_rlimits: $(B)/tests/unit/test_init_rlimits.o \
		$(call INIT_T_OBJS,rlimits)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_exit: $(B)/tests/unit/test_init_exit.o \
		$(call INIT_T_OBJS,exitcode stdio_ports strv config json)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_pid1: $(B)/tests/unit/test_init_pid1.o \
		$(B)/tests/lib/t.o $(INIT_BIN)
	$(INIT_UNIT_LINK)
$(B)/tests/unit/test_init_pid1.o $(B)/tests/unit/test_init_blob.o: \
	CPPFLAGS += -DINIT_KRUN_PATH='"$(INIT_BIN)"'

# fuzz/fuzz_init_json.c (mk/fuzz.mk builds and replays it) reads init/
# objects, which are not in the library.
FUZZ_INIT_OBJS := json.o strv.o config.o
$(B)/fuzz/fuzz_init_json: $(FUZZ_INIT_OBJS:%=$(B)/fuzz/obj/init/%)
$(B)/fuzz/replay/fuzz_init_json: $(FUZZ_INIT_OBJS:%=$(B)/init/%)
# fuzz/fuzz_dhcp.c: the init's DHCP reply parser.
$(B)/fuzz/fuzz_dhcp: $(B)/fuzz/obj/init/dhcp.o $(B)/fuzz/obj/init/net.o
$(B)/fuzz/replay/fuzz_dhcp: $(B)/init/dhcp.o $(B)/init/net.o

.PHONY: init
