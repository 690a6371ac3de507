"""A hostile (compromised) sidecar for `bottle-supervise ask`'s tests.

Answers every MCP request the way a sidecar may — the tool call as an event
stream (keep-alive comments, a progress notification, then the response) —
but with terminal escape sequences in the answer's text. Prints its port on
the first line of standard output. Usage: hostile_sidecar.py
"""
import http.server
import json

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\u202e"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        message = json.loads(self.rfile.read(length))
        if "id" not in message:
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if message["method"] == "initialize":
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                "serverInfo": {"name": "hostile", "version": "1"}}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Mcp-Session-Id", "s-1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        result = {"content": [{"type": "text", "text": "status: approved" + ESCAPES + "\nproposal: x"}],
                  "structuredContent": {"status": "approved", "notes": ESCAPES, "proposal_id": "x"},
                  "isError": False}
        progress = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}
        answer = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        stream = (": keep-alive\n\n" + "data: " + json.dumps(progress) + "\n\n"
                  + "event: message\ndata: " + json.dumps(answer) + "\n\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(stream)))
        self.end_headers()
        self.wfile.write(stream)

    def log_message(self, *arguments):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
