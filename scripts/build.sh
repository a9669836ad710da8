#!/usr/bin/env bash
# Usage: scripts/build.sh <build-dir> [cmake args...]
#
# Configures <build-dir> (a path relative to the current directory, or absolute) when it has not
# been configured yet or when the cmake arguments differ from the last configure, then builds
# everything (library, tests, benchmarks, apps) with all cores. Uses Ninja when it is installed
# (a build dir keeps the generator it was first configured with) and ccache when it is.
set -euo pipefail

if (($# < 1)); then
  echo "usage: $0 <build-dir> [cmake args...]" >&2
  exit 2
fi
build_dir="$1"
shift

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"

generator=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
args=()
if ccache="$(command -v ccache)"; then
  # Paths stay absolute (no CCACHE_BASEDIR): tests may locate files through __FILE__, and
  # diagnostics stay clickable. To share cache entries between clones at different paths, a
  # user may export CCACHE_BASEDIR=<checkout> CCACHE_NOHASHDIR=true at that cost.
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$ccache" -DCMAKE_C_COMPILER_LAUNCHER="$ccache")
else
  args+=(-DCMAKE_CXX_COMPILER_LAUNCHER= -DCMAKE_C_COMPILER_LAUNCHER=)
fi
args+=("$@")

# Re-run cmake only when the arguments changed; otherwise the build re-runs it by itself
# whenever a CMakeLists.txt changes.
stamp="$build_dir/.rivulet-configure-args"
wanted="$(printf '%s\n' "$source_dir" "${args[@]}")"
if [[ ! -f "$build_dir/CMakeCache.txt" || ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
  rm -f "$stamp"
  cmake -S "$source_dir" -B "$build_dir" "${generator[@]}" "${args[@]}"
  printf '%s\n' "$wanted" >"$stamp"
fi

cmake --build "$build_dir" -j"$(nproc)"
