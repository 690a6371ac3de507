"""Drives `bottle-supervise serve` with the official MCP Python SDK (mcp==2.3.0).

Used by Tests/EndToEndTests/Sidecar*.swift. Each scenario prints one JSON object
on stdout; the Swift test decides proposals through the queue files meanwhile.

    sidecar_client.py list   TARGET MODE
    sidecar_client.py call   TARGET MODE TOOL FILE [--read-timeout S] [--progress]
    sidecar_client.py cancel TARGET MODE TOOL FILE --after S
    sidecar_client.py raw    URL [--origin O] [--body-file F] [--chunked] [--header 'Name: value']...
    sidecar_client.py persist TARGET MODE TOOL FILE --call-timeout S [--retry-after S]

`persist` is what a model does when its client gives up on a call before the
operator decides: each call has a total timeout (`--call-timeout`); when the
call times out, the identical call is retried (after `--retry-after`); when an
answer says `pending`, `proposal-status` is called with its proposal id, until
a decision arrives. It prints the decision and what happened on the way.

TARGET is an http:// URL, or `stdio:` followed by the server command line
(space-separated). MODE is `legacy` or `auto`.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import sys
import urllib.parse

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

ARGUMENT = {"cred-proxy-block": "routes", "pipelock-block": "allowlist", "capability-block": "dockerfile"}
# proposal-status takes only the id (the FILE holds it).
STATUS_TOOL = "proposal-status"


def server_for(target: str, read_timeout: float | None):
    if target.startswith("stdio:"):
        command = target[len("stdio:"):].split(" ")
        return StdioServerParameters(command=command[0], args=command[1:])
    if read_timeout is None:
        return target
    http_client = httpx2.AsyncClient(timeout=httpx2.Timeout(10.0, read=read_timeout))
    return streamable_http_client(target, http_client=http_client)


def result_json(result) -> dict:
    return {
        "isError": bool(result.is_error),
        "structured": result.structured_content,
        "text": "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text"),
    }


async def list_tools(args) -> dict:
    async with Client(server_for(args.target, None), mode=args.mode) as client:
        tools = await client.list_tools()
        return {
            "protocolVersion": client.protocol_version,
            "tools": [
                {"name": t.name, "required": t.input_schema.get("required"), "hasOutputSchema": t.output_schema is not None}
                for t in tools.tools
            ],
        }


async def call(args) -> dict:
    with open(args.file) as f:
        content = f.read()
    progress: list[float] = []

    async def on_progress(value, total, message):
        progress.append(value)

    async with Client(server_for(args.target, args.read_timeout), mode=args.mode) as client:
        try:
            result = await client.call_tool(
                args.tool,
                {"proposal_id": content.strip()} if args.tool == STATUS_TOOL
                else {ARGUMENT[args.tool]: content, "justification": "the build needs it"},
                progress_callback=on_progress if args.progress else None,
            )
        except MCPError as error:
            return {"error": {"code": error.error.code, "message": error.error.message}, "protocolVersion": client.protocol_version}
        out = result_json(result)
        out["protocolVersion"] = client.protocol_version
        out["progress"] = progress
        return out


async def cancel(args) -> dict:
    with open(args.file) as f:
        content = f.read()
    async with Client(server_for(args.target, None), mode=args.mode) as client:
        task = asyncio.create_task(
            client.call_tool(args.tool, {ARGUMENT[args.tool]: content, "justification": "the build needs it"})
        )
        await asyncio.sleep(args.after)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(0.5)  # let the courtesy notifications/cancelled go out
        return {"cancelled": True, "protocolVersion": client.protocol_version}


async def persist(args) -> dict:
    with open(args.file) as f:
        content = f.read()
    steps: list[str] = []
    arguments = {ARGUMENT[args.tool]: content, "justification": "the build needs it"}
    async with Client(server_for(args.target, None), mode=args.mode) as client:
        result = None
        for _ in range(40):
            if result is None:
                name, call_arguments = args.tool, arguments
            else:
                name, call_arguments = "proposal-status", {"proposal_id": result["structured"]["proposal_id"]}
            try:
                answer = await client.call_tool(name, call_arguments, read_timeout_seconds=args.call_timeout)
            except Exception as error:  # the client's own timeout, whatever it raises
                steps.append(f"{name}: gave up ({type(error).__name__})")
                await asyncio.sleep(args.retry_after)
                continue
            result = result_json(answer)
            status = (result["structured"] or {}).get("status")
            steps.append(f"{name}: {status}")
            if status != "pending":
                break
        result = result or {}
        result["steps"] = steps
        result["protocolVersion"] = client.protocol_version
        return result


def raw(args) -> dict:
    url = urllib.parse.urlsplit(args.target)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = open(args.body_file, "rb").read() if args.body_file else b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if args.origin:
        headers["Origin"] = args.origin
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()  # a Host given here replaces the one http.client would send
    if args.chunked:
        headers["Transfer-Encoding"] = "chunked"
        connection.request("POST", url.path or "/", body=iter([body[i : i + 4096] for i in range(0, len(body), 4096)]), headers=headers, encode_chunked=True)
    else:
        connection.request("POST", url.path or "/", body=body, headers=headers)
    response = connection.getresponse()
    return {
        "status": response.status,
        "body": response.read().decode("utf-8", "replace"),
        "headers": {name.lower(): value for name, value in response.getheaders()},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["list", "call", "cancel", "raw", "persist"])
    parser.add_argument("target")
    parser.add_argument("rest", nargs="*", help="MODE [TOOL FILE]")
    parser.add_argument("--read-timeout", type=float)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--after", type=float, default=1.0)
    parser.add_argument("--origin")
    parser.add_argument("--body-file")
    parser.add_argument("--chunked", action="store_true")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--call-timeout", type=float, default=3.0)
    parser.add_argument("--retry-after", type=float, default=0.0)
    args = parser.parse_args()
    rest = args.rest + [None] * (3 - len(args.rest))
    args.mode, args.tool, args.file = rest[0] or "legacy", rest[1], rest[2]
    if args.scenario == "raw":
        out = raw(args)
    else:
        out = asyncio.run({"list": list_tools, "call": call, "cancel": cancel, "persist": persist}[args.scenario](args))
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
