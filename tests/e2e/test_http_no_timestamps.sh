#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_no_timestamps.sh - HTTP mode for clients that send no TCP
# timestamps (Windows' default): their SYN-ACK agrees SACK and window
# scaling all the same (limpet's own SYN cookie keeps them, stateless),
# which the client's TCP_INFO shows on a connection through limpet (the
# `ss -ti` of this machine prints neither "ts" nor "sack" even between two
# kernels, so the options byte is read directly); a 10 MB download on that
# connection is byte-exact, IPv4 and IPv6; the counter syncookie_own says
# which SYN-ACKs took that path, and http_bound_slowpath_no_timestamps why
# the slow path, not the data plane, bound those connections.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_no_timestamps
trap lab_down EXIT
LAB_BIG_MB=12 e2e_lab_up 2
lab_write_config "$LAB_DIR/limpet.yaml" --mode http
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

"${C[@]}" sysctl -qw net.ipv4.tcp_timestamps=0
[ "$("${C[@]}" sysctl -n net.ipv4.tcp_timestamps)" = 0 ] || fail "cannot turn timestamps off"
own0=$(e2e_global syncookie_own)
nots0=$(e2e_global http_bound_slowpath_no_timestamps)

# client.py <src> <vip> <port> <bytes> <out>: one connection, its TCP_INFO
# options, then a GET of the first <bytes> of /big written to <out>.
cat >"$T/client.py" <<'PY'
import socket, struct, sys

src, vip, port, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
fam = socket.AF_INET6 if ":" in vip else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(30)
s.connect((vip, port))
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
opts, wscales = info[5], info[6]
print(f"ts={opts & 1} sack={(opts >> 1) & 1} wscale={(opts >> 2) & 1} "
      f"snd_wscale={wscales & 15} rcv_wscale={wscales >> 4}")
host = f"[{vip}]" if fam == socket.AF_INET6 else vip
s.sendall(f"GET /big?rate=0 HTTP/1.1\r\nHost: {host}\r\nRange: bytes=0-{n - 1}\r\n"
          "Connection: close\r\n\r\n".encode())
buf = b""
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    buf += chunk
head, _, body = buf.partition(b"\r\n\r\n")
open(out, "wb").write(body)
print("status=" + head.split(b"\r\n")[0].decode(errors="replace").replace(" ", "_"))
PY

for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$LAB_VIP4; else vip=$LAB_VIP6; fi
	src=$(lab_client_addr 5 $fam)
	out=$("${C[@]}" "$LAB_PYTHON" "$T/client.py" "$src" "$vip" 80 10485760 "$T/dl") ||
		fail "IPv$fam: the client failed: $out"
	note "IPv$fam: $(tr '\n' ' ' <<<"$out")"
	[[ $out == *"ts=0 "* ]] || fail "IPv$fam: timestamps agreed although the client has none: $out"
	[[ $out == *"sack=1 "* ]] || fail "IPv$fam: no SACK without timestamps: $out"
	[[ $out == *"wscale=1 "* ]] || fail "IPv$fam: no window scaling without timestamps: $out"
	[[ $out == *"snd_wscale=7 "* ]] || fail "IPv$fam: limpet's shift is not 7: $out"
	[[ $out == *"status=HTTP/1.1_206"* ]] || fail "IPv$fam: $out"
	cmp -s "$T/dl" <(head -c 10485760 "$LAB_DIR/www/big") ||
		fail "IPv$fam: 10 MB download differs ($(stat -c %s "$T/dl") bytes)"
	note "IPv$fam: SACK and window scaling without timestamps, 10 MB byte-exact"
done

own1=$(e2e_global syncookie_own)
nots1=$(e2e_global http_bound_slowpath_no_timestamps)
[ $((own1 - own0)) -ge 2 ] || fail "syncookie_own grew by $((own1 - own0)) over 2 connections"
[ "$nots0" -ge 0 ] && [ $((nots1 - nots0)) -ge 2 ] ||
	fail "http_bound_slowpath_no_timestamps went from $nots0 to $nots1 over 2 connections"
pass
