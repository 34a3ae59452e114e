#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# tg.sh - packet rates for `make bench` with a real traffic generator:
# trafgen (netsniff-ng), pinned to one CPU in a client namespace, sends
# through limpet (the real controller, `limpet run`, an L4 NAT service) in a
# balancer namespace to a sink namespace over veth:
#
#   tgc (tgc0) ==veth, 1 or 2 queues== (tgl0) tgl (tgl1) ==veth== (tgs0) tgs
#
# The sink drops every frame in XDP (tg_xdp.bpf.c, tg_sink; its presence
# also makes frames redirected into the veth arrive) and the veth counts
# them (ethtool -S xdp_drops): the figure is forwarded packets/s at the sink.
# Paths: udp (L4 UDP, random source ports, each of which limpet holds a
# flow for: the 65,536 ports are sent once first, which records them),
# tcp_est (ACKs of 4,096 flows limpet holds entries for: an ACK of each
# tuple first, which records the flow), tcp_syn (SYNs with random source addresses and ports: every one
# forwarded by the Maglev table alone, no flow entry written). Baselines on
# the same veths in the same run: xdp (tg_redirect, a minimal XDP redirect
# to tgl1) and nft (nftables DNAT, kernel forwarding).
#
# Each figure is the median of BENCH_TG_ROUNDS (5) rounds of
# BENCH_TG_SECONDS (2) s, the systems interleaved within a round, printed as
#   bench tg_<path>_q<queues>_mpps <median> Mpps (min X max Y; xdp Z, nft W,
#         x xdp R, min A max B)
#   bench tg_<base>_<path>_q<queues>_mpps ...
# where R is the median of the rounds' ratios limpet / xdp (A, B their min
# and max), each pair measured in the same round. With one queue the same
# figures also go out under INTERFACE.md's names: tg_l4_<path>_mpps, and
# tg_xdp_tx_mpps for the minimal XDP program's udp figure.
# limpet's figures are proven by its counters (`limpet stats --json`): the
# packets the sink counted must have been forwarded by limpet (sum of
# fwd_new_flow, fwd_established and l4_syn_stateless within 1%), by the
# named path (udp: >= 99% established hits; tcp_est: >= 90% established
# hits and no new flow; tcp_syn: >= 90% stateless SYNs), or the script fails.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LIMPET=${LIMPET:-$REPO/build/limpet}
OBJ=${TG_XDP_OBJ:-$REPO/build/tg_xdp.bpf.o}
SECS=${BENCH_TG_SECONDS:-2}
ROUNDS=${BENCH_TG_ROUNDS:-5}
CPU=${BENCH_TG_CPU:-0}
QUEUES=${BENCH_TG_QUEUES:-"1 2"}
PATHS=${BENCH_TG_PATHS:-"udp tcp_est tcp_syn"}
NSC=limpet-tgc NSL=limpet-tgl NSS=limpet-tgs
INSTANCE=benchtg
SOCK=/run/limpet/$INSTANCE.sock
DIR=$(mktemp -d /tmp/limpet-tg.XXXXXX)
PIN=/sys/fs/bpf/limpet-tg-$$
VIP=10.73.0.1
MAC_C=02:71:00:00:00:02 MAC_L0=02:71:00:00:00:01 MAC_L1=02:72:00:00:00:01 MAC_S=02:72:00:00:00:02
PID=

die() {
	echo "bench tg: $*" >&2
	exit 1
}

nsl() { nsenter --net=/run/netns/$NSL "$@"; } # keeps /sys/fs/bpf (ip netns exec hides it)
cli() { "$LIMPET" --socket "$SOCK" "$@"; }

limpet_stop() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null || true
	fi
	PID=
	if [ -e /run/netns/$NSL ] && [ -f "$DIR/limpet.yaml" ]; then
		nsl "$LIMPET" --socket "$SOCK" down --config "$DIR/limpet.yaml" >/dev/null 2>&1 || true
	fi
}

teardown() {
	limpet_stop
	local ns
	for ns in $NSC $NSL $NSS; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$PIN" "/sys/fs/bpf/limpet/$INSTANCE" "$SOCK" "/run/limpet/$INSTANCE.lock" 2>/dev/null || true
}
trap 'teardown; rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM

