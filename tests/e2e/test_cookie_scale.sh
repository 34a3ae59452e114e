#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cookie_scale.sh - cookie sessions when backends come and go (the
# Heroku router's numbers):
#   - policy rebalance, 4 -> 5 backends: about 1/5 of the sessions move,
#     every one of them to the new backend, none between old backends;
#   - 5 -> 4 (one removed): only its sessions move, spread over the rest;
#   - policy pin, 4 -> 5: no session moves.
# 200 sessions, each request on a new connection with its curl cookie jar.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin cookie_scale
trap lab_down EXIT
e2e_lab_up 5
C=(ip netns exec lp-client)
T=$E2E_TMP
N=200

# Where each session is now: "<session> <backend>" lines into <file>.
where() {
	local s
	for s in $(seq $N); do
		echo "$s $("${C[@]}" curl -s --interface "$(lab_client_addr $(((s % 20) + 1)) 4)" \
			--max-time 10 -b "$T/s$s.jar" -c "$T/s$s.jar" "http://$LAB_VIP4/" | tr -d '\r\n')"
	done >"$1"
}

# compare BEFORE AFTER: "<moved> <moved to> <per-backend losses>" facts, checked
# by the caller.
cat >"$T/compare.py" <<'EOF'
import collections, json, sys
a = dict(l.split() for l in open(sys.argv[1]))
b = dict(l.split() for l in open(sys.argv[2]))
moved = {s: (a[s], b[s]) for s in a if a[s] != b[s]}
print(json.dumps({"moved": len(moved),
                  "to": collections.Counter(t for _, t in moved.values()),
                  "from": collections.Counter(f for f, _ in moved.values()),
                  "before": collections.Counter(a.values()),
                  "after": collections.Counter(b.values())}))
EOF
facts() { "$LAB_PYTHON" "$T/compare.py" "$1" "$2"; }
jq_py() { "$LAB_PYTHON" -c "import json,sys; f=json.loads(sys.argv[1]); print($2)" "$1"; }

lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --backend-list "1 2 3 4" \
	--no-v6 --affinity-yaml 'policy: rebalance'
e2e_start "$LAB_DIR/limpet.yaml"

rm -f "$T"/s*.jar
where "$T/r0"	# the first request of each session: the cookie is issued
where "$T/r1"
f=$(facts "$T/r0" "$T/r1")
[ "$(jq_py "$f" 'f["moved"]')" = 0 ] || fail "rebalance: sessions moved with no change: $f"
[ "$(jq_py "$f" 'len(f["after"])')" = 4 ] || fail "rebalance: not on all 4 backends: $f"

# 4 -> 5.
e2e_cli_ok backend add web b5 "$(lab_backend_addr 5 4)"
where "$T/r2"
f=$(facts "$T/r1" "$T/r2")
note "rebalance 4 -> 5: $f"
moved=$(jq_py "$f" 'f["moved"]')
[ "$moved" -ge 22 ] && [ "$moved" -le 60 ] || fail "4 -> 5 moved $moved of $N sessions (expected ~40): $f"
[ "$(jq_py "$f" 'list(f["to"])')" = "['b5']" ] || fail "4 -> 5: sessions moved between old backends: $f"
# Each old backend gives up about a fifth of what it held. The first
# request of a session is placed by client address (20 of them, 10
# sessions each), so "before" comes in tens and can be 30/70/60/40: the
# bound is per backend, its share plus four standard deviations
# (Binomial(n, 1/5)), which taking b5's sessions from fewer backends fails.
[ "$(jq_py "$f" 'all(m <= 0.2 * f["before"][b] + 4 * (0.16 * f["before"][b]) ** 0.5 + 1
	for b, m in f["from"].items())')" = True ] || fail "4 -> 5: uneven: $f"
where "$T/r3"
[ "$(jq_py "$(facts "$T/r2" "$T/r3")" 'f["moved"]')" = 0 ] || fail "4 -> 5: sessions did not settle"

# 5 -> 4: b1 goes.
e2e_cli_ok backend remove web b1
where "$T/r4"
f=$(facts "$T/r3" "$T/r4")
note "rebalance 5 -> 4 (b1 removed): $f"
[ "$(jq_py "$f" 'list(f["from"])')" = "['b1']" ] || fail "5 -> 4: sessions of others moved: $f"
[ "$(jq_py "$f" 'f["moved"] == f["before"]["b1"]')" = True ] || fail "5 -> 4: b1's sessions stayed: $f"
# Spread, not evenness: b1 held ~25 sessions, and one of four backends
# getting a single one of them happens in ~3% of runs (the placement is
# keyed by a fresh random key); every one getting some fails ~0.3%.
[ "$(jq_py "$f" 'len(f["to"]) == 4 and min(f["to"].values()) >= 1')" = True ] ||
	fail "5 -> 4: b1's sessions not spread over the rest: $f"

# Policy pin: a new backend takes no session. (A reload would leave b5
# draining: it is not in the file.)
e2e_cli_ok backend remove web b5
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --backend-list "1 2 3 4" \
	--no-v6 --affinity-yaml 'policy: pin'
e2e_cli_ok reload
rm -f "$T"/s*.jar
where "$T/p0"
where "$T/p1"
[ "$(jq_py "$(facts "$T/p0" "$T/p1")" 'f["moved"]')" = 0 ] || fail "pin: sessions moved with no change"
e2e_cli_ok backend add web b5 "$(lab_backend_addr 5 4)"
where "$T/p2"
f=$(facts "$T/p1" "$T/p2")
note "pin 4 -> 5: $f"
[ "$(jq_py "$f" 'f["moved"]')" = 0 ] || fail "pin: sessions moved on scale-up: $f"
pass
