#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cluster_ecmp.sh - two limpet nodes behind an ECMP router, L4 NAT
# (port 80) and HTTP with cookie affinity (port 8080) on one VIP, and the
# same on an IPv6 VIP (its routes static: the BGP sessions carry IPv4).
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
# its SYN; a node sends a segment of an HTTP connection the other node bound
# to that node, named by the segment's TSecr (or, for a client without
# timestamps, its ack): n2 to n1's address on the backends' switch, n1 to
# n2's address toward the router, encapsulated. Checked: both nodes
# announce; connections from many source
# addresses and ports all succeed and both nodes forward some (replies
# un-NATed without per-flow state on whichever node gets them, each client
# address on one backend); 60 cookie sessions from changing addresses, each
# on one backend, segments sent between the nodes, and 20 over IPv6 beside
# IPv6 L4 connections, and 30 + 10 from clients without timestamps; n2
# drained: its route withdrawn within 2 s, new
# connections all answered, and again after undrain; a 20 MB download routed
# through n2 stays byte-exact across the drain (its packets move to n1,
# which records the flow from a mid-connection packet), and so does one from
# the HTTP service bound by n2 (n1 sends its packets to n2); wrk keep-alive
# and close on both services through a second drain and undrain without an
# error; then n2 dies mid-load (cut off, killed, namespace deleted): six
# downloads, four through it, all complete byte-exact (of three HTTP
# downloads, the one n1 bound must complete; those n2 bound are counted),
# and new connections succeed once the router and the backends (which learn
# their gateways from both nodes over BGP) have dropped it.
#
# e2e-timeout: 420
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
ip -n lp-client addr add fd00:11::2/64 dev cli1 nodad
ip -n lp-lb2 addr add fd00:11::1/64 dev lb2-cli nodad
ip -n lp-lb2 addr add fd00:20::2/64 dev lb2-srv nodad
ip -n lp-lb2 -6 route add fd00:10::/64 via fd00:11::2
ip -n lp-lb -6 route add fd00:11::/64 via fd00:10::2
# The router's own addresses are clients too (wrk cannot choose its
# source, and the router picks 10.10.0.2 or 10.11.0.2 by its first path):
# every node reaches both.
ip -n lp-lb route add 10.11.0.0/24 via 10.10.0.2
ip netns exec lp-lb2 sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.lb2-cli.rp_filter=0 net.ipv4.conf.lb2-srv.rp_filter=0 \
	net.ipv6.conf.all.forwarding=1
# The router: ECMP by L4 hash, replies may come back on either link.
ip netns exec lp-client sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.cli0.rp_filter=0 net.ipv4.conf.cli1.rp_filter=0 \
	net.ipv6.fib_multipath_hash_policy=1
# IPv6 by static routes (the BIRD sessions here carry IPv4): the router
# spreads the IPv6 VIP over both nodes, the backends their replies.
ip -n lp-client -6 route add "$LAB_VIP6/128" nexthop via fd00:10::1 dev cli0 \
	nexthop via fd00:11::1 dev cli1
for k in 1 2; do
	ip netns exec "lp-b$k" sysctl -qw net.ipv6.fib_multipath_hash_policy=1
	ip -n "lp-b$k" -6 route replace default nexthop via fd00:20::1 nexthop via fd00:20::2
