#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# demo.sh - limpet in under a minute (`make demo`, as root): builds the
# namespace lab of scripts/lab.sh with four nginx backends, starts
# build/limpet in front of them with two services, and shows
#   - web (L4, 10.100.0.100:80, b1-b3): client-IP affinity;
#   - shop (HTTP, 10.100.0.101:80, b1-b3, signed cookies, policy rebalance,
#     failover temporary): the first response's Set-Cookie, one client's
#     requests on new connections from changing addresses staying on its
#     backend, 100 sessions spreading, b4 added (about 1/4 of them move, all
#     to b4), b1 stopped (its sessions served elsewhere, cookies kept) and
#     started again (its sessions come home);
# then tears everything down. It builds nothing itself. The lines starting
# "   =>" are the results; tests/e2e/test_demo.sh checks them.
set -euo pipefail

LAB_BIG_MB=${LAB_BIG_MB:-1}	# /big is not used here: keep lab_up quick
. "$(dirname "$0")/lab.sh"

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it creates network namespaces and attaches XDP)"
[ -x "$LIMPET" ] || die "$LIMPET not found: run 'make demo' (or make) first"

trap lab_down EXIT
trap 'exit 130' INT TERM

SHOP_VIP=10.100.0.101
SESSIONS=100

# "b1 33   b2 34   b3 33" from "<session> <backend>" lines in <file>.
tally_line() {
	awk '{ n[$2]++ } END { for (b in n) printf "%s %d\n", b, n[b] }' "$1" | sort |
		awk '{ printf "   %s %3d", $1, $2 } END { print "" }'
}

bold "== Building the lab: client -> limpet (lp-lb) -> bridge -> backends b1 b2 b3 b4"
lab_up 4 || die "lab setup failed"
cfg=$LAB_DIR/limpet.yaml
lab_write_config "$cfg" --backend-list "1 2 3" --no-v6
{
	echo "  - name: shop"
	echo "    vip: $SHOP_VIP"
	echo "    port: 80"
	echo "    mode: http"
	echo "    affinity: {type: cookie, policy: rebalance}"
	echo "    failover: temporary"
	echo "    health: {type: tcp, interval: 300ms, timeout: 200ms, rise: 1, fall: 1}"
	echo "    backends:"
	for k in 1 2 3; do
		echo "      - {name: b$k, address: $(lab_backend_addr "$k")}"
	done
} >>"$cfg"
echo "   web  http://$LAB_VIP4/  L4, client-IP affinity, backends b1 b2 b3"
echo "   shop http://$SHOP_VIP/  HTTP, signed cookie, policy rebalance, failover temporary"
echo "   client addresses 10.10.1.1-10.10.1.$LAB_CLIENTS; config: $cfg"

bold "== Starting limpet (nsenter --net=/run/netns/lp-lb $LIMPET run --config ...)"
lab_limpet_start "$cfg" || die "limpet did not become ready"
echo "   limpet: ready (pid $(lab_limpet_pid), log $LAB_LIMPET_LOG)"
echo

# ---- L4 ---------------------------------------------------------------------
addr=$(lab_client_addr 7)
bold "== web (L4): one client ($addr) asks 5 times, each time on a new connection:"
for i in 1 2 3 4 5; do
	body=$(lab_curl "$addr") || body="(request failed)"
	printf '   request %d -> %s\n' "$i" "$body"
done
echo

bold "== web (L4): 20 different clients ask once each:"
declare -A tally=()
line=""
for k in $(seq 1 20); do
	a=$(lab_client_addr "$k")
	b=$(lab_curl "$a") || b=failed
	tally[$b]=$((${tally[$b]:-0} + 1))
	line+=$(printf '   %-12s -> %-3s' "$a" "$b")
	if [ $((k % 4)) -eq 0 ]; then echo "$line"; line=""; fi
done
echo
echo "   tally:"
for b in $(printf '%s\n' "${!tally[@]}" | sort); do
	printf '     %-7s %2d  %s\n' "$b" "${tally[$b]}" "$(printf '#%.0s' $(seq 1 "${tally[$b]}"))"
done
echo

# ---- HTTP cookies -----------------------------------------------------------
jars=$LAB_DIR/jars
mkdir -p "$jars"

# One request of session <s> (its own cookie jar) from client address <a>.
shop_get() { # <s> <a> [curl options...]
	local s=$1 a=$2
	shift 2
	ip netns exec lp-client curl -s --interface "$a" --max-time 3 -b "$jars/s$s" \
		-c "$jars/s$s" "$@" "http://$SHOP_VIP/" || true
}

