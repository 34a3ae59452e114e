#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_demo.sh - `make demo` (scripts/demo.sh) runs to the end in under a
# minute and its result lines ("   => ...") say what the README promises:
# L4 client-IP affinity (one client's 5 requests on one backend), then the
# HTTP cookie service: a Set-Cookie on the first response, 5 of 5 requests
# from other addresses on the cookie's backend, 100 sessions over 3
# backends, b4 added moving 10-45 sessions all to b4 and none between old
# backends, b1 stopped with all its sessions served elsewhere and the
# cookies kept, and all of them home again once b1 is back.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin demo
trap lab_down EXIT
out=$E2E_DIR/../../build/demo.out
mkdir -p "$(dirname "$out")"
rc=0
bash "$E2E_DIR/../../scripts/demo.sh" >"$out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "demo exited $rc: $(tail -n 3 "$out" | tr '\n' '|')"
# Its own clock, from the start to the last result (the teardown aside).
took=$(sed -n 's/^== Done in \([0-9]*\) s; tearing the lab down\.$/\1/p' "$out")
[ -n "$took" ] || fail "demo printed no 'Done in N s' line"
[ "$took" -lt 60 ] || fail "demo took ${took}s (the README says under a minute)"

expect() { # <what> <extended regex>: a line of the demo's output must match
	grep -qE -- "$2" "$out" || fail "demo output has no $1 (/$2/); see $out"
}
# The L4 part: the one client's five requests went to one backend.
n=$(grep -E '^   request [1-5] -> b[0-9]$' "$out" | awk '{ print $4 }' | sort -u | wc -l)
[ "$n" = 1 ] || fail "the L4 client's 5 requests reached $n backends"
expect "Set-Cookie line" '^   Set-Cookie: limpet=[A-Za-z0-9_-]+; Path=/'
expect "issued cookie" '^   => Set-Cookie issued, first response from b[123]$'
expect "sticky client" '^   => 5 of 5 requests on b[123], the backend in its cookie$'
expect "spread" '^   => 100 sessions spread over 3 backends$'
line=$(grep -E '^   => [0-9]+ of 100 sessions moved' "$out") || fail "no scale-up result line"
re='^   => ([0-9]+) of 100 sessions moved .*: ([0-9]+) to b4, 0 between old backends$'
[[ $line =~ $re ]] ||
	fail "scale-up: '$line'"
moved=${BASH_REMATCH[1]}
[ "$moved" = "${BASH_REMATCH[2]}" ] && [ "$moved" -ge 10 ] && [ "$moved" -le 45 ] ||
	fail "scale-up moved $moved sessions (about 25 expected, all to b4): '$line'"
line=$(grep -E '^   => b1 down: ' "$out") || fail "no failover result line"
re='^   => b1 down: ([0-9]+) of its ([0-9]+) sessions served by b2-b4, cookies kept$'
[[ $line =~ $re ]] &&
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[2]}" -gt 0 ] ||
	fail "failover: '$line'"
line=$(grep -E '^   => b1 up: ' "$out") || fail "no coming-home result line"
re='^   => b1 up: ([0-9]+) of its ([0-9]+) sessions back home on b1$'
[[ $line =~ $re ]] &&
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || fail "coming home: '$line'"
note "demo in ${took}s: $moved of 100 sessions moved to b4; b1's sessions went and came back"
pass
