#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_affinity.sh - client-IP affinity through the IPv4 VIP: 100 client
# addresses x 5 new connections each; every address always reaches the same
# backend, the response is exactly a backend name, all 3 backends get
# clients and none more than 60% of them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin affinity
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml"
e2e_start "$LAB_DIR/limpet.yaml"

lab_sweep 4 1 100 5 >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect 100 --need-all --max-share 0.6
pass
