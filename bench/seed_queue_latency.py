"""The seed's decision latency, for side-by-side comparison with bench/queue-latency.

Uses the reference stand-in of the seed's queue module (../shared/reference/supervise.py):
a waiting thread polls for <id>.response.json every SUPERVISE_POLL_S (0.5 s by default);
the main thread writes the response atomically and times until the waiter returns.
Usage: python3 bench/seed_queue_latency.py REFERENCE_DIR [COUNT]
"""
import json, os, statistics, sys, tempfile, threading, time
from pathlib import Path

sys.path.insert(0, sys.argv[1])
import supervise as sv  # noqa: E402

count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
queue = Path(tempfile.mkdtemp(prefix="seed-latency-"))
samples = []
for index in range(count):
    proposal = sv.Proposal.new(bottle_slug="bench", tool=sv.TOOL_PIPELOCK_BLOCK, proposed_file=f"h{index}.example\n",
                               justification="bench", current_file_hash="")
    sv.write_proposal(queue, proposal)
    woke = {}
    waiter = threading.Thread(target=lambda: woke.setdefault("t", (sv.wait_for_response(queue, proposal.id), time.monotonic())[1]))
    waiter.start()
    time.sleep(0.013 * (index % 37))  # decisions arrive at arbitrary moments of the poll cycle
    tmp = queue / f".{proposal.id}.response.json.tmp"
    tmp.write_text(json.dumps({"id": proposal.id, "status": "approved", "notes": "", "final_file": None}))
    start = time.monotonic()
    os.replace(tmp, queue / f"{proposal.id}.response.json")
    waiter.join()
    samples.append((woke["t"] - start) * 1000)
    sv.archive_proposal(queue, proposal.id)
samples.sort()
print(f"seed (polling every {sv.POLL_INTERVAL_S}s): {count} proposals")
print(f"  visible→wake  n={count}  median {statistics.median(samples):.3f} ms  "
      f"p99 {samples[min(count - 1, count * 99 // 100)]:.3f} ms  worst {samples[-1]:.3f} ms")
