#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_restart_load.sh - kill -9 of the controller and a restart under load
# break nothing. Two wrk run through the VIP for 20 s (affinity none, tcp
# health checks): 20 keep-alive connections and 20 "Connection: close"
# ones. In the middle the controller is killed with SIGKILL, stays dead 2 s
# (the data plane balances alone) and is started again with the same
# config; it adopts the pinned state (status counts the live keep-alive
# flows) and every backend is still up. Neither wrk may report a socket
# error or a non-2xx response.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin restart_load
trap lab_down EXIT
e2e_lab_up 3
cfg=$LAB_DIR/limpet.yaml
lab_write_config "$cfg" --no-v6 --affinity none --health tcp --health-interval 500ms \
	--health-timeout 300ms --rise 2 --fall 2
e2e_start "$cfg"

DURATION=20
e2e_wrk_start "$DURATION"

sleep 6
pid=$(lab_limpet_pid)
kill -KILL "$pid"
lab_wait 5 _lab_not_alive "$pid" || fail "controller survived kill -9"
note "controller killed"
sleep 2
lab_xdp_attached lb-cli || fail "XDP program gone from lb-cli after the controller died"
lab_xdp_attached lb-srv || fail "XDP program gone from lb-srv after the controller died"
_lab_not_alive "$E2E_WRK_KA" && fail "wrk ended before the controller was restarted"
e2e_start "$cfg"
note "controller restarted"

flows=0
for b in b1 b2 b3; do
	st=$(lab_backend_field web "$b" state) || fail "limpet status failed after the restart"
	[ "$st" = up ] || fail "after the restart $b is '$st', expected up"
	f=$(lab_backend_field web "$b" flows)
	flows=$((flows + f))
done
[ "$flows" -ge 20 ] || fail "after the restart status counts $flows flows, expected >= 20 (wrk's keep-alive connections)"
note "status after the restart: $flows flows"
sleep 3
for b in b1 b2 b3; do
	st=$(lab_backend_field web "$b" state) || fail "limpet status failed"
	[ "$st" = up ] || fail "3 s after the restart $b is '$st', expected up"
done

e2e_wrk_check "the restart"
pass
