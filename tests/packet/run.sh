#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run.sh - run the packet tests (build/packet-tests) inside their own network
# namespace, which is deleted on exit whatever happens. Extra arguments go to
# the test binary (Criterion options, e.g. --filter 'xdp/nat_*' or --verbose).
#
#   bash tests/packet/run.sh build/packet-tests [criterion options]
set -uo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 BINARY [ARGS...]" >&2
	exit 2
fi
bin=$(realpath "$1")
shift

. "$(dirname "$0")/netns.sh"
NS=lp-pkt
trap 'netns_cleanup $NS' EXIT
trap 'exit 130' INT TERM
netns_setup $NS || { echo "run.sh: namespace setup failed" >&2; exit 1; }

netns_run $NS "$bin" "$@"
