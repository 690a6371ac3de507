#!/usr/bin/env bash
# Idle resident memory (VmRSS) of the sidecar, side by side with the seed's reference server:
# ours as the container image builds it (scripts/build-static: static Swift runtime, minimal
# static libcurl, packed relocations), ours as `swift build -c release` builds it (dynamic
# runtime), and the seed. Each is started STARTS times, read 1 s after it answers /health,
# and stopped. As root, the page cache is dropped before each start, for all three alike: how
# much of a binary a start maps depends on how its pages came into the cache (read ahead from
# disk, as from an image layer, or left by the linker that just wrote it).
# Usage: bench/idle-memory.sh [STARTS]     (default 5; needs curl, python3; scripts/build-static needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
starts="${1:-5}"
reference="${SUPERVISE_REFERENCE:-../shared/reference}"
static="$(scripts/build-static 2>/dev/null | tail -1)"
swift build -c release --product bottle-supervise >/dev/null
dynamic="$(swift build -c release --show-bin-path)/bottle-supervise"
dir="$(mktemp -d)"; mkdir -p "$dir/q" "$dir/c"
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
drop() { if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }
measure() {  # name, then the command; prints the median in kB
  local name="$1"; shift
  local values=()
  for _ in $(seq "$starts"); do
    drop
    "$@" 2>/dev/null & pid=$!
    until curl -sf http://127.0.0.1:19290/health >/dev/null; do sleep 0.01; done
    sleep 1
    values+=("$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)")
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
  echo "$name: ${values[*]} kB — median $(printf '%s\n' "${values[@]}" | sort -n | sed -n "$(( (starts + 1) / 2 ))p") kB"
}
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), page cache dropped: $([ -w /proc/sys/vm/drop_caches ] && echo yes || echo no)"
measure "ours, image build" "$static" serve --slug bench --queue-dir "$dir/q" --current-config "$dir/c" --port 19290
measure "ours, swift build -c release" "$dynamic" serve --slug bench --queue-dir "$dir/q" --current-config "$dir/c" --port 19290
measure "seed" env SUPERVISE_BOTTLE_SLUG=bench SUPERVISE_QUEUE_DIR="$dir/seedq" SUPERVISE_PORT=19290 \
  SUPERVISE_BIND=127.0.0.1 python3 "$reference/seed_server.py"
