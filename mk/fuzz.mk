# fuzz/: libFuzzer targets on fake guest memory.
#   make fuzz               clang -fsanitize=fuzzer,address,undefined binaries
#                           in $(B)/fuzz/ (run: $(B)/fuzz/fuzz_virtq fuzz/corpus/fuzz_virtq)
#   make check-fuzz-replay  every file of fuzz/corpus/<target>/ through the same
#                           entry point, linked with fuzz/replay.c and $(CC)
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# Everything, library and test helpers, compiled again with clang + coverage.
FUZZ_OBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(TEST_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -Itests/lib $(CFLAGS) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/libfuzz.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz/fuzz_%.o $(FUZZ_DIR)/libfuzz.a
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

# Replay binaries: the normal compiler, the normal objects.
$(B)/fuzz/replay/%: $(B)/fuzz/replay/%.o $(B)/fuzz/replay/replay.o $(TEST_LIB_OBJS) $(INTERNAL_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/fuzz/replay/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) -MMD -MP -c -o $@ $<

FUZZ_REPLAY_BINS := $(FUZZ_TARGETS:%=$(B)/fuzz/replay/%)
ALL += $(FUZZ_REPLAY_BINS)

check-fuzz-replay: $(FUZZ_REPLAY_BINS)
	@rc=0; for t in $(FUZZ_TARGETS); do \
		[ -d fuzz/corpus/$$t ] || { echo "$$t: no corpus"; continue; }; \
		$(B)/fuzz/replay/$$t fuzz/corpus/$$t || rc=1; \
	done; exit $$rc

CHECKS += check-fuzz-replay
.PHONY: fuzz check-fuzz-replay
