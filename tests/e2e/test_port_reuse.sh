#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_port_reuse.sh - a connection through the VIP that has ended must not
# capture the next connection on the same client address and port. The
# client first fetches / through the VIP from a fixed local port (NAT to
# backend X), then, from the same address and port, straight from X: X's
# reply must reach the client as X's, not be "un-NATed" into the VIP's name
# by the finished flow's return entry. Then the VIP again from that port.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin port_reuse
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --no-v6
e2e_start "$LAB_DIR/limpet.yaml"

client=$(lab_client_addr 1)
# GET <host> / from $client port 41000 with SO_REUSEADDR (on both sockets,
# so the client's own TIME_WAIT never blocks the port); prints the body.
get() {
	ip netns exec lp-client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(4)
s.bind((sys.argv[1], 41000))
s.connect((sys.argv[2], 80))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
	chunk = s.recv(4096)
	if not chunk:
		break
	data += chunk
print(data.split(b"\r\n\r\n", 1)[1].decode().strip())
' "$client" "$1"
}
x=$(get "$LAB_VIP4") || fail "request through the VIP failed"
case $x in b[123]) ;; *) fail "unexpected body through the VIP: '$x'" ;; esac
note "port 41000 through the VIP reached $x"

k=${x#b}
body=$(get "$(lab_backend_addr "$k" 4)") ||
	fail "direct request to $x from the same address and port failed (captured by the old flow?)"
[ "$body" = "$x" ] || fail "direct request to $x answered '$body'"

body=$(get "$LAB_VIP4") || fail "second request through the VIP from port 41000 failed"
[ "$body" = "$x" ] || fail "second request through the VIP reached '$body', not $x"
pass
