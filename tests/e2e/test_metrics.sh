#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_metrics.sh - the Prometheus endpoint (metrics.listen 127.0.0.1:9100 in
# the balancer's namespace). After 40 requests from 40 distinct client
# addresses (one connection each) on a fresh lab and controller, a scrape of
# /metrics must be well-formed text exposition (every sample parses, every
# family has HELP and TYPE before its samples, no duplicate series) with
# every documented family, and count exactly: service web 40 new flows, the
# same over its backends, every backend up, fwd_new_flow >= 40. `limpet
# stats --json` agrees on the new flows. Any other path answers 404.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin metrics
trap lab_down EXIT
e2e_lab_up 3
cfg=$LAB_DIR/limpet.yaml
LISTEN=127.0.0.1:9100
lab_write_config "$cfg" --metrics "$LISTEN"
e2e_start "$cfg"

N=40
lab_sweep 4 1 $N 1 >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect $N
sleep 1 # the last connections' closing packets

scrape() { # <path> <out-file>: prints the HTTP status
	ip netns exec lp-lb curl -s --max-time 5 -o "$2" -D "$2.headers" -w '%{http_code}' \
		"http://$LISTEN$1" || true
}
code=$(scrape /metrics "$E2E_TMP/metrics")
[ "$code" = 200 ] || fail "GET http://$LISTEN/metrics in lp-lb: HTTP status '$code'"
grep -qi '^content-type: *text/plain' "$E2E_TMP/metrics.headers" ||
	fail "/metrics Content-Type is not text/plain: $(grep -i '^content-type' "$E2E_TMP/metrics.headers" | tr -d '\r')"
e2e_cli_ok stats --json
printf '%s\n' "$E2E_OUT" >"$E2E_TMP/stats.json"

e2e_check_metrics() {
	"$LAB_PYTHON" - "$E2E_TMP/metrics" "$E2E_TMP/stats.json" "$N" <<'EOF'
import json, math, re, sys

path, stats_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])


def die(msg):
    print(msg)
    sys.exit(1)


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*,?)?\}})? (\S+)(?: (-?\d+))?$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')

helps, types, samples, seen = {}, {}, {}, set()
text = open(path).read()
if not text.endswith("\n"):
    die("/metrics: the page does not end with a newline")
for i, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("#"):
        m = re.match(rf"^# (HELP|TYPE) ({NAME}) (.*)$", line)
        if not m:
            if re.match(r"^# (HELP|TYPE)", line):
                die(f"/metrics line {i}: malformed: {line!r}")
            continue
        kind, name, rest = m.groups()
        d = helps if kind == "HELP" else types
        if name in d:
            die(f"/metrics line {i}: second {kind} for {name}")
        if kind == "TYPE" and rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
            die(f"/metrics line {i}: unknown type {rest!r} for {name}")
        if name in samples:
            die(f"/metrics line {i}: {kind} for {name} after its samples")
        d[name] = rest
        continue
    if not line.strip():
        continue
    m = SAMPLE.match(line)
    if not m:
        die(f"/metrics line {i}: not a sample line: {line!r}")
    name, labels, value = m.group(1), m.group(2) or "", m.group(3)
    try:
        v = float(value)
    except ValueError:
        die(f"/metrics line {i}: value {value!r} is not a number")
    fam = name
    if fam not in types:
        for suffix in ("_bucket", "_sum", "_count"):
            if fam.endswith(suffix) and fam[: -len(suffix)] in types:
                fam = fam[: -len(suffix)]
    if fam not in types or fam not in helps:
        die(f"/metrics line {i}: sample of {name} before (or without) its HELP and TYPE")
    lab = dict(LABEL_RE.findall(labels))
    key = (name, tuple(sorted(lab.items())))
    if key in seen:
        die(f"/metrics line {i}: duplicate series {line!r}")
    seen.add(key)
    if types[fam] == "counter" and (v < 0 or math.isnan(v)):
        die(f"/metrics line {i}: counter {name} is {value}")
    samples.setdefault(name, []).append((lab, v))

