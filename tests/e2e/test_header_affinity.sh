#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_header_affinity.sh - header affinity (Cloudflare's "header"
# sessions) end to end:
#   - 20 session keys (X-Session-Id, X-Tenant) x 8 requests on new
#     connections from changing source addresses: each key keeps one
#     backend; the keys spread;
#   - a live session's connections are bound in XDP (http_bound_xdp), not
#     by the slow path;
#   - the session map keeps them there when the ring changes (a backend
#     added) until they idle out;
#   - require_all_headers: false: one header of two is a key; true: a
#     request missing one falls back to the client address.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin header_affinity
trap lab_down EXIT
e2e_lab_up 4
C=(ip netns exec lp-client)
T=$E2E_TMP

# get SRC [curl args]: the backend that answered a new connection.
get() {
	local src=$1
	shift
	"${C[@]}" curl -s --interface "$src" --max-time 10 "$@" "http://$LAB_VIP4/" | tr -d '\r\n'
}

write() {
	lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity header --no-v6 \
		--backend-list "1 2 3" \
		--affinity-yaml $'headers: [X-Session-Id, X-Tenant]\nrequire_all_headers: '"$1"$'\nidle_ttl: 10m'
}

write false
e2e_start "$LAB_DIR/limpet.yaml"

declare -A home
for k in $(seq 20); do
	home[$k]=$(get "$(lab_client_addr 1 4)" -H "X-Session-Id: user-$k" -H "x-tenant:  acme ")
done
for r in $(seq 8); do
	for k in $(seq 20); do
		b=$(get "$(lab_client_addr $(((k + r) % 20 + 1)) 4)" -H "x-session-id: user-$k" \
			-H "X-Tenant: acme")
		[ "$b" = "${home[$k]}" ] || fail "key $k request $r went to $b, not ${home[$k]}"
	done
done
spread=$(printf '%s\n' "${home[@]}" | sort | uniq -c | tr '\n' ' ')
[ "$(printf '%s\n' "${home[@]}" | sort -u | wc -l)" -ge 2 ] || fail "keys on one backend: $spread"
note "20 keys x 8 new connections from changing addresses kept their backend ($spread)"

# Those keys have live sessions: the data plane reads the head, finds the
# session entry and binds the connection itself, none by the slow path.
bound() { # prints "<web's http_bound_xdp> <web's http_bound_slowpath> <heads read in XDP>"
	e2e_cli_ok stats --json
	"$LAB_PYTHON" -c 'import json, sys
w = next(v for v in json.loads(sys.stdin.read())["services"] if v["name"] == "web")
print(w.get("http_bound_xdp", -1), w.get("http_bound_slowpath", -1), w.get("http_heads_read_xdp", -1))' \
		<<<"$E2E_OUT"
}
read -r x0 s0 h0 <<<"$(bound)"
for k in $(seq 10); do
	b=$(get "$(lab_client_addr $((k + 30)) 4)" -H "X-Session-Id: user-$k" -H "X-Tenant: acme")
	[ "$b" = "${home[$k]}" ] || fail "key $k went to $b, not ${home[$k]} (binding in XDP)"
done
sleep 1	# the last binding is counted when the backend's SYN-ACK comes
read -r x1 s1 h1 <<<"$(bound)"
[ $((x1 - x0)) -eq 10 ] && [ "$s1" = "$s0" ] ||
	fail "10 requests of live sessions: bound in XDP +$((x1 - x0)), by the slow path +$((s1 - s0))"
[ $((h1 - h0)) -eq 10 ] || fail "http_heads_read_xdp grew by $((h1 - h0)), expected 10"
note "10 requests of live header sessions bound in XDP (http_bound_xdp $x0 -> $x1)"

# One header of the two is enough without require_all.
one=$(get "$(lab_client_addr 2 4)" -H "X-Session-Id: solo")
for r in 1 2 3 4 5; do
	[ "$(get "$(lab_client_addr $((r + 3)) 4)" -H "X-Session-Id: solo")" = "$one" ] ||
		fail "a key of one header moved"
done

# The ring changes: known keys stay where the session map says.
e2e_cli_ok backend add web b4 "$(lab_backend_addr 4 4)"
for k in $(seq 20); do
	b=$(get "$(lab_client_addr 5 4)" -H "X-Session-Id: user-$k" -H "X-Tenant: acme")
	[ "$b" = "${home[$k]}" ] || fail "after adding b4, key $k went to $b, not ${home[$k]}"
done
note "adding a backend moved no live header session"

# require_all_headers: a request with one header falls back to the client
# address: from one address, whatever the key, one backend (and the same
# as with no header at all).
write true
e2e_cli_ok reload
src=$(lab_client_addr 11 4)
plain=$(get "$src")
for k in $(seq 10); do
	b=$(get "$src" -H "X-Session-Id: partial-$k")
	[ "$b" = "$plain" ] || fail "require_all: a key with one header went to $b, not $plain"
done
e2e_cli_ok stats --json
printf '%s\n' "$E2E_OUT" >"$T/stats.json"
n=$("$LAB_PYTHON" -c 'import json,sys; print(next(s for s in json.load(open(sys.argv[1]))["services"] if s["name"] == "web").get("header_missing", -1))' "$T/stats.json")
[ "$n" -ge 10 ] || fail "header_missing is $n after 10 incomplete requests"
e2e_cli_ok status --json
live=$("$LAB_PYTHON" -c 'import json,sys; print(sum(b["sessions"] for b in next(s for s in json.load(sys.stdin)["services"] if s["name"] == "web")["backends"]))' <<<"$E2E_OUT")
[ "$live" -ge 21 ] || fail "status counts $live live header sessions (>= 21 expected)"
pass
