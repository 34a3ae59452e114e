#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run-all.sh - every test tier, cheapest first (`make test` builds the
# binaries, then runs this from the top of the tree):
#   layers  scripts/check-layers.sh (which part of user/ may call which)
#   unit    build/unit-tests (Criterion)
#   unit-asan  build/san/unit-tests: the same, built with ASan + UBSan
#   packet  tests/packet/run.sh build/packet-tests (Criterion, XDP programs
#           through bpf_prog_test_run_opts)
#   fuzz    tests/fuzz/run.sh smoke build/fuzz 3 (each libFuzzer target ~3 s,
#           the regression inputs, the BPF/userspace differential check)
#   e2e     tests/e2e/run.sh (network namespaces, nginx, the real limpet)
# Each tier's own summary is parsed (Criterion's "[====] Synthesis:" line,
# fuzz's "fuzz: N passed, N failed", e2e's "e2e: N passed, N failed, N
# skipped"); a tier that crashes or does not report counts as one failure.
# The last line is "N passed, N failed" (plus ", N skipped" when some
# were); the exit status is non-zero on any failure.
set -euo pipefail

cd "$(dirname "$0")/.."
build=${BUILD:-build}

if [ "$(id -u)" -ne 0 ]; then
	echo "run-all: the packet and end-to-end tests need root (BPF, network namespaces); run as root" >&2
	exit 1
fi
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf || { echo "run-all: cannot mount bpffs on /sys/fs/bpf" >&2; exit 1; }
fi

total_pass=0 total_fail=0 total_skip=0
problems=()
log=$(mktemp /tmp/limpet-run-all.XXXXXX)
trap 'rm -f "$log"' EXIT

# Add a tier's counts; <rc> is its exit status, <pass> <fail> <skip> its
# parsed counts or empty when it printed no summary.
account() {
	local tier=$1 rc=$2 pass=$3 fail=$4 skip=$5
	if [ -z "$pass" ]; then
		echo "run-all: $tier: no summary line (exit status $rc): counted as one failure"
		problems+=("$tier: no summary")
		total_fail=$((total_fail + 1))
		return
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
	[ "$fail" -eq 0 ] || problems+=("$tier: $fail failed")
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		echo "run-all: $tier: exit status $rc although it reported no failure: counted as one failure"
		problems+=("$tier: exit $rc")
		total_fail=$((total_fail + 1))
	fi
	echo "run-all: $tier: $pass passed, $fail failed, $skip skipped"
}

# Run <cmd...> showing its output; parse Criterion's synthesis line.
criterion_tier() {
	local tier=$1 rc=0 line tested passing failing crashing
	shift
	echo "=== $tier: $*"
	"$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
	# Criterion colours its output on a terminal; strip escapes before parsing.
	line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\[=+\] Synthesis:' | tail -n 1) || true
	if [[ $line =~ Tested:\ *([0-9]+).*Passing:\ *([0-9]+).*Failing:\ *([0-9]+).*Crashing:\ *([0-9]+) ]]; then
		tested=${BASH_REMATCH[1]} passing=${BASH_REMATCH[2]}
		failing=${BASH_REMATCH[3]} crashing=${BASH_REMATCH[4]}
		: "$tested"
		account "$tier" "$rc" "$passing" $((failing + crashing)) 0
	else
		account "$tier" "$rc" "" "" ""
	fi
}

missing() { # <tier> <what>
	echo "run-all: $1: $2 missing (run make test): counted as one failure"
	problems+=("$1: $2 missing")
	total_fail=$((total_fail + 1))
}

echo "=== layers: bash scripts/check-layers.sh"
if bash scripts/check-layers.sh; then
	account layers 0 1 0 0
else
	account layers 1 0 1 0
fi

if [ -x "$build/unit-tests" ]; then
	criterion_tier unit "$build/unit-tests"
else
	missing unit "$build/unit-tests"
fi

# Any ASan or UBSan report aborts the test it happens in: a failure.
if [ -x "$build/san/unit-tests" ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		criterion_tier unit-asan "$build/san/unit-tests"
else
	missing unit-asan "$build/san/unit-tests"
fi

if [ -x "$build/packet-tests" ] && [ -f tests/packet/run.sh ]; then
	criterion_tier packet bash tests/packet/run.sh "$build/packet-tests"
else
	missing packet "$build/packet-tests or tests/packet/run.sh"
fi

# The fuzz tier: each libFuzzer target a few seconds, the regression
# inputs, the BPF/userspace differential check (tests/fuzz/run.sh).
if [ -x "$build/fuzz/diff_bpf" ] && compgen -G "$build/fuzz/fuzz_*" >/dev/null; then
	echo "=== fuzz: bash tests/fuzz/run.sh smoke $build/fuzz 3"
	rc=0
	bash tests/fuzz/run.sh smoke "$build/fuzz" 3 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
	line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1) || true
	if [[ $line =~ ^fuzz:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		account fuzz "$rc" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" 0
	else
		account fuzz "$rc" "" "" ""
	fi
else
	missing fuzz "$build/fuzz (make fuzz-build)"
fi

echo "=== e2e: bash tests/e2e/run.sh"
rc=0
bash tests/e2e/run.sh 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1) || true
if [[ $line =~ ^e2e:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
	account e2e "$rc" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
else
	account e2e "$rc" "" "" ""
fi

echo
[ ${#problems[@]} -eq 0 ] || echo "run-all: problems: $(IFS=';'; echo "${problems[*]}")"
summary="$total_pass passed, $total_fail failed"
[ "$total_skip" -eq 0 ] || summary+=", $total_skip skipped"
echo "$summary"
[ "$total_fail" -eq 0 ]
