#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_refused.sh - delayed binding tries the next backend: with no
# health checks (so the ring still holds it), a backend whose nginx is
# stopped refuses the slow path's SYN; every client still gets a 200 from
# another backend, without an error. With every backend stopped the client
# gets a 503 and a clean close; then a backend comes back and serves.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_refused
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --no-v6 --connect-timeout 500ms
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

lab_nginx_stop 2 || fail "cannot stop nginx of b2"
for k in $(seq 1 30); do
	src=$(lab_client_addr "$k")
	out=$("${C[@]}" curl -s --interface "$src" --max-time 5 -w " %{http_code}" \
		"http://$LAB_VIP4/") || fail "client $src: curl failed while b2 refuses"
	out=$(echo $out)	# one line: "b1 200"
	case $out in
	"b1 200" | "b3 200") echo "$src ${out% *}" >>"$T/answers" ;;
	*) fail "client $src got '$out' while b2 refuses" ;;
	esac
done
e2e_cli_ok stats --json
retries=$(echo "$E2E_OUT" | "$LAB_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["global"]["http_backend_retries"])')
[ "$retries" -gt 0 ] || fail "no retry counted although b2 refused (some of 30 clients map to it)"
note "30 clients served by b1/b3 while b2 refused; $retries retries counted"

# No backend at all: a 503, and curl sees a complete, closed response.
lab_nginx_stop 1 || fail "cannot stop nginx of b1"
lab_nginx_stop 3 || fail "cannot stop nginx of b3"
out=$("${C[@]}" curl -s --max-time 10 -D "$T/h503" -w '%{http_code}' -o "$T/b503" \
	"http://$LAB_VIP4/") || fail "with every backend down curl failed (exit $?) instead of a 503"
[ "$out" = 503 ] || fail "with every backend down: status $out"
grep -q 'no backend' "$T/b503" || fail "503 body: $(head -c 80 "$T/b503")"
grep -qi '^Connection: close' "$T/h503" || fail "503 without Connection: close"
note "every backend down: 503, clean close"

lab_nginx_start 3 || fail "cannot start nginx of b3"
out=$("${C[@]}" curl -s --max-time 5 "http://$LAB_VIP4/") || fail "b3 back: curl failed"
[ "$out" = b3 ] || fail "b3 back: got '$out'"
pass
