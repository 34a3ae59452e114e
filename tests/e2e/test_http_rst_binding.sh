#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_rst_binding.sh - RFC 5961 while limpet still binds a connection
# (cookie affinity: it holds the first part of the request head until the
# head ends), IPv4 and IPv6, with RSTs spoofed from the client's namespace
# (scapy, tests/e2e/rst_client.py):
#   - RST at snd_nxt + 3000, RST|ACK at snd_nxt + 1, RST at snd_nxt + 2^31
#     and a SYN between the two parts of the head: the rest of the head is
#     still answered;
#   - an RST at exactly snd_nxt ends the binding: the rest of the head gets
#     no answer, and no connection is left being bound.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_rst_binding
"$LAB_PYTHON" -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie \
	--affinity-yaml $'cookie:\n  name: lb'
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP
RST=$E2E_DIR/rst_client.py

stat_of() {
	e2e_cli_ok stats --json
	echo "$E2E_OUT" | "$LAB_PYTHON" -c "import json,sys; print(json.load(sys.stdin)['global'].get('$1', 0))"
}

for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$LAB_VIP4; else vip=$LAB_VIP6; fi
	src=$(lab_client_addr 31 $fam)
	"${C[@]}" "$LAB_PYTHON" "$RST" binding "$src" "$vip" >"$T/binding$fam" 2>&1 ||
		fail "IPv$fam: $(tail -n 1 "$T/binding$fam")"
	note "IPv$fam: $(tr '\n' ';' <"$T/binding$fam")"

	aborted=$(stat_of http_aborted)
	src=$(lab_client_addr 32 $fam)
	"${C[@]}" "$LAB_PYTHON" "$RST" binding-exact "$src" "$vip" >"$T/exact$fam" 2>&1 ||
		fail "IPv$fam: $(tail -n 1 "$T/exact$fam")"
	note "IPv$fam: $(tr '\n' ';' <"$T/exact$fam")"
	[ "$(stat_of http_aborted)" -gt "$aborted" ] ||
		fail "IPv$fam: the exact RST did not end the binding (http_aborted stays $aborted)"
	[ "$(stat_of http_binding_now)" = 0 ] ||
		fail "IPv$fam: a connection is still being bound after the exact RST"
	for k in 1 2 3; do
		! ip netns exec "lp-b$k" ss -Htn state established '( sport = :80 )' |
			grep -qF "$src" || fail "IPv$fam: b$k holds a connection from the reset client"
	done
done
pass
