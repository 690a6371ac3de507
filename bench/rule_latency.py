"""The time from an agent's tools/call to its answer when a standing rule
decides (bench/rule-latency.sh): one MCP session (the official Python SDK,
mcp==2.3.0), CALLS sequential pipelock-block calls, each adding one host
that the rule's `*.bench.example` covers to the bottle's current allowlist.

Baseline, same session: a call the sidecar answers without the queue (a
proposed allowlist that does not validate), i.e. the MCP round trip itself.

    rule_latency.py URL CONFIG_DIR CALLS
Prints one JSON object: the latencies (ms) of both, with median and p90.
"""

import asyncio
import json
import statistics
import sys
import time

from mcp import Client


def summary(samples):
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9) - 1], 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def main(url, config_dir, calls):
    rule, baseline, statuses = [], [], {}
    async with Client(url, mode="auto") as client:
        for i in range(calls):
            with open(f"{config_dir}/allowlist") as f:
                current = f.read()
            proposed = current + f"h{i}.bench.example\n"
            started = time.perf_counter()
            result = await client.call_tool(
                "pipelock-block", {"allowlist": proposed, "justification": "bench"})
            rule.append((time.perf_counter() - started) * 1000)
            status = (result.structured_content or {}).get("status")
            statuses[status] = statuses.get(status, 0) + 1
            started = time.perf_counter()
            await client.call_tool("pipelock-block", {"allowlist": "not a host!\n", "justification": "bench"})
            baseline.append((time.perf_counter() - started) * 1000)
    return {"rule": summary(rule), "baseline_invalid_input": summary(baseline), "statuses": statuses}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))))
