#!/usr/bin/env bash
# Optional code-quality check (not part of scripts/test.sh):
#   1. clang-format --dry-run -Werror on every C++ file of the project (style: .clang-format);
#   2. clang-tidy (checks: .clang-tidy) on every lib/ source, using the compile database of
#      build/asan (run scripts/test.sh or scripts/build.sh build/asan ... first).
# Exits non-zero if either reports anything.
#
# Usage: scripts/lint.sh [--format-only|--tidy-only] [build-dir (default build/asan)]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

do_format=1 do_tidy=1
case "${1:-}" in
  --format-only) do_tidy=0; shift ;;
  --tidy-only) do_format=0; shift ;;
esac
build_dir="${1:-build/asan}"

# Tracked and new (not ignored) files when in a git work tree, else everything outside build*/.
list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- "$@"
  else
    local pattern args=()
    for pattern in "$@"; do args+=(-o -path "./$pattern"); done
    find . -path './build*' -prune -o -path ./.git -prune -o -type f \( -false "${args[@]}" \) \
      -print | sed 's|^\./||'
  fi | sort -u | while read -r f; do [[ -f "$f" ]] && printf '%s\n' "$f"; done
}

status=0

if ((do_format)); then
  mapfile -t cxx_files < <(list_files '*.h' '*.hpp' '*.cpp' '*.cc')
  echo "lint: clang-format on ${#cxx_files[@]} files"
  unformatted=()
  for f in "${cxx_files[@]}"; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
  done
  if ((${#unformatted[@]})); then
    printf '  not formatted: %s\n' "${unformatted[@]}" >&2
    echo "lint: ${#unformatted[@]} file(s) need clang-format (see: clang-format --dry-run FILE;" \
      "fix: clang-format -i FILE)" >&2
    status=1
  fi
fi

if ((do_tidy)); then
  if [[ ! -f "$build_dir/compile_commands.json" ]]; then
    echo "lint: $build_dir/compile_commands.json is missing; build first (scripts/test.sh)" >&2
    exit 1
  fi
  mapfile -t lib_sources < <(list_files 'lib/*.cpp')
  echo "lint: clang-tidy on ${#lib_sources[@]} lib/ sources"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ((${#lib_sources[@]})); then
    printf '%s\0' "${lib_sources[@]}" |
      xargs -0 -n 4 -P "$(nproc)" clang-tidy -p "$build_dir" --quiet >"$log" 2>/dev/null || true
  fi
  if grep -qE '(warning|error): ' "$log"; then
    cat "$log"
    # A header's finding is reported once per source including it; count each once.
    echo "lint: clang-tidy reported $(grep -E '(warning|error): ' "$log" | sort -u | wc -l)" \
      "finding(s)" >&2
    status=1
  fi
fi

((status == 0)) && echo "lint: clean"
exit "$status"
