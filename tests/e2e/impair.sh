# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# impair.sh - packet loss and reordering on a veth, to be sourced by the
# end-to-end tests (the test kernels have no netem). Wraps build/impair
# (`make impair`), which attaches tests/e2e/impair.bpf.c in native XDP mode.
#
#   impair_attach NS IF DROP REORDER  impair TCP frames arriving on IF in
#                                     netns NS (percentages; run again to
#                                     change them)
#   impair_stats NS IF                "dropped N reordered N passed N"
#   impair_detach NS IF               never fails; also prunes the pins of
#                                     interfaces that are gone
#
# Only TCP over IPv4/IPv6 is impaired: ARP, ND and ICMP always pass. Attach
# to the end that *receives* the traffic to impair, and turn off transmit
# checksum offload on the end that sends it (ethtool -K PEER tx off):
# reordered frames are rebuilt from XDP frames on another CPU, which loses
# CHECKSUM_PARTIAL, so the stack would drop them for a bad checksum.

IMPAIR_BIN=${IMPAIR_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/impair}

impair_attach() {
	local ns=$1 ifname=$2 drop=$3 reorder=$4

	if [ ! -x "$IMPAIR_BIN" ]; then
		echo "impair: $IMPAIR_BIN missing (make impair)" >&2
		return 1
	fi
	"$IMPAIR_BIN" -n "$ns" attach "$ifname" "$drop" "$reorder"
}

impair_stats() {
	"$IMPAIR_BIN" -n "$1" stats "$2"
}

# Cleanup helper: returns 0 whatever happened, even under set -e / ERR traps.
impair_detach() {
	local ns=$1 ifname=$2

	{
		if [ -e "/run/netns/$ns" ]; then
			"$IMPAIR_BIN" -n "$ns" detach "$ifname"
		fi
		"$IMPAIR_BIN" prune
	} >/dev/null 2>&1 || true
	return 0
}