# Round <r>: one request of each session in the list, each on a new
# connection from an address that changes from round to round; "<session>
# <backend>" lines into <file>, sorted for join.
shop_round() { # <r> <file> <session...>
	local r=$1 file=$2
	shift 2
	# shellcheck disable=SC2016
	ip netns exec lp-client bash -c '
		jars=$1 vip=$2 r=$3
		shift 3
		for s in "$@"; do
			a=10.10.1.$(((s * 7 + r * 31) % 200 + 1))
			b=$(curl -s --interface "$a" --max-time 3 -b "$jars/s$s" -c "$jars/s$s" \
				"http://$vip/" | tr -d "\r\n")
			echo "$s ${b:-failed}"
		done' demo "$jars" "$SHOP_VIP" "$r" "$@" | sort -k1,1 >"$file"
}

# The cookie value in session <s>'s jar (Netscape format: the 7th field).
jar_cookie() { awk 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) { v = $7 } END { print v }' \
	"$jars/s$1"; }

bold "== shop (HTTP): the first response of a new session carries a signed cookie:"
shop_get 0 "$(lab_client_addr 7)" -D "$jars/h0" -o "$jars/b0"
first=$(tr -d '\r\n' <"$jars/b0")
sc=$(grep -i '^Set-Cookie:' "$jars/h0" | tr -d '\r' | head -n 1)
printf '   %s\n' "$sc"
issued=missing
[ -z "$sc" ] || issued=issued
echo "   => Set-Cookie $issued, first response from ${first:-nobody}"
echo

bold "== shop (HTTP): that client again, 5 new connections from 5 other addresses:"
same=0
for i in 1 2 3 4 5; do
	a=$(lab_client_addr $((20 * i + 3)))
	b=$(shop_get 0 "$a" | tr -d '\r\n')
	printf '   request %d from %-12s -> %s\n' "$i" "$a" "${b:-failed}"
	[ "$b" != "$first" ] || same=$((same + 1))
done
echo "   => $same of 5 requests on $first, the backend in its cookie"
echo

bold "== shop (HTTP): $SESSIONS new sessions, each its own client and cookie:"
mapfile -t all < <(seq 1 $SESSIONS)
shop_round 0 "$LAB_DIR/r0" "${all[@]}"
tally_line "$LAB_DIR/r0"
echo "   => $SESSIONS sessions spread over $(awk '$2 ~ /^b/ { print $2 }' "$LAB_DIR/r0" |
	sort -u | wc -l) backends"
echo

bold "== shop (HTTP): limpet backend add shop b4 $(lab_backend_addr 4)"
lab_cli backend add shop b4 "$(lab_backend_addr 4)" || die "backend add failed"
shop_round 1 "$LAB_DIR/r1" "${all[@]}"
tally_line "$LAB_DIR/r1"
moved=$(join "$LAB_DIR/r0" "$LAB_DIR/r1" | awk '$2 != $3' | wc -l)
to_b4=$(join "$LAB_DIR/r0" "$LAB_DIR/r1" | awk '$2 != $3 && $3 == "b4"' | wc -l)
echo "   => $moved of $SESSIONS sessions moved (about 1/4 expected): $to_b4 to b4," \
	"$((moved - to_b4)) between old backends"
echo

bold "== shop (HTTP): b1's nginx stops; the health check sees it (failover: temporary)"
mapfile -t on_b1 < <(awk '$2 == "b1" { print $1 }' "$LAB_DIR/r1")
for s in "${on_b1[@]}"; do jar_cookie "$s"; done >"$LAB_DIR/cookies.before"
lab_nginx_stop 1 || die "cannot stop b1's nginx"
lab_wait_backend shop b1 down 5 >/dev/null || die "b1 not seen down"
shop_round 2 "$LAB_DIR/r2" "${on_b1[@]}"
for s in "${on_b1[@]}"; do jar_cookie "$s"; done >"$LAB_DIR/cookies.after"
tally_line "$LAB_DIR/r2"
served=$(awk '$2 ~ /^b[234]$/' "$LAB_DIR/r2" | wc -l)
kept=changed
cmp -s "$LAB_DIR/cookies.before" "$LAB_DIR/cookies.after" && kept=kept
echo "   => b1 down: $served of its ${#on_b1[@]} sessions served by b2-b4, cookies $kept"
echo

bold "== shop (HTTP): b1's nginx starts again"
lab_nginx_start 1 || die "cannot start b1's nginx"
lab_wait_backend shop b1 up 5 >/dev/null || die "b1 not seen up"
shop_round 3 "$LAB_DIR/r3" "${on_b1[@]}"
tally_line "$LAB_DIR/r3"
home=$(awk '$2 == "b1"' "$LAB_DIR/r3" | wc -l)
echo "   => b1 up: $home of its ${#on_b1[@]} sessions back home on b1"
echo

bold "== limpet status"
lab_cli status | sed 's/^./   &/' || echo "   (limpet status failed)"
echo
bold "== Done in $SECONDS s; tearing the lab down."
