#!/usr/bin/env bash
# The project's main job: installs missing packages, builds the Release configuration in
# build/release, then runs the telemetry sample application with this script's arguments.
#
# Setup and build output goes to stderr, so the application's stdout stays clean for pipes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/setup.sh >&2
scripts/build.sh build/release -DCMAKE_BUILD_TYPE=Release >&2

app="build/release/apps/telemetry-sample/rivulet-telemetry-sample"
if [[ ! -x "$app" ]]; then
  echo "run-sample.sh: $app was not built (does apps/telemetry-sample/ exist yet?)" >&2
  exit 1
fi
exec "$app" "$@"
