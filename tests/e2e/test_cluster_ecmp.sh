#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cluster_ecmp.sh - two limpet nodes behind an ECMP router, L4 NAT.
#
#   lp-client (router + clients, BIRD, ECMP by L4 hash)
#     cli0 ==== lb-cli  lp-lb  (node n1, BIRD) lb-srv  ==+
#     cli1 ==== lb2-cli lp-lb2 (node n2, BIRD) lb2-srv ==+== lp-sw br0 == lp-b1, lp-b2
#
# Each node runs its own limpet (instance lab / lab2) with the same services
# and a cluster section, and its own BIRD exporting the VIPs limpet puts on
# lo. lp-client's BIRD learns the VIP from both and installs one route with
# two next hops (merge paths); the backends' default route is multipath over
# both nodes, so a connection's replies may reach the node that did not see
# its SYN. Checked: both nodes announce; connections from many source
# addresses and ports all succeed and both nodes forward some (replies
# un-NATed without per-flow state on whichever node gets them, each client
# address on one backend); n2 drained: its route withdrawn within 2 s, new
# connections all answered, and again after undrain; a 20 MB download
# routed through n2 stays byte-exact across the drain (its packets move to
# n1, which records the flow from a mid-connection packet).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin cluster_ecmp
command -v bird >/dev/null || skip "bird (Debian bird2) not installed"

N2_SOCKET=/run/limpet/lab2.sock
N2_PIN_DIR=/sys/fs/bpf/limpet/lab2
n2_pid=
cleanup() {
	set +e
	trap - ERR
	e2e_birds_stop
	if [ -e /run/netns/lp-lb2 ]; then
		[ -f "$LAB_DIR/n2.yaml" ] &&
			timeout 10 nsenter --net=/run/netns/lp-lb2 "$LIMPET" --socket "$N2_SOCKET" \
				down --config "$LAB_DIR/n2.yaml" >/dev/null 2>&1
		[ -n "$n2_pid" ] && kill -KILL "$n2_pid" 2>/dev/null
		# shellcheck disable=SC2046 # a list of pids
		kill -KILL $(ip netns pids lp-lb2) 2>/dev/null
		ip netns del lp-lb2 2>/dev/null
	fi
	[ -n "$n2_pid" ] && kill -KILL "$n2_pid" 2>/dev/null
	rm -rf "$N2_PIN_DIR" "$N2_SOCKET" /run/limpet/lab2.lock 2>/dev/null
	lab_down
}
trap cleanup EXIT
LAB_BIG_MB=20 e2e_lab_up 2

# The second node: its own links to the router and to the backends' switch.
ip netns add lp-lb2
ip -n lp-lb2 link set lo up
ip link add cli1 netns lp-client type veth peer name lb2-cli netns lp-lb2
ip link add lb2-srv netns lp-lb2 type veth peer name sw-lb2 netns lp-sw
for l in "lp-client cli1" "lp-lb2 lb2-cli" "lp-lb2 lb2-srv" "lp-sw sw-lb2"; do
	set -- $l
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
	ip -n "$1" link set "$2" up
	# A frame XDP-redirected into a veth is dropped unless its peer has GRO
	# (set once the link is up).
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null
done
ip -n lp-sw link set sw-lb2 master br0
ip -n lp-client addr add 10.11.0.2/24 dev cli1
ip -n lp-lb2 addr add 10.11.0.1/24 dev lb2-cli
ip -n lp-lb2 addr add 10.20.0.2/24 dev lb2-srv
ip -n lp-lb2 route add 10.10.0.0/16 via 10.11.0.2
ip netns exec lp-lb2 sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.lb2-cli.rp_filter=0 net.ipv4.conf.lb2-srv.rp_filter=0
# The router: ECMP by L4 hash, replies may come back on either link.
ip netns exec lp-client sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.cli0.rp_filter=0 net.ipv4.conf.cli1.rp_filter=0
# Backends: default route over both nodes, by L4 hash, avoiding a dead one.
for k in 1 2; do
	ip -n "lp-b$k" route replace default nexthop via 10.20.0.1 nexthop via 10.20.0.2
	ip netns exec "lp-b$k" sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.fib_multipath_use_neigh=1
done

