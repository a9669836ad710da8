#!/usr/bin/env bash
# Builds the Release configuration and runs one benchmark program, or all of them.
#   scripts/bench.sh                    # every benchmarks/*_bench.cpp
#   scripts/bench.sh stateless_chain    # benchmarks/stateless_chain_bench.cpp
# Extra arguments go to the benchmark (Google Benchmark flags such as --benchmark_filter=...).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/setup.sh >&2
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >&2

names=()
if [[ $# -gt 0 && "$1" != -* ]]; then
  names=("$1")
  shift
else
  for f in benchmarks/*_bench.cpp; do
    n="$(basename "$f" .cpp)"
    names+=("${n%_bench}")
  done
fi
for name in "${names[@]}"; do
  echo "== ${name}"
  "build/release/benchmarks/rivulet_${name}_bench" "$@"
done
