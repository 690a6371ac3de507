#!/usr/bin/env bash
# Concurrent held tools/calls, side by side in one run: ours (release build) with CALLS calls,
# then the seed's reference server with SEED_CALLS. For each: time until every call is queued,
# resident memory while they are held, tools/list latency meanwhile (ours), and how long after
# its decision each call is answered. See bench/held_calls.py; the calls are held by
# bench/held-calls-client (Swift), the rest is Python.
# Usage: bench/held-calls.sh [CALLS] [SEED_CALLS]     (default 10000 1000; needs python3, curl, ss)
# Environment:
#   HOLD_LIMIT=s  the sidecar's --hold-limit (default 0: every call held until its decision, which
#                 is what this bench measures; 50 measures the default's deadline queue too — then a
#                 run that takes over 50 s to queue sees its first calls answered 'pending')
#   RUNS=n        run ours n times (fresh server, port and queue each run), then print the median
#   QUEUE_FS=...  where the queues live: root (default: under $TMPDIR or /tmp), tmpfs (/dev/shm),
#                 or ext4 (a fresh journaled ext4 in a loop file; needs root and mkfs.ext4). On a
#                 journal-less ext4 (this machine's root file system) inode allocation skips inodes
#                 freed in the last minutes (ext4's recently_deleted), so a run right after a big
#                 delete pays for it; see docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-10000}"
seed_calls="${2:-1000}"
reference="${SUPERVISE_REFERENCE:-../shared/reference}"
swift build -c release --product bottle-supervise >/dev/null
swift build -c release --product held-calls-client >/dev/null
bin="$(swift build -c release --show-bin-path)/bottle-supervise"
client="$(swift build -c release --show-bin-path)/held-calls-client"   # holds the calls; light on the shared cores
runs="${RUNS:-1}"
mnt=; img=
case "${QUEUE_FS:-root}" in
  root) base="${TMPDIR:-/tmp}" ;;
  tmpfs) base=/dev/shm ;;
  ext4)
    img="$(mktemp /var/tmp/held-calls-XXXXXX.img)"; truncate -s 4G "$img"; mkfs.ext4 -q -F "$img"
    mnt="$(mktemp -d)"; mount -o loop "$img" "$mnt"; base="$mnt" ;;
  *) echo "QUEUE_FS must be root, tmpfs or ext4" >&2; exit 2 ;;
esac
dir="$(mktemp -d -p "$base")"; mkdir -p "$dir/c" "$dir/seedq"
cleanup() {
  kill "${ours:-}" "${seed:-}" 2>/dev/null || true; rm -rf "$dir"
  if [ -n "$mnt" ]; then umount "$mnt"; rmdir "$mnt"; rm -f "$img"; fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
# Fresh ports each run: 10,000 connections of a previous run on the same port
# leave the same address pairs in TIME_WAIT, and reusing them stalls connects
# for seconds (seen as a run where a sixth of the calls queue 15 s late).
ours_port=$((20000 + RANDOM % 20000)); seed_port=$((ours_port + 1))
# And an idle port range: each run leaves its 10,000 client ports in TIME_WAIT
# for a minute, and with the range (about 28,000 ports) mostly taken, connect()
# itself stalls. Wait until they are gone.
settle() {
  for _ in $(seq 120); do [ "$(ss -tan state time-wait | wc -l)" -lt 2000 ] && return; sleep 1; done
}
settle
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

echo "queues on ${QUEUE_FS:-root}: $(df --output=fstype "$dir" | tail -1)"
results=()
for run in $(seq "$runs"); do
  # Queues stay until the end: deleting 10,000 files between runs would charge the next run (see above).
  q="$dir/q$run"; mkdir -p "$q"
  [ "$run" -gt 1 ] && { settle; ours_port=$((20000 + RANDOM % 20000)); }
  "$bin" serve --slug bench --queue-dir "$q" --current-config "$dir/c" --port "$ours_port" \
    --hold-limit "${HOLD_LIMIT:-0}" 2>"$dir/ours.log" & ours=$!
  until curl -sf http://127.0.0.1:$ours_port/health >/dev/null; do sleep 0.01; done
  echo "-- ours, $calls calls (run $run of $runs)"
  result="$(python3 bench/held_calls.py --url http://127.0.0.1:$ours_port/mcp --queue "$q" --pid "$ours" --calls "$calls" \
    --format ours --client "$client")"
  echo "$result"; results+=("$result")
  kill "$ours"; wait "$ours" 2>/dev/null || true; ours=
done
if [ "$runs" -gt 1 ]; then
  printf '%s\n' "${results[@]}" | python3 -c '
import json, statistics, sys
runs = [json.loads(line) for line in sys.stdin if line.strip()]
queued = sorted(r["queued_s"] for r in runs)
print("queued_s per run:", queued, "median:", statistics.median(queued))
print("rss_holding_kb median:", statistics.median(r["rss_holding_kb"] for r in runs))
print("answer_after_decision max_ms per run:", [r.get("answer_after_decision", {}).get("max_ms") for r in runs])'
fi

[ "$seed_calls" -eq 0 ] && exit 0   # SEED_CALLS=0: ours only
settle
(cd "$reference" && SUPERVISE_BOTTLE_SLUG=bench SUPERVISE_QUEUE_DIR="$dir/seedq" SUPERVISE_PORT="$seed_port" \
  SUPERVISE_BIND=127.0.0.1 exec python3 seed_server.py 2>/dev/null) & seed=$!
until curl -sf http://127.0.0.1:$seed_port/health >/dev/null; do sleep 0.01; done
echo "-- seed, $seed_calls calls"
python3 bench/held_calls.py --url http://127.0.0.1:$seed_port/mcp --queue "$dir/seedq" --pid "$seed" --calls "$seed_calls" \
  --format seed --queue-timeout 60 --client "$client"
