#!/usr/bin/env bash
# Two sidecar binaries side by side in one run, for a change that should not cost throughput:
# `tools/list` under wrk (-t2 -c32, DURATION s a round, ROUNDS rounds alternating A and B so that the
# shared machine's slow spells fall on both; the ratio is of the medians), then allocations per request
# under heaptrack — a count the machine's load does not move, where requests/s on a busy machine do.
# Usage: bench/sidecar-compare.sh A_BINARY B_BINARY [DURATION] [ROUNDS]   (default 5 4; needs wrk, curl, heaptrack)
# A binary is `bottle-supervise-sidecar` (or `bottle-supervise`), e.g. copied out of .build before and after a change.
set -euo pipefail
cd "$(dirname "$0")/.."
a="$(realpath "${1:?usage: bench/sidecar-compare.sh A_BINARY B_BINARY [DURATION] [ROUNDS]}")"
b="$(realpath "${2:?usage: bench/sidecar-compare.sh A_BINARY B_BINARY [DURATION] [ROUNDS]}")"
duration="${3:-5}"
rounds="${4:-4}"
lua="$PWD/bench/sidecar/tools-list.lua"
dir="$(mktemp -d)"; mkdir -p "$dir/qa" "$dir/qb" "$dir/c"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
healthy() { until curl -sf "http://127.0.0.1:$1/health" >/dev/null; do sleep 0.05; done; }

"$a" serve --slug bench --queue-dir "$dir/qa" --current-config "$dir/c" --port 19401 2>/dev/null & pids+=($!)
"$b" serve --slug bench --queue-dir "$dir/qb" --current-config "$dir/c" --port 19402 2>/dev/null & pids+=($!)
healthy 19401; healthy 19402
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
declare -A rates
for round in $(seq "$rounds"); do
  for target in "A 19401" "B 19402"; do
    set -- $target
    out="$(wrk -t2 -c32 -d"${duration}s" --latency -s "$lua" "http://127.0.0.1:$2/mcp")"
    echo "-- $1, round $round: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s, p50 $(echo "$out" | awk '$1=="50%" {print $2}'), p99 $(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | grep -E 'Non-2xx|errors' | tr '\n' ' ')"
    rates[$1]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
  done
done
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()
python3 - "${rates[A]}" "${rates[B]}" <<'PY'
import statistics, sys
a, b = (statistics.median(float(x) for x in arg.split()) for arg in sys.argv[1:])
print(f"median req/s: A {a:.0f}, B {b:.0f}; B / A = {b / a:.2f}")
PY

# Allocations per request: the server under heaptrack, a fixed wrk run, SIGTERM, then count.
for which in A B; do
  bin="$a"; [ "$which" = B ] && bin="$b"
  mkdir -p "$dir/h$which/q"
  heaptrack -o "$dir/h$which/trace" "$bin" serve --slug bench --queue-dir "$dir/h$which/q" \
    --current-config "$dir/c" --port 19403 >/dev/null 2>&1 & tracer=$!
  healthy 19403
  requests="$(wrk -t1 -c4 -d4s -s "$lua" http://127.0.0.1:19403/mcp | awk '/requests in/ {print $1}')"
  server="$(ss -ltnpH 'sport = :19403' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)"
  kill -TERM "$server"; wait "$tracer" 2>/dev/null || true
  calls="$(heaptrack_print -f "$(ls "$dir/h$which"/trace* | head -1)" 2>/dev/null | awk '/^calls to allocation functions:/ {print $5}')"
  echo "$which: $requests requests, $calls allocations (start-up included), $(python3 -c "print(round($calls / $requests, 1))") per request"
done
