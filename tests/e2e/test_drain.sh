#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_drain.sh - draining: a long download pinned to backend X keeps going
# after `backend drain web X` and finishes intact; status shows X
# "draining"; new clients never reach X. After `undrain`, X gets new
# clients again. Fresh client addresses are used for each phase so that
# client-IP sessions made earlier cannot decide the outcome.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin drain
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml"
e2e_start "$LAB_DIR/limpet.yaml"

client=$(lab_client_addr 1)
dl=$E2E_TMP/big
e2e_download_start "$client" "$dl" 8m
x=$(e2e_backend_of_conn "$client")
[ -n "$x" ] || fail "the download from $client did not reach any backend"
note "download from $client served by $x"

e2e_cli_ok backend drain web "$x"
e2e_status_json "$E2E_TMP/status"
state=$(e2e_backend_field "$E2E_TMP/status" web "$x" state)
[ "$state" = draining ] || fail "status shows $x as '$state' after drain, expected draining"

lab_sweep 4 2 51 1 >"$E2E_TMP/sweep.drain"
e2e_check affinity "$E2E_TMP/sweep.drain" --backends b1,b2,b3 --expect 50 --avoid "$x"

_lab_not_alive "$E2E_DL_PID" && note "warning: download finished before the drain checks ended"
e2e_download_check "$E2E_DL_PID" "$dl" 60

e2e_cli_ok backend undrain web "$x"
e2e_status_json "$E2E_TMP/status"
state=$(e2e_backend_field "$E2E_TMP/status" web "$x" state)
[ "$state" = up ] || fail "status shows $x as '$state' after undrain, expected up"
lab_sweep 4 101 200 1 >"$E2E_TMP/sweep.undrain"
e2e_check affinity "$E2E_TMP/sweep.undrain" --backends b1,b2,b3 --expect 100 --reach "$x"
pass
