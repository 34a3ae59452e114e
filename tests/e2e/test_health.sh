#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_health.sh - health checks take failed backends out and bring them back.
#  1. tcp checks (interval 500ms, timeout 300ms, fall 2, rise 2, failover
#     temporary): b2's nginx stopped -> b2 "down" within 3 s, the log names
#     the reason (connection refused), `stats` shows the failing checks, 60
#     fresh clients all succeed and never reach b2; nginx started again -> b2
#     "up" within 3 s and fresh clients reach it again. In between, a reload
#     that only changes the check settings leaves b2 down.
#  2. `reload` to http checks (GET /health, expect 200): b3's /health answers
#     503 -> b3 "down" although its port 80 still accepts connections (and
#     serves /), the log names "503"; /health healthy again -> b3 "up".
#  3. `reload` to failover none: b3's nginx stopped -> b3 "down", but it
#     keeps its share of the ring: the clients it had before now fail, every
#     other client stays on its backend.
# Fresh client addresses are used for each phase so that earlier client-IP
# sessions cannot decide the outcome.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin health
trap lab_down EXIT
e2e_lab_up 3
cfg=$LAB_DIR/limpet.yaml
hopts=(--no-v6 --health-interval 500ms --health-timeout 300ms --rise 2 --fall 2)
lab_write_config "$cfg" "${hopts[@]}" --health tcp --failover temporary
e2e_start "$cfg"
log=$LAB_LIMPET_LOG

# wait_state BACKEND STATE MAX_S WHAT [SINCE]: fail unless it gets there
# within MAX_S seconds of SINCE (lab_now_us; default now).
wait_state() { # BACKEND STATE MAX_S WHAT [SINCE]
	local t
	t=$(lab_wait_backend web "$1" "$2" "$3" "${5:-}" 2>"$E2E_TMP/wait.err") ||
		fail "$4: $(cat "$E2E_TMP/wait.err")"
	note "$4: $1 $2 after ${t}s"
}

# field BACKEND KEY: from status (state...) or stats (stats.health.up...).
field() { lab_backend_field web "$1" "$2" || fail "limpet ${2%%.*} --json failed"; }

# stats_is BACKEND KEY OP VALUE: test a field of `limpet stats --json`
# (OP: = or -ge).
# shellcheck disable=SC2317 # called through lab_wait
stats_is() {
	local v
	v=$(lab_backend_field web "$1" "stats.$2" 2>/dev/null) || return 1
	case $3 in
	=) [ "$v" = "$4" ] ;;
	-ge) [ "$v" -ge "$4" ] 2>/dev/null ;;
	esac
}

# Checks are running: every backend up, with checks counted in `stats`.
for b in b1 b2 b3; do
	[ "$(field "$b" state)" = up ] || fail "$b is '$(field "$b" state)' at start, expected up"
done
lab_wait 3 stats_is b1 health.checks -ge 2 ||
	fail "stats shows $(field b1 stats.health.checks) health checks of b1 after 3 s (interval 500ms)"
for k in state active_flows sessions health.type health.up health.checks health.failures \
	health.last_latency_ms health.last_error; do
	[ "$(field b1 "stats.$k")" != absent ] || fail "limpet stats --json: backend b1 has no '$k'"
done
[ "$(field b1 stats.health.type)" = tcp ] || fail "stats: b1 health.type is '$(field b1 stats.health.type)', expected tcp"
[ "$(field b1 stats.health.up)" = true ] || fail "stats: b1 health.up is $(field b1 stats.health.up) at start"

# ---- 1. tcp checks ----------------------------------------------------------
t0=$(lab_now_us)
lab_nginx_stop 2 || fail "could not stop b2's nginx"
# fall 2 x interval 500ms + timeout 300ms = 1.3 s, plus slack.
wait_state b2 down 3 "tcp, b2's nginx stopped" "$t0"
[ "$(field b2 stats.health.up)" = false ] || fail "status shows b2 down but stats health.up is $(field b2 stats.health.up)"
fails=$(field b2 stats.health.failures)
[ "$fails" -ge 2 ] 2>/dev/null || fail "b2 down after $fails failed checks (fall 2)"
err=$(field b2 stats.health.last_error)
echo "$err" | grep -qi refused || fail "stats: b2 last_error is '$err', expected connection refused"
grep -i 'b2' "$log" | grep -i down | grep -qi 'refused' ||
	fail "the controller log has no line naming b2 down with the reason (connection refused)"
note "log: $(grep -i 'b2' "$log" | grep -i down | grep -i refused | head -n 1)"

lab_sweep 4 1 60 1 >"$E2E_TMP/sweep.down"
e2e_check affinity "$E2E_TMP/sweep.down" --backends b1,b2,b3 --expect 60 --avoid b2

