#!/usr/bin/env bash
# Load on the interactive-query endpoint while the application processes.
#
# Starts the telemetry sample (Release build) on its development broker with the generator at
# --rate readings/s and the HTTP endpoint on 127.0.0.1:$PORT, waits until it is ready, then runs
# wrk with 100 connections against:
#   1. the query: GET /stores/vehicle-windows/keys/V-nnn, a window-store fetch of one of the 50
#      vehicles in turn (a round trip to the stream thread that owns the store);
#   2. the baseline, in the same run on the same server: GET /health (no store, no stream thread).
# and prints p50, p99 and requests/s of each and the query/baseline ratios. Finally it checks that
# the application kept processing (its live output) and prints its last report line.
#
#   benchmarks/query_load.sh                 # 20 s per run, 10000 readings/s, 100 connections
#   DURATION=10 RATE=5000 CONNECTIONS=50 benchmarks/query_load.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${DURATION:-20}"
rate="${RATE:-10000}"
connections="${CONNECTIONS:-100}"
threads="${WRK_THREADS:-2}"
port="${PORT:-18080}"
broker_port="${BROKER_PORT:-19092}"
build="${BUILD:-build/release}"

scripts/setup.sh >&2
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target rivulet-telemetry-sample >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rivulet-query-load.XXXXXX")"
cleanup() {
  [[ -n "${app_pid:-}" ]] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

run_seconds=$((duration * 2 + 40))
"$build/apps/telemetry-sample/rivulet-telemetry-sample" --seconds "$run_seconds" --rate "$rate" \
  --port "$broker_port" --http "127.0.0.1:$port" --no-describe >"$work/app.log" 2>&1 &
app_pid=$!

deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do
  if ((SECONDS > deadline)) || ! kill -0 "$app_pid" 2>/dev/null; then
    echo "the sample did not become ready; its output:" >&2
    cat "$work/app.log" >&2
    exit 1
  fi
  sleep 0.2
done
# Let the windows fill: every vehicle has a window within a few seconds at this rate.
until curl -sf "http://127.0.0.1:$port/stores/vehicle-windows/keys/V-049" >/dev/null 2>&1; do
  ((SECONDS > deadline)) && { echo "no windows for V-049 after 60 s" >&2; exit 1; }
  sleep 0.2
done

cat >"$work/keys.lua" <<'EOF'
local i = 0
request = function()
  i = (i + 1) % 50
  return wrk.format("GET", string.format("/stores/vehicle-windows/keys/V-%03d", i))
end
-- Non-2xx answers are counted by wrk as "Non-2xx or 3xx responses" and reported below.
EOF

# wrk --latency prints a distribution; take p50, p99 and Requests/sec, and the error lines.
measure() {
  local name="$1"
  shift
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@" >"$work/$name.txt" 2>&1
  local p50 p99 rps errors
  p50="$(awk '$1 == "50%" {print $2}' "$work/$name.txt")"
  p99="$(awk '$1 == "99%" {print $2}' "$work/$name.txt")"
  rps="$(awk '$1 == "Requests/sec:" {print $2}' "$work/$name.txt")"
  errors="$(grep -E 'Non-2xx|Socket errors' "$work/$name.txt" | tr -s ' ' || true)"
  printf '%-8s p50 %-9s p99 %-9s requests/s %-10s %s\n' "$name" "$p50" "$p99" "$rps" \
    "${errors:-no errors}"
  eval "${name}_p50=\$p50; ${name}_p99=\$p99; ${name}_rps=\$rps"
}

to_ms() {  # wrk prints 1.23ms, 456.78us or 1.02s
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    else print v }'
}

echo "wrk: ${connections} connections, ${threads} threads, ${duration} s each; sample at ${rate} readings/s"
measure query -s "$work/keys.lua" "http://127.0.0.1:$port"
measure health "http://127.0.0.1:$port/health"
awk -v qp50="$(to_ms "$query_p50")" -v qp99="$(to_ms "$query_p99")" \
  -v hp50="$(to_ms "$health_p50")" -v hp99="$(to_ms "$health_p99")" \
  -v qr="$query_rps" -v hr="$health_rps" 'BEGIN {
    printf "ratio query/health: p50 %.2f, p99 %.2f, requests/s %.2f\n", qp50 / hp50, qp99 / hp99, qr / hr }'

echo "the application meanwhile:"
grep -E '^\[ *[0-9.]+s\]' "$work/app.log" | tail -n 1
if ! grep -qE '^\[ *[0-9.]+s\] RUNNING' "$work/app.log"; then
  echo "the application did not report RUNNING" >&2
  exit 1
fi
