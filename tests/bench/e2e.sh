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
# First the L4 comparison: limpet's service in L4 mode against HAProxy in
# `mode tcp` (lines e2e_limpet_*, e2e_haproxy_*, e2e_direct_*). Then, in the
# same lab, the service restarted in HTTP mode (SYN cookies, binding at the
# first request, per-packet translation) against HAProxy in `mode http` with
# keep-alive on both sides (lines e2e_limpet_http_*, e2e_haproxy_http_*),
# and a short table of the HTTP ratios against the HTTP-mode goals
# (keep-alive: >= 1.5x HAProxy's requests/s with less CPU per request;
# "Connection: close": at least HAProxy's requests/s). The goals are
# reported, not asserted.
#
# BENCH_E2E_ONLY=http skips the L4 comparison (quicker, for work on the
# HTTP mode).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_BIG_MB=${LAB_BIG_MB:-1}
# shellcheck source=../../scripts/lab.sh
source "$HERE/../../scripts/lab.sh"

DURATION=${BENCH_E2E_SECONDS:-8}
ONLY=${BENCH_E2E_ONLY:-}
CONNS=${BENCH_E2E_CONNS:-64}
HAPROXY_VIP=10.100.0.200
HAPROXY_HTTP_VIP=10.100.0.201

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

# HAProxy on its own addresses in the balancer namespace (limpet's XDP owns
# 10.100.0.100:80; packets for these addresses pass to the kernel
# untouched): $HAPROXY_VIP in `mode tcp`, $HAPROXY_HTTP_VIP in `mode http`
# with http-keep-alive (the default, made explicit): client and server
# connections both stay open between requests. One process; the idle
# frontend costs nothing.
ip -n lp-lb addr add "$HAPROXY_VIP/32" dev lo
ip -n lp-lb addr add "$HAPROXY_HTTP_VIP/32" dev lo
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
frontend fe_http
	mode http
	bind $HAPROXY_HTTP_VIP:80
	option http-keep-alive
	timeout http-request 10s
	timeout http-keep-alive 30s
	default_backend be_http
backend be_http
	mode http
	option http-keep-alive
	balance roundrobin
	server b1 10.20.0.11:80
	server b2 10.20.0.12:80
	server b3 10.20.0.13:80
EOF
ip netns exec lp-lb haproxy -f "$LAB_DIR/haproxy.cfg" -db >"$LAB_DIR/haproxy.log" 2>&1 &
HAPROXY_PID=$!
for vip in "$HAPROXY_VIP" "$HAPROXY_HTTP_VIP"; do
	lab_wait 5 bash -c "ip netns exec lp-client curl -s -m 1 http://$vip/ | grep -q '^b'" ||
		{ echo "bench e2e: haproxy did not come up on $vip" >&2; cat "$LAB_DIR/haproxy.log" >&2; exit 1; }
done

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
	printf '%-12s %-10s %12s req/s %10s us/req %10s ms p99\n' "$system" "$mode" "$rps" \
		"$cpu_us" "$p99"
	VAL[${system}_${mode}_rps]=$rps
	VAL[${system}_${mode}_cpu_us]=$cpu_us
	RESULTS+=("bench e2e_${system}_${mode}_rps $rps req/s"
		"bench e2e_${system}_${mode}_cpu_us $cpu_us us/req"
		"bench e2e_${system}_${mode}_p99_ms $p99 ms")
}