FAMILIES = [
    "limpet_packets_total", "limpet_service_packets_total", "limpet_service_bytes_total",
    "limpet_service_new_flows_total", "limpet_service_drops_total",
    "limpet_backend_packets_total", "limpet_backend_bytes_total",
    "limpet_backend_new_flows_total", "limpet_backend_active_flows", "limpet_backend_sessions",
    "limpet_backend_up", "limpet_backend_draining", "limpet_backend_weight",
    "limpet_health_checks_total", "limpet_health_check_failures_total",
    "limpet_health_check_latency_seconds",
]
for f in FAMILIES:
    if f not in types:
        die(f"/metrics: family {f} missing (no TYPE line)")
    if f not in samples:
        die(f"/metrics: family {f} has no sample")


def one(name, **labels):
    hits = [v for lab, v in samples.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    if len(hits) != 1:
        die(f"/metrics: {len(hits)} samples of {name}{labels}, expected 1")
    return hits[0]


def per_backend(name, service):
    return {lab.get("backend"): v for lab, v in samples[name] if lab.get("service") == service}


svc_new = one("limpet_service_new_flows_total", service="web")
if svc_new != n:
    die(f'limpet_service_new_flows_total{{service="web"}} is {svc_new:g}, expected exactly {n}')
be_new = per_backend("limpet_backend_new_flows_total", "web")
if sorted(be_new) != ["b1", "b2", "b3"]:
    die(f"limpet_backend_new_flows_total for web covers backends {sorted(be_new)}, expected b1-b3")
if sum(be_new.values()) != n:
    die(f"sum of limpet_backend_new_flows_total over web's backends is {sum(be_new.values()):g}, expected {n}")
for lab, v in samples["limpet_backend_up"]:
    if v != 1:
        die(f"limpet_backend_up{lab} is {v:g}, expected 1")
for lab, v in samples["limpet_backend_draining"]:
    if v != 0:
        die(f"limpet_backend_draining{lab} is {v:g}, expected 0")
for lab, v in samples["limpet_backend_weight"]:
    if v != 1:
        die(f"limpet_backend_weight{lab} is {v:g}, expected 1")
fwd_new = one("limpet_packets_total", outcome="fwd_new_flow")
if fwd_new < n:
    die(f'limpet_packets_total{{outcome="fwd_new_flow"}} is {fwd_new:g}, expected >= {n}')
pk = per_backend("limpet_backend_packets_total", "web")
if any(pk.get(b, 0) <= 0 for b, k in be_new.items() if k > 0):
    die(f"a backend with new flows has no packets: {pk}")
if one("limpet_service_packets_total", service="web") < 4 * n:
    die("limpet_service_packets_total for web is below 4 packets per request")

# `limpet stats --json` agrees.
st = json.load(open(stats_path))
web = next((s for s in st.get("services", []) if s.get("name") == "web"), None)
if web is None:
    die("limpet stats --json: no service web")
if web.get("new_flows") != n:
    die(f"limpet stats --json: web new_flows {web.get('new_flows')}, the scrape says {svc_new:g}")
for b in web.get("backends", []):
    if b.get("new_flows") != be_new.get(b.get("name")):
        die(f"limpet stats --json: {b.get('name')} new_flows {b.get('new_flows')}, the scrape says "
            f"{be_new.get(b.get('name'))}")
print(f"{len(seen)} series in {len(types)} families; web: {svc_new:g} new flows ("
      + " ".join(f"{b}={v:g}" for b, v in sorted(be_new.items())) + f"), fwd_new_flow {fwd_new:g}")
EOF
}
out=$(e2e_check_metrics) || fail "$(echo "$out" | tail -n 1)"
note "$out"

code=$(scrape /nope "$E2E_TMP/nope")
[ "$code" = 404 ] || fail "GET http://$LISTEN/nope: HTTP status '$code', expected 404"
pass