command -v trafgen >/dev/null || die "trafgen missing (make deps: netsniff-ng)"
command -v bpftool >/dev/null || die "bpftool missing (make deps)"
[ -x "$LIMPET" ] || die "$LIMPET not built (run make)"
[ -f "$OBJ" ] || die "$OBJ not built (make $OBJ)"
now_us() { echo "${EPOCHREALTIME/[,.]/}"; }

# setup QUEUES: the three namespaces, the sink program, no forwarder yet.
setup() {
	local q=$1 ns
	teardown
	for ns in $NSC $NSL $NSS; do ip netns add "$ns" && ip -n "$ns" link set lo up; done
	ip -n $NSC link add tgc0 numtxqueues "$q" numrxqueues "$q" address $MAC_C type veth \
		peer name tgl0 numtxqueues "$q" numrxqueues "$q" address $MAC_L0 netns $NSL
	ip -n $NSL link add tgl1 address $MAC_L1 type veth peer name tgs0 address $MAC_S netns $NSS
	ip -n $NSC addr add 10.71.0.2/24 dev tgc0
	ip -n $NSL addr add 10.71.0.1/24 dev tgl0
	ip -n $NSL addr add 10.72.0.1/24 dev tgl1
	ip -n $NSS addr add 10.72.0.2/24 dev tgs0
	ip -n $NSC link set tgc0 up
	ip -n $NSL link set tgl0 up
	ip -n $NSL link set tgl1 up
	ip -n $NSS link set tgs0 up
	# trafgen writes the checksums; the veth must not redo them.
	ip netns exec $NSC ethtool -K tgc0 tx off >/dev/null
	ip netns exec $NSL sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.tgl0.rp_filter=0 net.ipv4.conf.tgl1.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
	ip -n $NSL neigh replace 10.72.0.2 lladdr $MAC_S dev tgl1 nud permanent
	ip -n $NSL neigh replace 10.71.0.2 lladdr $MAC_C dev tgl0 nud permanent
	# The sink's address routes back; the VIP to nowhere (only a forwarder answers).
	mkdir -p "$PIN"
	nsl bpftool prog loadall "$OBJ" "$PIN" type xdp pinmaps "$PIN/maps"
	nsenter --net=/run/netns/$NSS ip link set dev tgs0 xdpdrv pinned "$PIN/tg_sink"
	local idx
	idx=$(ip -n $NSL -o link show tgl1 | awk -F: '{ print $1 }')
	# four bytes, little endian
	nsl bpftool map update pinned "$PIN/maps/tg_out" key 0 0 0 0 \
		value $((idx & 255)) $((idx >> 8 & 255)) 0 0
}

sink_count() {
	ip netns exec $NSS ethtool -S tgs0 | awk '/xdp_drops/ { s += $2 } END { print s + 0 }'
}

# The trafgen configurations: a frame from the client to the VIP.
write_cfgs() {
	local eth="eth(da=$MAC_L0, sa=$MAC_C)"
	cat >"$DIR/udp.cfg" <<EOF
{ $eth, ipv4(saddr=10.71.0.2, daddr=$VIP, ttl=64), udp(sp=drnd(), dp=9), fill(0x41, 18) }
EOF
	cat >"$DIR/udp_warm.cfg" <<EOF
{ $eth, ipv4(saddr=10.71.0.2, daddr=$VIP, ttl=64), udp(sp=dinc(0, 65535), dp=9), fill(0x41, 18) }
EOF
	cat >"$DIR/tcp_warm.cfg" <<EOF
{ $eth, ipv4(saddr=10.71.0.2, daddr=$VIP, ttl=64), tcp(sp=dinc(10000, 14095), dp=80, seq=2, aseq=1, ack), fill(0x41, 6) }
EOF
	cat >"$DIR/tcp_est.cfg" <<EOF
{ $eth, ipv4(saddr=10.71.0.2, daddr=$VIP, ttl=64), tcp(sp=dinc(10000, 14095), dp=80, seq=2, aseq=1, ack), fill(0x41, 6) }
EOF
	cat >"$DIR/tcp_syn.cfg" <<EOF
{ $eth, ipv4(saddr=drnd(), daddr=$VIP, ttl=64), tcp(sp=drnd(), dp=80, seq=drnd(), syn), fill(0x41, 6) }
EOF
}

