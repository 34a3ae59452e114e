#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_loss.sh - HTTP mode under 20 % packet loss and 10 % reordering
# in both directions (tests/e2e/impair.bpf.c on the client's and the
# backends' interfaces; this kernel has no netem): the cookie handshake, the
# slow path's SYN and held data, the inserted header and the translated
# fast path must all recover. Downloads, POSTs and keep-alive requests stay
# byte-exact, and the impairment is proven to have happened.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/impair.sh"

e2e_begin http_loss
[ -x "$IMPAIR_BIN" ] || fail "$IMPAIR_BIN not built (make impair)"
cleanup() {
	impair_detach lp-client cli0
	for k in 1 2 3; do impair_detach "lp-b$k" eth0; done
	lab_down
}
trap cleanup EXIT
LAB_BIG_MB=12 e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --backend-header X-Limpet-Backend
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

impair_attach lp-client cli0 20 10 || fail "cannot impair cli0"
for k in 1 2 3; do impair_attach "lp-b$k" eth0 20 10 || fail "cannot impair lp-b$k"; done

head -c 5242880 /dev/urandom >"$T/post"
for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$LAB_VIP4; else vip="[$LAB_VIP6]"; fi
	src=$(lab_client_addr 3 $fam)
	"${C[@]}" curl -s --interface "$src" --max-time 90 -r 0-10485759 -o "$T/dl" \
		"http://$vip/big?rate=0" || fail "IPv$fam: download under loss failed (exit $?)"
	cmp -s "$T/dl" <(head -c 10485760 "$LAB_DIR/www/big") ||
		fail "IPv$fam: download under loss differs ($(stat -c %s "$T/dl") bytes)"
	"${C[@]}" curl -s --interface "$src" --max-time 90 -D "$T/ph" -o /dev/null \
		--data-binary @"$T/post" "http://$vip/upload" || fail "IPv$fam: POST under loss failed"
	stored=$(grep -i '^X-Body-File:' "$T/ph" | cut -d' ' -f2 | tr -d '\r')
	[ -n "$stored" ] && cmp -s "$T/post" "$stored" || fail "IPv$fam: POST body differs under loss"
	# New connections (each a cookie handshake and a binding) with
	# keep-alive requests: every response whole, the header on the first.
	for i in $(seq 10); do
		"${C[@]}" curl -s --interface "$(lab_client_addr $((10 + i)) $fam)" --max-time 30 \
			-D "$T/h" -o "$T/b" "http://$vip/" --next -s --max-time 30 \
			--interface "$(lab_client_addr $((10 + i)) $fam)" -o "$T/b2" "http://$vip/" ||
			fail "IPv$fam: request $i under loss failed"
		body=$(tr -d '\r\n' <"$T/b")
		[[ $body =~ ^b[123]$ ]] && [ "$(tr -d '\r\n' <"$T/b2")" = "$body" ] ||
			fail "IPv$fam: request $i: bodies '$body' '$(cat "$T/b2")'"
		grep -qi "^X-Limpet-Backend: $body" "$T/h" || fail "IPv$fam: request $i: no header"
	done
	note "IPv$fam: 10 MB down, 5 MB up, 10 connections x 2 requests: byte-exact"
done

read -r _ d _ r _ <<<"$(impair_stats lp-client cli0)"
[ "$d" -gt 1000 ] && [ "$r" -gt 500 ] || fail "the client's side was barely impaired: $(impair_stats lp-client cli0)"
sum_d=0
for k in 1 2 3; do
	read -r _ d _ _ _ <<<"$(impair_stats "lp-b$k" eth0)"
	sum_d=$((sum_d + d))
done
[ "$sum_d" -gt 500 ] || fail "the backends' side was barely impaired ($sum_d drops)"
note "client side: $(impair_stats lp-client cli0); backend side: $sum_d drops"
pass
