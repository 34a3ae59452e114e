#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_drain_deadline.sh - a drain ends at its deadline. A slow download is
# served by backend X; `backend drain web X --timeout 4s`: while the drain
# lasts, status shows X "draining" with the download's flow and the
# download keeps receiving bytes; when the deadline passes X is removed
# from status and the connection it still held is ended (the client sees
# it reset), not left hanging.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin drain_deadline
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --no-v6
e2e_start "$LAB_DIR/limpet.yaml"

client=$(lab_client_addr 1)
dl=$E2E_TMP/big
# 64 MiB at 2 MiB/s: far longer than the drain.
e2e_download_start "$client" "$dl" 2m
x=$(e2e_backend_of_conn "$client")
[ -n "$x" ] || fail "the download from $client did not reach any backend"
note "download from $client served by $x"

e2e_cli_ok backend drain web "$x" --timeout 4s
t0=$SECONDS
[ "$(lab_backend_field web "$x" state)" = draining ] ||
	fail "$x is '$(lab_backend_field web "$x" state)' after drain, expected draining"
flows=$(lab_backend_field web "$x" flows)
[ "$flows" -ge 1 ] 2>/dev/null || fail "status shows $flows flows on draining $x, expected the download's"
size1=$(stat -c %s "$dl" 2>/dev/null || echo 0)
sleep 2
size2=$(stat -c %s "$dl" 2>/dev/null || echo 0)
[ "$size2" -gt "$size1" ] || fail "the download stalled during the drain ($size1 -> $size2 bytes)"
_lab_not_alive "$E2E_DL_PID" && fail "the download ended during the drain"

# The deadline (4 s) plus the controller's 1 s tick and some slack.
# shellcheck disable=SC2317 # called through lab_wait
gone() { [ "$(lab_backend_field web "$x" state)" = absent ]; }
for y in b1 b2 b3; do [ "$y" = "$x" ] || break; done
[ "$(lab_backend_field web "$y" state)" = up ] || fail "status --json does not show $y up"
lab_wait 6 gone || fail "$x still in status $((SECONDS - t0)) s after a 4 s drain began"
note "$x removed $((SECONDS - t0)) s after the drain began"
lab_wait 10 _lab_not_alive "$E2E_DL_PID" ||
	fail "the download through removed $x still runs $((SECONDS - t0)) s after the drain began"
rc=0
wait "$E2E_DL_PID" || rc=$?
[ "$rc" -ne 0 ] || fail "the download completed although its backend was removed mid-way"
note "the download ended with curl exit $rc after $(stat -c %s "$dl") bytes"
pass