write_limpet_cfg() {
	cat >"$DIR/limpet.yaml" <<EOF
instance: $INSTANCE
secret_file: $DIR/secret
interfaces:
  - name: tgl0
    xdp_mode: native
  - name: tgl1
    xdp_mode: native
services:
  - name: tgudp
    vip: $VIP
    port: 9
    protocol: udp
    mode: l4
    forwarding: nat
    affinity: {type: none}
    health: {type: none}
    backends:
      - {name: sink, address: 10.72.0.2, port: 9}
  - name: tgtcp
    vip: $VIP
    port: 80
    protocol: tcp
    mode: l4
    forwarding: nat
    affinity: {type: none}
    health: {type: none}
    backends:
      - {name: sink, address: 10.72.0.2, port: 80}
EOF
}

# send CFG -n COUNT: trafgen on one CPU. trafgen gives up when the veth does
# not take its TX ring's last flush ("Flushing TX_RING failed: Resource
# temporarily unavailable"): these sends record flows, so sending again is
# harmless.
send() {
	local cfg=$1 try
	shift
	for try in 1 2 3 4 5; do
		ip netns exec $NSC taskset -c "$CPU" trafgen --cpus 1 --no-cpu-stats -Q --in "$cfg" \
			--out tgc0 "$@" >"$DIR/send.log" 2>&1 && return 0
		sleep 0.2
	done
	die "trafgen failed $try times sending ${cfg##*/}: $(grep -v 'socket memory' "$DIR/send.log" | tail -n 1)"
}

global() { # stats field sum, from limpet's global counters
	cli stats --json | python3 -c '
import json, sys
g = json.load(sys.stdin)["global"]
print(g.get("fwd_new_flow", 0), g.get("fwd_established", 0), g.get("l4_syn_stateless", 0))'
}

# measure SYSTEM PATH: forwarded Mpps at the sink over $SECS s, proven for limpet.
measure() {
	local sys=$1 path=$2 s0 s1 t0 t1 n0 e0 y0 n1 e1 y1 fwd new est syn sunk
	[ "$sys" = limpet ] && read -r n0 e0 y0 < <(global)
	s0=$(sink_count)
	t0=$(now_us)
	# In the foreground: a background job would ignore SIGINT.
	timeout -s INT "$SECS" ip netns exec $NSC taskset -c "$CPU" trafgen --cpus 1 \
		--no-cpu-stats -Q --in "$DIR/$path.cfg" --out tgc0 >/dev/null 2>&1 || true
	t1=$(now_us)
	sleep 0.2
	s1=$(sink_count)
	sunk=$((s1 - s0))
	if [ "$sys" = limpet ]; then
		read -r n1 e1 y1 < <(global)
		new=$((n1 - n0)) est=$((e1 - e0)) syn=$((y1 - y0)) fwd=$((new + est + syn))
		awk -v s="$sunk" -v f="$fwd" 'BEGIN { exit !(f > 0 && s >= f * 0.99 && s <= f * 1.01 + 64) }' ||
			die "$path: the sink counted $sunk packets, limpet forwarded $fwd (new $new, established $est, stateless SYNs $syn)"
		case $path in
		# Every source port was sent before: established hits (>= 99%).
		udp) awk -v a="$est" -v f="$fwd" 'BEGIN { exit !(a >= f * 0.99) }' ||
			die "$path: only $est of $fwd forwarded packets were established-flow hits ($new new flows)" ;;
		tcp_est) awk -v a="$est" -v f="$fwd" 'BEGIN { exit !(a >= f * 0.9) }' ||
			die "$path: only $est of $fwd forwarded packets were established-flow hits" ;;
		tcp_syn) awk -v a="$syn" -v f="$fwd" 'BEGIN { exit !(a >= f * 0.9) }' ||
			die "$path: only $syn of $fwd forwarded SYNs went by the stateless SYN path" ;;
		esac
		[ "$path" != tcp_est ] || [ "$new" -eq 0 ] ||
			die "tcp_est: $new new flows while sending ACKs of held flows"
	fi
	awk -v s="$sunk" -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", s / us }'
}

