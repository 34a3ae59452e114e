#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_all_down.sh - when every backend of a service fails its health
# checks, the service is not black-holed: limpet routes to all of them
# (panic routing) and says so in its log. Here the checks (GET /health) fail
# on all three backends while they still serve /; 30 fresh clients must all
# be answered. When one backend recovers, new clients go to it alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin all_down
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --no-v6 --health http --health-path /health \
	--health-interval 300ms --health-timeout 200ms --rise 1 --fall 1
e2e_start "$LAB_DIR/limpet.yaml"

for k in 1 2 3; do lab_backend_unhealthy "$k"; done
for b in b1 b2 b3; do
	lab_wait_backend web "$b" down 3 >/dev/null 2>&1 ||
		fail "$b is '$(lab_backend_field web "$b" state)' 3 s after its /health began to fail"
done
lab_sweep 4 1 30 1 >"$E2E_TMP/sweep.panic"
e2e_check affinity "$E2E_TMP/sweep.panic" --backends b1,b2,b3 --expect 30
grep -q "every backend is down" "$LAB_LIMPET_LOG" ||
	fail "the controller log does not say it routes to all backends"

lab_backend_healthy 2
lab_wait_backend web b2 up 3 >/dev/null 2>&1 || fail "b2 not up 3 s after its /health recovered"
lab_sweep 4 31 60 1 >"$E2E_TMP/sweep.one"
e2e_check affinity "$E2E_TMP/sweep.one" --backends b2 --expect 30
pass
