#!/usr/bin/env bash
# Decision latency, ours (inotify and the polling fallback) beside the seed's polling queue.
# Usage: bench/queue-latency.sh [COUNT]      (from the repository root; builds release)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000}"
swift build -c release --product queue-latency >/dev/null
bin="$(swift build -c release --show-bin-path)/queue-latency"
echo "== $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
"$bin" --count "$count"
"$bin" --count 200 --poll
reference="${SUPERVISE_REFERENCE:-../shared/reference}"
if [ -f "$reference/supervise.py" ]; then
  python3 bench/seed_queue_latency.py "$reference" 40
else
  echo "seed reference not found at $reference (set SUPERVISE_REFERENCE)"
fi
