# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# lib.sh - shared helpers of the end-to-end tests, to be sourced.
#
# A test: source this file, call e2e_begin NAME, set `trap lab_down EXIT`,
# build its lab (scripts/lab.sh), start limpet, assert with the helpers
# below, and end with pass. fail/skip print the one result line and exit
# (1 / 77); on failure the controller's log tail goes to stderr first.
# Every wait is bounded.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lab.sh
. "$E2E_DIR/../../scripts/lab.sh"
E2E_CHECK=$E2E_DIR/e2e_check.py
E2E_NAME=${E2E_NAME:-e2e}
E2E_TMP=$LAB_DIR/e2e		# scratch space, removed by lab_down

pass() {
	echo "PASS: $E2E_NAME"
	exit 0
}

fail() {
	local log=${LAB_LIMPET_LOG:-}
	if [ -n "$log" ] && [ -s "$log" ]; then
		echo "--- $E2E_NAME: last lines of $log" >&2
		tail -n 15 "$log" | sed 's/^/  | /' >&2
	fi
	echo "FAIL: $E2E_NAME: $*"
	exit 1
}

skip() {
	echo "SKIP: $E2E_NAME: $*"
	exit 77
}

# Progress notes, on stderr so the result line stands out.
note() { echo "  $E2E_NAME: $*" >&2; }

# Any command failing outside a condition ends the test with a FAIL line
# naming it (set -e alone would exit silently).
_e2e_err() {
	local rc=$1 line=$2 cmd=$3
	trap - ERR
	if [ "$BASH_SUBSHELL" -gt 0 ]; then
		echo "FAIL: $E2E_NAME: '$cmd' failed (exit $rc) at line $line" >&2
	else
		echo "FAIL: $E2E_NAME: '$cmd' failed (exit $rc) at line $line"
	fi
	exit 1
}

# Check what every test needs; skip when the kernel lacks a feature.
e2e_begin() {
	E2E_NAME=$1
	set -E
	trap '_e2e_err $? $LINENO "$BASH_COMMAND"' ERR
	[ "$(id -u)" -eq 0 ] || fail "must run as root"
	[ -x "$LIMPET" ] || fail "$LIMPET not built (run make)"
	for t in ip ethtool nginx curl ss nsenter "$LAB_PYTHON"; do
		command -v "$t" >/dev/null || fail "missing tool: $t"
	done
	lab_mount_bpffs 2>/dev/null || skip "cannot mount bpffs on /sys/fs/bpf"
	if ! ip link add lp-probe0 type veth peer name lp-probe1 2>/dev/null; then
		skip "kernel without veth support"
	fi
	ip link del lp-probe0 2>/dev/null || true
}

# Build the lab, or fail with lab.sh's reason.
e2e_lab_up() {
	local out
	out=$(lab_up "$@" 2>&1) || fail "lab setup failed: $(echo "$out" | tail -n 1)"
	mkdir -p "$E2E_TMP"
}

# Start the controller, or fail.
e2e_start() {
	lab_limpet_start "$1" || fail "limpet run --config $1 did not become ready"
	lab_xdp_attached lb-cli || fail "limpet ready but no XDP program on lb-cli"
	lab_xdp_attached lb-srv || fail "limpet ready but no XDP program on lb-srv"
}

# Run the CLI; its stdout in $E2E_OUT, stderr in $E2E_ERR, status in $E2E_RC.
e2e_cli() {
	E2E_RC=0
	mkdir -p "$E2E_TMP"
	lab_cli "$@" >"$E2E_TMP/cli.out" 2>"$E2E_TMP/cli.err" || E2E_RC=$?
	E2E_OUT=$(cat "$E2E_TMP/cli.out")
	E2E_ERR=$(cat "$E2E_TMP/cli.err")
}

# Run the CLI and fail the test unless it succeeds.
e2e_cli_ok() {
	e2e_cli "$@"
	[ "$E2E_RC" -eq 0 ] || fail "limpet $* exited $E2E_RC: $(echo "$E2E_ERR" | head -n 1)"
}

# The global counter <name> of `limpet stats --json`; -1 when it has none.
e2e_global() {
	e2e_cli_ok stats --json >/dev/null
	"$LAB_PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.read())["global"].get(sys.argv[1], -1))' \
		"$1" <<<"$E2E_OUT"
}

# `limpet status --json` into <file>, or fail.
e2e_status_json() {
	e2e_cli_ok status --json
	printf '%s\n' "$E2E_OUT" >"$1"
	"$LAB_PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null ||
		fail "limpet status --json printed invalid JSON: $(head -c 200 "$1")"
}

# The state of backend <name> of <service> in status JSON <file>.
e2e_backend_field() {
	"$LAB_PYTHON" "$E2E_CHECK" field "$1" "$2" "$3" "$4"
}

# Run an e2e_check.py subcommand; fail the test with its last line if it fails.
e2e_check() {
	local out
	if ! out=$("$LAB_PYTHON" "$E2E_CHECK" "$@" 2>&1); then
		fail "$(echo "$out" | tail -n 1)"
	fi
	[ -z "$out" ] || note "$out"
}

# Start a download of /big through the VIP from client <addr> in the
# background into <file>; sets E2E_DL_PID. <rate> is nginx's limit_rate.
e2e_download_start() {
	local addr=$1 file=$2 rate=${3:-5m}
	ip netns exec lp-client curl -s --interface "$addr" --connect-timeout 3 --max-time 120 \
		-o "$file" -w '%{http_code}\n' "http://$LAB_VIP4/big?rate=$rate" \
		>"$file.status" 2>&1 &
	# shellcheck disable=SC2034 # for the caller
	E2E_DL_PID=$!
}

