#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_ipv6.sh - client-IP affinity through the IPv6 VIP [fd00:100::100]:
# 30 IPv6 client addresses x 3 new connections, same checks as
# test_affinity.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin ipv6
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml"
e2e_start "$LAB_DIR/limpet.yaml"

lab_sweep 6 1 30 3 >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect 30 --need-all --max-share 0.6
pass
