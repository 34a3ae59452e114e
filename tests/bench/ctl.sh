#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# ctl.sh - control-plane figures for `make bench`: a generated configuration
# of 1,000 L4 services x 100 backends (ring_size 10007, >= 100 x backends),
# plus one service of 999 backends (ring_size 100003), loaded by the real
# controller (`limpet run`, XDP attached to a veth in a namespace of its own).
#
#   ctl_load_ms        `limpet run` started until `limpet status` answers
#   ctl_reload_ms      `limpet reload` of the unchanged file
#   ctl_reload_all_ms  `limpet reload` of a file changing one backend's
#                      weight in every service (every ring rebuilt)
#   ctl_rss_mb         the controller's resident memory after load and reloads
#   ctl_ring_1000_ms   `limpet backend add` of the 1,000th backend of the big
#                      service until acknowledged (its ring rebuilt)
#
# Each figure is the median of BENCH_CTL_ROUNDS rounds (default 3), printed
# as `bench ctl_<name> <median> <unit> (min X max Y)`. Each load is proven:
# `limpet status --json` must list every service and backend, and the status
# after each backend add must hold the new backend. Exits non-zero otherwise.
# BENCH_CTL_SERVICES / BENCH_CTL_BACKENDS change the size.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LIMPET=${LIMPET:-$REPO/build/limpet}
ROUNDS=${BENCH_CTL_ROUNDS:-3}
N_SVC=${BENCH_CTL_SERVICES:-1000}
N_BK=${BENCH_CTL_BACKENDS:-100}
BIG=999 # backends of the big service; the timed add makes 1,000
NS=limpet-bctl
INSTANCE=benchctl
SOCK=/run/limpet/$INSTANCE.sock
DIR=$(mktemp -d /tmp/limpet-bctl.XXXXXX)
PID=

die() {
	echo "bench ctl: $*" >&2
	exit 1
}

stop_limpet() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null || true
	fi
	PID=
	# Detach and unpin: the next round loads from scratch.
	if [ -e /run/netns/$NS ] && [ -f "$DIR/a.yaml" ]; then
		nsenter --net=/run/netns/$NS "$LIMPET" --socket "$SOCK" down --config "$DIR/a.yaml" \
			>/dev/null 2>&1 || true
	fi
}