# Wait (<timeout> s) for the download <pid> writing <file>; fail unless it
# completed with status 200 and the content of /big.
e2e_download_check() {
	local pid=$1 file=$2 timeout=${3:-90} rc=0 sum
	lab_wait "$timeout" _lab_not_alive "$pid" || fail "download still running after ${timeout}s"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "download through the VIP failed: curl exit $rc after $(stat -c %s "$file" 2>/dev/null || echo 0) bytes"
	[ "$(cat "$file.status")" = 200 ] || fail "download got HTTP status $(cat "$file.status")"
	sum=$(sha256sum <"$file" | cut -d' ' -f1)
	[ "$sum" = "$(cat "$LAB_DIR/big.sha256")" ] ||
		fail "downloaded file corrupt: $(stat -c %s "$file") bytes, sha256 $sum"
}

# The backend (bK) holding an established connection on port 80 from
# <addr>; waits up to 5 s. Prints nothing if none.
e2e_backend_of_conn() {
	local addr=$1 k n end
	n=$(lab_n_backends)
	end=$((SECONDS + 5))
	while [ "$SECONDS" -lt "$end" ]; do
		for ((k = 1; k <= n; k++)); do
			if ip netns exec "lp-b$k" ss -Htn state established '( sport = :80 )' 2>/dev/null |
				awk '{ print $4 }' | grep -q "^$addr:"; then
				echo "b$k"
				return 0
			fi
		done
		sleep 0.1
	done
}

# Two wrk loads through the IPv4 VIP for <duration> s, 20 connections each:
# keep-alive, and "Connection: close". Their pids in E2E_WRK_KA / E2E_WRK_CL.
e2e_wrk_start() {
	local duration=$1
	command -v wrk >/dev/null || fail "missing tool: wrk"
	E2E_WRK_DURATION=$duration
	ip netns exec lp-client timeout $((duration + 15)) wrk -t1 -c20 -d"${duration}s" \
		"http://$LAB_VIP4/" >"$E2E_TMP/wrk.keepalive" 2>&1 &
	E2E_WRK_KA=$!
	ip netns exec lp-client timeout $((duration + 15)) wrk -t1 -c20 -d"${duration}s" \
		-H 'Connection: close' "http://$LAB_VIP4/" >"$E2E_TMP/wrk.close" 2>&1 &
	E2E_WRK_CL=$!
}

# Wait for both loads of e2e_wrk_start and fail unless each completed
# requests with no socket error and no non-2xx response across <what>.
e2e_wrk_check() {
	local what=$1 p rc=0 m f n
	for p in "$E2E_WRK_KA" "$E2E_WRK_CL"; do
		lab_wait $((E2E_WRK_DURATION + 20)) _lab_not_alive "$p" ||
			fail "wrk still running long after ${E2E_WRK_DURATION}s"
	done
	wait "$E2E_WRK_KA" || rc=$?
	[ "$rc" -eq 0 ] || fail "wrk (keep-alive) exited $rc: $(tr '\n' '|' <"$E2E_TMP/wrk.keepalive")"
	wait "$E2E_WRK_CL" || rc=$?
	[ "$rc" -eq 0 ] || fail "wrk (close) exited $rc: $(tr '\n' '|' <"$E2E_TMP/wrk.close")"
	for m in keepalive close; do
		f=$E2E_TMP/wrk.$m
		n=$(awk '/requests in/ { print $1 }' "$f")
		[ "${n:-0}" -gt 0 ] || fail "wrk ($m) completed no request: $(tr '\n' '|' <"$f")"
		! grep -q "Socket errors" "$f" || fail "wrk ($m) across $what: $(grep "Socket errors" "$f")"
		! grep -q "Non-2xx" "$f" || fail "wrk ($m) across $what: $(grep "Non-2xx" "$f")"
		note "wrk ($m): $n requests, no errors"
	done
}

# BIRD (the cluster tests' BGP daemons). E2E_BIRDS: the pid files of those
# started, for e2e_birds_stop.
E2E_BIRDS=()

# $1: namespace, $2: config text; runs BIRD there with its socket and pid in $E2E_TMP.
e2e_bird_start() {
	local ns=$1 conf=$E2E_TMP/bird-$1.conf
	printf '%s\n' "$2" >"$conf"
	ip netns exec "$ns" bird -c "$conf" -s "$E2E_TMP/bird-$ns.ctl" -P "$E2E_TMP/bird-$ns.pid" ||
		fail "bird would not start in $ns"
	E2E_BIRDS+=("$E2E_TMP/bird-$ns.pid")
}

# Append node n1's cluster block to config <file>: nodes n1 (10.10.0.1) and
# n2 at <n2 address>, the VIPs announced on lo.
e2e_cluster_config() {
	cat >>"$1" <<EOF
cluster:
  node: n1
  announce_interface: lo
  nodes:
    - {name: n1, address: ${3:-10.10.0.1}}
    - {name: n2, address: $2}
EOF
}

# Stop every BIRD e2e_bird_start started; never fails.
e2e_birds_stop() {
	local p
	for p in "${E2E_BIRDS[@]}"; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	return 0
}
