#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_split_head.sh - while limpet reads a request head it stands in
# for the client's TCP peer, and acknowledges what it holds:
#   - a head written in three pieces 0.5 s apart (Nagle off), the session's
#     cookie in the last piece, is answered within a second of the last
#     piece, by the cookie's backend, with no new cookie (unacknowledged,
#     the client backed off by RTO and the head was decided on its request
#     line alone 5 s later, the session lost);
#   - a head of 17 KB, its end 2 s later, is decided at 16 KB: the rest is
#     answered within a second;
#   - `http_binding_now` counts the connections being bound: 1 while one
#     head is held (however many connections lingered before), 0 after.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_split_head
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --no-v6 \
	--affinity-yaml $'cookie:\n  name: lb'
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
P=("${C[@]}" "$LAB_PYTHON" "$E2E_DIR/http_peers.py")
T=$E2E_TMP

binding_now() {
	e2e_cli_ok stats --json
	echo "$E2E_OUT" | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["global"]["http_binding_now"])'
}
under_1s() { awk -v t="$1" 'BEGIN { exit !(t < 1.0) }'; }

# Sessions on each backend: their cookies, from curl.
declare -A cookie_of
for i in $(seq 30); do
	rm -f "$T/jar"
	b=$("${C[@]}" curl -s --interface "$(lab_client_addr "$i")" --max-time 10 -c "$T/jar" \
		"http://$LAB_VIP4/" | tr -d '\r\n')
	c=$(awk '$6 == "lb" { print "lb=" $7 }' "$T/jar")
	[ -n "$c" ] || fail "no cookie on a first response (from $b)"
	cookie_of[$b]=$c
done
[ "${#cookie_of[@]}" -ge 2 ] || fail "30 sessions on ${#cookie_of[@]} backend(s)"

# 1. Heads in three pieces, the cookie last.
for b in "${!cookie_of[@]}"; do
	out=$("${P[@]}" split-client "$LAB_VIP4" --cookie "${cookie_of[$b]}" --pieces 3 --gap 0.5) ||
		fail "split-client: $out"
	read -r took status body setc <<<"$out"
	[ "$status" = 200 ] || fail "head in three pieces: status $status"
	[ "$body" = "$b" ] || fail "head in three pieces with $b's cookie went to $body"
	[ "$setc" = - ] || fail "head in three pieces with a valid cookie got a new one: $setc"
	under_1s "$took" || fail "head in three pieces answered ${took}s after its last piece"
	note "three pieces 0.5 s apart, cookie of $b last: $b answered ${took}s after the last"
done

# 2. 17 KB of head at once, its blank line 2 s later.
out=$("${P[@]}" split-client "$LAB_VIP4" --pieces 2 --gap 2 --pad 17000) || fail "split-client: $out"
read -r took status body setc <<<"$out"
[ "$status" = 200 ] || fail "17 KB head: status $status"
under_1s "$took" || fail "17 KB head answered ${took}s after its last piece"
note "17 KB head: $body answered ${took}s after the last piece"

# 3. One head held: one connection being bound, then none.
"${P[@]}" hold-client "$LAB_VIP4" 3 >"$T/hold.out" 2>&1 &
hold=$!
sleep 1.5
now=$(binding_now)
[ "$now" = 1 ] || fail "http_binding_now is $now while one head is held"
wait "$hold" || fail "hold-client: $(cat "$T/hold.out")"
[ "$(cat "$T/hold.out")" = 200 ] || fail "held head: $(cat "$T/hold.out")"
now=$(binding_now)
[ "$now" = 0 ] || fail "http_binding_now is $now with no head held"
note "http_binding_now: 1 while a head was held, 0 after"
pass
