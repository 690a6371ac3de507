#!/usr/bin/env python3
"""Approves every live proposal in a queue directory, as fast as it can, the way
the operator's console writes a decision; prints as JSON
{"decided": {call number: wall time the decision appeared}, "ids": {proposal id: call number}}
(the call number is read from the proposed file, `host-<n>.example.com`).

Usage: held_calls_decide.py ours|seed QUEUE_DIR

ours: docs/queue-format.md: the decision is written to a temp file and then
linked to `<id>.decision.json` (exclusive create: exactly one decision wins).
seed: ../shared/reference/supervise.py: `<id>.response.json`, renamed into place.
"""

import datetime
import json
import os
import sys
import time


def main():
    kind, queue = sys.argv[1], sys.argv[2]
    names = sorted(name for name in os.listdir(queue) if name.endswith(".proposal.json"))
    decided = {}
    ids = {}
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    for name in names:
        stem = name[: -len(".proposal.json")]
        with open(os.path.join(queue, name)) as file:
            proposal = json.load(file)
        n = proposal["proposed_file"].split(".", 1)[0].removeprefix("host-")
        ids[stem] = n
        temp = os.path.join(queue, f".{stem}.decision.{os.getpid()}.tmp")
        if kind == "ours":
            decision = {"format": 1, "id": stem, "status": "approved", "notes": "benchmark",
                        "final_file": None, "decided_by": "bench", "decided_at": now}
            with open(temp, "w") as file:
                json.dump(decision, file)
            try:
                os.link(temp, os.path.join(queue, f"{stem}.decision.json"))
            except FileExistsError:
                pass
            os.unlink(temp)
        else:
            with open(temp, "w") as file:
                json.dump({"id": stem, "status": "approved", "notes": "benchmark", "final_file": None}, file)
            os.replace(temp, os.path.join(queue, f"{stem}.response.json"))
        decided[n] = time.time()
    print(json.dumps({"decided": decided, "ids": ids}))


if __name__ == "__main__":
    main()
