#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_split_response.sh - the first response of a new cookie session
# gets its Set-Cookie however the backend writes it. The backend is a small
# Python server (tests/e2e/http_peers.py split-server) that writes every
# response head as "HTTP/1.1 " and, after a pause, the rest (TCP_NODELAY):
#   - a GET without a cookie gets exactly one Set-Cookie, inserted once the
#     status line is complete; the body arrives intact;
#   - a WebSocket upgrade without a cookie gets one on its
#     "101 Switching Protocols"; with the cookie it got, none, and it goes
#     to the same backend.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_split_response
srv=""
cleanup() {
	[ -z "$srv" ] || kill "$srv" 2>/dev/null || true
	lab_down
}
trap cleanup EXIT
e2e_lab_up 1
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --no-v6 \
	--affinity-yaml $'cookie:\n  name: lb'
lab_nginx_stop 1 || fail "cannot stop nginx of b1"
ip netns exec lp-b1 "$LAB_PYTHON" "$E2E_DIR/http_peers.py" split-server 0.0.0.0 80 b1-split \
	>"$E2E_TMP/server.log" 2>&1 &
srv=$!
lab_wait 5 _lab_nginx_listening 1 || fail "the split server does not listen: $(cat "$E2E_TMP/server.log")"
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
P=("${C[@]}" "$LAB_PYTHON" "$E2E_DIR/http_peers.py")
T=$E2E_TMP

# 1. A GET: the cookie after the cut status line.
body=$("${C[@]}" curl -s --max-time 10 -D "$T/h" -c "$T/jar" "http://$LAB_VIP4/") ||
	fail "curl through the VIP failed"
[ "$body" = b1-split ] || fail "body '$body'"
head -n 1 "$T/h" | grep -q '^HTTP/1.1 200 OK' || fail "status line: $(head -n 1 "$T/h")"
n=$(grep -ci '^Set-Cookie: lb=' "$T/h" || true)
[ "$n" = 1 ] || fail "a response head written in two pieces got $n Set-Cookie lines"
cookie=$(awk '$6 == "lb" { print "lb=" $7 }' "$T/jar")
note "status line cut after 'HTTP/1.1 ': one Set-Cookie inserted"

# 2. A WebSocket upgrade, no cookie: one on the 101.
out=$("${P[@]}" ws-client "$LAB_VIP4") || fail "ws-client: $out"
read -r status setc <<<"$out"
[ "$status" = 101 ] || fail "WebSocket upgrade: status $status"
[[ $setc =~ ^Set-Cookie:\ lb=[A-Za-z0-9_-]{36}\; ]] || fail "101 without a cookie: '$setc'"
note "WebSocket upgrade without a cookie: $status with $setc"

# 3. With its cookie: none.
out=$("${P[@]}" ws-client "$LAB_VIP4" --cookie "$cookie") || fail "ws-client: $out"
[ "$out" = "101 -" ] || fail "WebSocket upgrade with a valid cookie: '$out'"
note "WebSocket upgrade with its cookie: no new one"
pass
