#!/usr/bin/env bash
# The sidecar's own binary (bottle-supervise-sidecar) against bottle-supervise:
# which Foundation libraries each links, their sizes, and the idle resident
# memory of `serve` (VmRSS 1 s after it prints its address, STARTS starts each,
# median), all from the debug build (dynamic Swift runtime: `ldd` shows every
# Swift library a binary needs). With --release, also the lean binary as the
# image would ship it: release, static Swift runtime, lld with packed
# relocations, stripped (its own scratch path, .build-lean; the first run
# compiles its closure in release: about 15 minutes on 2 busy cores).
# Usage: bench/sidecar-binary.sh [--release] [STARTS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
release=0; [ "${1:-}" = --release ] && { release=1; shift; }
starts="${1:-3}"
swift build --product bottle-supervise >/dev/null
swift build --product bottle-supervise-sidecar >/dev/null
bin="$(swift build --show-bin-path)"
dir="$(mktemp -d)"; mkdir -p "$dir/q" "$dir/c"
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
idle() {  # binary; prints the median VmRSS in kB
  local values=()
  for _ in $(seq "$starts"); do
    : > "$dir/err"
    "$1" serve --slug web --queue-dir "$dir/q" --current-config "$dir/c" --port 0 2> "$dir/err" & pid=$!
    until grep -q "listening on" "$dir/err"; do sleep 0.05; done
    sleep 1
    values+=("$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)")
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
  printf '%s\n' "${values[@]}" | sort -n | sed -n "$(( (starts + 1) / 2 ))p"
}
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for name in bottle-supervise bottle-supervise-sidecar; do
  foundation=$(ldd "$bin/$name" | awk '/Foundation|ICU|curl/ {print $1}' | tr '\n' ' ')
  echo "$name (debug): $(stat -c %s "$bin/$name") bytes; idle VmRSS $(idle "$bin/$name") kB; links: ${foundation:-no Foundation}"
done
if [ "$release" = 1 ]; then
  swift build -c release --product bottle-supervise-sidecar --static-swift-stdlib --scratch-path .build-lean \
    -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs >/dev/null
  lean="$(swift build -c release --scratch-path .build-lean --show-bin-path)/bottle-supervise-sidecar"
  strip --strip-all -o "$dir/lean" "$lean"
  echo "bottle-supervise-sidecar (release, static runtime): $(stat -c %s "$lean") bytes as built, $(stat -c %s "$dir/lean") stripped, $(gzip -c "$dir/lean" | wc -c) gzipped; dynamic libraries: $(ldd "$lean" | awk '{print $1}' | tr '\n' ' ')"
  echo "  ICU data symbols: $(nm "$lean" 2>/dev/null | grep -c icudt || true); Foundation symbols: $(nm "$lean" 2>/dev/null | grep -c 's10Foundation' || true)"
  echo "  idle VmRSS $(idle "$dir/lean") kB"
fi
