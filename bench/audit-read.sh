#!/usr/bin/env bash
# Reading a large audit log: `log --verify` and `log --json` of a valid chain of
# RECORDS records (bench/make-audit-log.py; about 560 bytes each), time and peak
# memory (GNU time's maximum resident set), side by side with a baseline that only
# reads the bytes (`wc -l`) and, when BEFORE_BIN names an older build, that build.
# Usage: bench/audit-read.sh [RECORDS] [RUNS]   (BOTTLE_SUPERVISE_BIN: the binary to
#        measure, default a release build; BEFORE_BIN: optional binary to compare)
set -euo pipefail
cd "$(dirname "$0")/.."
records="${1:-200000}"; runs="${2:-3}"
if [ -z "${BOTTLE_SUPERVISE_BIN:-}" ]; then
  swift build -c release --product bottle-supervise >/dev/null
  bin="$(swift build -c release --show-bin-path)/bottle-supervise"
else
  bin="$BOTTLE_SUPERVISE_BIN"
fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/queue"
python3 bench/make-audit-log.py "$dir/queue/audit.log" "$records"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg): $records records, $(( $(stat -c %s "$dir/queue/audit.log") / 1048576 )) MiB"
measure() {  # name, then the command: median seconds and median peak RSS over $runs runs
  local name="$1"; shift
  local seconds=() kilobytes=()
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$dir/time" "$@" >/dev/null
    read -r s k < "$dir/time"; seconds+=("$s"); kilobytes+=("$k")
  done
  local mid=$(( (runs + 1) / 2 ))
  printf '%-34s %6s s  %8s kB peak\n' "$name" "$(printf '%s\n' "${seconds[@]}" | sort -n | sed -n "${mid}p")" \
    "$(printf '%s\n' "${kilobytes[@]}" | sort -n | sed -n "${mid}p")"
}
measure "baseline: wc -l" wc -l "$dir/queue/audit.log"
measure "log --verify" "$bin" log --verify --queue-root "$dir/queue"
measure "log --json" "$bin" log --json --queue-root "$dir/queue"
if [ -n "${BEFORE_BIN:-}" ]; then
  measure "before: log --verify" "$BEFORE_BIN" log --verify --queue-root "$dir/queue"
  measure "before: log --json" "$BEFORE_BIN" log --json --queue-root "$dir/queue"
fi
