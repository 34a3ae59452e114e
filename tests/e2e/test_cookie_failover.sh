#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cookie_failover.sh - a session's pinned backend stops (its nginx
# killed, the health check sees it) and starts again, under each failover
# mode:
#   none       the request still goes to it: the client sees the failure
#              (a 503 from limpet, nothing from another backend);
#   temporary  another backend answers, the cookie is kept; once the pinned
#              one is back the session returns to it;
#   sticky     another backend answers and the cookie is re-issued naming
#              it; the session stays there after the old one returns.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin cookie_failover
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

# A session pinned to b1: new sessions until one lands there.
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

for mode in none temporary sticky; do
	lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --no-v6 \
		--failover "$mode" --health tcp --health-interval 300ms --health-timeout 200ms \
		--rise 1 --fall 1
	if [ "$mode" = none ]; then e2e_start "$LAB_DIR/limpet.yaml"; else e2e_cli_ok reload; fi
	lab_wait_backend web b1 up 5 >/dev/null || fail "$mode: b1 not up"
	session_on_b1
	[ "$(req "$T/jar")" = "200 b1" ] || fail "$mode: the session left b1 before anything happened"

	lab_nginx_stop 1
	lab_wait_backend web b1 down 5 >/dev/null || fail "$mode: b1 not seen down"
	r=$(req "$T/jar")
	case $mode in
	none)
		[ "${r%% *}" = 503 ] || fail "none: with b1 down the client got '$r', not a 503"
		;;
	temporary)
		[[ $r =~ ^200\ b[23]$ ]] || fail "temporary: with b1 down: '$r'"
		[ "$(set_cookies)" = 0 ] || fail "temporary: the cookie was re-issued"
		other=${r#200 }
		[ "$(req "$T/jar")" = "200 $other" ] || fail "temporary: the stand-in changed"
		;;
	sticky)
		[[ $r =~ ^200\ b[23]$ ]] || fail "sticky: with b1 down: '$r'"
		[ "$(set_cookies)" = 1 ] || fail "sticky: no new cookie naming the new backend"
		other=${r#200 }
		;;
	esac
	lab_nginx_start 1
	lab_wait_backend web b1 up 5 >/dev/null || fail "$mode: b1 not back up"
	r=$(req "$T/jar")
	case $mode in
	none | temporary)
		[ "$r" = "200 b1" ] || fail "$mode: after b1 returned the session went to '$r'"
		;;
	sticky)
		[ "$r" = "200 $other" ] || fail "sticky: after b1 returned the session went to '$r', not $other"
		[ "$(set_cookies)" = 0 ] || fail "sticky: cookie re-issued again after the move"
		;;
	esac
	note "$mode: ok"
done
pass
