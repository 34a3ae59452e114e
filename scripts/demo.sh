#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# demo.sh - limpet in a few seconds (`make demo`, as root): builds the
# namespace lab of scripts/lab.sh with three nginx backends, starts
# build/limpet in front of them and shows client-IP affinity at work, then
# tears everything down again. It builds nothing itself.
set -euo pipefail

. "$(dirname "$0")/lab.sh"

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces and attaches XDP)"
[ -x "$LIMPET" ] || die "$LIMPET not found: run 'make demo' (or make) first"

trap lab_down EXIT
trap 'exit 130' INT TERM

bold "== Building the lab: client -> limpet (lp-lb) -> bridge -> backends b1 b2 b3"
lab_up 3 || die "lab setup failed"
cfg=$LAB_DIR/limpet.yaml
lab_write_config "$cfg"
echo "   VIP http://$LAB_VIP4/ and http://[$LAB_VIP6]/, client addresses 10.10.1.1-10.10.1.$LAB_CLIENTS"
echo "   config: $cfg"

bold "== Starting limpet (nsenter --net=/run/netns/lp-lb $LIMPET run --config ...)"
lab_limpet_start "$cfg" || die "limpet did not become ready"
echo "   limpet: ready (pid $(lab_limpet_pid), log $LAB_LIMPET_LOG)"
echo

addr=$(lab_client_addr 7)
bold "== One client ($addr) asks 5 times, each time on a new connection:"
for i in 1 2 3 4 5; do
	body=$(lab_curl "$addr") || body="(request failed)"
	printf '   request %d -> %s\n' "$i" "$body"
done
echo

bold "== 20 different clients ask once each:"
declare -A tally=()
line=""
for k in $(seq 1 20); do
	a=$(lab_client_addr "$k")
	b=$(lab_curl "$a") || b=failed
	tally[$b]=$((${tally[$b]:-0} + 1))
	line+=$(printf '   %-12s -> %-3s' "$a" "$b")
	if [ $((k % 4)) -eq 0 ]; then echo "$line"; line=""; fi
done
echo
echo "   tally:"
for b in $(printf '%s\n' "${!tally[@]}" | sort); do
	printf '     %-7s %2d  %s\n' "$b" "${tally[$b]}" "$(printf '#%.0s' $(seq 1 "${tally[$b]}"))"
done
echo

bold "== limpet status"
lab_cli status | sed 's/^./   &/' || echo "   (limpet status failed)"
echo
bold "== Done; tearing the lab down."
