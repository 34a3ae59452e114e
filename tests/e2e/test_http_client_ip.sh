#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_http_client_ip.sh - client-IP affinity on an HTTP service with
# nothing to insert: XDP binds every connection it can (bpf/lib/bind.h,
# bind_client_ip()), IPv4 and IPv6, and the slow path only what needs the
# failover mode:
#   - 20 client addresses x 3 new connections per family: each address on
#     one backend, every backend used;
#   - the counters: http_bound_xdp grew by every connection, the slow
#     path's http_bound not at all; status counts one session per address;
#   - a session's backend stops (failover temporary, the default): the
#     address's next connection is answered by another backend, bound by
#     the slow path under reason failover; once the backend is back, the
#     address returns to it, bound in XDP again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin http_client_ip
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --health tcp --health-interval 300ms \
	--health-timeout 200ms --rise 1 --fall 1
e2e_start "$LAB_DIR/limpet.yaml"
T=$E2E_TMP

xdp0=$(e2e_global http_bound_xdp)
slow0=$(e2e_global http_bound)
[ "$xdp0" -ge 0 ] && [ "$slow0" -ge 0 ] || fail "stats --json has no http_bound_xdp or http_bound"
for fam in 4 6; do
	lab_sweep $fam 1 20 3 >"$T/sweep$fam"
	e2e_check affinity "$T/sweep$fam" --backends b1,b2,b3 --expect 20 --need-all --max-share 0.8
done
xdp1=$(e2e_global http_bound_xdp)
slow1=$(e2e_global http_bound)
note "120 connections: http_bound_xdp +$((xdp1 - xdp0)), http_bound (slow path) +$((slow1 - slow0))"
[ $((xdp1 - xdp0)) -ge 120 ] || fail "http_bound_xdp grew by $((xdp1 - xdp0)), expected 120"
[ "$slow1" = "$slow0" ] || fail "the slow path bound $((slow1 - slow0)) of them"

# One session per address, in the data plane's map, counted by status.
e2e_status_json "$T/status.json"
n=$("$LAB_PYTHON" -c 'import json,sys; print(sum(b["sessions"] for s in json.load(open(sys.argv[1]))["services"] for b in s["backends"]))' "$T/status.json")
[ "$n" = 40 ] || fail "status counts $n sessions, expected 40 (20 addresses per family)"

# An IPv4 address whose session is on b1.
addr=$(awk '$3 == 200 && $4 ~ /^b1(\\n)?$/ { print $1; exit }' "$T/sweep4")
[ -n "$addr" ] || fail "no IPv4 address landed on b1"
lab_nginx_stop 1
lab_wait_backend web b1 down 5 >/dev/null || fail "b1 not seen down"
fo0=$(e2e_global http_bound_slowpath_failover)
r=$(lab_curl "$addr") || fail "$addr: no answer with b1 down"
[[ $r =~ ^b[23]$ ]] || fail "$addr: with b1 down answered by '$r'"
fo1=$(e2e_global http_bound_slowpath_failover)
[ $((fo1 - fo0)) -ge 1 ] || fail "the failover was not bound by the slow path (failover +$((fo1 - fo0)))"
note "$addr: b1 down, answered by $r (slow path, failover)"

lab_nginx_start 1
lab_wait_backend web b1 up 5 >/dev/null || fail "b1 not back up"
xdp2=$(e2e_global http_bound_xdp)
r=$(lab_curl "$addr") || fail "$addr: no answer after b1 returned"
[ "$r" = b1 ] || fail "$addr: after b1 returned the session went to '$r' (temporary keeps it)"
[ $(($(e2e_global http_bound_xdp) - xdp2)) -ge 1 ] || fail "the return to b1 was not bound in XDP"
pass
