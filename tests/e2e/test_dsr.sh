#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_dsr.sh - forwarding: dsr. The backends own the VIP on lo and answer
# the client directly (through their gateway, not through limpet's
# translation). Client-IP affinity holds for IPv4 and IPv6, and the
# backends' access logs show the client's own address as the source and the
# VIP (not the backend's address, as NAT would give) as the destination.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin dsr
trap lab_down EXIT
e2e_lab_up 3
lab_write_config "$LAB_DIR/limpet.yaml" --forwarding dsr
e2e_start "$LAB_DIR/limpet.yaml"

# The lab's self-test left entries in the logs: start from empty ones.
for k in 1 2 3; do : >"$LAB_DIR/b$k/access.log"; done

# The balancer starts with an empty neighbour table (lab_up flushes it), as
# after a boot, and the health checks are off: the first connection must not
# depend on some other traffic having resolved the backends' MAC addresses.
first=$(lab_client_addr 200)
if ! body=$(lab_curl "$first"); then
	fail "first DSR connection ($first, cold neighbour table on the balancer) failed; limpet stats: $(lab_cli stats 2>/dev/null | grep -E 'drop_no_route|fib_pass' | tr -s ' ' | tr '\n' ' ')"
fi
note "first connection with a cold neighbour table: $body"
: >"$LAB_DIR/b${body#b}/access.log"

lab_sweep 4 1 30 3 >"$E2E_TMP/sweep4"
e2e_check affinity "$E2E_TMP/sweep4" --backends b1,b2,b3 --expect 30 --need-all --max-share 0.7
lab_sweep 6 1 20 2 >"$E2E_TMP/sweep6"
e2e_check affinity "$E2E_TMP/sweep6" --backends b1,b2,b3 --expect 20 --max-share 0.8
e2e_check access-logs "$LAB_DIR"/b[123]/access.log --vip4 "$LAB_VIP4" --vip6 "$LAB_VIP6" --min 130
pass
