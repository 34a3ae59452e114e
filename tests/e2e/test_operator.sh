#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_operator.sh - what an operator meets first, on an HTTP cookie service:
#   - `limpet check` of the lab's file: in lp-lb silent and exit 0, attaching
#     nothing, pinning nothing, not creating secret_file; outside lp-lb (no
#     lb-cli there) one "FILE:LINE: interfaces[0].name: ..." line and exit 1;
#     a service with `backends: []` a warning and still exit 0; the systemd
#     unit's ExecStartPre= and ExecReload= run that check;
#   - the veth warning: with GRO off on cli0 (lb-cli's peer, in lp-client)
#     `limpet run` logs one line naming lb-cli and "ethtool -K cli0 gro on",
#     none for lb-srv (its peer has GRO); GRO on and a reload add none; GRO
#     off and a reload add one;
#   - small things: `version extra` and `--socket` without a value exit 2
#     with one line; `backend undrain` of a backend that is not draining
#     exits 1 with the reason and changes nothing;
#   - `limpet top` in tmux (80x30): the header, each service and backend,
#     non-zero rates while requests flow, the cookie line, no line longer
#     than 80 columns, and `q` ends it with status 0; in 7 rows, the
#     header stays and the last row says what did not fit;
#   - `limpet status` prints each service and backend of `status --json`
#     (the table comes from the compact status_rows reply);
#   - a reload of a file with a service without backends logs the warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin operator
command -v tmux >/dev/null || fail "missing tool: tmux (scripts/install-deps.sh installs it)"
TMUX_SOCK=limpet-e2e-top
trap 'tmux -L $TMUX_SOCK kill-server 2>/dev/null || true; lab_down' EXIT
e2e_lab_up 2
cfg=$LAB_DIR/limpet.yaml
lab_write_config "$cfg" --mode http --affinity cookie --no-v6 --health tcp \
	--health-interval 500ms
rm -f "$LAB_DIR/secret"

