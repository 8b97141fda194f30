# tests/fuzz/build.mk - libFuzzer targets, built with clang straight from the sources
# they need (not the gcc objects), into build/fuzz/.
#
#   make fuzz          run every target for FUZZ_SECONDS (default 60) each
#   make fuzz-smoke    run every target for 5 seconds (the test runner calls this)
#
# Each target runs on build/fuzz/corpus/<name>, seeded (without overwriting what
# earlier runs found) from tests/fuzz/corpus/<name>. A crash prints "fuzz-FAIL", the
# log tail and the reproducer path, and makes the target exit non-zero. Not part of
# `all`: it needs clang.

FUZZ_CC ?= clang
FUZZ_B ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(WARN) -Icommon -Iws-relay
FUZZ_NAMES := stomp sockjs sockjs_path archiver_feed
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)

$(FUZZ_B)/fuzz_stomp: ws-relay/stomp.c ws-relay/stomp.h
$(FUZZ_B)/fuzz_sockjs: ws-relay/sockjs_frame.c ws-relay/sockjs_frame.h common/valid.c
$(FUZZ_B)/fuzz_sockjs_path: ws-relay/sockjs_path.c ws-relay/sockjs_path.h
$(FUZZ_B)/fuzz_archiver_feed: archiver/feed.c archiver/feed.h common/json.c common/log.c common/valid.c
$(FUZZ_B)/fuzz_archiver_feed: FUZZ_CFLAGS += -Iarchive -Iarchiver
$(FUZZ_B)/fuzz_archiver_feed: FUZZ_LIBS := -ljson-c

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c common/buf.c common/util.c common/buf.h common/util.h
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(FUZZ_LIBS)

.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_B) $(FUZZ_NAMES)

fuzz-smoke: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_B) $(FUZZ_NAMES)
