#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_bad_health.sh - backends that never answer, and a second controller.
#  1. tcp checks (interval 500ms, timeout 300ms, fall 2): backend b9 at
#     10.20.0.99, an address in the backend subnet that nobody has -> b9
#     "down" with a timeout / unreachable reason (log and stats); b1-b3
#     stay up, fail no check, and serve every fresh client.
#  2. `reload` to http checks with backend "slow" at b1:8081, where a server
#     accepts connections and never answers -> "slow" down with "timeout";
#     b1-b3 stay up.
#  3. A second `limpet run` for the same instance (same socket, then another
#     socket) exits non-zero with a one-line message and disturbs nothing:
#     the first controller still runs, answers status, and traffic flows.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin bad_health
trap lab_down EXIT
e2e_lab_up 3
cfg=$LAB_DIR/limpet.yaml
hopts=(--no-v6 --health-interval 500ms --health-timeout 300ms --rise 2 --fall 2)
NOBODY=10.20.0.99

# write_config <lab_write_config options...>: the lab's b1-b3 plus b9 at
# $NOBODY (web is the only service: appended backends land in it).
write_config() {
	lab_write_config "$cfg" "${hopts[@]}" "$@"
	cat >>"$cfg" <<EOF
      - name: b9
        address: $NOBODY
        port: 80
        weight: 1
EOF
}

wait_state() { # BACKEND STATE MAX_S WHAT [SINCE]
	local t
	t=$(lab_wait_backend web "$1" "$2" "$3" "${5:-}" 2>"$E2E_TMP/wait.err") ||
		fail "$4: $(cat "$E2E_TMP/wait.err")"
	note "$4: $1 $2 after ${t}s"
}
field() { lab_backend_field web "$1" "$2" || fail "limpet ${2%%.*} --json failed"; }
healthy_trio() { # <when>
	local b
	for b in b1 b2 b3; do
		[ "$(field "$b" state)" = up ] || fail "$1: $b is '$(field "$b" state)', expected up"
		[ "$(field "$b" stats.health.failures)" = 0 ] ||
			fail "$1: $b failed $(field "$b" stats.health.failures) checks ($(field "$b" stats.health.last_error))"
	done
}

# ---- 1. tcp check of an address nobody has -----------------------------------
write_config --health tcp
e2e_start "$cfg"
log=$LAB_LIMPET_LOG
# fall 2 x (interval 500ms + timeout 300ms), plus slack.
wait_state b9 down 4 "tcp, nobody at $NOBODY"
err=$(field b9 stats.health.last_error)
echo "$err" | grep -Eqi 'timeout|timed out|unreachable' ||
	fail "stats: b9 last_error is '$err', expected a timeout or unreachable"
grep 'b9' "$log" | grep -i down | grep -Eqi 'timeout|timed out|unreachable' ||
	fail "the controller log has no line naming b9 down with a timeout/unreachable reason"
note "log: $(grep 'b9' "$log" | grep -i down | head -n 1)"
sleep 1
healthy_trio "tcp, with b9 down"
lab_sweep 4 1 30 1 >"$E2E_TMP/sweep.tcp"
e2e_check affinity "$E2E_TMP/sweep.tcp" --backends b1,b2,b3 --expect 30

# ---- 2. http check of a server that never answers ------------------------------
ip netns exec lp-b1 "$LAB_PYTHON" -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8081))
s.listen(128)
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # accept, read nothing, answer nothing
' >"$E2E_TMP/mute.log" 2>&1 &
# shellcheck disable=SC2317 # called through lab_wait
mute_listening() { ip netns exec lp-b1 ss -Htln 'sport = :8081' | grep -q .; }
lab_wait 5 mute_listening || fail "the mute server on b1:8081 did not start: $(cat "$E2E_TMP/mute.log")"
write_config --health http
cat >>"$cfg" <<EOF
      - name: slow
        address: $(lab_backend_addr 1)
        port: 8081
        weight: 1
EOF
e2e_cli_ok reload
# A TCP connect succeeds; the GET times out: fall 2 x (500ms + 300ms) + slack.
wait_state slow down 4 "http, server accepts and never answers"
err=$(field slow stats.health.last_error)
echo "$err" | grep -Eqi 'timeout|timed out' || fail "stats: slow's last_error is '$err', expected a timeout"
grep 'slow' "$log" | grep -i down | grep -Eqi 'timeout|timed out' ||
	fail "the controller log has no line naming slow down with a timeout"
note "log: $(grep 'slow' "$log" | grep -i down | head -n 1)"
wait_state b9 down 4 "http, nobody at $NOBODY"
sleep 1
healthy_trio "http, with slow and b9 down"
lab_sweep 4 31 60 1 >"$E2E_TMP/sweep.http"
e2e_check affinity "$E2E_TMP/sweep.http" --backends b1,b2,b3 --expect 30

# ---- 3. a second controller for the same instance ----------------------------
pid=$(lab_limpet_pid)
second_run() { # <what> <socket>
	local rc=0
	timeout 20 nsenter --net=/run/netns/lp-lb "$LIMPET" --socket "$2" run --config "$cfg" \
		>"$E2E_TMP/second.out" 2>"$E2E_TMP/second.err" </dev/null || rc=$?
	[ "$rc" -ne 124 ] || fail "$1: a second limpet run did not exit within 20 s (it should refuse)"
	[ "$rc" -ne 0 ] || fail "$1: a second limpet run for instance '$LAB_INSTANCE' exited 0"
	[ "$(grep -c . "$E2E_TMP/second.err")" -eq 1 ] ||
		fail "$1: expected a one-line message on stderr, got: $(tr '\n' '|' <"$E2E_TMP/second.err")"
	grep -qi 'already running' "$E2E_TMP/second.err" ||
		fail "$1: the message does not say another controller is already running: $(cat "$E2E_TMP/second.err")"
	note "$1: exit $rc: $(cat "$E2E_TMP/second.err")"
	_lab_limpet_alive "$pid" || fail "$1: the first controller died"
	e2e_cli_ok status
	lab_xdp_attached lb-cli || fail "$1: XDP program gone from lb-cli"
	lab_xdp_attached lb-srv || fail "$1: XDP program gone from lb-srv"
}
second_run "same socket" "$LAB_SOCKET"
second_run "another socket" "$LAB_DIR/other.sock"
[ ! -S "$LAB_DIR/other.sock" ] || fail "the refused second run left its socket $LAB_DIR/other.sock"
[ "$(field b1 state)" = up ] || fail "after the second runs, b1 is '$(field b1 state)'"
[ "$(field slow state)" = down ] || fail "after the second runs, slow is '$(field slow state)' (state lost?)"
lab_sweep 4 61 80 1 >"$E2E_TMP/sweep.after"
e2e_check affinity "$E2E_TMP/sweep.after" --backends b1,b2,b3 --expect 20
e2e_cli_ok reload
pass
