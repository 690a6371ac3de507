#!/usr/bin/env bash
# Audit-log append time right after a planted 16 MiB line (goal: under 20 ms), beside a
# normal 1,000-record log; every append is the real one (flock, last-line read, write, fsync).
# Usage: bench/audit-append.sh [RUNS] [MIB]     (from the repository root; builds release,
#        or set $AUDIT_APPEND_BIN, e.g. a debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"; mib="${2:-16}"
if [ -z "${AUDIT_APPEND_BIN:-}" ]; then
  swift build -c release --product audit-append >/dev/null
  bin="$(swift build -c release --show-bin-path)/audit-append"
else
  bin="$AUDIT_APPEND_BIN"
fi
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), log in ${TMPDIR:-/tmp}"
"$bin" --runs "$runs" --mib "$mib"
