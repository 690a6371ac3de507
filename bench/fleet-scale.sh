#!/usr/bin/env bash
# The fleet at issue 19's scale: 100 hosts × 100 bottles × 10 pending proposals in a real
# PostgreSQL 15; the fleet list page over HTTP and `list --database`, side by side, median and
# p99; a relay's cost at rest. Needs PostgreSQL's server programs (apt-get install postgresql)
# and curl.
#
# Usage: bench/fleet-scale.sh [RUNS] [debug|release] [IDLE_SECONDS]   (default 30, debug, 60)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
configuration="${2:-debug}"
idle="${3:-60}"
swift build -c "$configuration" --product bottle-supervise >/dev/null
swift build -c "$configuration" --product fleet-scale >/dev/null
bin="$(swift build -c "$configuration" --show-bin-path)"
exec "$bin/fleet-scale" --binary "$bin/bottle-supervise" --runs "$runs" --idle "$idle"
