#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cookie_refused.sh - a session's backend stops (its nginx killed)
# and the next request comes before health checks can see it (interval
# 60 s): the slow path's connect is refused, and the retry follows the
# failover mode exactly as it does once the backend is marked down
# (test_cookie_failover.sh):
#   none       no retry: the client gets a 503;
#   temporary  another backend answers and the cookie is kept (no
#              Set-Cookie); the stand-in stays the same; once the backend
#              is back the session returns to it;
#   sticky     another backend answers and the cookie is re-issued naming
#              it; the session stays there after the old one returns
#              (policy pin; under rebalance it goes where the ring puts
#              its session, back to the old one).
# Under both policies, pin and rebalance.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin cookie_refused
trap lab_down EXIT
e2e_lab_up 3
C=(ip netns exec lp-client)
T=$E2E_TMP

# req JAR: one request with the session's jar; "<status> <backend>", headers in $T/h.
req() {
	"${C[@]}" curl -s --max-time 10 -b "$1" -c "$1" -D "$T/h" -o "$T/body" -w '%{http_code}' \
		"http://$LAB_VIP4/" || true
	echo " $(tr -d '\r\n' <"$T/body")"
}
set_cookies() { grep -ci '^Set-Cookie:' "$T/h" || true; }
b1_state() { lab_backend_field web b1 2>/dev/null || echo unknown; }

session_on_b1() {
	local i r
	for i in $(seq 40); do
		rm -f "$T/jar"
		r=$("${C[@]}" curl -s --interface "$(lab_client_addr "$i" 4)" --max-time 10 \
			-c "$T/jar" "http://$LAB_VIP4/" | tr -d '\r\n')
		[ "$r" = b1 ] && return 0
	done
	fail "no session landed on b1 in 40 tries"
}

started=0
for policy in pin rebalance; do
for mode in none temporary sticky; do
	lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --no-v6 \
		--failover "$mode" --health tcp --health-interval 60s --health-timeout 1s \
		--rise 1 --fall 3 --connect-timeout 500ms --affinity-yaml "policy: $policy"
	if [ "$started" = 0 ]; then e2e_start "$LAB_DIR/limpet.yaml"; else e2e_cli_ok reload; fi
	started=1
	lab_wait_backend web b1 up 5 >/dev/null || fail "$policy, $mode: b1 not up"
	session_on_b1
	[ "$(req "$T/jar")" = "200 b1" ] || fail "$policy, $mode: the session left b1 before anything happened"

	lab_nginx_stop 1
	r=$(req "$T/jar")
	[ "$(b1_state)" = up ] || fail "$policy, $mode: b1 seen $(b1_state) by health checks: not inside the window"
	case $mode in
	none)
		[ "${r%% *}" = 503 ] || fail "$policy, none: b1 refusing, the client got '$r', not a 503"
		;;
	temporary)
		[[ $r =~ ^200\ b[23]$ ]] || fail "$policy, temporary: b1 refusing: '$r'"
		[ "$(set_cookies)" = 0 ] || fail "$policy, temporary: the cookie was re-issued after a refused connect"
		other=${r#200 }
		[ "$(req "$T/jar")" = "200 $other" ] || fail "$policy, temporary: the stand-in changed"
		;;
	sticky)
		[[ $r =~ ^200\ b[23]$ ]] || fail "$policy, sticky: b1 refusing: '$r'"
		[ "$(set_cookies)" = 1 ] || fail "$policy, sticky: no new cookie naming the new backend"
		other=${r#200 }
		;;
	esac
	lab_nginx_start 1
	r=$(req "$T/jar")
	case $mode in
	none | temporary)
		[ "$r" = "200 b1" ] || fail "$policy, $mode: after b1 returned the session went to '$r'"
		;;
	sticky)
		if [ "$policy" = pin ]; then
			[ "$r" = "200 $other" ] || fail "pin, sticky: after b1 returned the session went to '$r', not $other"
			[ "$(set_cookies)" = 0 ] || fail "pin, sticky: cookie re-issued again after the move"
		else
			# rebalance: the session goes where the ring puts its id.
			[ "$r" = "200 b1" ] || fail "rebalance, sticky: after b1 returned the session went to '$r'"
		fi
		;;
	esac
	[ "$(b1_state)" = up ] || fail "$policy, $mode: b1 seen $(b1_state): not inside the window"
	note "$policy, $mode: ok, health checks never saw b1 down"
done
done
pass
