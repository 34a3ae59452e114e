#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_cookie.sh - cookie affinity end to end, with curl cookie jars and
# nginx backends (each answers its name), IPv4 and IPv6:
#   - the first response sets exactly one cookie, with the configured
#     attributes; the secret file was created with mode 0600;
#   - 50 sessions x 20 requests over new connections keep their backend,
#     also when the client's source address changes between requests;
#     later responses set no cookie;
#   - a tampered cookie goes where a request without one would (the
#     client-IP fallback), never to the backend it names otherwise, and is
#     replaced; a malformed one too; deleting the cookie makes a new
#     session;
#   - `limpet keys rotate` while sessions go on: none moves, old cookies
#     stay valid, new ones carry the new key id;
#   - requests carrying a valid cookie have their head read by the data
#     plane (http_heads_read_xdp grows by as many), not by the slow path;
#   - who bound each connection: a first request without a cookie counts
#     under http_bound_slowpath_issue, valid cookies are bound in XDP;
#   - `limpet stats` counts each outcome, `limpet status` the sessions.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin cookie
trap lab_down EXIT
e2e_lab_up 4
lab_write_config "$LAB_DIR/limpet.yaml" --mode http --affinity cookie --metrics 127.0.0.1:9100 \
	--affinity-yaml $'cookie:\n  name: lb\n  ttl: 1h\n  samesite: lax\n  path: /'
rm -f "$LAB_DIR/secret"
e2e_start "$LAB_DIR/limpet.yaml"
C=(ip netns exec lp-client)
T=$E2E_TMP

[ -f "$LAB_DIR/secret" ] || fail "the secret file was not created"
[ "$(stat -c %a "$LAB_DIR/secret")" = 600 ] ||
	fail "secret file mode $(stat -c %a "$LAB_DIR/secret"), expected 600"

# get JAR SRC URL [curl args...]: one request on a new connection with the
# cookie jar JAR; prints the backend that answered. Headers in $T/h.
get() {
	local jar=$1 src=$2 url=$3
	shift 3
	"${C[@]}" curl -s --interface "$src" --max-time 10 -b "$jar" -c "$jar" -D "$T/h" \
		"$@" "$url" | tr -d '\r\n'
}
set_cookies() { grep -ci '^Set-Cookie:' "$T/h" || true; }
token_of() { awk '$6 == "lb" { print $7 }' "$1"; }

# 1. The first response: one cookie, with its attributes.
jar=$T/first.jar
b=$(get "$jar" "$(lab_client_addr 1 4)" "http://$LAB_VIP4/")
[ "$(set_cookies)" = 1 ] || fail "first response: $(set_cookies) Set-Cookie lines"
line=$(grep -i '^Set-Cookie:' "$T/h" | tr -d '\r')
[[ $line =~ ^Set-Cookie:\ lb=[A-Za-z0-9_-]{36}\;\ Path=/\;\ Max-Age=3600\;\ HttpOnly\;\ SameSite=Lax$ ]] ||
	fail "first response: $line"
note "first response on $b: $line"

# 2. 50 sessions x 20 requests, each on a new connection, from changing
# source addresses.
declare -A home
for s in $(seq 50); do
	jar=$T/s$s.jar
	home[$s]=$(get "$jar" "$(lab_client_addr $(((s % 20) + 1)) 4)" "http://$LAB_VIP4/")
	[ "$(set_cookies)" = 1 ] || fail "session $s: first response set $(set_cookies) cookies"
done
for r in $(seq 2 20); do
	for s in $(seq 50); do
		b=$(get "$T/s$s.jar" "$(lab_client_addr $((((s + r) % 20) + 1)) 4)" "http://$LAB_VIP4/")
		[ "$b" = "${home[$s]}" ] ||
			fail "session $s request $r went to '$b', not ${home[$s]}"
		[ "$(set_cookies)" = 0 ] || fail "session $s request $r: a cookie was set again"
	done
done
spread=$(printf '%s\n' "${home[@]}" | sort | uniq -c | tr '\n' ' ')
[ "$(printf '%s\n' "${home[@]}" | sort -u | wc -l)" -ge 3 ] || fail "sessions on too few backends: $spread"
note "50 sessions x 20 new connections kept their backend ($spread)"

