#!/usr/bin/env bash
# The console at fleet scale. Goals (issue 13), release build, medians:
#   1,000 bottles × 10 pending:  `bottle-supervise list` under 100 ms,
#                                 the TUI's first screen under 150 ms;
#   10,000 bottles × 10 pending: `bottle-supervise list` under 1 s.
# Each run times, in turn and interleaved (so a burst of load on this shared machine hits
# them alike): two naive baselines over the same queue — `cat` of every proposal file (the
# I/O floor: open and read each file, nothing parsed) and a plain Python lister
# (json.load per file, sort, print a table; no guards, no hashes, no risk hints) — then
# `list` of this build with its listing cache removed first (every file read, the cache
# written: the first `list` after a start or a build), then `list` again (the cache as the
# previous `list` left it: the everyday case), and of $BASELINE_BIN when given (an earlier
# build, for before and after). Then the TUI: from starting `bottle-supervise console` in
# tmux to its first screen with the title "N pending in B bottles" (polled every 5 ms;
# TUI=0 skips it), with the cache `list` left and with none. The cache lives in the run's
# own XDG_CACHE_HOME, and the queue is given 2 s to settle before the first pass (the
# cache records a file only once its last change is 2 s old, docs/security.md).
# Prints every run, the medians and the ratios of the medians.
# Usage: bench/console-scale.sh [BOTTLES] [PENDING] [RUNS]
#   env: BOTTLE_SUPERVISE_BIN (default: a release build), BASELINE_BIN, TUI=0
set -euo pipefail
cd "$(dirname "$0")/.."
bottles="${1:-1000}"; pending="${2:-10}"; runs="${3:-5}"
if [ -z "${BOTTLE_SUPERVISE_BIN:-}" ]; then
  swift build -c release --product bottle-supervise >/dev/null
  bin="$(swift build -c release --show-bin-path)/bottle-supervise"
else
  bin="$BOTTLE_SUPERVISE_BIN"   # e.g. a debug build, to measure without a release build
fi
baseline="${BASELINE_BIN:-}"
# A tmux server of our own (-L): the default one in /tmp may be another user's or test's, and killed under us.
tmux_=(tmux -L "console-scale-$$")
state="$(mktemp -d)"; trap '"${tmux_[@]}" kill-server 2>/dev/null; rm -rf "$state"' EXIT
export XDG_CACHE_HOME="$state/cache"
python3 bench/make-queue.py "$state/queue" "$state/bottles" "$bottles" "$pending"
sleep 2.1
cat > "$state/naive_list.py" <<'EOF'
import glob, json, os, sys
rows = []
for path in glob.glob(os.path.join(sys.argv[1], "*", "*.proposal.json")):
    with open(path) as f:
        p = json.load(f)
    if not os.path.exists(path[: -len(".proposal.json")] + ".decision.json"):
        rows.append((p["created_at"], p["id"], p["bottle"], p["tool"], p["justification"].split("\n")[0]))
rows.sort()
out = sys.stdout
for created, pid, bottle, tool, why in rows:
    out.write(f"{pid:30}{bottle:20}{tool:18}{why}\n")
EOF

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
worst() { printf '%s\n' "$@" | sort -n | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg): $bottles bottles × $pending pending"
echo "   bin: $bin${baseline:+   baseline: $baseline}"
# One untimed pass of each: the page cache holds the queue for every timed run alike.
find "$state/queue" -name '*.proposal.json' -print0 | xargs -0 cat >/dev/null
"$bin" list --queue-root "$state/queue" --config-root "$state/bottles" >/dev/null
cats=(); pythons=(); colds=(); lists=(); befores=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N); find "$state/queue" -name '*.proposal.json' -print0 | xargs -0 cat >/dev/null; cats+=("$(ms "$start")")
  start=$(date +%s%N); python3 "$state/naive_list.py" "$state/queue" >/dev/null; pythons+=("$(ms "$start")")
  rm -rf "$XDG_CACHE_HOME"
  start=$(date +%s%N); "$bin" list --queue-root "$state/queue" --config-root "$state/bottles" >/dev/null; colds+=("$(ms "$start")")
  start=$(date +%s%N); "$bin" list --queue-root "$state/queue" --config-root "$state/bottles" >/dev/null; lists+=("$(ms "$start")")
  if [ -n "$baseline" ]; then
    start=$(date +%s%N); "$baseline" list --queue-root "$state/queue" --config-root "$state/bottles" >/dev/null; befores+=("$(ms "$start")")
  fi