cleanup() {
	stop_limpet
	ip netns del $NS 2>/dev/null || true
	rm -rf "/sys/fs/bpf/limpet/$INSTANCE" "$SOCK" "/run/limpet/$INSTANCE.lock" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$LIMPET" ] || die "$LIMPET not built (run make)"
now_us() { echo "${EPOCHREALTIME/[,.]/}"; }

# gen_config FILE WEIGHT0: every service's b0 has weight WEIGHT0.
gen_config() {
	awk -v n_svc="$N_SVC" -v n_bk="$N_BK" -v big="$BIG" -v w0="$2" -v dir="$DIR" \
		-v inst="$INSTANCE" '
	function bk(name, i, w) {
		# 10.32.0.0/11: a distinct address per backend
		printf "      - {name: %s, address: 10.%d.%d.%d, port: 8080, weight: %d}\n", name,
			32 + int(i / 65536), int(i / 256) % 256, i % 256, w
	}
	BEGIN {
		printf "instance: %s\nsecret_file: %s/secret\n", inst, dir
		printf "interfaces:\n  - name: bc0\n    xdp_mode: native\nservices:\n"
		for (s = 0; s < n_svc; s++) {
			printf "  - name: s%d\n    vip: 10.200.%d.%d\n    port: 80\n", s,
				int(s / 250), s % 250 + 1
			printf "    protocol: tcp\n    mode: l4\n    forwarding: nat\n"
			printf "    ring_size: 10007\n    health: {type: none}\n    backends:\n"
			for (b = 0; b < n_bk; b++)
				bk("b" b, s * n_bk + b, b == 0 ? w0 : 1)
		}
		printf "  - name: big\n    vip: 10.201.0.1\n    port: 80\n"
		printf "    protocol: tcp\n    mode: l4\n    forwarding: nat\n"
		printf "    ring_size: 100003\n    health: {type: none}\n    backends:\n"
		for (b = 0; b < big; b++)
			bk("b" b, n_svc * n_bk + b, 1)
	}' >"$1"
}

# summary NAME UNIT VALUES...: the bench line, median (min max).
summary() {
	local name=$1 unit=$2
	shift 2
	printf '%s\n' "$@" | sort -n | awk -v name="$name" -v unit="$unit" '
		{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "bench %s %.1f %s (min %.1f max %.1f)\n", name, m, unit, v[1], v[NR] }'
}

ms_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

cli() { "$LIMPET" --socket "$SOCK" "$@"; }

# check_loaded SERVICES BACKENDS: status lists exactly that many.
check_loaded() {
	local got
	got=$(cli status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["services"]
print(len(s), sum(len(x["backends"]) for x in s))')
	[ "$got" = "$1 $2" ] || die "status lists $got services/backends, expected $1 $2"
}

ip netns add $NS
ip -n $NS link set lo up
ip -n $NS link add bc0 type veth peer name bc1
ip -n $NS link set bc0 up
ip -n $NS link set bc1 up
gen_config "$DIR/a.yaml" 1
gen_config "$DIR/b.yaml" 2
cp "$DIR/a.yaml" "$DIR/run.yaml"
want_svc=$((N_SVC + 1))
want_bk=$((N_SVC * N_BK + BIG))

load=() reload=() reload_all=() rss=() ring=()
echo
echo "control plane: $N_SVC services x $N_BK backends + 1 x $BIG, $ROUNDS rounds"
for ((r = 1; r <= ROUNDS; r++)); do
	cp "$DIR/a.yaml" "$DIR/run.yaml"
	t0=$(now_us)
	nsenter --net=/run/netns/$NS "$LIMPET" --socket "$SOCK" run --config "$DIR/run.yaml" \
		>"$DIR/limpet.$r.log" 2>&1 </dev/null &
	PID=$!
	until cli status >/dev/null 2>&1; do
		kill -0 "$PID" 2>/dev/null || { cat "$DIR/limpet.$r.log" >&2; die "limpet run exited"; }
		sleep 0.01
	done
	load+=("$(ms_since "$t0")")
	check_loaded "$want_svc" "$want_bk"

	t0=$(now_us)
	cli reload >/dev/null || die "reload failed"
	reload+=("$(ms_since "$t0")")

	cp "$DIR/b.yaml" "$DIR/run.yaml"
	t0=$(now_us)
	cli reload >/dev/null || die "reload (all rings) failed"
	reload_all+=("$(ms_since "$t0")")
	w=$(cli status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["services"]
print(sum(1 for x in s for b in x["backends"] if b["name"] == "b0" and b["weight"] == 2))')
	[ "$w" = "$N_SVC" ] || die "after reload $w services have b0 at weight 2, expected $N_SVC"

	for k in 1 2; do
		t0=$(now_us)
		cli backend add big "x$k" 10.63.0.$k --port 8080 >/dev/null || die "backend add failed"
		ring+=("$(ms_since "$t0")")
		check_loaded "$want_svc" $((want_bk + 1))
		cli backend remove big "x$k" >/dev/null || die "backend remove failed"
	done
	rss+=("$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")")
	printf 'round %d: load %s ms, reload %s ms, reload (all rings) %s ms, ring 1000 %s ms, rss %s MB\n' \
		"$r" "${load[-1]}" "${reload[-1]}" "${reload_all[-1]}" "${ring[-1]}" "${rss[-1]}"
	stop_limpet
done

summary ctl_load_ms ms "${load[@]}"
summary ctl_reload_ms ms "${reload[@]}"
summary ctl_reload_all_ms ms "${reload_all[@]}"
summary ctl_rss_mb MB "${rss[@]}"
summary ctl_ring_1000_ms ms "${ring[@]}"
