#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_dashboard.sh - packaging/grafana-dashboard.json asks only for what
# /metrics exports. A controller with an HTTP cookie service (so the HTTP
# families have samples) and metrics on 127.0.0.1:9100 serves a few
# requests; then every metric name in the dashboard's queries (panel
# targets and template variables) must be a family of the scrape with at
# least one sample, and every outcome=~"..." selector must match an outcome
# the scrape has.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin dashboard
trap lab_down EXIT
e2e_lab_up 2
dash=$E2E_DIR/../../packaging/grafana-dashboard.json
[ -f "$dash" ] || fail "$dash missing"
cfg=$LAB_DIR/limpet.yaml
LISTEN=127.0.0.1:9100
lab_write_config "$cfg" --metrics "$LISTEN" --mode http --affinity cookie --no-v6 --health tcp
e2e_start "$cfg"
lab_wait_backend web b1 up 10 >/dev/null || fail "b1 not up"
for k in 1 2 3 4 5 6; do lab_curl "$(lab_client_addr "$k")" >/dev/null || true; done
sleep 1
ip netns exec lp-lb curl -s --max-time 5 -o "$E2E_TMP/metrics" "http://$LISTEN/metrics" ||
	fail "cannot scrape http://$LISTEN/metrics"

out=$("$LAB_PYTHON" - "$dash" "$E2E_TMP/metrics" <<'PY'
import json, re, sys

dash = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
with_samples = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
outcomes = set(re.findall(r'^limpet_packets_total\{outcome="([^"]+)"\}', text, re.M))

queries = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "query") and isinstance(v, str):
                queries.append(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
names = set()
for q in queries:
    names |= set(re.findall(r"\blimpet_[a-z0-9_]+\b", q))
    for rx in re.findall(r'outcome=~"([^"]+)"', q):
        if not any(re.fullmatch(rx, o) for o in outcomes):
            print(f"selector outcome=~\"{rx}\" matches no exported outcome")
            sys.exit(1)
if len(names) < 15:
    print(f"only {len(names)} metrics found in the dashboard's queries")
    sys.exit(1)
missing = sorted(n for n in names if n not in families)
empty = sorted(n for n in names if n in families and n not in with_samples)
if missing:
    print("the dashboard queries metrics /metrics does not export: " + ", ".join(missing))
    sys.exit(1)
if empty:
    print("the dashboard queries families without samples: " + ", ".join(empty))
    sys.exit(1)
print(f"{len(names)} metrics in {len(queries)} queries, all exported")
PY
) || fail "$out"
note "$out"
pass
