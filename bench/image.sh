#!/usr/bin/env bash
# The sidecar's container image beside the seed's: image size, time from
# `podman start` to answering /health, and resident memory at idle, each
# container started STARTS times.
#
#   ours: scripts/build-image (FROM scratch, the static build, four libraries)
#   seed: the seed's reference server (../shared/reference) in an image built
#         the same way, FROM scratch, holding Debian's Python 3.11 runtime
#         (the files of python3.11-minimal, libpython3.11-minimal and
#         libpython3.11-stdlib, and the libraries they load). The seed's own
#         image is a Python Alpine image, which can't be pulled here (no
#         registry): this one is a lower bound for it — no Alpine base, no pip.
#
# Podman as root, in an isolated storage directory (vfs, runc, cgroupfs, as
# the tests use it), host network (so the numbers hold no bridge set-up).
# Memory is VmRSS of the container's main process, read from the host 1 s
# after it answers /health; the page cache is dropped before each start.
#
# Usage: [SUPERVISE_IMAGE_BINARY=PATH] bench/image.sh [STARTS]    (default 5; root, podman, runc, curl, python3.11)
set -euo pipefail
cd "$(dirname "$0")/.."
starts="${1:-5}"
reference="$(cd "${SUPERVISE_REFERENCE:-../shared/reference}" && pwd)"
work="$(mktemp -d)"
engine="$work/podman"
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
cat > "$engine" <<EOF
#!/bin/sh
exec env CONTAINERS_CONF=$work/containers.conf podman --root $work/storage --runroot $work/run \
  --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "\$@"
EOF
chmod +x "$engine"
cleanup() {
  "$engine" rm -a -f -t 0 >/dev/null 2>&1 || true
  "$engine" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# SUPERVISE_IMAGE_BINARY: the sidecar binary to put in the image (default: scripts/build-image's own build).
ours="$(scripts/build-image --engine "$engine" ${SUPERVISE_IMAGE_BINARY:+--binary "$SUPERVISE_IMAGE_BINARY"} 2>"$work/build-image.log" | tail -1)" \
  && [ -n "$ours" ] || { echo "bench/image.sh: scripts/build-image failed:" >&2; tail -20 "$work/build-image.log" >&2; exit 1; }

# The seed, FROM scratch with Debian's Python runtime.
seed="$work/seed"
mkdir -p "$seed/rootfs/seed" "$seed/rootfs/etc" "$seed/rootfs/run/supervise/queue"
dpkg -L python3.11-minimal libpython3.11-minimal libpython3.11-stdlib | while read -r path; do
  if [ -f "$path" ] || [ -L "$path" ]; then
    mkdir -p "$seed/rootfs$(dirname "$path")"
    cp -a "$path" "$seed/rootfs$path"
  fi
done
for object in /usr/bin/python3.11 /usr/lib/python3.11/lib-dynload/*.so; do
  ldd "$object" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r library; do
  install -D -m 0755 "$(readlink -f "$library")" "$seed/rootfs$library"
done
cp "$reference/seed_server.py" "$reference/supervise.py" "$seed/rootfs/seed/"
printf 'root:x:0:0:root:/root:/sbin/nologin\nsupervise:x:10001:10001::/nonexistent:/sbin/nologin\n' > "$seed/rootfs/etc/passwd"
printf 'root:x:0:\nsupervise:x:10001:\n' > "$seed/rootfs/etc/group"
chown 10001:10001 "$seed/rootfs/run/supervise/queue"
cat > "$seed/Containerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
USER 10001:10001
ENV SUPERVISE_BIND=0.0.0.0 SUPERVISE_PORT=9100 SUPERVISE_QUEUE_DIR=/run/supervise/queue
ENTRYPOINT ["/usr/bin/python3.11", "/seed/seed_server.py"]
EOF
"$engine" build -q --format docker -t localhost/seed-sidecar:bench -f "$seed/Containerfile" "$seed" >/dev/null

queue="$work/queue"
install -d -o 10001 -g 10001 -m 0750 "$queue"
drop() { if [ -w /proc/sys/vm/drop_caches ]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi; }
measure() {  # name, image
  local name="$1" image="$2" sizes rss=() healthy=()
  sizes="$("$engine" image inspect --format '{{.Size}}' "$image")"
  for _ in $(seq "$starts"); do
    "$engine" create -q --name bench-sidecar --network host -e SUPERVISE_BOTTLE_SLUG=bench \
      -e SUPERVISE_PORT=19292 -e SUPERVISE_BIND=127.0.0.1 -v "$queue:/run/supervise/queue" "$image" >/dev/null
    drop
    local start end pid
    start="$(date +%s%N)"
    "$engine" start bench-sidecar >/dev/null
    until curl -sf http://127.0.0.1:19292/health >/dev/null; do sleep 0.005; done
    end="$(date +%s%N)"
    healthy+=("$(( (end - start) / 1000000 ))")
    sleep 1
    pid="$("$engine" inspect --format '{{.State.Pid}}' bench-sidecar)"
    rss+=("$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")")
    "$engine" rm -f -t 0 bench-sidecar >/dev/null
  done
  median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
  echo "$name: image $sizes bytes ($(( sizes / 1000000 )) MB); start→healthy ${healthy[*]} ms (median $(median "${healthy[@]}") ms); idle VmRSS ${rss[*]} kB (median $(median "${rss[@]}") kB)"
}
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(podman --version), page cache dropped: $([ -w /proc/sys/vm/drop_caches ] && echo yes || echo no)"
measure "ours ($ours)" "$ours"
measure "seed (Debian python3.11 runtime, FROM scratch)" localhost/seed-sidecar:bench
if "$engine" run -d --name bench-health --network host -e SUPERVISE_BOTTLE_SLUG=bench -e SUPERVISE_PORT=19293 \
  -v "$queue:/run/supervise/queue" "$ours" >/dev/null; then
  sleep 1
  started="$(date +%s%N)"
  "$engine" healthcheck run bench-health && echo "ours: podman healthcheck run → healthy in $(( ($(date +%s%N) - started) / 1000000 )) ms (the engine's exec included)"
fi