# The heads of those requests were read in XDP: 20 more requests with a
# valid cookie raise the data plane's counter and the service's by 20 each,
# and the slow path reads none of them itself.
heads() { # prints "<global http_heads_read_xdp> <web's> <web's read by the slow path>"
	e2e_cli_ok stats --json
	"$LAB_PYTHON" -c 'import json, sys
s = json.loads(sys.stdin.read())
web = next(v for v in s["services"] if v["name"] == "web")
print(s["global"].get("http_heads_read_xdp", -1), web.get("http_heads_read_xdp", -1),
      web.get("http_heads_read_slowpath", -1))' <<<"$E2E_OUT"
}
out=$(heads)
read -r g0 w0 sp0 <<<"$out"
for s in $(seq 20); do
	b=$(get "$T/s$s.jar" "$(lab_client_addr "$s" 4)" "http://$LAB_VIP4/")
	[ "$b" = "${home[$s]}" ] || fail "session $s went to '$b', not ${home[$s]}"
done
out=$(heads)
read -r g1 w1 sp1 <<<"$out"
[ "$g0" -ge 0 ] && [ "$w0" -ge 0 ] && [ "$sp0" -ge 0 ] ||
	fail "stats --json has no http_heads_read_xdp / http_heads_read_slowpath ($g0 $w0 $sp0)"
[ $((g1 - g0)) -ge 20 ] || fail "http_heads_read_xdp grew by $((g1 - g0)) over 20 cookie requests"
[ $((w1 - w0)) -eq 20 ] || fail "web's http_heads_read_xdp grew by $((w1 - w0)), expected 20"
[ "$sp1" = "$sp0" ] || fail "the slow path read $((sp1 - sp0)) heads itself"
note "20 requests with a cookie: heads read in XDP ($g0 -> $g1), none by the slow path"

# Who bound each connection, and why the slow path did: a first request
# without a cookie is bound by the slow path for its cookie (issue); five
# with a valid cookie need nothing of it (bound in XDP, or by the slow path
# with no reason where XDP binding is not there): no issue among them.
bound() { # prints "<web xdp> <web slowpath> <web issue> <web sum of reasons> <global slowpath>"
	e2e_cli_ok stats --json
	"$LAB_PYTHON" -c 'import json, sys
s = json.loads(sys.stdin.read())
web = next(v for v in s["services"] if v["name"] == "web")
reasons = ["none", "issue", "insert", "multi_segment", "failover", "all_failed",
           "no_timestamps"]
print(web.get("http_bound_xdp", -1), web.get("http_bound_slowpath", -1),
      web.get("http_bound_slowpath_issue", -1),
      sum(web.get("http_bound_slowpath_" + r, 0) for r in reasons),
      s["global"].get("http_bound_slowpath", -1))' <<<"$E2E_OUT"
}
read -r x0 sl0 is0 sum0 gs0 <<<"$(bound)"
[ "$x0" -ge 0 ] && [ "$sl0" -ge 0 ] && [ "$is0" -ge 0 ] && [ "$gs0" -ge 0 ] ||
	fail "stats --json lacks http_bound_xdp / http_bound_slowpath[_issue] ($x0 $sl0 $is0 $gs0)"