done
echo "naive cat (ms):    ${cats[*]}  median $(median "${cats[@]}")  worst $(worst "${cats[@]}")"
echo "naive python (ms): ${pythons[*]}  median $(median "${pythons[@]}")  worst $(worst "${pythons[@]}")"
echo "list, no cache (ms): ${colds[*]}  median $(median "${colds[@]}")  worst $(worst "${colds[@]}")"
echo "list (ms):         ${lists[*]}  median $(median "${lists[@]}")  worst $(worst "${lists[@]}")"
if [ -n "$baseline" ]; then
  echo "list, baseline (ms): ${befores[*]}  median $(median "${befores[@]}")  worst $(worst "${befores[@]}")"
fi
echo "ratios of medians: list/cat $(ratio "$(median "${lists[@]}")" "$(median "${cats[@]}")")" \
  " list no cache/cat $(ratio "$(median "${colds[@]}")" "$(median "${cats[@]}")")" \
  " list/python $(ratio "$(median "${lists[@]}")" "$(median "${pythons[@]}")")" \
  "${baseline:+ list/baseline $(ratio "$(median "${lists[@]}")" "$(median "${befores[@]}")")}"

if [ "${TUI:-1}" = 0 ]; then exit 0; fi
first_screen() {  # prints ms from starting the console ($1) to its first screen; fails after 60 s
  "${tmux_[@]}" kill-session -t tuibench 2>/dev/null || true
  "${tmux_[@]}" new-session -d -x 160 -y 50 -s tuibench "bash --norc" || { echo "tmux did not start" >&2; return 1; }
  sleep 0.3
  local start; start=$(date +%s%N)
  "${tmux_[@]}" send-keys -t tuibench "$1 console --no-bell --queue-root $state/queue --config-root $state/bottles" Enter
  until "${tmux_[@]}" capture-pane -p -t tuibench 2>/dev/null | grep -q "pending in $bottles bottles"; do
    if [ "$(ms "$start")" -gt 60000 ]; then echo "no first screen within 60 s" >&2; return 1; fi
    sleep 0.005
  done
  ms "$start"
  "${tmux_[@]}" send-keys -t tuibench q
  sleep 0.2
}
screens=(); screens_cold=(); screens_before=()
"$bin" list --queue-root "$state/queue" --config-root "$state/bottles" >/dev/null
cp -r "$XDG_CACHE_HOME" "$state/cache-warm"
for _ in $(seq "$runs"); do
  rm -rf "$XDG_CACHE_HOME"; cp -r "$state/cache-warm" "$XDG_CACHE_HOME"
  screens+=("$(first_screen "$bin")")
  rm -rf "$XDG_CACHE_HOME"
  screens_cold+=("$(first_screen "$bin")")
  if [ -n "$baseline" ]; then screens_before+=("$(first_screen "$baseline")"); fi
done
echo "first screen (ms): ${screens[*]}  median $(median "${screens[@]}")  worst $(worst "${screens[@]}")"
echo "first screen, no cache (ms): ${screens_cold[*]}  median $(median "${screens_cold[@]}")  worst $(worst "${screens_cold[@]}")"
if [ -n "$baseline" ]; then
  echo "first screen, baseline (ms): ${screens_before[*]}  median $(median "${screens_before[@]}")  worst $(worst "${screens_before[@]}")"
  echo "ratio of medians: first screen/baseline $(ratio "$(median "${screens[@]}")" "$(median "${screens_before[@]}")")"
fi
