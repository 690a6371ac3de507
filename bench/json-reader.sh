#!/usr/bin/env bash
# The sidecar's JSON-RPC body reader (Sources/Sidecar/Protocol/JSONReader.swift),
# now against a baseline revision's, on typical bodies (tools/list, initialize,
# a 4 KiB tools/call): median ns per body of 6 interleaved rounds.
# Usage: bench/json-reader.sh [BASELINE_REV] [ITERATIONS]   (default: HEAD, 200000)
# Built with swiftc -O from the reader and the Queue JSON folder it uses (the
# parser, JSONValue and its builder), so no release build of the dependency
# set is needed. Baselines from before the sidecar read into Queue's JSONValue
# (before the MCP SDK was dropped) built the SDK's Value: a stand-in with the
# same cases (bench/json-reader/MCPValue.swift) is compiled for them; a
# baseline whose reader does not import Queue is built the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline="${1:-HEAD}"
iterations="${2:-200000}"
out=.build-bench-json
rm -rf "$out"; mkdir -p "$out/base" "$out/Modules"
common=(-O -wmo -parse-as-library -swift-version 6)
swiftc "${common[@]}" -module-name MCP -emit-module -emit-module-path "$out/Modules/MCP.swiftmodule" \
  -c -o "$out/MCP.o" bench/json-reader/MCPValue.swift
# The files the reader needs from Queue: the JSON folder (parser, JSONValue,
# its builder) and the two message helpers it quotes agent text with.
queue=(Sources/Queue/Domain/Escaped.swift Sources/Queue/Validation/QuotedText.swift)
# The current reader as the sidecar builds it: Queue's parser a module of its
# own (so cross-module inlining is what is measured), the reader in another.
mkdir -p "$out/Current"
swiftc "${common[@]}" -module-name Queue -emit-module -emit-module-path "$out/Current/Queue.swiftmodule" \
  -c -o "$out/Current/Queue.o" Sources/Queue/JSON/*.swift "${queue[@]}"
swiftc "${common[@]}" -module-name Current -I "$out/Modules" -I "$out/Current" -emit-module \
  -emit-module-path "$out/Modules/Current.swiftmodule" -c -o "$out/Current.o" \
  Sources/Sidecar/Protocol/JSONReader.swift bench/json-reader/Entry.swift
# The baseline's reader in one module (with its parser files, if it had the
# shared parser, and its `import Queue` dropped, so the two cannot clash).
git archive "$baseline" Sources/Queue Sources/Sidecar/Protocol/JSONReader.swift | tar -x -C "$out/base"
sed -i '/^import Queue$/d' "$out/base/Sources/Sidecar/Protocol/JSONReader.swift"
base_sources=("$out/base/Sources/Sidecar/Protocol/JSONReader.swift")
if [ -d "$out/base/Sources/Queue/JSON" ]; then
  base_sources+=("$out"/base/Sources/Queue/JSON/*.swift "${queue[@]/#/$out/base/}")
fi
swiftc "${common[@]}" -module-name Baseline -I "$out/Modules" -emit-module \
  -emit-module-path "$out/Modules/Baseline.swiftmodule" -c -o "$out/Baseline.o" \
  "${base_sources[@]}" bench/json-reader/Entry.swift
swiftc -O -swift-version 6 -I "$out/Modules" -I "$out/Current" bench/json-reader/main.swift \
  "$out/MCP.o" "$out/Current.o" "$out/Current/Queue.o" "$out/Baseline.o" -o "$out/json-reader"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), baseline $(git rev-parse --short "$baseline"), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
"$out/json-reader" "$iterations"
