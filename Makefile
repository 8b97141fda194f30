# Chat system: top-level Makefile.
#
#   make run         install what is missing, build, start redis + relay + archiver + lighttpd on :8080
#                    (TLS=1: https and wss on :8443 too, see scripts/tls.sh)
#   make test        install what is missing, build under ASan/UBSan, run every test
#   make stop        stop what `make run` started
#   make fuzz        run the libFuzzer targets (FUZZ_SECONDS each, default 60)
#   make bench       run the benchmark suite (fills docs/BENCHMARKS.md)
#
# Quiet by default; V=1 prints full command lines. SANITIZE=address,undefined builds
# into build/asan, a plain build goes to build/release. Each part adds its own rules in
# its build.mk fragment, included below.

SHELL := /bin/bash
CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif
SANITIZE ?=
ifeq ($(SANITIZE),)
B ?= build/release
OPT ?= -O2
else
B ?= build/asan
OPT ?= -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

PKGS := libwebsockets hiredis json-c libsodium libuv
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS := -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) -MMD -MP -Icommon $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(EXTRA_LDFLAGS)
LIBS := $(PKG_LIBS) -lfcgi -lm

ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2)
endif

.DEFAULT_GOAL := all
.PHONY: all bins deps run stop test test-unit test-integration fuzz bench clean

# ---- common/ ---------------------------------------------------------------
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(B)/%.o)
COMMON_LIB := $(B)/libcommon.a

$(COMMON_LIB): $(COMMON_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# ---- parts -------------------------------------------------------------------
# Each fragment appends to ALL_BINS / UNIT_TESTS and defines its own link rules.
ALL_BINS :=
UNIT_TESTS :=
include $(wildcard */build.mk tests/*/build.mk)

all: $(ALL_BINS) $(UNIT_TESTS)
bins: $(ALL_BINS)

# ---- set-up and running -------------------------------------------------------
deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory bins
	@TLS="$(TLS)" scripts/run.sh

stop:
	@scripts/stop.sh

# ---- tests ------------------------------------------------------------------------
# `make test` builds everything under the sanitizers and runs every suite; the last
# line is "N passed, N failed".
test: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all
	@SANITIZE=address,undefined B=build/asan tests/run.sh

test-unit:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all
	@SANITIZE=address,undefined B=build/asan tests/run.sh unit

test-integration:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all
	@SANITIZE=address,undefined B=build/asan tests/run.sh integration node

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
