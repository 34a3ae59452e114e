#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run.sh - run the end-to-end tests one after the other.
#
#   bash tests/e2e/run.sh                 every tests/e2e/test_*.sh
#   bash tests/e2e/run.sh affinity drain  named ones (affinity, test_affinity
#                                         or test_affinity.sh)
#
# Leftovers of an earlier run are cleaned first. Each test gets at most
# E2E_TEST_TIMEOUT seconds (default 240), or what a line "# e2e-timeout: N"
# in it asks for when that is longer. The last line is the summary
# "e2e: N passed, N failed, N skipped"; the exit status is non-zero if any
# test failed.
set -euo pipefail

dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lab.sh
. "$dir/../../scripts/lab.sh"
timeout_s=${E2E_TEST_TIMEOUT:-240}

[ "$(id -u)" -eq 0 ] || { echo "e2e: must run as root" >&2; exit 1; }

tests=()
if [ $# -eq 0 ]; then
	for t in "$dir"/test_*.sh; do tests+=("$t"); done
else
	for name in "$@"; do
		name=${name##*/}
		name=${name%.sh}
		name=${name#test_}
		[ -f "$dir/test_$name.sh" ] || { echo "e2e: no test named '$name'" >&2; exit 2; }
		tests+=("$dir/test_$name.sh")
	done
fi

lab_down
out=$(mktemp /tmp/limpet-e2e-run.XXXXXX)
trap 'rm -f "$out"' EXIT
passed=0 failed=0 skipped=0
failures=()
start=$SECONDS
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	name=${name#test_}
	echo "=== e2e: $name"
	t0=$SECONDS
	rc=0
	limit=$(sed -n 's/^# e2e-timeout: \([0-9][0-9]*\)$/\1/p' "$t")
	[ "${limit:-0}" -gt "$timeout_s" ] || limit=$timeout_s
	timeout --kill-after=10 "$limit" bash "$t" | tee "$out" || rc=${PIPESTATUS[0]}
	case $rc in
	0) passed=$((passed + 1)) ;;
	77) skipped=$((skipped + 1)) ;;
	*)
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "FAIL: $name: timed out after ${limit}s"
		elif ! grep -q "^FAIL: " "$out"; then
			echo "FAIL: $name: exited $rc without a result line"
		fi
		failed=$((failed + 1))
		failures+=("$name")
		;;
	esac
	echo "    ($name: $((SECONDS - t0)) s)"
	lab_down # in case the test could not clean up (killed by timeout)
done

[ "$failed" -eq 0 ] || echo "e2e: failed: ${failures[*]}"
echo "e2e: total time $((SECONDS - start)) s"
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
