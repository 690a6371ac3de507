#!/usr/bin/env bash
# Concurrent held tools/calls, side by side in one run: ours (release build) with CALLS calls,
# then the seed's reference server with SEED_CALLS. For each: time until every call is queued,
# resident memory while they are held, tools/list latency meanwhile (ours), and how long after
# its decision each call is answered. See bench/held_calls.py; the calls are held by
# bench/held-calls-client (Swift), the rest is Python.
# Usage: bench/held-calls.sh [CALLS] [SEED_CALLS]     (default 10000 1000; needs python3, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-10000}"
seed_calls="${2:-1000}"
reference="${SUPERVISE_REFERENCE:-../shared/reference}"
swift build -c release --product bottle-supervise >/dev/null
swift build -c release --product held-calls-client >/dev/null
bin="$(swift build -c release --show-bin-path)/bottle-supervise"
client="$(swift build -c release --show-bin-path)/held-calls-client"   # holds the calls; light on the shared cores
dir="$(mktemp -d)"; mkdir -p "$dir/q" "$dir/c" "$dir/seedq"
cleanup() { kill "${ours:-}" "${seed:-}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

"$bin" serve --slug bench --queue-dir "$dir/q" --current-config "$dir/c" --port 19301 2>"$dir/ours.log" & ours=$!
until curl -sf http://127.0.0.1:19301/health >/dev/null; do sleep 0.01; done
echo "-- ours, $calls calls"
python3 bench/held_calls.py --url http://127.0.0.1:19301/mcp --queue "$dir/q" --pid "$ours" --calls "$calls" --format ours \
  --client "$client"
kill "$ours"; wait "$ours" 2>/dev/null || true; ours=

(cd "$reference" && SUPERVISE_BOTTLE_SLUG=bench SUPERVISE_QUEUE_DIR="$dir/seedq" SUPERVISE_PORT=19302 \
  SUPERVISE_BIND=127.0.0.1 exec python3 seed_server.py 2>/dev/null) & seed=$!
until curl -sf http://127.0.0.1:19302/health >/dev/null; do sleep 0.01; done
echo "-- seed, $seed_calls calls"
python3 bench/held_calls.py --url http://127.0.0.1:19302/mcp --queue "$dir/seedq" --pid "$seed" --calls "$seed_calls" \
  --format seed --queue-timeout 60 --client "$client"