[ "$sum0" = "$sl0" ] || fail "web's slow-path bindings by reason add up to $sum0, not $sl0"
b=$(get "$T/bound.jar" "$(lab_client_addr 3 4)" "http://$LAB_VIP4/")
[ "$(set_cookies)" = 1 ] || fail "a first request without a cookie got no cookie"
read -r x1 sl1 is1 sum1 gs1 <<<"$(bound)"
[ $((is1 - is0)) -eq 1 ] || fail "a cookie issued: http_bound_slowpath_issue grew by $((is1 - is0))"
[ $((sl1 - sl0)) -eq 1 ] || fail "a cookie issued: web's http_bound_slowpath grew by $((sl1 - sl0))"
[ $((gs1 - gs0)) -ge 1 ] || fail "global http_bound_slowpath did not grow ($gs0 -> $gs1)"
[ "$x1" = "$x0" ] || fail "a connection that needed a cookie was counted as bound in XDP"
for r in 1 2 3 4 5; do
	[ "$(get "$T/bound.jar" "$(lab_client_addr $((r + 3)) 4)" "http://$LAB_VIP4/")" = "$b" ] ||
		fail "the bound.jar session moved"
done
sleep 1	# the last binding is counted when the backend's SYN-ACK comes
read -r x2 sl2 is2 sum2 gs2 <<<"$(bound)"
# A valid cookie whose backend is up needs nothing from userspace: the
# data plane binds the connection itself.
[ $((x2 - x1)) -eq 5 ] && [ "$sl2" = "$sl1" ] ||
	fail "5 cookie requests: bound in XDP +$((x2 - x1)), by the slow path +$((sl2 - sl1))"
[ "$is2" = "$is1" ] || fail "requests with a valid cookie counted as issue ($is1 -> $is2)"
[ "$sum2" = "$sl2" ] || fail "web's slow-path bindings by reason add up to $sum2, not $sl2"
note "bindings: no cookie -> issue +1; 5 valid cookies -> xdp +$((x2 - x1)), slow path +$((sl2 - sl1)) (no issue)"

# IPv6: a few sessions too.
for s in 1 2 3 4 5; do
	jar=$T/v6s$s.jar
	b6=$(get "$jar" "$(lab_client_addr "$s" 6)" "http://[$LAB_VIP6]/")
	for r in 1 2 3 4 5; do
		b=$(get "$jar" "$(lab_client_addr $((s + r)) 6)" "http://[$LAB_VIP6]/")
		[ "$b" = "$b6" ] || fail "IPv6 session $s moved from $b6 to $b"
	done
done
note "IPv6 sessions kept their backend"

# 3. Tampered cookies: flip one character; the request goes where one
# without a cookie from that address goes, and gets a new cookie.
tampered=0
for s in $(seq 1 20); do
	src=$(lab_client_addr "$s" 4)
	plain=$(get /dev/null "$src" "http://$LAB_VIP4/")
	tok=$(token_of "$T/s$s.jar")
	[ ${#tok} = 36 ] || fail "session $s: no token in its jar"
	c=${tok:10:1}
	[ "$c" = A ] && r=B || r=A
	bad=${tok:0:10}$r${tok:11}
	b=$("${C[@]}" curl -s --interface "$src" --max-time 10 -H "Cookie: lb=$bad" -D "$T/h" \
		"http://$LAB_VIP4/" | tr -d '\r\n')
	[ "$b" = "$plain" ] || fail "tampered cookie of ${home[$s]} from $src reached $b, not $plain"
	[ "$(set_cookies)" = 1 ] || fail "a tampered cookie was not replaced"
	grep -qi "^Set-Cookie: lb=$bad" "$T/h" && fail "the tampered token was handed back"
	tampered=$((tampered + 1))
done
# A malformed value beside a good cookie of the same name: the good one wins.
tok=$(token_of "$T/s1.jar")
b=$("${C[@]}" curl -s --max-time 10 -H "Cookie: a=1; lb=junk; lb=\"$tok\"" -D "$T/h" \
	"http://$LAB_VIP4/" | tr -d '\r\n')
[ "$b" = "${home[1]}" ] || fail "junk + quoted good cookie went to $b, not ${home[1]}"
[ "$(set_cookies)" = 0 ] || fail "a valid cookie beside junk was replaced"
"${C[@]}" curl -s --max-time 10 -H "Cookie: lb=junk" -o /dev/null "http://$LAB_VIP4/"
note "$tampered tampered cookies fell back to the client-IP choice and were replaced"

# Deleting the cookie: a new session, a new token.
old=$(token_of "$T/s2.jar")
get /dev/null "$(lab_client_addr 2 4)" "http://$LAB_VIP4/" >/dev/null
new=$(grep -i '^Set-Cookie:' "$T/h" | sed 's/^[^=]*=\([^;]*\);.*/\1/')
[ ${#new} = 36 ] && [ "$new" != "$old" ] || fail "no new cookie without one: '$new'"

# 4. Keys rotate while sessions go on.
key_id() { "$LAB_PYTHON" -c 'import base64,sys; print(base64.urlsafe_b64decode(sys.argv[1])[1])' "$1"; }
id_before=$(key_id "$(token_of "$T/s3.jar")")
( for r in $(seq 10); do for s in $(seq 1 10); do
	get "$T/s$s.jar" "$(lab_client_addr "$s" 4)" "http://$LAB_VIP4/"
	echo " $s $(set_cookies)"
done; done >"$T/during" ) &
bg=$!
sleep 0.5
e2e_cli_ok keys rotate
wait "$bg" || fail "requests during the rotation failed"
while read -r b s n; do
	[ "$b" = "${home[$s]}" ] || fail "during rotation session $s went to $b, not ${home[$s]}"
	[ "$n" = 0 ] || fail "during rotation session $s got a new cookie"
done <"$T/during"
[ "$(wc -l <"$T/during")" = 100 ] || fail "requests during rotation: $(wc -l <"$T/during")"
get "$T/fresh.jar" "$(lab_client_addr 9 4)" "http://$LAB_VIP4/" >/dev/null
id_after=$(key_id "$(token_of "$T/fresh.jar")")
[ "$id_after" != "$id_before" ] || fail "new cookies still carry key $id_before after rotation"
[ "$(grep -cv '^#' "$LAB_DIR/secret")" = 2 ] || fail "secret file: $(grep -cv '^#' "$LAB_DIR/secret") keys, expected 2"
note "keys rotated (key $id_before -> $id_after) during 100 requests: no session moved"

# 5. The counters and the sessions.
e2e_cli_ok stats --json
printf '%s\n' "$E2E_OUT" >"$T/stats.json"
e2e_cli_ok status --json
printf '%s\n' "$E2E_OUT" >"$T/status.json"
cat >"$T/check.py" <<'EOF'
import json, sys
stats, status, tampered = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
web = next(s for s in stats["services"] if s["name"] == "web")
bad = []
need = {"cookie_valid": 50 * 19 + 20 + 100 + 1, "cookie_absent": 50 + 3, "cookie_bad_mac": tampered,
        "cookie_malformed": 1, "cookies_issued": 50 + tampered + 3}
bad += [f"{k}={web.get(k)} (< {v})" for k, v in need.items() if web.get(k, 0) < v]
bad += [f"{k}={web.get(k)}" for k in ("cookie_expired", "cookie_unknown_backend") if web.get(k)]
g = stats["global"]
if g.get("http_cookies_set", 0) < need["cookies_issued"]:
    bad.append(f"http_cookies_set={g.get('http_cookies_set')}")
svc = next(s for s in status["services"] if s["name"] == "web")
live = sum(b["sessions"] for b in svc["backends"])
if live < 50:
    bad.append(f"status: {live} live sessions (< 50)")
if bad:
    sys.exit("unexpected: " + ", ".join(bad))
EOF
out=$("$LAB_PYTHON" "$T/check.py" "$T/stats.json" "$T/status.json" "$tampered" 2>&1) || fail "$out"

# The same outcomes and sessions on /metrics.
ip netns exec lp-lb curl -s --max-time 5 -o "$T/metrics" http://127.0.0.1:9100/metrics ||
	fail "GET /metrics failed"
cat >"$T/metrics.py" <<'EOF'
import json, re, sys
text, stats = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
web = next(s for s in stats["services"] if s["name"] == "web")
def samples(name):
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r'^' + name + r'\{([^}]*)\} (\S+)$', text, re.M)}
got = samples("limpet_http_cookies_total")
bad = []
for k in ("valid", "absent", "bad_mac", "malformed"):
    v = got.get(f'service="web",outcome="{k}"')
    # /metrics was read after stats: it may only have grown.
    if v is None or v < web[f"cookie_{k}"]:
        bad.append(f"{k}: metrics {v}, stats {web['cookie_' + k]}")
live = sum(v for k, v in samples("limpet_http_sessions").items() if 'service="web"' in k)
if live < 50:
    bad.append(f"limpet_http_sessions for web: {live}")
if bad:
    sys.exit("/metrics: " + ", ".join(bad))
EOF
out=$("$LAB_PYTHON" "$T/metrics.py" "$T/metrics" "$T/stats.json" 2>&1) || fail "$out"
pass
