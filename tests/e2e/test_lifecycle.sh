#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_lifecycle.sh - the controller's life: `version`; `run` refusing a
# config with an unknown key (naming file, line and key) or a missing
# interface, and attaching nothing; `reload` keeping the running config when
# the file is invalid and applying a valid one; SIGTERM leaving the data
# plane forwarding; `down --config` detaching both interfaces and removing
# the pins.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin lifecycle
trap lab_down EXIT
e2e_lab_up 3
cfg=$LAB_DIR/limpet.yaml

no_xdp() { # <when>
	local i
	for i in lb-cli lb-srv; do
		! lab_xdp_attached "$i" || fail "$1: XDP program left on $i: $(ip -n lp-lb -d link show dev "$i" | grep -o 'prog/xdp.*\|xdp.*' | head -n 1)"
	done
}

# Run `limpet run` expected to refuse <config>; its stderr in $E2E_ERR.
run_refused() { # <what> <config>
	local rc=0
	timeout 20 nsenter --net=/run/netns/lp-lb "$LIMPET" --socket "$LAB_SOCKET" run \
		--config "$2" >"$E2E_TMP/run.out" 2>"$E2E_TMP/run.err" </dev/null || rc=$?
	E2E_ERR=$(cat "$E2E_TMP/run.err")
	[ "$rc" -ne 124 ] || fail "$1: limpet run did not exit within 20 s (output: $(tr '\n' '|' <"$E2E_TMP/run.err"))"
	[ "$rc" -ne 0 ] || fail "$1: limpet run exited 0"
	[ "$(printf '%s\n' "$E2E_ERR" | grep -c .)" -eq 1 ] ||
		fail "$1: expected a one-line message on stderr, got: $(echo "$E2E_ERR" | tr '\n' '|')"
	note "$1: exit $rc: $(echo "$E2E_ERR" | tr '\n' '|')"
}

# version
e2e_cli version
[ "$E2E_RC" -eq 0 ] || fail "limpet version exited $E2E_RC: $E2E_ERR"
echo "$E2E_OUT" | grep -qE '[0-9]+\.[0-9]+' || fail "limpet version printed no version: '$E2E_OUT'"
note "version: $E2E_OUT"

# An unknown key: refused, with file, line and key named; nothing attached.
lab_write_config "$LAB_DIR/bad.yaml"
line=$(grep -n '^    port: 80$' "$LAB_DIR/bad.yaml" | head -n 1 | cut -d: -f1)
sed -i "${line}a\\    bogus_key: 1" "$LAB_DIR/bad.yaml"
line=$((line + 1))
run_refused "unknown key" "$LAB_DIR/bad.yaml"
echo "$E2E_ERR" | grep "$LAB_DIR/bad.yaml" | grep -E "(:$line\\b|line $line\\b)" | grep -q bogus_key ||
	fail "unknown key: no stderr line names $LAB_DIR/bad.yaml, line $line and bogus_key: $(echo "$E2E_ERR" | tr '\n' '|')"
no_xdp "after refusing an unknown key"

# A missing interface (after one that exists): clear error, nothing attached.
lab_write_config "$LAB_DIR/noif.yaml" --iface lb-cli --iface lp-nosuch0
run_refused "missing interface" "$LAB_DIR/noif.yaml"
echo "$E2E_ERR" | grep -q lp-nosuch0 ||
	fail "missing interface: stderr does not name lp-nosuch0: $(echo "$E2E_ERR" | tr '\n' '|')"
no_xdp "after refusing a missing interface"
[ ! -e "$LAB_PIN_DIR" ] || note "warning: $LAB_PIN_DIR left behind by the refused run"

# A good run.
lab_write_config "$cfg"
e2e_start "$cfg"
[ -d "$LAB_PIN_DIR" ] || fail "running, but no pin directory $LAB_PIN_DIR"
lab_sweep 4 1 10 1 >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect 10

# reload with an invalid file keeps the running config.
e2e_status_json "$E2E_TMP/status.before"
cp "$cfg" "$E2E_TMP/good.yaml"
sed -i '1a\bogus_key: 1' "$cfg"
e2e_cli reload
[ "$E2E_RC" -ne 0 ] || fail "limpet reload of an invalid file exited 0"
[ "$(printf '%s\n' "$E2E_ERR" | grep -c .)" -eq 1 ] ||
	fail "limpet reload of an invalid file: expected one line on stderr: $(echo "$E2E_ERR" | tr '\n' '|')"
note "invalid reload: exit $E2E_RC: $E2E_ERR"
e2e_status_json "$E2E_TMP/status.after"
e2e_check same-status "$E2E_TMP/status.before" "$E2E_TMP/status.after"
lab_sweep 4 1 10 1 >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect 10

# reload with a valid change applies it.
lab_write_config "$cfg" --weight 1=2
e2e_cli_ok reload
e2e_status_json "$E2E_TMP/status"
w=$(e2e_backend_field "$E2E_TMP/status" web b1 weight)
[ "$w" = 2 ] || fail "after reload with b1 weight 2, status shows weight $w"

# SIGTERM stops the controller, the data plane keeps forwarding.
lab_limpet_stop TERM || fail "limpet run did not exit on SIGTERM within 10 s"
for i in lb-cli lb-srv; do
	lab_xdp_attached "$i" || fail "after SIGTERM no XDP program on $i (the data plane should stay)"
done
lab_sweep 4 11 20 1 >"$E2E_TMP/sweep"
e2e_check affinity "$E2E_TMP/sweep" --backends b1,b2,b3 --expect 10

# down detaches everything and removes the pins.
rc=0
timeout 20 nsenter --net=/run/netns/lp-lb "$LIMPET" --socket "$LAB_SOCKET" down --config "$cfg" \
	>"$E2E_TMP/down.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "limpet down exited $rc: $(tr '\n' '|' <"$E2E_TMP/down.out")"
no_xdp "after limpet down"
[ ! -e "$LAB_PIN_DIR" ] || fail "after limpet down, $LAB_PIN_DIR still exists: $(find "$LAB_PIN_DIR" | head -n 5 | tr '\n' ' ')"
! lab_curl "$(lab_client_addr 1)" >/dev/null 2>&1 || fail "after limpet down the VIP still answers"
pass