RESULTS=()
declare -A VAL=()
echo
echo "end to end: wrk -t2 -c$CONNS -d${DURATION}s from lp-client, 3 nginx backends"
printf '%-12s %-10s %18s %17s %14s\n' system mode throughput "cpu/request" latency
# Direct first, before limpet starts: limpet un-NATs the replies of its
# backends' address:port without per-flow state (rev_nat), so with limpet
# attached a backend's replies to a client that reached it directly would
# leave as the VIP's. And limpet's NAT keeps the client's address, so a
# close-mode run through it leaves the backends thousands of TIME_WAIT
# sockets for exactly the client address and ports a later direct run would
# reuse (and PAWS would reject, the client's timestamp offset being per
# destination).
# From a client address of its own: its close-mode run leaves the backend
# TIME_WAIT sockets for its address and ports, which limpet's close-mode run
# (NAT keeps the client's address; the client's timestamp offset is per
# destination, so PAWS would reject its SYNs) must not meet.
ip -n lp-client route replace default via 10.10.0.1 src "$(lab_client_addr 9)"
for mode in keepalive close; do
	[ "$ONLY" != http ] || break
	run_wrk direct "$mode" "http://$(lab_backend_addr 1 4)/"
done
ip -n lp-client route replace default via 10.10.0.1
lab_limpet_start "$LAB_DIR/bench.yaml" >/dev/null
lab_wait 5 bash -c "ip netns exec lp-client curl -s -m 1 http://$LAB_VIP4/ | grep -q '^b'" ||
	{ echo "bench e2e: limpet does not serve" >&2; cat "$LAB_LIMPET_LOG" >&2; exit 1; }
for mode in keepalive close; do
	[ "$ONLY" != http ] || break
	run_wrk haproxy "$mode" "http://$HAPROXY_VIP/"
	run_wrk limpet "$mode" "http://$LAB_VIP4/"
done

# HTTP mode: the same service, restarted in `mode: http`.
lab_limpet_stop TERM
lab_write_config "$LAB_DIR/bench-http.yaml" --mode http --affinity none --no-v6
lab_limpet_start "$LAB_DIR/bench-http.yaml" >/dev/null
lab_wait 5 bash -c "ip netns exec lp-client curl -s -m 1 http://$LAB_VIP4/ | grep -q '^b'" ||
	{ echo "bench e2e: limpet in HTTP mode does not serve" >&2; cat "$LAB_LIMPET_LOG" >&2; exit 1; }
# Each HTTP run comes from a client address of its own (the default route's
# preferred source; wrk cannot bind): a close-mode run leaves TIME_WAIT
# sockets for its client address and ports, on the backends (limpet keeps
# the client's address) or in the balancer's kernel (HAProxy's client
# side), which a later run reusing the address and ports would meet.
src=1
for mode in keepalive close; do
	for system in haproxy_http limpet_http; do
		ip -n lp-client route replace default via 10.10.0.1 src "$(lab_client_addr "$src")"
		src=$((src + 1))
		case $system in
		haproxy_http) run_wrk "$system" "$mode" "http://$HAPROXY_HTTP_VIP/" ;;
		limpet_http) run_wrk "$system" "$mode" "http://$LAB_VIP4/" ;;
		esac
	done
done
ip -n lp-client route replace default via 10.10.0.1
printf '%s\n' "${RESULTS[@]}"

# ratio A B: A / B, two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# met A B COND: yes when the awk condition COND over a and b holds.
met() { if awk -v a="$1" -v b="$2" "BEGIN { exit !($3) }"; then echo yes; else echo no; fi; }
ka_rps=$(ratio "${VAL[limpet_http_keepalive_rps]}" "${VAL[haproxy_http_keepalive_rps]}")
ka_cpu=$(ratio "${VAL[limpet_http_keepalive_cpu_us]}" "${VAL[haproxy_http_keepalive_cpu_us]}")
cl_rps=$(ratio "${VAL[limpet_http_close_rps]}" "${VAL[haproxy_http_close_rps]}")
echo
echo "HTTP mode, limpet_http / haproxy_http (goals reported, not asserted):"
printf '  %-30s %6s   goal %-7s met: %s\n' \
	"keep-alive requests/s" "$ka_rps" ">= 1.50" "$(met "$ka_rps" 1.5 'a >= b')" \
	"keep-alive CPU per request" "$ka_cpu" "< 1.00" "$(met "$ka_cpu" 1 'a < b')" \
	"Connection: close requests/s" "$cl_rps" ">= 1.00" "$(met "$cl_rps" 1 'a >= b')"