done
# Backends: their default route is learnt over BGP from both nodes (each
# announces itself as a default gateway), multipath by L4 hash; a node that
# dies leaves it when its session times out (hold time 3 s).
for k in 1 2; do
	ip -n "lp-b$k" route del default 2>/dev/null || true
	ip netns exec "lp-b$k" sysctl -qw net.ipv4.fib_multipath_hash_policy=1
	e2e_bird_start "lp-b$k" "router id 10.20.0.$((10 + k));
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bgp n1 { local 10.20.0.$((10 + k)) as 65002; neighbor 10.20.0.1 as 65001; hold time 3;
  keepalive time 1; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp n2 { local 10.20.0.$((10 + k)) as 65002; neighbor 10.20.0.2 as 65001; hold time 3;
  keepalive time 1; connect retry time 1; ipv4 { import all; export none; }; }"
done

# $1: namespace, $2: its address toward the router, $3: the router's, $4: its
# address toward the backends.
bird_node() {
	e2e_bird_start "$1" "router id $2;
protocol device { scan time 1; }
protocol direct vips { ipv4; interface \"lo\"; }
protocol static self_gateway { ipv4; route 0.0.0.0/0 blackhole; }
filter only_vips { if proto = \"vips\" && net.len = 32 then accept; reject; }
filter only_gateway { if proto = \"self_gateway\" then accept; reject; }
protocol bgp upstream { local $2 as 65001; neighbor $3 as 65000; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import none; export filter only_vips; }; }
protocol bgp b1 { local $4 as 65001; neighbor 10.20.0.11 as 65002; hold time 3;
  keepalive time 1; connect retry time 1; ipv4 { import none; export filter only_gateway; }; }
protocol bgp b2 { local $4 as 65001; neighbor 10.20.0.12 as 65002; hold time 3;
  keepalive time 1; connect retry time 1; ipv4 { import none; export filter only_gateway; }; }"
}
bird_node lp-lb 10.10.0.1 10.10.0.2 10.20.0.1
bird_node lp-lb2 10.11.0.1 10.11.0.2 10.20.0.2
e2e_bird_start lp-client "router id 10.10.0.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bgp n1 { local 10.10.0.2 as 65000; neighbor 10.10.0.1 as 65001; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import all; export none; }; }
protocol bgp n2 { local 10.11.0.2 as 65000; neighbor 10.11.0.1 as 65001; hold time 9;
  keepalive time 3; connect retry time 1; ipv4 { import all; export none; }; }"

lab_write_config "$LAB_DIR/limpet.yaml" --health tcp --health-interval 300ms --fall 2 --rise 1
# An HTTP service with cookie affinity on each VIP, port 8080 (where the
# backends' nginx listens too).
for f in 4 6; do
	vip=$LAB_VIP4
	[ "$f" = 4 ] || vip=\"$LAB_VIP6\"
	cat >>"$LAB_DIR/limpet.yaml" <<EOF
  - name: cweb$f
    vip: $vip
    port: 8080
    mode: http
    affinity: {type: cookie}
    health: {type: tcp, interval: 300ms, fall: 2, rise: 1}
    backends:
      - {name: b1, address: "$(lab_backend_addr 1 "$f")", port: 8080}
      - {name: b2, address: "$(lab_backend_addr 2 "$f")", port: 8080}
EOF
done
# The nodes' addresses: a segment of a connection the other node bound is
# sent there. n1's is on the backends' switch, where n2 reaches it directly
# (MAC rewritten); n2's is its address toward the router, which n1 reaches
# through the router: encapsulated (IPIP, IPv6 in IPv4), in links that
# have room for the outer header.
e2e_cluster_config "$LAB_DIR/limpet.yaml" 10.11.0.1 10.20.0.1
ip netns exec lp-client sysctl -qw net.ipv4.ip_forward=1
for l in "lp-client cli0" "lp-lb lb-cli" "lp-client cli1" "lp-lb2 lb2-cli"; do
	set -- $l
	ip -n "$1" link set "$2" mtu 1600
done
# The router merges a burst of encapsulated segments (GRO) and, as a veth
# accepts tunnel GSO, would hand the node's XDP program one frame of tens
# of kilobytes, which it cannot take: segmented before they leave, as a
# NIC puts them on the wire.
for i in cli0 cli1; do
	ip netns exec lp-client ethtool -K "$i" tx-ipxip4-segmentation off \
		tx-ipxip6-segmentation off >/dev/null
done
sed -e 's/^instance: lab$/instance: lab2/' -e 's/name: lb-cli$/name: lb2-cli/' \
	-e 's/name: lb-srv$/name: lb2-srv/' -e 's/^  node: n1$/  node: n2/' \
	"$LAB_DIR/limpet.yaml" >"$LAB_DIR/n2.yaml"

n2() { nsenter --net=/run/netns/lp-lb2 "$LIMPET" --socket "$N2_SOCKET" "$@"; }

# check --peer: the two nodes' files agree; a weight changed on one is named.
out=$(nsenter --net=/run/netns/lp-lb "$LIMPET" check --config "$LAB_DIR/limpet.yaml" \
	--peer "$LAB_DIR/n2.yaml" 2>&1) || fail "check --peer failed: $out"
! grep -q "peer" <<<"$out" || fail "check --peer found differences between the nodes: $out"
sed '0,/weight: 1$/s//weight: 3/' "$LAB_DIR/n2.yaml" >"$E2E_TMP/n2-weight.yaml"
out=$(nsenter --net=/run/netns/lp-lb "$LIMPET" check --config "$LAB_DIR/limpet.yaml" \
	--peer "$E2E_TMP/n2-weight.yaml" 2>&1) || fail "check --peer failed: $out"
grep -q "^warning: peer $E2E_TMP/n2-weight.yaml: service web: backend b1: weight 1 here, 3 there$" \
	<<<"$out" || fail "check --peer did not name the changed weight: $out"
nexthops() { ip -n lp-client route show "$LAB_VIP4/32" proto bird | grep -c -e via -e nexthop || true; }
two_paths() { [ "$(ip -n lp-client route show "$LAB_VIP4/32" proto bird | grep -c nexthop)" -eq 2 ]; }
only_n1() {
	local r
	r=$(ip -n lp-client route show "$LAB_VIP4/32" proto bird)
	[[ $r == *"via 10.10.0.1"* ]] && [[ $r != *"10.11.0.1"* ]]
}
# Global counter <name> of node <1|2>.
node_stat() {
	local out
	if [ "$1" = 1 ]; then out=$(lab_cli stats --json); else out=$(n2 stats --json); fi
	"$LAB_PYTHON" -c 'import json,sys
print(json.loads(sys.argv[1])["global"].get(sys.argv[2], 0))' "$out" "$2"
}
# Counter <name> summed over node <1|2>'s services.
node_service_stat() {
	local out
	if [ "$1" = 1 ]; then out=$(lab_cli stats --json); else out=$(n2 stats --json); fi
	"$LAB_PYTHON" -c 'import json,sys
print(sum(s.get(sys.argv[2], 0) for s in json.loads(sys.argv[1])["services"]))' "$out" "$2"
}
# Connections both nodes' slow paths bound because the client sent no timestamps.
bound_without_ts() {
	echo $(($(node_service_stat 1 http_bound_slowpath_no_timestamps) +
		$(node_service_stat 2 http_bound_slowpath_no_timestamps)))
}
# Segments of the other node's HTTP connections both nodes sent it
# (cluster_encapsulated: of those, the ones n1 sent n2 through the router).
cluster_forwarded() { echo $(($(node_stat 1 cluster_forwarded) + $(node_stat 2 cluster_forwarded))); }
# Packets of the services node <1|2> forwarded, both directions.
forwarded() {
	local out
	if [ "$1" = 1 ]; then out=$(lab_cli stats --json); else out=$(n2 stats --json); fi
	"$LAB_PYTHON" -c 'import json,sys
print(sum(s["packets"] for s in json.loads(sys.argv[1])["services"]))' "$out"
}

# Start a download of /big from client 10.10.1.<a> to the VIP's port
# <dport> through node <hop> (10.10.0.1: n1, 10.11.0.1: n2), from a source
# port in <first>..<first>+200 that the router hashes there, into <file>;
# sets DL_PID. Fails the test when no port of the range goes there.
download_via() {
	local a=$1 dport=$2 hop=$3 first=$4 file=$5 p url=http://$LAB_VIP4
	[ "$dport" = 80 ] || url=$url:$dport
	for p in $(seq "$first" $((first + 200))); do
		ip -n lp-client route get "$LAB_VIP4" from "10.10.1.$a" ipproto tcp sport "$p" \
			dport "$dport" | grep -q "via $hop " || continue
		ip netns exec lp-client curl -s --interface "10.10.1.$a" --local-port "$p" \
			--max-time 90 "$url/big?rate=2m" -o "$file" &
		DL_PID=$!
		return 0
	done
	fail "no source port from 10.10.1.$a to port $dport routed via $hop"
}
# Did the download <pid> into <file> complete, byte-exact?
download_ok() {
	wait "$1" && [ "$(sha256sum <"$2" | cut -d' ' -f1)" = "$(cat "$LAB_DIR/big.sha256")" ]
}

e2e_start "$LAB_DIR/limpet.yaml"
n2 run --config "$LAB_DIR/n2.yaml" >"$LAB_DIR/n2.log" 2>&1 </dev/null &
n2_pid=$!
disown "$n2_pid"
lab_wait 20 grep -q '^limpet: ready' "$LAB_DIR/n2.log" ||
	fail "node n2 not ready: $(tail -n 3 "$LAB_DIR/n2.log" | tr '\n' '|')"
lab_wait 30 two_paths || fail "the router did not learn the VIP from both nodes: $(ip -n lp-client route show "$LAB_VIP4/32")"
# backend_paths K: backend K's default route has both nodes as next hops.
backend_paths() { [ "$(ip -n "lp-b$1" route show default | grep -c nexthop)" -eq 2 ]; }
for k in 1 2; do
	lab_wait 30 backend_paths "$k" ||
		fail "backend $k did not learn its default route from both nodes: $(ip -n "lp-b$k" route show default)"
done
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

# <n> cookie sessions on the HTTP service of family <4|6>, 3 requests
# each from changing source addresses: the first gets the cookie, the next
# two present it and must reach its backend whichever node ECMP gives
# them. The backends' replies take either node too: a node that did not
# bind a connection sends its segments to the node that did. Lines:
# session, request, curl exit, status, body.
cookie_sessions() {
	local fam=$1 n=$2 out=$E2E_TMP/cookies$1 fwd0 fwd moved answered
	rm -f "$E2E_TMP"/jar*
	[ -z "${3:-}" ] || fam="$fam $3"
	fwd0=$(cluster_forwarded)
	# shellcheck disable=SC2016
	ip netns exec lp-client bash -c '
		for ((s = 0; s < $3; s++)); do
			jar=$1/jar$2-$s
			for ((r = 0; r < 3; r++)); do
				k=$(((s * 3 + r) % 200 + 1))
				if [ "$2" = 6 ]; then
					a=$(printf "fd00:10::1:%x" "$k") url="http://[$5]:8080/"
				else
					a=10.10.1.$k url="http://$4:8080/"
				fi
				body=$(curl -s --interface "$a" --connect-timeout 2 --max-time 5 \
					-c "$jar" -b "$jar" -w "|%{http_code}" "$url")
				rc=$?
				echo "$s $r $rc ${body##*|} $(printf %s "${body%|*}" | tr -d "\n")"
			done
		done' cookie-sweep "$E2E_TMP" "$1" "$n" "$LAB_VIP4" "$LAB_VIP6" >"$out"
	answered=$(awk '$3 == 0 && $4 == 200' "$out" | wc -l)
	[ "$answered" -eq $((3 * n)) ] ||
		fail "IPv$fam: $answered of $((3 * n)) cookie requests answered: $(awk '$3 != 0 || $4 != 200' "$out" | head -n 3 | tr '\n' '|')"
	moved=$(awk '{ print $1, $5 }' "$out" | sort -u | awk '{ print $1 }' | uniq -d | wc -l)
	[ "$moved" -eq 0 ] || fail "IPv$fam: $moved of $n cookie sessions reached two backends"
	[ "$(awk '{ print $5 }' "$out" | sort -u | wc -l)" -eq 2 ] ||
		fail "IPv$fam: the cookie sessions did not use both backends"
	fwd=$(($(cluster_forwarded) - fwd0))
	note "IPv$fam: $n cookie sessions x 3 requests through two nodes: all answered, each on" \
		"one backend; $fwd segments sent to the node that bound their connection"
	[ "$fwd" -gt 0 ] || fail "IPv$fam: no segment was sent to another node: the test did not cross nodes"
}
cookie_sessions 4 60
cookie_sessions 6 20
enc1=$(node_stat 1 cluster_encapsulated)
dec2=$(node_stat 2 cluster_decapsulated)
fwd2=$(node_stat 2 cluster_forwarded)
note "n1 sent n2 $enc1 segments encapsulated (n2 unwrapped $dec2); n2 sent n1 $fwd2 directly"
[ "$enc1" -gt 0 ] && [ "$dec2" -ge "$enc1" ] ||
	fail "n1 encapsulated $enc1 segments to n2, n2 unwrapped $dec2"
[ "$fwd2" -gt 0 ] && [ "$(node_stat 2 cluster_encapsulated)" -eq 0 ] ||
	fail "n2 did not send n1's segments directly on their shared link"
# Clients without TCP timestamps (as Windows by default): no TSecr names
# the node; the top bits of the ISNs limpet chose do (its own SYN cookie
# toward the client, the slow path's SYN toward the backend), and the
# segments are sent by the ack. A download from the HTTP service starts
# the same way and goes through the drain below.
ip netns exec lp-client sysctl -qw net.ipv4.tcp_timestamps=0
nots0=$(bound_without_ts)
cookie_sessions 4 30 "without timestamps"
cookie_sessions 6 10 "without timestamps"
nots=$(($(bound_without_ts) - nots0))
[ "$nots" -ge 80 ] ||
	fail "only $nots of the 80 cookie requests without timestamps were bound as such: the test did not run without them"
download_via 63 8080 10.11.0.1 44000 "$E2E_TMP/big-http-nots"
dl_nots=$DL_PID
sleep 0.5	# the handshake is done: the connection keeps what it agreed
ip netns exec lp-client sysctl -qw net.ipv4.tcp_timestamps=1
# IPv6 L4 through both nodes: every request answered, each address on one backend.
lab_sweep 6 1 20 3 / 3 >"$E2E_TMP/sweep6"
n=$(grep -c ' 0 200 ' "$E2E_TMP/sweep6" || true)
[ "$n" -eq 60 ] || fail "IPv6: $n of 60 L4 requests answered: $(grep -v ' 0 200 ' "$E2E_TMP/sweep6" | head -n 3 | tr '\n' '|')"
moved=$(awk '{ print $1, $4 }' "$E2E_TMP/sweep6" | sort -u | awk '{ print $1 }' | uniq -d | wc -l)
[ "$moved" -eq 0 ] || fail "IPv6: $moved client addresses reached two backends"
note "IPv6: 60 L4 requests from 20 addresses answered, each address on one backend"

# A 20 MB download whose path goes through n2: its source port is chosen
# so the router's hash sends it there.
download_via 61 80 10.11.0.1 40000 "$E2E_TMP/big"
dl=$DL_PID
# And one from the HTTP service, whose connection n2 binds: once n2 is
# drained its packets reach n1, which sends them to n2.
download_via 62 8080 10.11.0.1 42000 "$E2E_TMP/big-http"
dl_http=$DL_PID

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
download_ok "$dl" "$E2E_TMP/big" ||
	fail "the download through n2 failed or arrived altered ($(stat -c %s "$E2E_TMP/big") bytes)"
note "20 MB through n2 byte-exact across its drain and undrain"
download_ok "$dl_http" "$E2E_TMP/big-http" ||
	fail "the HTTP download through n2 failed or arrived altered ($(stat -c %s "$E2E_TMP/big-http") bytes)"
note "20 MB from the HTTP service, bound by n2, byte-exact across its drain and undrain"
download_ok "$dl_nots" "$E2E_TMP/big-http-nots" ||
	fail "the HTTP download without timestamps through n2 failed or arrived altered ($(stat -c %s "$E2E_TMP/big-http-nots") bytes)"
note "20 MB from the HTTP service without timestamps, bound by n2, byte-exact across its drain and undrain"

# wrk for 16 s, keep-alive and "Connection: close" at once, while n2 is
# drained (at 4 s) and undrained (at 10 s): no socket error, no non-2xx
# answer, every request answered.
ip netns exec lp-client wrk -t1 -c8 -d16s --timeout 5s "http://$LAB_VIP4/" >"$E2E_TMP/wrk-ka" 2>&1 &
wrk_ka=$!
ip netns exec lp-client wrk -t1 -c8 -d16s --timeout 5s -H "Connection: close" "http://$LAB_VIP4/" \
	>"$E2E_TMP/wrk-close" 2>&1 &
wrk_close=$!
ip netns exec lp-client wrk -t1 -c8 -d16s --timeout 5s "http://$LAB_VIP4:8080/" \
	>"$E2E_TMP/wrk-http-ka" 2>&1 &
wrk_http_ka=$!
ip netns exec lp-client wrk -t1 -c8 -d16s --timeout 5s -H "Connection: close" \
	"http://$LAB_VIP4:8080/" >"$E2E_TMP/wrk-http-close" 2>&1 &
wrk_http_close=$!
sleep 4
n2 node drain >/dev/null || fail "node drain on n2 failed (under wrk)"
sleep 6
n2 node undrain >/dev/null || fail "node undrain on n2 failed (under wrk)"
wait "$wrk_ka" || fail "wrk keep-alive failed: $(tr '\n' '|' <"$E2E_TMP/wrk-ka")"
wait "$wrk_close" || fail "wrk close failed: $(tr '\n' '|' <"$E2E_TMP/wrk-close")"
wait "$wrk_http_ka" || fail "wrk HTTP keep-alive failed: $(tr '\n' '|' <"$E2E_TMP/wrk-http-ka")"
wait "$wrk_http_close" || fail "wrk HTTP close failed: $(tr '\n' '|' <"$E2E_TMP/wrk-http-close")"
for m in ka close http-ka http-close; do
	! grep -q "Socket errors\|Non-2xx" "$E2E_TMP/wrk-$m" ||
		fail "wrk $m through drain and undrain: $(grep "Socket errors\|Non-2xx" "$E2E_TMP/wrk-$m")"
	n=$(awk '/requests in/ { print $1 }' "$E2E_TMP/wrk-$m")
	[ "${n:-0}" -gt 1000 ] || fail "wrk $m completed ${n:-no} requests: $(tr '\n' '|' <"$E2E_TMP/wrk-$m")"
	note "wrk $m through n2's drain and undrain: $n requests, no error"
done
lab_wait 10 two_paths || fail "n2's route not back within 10 s of the second undrain"

# n2 dies: cut off, limpet and BIRD killed, its namespace deleted, while downloads
# run through both nodes and new connections keep arriving. Its L4
# connections carry on through n1 (stateless: n1 records each flow from a
# mid-connection packet, the backends' replies are un-NATed by rev_nat);
# replies the backends still send toward n2 are lost until their BGP
# session with it times out. Counted: downloads that fail (none may), the
# time until the router and the backends route around n2, and until new
# connections all succeed.
# Four L4 downloads through n2, two through n1; and three from the HTTP
# service: two bound by n2 (their translation dies with it: counted, not
# required), one bound by n1 (must complete).
declare -A via=()
dls=()
for a in 150 151 152 153 154 155; do
	via[$a]=10.11.0.1
	[ "$a" -lt 154 ] || via[$a]=10.10.0.1
	download_via "$a" 80 "${via[$a]}" 41000 "$E2E_TMP/big-$a"
	dls+=("$DL_PID")
done
hdls=()
for a in 156 157 158; do
	hop=10.11.0.1
	[ "$a" -lt 158 ] || hop=10.10.0.1
	download_via "$a" 8080 "$hop" 43000 "$E2E_TMP/hbig-$a"
	hdls+=("$DL_PID")
done
# New connections every 100 ms, each line: start (ms since epoch), curl exit,
# status, client address.
ip netns exec lp-client bash -c 'for ((i = 0; i < 200; i++)); do
	a=10.10.1.$((160 + i % 40)); t=$(date +%s%3N)
	code=$(curl -s -o /dev/null --interface "$a" --connect-timeout 3 --max-time 5 -w "%{http_code}" \
		"http://'"$LAB_VIP4"'/"); echo "$t $? $code $a" &
	sleep 0.1; done; wait' >"$E2E_TMP/death-sweep" &
sweep=$!
sleep 3
t_death=$(date +%s%3N)
# Off the network first, as a node that loses power: no FIN or RST from
# its BGP sessions, the backends notice by their hold timer.
ip -n lp-lb2 link del lb2-srv
ip -n lp-lb2 link del lb2-cli
kill -KILL "$n2_pid" 2>/dev/null || true
kill -KILL "$(cat "$E2E_TMP/bird-lp-lb2.pid")" 2>/dev/null || true
# shellcheck disable=SC2046 # a list of pids
kill -KILL $(ip netns pids lp-lb2) 2>/dev/null || true
ip netns del lp-lb2
lab_wait 10 only_n1 || fail "the router still routes the VIP through n2 10 s after its death"
t_route=$(($(date +%s%3N) - t_death))
backend_n1() { ! ip -n "lp-b$1" route show default | grep -q 10.20.0.2; }
for k in 1 2; do
	lab_wait 10 backend_n1 "$k" || fail "backend $k still routes through n2 10 s after its death"
done
t_back=$(($(date +%s%3N) - t_death))
failed=0
i=0
for a in 150 151 152 153 154 155; do
	if ! download_ok "${dls[$i]}" "$E2E_TMP/big-$a"; then
		failed=$((failed + 1))
		note "download from 10.10.1.$a (via ${via[$a]}) failed or arrived altered"
	fi
	i=$((i + 1))
done
hfailed=0
i=0
for a in 156 157 158; do
	if ! download_ok "${hdls[$i]}" "$E2E_TMP/hbig-$a"; then
		[ "$a" != 158 ] || fail "the HTTP download bound by n1 did not survive n2's death"
		hfailed=$((hfailed + 1))
	fi
	i=$((i + 1))
done
note "n2 died: $hfailed of the 2 HTTP downloads it had bound failed (their translation was n2's); the one n1 bound completed"
wait "$sweep" || true
# Converged: the start of the last new connection that failed, after the death.
read -r n_new n_bad last_bad <<<"$(awk -v t0="$t_death" '$1 >= t0 { n++; if ($2 != 0 || $3 != 200) { bad++; last = $1 - t0 } }
	END { print n + 0, bad + 0, bad ? last : 0 }' "$E2E_TMP/death-sweep")"
note "n2 died: the router's route through it gone after $t_route ms, the backends' after $t_back ms;" \
	"$failed of 6 downloads failed (4 through n2);" \
	"$n_bad of $n_new new connections after the death failed, the last started $last_bad ms after it"
[ "$n_bad" -eq 0 ] || note "failed new connections (ms after the death, curl exit, status):" \
	"$(awk -v t0="$t_death" '$1 >= t0 && ($2 != 0 || $3 != 200) { printf "%d/%s/%s/%s ", $1 - t0, $2, $3, $4 }' \
		"$E2E_TMP/death-sweep")"
[ "$failed" -eq 0 ] || fail "$failed of 6 L4 downloads did not survive n2's death"
[ "$n_new" -gt 50 ] || fail "only $n_new new connections were tried after n2's death"
[ "$last_bad" -le 10000 ] || fail "new connections still failed $last_bad ms after n2's death"
pass
