"""Drives `bottle-supervise serve` with an older official MCP Python SDK (mcp 1.x,
in .venv-mcp1): a client that abandons a timed-out request without cancelling it.

    sidecar_client_mcp1.py persist URL TOOL FILE --call-timeout S

Each call has a total timeout; on `pending` the model calls `proposal-status`
with the proposal id until a decision arrives (see sidecar_client.py persist).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

ARGUMENT = {"cred-proxy-block": "routes", "pipelock-block": "allowlist", "capability-block": "dockerfile"}


async def persist(args) -> dict:
    with open(args.file) as f:
        content = f.read()
    steps: list[str] = []
    arguments = {ARGUMENT[args.tool]: content, "justification": "the build needs it"}
    async with streamablehttp_client(args.url) as (read, write, _):
        async with ClientSession(read, write) as session:
            initialized = await session.initialize()
            names = [tool.name for tool in (await session.list_tools()).tools]
            result = None
            for _ in range(40):
                if result is None:
                    name, call_arguments = args.tool, arguments
                else:
                    name, call_arguments = "proposal-status", {"proposal_id": result["structured"]["proposal_id"]}
                try:
                    answer = await session.call_tool(
                        name, call_arguments, read_timeout_seconds=timedelta(seconds=args.call_timeout)
                    )
                except Exception as error:  # the client's own timeout: mcp 1.x abandons the request
                    steps.append(f"{name}: gave up ({type(error).__name__})")
                    continue
                result = {
                    "isError": bool(answer.isError),
                    "structured": answer.structuredContent,
                    "text": "\n".join(c.text for c in answer.content if getattr(c, "type", "") == "text"),
                }
                status = (result["structured"] or {}).get("status")
                steps.append(f"{name}: {status}")
                if status != "pending":
                    break
            result = result or {}
            result["steps"] = steps
            result["tools"] = names
            result["protocolVersion"] = initialized.protocolVersion
            return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["persist"])
    parser.add_argument("url")
    parser.add_argument("tool")
    parser.add_argument("file")
    parser.add_argument("--call-timeout", type=float, default=3.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(persist(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