# A reload that only changes the check settings must not put b2 back.
lab_write_config "$cfg" --no-v6 --health-interval 500ms --health-timeout 250ms --rise 2 \
	--fall 2 --health tcp --failover temporary
e2e_cli_ok reload
[ "$(field b2 state)" = down ] || fail "a reload with new check settings put down b2 back in service"
lab_sweep 4 131 140 1 >"$E2E_TMP/sweep.reload"
e2e_check affinity "$E2E_TMP/sweep.reload" --backends b1,b2,b3 --expect 10 --avoid b2

t0=$(lab_now_us)
lab_nginx_start 2 || fail "could not start b2's nginx again"
# rise 2 x interval 500ms, plus slack.
wait_state b2 up 3 "tcp, b2's nginx started" "$t0"
lab_sweep 4 61 100 1 >"$E2E_TMP/sweep.up"
e2e_check affinity "$E2E_TMP/sweep.up" --backends b1,b2,b3 --expect 40 --reach b2

# ---- 2. http checks ---------------------------------------------------------
lab_write_config "$cfg" "${hopts[@]}" --health http --health-path /health --expect 200 \
	--failover temporary
e2e_cli_ok reload
lab_wait 3 stats_is b3 health.type = http ||
	fail "after reload to http checks, stats shows b3 health.type '$(field b3 stats.health.type)'"
for b in b1 b2 b3; do wait_state "$b" up 3 "http checks, all healthy"; done
t0=$(lab_now_us)
lab_backend_unhealthy 3
wait_state b3 down 3 "http, b3's /health answers 503" "$t0"
body=$(ip netns exec lp-lb curl -s --max-time 2 "http://$(lab_backend_addr 3)/") || true
[ "$body" = b3 ] || fail "b3's nginx does not answer / directly any more (got '$body'); the test needs it up"
err=$(field b3 stats.health.last_error)
echo "$err" | grep -q 503 || fail "stats: b3 last_error is '$err', expected to name HTTP status 503"
grep -i 'b3' "$log" | grep -i down | grep -q 503 ||
	fail "the controller log has no line naming b3 down with the reason (HTTP status 503)"
note "log: $(grep -i 'b3' "$log" | grep -i down | grep 503 | head -n 1)"
lab_sweep 4 101 130 1 >"$E2E_TMP/sweep.http"
e2e_check affinity "$E2E_TMP/sweep.http" --backends b1,b2,b3 --expect 30 --avoid b3
t0=$(lab_now_us)
lab_backend_healthy 3
wait_state b3 up 3 "http, b3's /health healthy again" "$t0"

# ---- 3. failover none -------------------------------------------------------
lab_write_config "$cfg" "${hopts[@]}" --health http --failover none
e2e_cli_ok reload
for b in b1 b2 b3; do wait_state "$b" up 3 "failover none, all healthy"; done
lab_sweep 4 141 200 1 >"$E2E_TMP/sweep.none.before"
e2e_check affinity "$E2E_TMP/sweep.none.before" --backends b1,b2,b3 --expect 60 --need-all \
	--map-out "$E2E_TMP/map.before"
t0=$(lab_now_us)
lab_nginx_stop 3 || fail "could not stop b3's nginx"
wait_state b3 down 3 "failover none, b3's nginx stopped" "$t0"
lab_sweep 4 141 200 1 / 1000 >"$E2E_TMP/sweep.none.after"
# b3's clients must fail (they still go to b3), the others stay where they were.
out=$("$LAB_PYTHON" - "$E2E_TMP/map.before" "$E2E_TMP/sweep.none.after" <<'EOF'
import sys
before = dict(l.split() for l in open(sys.argv[1]) if l.strip())
on_b3, bad = 0, []
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split(" ", 4)
    if len(f) < 4:
        continue
    addr, rc, code, body = f[:4]
    ok = rc == "0" and code == "200"
    was = before.get(addr)
    if was == "b3":
        on_b3 += 1
        if ok:
            bad.append(f"{addr} was on b3 and now got {body} (b3 left the ring)")
    elif not ok:
        bad.append(f"{addr} was on {was} and now failed: curl exit {rc}, HTTP {code}")
    elif body != was + "\\n":
        bad.append(f"{addr} moved from {was} to {body}")
if bad:
    print(f"{len(bad)} clients misbehaved with failover none, first: {bad[0]}")
    sys.exit(1)
print(f"failover none: {on_b3} clients of b3 failed, {len(before) - on_b3} others stayed put")
EOF
) || fail "$out"
note "$out"
[ "$(field b3 state)" = down ] || fail "b3 is '$(field b3 state)' after the sweep, expected down"

# Recoveries are state changes too: logged (at the default log level).
for b in b2 b3; do
	grep "/$b " "$log" | grep -qiw up || fail "the controller log has no line saying $b is up again"
done
note "log: $(grep "/b2 " "$log" | grep -iw up | head -n 1)"
pass
