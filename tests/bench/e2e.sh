#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# e2e.sh - end-to-end figures for `make bench`: wrk from the lab's client
# namespace through limpet (L4, NAT, affinity none so wrk's connections
# spread), through HAProxy (Debian's, in the balancer namespace, roundrobin
# over the same three nginx backends) and straight to one backend ("direct",
# routed by the balancer's kernel). Same topology, same run, keep-alive and
# "Connection: close". Prints requests/s, machine CPU microseconds per
# request (all cores, from /proc/stat) and p99 latency for each, as
# `bench e2e_<system>_<mode>_<rps|cpu_us|p99_ms> VALUE UNIT` lines.
#
# HAProxy runs in `mode tcp` here because limpet's services are L4 in this
# release; the HTTP-mode comparison (HAProxy `mode http`) belongs with
# limpet's HTTP mode.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_BIG_MB=${LAB_BIG_MB:-1}
# shellcheck source=../../scripts/lab.sh
source "$HERE/../../scripts/lab.sh"

DURATION=${BENCH_E2E_SECONDS:-8}
CONNS=${BENCH_E2E_CONNS:-64}
HAPROXY_VIP=10.100.0.200

cleanup() {
	[ -z "${HAPROXY_PID:-}" ] || kill "$HAPROXY_PID" 2>/dev/null || true
	lab_down
}
trap cleanup EXIT INT TERM

for tool in wrk haproxy; do
	command -v "$tool" >/dev/null || { echo "bench e2e: $tool missing (make deps)" >&2; exit 1; }
done

lab_up 3 >/dev/null
lab_write_config "$LAB_DIR/bench.yaml" --affinity none --no-v6
lab_limpet_start "$LAB_DIR/bench.yaml" >/dev/null

# HAProxy on its own address in the balancer namespace (limpet's XDP owns
# 10.100.0.100:80; packets for this address pass to the kernel untouched).
ip -n lp-lb addr add "$HAPROXY_VIP/32" dev lo
cat >"$LAB_DIR/haproxy.cfg" <<EOF
global
	maxconn 4096
	log stdout format raw local0 emerg
defaults
	mode tcp
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend fe
	bind $HAPROXY_VIP:80
	default_backend be
backend be
	balance roundrobin
	server b1 10.20.0.11:80
	server b2 10.20.0.12:80
	server b3 10.20.0.13:80
EOF
ip netns exec lp-lb haproxy -f "$LAB_DIR/haproxy.cfg" -db >"$LAB_DIR/haproxy.log" 2>&1 &
HAPROXY_PID=$!
lab_wait 5 bash -c "ip netns exec lp-client curl -s -m 1 http://$HAPROXY_VIP/ | grep -q '^b'" ||
	{ echo "bench e2e: haproxy did not come up" >&2; cat "$LAB_DIR/haproxy.log" >&2; exit 1; }

# Busy jiffies of all CPUs (user nice system irq softirq steal).
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# run_wrk SYSTEM MODE URL: one measurement, printed as bench lines.
run_wrk() {
	local system=$1 mode=$2 url=$3 out before after requests rps p99 cpu_us hz
	local -a hdr=()
	[ "$mode" = close ] && hdr=(-H "Connection: close")
	hz=$(getconf CLK_TCK)
	before=$(busy_jiffies)
	out=$(ip netns exec lp-client wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "${hdr[@]}" "$url")
	after=$(busy_jiffies)
	requests=$(awk '/requests in/ { print $1 }' <<<"$out")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	# wrk prints p99 as e.g. 1.23ms / 456.00us / 1.02s.
	p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; printf "%.3f", v }' <<<"$out")
	if grep -q "Socket errors\|Non-2xx" <<<"$out"; then
		echo "bench e2e: $system $mode: wrk reported errors:" >&2
		grep "Socket errors\|Non-2xx" <<<"$out" >&2
	fi
	if [ -z "$requests" ] || [ "$requests" -eq 0 ]; then
		echo "bench e2e: $system $mode: no request completed" >&2
		echo "$out" >&2
		return 1
	fi
	cpu_us=$(awk -v j=$((after - before)) -v hz="$hz" -v n="$requests" \
		'BEGIN { printf "%.1f", j * 1000000 / hz / n }')
	printf '%-8s %-10s %12s req/s %10s us/req %10s ms p99\n' "$system" "$mode" "$rps" \
		"$cpu_us" "$p99"
	RESULTS+=("bench e2e_${system}_${mode}_rps $rps req/s"
		"bench e2e_${system}_${mode}_cpu_us $cpu_us us/req"
		"bench e2e_${system}_${mode}_p99_ms $p99 ms")
}

RESULTS=()
echo
echo "end to end: wrk -t2 -c$CONNS -d${DURATION}s from lp-client, 3 nginx backends"
printf '%-8s %-10s %18s %17s %14s\n' system mode throughput "cpu/request" latency
# Direct first: limpet's NAT keeps the client's address, so a close-mode run
# through it leaves the backends thousands of TIME_WAIT sockets for exactly
# the client address and ports a later direct run would reuse (and PAWS
# would reject, the client's timestamp offset being per destination).
for mode in keepalive close; do
	run_wrk direct "$mode" "http://$(lab_backend_addr 1 4)/"
	run_wrk haproxy "$mode" "http://$HAPROXY_VIP/"
	run_wrk limpet "$mode" "http://$LAB_VIP4/"
done
printf '%s\n' "${RESULTS[@]}"
