#!/usr/bin/env bash
# The fleet's live latencies with two relays and a real PostgreSQL on this machine
# (issue 19): a proposal on host a → heard from the database; a decision claimed in
# the database → the agent's waiter on host a has it, applied. Needs PostgreSQL's
# server programs (apt-get install postgresql).
#
# Usage: bench/fleet-relay.sh [SAMPLES] [debug|release]   (default 200, debug)
set -euo pipefail
cd "$(dirname "$0")/.."
samples="${1:-200}"
configuration="${2:-debug}"
swift build -c "$configuration" --product bottle-supervise >/dev/null
swift build -c "$configuration" --product fleet-relay >/dev/null
bin="$(swift build -c "$configuration" --show-bin-path)"
exec "$bin/fleet-relay" --binary "$bin/bottle-supervise" --samples "$samples"
