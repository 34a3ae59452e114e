#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_bind_xdp.sh - an HTTP service with affinity none and nothing to
# insert is bound in XDP (bpf/lib/bind.h), IPv4 and IPv6: the data plane
# holds the first request segment, opens the backend's side with the
# client's ISN and options, and sends the segment on at its SYN-ACK; the
# slow path sees none of it.
#   - 30 new connections per family, each answered, spread over the backends;
#   - a 10 MB download and a 5 MB POST, byte for byte;
#   - a request head of 6 KB (later segments wait for the binding: the
#     client sends them again);
#   - the counters: http_bound_xdp grew by every connection, the slow
#     path's http_bound not at all.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_bind_xdp
trap lab_down EXIT
LAB_BIG_MB=12 e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity none
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

xdp0=$(e2e_global http_bound_xdp)
slow0=$(e2e_global http_bound)
[ "$xdp0" -ge 0 ] && [ "$slow0" -ge 0 ] || fail "stats --json has no http_bound_xdp or http_bound"
conns=0
for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$LAB_VIP4; else vip="[$LAB_VIP6]"; fi
	src=$(lab_client_addr 9 $fam)

	# 30 connections: each a new one (Connection: close), each answered.
	urls=()
	for i in $(seq 30); do urls+=("http://$vip/"); done
	"${C[@]}" curl -s --interface "$src" --max-time 30 -H 'Connection: close' \
		-w '\n' "${urls[@]}" >"$T/many" || fail "IPv$fam: 30 connections failed"
	conns=$((conns + 30))
	n=$(grep -cE '^b[123]$' "$T/many" || true)
	[ "$n" = 30 ] || fail "IPv$fam: $n of 30 answered: $(sort "$T/many" | uniq -c | tr '\n' ' ')"
	spread=$(grep -E '^b[123]$' "$T/many" | sort -u | wc -l)
	[ "$spread" -ge 2 ] || fail "IPv$fam: 30 connections all on $(sort -u "$T/many" | tr '\n' ' ')"
	note "IPv$fam: 30 connections: $(grep -E '^b[123]$' "$T/many" | sort | uniq -c | tr '\n' ' ')"

	"${C[@]}" curl -s --interface "$src" --max-time 60 -r 0-10485759 -o "$T/dl" \
		"http://$vip/big?rate=0" || fail "IPv$fam: 10 MB download failed"
	conns=$((conns + 1))
	cmp -s "$T/dl" <(head -c 10485760 "$LAB_DIR/www/big") ||
		fail "IPv$fam: 10 MB download differs ($(stat -c %s "$T/dl") bytes)"

	head -c 5242880 /dev/urandom >"$T/post"
	"${C[@]}" curl -s --interface "$src" --max-time 60 -D "$T/ph" -o /dev/null \
		--data-binary @"$T/post" -H 'Content-Type: application/octet-stream' \
		"http://$vip/upload" || fail "IPv$fam: 5 MB POST failed"
	conns=$((conns + 1))
	grep -q '^HTTP/1.1 200' "$T/ph" || fail "IPv$fam: POST status $(grep ^HTTP "$T/ph")"
	stored=$(grep -i '^X-Body-File:' "$T/ph" | cut -d' ' -f2 | tr -d '\r')
	[ -n "$stored" ] && [ -f "$stored" ] || fail "IPv$fam: the backend kept no body ($stored)"
	cmp -s "$T/post" "$stored" || fail "IPv$fam: POST body differs at the backend"

	big=$(head -c 6000 /dev/zero | tr '\0' a)
	code=$("${C[@]}" curl -s --interface "$src" --max-time 20 -o "$T/b6" -w '%{http_code}' \
		-H "X-Big: $big" "http://$vip/") || fail "IPv$fam: 6 KB request head failed"
	conns=$((conns + 1))
	[ "$code" = 200 ] || fail "IPv$fam: 6 KB request head: status $code"
	note "IPv$fam: 10 MB down, 5 MB up, 6 KB head: ok"
done

xdp1=$(e2e_global http_bound_xdp)
slow1=$(e2e_global http_bound)
note "http_bound_xdp +$((xdp1 - xdp0)), http_bound (slow path) +$((slow1 - slow0)) over $conns connections"
e2e_cli_ok stats --json >/dev/null
note "$("$LAB_PYTHON" -c 'import json,sys; g=json.loads(sys.stdin.read())["global"]; print(" ".join(f"{k}={g[k]}" for k in sorted(g) if k.startswith(("http_bind", "slowpath", "fib", "syncookie", "http_conn", "drop"))))' <<<"$E2E_OUT")"
[ $((xdp1 - xdp0)) -ge "$conns" ] || fail "http_bound_xdp grew by $((xdp1 - xdp0)), expected $conns"
[ "$slow1" = "$slow0" ] || fail "the slow path bound $((slow1 - slow0)) connections"
pass
