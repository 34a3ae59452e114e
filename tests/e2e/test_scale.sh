#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_scale.sh - run-time scale-up and scale-down keep affinity minimal:
# adding a 4th backend moves about 1/4 of 200 client addresses, all of them to
# the new backend; removing b2 moves only b2's addresses, spread over the
# rest. Invalid `backend add` calls fail with one line on stderr and change
# nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin scale
trap lab_down EXIT
e2e_lab_up 4
lab_write_config "$LAB_DIR/limpet.yaml" --backends 3
e2e_start "$LAB_DIR/limpet.yaml"

lab_sweep 4 1 200 1 >"$E2E_TMP/sweep0"
e2e_check affinity "$E2E_TMP/sweep0" --backends b1,b2,b3 --expect 200 --need-all \
	--map-out "$E2E_TMP/map0"

# Scale up.
e2e_cli_ok backend add web b4 10.20.0.14
e2e_status_json "$E2E_TMP/status"
[ "$(e2e_backend_field "$E2E_TMP/status" web b4 state)" = up ] ||
	fail "after backend add, status shows b4 as $(e2e_backend_field "$E2E_TMP/status" web b4 state)"
lab_sweep 4 1 200 1 >"$E2E_TMP/sweep1"
e2e_check affinity "$E2E_TMP/sweep1" --backends b1,b2,b3,b4 --expect 200 --reach b4 \
	--map-out "$E2E_TMP/map1"
e2e_check scale-add "$E2E_TMP/map0" "$E2E_TMP/map1" --new b4 --expect 0.25

# Scale down.
e2e_cli_ok backend remove web b2
e2e_status_json "$E2E_TMP/status"
[ "$(e2e_backend_field "$E2E_TMP/status" web b2 state)" = absent ] ||
	fail "after backend remove, status still lists b2"
lab_sweep 4 1 200 1 >"$E2E_TMP/sweep2"
e2e_check affinity "$E2E_TMP/sweep2" --backends b1,b3,b4 --expect 200 --map-out "$E2E_TMP/map2"
e2e_check scale-remove "$E2E_TMP/map1" "$E2E_TMP/map2" --removed b2 --min-spread 2

# Invalid requests: non-zero exit, one line on stderr, nothing changes.
e2e_status_json "$E2E_TMP/status.before"
bad() {
	local what=$1 lines
	shift
	e2e_cli "$@"
	[ "$E2E_RC" -ne 0 ] || fail "limpet $* ($what) exited 0"
	lines=$(printf '%s\n' "$E2E_ERR" | grep -c .) || true
	[ "$lines" -eq 1 ] ||
		fail "limpet $* ($what): expected one line on stderr, got $lines: $(echo "$E2E_ERR" | tr '\n' '|')"
	note "$what: exit $E2E_RC: $E2E_ERR"
}
bad "duplicate name" backend add web b3 10.20.0.99
bad "unknown service" backend add nosuch b9 10.20.0.19
bad "invalid address" backend add web b9 10.20.0.300
bad "negative weight" backend add web b9 10.20.0.19 --weight -1
bad "same address and port as b1" backend add web b9 10.20.0.11
bad "unknown backend" backend remove web b9
bad "unknown backend" backend weight web b9 2
e2e_status_json "$E2E_TMP/status.after"
e2e_check same-status "$E2E_TMP/status.before" "$E2E_TMP/status.after"
pass
