#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_netns_exec.sh - the controller started with `ip netns exec`, which
# runs it in a private mount namespace whose /sys hides the BPF filesystem.
# Its pins must still land in the real /sys/fs/bpf, so that a kill -9 and a
# restart (again through ip netns exec) adopt the flows: a download running
# all the while completes with the right sha256. `limpet down` through ip
# netns exec removes the programs and the pins.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin netns_exec
trap lab_down EXIT
export LAB_LAUNCH=ip-netns-exec
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml"
e2e_start "$LAB_DIR/limpet.yaml"
[ -e "$LAB_PIN_DIR/flows" ] || fail "no pinned flow table in $LAB_PIN_DIR after ip netns exec limpet run"

client=$(lab_client_addr 1)
dl=$E2E_TMP/big
e2e_download_start "$client" "$dl" 8m
sleep 2
_lab_not_alive "$E2E_DL_PID" && fail "download ended before the controller was killed (too fast?)"
pid=$(lab_limpet_pid)
kill -KILL "$pid"
lab_wait 5 _lab_not_alive "$pid" || fail "controller survived kill -9"
[ -e "$LAB_PIN_DIR/flows" ] || fail "the pins vanished with the controller"
sleep 1
e2e_start "$LAB_DIR/limpet.yaml"
note "controller restarted through ip netns exec"
e2e_download_check "$E2E_DL_PID" "$dl" 60

lab_limpet_stop TERM || true
ip netns exec lp-lb "$LIMPET" down --config "$LAB_DIR/limpet.yaml" ||
	fail "ip netns exec limpet down exited non-zero"
lab_xdp_attached lb-cli && fail "XDP still attached to lb-cli after limpet down"
[ -e "$LAB_PIN_DIR" ] && fail "$LAB_PIN_DIR still there after limpet down"
pass
