#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_icmp.sh - path-MTU discovery through an HTTP service (mode http),
# IPv4 and IPv6, both ways, on one live keep-alive connection:
# - the backend that holds it sends the client, as a router with a smaller
#   MTU on its side would, an ICMP "fragmentation needed" / "packet too big"
#   quoting the connection's segment as limpet forwarded it (scapy,
#   tests/e2e/icmp_inject.py): the client's kernel must take it as an error
#   about its connection to the VIP and cache the smaller MTU for the VIP;
# - a router on the client's side (another client address) sends the VIP
#   the same error quoting the response segment as limpet sent it to the
#   client (tests/e2e/icmp_inject_client.py, seq = the client's rcv_nxt):
#   the backend's kernel must take it as an error about its own socket
#   (its quoted addresses, ports and seq, in the backend's sequence space,
#   in window) and cache the smaller MTU for the client;
# and the connection goes on serving. tests/packet/test_endpoint.c checks
# the translated bytes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_icmp
"$LAB_PYTHON" -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --backend-header X-Limpet-Backend
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

# What the client's kernel and limpet counted, for a failure message.
_http_icmp_why() {
	e2e_cli stats --json
	printf '%s\n' "$E2E_OUT" | "$LAB_PYTHON" -c 'import json, sys
g = json.load(sys.stdin)["global"]
print(" ".join(f"{k}={g.get(k, 0)}" for k in ("icmp_translated", "icmp_translated_to_backend", "pass_unparsed", "fib_pass_to_kernel")))' 2>&1 | tr '\n' ' '
	"${C[@]}" nstat -az 2>/dev/null | awk '$2 != 0 && /Icmp6InPktTooBigs|Icmp6InErrors|Icmp6InCsumErrors|IcmpInDestUnreachs|IcmpInCsumErrors|OutOfWindowIcmps/ { printf "%s=%s ", $1, $2 }'
}

# Does the client's kernel keep MTU <mtu> for the route from <src> to <vip>?
_http_icmp_mtu() {
	"${C[@]}" ip -"$1" route get "$2" from "$3" | grep -q "mtu $4"
}

# Does backend <k>'s kernel keep MTU <mtu> for the route to <client>?
_http_icmp_be_mtu() {
	ip netns exec "lp-b$2" ip -"$1" route get "$3" from "$(lab_backend_addr "$2" "$1")" |
		grep -q "mtu $4"
}

_http_icmp_be_why() {
	ip netns exec "lp-b$1" nstat -az 2>/dev/null | awk '$2 != 0 && /Icmp6InPktTooBigs|Icmp6InErrors|Icmp6InCsumErrors|IcmpInDestUnreachs|IcmpInCsumErrors|OutOfWindowIcmps/ { printf "%s=%s ", $1, $2 }'
}

# Each family with its own files: the IPv6 run must not read what the IPv4
# client wrote.
for fam in 4 6; do
	vip=$LAB_VIP4 mtu=1200
	[ "$fam" = 6 ] && vip=$LAB_VIP6 mtu=1280
	src=$(lab_client_addr 24 $fam)
	router=$(lab_client_addr 25 $fam)
	out=$T/client$fam go=$T/go$fam
	rm -f "$out" "$go"
	"${C[@]}" "$LAB_PYTHON" "$E2E_DIR/icmp_client.py" "$src" "$vip" "$go" >"$out" 2>&1 &
	pid=$!
	lab_wait 10 test -s "$out" || fail "IPv$fam: the client did not connect"
	read -r cport seq rcv body <"$out"
	[[ $body =~ ^b([123])$ ]] || fail "IPv$fam: client: $(tail -n 1 "$out")"
	k=${BASH_REMATCH[1]}
	"${C[@]}" ip -$fam route get "$vip" from "$src" | grep -q "mtu $mtu" &&
		fail "IPv$fam: the client had MTU $mtu for the VIP already"
	_http_icmp_be_mtu "$fam" "$k" "$src" "$mtu" &&
		fail "IPv$fam: b$k had MTU $mtu for the client already"

	# Backend side -> client. A router sends an error for each packet too
	# big; up to five here, a second apart.
	for try in 1 2 3 4 5; do
		sleep 1
		ip netns exec "lp-b$k" "$LAB_PYTHON" "$E2E_DIR/icmp_inject.py" \
			"$(lab_backend_addr "$k" $fam)" "$src" "$cport" "$seq" "$mtu" 2>/dev/null ||
			fail "IPv$fam: could not send the ICMP error"
		! lab_wait 2 _http_icmp_mtu "$fam" "$vip" "$src" "$mtu" || break
	done
	[ "$try" = 1 ] || note "IPv$fam: the error was taken at try $try"
	lab_wait 1 _http_icmp_mtu "$fam" "$vip" "$src" "$mtu" ||
		fail "IPv$fam: the client did not take the translated error: $("${C[@]}" ip -$fam route get "$vip" from "$src" | tr '\n' ' '); $(_http_icmp_why)"
	note "IPv$fam: b$k's error reached the client as one about the VIP (mtu $mtu)"

	# Client side -> backend.
	for try in 1 2 3; do
		"${C[@]}" "$LAB_PYTHON" "$E2E_DIR/icmp_inject_client.py" \
			"$router" "$vip" "$src" "$cport" "$rcv" "$seq" "$mtu" 2>/dev/null ||
			fail "IPv$fam: could not send the client-side ICMP error"
		! lab_wait 2 _http_icmp_be_mtu "$fam" "$k" "$src" "$mtu" || break
	done
	[ "$try" = 1 ] || note "IPv$fam: the client-side error was taken at try $try"
	lab_wait 1 _http_icmp_be_mtu "$fam" "$k" "$src" "$mtu" ||
		fail "IPv$fam: b$k did not take the translated client-side error: $(ip netns exec "lp-b$k" ip -$fam route get "$src" from "$(lab_backend_addr "$k" $fam)" | tr '\n' ' '); $(_http_icmp_be_why "$k"); $(_http_icmp_why)"
	note "IPv$fam: a client-side router's error reached b$k as one about its socket (mtu $mtu)"

	touch "$go"
	wait "$pid" || fail "IPv$fam: $(tail -n 1 "$out")"
	[ "$(tail -n 1 "$out")" = "$body" ] ||
		fail "IPv$fam: after the errors: $(tail -n 1 "$out")"
	note "IPv$fam: the connection serves on"
done

e2e_cli_ok stats --json
printf '%s\n' "$E2E_OUT" >"$T/stats.json"
cat >"$T/check.py" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["global"]
for k in ("icmp_translated", "icmp_translated_to_backend"):
    if g.get(k, 0) < 2:
        sys.exit(f"{k}={g.get(k, 0)} (< 2: one per family)")
PY
out=$("$LAB_PYTHON" "$T/check.py" "$T/stats.json" 2>&1) || fail "counters: $out"
pass
