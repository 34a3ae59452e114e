#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# test_control_checks.sh - the control socket refuses what the configuration
# file refuses, in the file's words. Raw JSON requests (one line per
# connection, as any client may send them, not through the CLI) ask the
# running controller to add a backend named "a b", at 0.0.0.0,
# 255.255.255.255, 224.0.0.1, ::, ff02::1, at the address and port of an
# existing backend, with weight 70000 or -1, and to set a weight of 70000 or
# -1. Each reply must carry the problem text `limpet run` gives for a file
# with that backend (its "FILE:LINE: KEY: " and line references aside), and
# `limpet status --json` must be identical before and after. The CLI says
# the same for a few of them, without reaching the controller.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

e2e_begin control_checks
trap lab_down EXIT
e2e_lab_up 2
cfg=$LAB_DIR/limpet.yaml
raw=$E2E_TMP/raw_request.py

# raw_request.py <socket> <json line>: prints "ok" or the reply's error, one line.
cat >"$raw" <<'EOF'
import json, socket, sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
s.close()
if not buf.endswith(b"\n") or buf.count(b"\n") != 1:
    sys.exit(f"reply is not one line: {buf[:200]!r}")
reply = json.loads(buf)
print("ok" if reply.get("ok") is True else reply.get("error", "(no error member)"))
EOF

# The reply to <json> from the controller, in $REPLY_TEXT.
raw_request() {
	REPLY_TEXT=$("$LAB_PYTHON" "$raw" "$LAB_SOCKET" "$1" 2>&1) ||
		fail "request $1: $REPLY_TEXT"
}

# The problem `limpet run` names for a file whose service web has one more
# backend (<name>, <address>, <weight>), in $FILE_PROBLEM: its one stderr line
# without "limpet: FILE:LINE: KEY: " and without " (first at line N)" or
# " (line N)".
file_problem() { # <name> <address> <weight>
	local file=$E2E_TMP/bad.yaml rc=0 line
	lab_write_config "$file" --no-v6
	cat >>"$file" <<EOF
      - name: "$1"
        address: "$2"
        port: 80
        weight: $3
EOF
	# Refused while loading the file: nothing is attached, the lab's
	# controller (holding the instance lock) is not disturbed.
	timeout 20 nsenter --net=/run/netns/lp-lb "$LIMPET" --socket "$E2E_TMP/bad.sock" run \
		--config "$file" >"$E2E_TMP/bad.out" 2>&1 </dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "limpet run accepted a backend ($1, $2, weight $3)"
	[ "$rc" -ne 124 ] || fail "limpet run with a bad backend did not exit within 20 s"
	[ "$(grep -c . "$E2E_TMP/bad.out")" -eq 1 ] ||
		fail "limpet run: expected one line on stderr: $(tr '\n' '|' <"$E2E_TMP/bad.out")"
	line=$(cat "$E2E_TMP/bad.out")
	[[ $line == "limpet: $file:"* ]] || fail "limpet run: no file:line in '$line'"
	FILE_KEY=$(sed -E 's/^limpet: [^:]+:[0-9]+: services\[0\]\.backends\[[0-9]+\]\.([a-z]+): .*/\1/' <<<"$line")
	FILE_PROBLEM=$(sed -E 's/^limpet: [^:]+:[0-9]+: [^ ]+: //; s/ \((first at )?line [0-9]+\)$//' <<<"$line")
	if [ -z "$FILE_PROBLEM" ] || [ "$FILE_PROBLEM" = "$line" ]; then
		fail "limpet run: cannot read the problem in '$line'"
	fi
}

# <what>: the socket's reply $REPLY_TEXT is "<prefix><key>: $FILE_PROBLEM".
same_words() { # <what> <prefix>
	local want="$2$FILE_KEY: $FILE_PROBLEM"
	[ "$REPLY_TEXT" = "$want" ] ||
		fail "$1: the socket says '$REPLY_TEXT', the file '$want'"
	note "$1: $REPLY_TEXT"
}

lab_write_config "$cfg"
e2e_start "$cfg"
e2e_status_json "$E2E_TMP/status.before"
b1=$(lab_backend_addr 1)
spare=10.20.0.99

# backend add: the same backend, through the file and through the socket.
check_add() { # <what> <name> <address> <weight>
	local w=${4:-1}
	file_problem "$2" "$3" "$w"
	if [ -n "${4:-}" ]; then
		raw_request "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"$2\",\"address\":\"$3\",\"weight\":$w}"
	else
		raw_request "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"$2\",\"address\":\"$3\"}"
	fi
	same_words "$1" "backend add: "
}

check_add "name with a space" "a b" "$spare"
check_add "unspecified IPv4" b9 0.0.0.0
check_add "IPv4 broadcast" b9 255.255.255.255
check_add "IPv4 multicast" b9 224.0.0.1
check_add "unspecified IPv6" b9 "::"
check_add "IPv6 multicast" b9 ff02::1
check_add "address and port of b1" b9 "$b1"
check_add "weight 70000" b9 "$spare" 70000
check_add "weight -1" b9 "$spare" -1

# backend weight: the file's words for the weight itself.
for w in 70000 -1; do
	file_problem b9 "$spare" "$w"
	raw_request "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\",\"weight\":$w}"
	same_words "backend weight $w" "backend weight: "
done

# What only a request can get wrong: named, not ignored.
raw_request '{"cmd":"backend_add","service":"web","name":"b9","address":"10.20.0.99","colour":"blue"}'
[ "$REPLY_TEXT" = 'backend add: unknown member "colour"' ] ||
	fail "unknown member: got '$REPLY_TEXT'"
raw_request '{"cmd":"backend_add","service":"web","name":"b9"}'
[ "$REPLY_TEXT" = 'backend add: missing member "address"' ] ||
	fail "missing member: got '$REPLY_TEXT'"

# The CLI refuses the same values in the same words, before the socket.
for args in "a b|$spare" "b9|0.0.0.0" "b9|ff02::1"; do
	name=${args%%|*} addr=${args#*|}
	file_problem "$name" "$addr" 1
	e2e_cli backend add web "$name" "$addr"
	[ "$E2E_RC" -eq 2 ] || fail "limpet backend add web '$name' $addr exited $E2E_RC, want 2"
	[ "$E2E_ERR" = "limpet: backend add: $FILE_KEY: $FILE_PROBLEM" ] ||
		fail "CLI says '$E2E_ERR', the file '$FILE_KEY: $FILE_PROBLEM'"
done
e2e_cli backend weight web b1 70000
want='limpet: backend weight: weight: expected an integer 0-65535, got "70000"'
if [ "$E2E_RC" -ne 2 ] || [ "$E2E_ERR" != "$want" ]; then
	fail "limpet backend weight web b1 70000: exit $E2E_RC: $E2E_ERR"
fi

# Nothing of it reached the data plane or the model.
e2e_status_json "$E2E_TMP/status.after"
cmp -s "$E2E_TMP/status.before" "$E2E_TMP/status.after" ||
	fail "limpet status --json changed: $(diff "$E2E_TMP/status.before" "$E2E_TMP/status.after" | head -n 6 | tr '\n' '|')"

# The controller still takes a good backend after all that, and lets it go.
e2e_cli_ok backend add web b9 "$spare"
e2e_status_json "$E2E_TMP/status.added"
[ "$(e2e_backend_field "$E2E_TMP/status.added" web b9 address)" = "$spare" ] ||
	fail "backend b9 not in status after a good backend add"
e2e_cli_ok backend remove web b9
pass
