#!/usr/bin/env bash
# tools/list throughput, side by side in one run: nginx returning the same bytes (the ceiling),
# our sidecar (release build) and the seed's reference server. wrk -t2 -c32 for DURATION seconds each,
# in ROUNDS rounds (nginx, ours, seed in turn, so that the shared machine's slow spells hit all three);
# the ratios are of the medians. Also: our time to healthy. (Idle memory: bench/idle-memory.sh.)
# Usage: [SUPERVISE_BENCH_BINARY=PATH] bench/sidecar-throughput.sh [DURATION] [ROUNDS]     (default 8 3; needs wrk, nginx, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
rounds="${2:-3}"
reference="${SUPERVISE_REFERENCE:-../shared/reference}"
# SUPERVISE_BENCH_BINARY: a sidecar already built (as the image's bottle-supervise-sidecar,
# bench/sidecar-binary.sh --release); else bottle-supervise, built here in release.
if [ -n "${SUPERVISE_BENCH_BINARY:-}" ]; then
  bin="$SUPERVISE_BENCH_BINARY"
else
  swift build -c release --product bottle-supervise >/dev/null
  bin="$(swift build -c release --show-bin-path)/bottle-supervise"
fi
dir="$(mktemp -d)"; mkdir -p "$dir/q" "$dir/q2" "$dir/c" "$dir/www"
cleanup() { kill "${ours:-}" "${seed:-}" 2>/dev/null || true; [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
"$bin" serve --slug bench --queue-dir "$dir/q" --current-config "$dir/c" --port 19201 2>/dev/null & ours=$!
(cd "$reference" && SUPERVISE_BOTTLE_SLUG=bench SUPERVISE_QUEUE_DIR="$dir/seedq" SUPERVISE_PORT=19202 \
  SUPERVISE_BIND=127.0.0.1 exec python3 seed_server.py 2>/dev/null) & seed=$!
until curl -sf http://127.0.0.1:19201/health >/dev/null; do sleep 0.01; done
sleep 0.5
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
curl -s -X POST http://127.0.0.1:19201/mcp -H 'Content-Type: application/json' -H 'MCP-Protocol-Version: 2025-06-18' \
  -H 'Accept: application/json, text/event-stream' -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' -o "$dir/www/mcp"
chmod 755 "$dir" "$dir/www"; chmod 644 "$dir/www/mcp"  # nginx workers run unprivileged
sed "s#@DIR@#$dir#g" bench/sidecar/nginx.conf.template > "$dir/nginx.conf"
nginx -c "$dir/nginx.conf"
sleep 0.3
declare -A rates
for round in $(seq "$rounds"); do
  for target in "nginx 19203" "ours 19201" "seed 19202"; do
    set -- $target
    out="$(wrk -t2 -c32 -d"${duration}s" --latency -s bench/sidecar/tools-list.lua "http://127.0.0.1:$2/mcp")"
    echo "-- $1, round $round"
    echo "$out" | grep -E "Requests/sec|50%|99%|errors|Non-2xx"
    rates[$1]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
  done
done
python3 - "${rates[nginx]}" "${rates[ours]}" "${rates[seed]}" <<'PY'
import statistics, sys
nginx, ours, seed = (statistics.median(float(x) for x in arg.split()) for arg in sys.argv[1:])
print(f"median req/s: nginx {nginx:.0f}, ours {ours:.0f}, seed {seed:.0f}")
print(f"ours / nginx = {ours / nginx:.2f}, ours / seed = {ours / seed:.1f}")
PY
starts=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$bin" serve --slug start --queue-dir "$dir/q2" --current-config "$dir/c" --port 19210 2>/dev/null & p=$!
  until curl -sf http://127.0.0.1:19210/health >/dev/null; do sleep 0.002; done
  starts+=($(( ($(date +%s%N) - start) / 1000000 )))
  kill $p; wait $p 2>/dev/null || true
done
echo "time to healthy (ms): ${starts[*]}"
