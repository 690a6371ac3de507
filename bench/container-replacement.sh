#!/usr/bin/env bash
# Time of an approved Dockerfile's default action with real podman, per round:
#   - ours: `bottle-supervise approve` of a capability-block proposal, i.e. build the image and
#     replace the bottle's container (inspect, build, create, stop, rename ×2, start, watch 1 s, rm),
#     split into the build and the rest from the engine's own timings;
#   - naive baseline (the previous default): `podman build` then `podman restart` of the bottle,
#     which keeps running its old image.
# The seed has no apply step (phase 2 is the in-container MCP server only): no reference column.
# Root podman on isolated vfs storage, as the end-to-end tests; needs /bin/busybox (busybox-static).
# Usage: bench/container-replacement.sh [ROUNDS]     (from the repository root; uses
#        $BOTTLE_SUPERVISE_BIN, else .build/debug/bottle-supervise)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
bin="${BOTTLE_SUPERVISE_BIN:-$PWD/.build/debug/bottle-supervise}"
[ "$(id -u)" = 0 ] && command -v podman >/dev/null && [ -x /bin/busybox ] || {
  echo "needs root, podman and /bin/busybox (apt-get install -y podman runc busybox-static)" >&2; exit 2; }
work="$(mktemp -d)"; slug="bench-$$"
trap 'podman_ rm -a -f -t 0 >/dev/null 2>&1 || true; podman_ network rm -f "$slug-net" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
podman_() { CONTAINERS_CONF="$work/containers.conf" podman --root "$work/storage" --runroot "$work/run" \
  --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "$@"; }
# The engine bottle-supervise calls: podman on that storage, logging each command's duration.
cat > "$work/engine" <<SH
#!/bin/sh
start=\$(date +%s.%N)
CONTAINERS_CONF="$work/containers.conf" podman --root "$work/storage" --runroot "$work/run" \\
  --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "\$@"
status=\$?
echo "\$1 \$start \$(date +%s.%N)" >> "$work/engine.log"
exit \$status
SH
chmod +x "$work/engine"
mkdir -p "$work/image" "$work/bottles/$slug" "$work/queue/$slug/archive" "$work/ws"
cp /bin/busybox "$work/image/busybox"
printf 'FROM scratch\nCOPY busybox /busybox\nCMD ["/busybox", "sleep", "3600"]\n' > "$work/image/Containerfile"
podman_ build -q -t localhost/bench-busybox:latest -f "$work/image/Containerfile" "$work/image" >/dev/null
podman_ network create "$slug-net" >/dev/null
# A bottle that stops at once on SIGTERM (busybox sleep as PID 1 would wait for the stop timeout).
podman_ run -d --name "$slug" --network "$slug-net" -v "$work/ws:/workspace" -e TOKEN=x -l bottle=1 -u 1000:1000 \
  --restart unless-stopped localhost/bench-busybox:latest \
  /busybox sh -c 'trap "exit 0" TERM; /busybox sleep 3600 & wait' >/dev/null
printf 'FROM localhost/bench-busybox:latest\n' > "$work/bottles/$slug/Dockerfile"

propose() {  # writes a capability-block proposal against the current Dockerfile; prints its id
  python3 - "$work/queue/$slug" "$work/bottles/$slug/Dockerfile" "$slug" "$1" <<'PY'
import datetime, hashlib, json, secrets, sys
queue, current_path, slug, round_ = sys.argv[1:5]
current = open(current_path).read()
proposed = f'FROM localhost/bench-busybox:latest\nRUN ["/busybox", "sh", "-c", "echo {round_} > /marker"]\nLABEL round={round_}\n'
now = datetime.datetime.now(datetime.timezone.utc)
pid = now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)
record = {"format": 1, "id": pid, "bottle": slug, "tool": "capability-block", "proposed_file": proposed,
          "justification": "bench", "current_file_sha256": hashlib.sha256(current.encode()).hexdigest(),
          "proposed_file_sha256": hashlib.sha256(proposed.encode()).hexdigest(),
          "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"}
json.dump(record, open(f"{queue}/{pid}.proposal.json", "w"))
print(pid)
PY
}
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }
buildtime() { awk '$1 == "build" { s += $3 - $2 } END { printf "%.2f", s }' "$work/engine.log"; }

echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), podman $(podman --version | cut -d' ' -f3), $bin"
printf '%-6s | %-28s | %-28s\n' round "ours: total (build + rest)" "baseline: build + restart"
for round in $(seq 1 "$rounds"); do
  : > "$work/engine.log"
  id="$(propose "r$round")"
  t0=$(date +%s.%N)
  SUPERVISE_QUEUE_ROOT="$work/queue" SUPERVISE_CONFIG_ROOT="$work/bottles" SUPERVISE_ENGINE="$work/engine" \
    NO_COLOR=1 "$bin" approve "$id" >/dev/null
  t1=$(date +%s.%N)
  total=$(seconds "$t0" "$t1"); build=$(buildtime); rest=$(seconds "$build" "$total")
  # The previous default, on a Dockerfile as new to the build cache.
  printf 'FROM localhost/bench-busybox:latest\nRUN ["/busybox", "sh", "-c", "echo b%s > /marker"]\nLABEL base=%s\n' \
    "$round" "$round" > "$work/baseline.Dockerfile"
  b0=$(date +%s.%N)
  podman_ build -q -t "localhost/$slug:baseline" -f "$work/baseline.Dockerfile" "$work/bottles/$slug" >/dev/null
  b1=$(date +%s.%N)
  podman_ restart "$slug" >/dev/null
  b2=$(date +%s.%N)
  printf '%-6s | %5s s (%5s + %5s)        | %5s s (%5s + %5s)\n' "$round" "$total" "$build" "$rest" \
    "$(seconds "$b0" "$b2")" "$(seconds "$b0" "$b1")" "$(seconds "$b1" "$b2")"
done
echo "engine commands of the last replacement (s): $(awk '{ t[$1] += $3 - $2; n[$1]++ } END { for (v in t) printf "%s %.2f (%d×)  ", v, t[v], n[v] }' "$work/engine.log")"
echo "running: $(podman_ ps --format '{{.Names}} {{.Image}}' | tr '\n' ' ')"
