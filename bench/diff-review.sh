#!/usr/bin/env bash
# The bounded review: time and peak RSS of a real `bottle-supervise show` for
#   big      a 1 MiB allowlist proposed against a 10-line one (goal: < 1 s, < 50 MB resident)
#   scatter  a 20,000-line allowlist with 200 lines changed here and there
#   shuffle  a 20,000-line allowlist against the same hosts in another order (worst case:
#            the diff's 300 ms budget runs out and `show` prints a summary)
# and, on the same inputs, the diff alone in one process per algorithm: the new one
# (Sources/Console/Review) beside the old one (bench/diff-review/OldUnifiedDiff.swift),
# each under a 4 GiB address-space limit and a 60 s timeout.
# Usage: bench/diff-review.sh        (release build, or $BOTTLE_SUPERVISE_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BOTTLE_SUPERVISE_BIN:-}" ]; then
  swift build -c release --product bottle-supervise >/dev/null
  bin="$(swift build -c release --show-bin-path)/bottle-supervise"
else
  bin="$BOTTLE_SUPERVISE_BIN"   # e.g. a debug build, to measure without a release build
fi
state="$(mktemp -d)"; trap 'rm -rf "$state"' EXIT
swiftc -O -o "$state/diff-review" bench/diff-review/main.swift bench/diff-review/OldUnifiedDiff.swift \
  Sources/Console/Review/LineDiff.swift Sources/Console/Review/UnifiedDiff.swift 2>/dev/null
python3 - "$state" <<'PY'
import datetime, hashlib, json, os, random, sys
state = sys.argv[1]
random.seed(7)
def hosts(n, tag): return [f"h{i:06d}.{tag}.example.com" for i in range(n)]
big, line, i = [], "", 0
while True:  # as many hosts as fit in 1 MiB
    line = f"host-{i:07d}.proposed.example.org\n"
    if sum(map(len, big)) + len(line) > 1_048_576: break
    big.append(line); i += 1
cases = {
    "big": ("".join(h + "\n" for h in hosts(10, "current")), "".join(big)),
}
base = hosts(20_000, "base")
changed = list(base)
for j in random.sample(range(len(base)), 200): changed[j] = f"changed{j}.example.net"
cases["scatter"] = ("\n".join(base) + "\n", "\n".join(changed) + "\n")
shuffled = list(base); random.shuffle(shuffled)
cases["shuffle"] = ("\n".join(base) + "\n", "\n".join(shuffled) + "\n")
created = datetime.datetime.now(datetime.timezone.utc)
for n, (name, (current, proposed)) in enumerate(cases.items()):
    slug = f"bench-{name}"
    os.makedirs(f"{state}/queue/{slug}/archive", exist_ok=True)
    os.makedirs(f"{state}/bottles/{slug}", exist_ok=True)
    open(f"{state}/bottles/{slug}/allowlist", "w").write(current)
    open(f"{state}/{name}.old", "w").write(current)
    open(f"{state}/{name}.new", "w").write(proposed)
    pid = created.strftime("%Y%m%d-%H%M%S-") + f"{n:012x}"
    record = {"format": 1, "id": pid, "bottle": slug, "tool": "pipelock-block", "proposed_file": proposed,
              "justification": f"bench {name}", "current_file_sha256": hashlib.sha256(current.encode()).hexdigest(),
              "proposed_file_sha256": hashlib.sha256(proposed.encode()).hexdigest(),
              "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z"}
    json.dump(record, open(f"{state}/queue/{slug}/{pid}.proposal.json", "w"))
    open(f"{state}/{name}.id", "w").write(pid)
    print(f"{name}: current {len(current.splitlines())} lines, proposed {len(proposed.splitlines())} lines / {len(proposed.encode())} bytes")
PY
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $("$bin" --version 2>/dev/null || echo bottle-supervise) at $bin"
measure() {  # label, command...: wall seconds and peak RSS from GNU time
  local out="$state/time.txt" status=0
  ( ulimit -v 4194304; timeout 60 /usr/bin/time -v "${@:2}" >"$state/stdout.txt" 2>"$out" ) || status=$?
  local rss wall cpu
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$out")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out")
  cpu=$(awk -F': ' '/User time|System time/ {sum += $2} END {printf "%.2fs", sum}' "$out")
  local note=""
  [ "$status" = 124 ] && note=" (killed by the 60 s timeout)"
  [ "$status" != 0 ] && [ "$status" != 124 ] && note=" (exit $status: $(grep -m1 -iE 'fatal|error|memory' "$out" "$state/stdout.txt" | cut -c1-80))"
  printf '%-28s wall %-9s cpu %-7s peak RSS %8s MB%s\n' "$1" "${wall:-?}" "${cpu:-?}" "${rss:-?}" "$note"
}
for name in big scatter shuffle; do
  id=$(cat "$state/$name.id")
  measure "show ($name)" "$bin" show "$id" --queue-root "$state/queue" --config-root "$state/bottles"
  echo "    $(grep -m1 -E 'too large|^@@' "$state/stdout.txt" | cut -c1-100); $(wc -l <"$state/stdout.txt") lines printed"
  for algorithm in new old; do
    measure "diff alone, $algorithm ($name)" "$state/diff-review" "$algorithm" "$state/$name.old" "$state/$name.new"
    echo "    $(cat "$state/stdout.txt")"
  done
done
