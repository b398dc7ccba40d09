#!/usr/bin/env bash
# Runs the test suites with node's test runner. Node 20 does not expand globs or find .ts
# files by itself (it can run 0 tests and pass), so the file list is built here and must
# be non-empty.
set -euo pipefail
cd "$(dirname "$0")/.."
tiers="${*:-unit integration}"
files=()
for tier in $tiers; do
  # "bench" is the benchmark scripts' own unit tests (argument parsing, load plans, reports).
  dir="test/$tier"; [ "$tier" = bench ] && dir=bench/lib
  while IFS= read -r f; do files+=("$f"); done < <(find "$dir" -name '*.test.ts' | sort)
done
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found for: $tiers" >&2; exit 1; fi
echo "running ${#files[@]} test files ($tiers)"
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
