#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_rst.sh - RFC 5961 through an HTTP service (mode http): RSTs
# spoofed from the client's namespace (scapy, tests/e2e/rst_client.py)
# into a live keep-alive connection, IPv4 and IPv6.
#   - RST at snd_nxt + 2^31, at snd_nxt + 3000 and RST|ACK at snd_nxt + 1:
#     the connection still serves requests from its backend afterwards;
#   - an RST at exactly snd_nxt ends the connection: at the backend too;
#   - the counters: the inexact RSTs were passed on and kept the flow.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_rst
"$LAB_PYTHON" -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed"
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --backend-header X-Limpet-Backend
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP
RST=$E2E_DIR/rst_client.py

for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$LAB_VIP4; else vip=$LAB_VIP6; fi
	src=$(lab_client_addr 21 $fam)
	"${C[@]}" "$LAB_PYTHON" "$RST" spoofed "$src" "$vip" >"$T/spoofed" 2>&1 ||
		fail "IPv$fam: $(tail -n 1 "$T/spoofed")"
	note "IPv$fam: $(tr '\n' ';' <"$T/spoofed")"

	src=$(lab_client_addr 22 $fam)
	"${C[@]}" "$LAB_PYTHON" "$RST" exact "$src" "$vip" >"$T/exact" 2>&1 ||
		fail "IPv$fam: $(tail -n 1 "$T/exact")"
	note "IPv$fam: $(tr '\n' ';' <"$T/exact")"
	# The backend took the RST as well: no connection from that client left.
	for k in 1 2 3; do
		! ip netns exec "lp-b$k" ss -Htn state established '( sport = :80 )' |
			grep -qF "$src" || fail "IPv$fam: b$k still holds the reset connection"
	done
done

e2e_cli_ok stats --json
printf '%s\n' "$E2E_OUT" >"$T/stats.json"
cat >"$T/check.py" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["global"]
kept, reset = g.get("http_rst_inexact", 0), g.get("http_reset", 0)
if kept < 6 or reset < 2:
    sys.exit(f"http_rst_inexact={kept} (< 6), http_reset={reset} (< 2)")
PY
out=$("$LAB_PYTHON" "$T/check.py" "$T/stats.json" 2>&1) || fail "counters: $out"
pass
