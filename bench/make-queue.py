"""Fills a queue root with BOTTLES bottles of PENDING pending proposals each (queue format 1,
docs/queue-format.md), plus each bottle's current allowlist under a config root, for the
console's scale benchmarks.  Usage: python3 bench/make-queue.py QUEUE_ROOT CONFIG_ROOT BOTTLES PENDING"""
import datetime, hashlib, json, os, secrets, sys

queue_root, config_root, bottles, pending = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
current = "api.github.com\npypi.org\n"
for b in range(bottles):
    slug = f"bottle-{b:04d}"
    os.makedirs(os.path.join(queue_root, slug, "archive"), exist_ok=True)
    os.makedirs(os.path.join(config_root, slug), exist_ok=True)
    with open(os.path.join(config_root, slug, "allowlist"), "w") as f:
        f.write(current)
    for p in range(pending):
        created = start + datetime.timedelta(milliseconds=b * pending + p)
        pid = created.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(6)
        proposed = current + f"host{p}.{slug}.example.com\n"
        record = {
            "format": 1, "id": pid, "bottle": slug, "tool": "pipelock-block", "proposed_file": proposed,
            "justification": f"tests in {slug} need host{p}", "current_file_sha256": hashlib.sha256(current.encode()).hexdigest(),
            "proposed_file_sha256": hashlib.sha256(proposed.encode()).hexdigest(),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 1000:03d}Z",
        }
        with open(os.path.join(queue_root, slug, pid + ".proposal.json"), "w") as f:
            json.dump(record, f)
