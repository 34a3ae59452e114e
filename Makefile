# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# limpet - XDP load balancer with session affinity.
#
#   make            build/limpet and the BPF objects
#   make test       layer check, unit (also under ASan/UBSan), packet,
#                   fuzz-smoke and end-to-end tests (root)
#   make sanitize   the unit and packet tiers built with ASan + UBSan
#   make check-layers  which folder of user/ may include which (scripts/check-layers.sh)
#   make fuzz       the libFuzzer targets, FUZZ_SECONDS each (tests/fuzz/fuzz.mk)
#   make bench      ns/packet through bpf_prog_test_run_opts (root)
#   make man        build/limpet.8, the man page (`limpet help --man`)
#   make install    /usr/local/sbin/limpet, its man page, limpet.service, the
#                   Grafana dashboard and,
#                   unless one exists, /etc/limpet/limpet.yaml

VERSION   := 0.1.0
BUILD     := build
PREFIX    ?= /usr/local

CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKGS      := libbpf libxdp yaml-0.1 jansson libcurl libmicrohttpd

# Install build dependencies first when a tool or library is missing.
DEPS_OK := $(shell command -v $(CLANG) >/dev/null && command -v $(BPFTOOL) >/dev/null && \
	     pkg-config --exists $(PKGS) criterion 2>/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
$(info limpet: build dependencies missing, running scripts/install-deps.sh)
$(shell bash scripts/install-deps.sh >&2)
endif

ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

# CFLAGS is the caller's (make CFLAGS=-O0); the project's own flags are
# always added in front of it, so overriding one never drops the other.
CFLAGS    ?= -O2 -g
LIMPET_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	     -Iinclude -Iuser -I$(BUILD) -DLIMPET_VERSION='"$(VERSION)"' \
	     $(shell pkg-config --cflags $(PKGS))
ALL_CFLAGS = $(LIMPET_CFLAGS) $(CFLAGS)
LDLIBS    += $(shell pkg-config --libs $(PKGS)) -lelf -lz -lm

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -Ibpf -idirafter /usr/include/$(MULTIARCH)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS  := $(wildcard bpf/lib/*.h) $(wildcard include/*.h)

# user/<layer>/*.c: base, model, dp, http, proto, run, cli (README, "Layout").
USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard user/*/*.h) $(wildcard include/*.h)

UNIT_SRCS := $(wildcard tests/unit/*.c)
PKT_SRCS  := $(filter-out %.bpf.c,$(wildcard tests/packet/*.c))
# BPF programs of the packet tests alone, not of the data plane.
PKT_BPF   := $(patsubst tests/packet/%.bpf.c,$(BUILD)/%.skel.h,$(wildcard tests/packet/*.bpf.c))

.SECONDARY:
.PHONY: all test unit packet e2e bench install clean demo deps man sanitize check-layers
all: $(BUILD)/limpet

deps:
	bash scripts/install-deps.sh

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: tests/packet/%.bpf.c tests/packet/*.h $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -Itests/packet -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/limpet: $(BUILD)/user/main.o $(USER_OBJS)
	$(CC) $(ALL_CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_SRCS) $(USER_OBJS) $(USER_HDRS)
	$(CC) $(ALL_CFLAGS) -Itests $(UNIT_SRCS) $(USER_OBJS) -o $@ $(LDLIBS) -lcriterion

$(BUILD)/packet-tests: $(PKT_SRCS) $(USER_OBJS) $(USER_HDRS) $(SKELS) $(PKT_BPF) tests/packet/*.h
	$(CC) $(ALL_CFLAGS) -Itests $(PKT_SRCS) $(USER_OBJS) -o $@ $(LDLIBS) -lcriterion

$(BUILD)/bench: tests/bench/bench.c $(USER_OBJS) $(USER_HDRS) $(SKELS) tests/packet/*.h
	$(CC) $(ALL_CFLAGS) -Itests tests/bench/bench.c $(USER_OBJS) -o $@ $(LDLIBS)

# The unit and packet tiers again, every source compiled with ASan + UBSan
# (any report fails the run), in their own build directory.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	     -fno-omit-frame-pointer
SAN_BUILD := $(BUILD)/san
SAN_OBJS  := $(patsubst user/%.c,$(SAN_BUILD)/user/%.o,$(USER_SRCS))

$(SAN_BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(LIMPET_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(SAN_BUILD)/unit-tests: $(UNIT_SRCS) $(SAN_OBJS) $(USER_HDRS)
	$(CC) $(LIMPET_CFLAGS) $(SAN_FLAGS) -Itests $(UNIT_SRCS) $(SAN_OBJS) -o $@ $(LDLIBS) \
		-lcriterion

$(SAN_BUILD)/packet-tests: $(PKT_SRCS) $(SAN_OBJS) $(USER_HDRS) $(SKELS) $(PKT_BPF) tests/packet/*.h
	$(CC) $(LIMPET_CFLAGS) $(SAN_FLAGS) -Itests $(PKT_SRCS) $(SAN_OBJS) -o $@ $(LDLIBS) \
		-lcriterion

# ASAN_OPTIONS: Criterion forks a worker per test; leaks are reported per
# worker, and a report is a failure.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

sanitize: $(SAN_BUILD)/unit-tests $(SAN_BUILD)/packet-tests
	$(SAN_ENV) $(SAN_BUILD)/unit-tests
	$(SAN_ENV) bash tests/packet/run.sh $(SAN_BUILD)/packet-tests

check-layers:
	bash scripts/check-layers.sh

$(BUILD):
	mkdir -p $@

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

packet: $(BUILD)/packet-tests
	bash tests/packet/run.sh $(BUILD)/packet-tests

e2e: $(BUILD)/limpet
	bash tests/e2e/run.sh

# The README's test command: every tier, in order of cost.
test: $(BUILD)/limpet $(BUILD)/unit-tests $(BUILD)/packet-tests $(SAN_BUILD)/unit-tests
	bash tests/run-all.sh

bench: $(BUILD)/bench $(BUILD)/limpet $(BUILD)/tg_xdp.bpf.o
	bash tests/bench/run.sh $(BUILD)/bench

demo: $(BUILD)/limpet
	bash scripts/demo.sh

# The man page is generated from the binary's command table, like --help.
man: $(BUILD)/limpet.8

$(BUILD)/limpet.8: $(BUILD)/limpet
	$(BUILD)/limpet help --man > $@.tmp && mv $@.tmp $@

# The unit's ExecStart= names the binary under $(PREFIX); an existing
# /etc/limpet/limpet.yaml is never overwritten.
install: $(BUILD)/limpet $(BUILD)/limpet.8
	install -D -m 0755 $(BUILD)/limpet $(DESTDIR)$(PREFIX)/sbin/limpet
	install -D -m 0644 $(BUILD)/limpet.8 $(DESTDIR)$(PREFIX)/share/man/man8/limpet.8
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|/usr/local/sbin/limpet|$(PREFIX)/sbin/limpet|' packaging/limpet.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/limpet.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/limpet.service
	install -D -m 0644 packaging/grafana-dashboard.json \
		$(DESTDIR)$(PREFIX)/share/limpet/grafana-dashboard.json
	@if [ -e $(DESTDIR)/etc/limpet/limpet.yaml ]; then \
		echo "keeping $(DESTDIR)/etc/limpet/limpet.yaml"; \
	else \
		install -D -m 0644 examples/real-nic.yaml $(DESTDIR)/etc/limpet/limpet.yaml; \
	fi

clean:
	rm -rf $(BUILD)

# ---------------------------------------------------------------------------
# build/impair: packet loss and reordering for the end-to-end tests (the test
# kernels have no netem). tests/e2e/impair.bpf.c is the XDP program,
# tests/e2e/impair.c its loader, tests/e2e/impair.sh the shell wrappers.
.PHONY: impair
impair: $(BUILD)/impair
e2e test: $(BUILD)/impair

# The traffic-generator bench's sink and baseline programs (tests/bench/tg.sh).
$(BUILD)/tg_xdp.bpf.o: tests/bench/tg_xdp.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/impair.bpf.o: tests/e2e/impair.bpf.c tests/e2e/impair.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/impair: tests/e2e/impair.c tests/e2e/impair.h $(BUILD)/impair.skel.h
	$(CC) $(ALL_CFLAGS) $< -o $@ $(shell pkg-config --libs libbpf) -lelf -lz

# ---------------------------------------------------------------------------
# libFuzzer targets and the BPF/userspace differential check of the parsers
# that read what a stranger sends: tests/fuzz/fuzz.mk.
include tests/fuzz/fuzz.mk
