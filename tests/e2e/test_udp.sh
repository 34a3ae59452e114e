#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_udp.sh - a UDP service (10.100.0.100:5353, client-IP affinity, NAT):
# each backend runs a tiny echo server answering with its name; 30 client
# addresses x 3 queries (fresh source port each) always reach the same
# backend, and every reply comes back from the VIP:5353 (NAT return path).
# New flows' next hops are kept by backend while the balancer has only the
# default policy rules; a rule added while limpet runs switches IPv4 to
# client and backend within a few seconds, and the queries still all get
# their replies.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin udp
trap lab_down EXIT
e2e_lab_up 3
for k in 1 2 3; do
	ip netns exec "lp-b$k" "$LAB_PYTHON" "$E2E_DIR/udp_echo.py" serve "b$k" --port 5353 \
		>"$E2E_TMP/udp-b$k.log" 2>&1 &
done
for k in 1 2 3; do
	lab_wait 5 eval "ip netns exec lp-b$k ss -Huln 'sport = :5353' | grep -q ." ||
		fail "UDP echo server in lp-b$k did not start: $(cat "$E2E_TMP/udp-b$k.log")"
done
lab_write_config "$LAB_DIR/limpet.yaml" --udp
e2e_start "$LAB_DIR/limpet.yaml"

addrs=()
for k in $(seq 1 30); do addrs+=("$(lab_client_addr "$k")"); done
timeout 120 ip netns exec lp-client "$LAB_PYTHON" "$E2E_DIR/udp_echo.py" query "$LAB_VIP4" 5353 \
	"${addrs[@]}" --repeat 3 --timeout 1 >"$E2E_TMP/udp" || fail "UDP client failed or timed out"

lost=$(awk '$2 == "-"' "$E2E_TMP/udp" | wc -l)
[ "$lost" -eq 0 ] || fail "$lost of $(wc -l <"$E2E_TMP/udp") UDP queries got no reply (3 tries each), first: $(awk '$2 == "-" { print $1; exit }' "$E2E_TMP/udp")"
wrongsrc=$(awk -v vip="$LAB_VIP4" '$3 != vip || $4 != 5353' "$E2E_TMP/udp" | head -n 1)
[ -z "$wrongsrc" ] || fail "UDP reply not from $LAB_VIP4:5353 (NAT return path): $wrongsrc"
# Same format as lab_sweep, so the affinity checker applies.
awk '{ printf "%s 0 200 %s\\n\n", $1, $2 }' "$E2E_TMP/udp" >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect 30 --need-all --max-share 0.7

grep -q "next hops of new flows: IPv4 by backend, IPv6 by backend" "$LAB_LIMPET_LOG" ||
	fail "default rules only, yet new flows' next hops are not kept by backend: $(grep 'next hops' "$LAB_LIMPET_LOG")"
ip -n lp-lb rule add from 10.10.0.0/16 lookup main priority 1000
lab_wait 5 grep -q "next hops of new flows: IPv4 by client and backend, IPv6 by backend" \
	"$LAB_LIMPET_LOG" || fail "a policy rule did not make new flows' next hops per client"
timeout 120 ip netns exec lp-client "$LAB_PYTHON" "$E2E_DIR/udp_echo.py" query "$LAB_VIP4" 5353 \
	"${addrs[@]}" --repeat 3 --timeout 1 >"$E2E_TMP/udp2" || fail "UDP client failed or timed out"
lost=$(awk '$2 == "-"' "$E2E_TMP/udp2" | wc -l)
[ "$lost" -eq 0 ] || fail "with the rule, $lost of $(wc -l <"$E2E_TMP/udp2") UDP queries got no reply"
pass
