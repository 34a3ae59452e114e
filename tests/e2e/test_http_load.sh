#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_load.sh - HTTP mode under load:
#   - wrk with 200 concurrent keep-alive connections for 20 s: not one
#     socket error or non-2xx response;
#   - wrk with 64 connections for 8 s, each request on a connection of its
#     own ("Connection: close"; client-IP affinity, nothing inserted: the
#     data plane binds them, bpf/lib/bind.h): not one socket error or
#     non-2xx response, every connection bound (in XDP or, the rest, by the
#     slow path), at least 99 % of them in XDP, none aborted;
#   - a SYN flood (hping3, spoofed random sources) at the VIP while a real
#     client keeps making new connections: every one succeeds, the flood is
#     answered by stateless cookies, no backend holds a half-open
#     connection (nothing of the flood reaches them), and the only
#     connections bound are the real client's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_load
command -v wrk >/dev/null || fail "missing tool: wrk"
command -v hping3 >/dev/null || fail "missing tool: hping3"
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --no-v6
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

global() { # counter name
	e2e_cli_ok stats --json
	echo "$E2E_OUT" | "$LAB_PYTHON" -c "import json,sys; print(json.load(sys.stdin)['global']['$1'])"
}

"${C[@]}" timeout 40 wrk -t2 -c200 -d20s "http://$LAB_VIP4/" >"$T/wrk" 2>&1 ||
	fail "wrk exited $?: $(tr '\n' '|' <"$T/wrk")"
n=$(awk '/requests in/ { print $1 }' "$T/wrk")
[ "${n:-0}" -gt 1000 ] || fail "wrk completed ${n:-0} requests: $(tr '\n' '|' <"$T/wrk")"
! grep -q "Socket errors" "$T/wrk" || fail "wrk: $(grep "Socket errors" "$T/wrk")"
! grep -q "Non-2xx" "$T/wrk" || fail "wrk: $(grep "Non-2xx" "$T/wrk")"
note "wrk -c200 20 s: $n requests, $(awk '/Requests\/sec/ { print $2 }' "$T/wrk") req/s, no errors"

# Close mode comes from a client address of its own: the keep-alive run's
# connections may still linger in the backends' TIME_WAIT on the first
# address's ports (limpet keeps the client's address).
"${C[@]}" ip route replace default via 10.10.0.1 src "$(lab_client_addr 2)"
aborted0=$(global http_aborted)
conns0=$(global http_connections)
bound0=$(global http_bound)
xdp0=$(global http_bound_xdp)
"${C[@]}" timeout 30 wrk -t2 -c64 -d8s -H "Connection: close" "http://$LAB_VIP4/" \
	>"$T/wrk-close" 2>&1 || fail "wrk (close) exited $?: $(tr '\n' '|' <"$T/wrk-close")"
"${C[@]}" ip route replace default via 10.10.0.1
n=$(awk '/requests in/ { print $1 }' "$T/wrk-close")
[ "${n:-0}" -gt 1000 ] || fail "wrk (close) completed ${n:-0} requests: $(tr '\n' '|' <"$T/wrk-close")"
! grep -q "Socket errors" "$T/wrk-close" || fail "wrk (close): $(grep "Socket errors" "$T/wrk-close")"
! grep -q "Non-2xx" "$T/wrk-close" || fail "wrk (close): $(grep "Non-2xx" "$T/wrk-close")"
sleep 1	# the last handshakes finish binding
aborted=$(($(global http_aborted) - aborted0))
conns=$(($(global http_connections) - conns0))
bound=$(($(global http_bound) - bound0))
xdp=$(($(global http_bound_xdp) - xdp0))
[ "$aborted" = 0 ] || fail "the slow path aborted $aborted connections under close-mode load"
[ $((xdp + conns)) -ge "$n" ] ||
	fail "$n requests but only $xdp connections bound in XDP and $conns reached the slow path"
[ "$bound" = "$conns" ] || fail "$conns connections reached the slow path, $bound were bound"
[ $((100 * xdp)) -ge $((99 * (xdp + conns))) ] ||
	fail "only $xdp of $((xdp + conns)) connections were bound in XDP"
note "wrk -c64 8 s, Connection: close: $n requests, $(awk '/Requests\/sec/ { print $2 }' "$T/wrk-close") req/s, $xdp connections bound in XDP, $bound by the slow path, none aborted"

sent0=$(global syncookie_sent)
conns0=$(global http_connections)
xdp0=$(global http_bound_xdp)
"${C[@]}" timeout 8 hping3 --flood --rand-source -S -p 80 -q "$LAB_VIP4" >/dev/null 2>&1 &
flood=$!
sleep 1
ok=0 halfopen=0
for i in $(seq 40); do
	out=$("${C[@]}" curl -s --max-time 5 "http://$LAB_VIP4/") ||
		fail "a real client failed during the SYN flood (request $i)"
	[[ $out =~ ^b[123]$ ]] || fail "request $i during the flood got '$out'"
	ok=$((ok + 1))
	for k in 1 2 3; do
		h=$(ip netns exec "lp-b$k" ss -Htn state syn-recv | wc -l)
		halfopen=$((halfopen + h))
	done
	sleep 0.1
done
wait "$flood" 2>/dev/null || true
sent=$(($(global syncookie_sent) - sent0))
conns=$(($(global http_connections) - conns0 + $(global http_bound_xdp) - xdp0))
[ "$sent" -gt 100000 ] || fail "the flood drew only $sent cookie SYN-ACKs"
[ "$halfopen" = 0 ] || fail "backends held $halfopen half-open connections during the flood"
[ "$conns" = "$ok" ] || fail "$conns connections were bound for $ok real requests"
note "SYN flood: $sent cookies sent, $ok/40 real requests ok, no half-open backend connection"
pass
