#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_longflow.sh - a long connection survives every kind of change: while a
# rate-limited download of /big (64 MiB at 5 MiB/s) runs through the VIP,
# add a backend, remove another one than the download's, change weights,
# kill -9 the controller (new connections must still be balanced while it is
# dead) and start it again with the same config. The download must complete
# with the right sha256.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin longflow
trap lab_down EXIT
e2e_lab_up 4
lab_write_config "$LAB_DIR/limpet.yaml" --backends 3
e2e_start "$LAB_DIR/limpet.yaml"

client=$(lab_client_addr 1)
dl=$E2E_TMP/big
e2e_download_start "$client" "$dl" 5m
x=$(e2e_backend_of_conn "$client")
[ -n "$x" ] || fail "the download from $client did not reach any backend"
note "download from $client served by $x"

e2e_cli_ok backend add web b4 10.20.0.14
for y in b1 b2 b3; do [ "$y" = "$x" ] || break; done
e2e_cli_ok backend remove web "$y"
e2e_cli_ok backend weight web "$x" 3
e2e_cli_ok backend weight web b4 2
note "added b4, removed $y, weights $x=3 b4=2"

_lab_not_alive "$E2E_DL_PID" && fail "download ended before the controller was killed (too fast?)"
pid=$(lab_limpet_pid)
kill -KILL "$pid"
lab_wait 5 _lab_not_alive "$pid" || fail "controller survived kill -9"
sleep 2
lab_xdp_attached lb-cli || fail "XDP program gone from lb-cli after the controller died"

# The data plane keeps balancing with the controller dead.
lab_sweep 4 101 120 1 >"$E2E_TMP/sweep.dead"
e2e_check affinity "$E2E_TMP/sweep.dead" --backends b1,b2,b3,b4 --expect 20 --avoid "$y"

_lab_not_alive "$E2E_DL_PID" && fail "download ended before the controller restarted (too fast?)"
e2e_start "$LAB_DIR/limpet.yaml"
note "controller restarted"
lab_sweep 4 121 130 1 >"$E2E_TMP/sweep.after"
e2e_check affinity "$E2E_TMP/sweep.after" --backends b1,b2,b3,b4 --expect 10

e2e_download_check "$E2E_DL_PID" "$dl" 90
pass