# system_on SYSTEM / system_off SYSTEM: the forwarder in tgl.
system_on() {
	case $1 in
	limpet)
		write_limpet_cfg
		nsl "$LIMPET" --socket "$SOCK" run --config "$DIR/limpet.yaml" >"$DIR/limpet.log" 2>&1 </dev/null &
		PID=$!
		for _ in $(seq 300); do
			cli status >/dev/null 2>&1 && break
			kill -0 "$PID" 2>/dev/null || { cat "$DIR/limpet.log" >&2; die "limpet run exited"; }
			sleep 0.05
		done
		cli status >/dev/null 2>&1 || die "limpet not ready"
		# Flow entries for tcp_est's 4,096 tuples and udp's 65,536 ports
		# (each sent twice: the first send may lose some).
		send "$DIR/tcp_warm.cfg" -n 8192
		send "$DIR/udp_warm.cfg" -n 131072
		;;
	xdp) nsl ip link set dev tgl0 xdpdrv pinned "$PIN/tg_redirect" ;;
	nft)
		ip netns exec $NSL nft -f - <<EOF
table ip limpet_tg {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $VIP udp dport 9 dnat to 10.72.0.2:9
		ip daddr $VIP tcp dport 80 dnat to 10.72.0.2:80
	}
}
EOF
		;;
	esac
}

system_off() {
	case $1 in
	limpet) limpet_stop ;;
	xdp) nsl ip link set dev tgl0 xdpdrv off ;;
	nft) ip netns exec $NSL nft delete table ip limpet_tg ;;
	esac
}

summary() { # NAME VALUES...: median, min, max
	local name=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v name="$name" '
		{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%s %.3f %.3f %.3f\n", name, m, v[1], v[NR] }'
}

# paired_ratios A1 A2 ... / B1 B2 ...: median, min, max of Ai / Bi.
paired_ratios() {
	local a=() b=() i
	while [ "$1" != / ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	for i in "${!a[@]}"; do
		awk -v a="${a[$i]}" -v b="${b[$i]}" 'BEGIN { if (b > 0) printf "%.3f\n", a / b }'
	done | { mapfile -t r; summary x "${r[@]}"; } | awk '{ printf "x %.2f %.2f %.2f\n", $2, $3, $4 }'
}

write_cfgs
declare -A VAL=()
LINES=()
echo
echo "traffic generator: trafgen on CPU $CPU, $ROUNDS rounds of $SECS s, sink XDP_DROP"
for q in $QUEUES; do
	setup "$q"
	for ((r = 1; r <= ROUNDS; r++)); do
		for sys in limpet xdp nft; do
			system_on $sys
			for path in $PATHS; do
				v=$(measure $sys "$path")
				VAL[$sys.$path.$q]+="$v "
			done
			system_off $sys
		done
		echo "  queues $q round $r done"
	done
	for path in $PATHS; do
		# shellcheck disable=SC2086 # lists of figures
		{
			read -r _ lm lmin lmax < <(summary x ${VAL[limpet.$path.$q]})
			read -r _ xm xmin xmax < <(summary x ${VAL[xdp.$path.$q]})
			read -r _ nm nmin nmax < <(summary x ${VAL[nft.$path.$q]})
		}
		# The ratio of each round's pair, measured seconds apart: the
		# machine's drift between rounds cancels out.
		read -r _ ratio rmin rmax < <(paired_ratios ${VAL[limpet.$path.$q]} / ${VAL[xdp.$path.$q]})
		LINES+=("bench tg_${path}_q${q}_mpps $lm Mpps (min $lmin max $lmax; xdp $xm, nft $nm, x xdp $ratio, min $rmin max $rmax)"
			"bench tg_xdp_${path}_q${q}_mpps $xm Mpps (min $xmin max $xmax)"
			"bench tg_nft_${path}_q${q}_mpps $nm Mpps (min $nmin max $nmax)")
		# The names INTERFACE.md gives, for one queue: limpet's L4 paths
		# and the minimal XDP program's (it redirects to the sink: XDP_TX
		# would send the frames back to the generator).
		if [ "$q" = 1 ]; then
			LINES+=("bench tg_l4_${path}_mpps $lm Mpps (tg_${path}_q1_mpps)")
			[ "$path" != udp ] || LINES+=("bench tg_xdp_tx_mpps $xm Mpps (tg_xdp_udp_q1_mpps)")
		fi
	done
done
printf '%s\n' "${LINES[@]}"
