#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_l4_icmp_client.sh - path-MTU discovery toward the client through an
# L4 NAT service, IPv4 and IPv6: on a live keep-alive connection, a router
# on the client's side (another client address) sends the VIP an ICMP
# "fragmentation needed" / "packet too big" quoting the backend's reply as
# limpet un-NAT'd it (VIP:80 -> client, seq = the client's rcv_nxt;
# scapy, tests/e2e/icmp_inject_client.py). limpet translates it for the
# backend (tests/packet/test_endpoint.c checks the bytes): the backend's
# kernel must take it as an error about its own socket (quoted addresses
# and ports its own, seq in window) and cache the smaller MTU for the
# client; the connection goes on serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin l4_icmp_client
"$LAB_PYTHON" -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml"
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

# Does backend <k>'s kernel keep MTU <mtu> for the route to <client>?
_be_mtu() {
	ip netns exec "lp-b$2" ip -"$1" route get "$3" from "$(lab_backend_addr "$2" "$1")" |
		grep -q "mtu $4"
}

_be_why() {
	ip netns exec "lp-b$1" nstat -az 2>/dev/null | awk '$2 != 0 && /Icmp6InPktTooBigs|Icmp6InErrors|Icmp6InCsumErrors|IcmpInDestUnreachs|IcmpInCsumErrors|OutOfWindowIcmps/ { printf "%s=%s ", $1, $2 }'
	e2e_cli stats --json
	printf '%s\n' "$E2E_OUT" | "$LAB_PYTHON" -c 'import json, sys
g = json.load(sys.stdin)["global"]
print(" ".join(f"{k}={g.get(k, 0)}" for k in ("icmp_translated_to_backend", "pass_unparsed", "fib_pass_to_kernel")))' 2>&1 | tr '\n' ' '
}

for fam in 4 6; do
	vip=$LAB_VIP4 mtu=1200
	[ "$fam" = 6 ] && vip=$LAB_VIP6 mtu=1280
	src=$(lab_client_addr 26 $fam)
	router=$(lab_client_addr 27 $fam)
	out=$T/client$fam go=$T/go$fam
	rm -f "$out" "$go"
	"${C[@]}" "$LAB_PYTHON" "$E2E_DIR/icmp_client.py" "$src" "$vip" "$go" >"$out" 2>&1 &
	pid=$!
	lab_wait 10 test -s "$out" || fail "IPv$fam: the client did not connect"
	read -r cport seq rcv body <"$out"
	[[ $body =~ ^b([123])$ ]] || fail "IPv$fam: client: $(tail -n 1 "$out")"
	k=${BASH_REMATCH[1]}
	_be_mtu "$fam" "$k" "$src" "$mtu" && fail "IPv$fam: b$k had MTU $mtu for the client already"
	for try in 1 2 3; do
		"${C[@]}" "$LAB_PYTHON" "$E2E_DIR/icmp_inject_client.py" \
			"$router" "$vip" "$src" "$cport" "$rcv" "$seq" "$mtu" 2>/dev/null ||
			fail "IPv$fam: could not send the ICMP error"
		! lab_wait 2 _be_mtu "$fam" "$k" "$src" "$mtu" || break
	done
	[ "$try" = 1 ] || note "IPv$fam: the error was taken at try $try"
	lab_wait 1 _be_mtu "$fam" "$k" "$src" "$mtu" ||
		fail "IPv$fam: b$k did not take the translated error: $(_be_why "$k")"
	touch "$go"
	wait "$pid" || fail "IPv$fam: $(tail -n 1 "$out")"
	[ "$(tail -n 1 "$out")" = "$body" ] || fail "IPv$fam: after the error: $(tail -n 1 "$out")"
	note "IPv$fam: a client-side router's error reached b$k as one about its socket (mtu $mtu); the connection serves on"
done
pass
