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
  [ -d "$dir" ] || { echo "no directory $dir for tier $tier" >&2; exit 1; }
  while IFS= read -r f; do files+=("$f"); done < <(find "$dir" -name '*.test.ts' | sort)
done
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found for: $tiers" >&2; exit 1; fi
# Files that start a whole PoH network (4 validator processes, each with its clock, verifier
# and execution threads) run alone, after the rest: beside another multi-process file they
# starve each other on 2 cores.
together=(); alone=()
for f in "${files[@]}"; do
  case "$f" in test/integration/poh-network.test.ts) alone+=("$f") ;; *) together+=("$f") ;; esac
done
echo "running ${#files[@]} test files ($tiers): ${#together[@]} two at a time, then ${#alone[@]} alone"
status=0
if [ "${#together[@]}" -gt 0 ]; then
  node --import tsx --test --test-concurrency=2 --test-reporter=spec "${together[@]}" || status=$?
fi
if [ "${#alone[@]}" -gt 0 ]; then
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "${alone[@]}" || status=$?
fi
exit "$status"
