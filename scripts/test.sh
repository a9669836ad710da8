#!/usr/bin/env bash
# The project's test command: installs missing packages, builds everything (library, tests,
# benchmarks, apps) with AddressSanitizer + UndefinedBehaviorSanitizer in build/asan, then runs
# the whole CTest suite and exits with ctest's status. Benchmarks are built, never run here.
#
# Extra arguments go to ctest, e.g. `scripts/test.sh -L serde` or `scripts/test.sh -R Record`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/setup.sh
scripts/build.sh build/asan -DRIVULET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

# LeakSanitizer works in this sandbox (it needs ptrace; checked), so leaks fail tests.
# A caller may override either variable.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
ctest --test-dir build/asan --output-on-failure -j2 --timeout 300 "$@" || status=$?
exit "$status"
