#!/usr/bin/env bash
# The console at scale, with 1,000 bottles holding 10 pending proposals each: the time of
# `bottle-supervise list` (goal: 300 ms), then from starting `bottle-supervise console` to
# its first screen (goal: 500 ms; drives the real TUI in tmux and polls the screen every
# 5 ms). Reports each run, the median and the worst.
# Usage: bench/console-scale.sh [BOTTLES] [PENDING] [RUNS]     (release build, or $BOTTLE_SUPERVISE_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
bottles="${1:-1000}"; pending="${2:-10}"; runs="${3:-5}"
if [ -z "${BOTTLE_SUPERVISE_BIN:-}" ]; then
  swift build -c release --product bottle-supervise >/dev/null
  bin="$(swift build -c release --show-bin-path)/bottle-supervise"
else
  bin="$BOTTLE_SUPERVISE_BIN"   # e.g. a debug build, to measure without a release build
fi
state="$(mktemp -d)"; trap 'tmux kill-session -t tuibench 2>/dev/null; rm -rf "$state"' EXIT
python3 bench/make-queue.py "$state/queue" "$state/bottles" "$bottles" "$pending"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $bottles bottles × $pending pending"
lists=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin" list --queue-root "$state/queue" >/dev/null
  lists+=($(( ($(date +%s%N) - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${lists[@]}" | sort -n)
echo "list (ms): ${lists[*]}  median $(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")  worst $(echo "$sorted" | tail -1)"
times=()
for _ in $(seq "$runs"); do
  tmux kill-session -t tuibench 2>/dev/null || true
  tmux new-session -d -x 160 -y 50 -s tuibench "bash --norc"
  sleep 0.3
  start=$(date +%s%N)
  tmux send-keys -t tuibench "$bin console --no-bell --queue-root $state/queue --config-root $state/bottles" Enter
  until tmux capture-pane -p -t tuibench | grep -q "pending in $bottles bottles"; do sleep 0.005; done
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
  tmux send-keys -t tuibench q
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "first screen (ms): $(echo $sorted | tr '\n' ' ')  median $(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")  worst $(echo "$sorted" | tail -1)"