# ---- check -----------------------------------------------------------------
rc=0
out=$(lab_limpet_ns check --config "$cfg" 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "check of the lab config in lp-lb exited $rc: $out"
[ -z "$out" ] || fail "check of a valid file printed: $out"
[ ! -e "$LAB_DIR/secret" ] || fail "check created secret_file $LAB_DIR/secret"
[ ! -e "$LAB_PIN_DIR" ] || fail "check pinned something in $LAB_PIN_DIR"
! lab_xdp_attached lb-cli || fail "check attached XDP to lb-cli"
rc=0
out=$("$LIMPET" check --config "$cfg" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "check outside lp-lb (no lb-cli) exited $rc, want 1: $out"
[[ $out =~ ^$cfg:[0-9]+:\ interfaces\[0\]\.name:\ interface\ \'lb-cli\'\ not\ found$ ]] ||
	fail "check outside lp-lb said: '$out'"
sed 's/^    backends:$/    backends: []/; /^      - name: b[0-9]/,+3d' "$cfg" >"$E2E_TMP/empty.yaml"
rc=0
out=$(lab_limpet_ns check --config "$E2E_TMP/empty.yaml" 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "check of a service without backends exited $rc: $out"
[[ $out == "warning: $E2E_TMP/empty.yaml:"*": services[0].backends: no backends"* ]] ||
	fail "check of a service without backends said: '$out'"
# The systemd unit's ExecStartPre= and first ExecReload= are that check.
unit=$E2E_DIR/../../packaging/limpet.service
for key in ExecStartPre ExecReload; do
	cmd=$(grep -m1 "^$key=" "$unit" | cut -d= -f2-)
	[[ $cmd == "/usr/local/sbin/limpet check --config /etc/limpet/limpet.yaml" ]] ||
		fail "limpet.service: $key= is '$cmd', not limpet check"
	cmd=${cmd/\/usr\/local\/sbin\/limpet/$LIMPET}
	cmd=${cmd/\/etc\/limpet\/limpet.yaml/$cfg}
	# shellcheck disable=SC2086 # the unit's words
	nsenter --net=/run/netns/lp-lb $cmd || fail "limpet.service's $key= fails on the lab file"
done
note "check: silent on the lab file, the missing interface and the empty service named"

# ---- veth peer without GRO -------------------------------------------------
ip netns exec lp-client ethtool -K cli0 gro off
e2e_start "$cfg"
warnings() { grep -c 'is a veth whose peer' "$LAB_LIMPET_LOG" || true; }
[ "$(warnings)" = 1 ] ||
	fail "$(warnings) veth warnings at start, want 1: $(grep veth "$LAB_LIMPET_LOG")"
line=$(grep 'is a veth whose peer' "$LAB_LIMPET_LOG")
want="lb-cli is a veth whose peer cli0 (in netns lp-client) has neither GRO nor an XDP program"
[[ $line == *"$want"* ]] ||
	fail "veth warning does not name lb-cli and cli0: $line"
[[ $line == *"ethtool -K cli0 gro on"* ]] || fail "veth warning gives no fix: $line"
note "veth: $line"
ip netns exec lp-client ethtool -K cli0 gro on
e2e_cli_ok reload
[ "$(warnings)" = 1 ] || fail "a veth warning on reload with GRO on"
ip netns exec lp-client ethtool -K cli0 gro off
e2e_cli_ok reload
[ "$(warnings)" = 2 ] || fail "no veth warning on reload with GRO off again"
ip netns exec lp-client ethtool -K cli0 gro on

# ---- small things ----------------------------------------------------------
rc=0
out=$("$LIMPET" version extra 2>&1) || rc=$?
[ "$rc" = 2 ] && [ "$out" = "limpet: version: unexpected argument 'extra' (usage: limpet version)" ] ||
	fail "version extra: exit $rc, '$out'"
rc=0
out=$("$LIMPET" --socket 2>&1) || rc=$?
[ "$rc" = 2 ] && [ "$out" = "limpet: --socket needs a value (see limpet --help)" ] ||
	fail "--socket without a value: exit $rc, '$out'"
e2e_status_json "$E2E_TMP/before.json"
e2e_cli backend undrain web b1
[ "$E2E_RC" = 1 ] || fail "undrain of a backend that is not draining exited $E2E_RC"
[ "$E2E_ERR" = "limpet: backend undrain: backend 'b1' of service 'web' is not draining" ] ||
	fail "undrain of a backend that is not draining said: '$E2E_ERR'"
e2e_status_json "$E2E_TMP/after.json"
cmp -s "$E2E_TMP/before.json" "$E2E_TMP/after.json" || fail "the refused undrain changed the status"
e2e_cli_ok backend drain web b1
e2e_cli_ok backend undrain web b1

# ---- top -------------------------------------------------------------------
lab_wait_backend web b1 up 10 >/dev/null || fail "b1 not up"
lab_wait_backend web b2 up 10 >/dev/null || fail "b2 not up"
ip netns exec lp-client bash -c "for i in \$(seq 400); do
	curl -s --max-time 2 --interface 10.10.1.\$((i % 50 + 1)) http://$LAB_VIP4/ >/dev/null
	sleep 0.02; done" &
load=$!
tmux -L $TMUX_SOCK new-session -d -s top -x 80 -y 30 \
	"'$LIMPET' --socket '$LAB_SOCKET' top; echo top-exited-\$?; sleep 60"
sleep 3.5
tmux -L $TMUX_SOCK capture-pane -p -t top >"$E2E_TMP/top.txt"
kill "$load" 2>/dev/null || true
wait "$load" 2>/dev/null || true
for want in "limpet top - instance lab" "SERVICE/BACKEND" "STATE" "NEW/s" "BYTES/s" \
	"web 10.100.0.100:80 http" "  b1 " "  b2 " "cookies/s  valid" "bindings/s"; do
	grep -qF -- "$want" "$E2E_TMP/top.txt" || fail "top shows no '$want': $(cat "$E2E_TMP/top.txt")"
done
awk 'length > 80 { bad = 1 } END { exit bad }' "$E2E_TMP/top.txt" ||
	fail "top wrote lines longer than 80 columns"
# The service's packets/s and its cookies issued/s moved while requests flowed.
rate=$(awk '/^web 10.100.0.100:80 http/ { print $5 }' "$E2E_TMP/top.txt")
[ -n "$rate" ] && [ "$rate" != "-" ] && [ "$rate" != "0.0" ] ||
	fail "top shows no packets/s for web under load: $(cat "$E2E_TMP/top.txt")"
issued=$(sed -n 's/.*cookies\/s .* issued \([0-9.KM]*\) .*/\1/p' "$E2E_TMP/top.txt")
[ -n "$issued" ] && [ "$issued" != "0.0" ] ||
	fail "top shows no cookies issued/s under load: $(cat "$E2E_TMP/top.txt")"
sess=$(awk '/^web 10.100.0.100:80 http/ { print $8 }' "$E2E_TMP/top.txt")
[ "${sess:-0}" -gt 0 ] 2>/dev/null || fail "top shows no sessions for web: $(cat "$E2E_TMP/top.txt")"
note "top: web at $rate packets/s, $issued cookies issued/s, $sess sessions"
tmux -L $TMUX_SOCK send-keys -t top q
for _ in $(seq 30); do
	tmux -L $TMUX_SOCK capture-pane -p -t top | grep -q '^top-exited-' && break
	sleep 0.1
done
st=$(tmux -L $TMUX_SOCK capture-pane -p -t top | grep -o 'top-exited-[0-9]*' || true)
[ "$st" = top-exited-0 ] || fail "q did not end top with status 0 ('$st')"
# A terminal of 7 rows: what does not fit is said on the last one, not
# scrolled through.
tmux -L $TMUX_SOCK kill-session -t top 2>/dev/null || true
tmux -L $TMUX_SOCK new-session -d -s top -x 80 -y 7 "'$LIMPET' --socket '$LAB_SOCKET' top"
sleep 1.5
tmux -L $TMUX_SOCK capture-pane -p -t top >"$E2E_TMP/top7.txt"
tmux -L $TMUX_SOCK send-keys -t top q
grep -qE '^\((more below|[0-9]+ more services? below): `limpet status` lists all\)' \
	"$E2E_TMP/top7.txt" || fail "top in 7 rows does not say what did not fit: $(cat "$E2E_TMP/top7.txt")"
grep -q "limpet top - instance lab" "$E2E_TMP/top7.txt" ||
	fail "top in 7 rows lost its header: $(cat "$E2E_TMP/top7.txt")"

# ---- status: the table shows what status --json holds ------------------------
e2e_cli_ok status
printf '%s\n' "$E2E_OUT" >"$E2E_TMP/status.txt"
e2e_status_json "$E2E_TMP/status.json"
e2e_check status-text "$E2E_TMP/status.txt" "$E2E_TMP/status.json"

# ---- run and reload log the warnings check prints ---------------------------
printf '  - name: spare\n    vip: 10.100.0.102\n    port: 80\n    backends: []\n' >>"$cfg"
e2e_cli_ok reload
grep -qE "^limpet: warn: $cfg:[0-9]+: services\[1\]\.backends: no backends" "$LAB_LIMPET_LOG" ||
	fail "reload of a file with a service without backends logged no warning"
pass
