#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cluster_announce.sh - a cluster node announcing its VIPs over BGP.
# The lab's balancer lp-lb runs limpet with a cluster section (announce
# interface lo) and BIRD exporting lo's host addresses; BIRD in lp-client
# plays the ECMP router and installs what it learns in its kernel table.
# Checked: both VIPs are learned once limpet is ready and traffic flows;
# `node drain` withdraws them from the router within 2 s while the node keeps
# serving; `node undrain` announces again; every backend down withdraws,
# back up announces; a controller stopped (SIGTERM) or killed leaves them
# announced; `limpet down` withdraws. Bad input (`node undrain` when not
# draining) is refused and changes nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin cluster_announce
command -v bird >/dev/null || skip "bird (Debian bird2) not installed"

cleanup() {
	e2e_birds_stop
	lab_down
}
trap cleanup EXIT
e2e_lab_up 2

e2e_bird_start lp-lb "router id 10.10.0.1;
protocol device { scan time 1; }
protocol direct vips { ipv4; ipv6; interface \"lo\"; }
filter only_vips { if proto = \"vips\" && (net.len = 32 || net.len = 128) then accept; reject; }
protocol bgp rt4 { local 10.10.0.1 as 65001; neighbor 10.10.0.2 as 65000; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import none; export filter only_vips; }; }
protocol bgp rt6 { local fd00:10::1 as 65001; neighbor fd00:10::2 as 65000; hold time 9;
  keepalive time 3; connect retry time 1; ipv6 { import none; export filter only_vips; }; }"
e2e_bird_start lp-client "router id 10.10.0.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol kernel { ipv6 { import none; export all; }; merge paths on; }
protocol bgp n1 { local 10.10.0.2 as 65000; neighbor 10.10.0.1 as 65001; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp n1v6 { local fd00:10::2 as 65000; neighbor fd00:10::1 as 65001; hold time 9;
  keepalive time 3; connect retry time 1; ipv6 { import all; export none; }; }"

lab_write_config "$LAB_DIR/limpet.yaml" --health tcp --health-interval 300ms --fall 2 --rise 1
e2e_cluster_config "$LAB_DIR/limpet.yaml" 10.10.0.3

learned4() { ip -n lp-client route show "$LAB_VIP4/32" proto bird | grep -q .; }
learned6() { ip -n lp-client -6 route show "$LAB_VIP6/128" proto bird | grep -q .; }
learned() { learned4 && learned6; }
withdrawn() { ! learned4 && ! learned6; }
on_lo() { ip -n lp-lb addr show dev lo | grep -c -e " $LAB_VIP4/32 " -e " $LAB_VIP6/128 " || true; }
# Seconds (one decimal) until <condition> holds, at most <max> s; fails the test otherwise.
time_until() {
	local max=$1 what=$2 t0 t
	shift 2
	t0=$(lab_now_us)
	lab_wait "$((max + 1))" "$@" || fail "$what not within ${max}s"
	t=$(($(lab_now_us) - t0))
	[ "$t" -le $((max * 1000000)) ] || fail "$what took $((t / 1000)) ms, more than ${max}s"
	echo "$((t / 1000000)).$(((t / 100000) % 10))"
}
node_field() {
	e2e_status_json "$E2E_TMP/status"
	"$LAB_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["node"][sys.argv[2]])' \
		"$E2E_TMP/status" "$1"
}

[ "$(on_lo)" -eq 0 ] || fail "a VIP is on lp-lb's lo before limpet runs"
e2e_start "$LAB_DIR/limpet.yaml"
t=$(time_until 30 "the router learning both VIPs after limpet ready" learned)
note "router learned both VIPs ${t}s after ready"
[ "$(on_lo)" -eq 2 ] || fail "expected both VIPs on lp-lb's lo, found $(on_lo)"
[ "$(node_field state)" = active ] || fail "status node state '$(node_field state)', expected active"
[ "$(node_field name)" = n1 ] || fail "status node name '$(node_field name)', expected n1"
[ "$(node_field announced)" = 2 ] || fail "status announced '$(node_field announced)', expected 2"
body=$(lab_curl "$(lab_client_addr 1)" /) || fail "no answer through the VIP"
[[ $body == b[12]* ]] || fail "unexpected answer through the VIP: $body"

# Bad input changes nothing.
e2e_cli node undrain
[ "$E2E_RC" -ne 0 ] || fail "node undrain of an active node succeeded"
[[ $E2E_ERR == *"not draining"* ]] || fail "node undrain error does not say why: $E2E_ERR"
e2e_cli node drain --timeout 5parsecs
[ "$E2E_RC" -ne 0 ] || fail "node drain --timeout 5parsecs succeeded"
learned || fail "a refused command withdrew a VIP"

# Drain: withdrawn within 2 s, still serving.
e2e_cli_ok node drain
t=$(time_until 2 "the route withdrawn after node drain" withdrawn)
note "routes withdrawn ${t}s after node drain"
[ "$(on_lo)" -eq 0 ] || fail "VIPs still on lo after node drain"
[ "$(node_field state)" = draining ] || fail "status node state '$(node_field state)' after drain"
body=$(lab_curl "$(lab_client_addr 2)" /) ||
	fail "a draining node stopped serving"
e2e_cli_ok node undrain
t=$(time_until 10 "the routes back after node undrain" learned)
note "routes back ${t}s after node undrain"
[ "$(node_field state)" = active ] || fail "status node state '$(node_field state)' after undrain"

# Every backend down: nothing to offer; back up: announced again.
lab_nginx_stop 1
lab_nginx_stop 2
time_until 10 "the routes withdrawn with every backend down" withdrawn >/dev/null
lab_nginx_start 1
time_until 10 "the routes back with a backend up" learned >/dev/null

# The controller stopping or dying leaves the VIPs announced; a restart keeps them.
lab_limpet_stop TERM || fail "limpet did not stop on SIGTERM"
sleep 2
learned || fail "SIGTERM of the controller withdrew a VIP"
e2e_start "$LAB_DIR/limpet.yaml"
lab_limpet_stop KILL || true
sleep 2
learned || fail "kill -9 of the controller withdrew a VIP"
[ "$(on_lo)" -eq 2 ] || fail "VIPs gone from lo after kill -9"

# limpet down withdraws.
nsenter --net=/run/netns/lp-lb "$LIMPET" --socket "$LAB_SOCKET" down \
	--config "$LAB_DIR/limpet.yaml" >"$E2E_TMP/down.out" 2>&1 ||
	fail "limpet down failed: $(cat "$E2E_TMP/down.out")"
time_until 2 "the routes withdrawn after limpet down" withdrawn >/dev/null
[ "$(on_lo)" -eq 0 ] || fail "VIPs still on lo after limpet down"
pass
