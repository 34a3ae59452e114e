#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_reload_load.sh - `limpet reload` under load breaks nothing. Two wrk
# run through the VIP for 25 s (affinity none, so their connections spread):
# 20 keep-alive connections and 20 "Connection: close" ones. Meanwhile the
# config file is rewritten and reloaded: b4 added, b1 removed (it drains:
# status shows it "draining", it gets no new flows, its keep-alive
# connections go on), b2 re-weighted to 3, and a reload that changes
# nothing. Neither wrk may report a socket error or a non-2xx response; b4
# must get new flows, b1 none after its removal.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin reload_load
trap lab_down EXIT
e2e_lab_up 4
cfg=$LAB_DIR/limpet.yaml
common=(--no-v6 --affinity none --drain-timeout 60s)
lab_write_config "$cfg" "${common[@]}" --backend-list "1 2 3"
e2e_start "$cfg"

DURATION=25
e2e_wrk_start "$DURATION"
t0=$SECONDS

# field BACKEND KEY: from status (state, flows, weight) or stats (stats.new_flows).
field() { lab_backend_field web "$1" "$2" || fail "limpet ${2%%.*} --json failed"; }
reload() { # <what> <lab_write_config options...>
	local what=$1
	shift
	sleep 3
	lab_write_config "$cfg" "${common[@]}" "$@"
	e2e_cli_ok reload
	note "reload: $what ($((SECONDS - t0)) s into the load)"
}

reload "add b4" --backend-list "1 2 3 4"
[ "$(field b4 state)" = up ] || fail "after reload adding b4, status shows b4 '$(field b4 state)'"
b4_new0=$(field b4 stats.new_flows)

reload "remove b1" --backend-list "2 3 4"
st=$(field b1 state)
[ "$st" = draining ] || fail "after reload removing b1 (with keep-alive connections on it), status shows b1 '$st', expected draining"
b1_new0=$(field b1 stats.new_flows)
b1_flows=$(field b1 flows)
note "b1 draining with $b1_flows flows"

reload "weight b2=3" --backend-list "2 3 4" --weight 2=3
[ "$(field b2 weight)" = 3 ] || fail "after reload with b2 weight 3, status shows weight $(field b2 weight)"
st=$(field b1 state)
[ "$st" = draining ] || fail "b1 is '$st' after a further reload, expected still draining"

reload "no change" --backend-list "2 3 4" --weight 2=3
sleep 2
b1_new1=$(field b1 stats.new_flows)
[ "$b1_new1" = "$b1_new0" ] ||
	fail "draining b1 got $((b1_new1 - b1_new0)) new flows after its removal"
b4_new1=$(field b4 stats.new_flows)
[ "$b4_new1" -gt "$b4_new0" ] || fail "b4 got no new flows since it was added ($b4_new0 -> $b4_new1)"
note "b4: $((b4_new1 - b4_new0)) new flows since the checks began; status flows $(field b4 flows)"

_lab_not_alive "$E2E_WRK_KA" && fail "wrk (keep-alive) ended before the reloads were done"
e2e_wrk_check "the reloads"

# wrk closed its connections: b1 has no flows left. Whether it is removed
# before its drain timeout (60 s) is not specified; say what happened.
if t=$(lab_wait_backend web b1 absent 3 2>/dev/null); then
	note "b1 removed ${t}s after the load ended"
else
	note "b1 still '$(field b1 state)' with $(field b1 flows) flows 3 s after the load ended (removed at its drain timeout)"
fi
pass
