#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run.sh - make bench: the per-path ns/packet figures of build/bench, run in
# a namespace set up like the packet tests' (tests/packet/netns.sh) and
# deleted on exit, then the end-to-end figures of tests/bench/e2e.sh when
# that script exists, then the traffic-generator packet rates of
# tests/bench/tg.sh (tg_* lines) and the control-plane scale figures of
# tests/bench/ctl.sh (ctl_* lines). Extra arguments go to build/bench (-r
# ROUNDS, -n REPEAT, -N NEWFLOW_REPEAT), the HTTP binding figures of
# tests/bench/bind.sh (bind_* lines); BENCH_E2E=0, BENCH_BIND=0, BENCH_TG=0 and
# BENCH_CTL=0 skip those parts. Exits non-zero if any part failed.
#
#   bash tests/bench/run.sh build/bench [bench options]
set -uo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY [ARGS...]" >&2
	exit 2
fi
bin=$(realpath "$1")
shift
here=$(dirname "$0")

. "$here/../packet/netns.sh"
# Not lp-*: the end-to-end lab (scripts/lab.sh) treats lp-* as its own.
NS=limpet-bench
trap 'netns_cleanup $NS' EXIT
trap 'exit 130' INT TERM
netns_setup $NS || { echo "run.sh: namespace setup failed" >&2; exit 1; }

netns_run $NS "$bin" "$@"
rc=$?
netns_cleanup $NS

# End to end (wrk through limpet, HAProxy and direct): e2e_* lines.
if [ -f "$here/e2e.sh" ] && [ "${BENCH_E2E:-1}" != 0 ]; then
	bash "$here/e2e.sh" || rc=1
fi
# Binding: wrk close mode with a cookie beside an L4 service: bind_* lines.
if [ "${BENCH_BIND:-1}" != 0 ]; then
	bash "$here/bind.sh" || rc=1
fi
# trafgen through limpet, an XDP redirect and nftables DNAT: tg_* lines.
if [ "${BENCH_TG:-1}" != 0 ]; then
	bash "$here/tg.sh" || rc=1
fi
# 1,000 services x 100 backends: load, reload, memory, one ring: ctl_* lines.
if [ "${BENCH_CTL:-1}" != 0 ]; then
	bash "$here/ctl.sh" || rc=1
fi
exit $rc
