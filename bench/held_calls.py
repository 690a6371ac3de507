#!/usr/bin/env python3
"""Many concurrent held `tools/call`s against one sidecar, then a decision on each.

What it measures, for a server already listening on URL with its queue in QUEUE:
  1. queued: time from the first call until QUEUE holds one proposal per call
     (or how many it holds when --queue-timeout runs out: the seed drops calls);
  2. held: the server's resident memory while every call is held, and the
     latency of `tools/list` meanwhile (sequential requests on one connection);
  3. answered: every queued proposal is decided by a separate process writing
     decision files as the operator's console would; for each call, the time
     from its decision file appearing to its answer arriving at the client
     and (ours) to the sidecar archiving it, which it does once the answer
     is written — the server's side, without the client's own delay.

Each call is its own TCP connection posting an `allowlist` proposal of its own
(`host-<n>.example.com`), so none is an identical resubmission of another.

Two queue formats: ours (docs/queue-format.md: `<id>.decision.json`, created
exclusively) and the seed's (`<id>.response.json`, see ../shared/reference).

Usage: held_calls.py --url http://127.0.0.1:PORT/mcp --queue DIR --pid PID
                     [--calls 10000] [--format ours|seed] [--queue-timeout 60]
Prints one JSON object of results on stdout; progress goes to stderr.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from urllib.parse import urlsplit


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def request_bytes(host, port, path, body, accept):
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: {accept}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def tool_call(n):
    body = {
        "jsonrpc": "2.0",
        "id": n,
        "method": "tools/call",
        "params": {
            "name": "pipelock-block",
            "arguments": {
                "allowlist": f"host-{n}.example.com\n",
                "justification": f"call {n} of a held-calls benchmark",
            },
        },
    }
    return json.dumps(body).encode()


class Call:
    __slots__ = ("n", "sent", "answered", "status", "error")

    def __init__(self, n):
        self.n = n
        self.sent = None
        self.answered = None
        self.status = None
        self.error = None


async def read_answer(reader):
    """The JSON-RPC response of one call: a plain JSON body or the last event of an SSE stream."""
    head = await reader.readuntil(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return json.loads(await reader.readexactly(int(headers["content-length"])))
    if headers.get("transfer-encoding") == "chunked":
        text = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                break
            text += (await reader.readexactly(size + 2))[:-2]
            for block in text.split(b"\n\n"):
                if block.startswith(b"event: message\ndata: "):
                    message = json.loads(block.split(b"data: ", 1)[1])
                    if "id" in message and ("result" in message or "error" in message):
                        return message
        raise ValueError("stream ended without a response")
    return json.loads(await reader.read())


async def hold(call, host, port, path, accept, connect_gate):
    try:
        async with connect_gate:
            reader, writer = await asyncio.open_connection(host, port)
            call.sent = time.time()
            writer.write(request_bytes(host, port, path, tool_call(call.n), accept))
            await writer.drain()
        message = await read_answer(reader)
        call.answered = time.time()
        if "error" in message:
            call.error = message["error"].get("message", "error")
        else:
            structured = message["result"].get("structuredContent") or {}
            # Ours says so in structuredContent; the seed only in its text ("status: approved").
            text = message["result"]["content"][0]["text"]
            call.status = structured.get("status") or text.split("\n")[0].removeprefix("status: ")
        writer.close()
    except Exception as error:  # connection refused or reset: the seed's backlog
        call.error = f"{type(error).__name__}: {error}"


def proposal_ids(queue):
    return [name[: -len(".proposal.json")] for name in os.listdir(queue) if name.endswith(".proposal.json")]


async def tools_list_latencies(host, port, path, count):
    reader, writer = await asyncio.open_connection(host, port)
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    request = request_bytes(host, port, path, body, "application/json, text/event-stream")
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
        await reader.readexactly(length)
        timings.append((time.perf_counter() - start) * 1000)
        if b"connection: close" in head.lower():
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    return timings


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary_ms(values):
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 3),
        "p99_ms": round(percentile(values, 0.99), 3),
        "max_ms": round(max(values), 3),
    }


async def main():
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--url", required=True)
    options.add_argument("--queue", required=True)
    options.add_argument("--pid", type=int, required=True)
    options.add_argument("--calls", type=int, default=10000)
    options.add_argument("--format", choices=["ours", "seed"], default="ours")
    options.add_argument("--queue-timeout", type=float, default=60)
    options.add_argument("--accept", default="application/json, text/event-stream")
    options.add_argument(
        "--client", help="the held-calls-client executable: hold the calls from it (Swift, light on CPU) instead of here"
    )
    args = options.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    url = urlsplit(args.url)
    host, port, path = url.hostname, url.port, url.path or "/"
    results = {"format": args.format, "calls": args.calls, "rss_idle_kb": rss_kb(args.pid)}

    calls = [Call(n) for n in range(1, args.calls + 1)]
    gate = asyncio.Semaphore(int(os.environ.get("HELD_CALLS_GATE", "512")))  # connects in flight; all calls stay open
    started = time.time()
    client = None
    if args.client:
        answers = os.path.join(args.queue + ".answers")
        client = subprocess.Popen(
            [args.client, host, str(port), str(args.calls), answers, str(args.queue_timeout + 90)],
            stdout=subprocess.DEVNULL)
        tasks = []
    else:
        tasks = [asyncio.create_task(hold(call, host, port, path, args.accept, gate)) for call in calls]

    peak_rss = 0
    while time.time() - started < args.queue_timeout:
        await asyncio.sleep(0.25)  # listing the queue costs the server too: not too often
        peak_rss = max(peak_rss, rss_kb(args.pid))
        if len(proposal_ids(args.queue)) >= args.calls:
            break
    stems = proposal_ids(args.queue)
    queued = len(stems)
    results["queued"] = queued
    # When the last proposal appeared: its file's ctime (set by the rename that queued it).
    last = max((os.stat(os.path.join(args.queue, f"{stem}.proposal.json")).st_ctime for stem in stems), default=started)
    results["queued_s"] = round((last if queued >= args.calls else time.time()) - started, 3)
    results["client"] = "swift" if client else "python"
    results["failed_before_decision"] = sum(1 for call in calls if call.error)
    log(f"{args.format}: {queued}/{args.calls} queued after {results['queued_s']} s")

    await asyncio.sleep(1)
    results["rss_holding_kb"] = rss_kb(args.pid)
    if args.format == "ours":
        latencies = await tools_list_latencies(host, port, path, 2000)
        results["tools_list_while_holding"] = summary_ms(latencies)
        log(f"tools/list while holding: {results['tools_list_while_holding']}")

    # Decide every queued proposal from another process, as the console would.
    decider = subprocess.run(
        [sys.executable, os.path.join(os.path.dirname(__file__), "held_calls_decide.py"), args.format, args.queue],
        capture_output=True, text=True, check=True,
    )
    report = json.loads(decider.stdout)
    decided = report["decided"]  # call number -> wall time its decision file appeared
    results["decide_s"] = round(max(decided.values()) - min(decided.values()), 3) if decided else 0

    if client:
        client.wait(timeout=args.queue_timeout + 120)
        with open(answers) as lines:
            for line in lines:
                n, _, answered, outcome = line.split()
                call = calls[int(n) - 1]
                if answered == "-":
                    call.error = outcome
                else:
                    call.answered, call.status = float(answered), outcome
        os.unlink(answers)
    else:
        waiting = [task for task, call in zip(tasks, calls) if not call.error]
        await asyncio.wait(waiting, timeout=30) if waiting else None
    peak_rss = max(peak_rss, rss_kb(args.pid))
    results["rss_peak_kb"] = peak_rss
    answered = [call for call in calls if call.answered and not call.error]
    results["answered"] = len(answered)
    results["statuses"] = {}
    for call in answered:
        results["statuses"][call.status] = results["statuses"].get(call.status, 0) + 1
    after = [(call.answered - decided[str(call.n)]) * 1000 for call in answered if str(call.n) in decided]
    if after:
        results["answer_after_decision"] = summary_ms(after)
    if args.format == "ours":
        # Server side: the sidecar archives a decision once its answer is written, and the rename
        # sets the file's ctime; this leaves out how long the Python client took to read the answers.
        archived = []
        for stem, n in report["ids"].items():
            path = os.path.join(args.queue, "archive", f"{stem}.decision.json")
            if os.path.exists(path) and n in decided:
                archived.append((os.stat(path).st_ctime - decided[n]) * 1000)
        if archived:
            results["archived_after_decision"] = summary_ms(archived)
    errors = {}
    for call in calls:
        if call.error:
            key = call.error.split(":")[0]
            errors[key] = errors.get(key, 0) + 1
    results["errors"] = errors
    for task in tasks:
        task.cancel()
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
