#!/usr/bin/env bash
# Standing rules: the time from an agent's tools/call to its answer when a rule approves it
# (goal: median under 50 ms with the reload command `true`), beside the MCP round trip of a call
# the sidecar answers alone (invalid input). One sidecar (`serve`), one rule runner (`notify`,
# rules only), the official MCP Python client (bench/rule_latency.py), CALLS sequential calls.
# Every call goes the whole way: queued by the sidecar, seen by the runner (inotify), judged
# (risk hints, the matcher), decided and applied (BottleLock, conflict check, the allowlist
# written and fsynced, `true` run as the reload, audit log appended), answered to the held call.
# Usage: bench/rule-latency.sh [CALLS]     (from the repository root; default 200. Builds
#        release, or set $RULE_LATENCY_BIN, e.g. a debug build; $SUPERVISE_TEST_PYTHON or .venv's
#        python, with mcp==2.3.0)
set -euo pipefail
cd "$(dirname "$0")/.."
calls="${1:-200}"
if [ -z "${RULE_LATENCY_BIN:-}" ]; then
  swift build -c release --product bottle-supervise >/dev/null
  bin="$(swift build -c release --show-bin-path)/bottle-supervise"
else
  bin="$RULE_LATENCY_BIN"
fi
python="${SUPERVISE_TEST_PYTHON:-.venv/bin/python}"
dir="$(mktemp -d)"
cleanup() { kill "${serve:-}" "${rules:-}" 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"; }
trap cleanup EXIT
mkdir -p "$dir/queue/bench" "$dir/bottles/bench"
printf 'pypi.org\n' >"$dir/bottles/bench/allowlist"
printf '[reload.allowlist]\ncommand = ["true"]\n' >"$dir/bottles/bench/supervise.toml"
cat >"$dir/host.toml" <<'TOML'
[[policy.rule]]
name = "bench"
bottles = ["bench"]
tool = "pipelock-block"
hosts = ["*.bench.example"]
action = "approve"
TOML
"$bin" notify --settings "$dir/host.toml" --queue-root "$dir/queue" --config-root "$dir/bottles" 2>"$dir/notify.err" &
rules=$!
"$bin" serve --slug bench --queue-dir "$dir/queue/bench" --current-config "$dir/bottles/bench" --port 0 \
  --hold-limit 0 2>"$dir/serve.err" &
serve=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/serve.err" 2>/dev/null && grep -q watching "$dir/notify.err" && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.]*:[0-9]*/mcp' "$dir/serve.err" | head -1)"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $calls calls, $bin"
"$python" bench/rule_latency.py "$url" "$dir/bottles/bench" "$calls"
