#!/usr/bin/env python3
"""Writes a valid, chained audit log of N records (the format of docs/apply.md:
{"hash":"<sha256(body)>", then the body's keys sorted, compact JSON), for
benchmarks of `bottle-supervise log`. Usage: make-audit-log.py PATH N"""
import hashlib, json, sys

path, count = sys.argv[1], int(sys.argv[2])
prev = "0" * 64
with open(path, "w") as out:
    for index in range(count):
        record = {
            "at": "2026-12-02T13:33:12.971Z", "bottle": f"bottle-{index % 1000:04d}", "by": "alice",
            "event": "decision", "file": "allowlist", "format": 1,
            "id": f"20261202-123312-{index:012x}", "new_sha256": hashlib.sha256(str(index).encode()).hexdigest(),
            "old_sha256": "41b912841d4cee4398db78aa82da3382a4cdb7e378dbedbd527371658012ad21",
            "prev": prev, "status": "rejected", "tool": "pipelock-block",
        }
        body = json.dumps(record, sort_keys=True, separators=(",", ":"))
        line = '{"hash":"' + hashlib.sha256(body.encode()).hexdigest() + '",' + body[1:]
        out.write(line + "\n")
        prev = hashlib.sha256(line.encode()).hexdigest()
