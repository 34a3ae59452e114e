#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_session_restart.sh - header sessions live in the pinned
# route_sessions map, not in the controller: 40 session keys are spread
# over b1..b3; the controller is killed with SIGKILL and started again with
# b4 added (a placement change that gives b4 about a quarter of all keys).
# Every key keeps its backend. Then the sessions idle out (idle_ttl 15s)
# and the same keys are placed afresh: some now go to b4, which shows that
# only the remembered sessions kept them home.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin session_restart
trap lab_down EXIT
e2e_lab_up 4
C=(ip netns exec lp-client)
N=40
IDLE_S=15

# get SRC [curl args]: the backend that answered a new connection.
get() {
	local src=$1
	shift
	"${C[@]}" curl -s --interface "$src" --max-time 10 "$@" "http://$LAB_VIP4/" | tr -d '\r\n'
}

write() { # <backends>
	lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity header --no-v6 \
		--backend-list "$1" \
		--affinity-yaml $'headers: [X-Session-Id]\nidle_ttl: '"${IDLE_S}s"
}

write "1 2 3"
e2e_start "$LAB_DIR/limpet.yaml"
declare -A home
for k in $(seq $N); do
	home[$k]=$(get "$(lab_client_addr $((k % 20 + 1)) 4)" -H "X-Session-Id: restart-$k")
	[ -n "${home[$k]}" ] || fail "key $k: no answer"
done
spread=$(printf '%s\n' "${home[@]}" | sort | uniq -c | tr '\n' ' ')

pid=$(lab_limpet_pid)
kill -KILL "$pid"
lab_wait 5 _lab_not_alive "$pid" || fail "controller survived kill -9"
write "1 2 3 4"
e2e_start "$LAB_DIR/limpet.yaml"
[ "$(lab_backend_field web b4 state)" = up ] || fail "b4 is not up after the restart"

for k in $(seq $N); do
	b=$(get "$(lab_client_addr $(((k + 7) % 20 + 1)) 4)" -H "X-Session-Id: restart-$k")
	[ "$b" = "${home[$k]}" ] ||
		fail "after kill -9 and a restart with b4, key $k went to $b, not ${home[$k]}"
done
e2e_cli_ok status --json
live=$("$LAB_PYTHON" -c 'import json,sys; print(sum(b["sessions"] for b in next(s for s in json.load(sys.stdin)["services"] if s["name"] == "web")["backends"]))' <<<"$E2E_OUT")
[ "$live" -ge "$N" ] || fail "status counts $live live header sessions after the restart (>= $N)"
note "$N header sessions ($spread) kept their backends across kill -9 and a restart adding b4"

# The control: once idle, the same keys are placed with b4 in the table.
sleep $((IDLE_S + 2))
moved=0
for k in $(seq $N); do
	b=$(get "$(lab_client_addr $((k % 20 + 1)) 4)" -H "X-Session-Id: restart-$k")
	[ "$b" = b4 ] && moved=$((moved + 1))
done
[ "$moved" -ge 1 ] || fail "idle keys placed afresh: none went to b4 (the change moved nothing)"
note "after idling out, $moved of $N keys went to b4: the sessions were what kept them"
pass