# $1: namespace, $2: its address toward the router, $3: the router's.
bird_node() {
	e2e_bird_start "$1" "router id $2;
protocol device { scan time 1; }
protocol direct vips { ipv4; interface \"lo\"; }
filter only_vips { if proto = \"vips\" && net.len = 32 then accept; reject; }
protocol bgp upstream { local $2 as 65001; neighbor $3 as 65000; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import none; export filter only_vips; }; }"
}
bird_node lp-lb 10.10.0.1 10.10.0.2
bird_node lp-lb2 10.11.0.1 10.11.0.2
e2e_bird_start lp-client "router id 10.10.0.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bgp n1 { local 10.10.0.2 as 65000; neighbor 10.10.0.1 as 65001; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp n2 { local 10.11.0.2 as 65000; neighbor 10.11.0.1 as 65001; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import all; export none; }; }"

lab_write_config "$LAB_DIR/limpet.yaml" --no-v6 --health tcp --health-interval 300ms --fall 2 --rise 1
cat >>"$LAB_DIR/limpet.yaml" <<EOF
cluster:
  node: n1
  announce_interface: lo
  nodes:
    - {name: n1, address: 10.10.0.1}
    - {name: n2, address: 10.11.0.1}
EOF
sed -e 's/^instance: lab$/instance: lab2/' -e 's/name: lb-cli$/name: lb2-cli/' \
	-e 's/name: lb-srv$/name: lb2-srv/' -e 's/^  node: n1$/  node: n2/' \
	"$LAB_DIR/limpet.yaml" >"$LAB_DIR/n2.yaml"

n2() { nsenter --net=/run/netns/lp-lb2 "$LIMPET" --socket "$N2_SOCKET" "$@"; }
nexthops() { ip -n lp-client route show "$LAB_VIP4/32" proto bird | grep -c -e via -e nexthop || true; }
two_paths() { [ "$(ip -n lp-client route show "$LAB_VIP4/32" proto bird | grep -c nexthop)" -eq 2 ]; }
only_n1() {
	local r
	r=$(ip -n lp-client route show "$LAB_VIP4/32" proto bird)
	[[ $r == *"via 10.10.0.1"* ]] && [[ $r != *"10.11.0.1"* ]]
}
# Packets of the services node <1|2> forwarded, both directions.
forwarded() {
	local out
	if [ "$1" = 1 ]; then out=$(lab_cli stats --json); else out=$(n2 stats --json); fi
	"$LAB_PYTHON" -c 'import json,sys
print(sum(s["packets"] for s in json.loads(sys.argv[1])["services"]))' "$out"
}

e2e_start "$LAB_DIR/limpet.yaml"
n2 run --config "$LAB_DIR/n2.yaml" >"$LAB_DIR/n2.log" 2>&1 </dev/null &
n2_pid=$!
disown "$n2_pid"
lab_wait 20 grep -q '^limpet: ready' "$LAB_DIR/n2.log" ||
	fail "node n2 not ready: $(tail -n 3 "$LAB_DIR/n2.log" | tr '\n' '|')"
lab_wait 30 two_paths || fail "the router did not learn the VIP from both nodes: $(ip -n lp-client route show "$LAB_VIP4/32")"
note "router: $(ip -n lp-client route show "$LAB_VIP4/32" proto bird | tr -s ' \n' ' ')"

# Many connections, from 60 source addresses, 3 each: every one succeeds,
# each address keeps its backend (client-IP affinity, same ring on both
# nodes), and both nodes carried some.
f1=$(forwarded 1)
f2=$(forwarded 2)
lab_sweep 4 1 60 3 / 3 >"$E2E_TMP/sweep"
! grep -q ABORT "$E2E_TMP/sweep" || fail "requests failed through two nodes: $(grep -v ' 0 200 ' "$E2E_TMP/sweep" | head -n 3 | tr '\n' '|')"
n=$(grep -c ' 0 200 ' "$E2E_TMP/sweep")
[ "$n" -eq 180 ] || fail "$n of 180 requests answered: $(grep -v ' 0 200 ' "$E2E_TMP/sweep" | head -n 3 | tr '\n' '|')"
moved=$(awk '{ print $1, $4 }' "$E2E_TMP/sweep" | sort -u | awk '{ print $1 }' | uniq -d | wc -l)
[ "$moved" -eq 0 ] || fail "$moved client addresses reached two backends"
d1=$(($(forwarded 1) - f1))
d2=$(($(forwarded 2) - f2))
note "packets forwarded: n1 $d1, n2 $d2"
[ "$d1" -gt 0 ] && [ "$d2" -gt 0 ] || fail "ECMP did not use both nodes (n1 $d1, n2 $d2 packets)"

# A 20 MB download whose path goes through n2: its source port is chosen
# so the router's hash sends it there.
port=
for p in $(seq 40000 40100); do
	if ip -n lp-client route get "$LAB_VIP4" from 10.10.1.61 ipproto tcp sport "$p" dport 80 |
		grep -q 'via 10.11.0.1'; then
		port=$p
		break
	fi
done
[ -n "$port" ] || fail "no source port routed through n2"
ip netns exec lp-client curl -s --interface 10.10.1.61 --local-port "$port" --max-time 60 \
	"http://$LAB_VIP4/big?rate=2m" -o "$E2E_TMP/big" &
dl=$!

# New connections across drain and undrain of n2, the download in flight.
t0=$(lab_now_us)
n2 node drain >/dev/null || fail "node drain on n2 failed"
lab_wait 3 only_n1 || fail "n2's route not withdrawn within 3 s of node drain"
t=$((($(lab_now_us) - t0) / 1000))
[ "$t" -le 2000 ] || fail "n2's route withdrawn $t ms after node drain, more than 2 s"
note "n2's route withdrawn ${t} ms after node drain"
lab_sweep 4 62 101 2 / 1 >"$E2E_TMP/sweep-drained"
! grep -q ABORT "$E2E_TMP/sweep-drained" ||
	fail "a request failed while n2 was drained: $(grep -v ' 0 200 ' "$E2E_TMP/sweep-drained" | head -n 1)"
n2 node undrain >/dev/null || fail "node undrain on n2 failed"
lab_wait 10 two_paths || fail "n2's route not back within 10 s of node undrain"
lab_sweep 4 102 141 2 / 1 >"$E2E_TMP/sweep-undrained"
! grep -q ABORT "$E2E_TMP/sweep-undrained" ||
	fail "a request failed after n2's undrain: $(grep -v ' 0 200 ' "$E2E_TMP/sweep-undrained" | head -n 1)"
wait "$dl" || fail "the download through n2 failed (curl exit $?)"
[ "$(sha256sum <"$E2E_TMP/big" | cut -d' ' -f1)" = "$(cat "$LAB_DIR/big.sha256")" ] ||
	fail "the download through n2 arrived altered ($(stat -c %s "$E2E_TMP/big") bytes)"
note "20 MB through n2 byte-exact across its drain and undrain"
pass
