# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# fuzz.mk - the libFuzzer targets of tests/fuzz/ and the BPF differential
# check, included from the top Makefile (see tests/fuzz/README.md).
#
#   make fuzz          every target FUZZ_SECONDS (default 30) from its corpus
#   make fuzz-smoke    each target ~3 s, the regression inputs, the BPF diff
#   make fuzz-merge    fold build/fuzz/corpus/<target> into tests/fuzz/corpus
#   make fuzz-build    the binaries alone

# The controller sources the targets link, and where their headers are:
# the only lines to change when user/ is reorganised.
FUZZ_USER_SRCS := user/http/slowpath.c user/http/segment.c user/base/log.c \
		  user/model/config.c user/model/yaml.c user/model/value.c user/model/rules.c \
		  user/model/model.c
FUZZ_INC       := -Iinclude -Iuser -Itests -Itests/fuzz

FUZZ_CC        ?= clang
# libFuzzer's runtime (Debian: libfuzzer-14-dev, in scripts/install-deps.sh).
FUZZ_RT        := $(shell $(FUZZ_CC) -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-$(shell uname -m).a
ifeq ($(wildcard $(FUZZ_RT)),)
ifneq ($(filter fuzz%,$(MAKECMDGOALS))$(filter test,$(MAKECMDGOALS)),)
$(info limpet: libFuzzer missing, running scripts/install-deps.sh)
$(shell bash scripts/install-deps.sh >&2)
endif
endif
FUZZ_SECONDS   ?= 30
FUZZ_TARGETS   := head token tcpopt splice slowpath insert config
FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS    := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
		  $(FUZZ_INC) -DLIMPET_VERSION='"$(VERSION)"' \
		  $(shell pkg-config --cflags libbpf libxdp yaml-0.1)
FUZZ_LDLIBS    := $(shell pkg-config --libs libbpf libxdp yaml-0.1) -lelf -lz
FUZZ_USER_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/user/%.o,$(FUZZ_USER_SRCS))
FUZZ_BINS      := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_HDRS      := $(wildcard tests/fuzz/*.h) $(USER_HDRS)

.PHONY: fuzz fuzz-smoke fuzz-merge fuzz-build
fuzz-build: $(FUZZ_BINS) $(FUZZ_DIR)/diff_bpf

# A slow path of 64 index buckets: calloc()ing the 512 KiB of the real one
# for every input was two thirds of the slowpath target's time.
$(FUZZ_DIR)/user/%.o: user/%.c $(USER_HDRS) tests/fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DSLOWPATH_BUCKETS=64 -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
		-c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_USER_OBJS) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(FUZZ_USER_OBJS) -o $@ \
		$(FUZZ_LDLIBS)

# A plain binary (no sanitizer runtime next to libbpf): loads
# tests/packet/head_scan.bpf.c, so it runs as root.
$(FUZZ_DIR)/diff_bpf: tests/fuzz/diff_bpf.c $(FUZZ_HDRS) $(BUILD)/head_scan.skel.h \
		tests/packet/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -Itests/fuzz $< -o $@ $(shell pkg-config --libs libbpf) -lelf -lz

fuzz: fuzz-build
	bash tests/fuzz/run.sh fuzz $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	bash tests/fuzz/run.sh smoke $(FUZZ_DIR) 3 $(FUZZ_TARGETS)

fuzz-merge: fuzz-build
	bash tests/fuzz/run.sh merge $(FUZZ_DIR) 0 $(FUZZ_TARGETS)

# `make test` runs the smoke as its fuzz tier (tests/run-all.sh).
test: fuzz-build
