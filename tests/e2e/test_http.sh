#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http.sh - an HTTP service (mode http) end to end, IPv4 and IPv6:
# SYN cookies, binding through the AF_XDP slow path, translation in XDP.
#   - client-IP affinity still holds (binding at the first request);
#   - the first response of each connection carries X-Limpet-Backend, and
#     exactly one; later responses on the connection do not;
#   - 50 keep-alive requests on one connection;
#   - a 10 MB download and a 5 MB POST, byte for byte, both families;
#   - a request head of 6 KB (several segments held while binding);
#   - the counters say the slow path bound every connection.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http
trap lab_down EXIT
LAB_BIG_MB=16 e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --backend-header X-Limpet-Backend
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

# Affinity: 20 client addresses x 3 new connections, each on one backend.
lab_sweep 4 1 20 3 >"$T/sweep"
e2e_check affinity "$T/sweep" --backends b1,b2,b3 --expect 20 --need-all --max-share 0.8

for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$LAB_VIP4; else vip="[$LAB_VIP6]"; fi
	src=$(lab_client_addr 7 $fam)

	# The header: once, in the first response; it names the backend that
	# answered. Two requests on one connection (curl reuses it).
	"${C[@]}" curl -s --interface "$src" --max-time 10 -D "$T/h1" -o "$T/b1" \
		-w '%{num_connects}\n' "http://$vip/" --next --interface "$src" --max-time 10 \
		-D "$T/h2" -o "$T/b2" -w '%{num_connects}\n' "http://$vip/" >"$T/nc" ||
		fail "IPv$fam: two requests on one connection failed"
	body=$(tr -d '\r\n' <"$T/b1")
	n=$(grep -ci '^X-Limpet-Backend:' "$T/h1" || true)
	[ "$n" = 1 ] || fail "IPv$fam: first response has $n X-Limpet-Backend headers: $(tr '\r\n' '  ' <"$T/h1")"
	grep -qi "^X-Limpet-Backend: $body" "$T/h1" ||
		fail "IPv$fam: X-Limpet-Backend does not name $body: $(grep -i limpet "$T/h1")"
	head -n 1 "$T/h1" | grep -q '^HTTP/1.1 200' || fail "IPv$fam: first status $(head -n 1 "$T/h1")"
	! grep -qi '^X-Limpet-Backend:' "$T/h2" || fail "IPv$fam: a second response got the header too"
	[ "$(tr -d '\r\n' <"$T/b2")" = "$body" ] || fail "IPv$fam: the connection changed backend"
	[ "$(tr '\n' ' ' <"$T/nc")" = "1 0 " ] || fail "IPv$fam: curl did not reuse the connection"

	# 50 keep-alive requests on one connection, each answered by its backend.
	urls=()
	for i in $(seq 50); do urls+=("http://$vip/"); done
	"${C[@]}" curl -s --interface "$src" --max-time 20 "${urls[@]}" >"$T/ka" ||
		fail "IPv$fam: keep-alive requests failed"
	[ "$(grep -c "^$body\$" "$T/ka")" = 50 ] ||
		fail "IPv$fam: keep-alive: $(sort "$T/ka" | uniq -c | tr '\n' ' ')"
	note "IPv$fam: 50 keep-alive requests answered by $body"

	# A 10 MB download (no rate limit), byte for byte.
	"${C[@]}" curl -s --interface "$src" --max-time 60 -r 0-10485759 -o "$T/dl" \
		"http://$vip/big?rate=0" || fail "IPv$fam: 10 MB download failed"
	cmp -s "$T/dl" <(head -c 10485760 "$LAB_DIR/www/big") ||
		fail "IPv$fam: 10 MB download differs ($(stat -c %s "$T/dl") bytes)"

	# A 5 MB POST: the backend keeps the body, compared byte for byte.
	head -c 5242880 /dev/urandom >"$T/post"
	"${C[@]}" curl -s --interface "$src" --max-time 60 -D "$T/ph" -o /dev/null \
		--data-binary @"$T/post" -H 'Content-Type: application/octet-stream' \
		"http://$vip/upload" || fail "IPv$fam: 5 MB POST failed"
	# curl sends Expect: 100-continue: the interim head gets no header,
	# the final one does.
	grep -q '^HTTP/1.1 200' "$T/ph" || fail "IPv$fam: POST status $(grep ^HTTP "$T/ph")"
	[ "$(grep -ci '^X-Limpet-Backend:' "$T/ph")" = 1 ] ||
		fail "IPv$fam: POST response heads: $(tr '\r\n' '  ' <"$T/ph")"
	stored=$(grep -i '^X-Body-File:' "$T/ph" | cut -d' ' -f2 | tr -d '\r')
	[ -n "$stored" ] && [ -f "$stored" ] || fail "IPv$fam: the backend kept no body ($stored)"
	cmp -s "$T/post" "$stored" || fail "IPv$fam: POST body differs at the backend"

	# A request head of 6 KB: more than one segment before the binding.
	big=$(head -c 6000 /dev/zero | tr '\0' a)
	code=$("${C[@]}" curl -s --interface "$src" --max-time 10 -o "$T/b6" -w '%{http_code}' \
		-H "X-Big: $big" "http://$vip/") || fail "IPv$fam: 6 KB request head failed"
	[ "$code" = 200 ] && [ "$(tr -d '\r\n' <"$T/b6")" = "$body" ] ||
		fail "IPv$fam: 6 KB request head: status $code, body $(head -c 40 "$T/b6")"
	note "IPv$fam: header, keep-alive, 10 MB down, 5 MB up, 6 KB head: ok"
done

e2e_cli_ok stats --json
printf '%s\n' "$E2E_OUT" >"$T/stats.json"
cat >"$T/check.py" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))["global"]
need = {"syncookie_sent": 70, "slowpath": 70, "http_connections": 70, "http_bound": 70,
        "http_heads_rewritten": 70, "http_fwd_established": 1000, "http_return": 1000}
bad = [f"{k}={g.get(k)} (< {v})" for k, v in need.items() if g.get(k, 0) < v]
bad += [f"{k}={g[k]}" for k in ("http_503", "syncookie_error", "slowpath_unavailable")
        if g.get(k, 0)]
if g.get("http_connections") != g.get("http_bound"):
    bad.append(f"connections {g.get('http_connections')} != bound {g.get('http_bound')}")
if bad:
    sys.exit("unexpected counters: " + ", ".join(bad))
EOF
out=$("$LAB_PYTHON" "$T/check.py" "$T/stats.json" 2>&1) || fail "$out"
pass
