#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run.sh - run the libFuzzer targets of tests/fuzz/ one after another (the
# machine has few cores; libFuzzer uses one each). Called by tests/fuzz/fuzz.mk:
#
#   run.sh fuzz  BUILD_DIR SECONDS TARGET...   each target SECONDS, from its
#          seeds (tests/fuzz/corpus/<t>) into BUILD_DIR/corpus/<t>; a crasher
#          is minimised into tests/fuzz/regress/<t>/
#   run.sh smoke BUILD_DIR SECONDS TARGET...   each target SECONDS from its
#          seeds, every regression input once, then the BPF differential
#          check (diff_bpf) over the head and token corpora (root)
#   run.sh merge BUILD_DIR 0 TARGET...          fold BUILD_DIR/corpus/<t> into
#          tests/fuzz/corpus/<t>, keeping only inputs that add coverage
#
# Without TARGETs: every BUILD_DIR/fuzz_* binary.
# Each fuzzing run, each replay and the differential check is one check;
# the last line is "fuzz: N passed, N failed", the exit status non-zero on a
# failure (tests/run-all.sh parses it as the fuzz tier).
set -uo pipefail

cd "$(dirname "$0")/../.."
mode=${1:?mode}
dir=${2:?build dir}
secs=${3:?seconds}
shift 3
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	# No target named: every one built.
	for f in "$dir"/fuzz_*; do
		[ -x "$f" ] && targets+=("${f##*/fuzz_}")
	done
fi
src=tests/fuzz
pass=0 fail=0

# Longest input per target: past the head limit (16 KB) for the head and
# the slow path; small for the fixed-size codecs.
max_len() {
	case $1 in
	head | slowpath | config) echo 20000 ;;
	insert) echo 4096 ;;
	*) echo 256 ;;
	esac
}

check() { # <ok> <what>
	if [ "$1" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "fuzz: FAILED: $2"
	fi
}

# The stats line libFuzzer ends with: "<target>: cov N ft N exec/s N runs N".
stats() { # <target> <log>
	local line
	line=$(grep -E '^#[0-9]+[[:space:]]+DONE ' "$2" | tail -n 1)
	if [[ $line =~ cov:\ ([0-9]+)\ ft:\ ([0-9]+).*exec/s:\ ([0-9]+) ]]; then
		echo "fuzz: $1: cov ${BASH_REMATCH[1]} ft ${BASH_REMATCH[2]} exec/s ${BASH_REMATCH[3]}" \
			"runs $(grep -oE '^stat::number_of_executed_units: [0-9]+' "$2" | grep -oE '[0-9]+$')"
	fi
}

# Minimise each crasher of <target> into tests/fuzz/regress/<target>/.
keep_crashers() { # <target>
	local t=$1 f out
	mkdir -p "$src/regress/$t"
	for f in "$dir/crash/$t"/*; do
		[ -f "$f" ] || continue
		out="$src/regress/$t/$(basename "$f")"
		"$dir/fuzz_$t" -minimize_crash=1 -runs=20000 -exact_artifact_path="$out" "$f" \
			>/dev/null 2>&1 || true
		[ -f "$out" ] || cp "$f" "$out"
		echo "fuzz: $t: crasher kept as $out (reproduce: $dir/fuzz_$t $out)"
		rm -f "$f"
	done
}

fuzz_one() { # <target> <work corpus dir>
	local t=$1 work=$2 log rc=0
	log="$dir/$t.log"
	mkdir -p "$work" "$dir/crash/$t"
	"$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$(max_len "$t")" -print_final_stats=1 \
		-artifact_prefix="$dir/crash/$t/" "$work" "$src/corpus/$t" >"$log" 2>&1 || rc=$?
	stats "$t" "$log"
	if [ $rc -ne 0 ]; then
		grep -E 'property failed|ERROR: |SUMMARY: ' "$log" | head -n 5
		echo "fuzz: $t: exit status $rc, log in $log"
	fi
	return $rc
}

replay() { # <target>: every regression input once
	local t=$1 files
	mapfile -t files < <(find "$src/regress/$t" -type f 2>/dev/null | sort)
	[ ${#files[@]} -gt 0 ] || return 0
	"$dir/fuzz_$t" -runs=1 "${files[@]}" >"$dir/$t.regress.log" 2>&1 || {
		grep -E 'property failed|ERROR: |Running: ' "$dir/$t.regress.log" | tail -n 3
		return 1
	}
}

case $mode in
fuzz)
	for t in "${targets[@]}"; do
		fuzz_one "$t" "$dir/corpus/$t"
		rc=$?
		keep_crashers "$t"
		check $rc "fuzz_$t"
	done
	;;
smoke)
	for t in "${targets[@]}"; do
		rm -rf "$dir/smoke/$t"
		fuzz_one "$t" "$dir/smoke/$t"
		check $? "fuzz_$t (crasher in $dir/crash/$t/)"
		replay "$t"
		check $? "regression inputs of $t ($src/regress/$t)"
	done
	if [ "$(id -u)" -ne 0 ]; then
		echo "fuzz: diff_bpf needs root (BPF): counted as a failure"
		check 1 diff_bpf
	else
		# Only the folders there are: git keeps no empty regress/<target>/.
		args=()
		for t in head token; do
			args+=("$t")
			for d in "$src/corpus/$t" "$src/regress/$t" "$dir/smoke/$t"; do
				[ -d "$d" ] && args+=("$d")
			done
		done
		"$dir/diff_bpf" "${args[@]}" 2>&1 | tail -n 20
		check "${PIPESTATUS[0]}" "diff_bpf (BPF and userspace differ)"
	fi
	;;
merge)
	for t in "${targets[@]}"; do
		[ -d "$dir/corpus/$t" ] || continue
		"$dir/fuzz_$t" -merge=1 -max_len="$(max_len "$t")" "$src/corpus/$t" "$dir/corpus/$t" \
			>"$dir/$t.merge.log" 2>&1
		check $? "merge of $t"
		echo "fuzz: $t: $(find "$src/corpus/$t" -type f | wc -l) inputs in $src/corpus/$t"
	done
	;;
*)
	echo "usage: $0 fuzz|smoke|merge BUILD_DIR SECONDS TARGET..." >&2
	exit 2
	;;
esac

echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
