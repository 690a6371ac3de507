"""Drives `bottle-supervise serve` with an older official MCP Python SDK (mcp 1.x,
in .venv-mcp1): a client that abandons a timed-out request without cancelling it.

    sidecar_client_mcp1.py persist URL TOOL FILE --call-timeout S
    sidecar_client_mcp1.py retry URL TOOL FILE --call-timeout S --gave-up-file G --go-file F

persist: each call has a total timeout; on `pending` the model calls
`proposal-status` with the proposal id until a decision arrives (see
sidecar_client.py persist).

retry: one call that the client gives up on after --call-timeout (mcp 1.x
leaves its stream open: a decision made after is written into a stream
nobody reads); the script then creates G, waits for F (the test creates it
once the decision was delivered and archived), and makes the identical call
again, with a long timeout: what an agent does after a timeout.
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


async def retry(args) -> dict:
    import os
    import time

    with open(args.file) as f:
        content = f.read()
    steps: list[str] = []
    arguments = {ARGUMENT[args.tool]: content, "justification": "the build needs it"}
    async with streamablehttp_client(args.url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            result = None
            for attempt, timeout in enumerate([args.call_timeout, 60.0]):
                try:
                    answer = await session.call_tool(
                        args.tool, arguments, read_timeout_seconds=timedelta(seconds=timeout))
                except Exception as error:  # the client's own timeout: mcp 1.x abandons the request
                    steps.append(f"{args.tool}: gave up ({type(error).__name__})")
                    if attempt == 0:
                        open(args.gave_up_file, "w").close()
                        deadline = time.monotonic() + 60
                        while not os.path.exists(args.go_file) and time.monotonic() < deadline:
                            await asyncio.sleep(0.05)
                    continue
                text = "\n".join(c.text for c in answer.content if getattr(c, "type", "") == "text")
                # mcp before 1.10 has no structuredContent: read the text's "status:", "proposal:", "notes:" lines.
                structured = getattr(answer, "structuredContent", None)
                if structured is None:
                    fields = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
                    structured = {"status": fields.get("status"), "proposal_id": fields.get("proposal"),
                                  "notes": fields.get("notes")}
                result = {"isError": bool(answer.isError), "structured": structured, "text": text}
                steps.append(f"{args.tool}: {(result['structured'] or {}).get('status')}")
                break
            result = result or {}
            result["steps"] = steps
            return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["persist", "retry"])
    parser.add_argument("url")
    parser.add_argument("tool")
    parser.add_argument("file")
    parser.add_argument("--call-timeout", type=float, default=3.0)
    parser.add_argument("--gave-up-file")
    parser.add_argument("--go-file")
    args = parser.parse_args()
    scenario = persist if args.scenario == "persist" else retry
    print(json.dumps(asyncio.run(scenario(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
