#!/usr/bin/env bash
# Runs each unit-test binary given on the command line (each a Check suite),
# prints its output, and closes with one summary line of suites.
set -u
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-600}
passed=0 failed=0 failed_names=()
for t in "$@"; do
    echo "== $t"
    if "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names+=("$t")
    fi
done
[ $failed -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
