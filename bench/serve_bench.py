"""Load on the preview server: hundreds of concurrent conditional GETs, none may fail.

Builds the example site into a temporary folder, serves it with `syndicate serve`'s
threaded server on loopback, then lets many clients at once revalidate the feeds
with If-None-Match (and some plain and gzip GETs). Prints requests per second
and every failure.

    .venv/bin/python bench/serve_bench.py --clients 300 --requests 10
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PATHS = ["/atom.xml", "/rss.xml", "/feed.json", "/index.html", "/newsletter/2013-W16/"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--requests", type=int, default=10, help="requests per client")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from syndicate.build.site import build
    from syndicate.config import load_config
    from syndicate.web.wsgi import local_server, make_app

    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    try:
        shutil.copy2(REPO / "syndicate.toml", work / "syndicate.toml")
        shutil.copytree(REPO / "samples", work / "samples")
        config = load_config(work / "syndicate.toml", output_dir=work / "out")
        build(config, date(2013, 4, 30), lambda _m: None, durable=False)
        server = local_server(make_app(config, preview=True, secret=b"bench-secret-0123456789"), "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        port = server.server_port

        etags = {}
        for path in PATHS:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            etags[path] = response.getheader("ETag") or ""
            conn.close()

        results: Counter[str] = Counter()
        failures: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(args.clients)

        def client(n: int) -> None:
            start.wait()
            for i in range(args.requests):
                path = PATHS[(n + i) % len(PATHS)]
                headers = {"If-None-Match": etags[path]} if (n + i) % 4 else {"Accept-Encoding": "gzip"}
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    conn.close()
                    expected = 304 if "If-None-Match" in headers else 200
                    outcome = str(response.status) if response.status == expected else f"unexpected {response.status}"
                except OSError as exc:
                    outcome = f"error {type(exc).__name__}"
                with lock:
                    results[outcome] += 1
                    if not outcome.isdigit():
                        failures.append(f"{path}: {outcome}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        server.shutdown()
        server.server_close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    total = sum(results.values())
    rate = total / elapsed
    print(f"{args.clients} concurrent clients, {total} requests in {elapsed:.2f} s: {rate:.0f} requests/second")
    print("answers:", dict(sorted(results.items())))
    for failure in failures[:20]:
        print("  failed:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
