"""Send one issue to 10,000 subscribers through a local aiosmtpd sink; print messages per second.

The send log is committed around every message exactly as in `syndicate send`
(WAL; fsync for each `sending` mark). The sink runs in its own process so it does not share
the sender's interpreter lock.

    .venv/bin/python bench/send_bench.py              # 10,000 subscribers
    .venv/bin/python bench/send_bench.py --count 2000
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET = 200.0  # messages per second


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def run_sink(port_out: Any) -> None:
    from aiosmtpd.smtp import SMTP

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sink = Sink()
    server = loop.run_until_complete(loop.create_server(lambda: SMTP(sink, hostname="sink", loop=loop), "127.0.0.1", 0))
    port_out.put(server.sockets[0].getsockname()[1])
    loop.run_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    from syndicate.build.newsletter import compose_week
    from syndicate.config import load_config
    from syndicate.delivery import send as mail
    from syndicate.delivery.smtp import SmtpTarget, SmtpTransport
    from syndicate.newsletter.issue import unsubscribe_url
    from syndicate.newsletter.message import personalize
    from syndicate.subscribers import csvfile, sendlog
    from syndicate.subscribers import store as subs

    work = Path(tempfile.mkdtemp(prefix="send-bench-"))
    queue: Any = multiprocessing.Queue()
    sink = multiprocessing.Process(target=run_sink, args=(queue,), daemon=True)
    sink.start()
    try:
        shutil.copy2(REPO / "syndicate.toml", work / "syndicate.toml")
        shutil.copytree(REPO / "samples", work / "samples")
        config = load_config(work / "syndicate.toml", output_dir=work / "out")
        assert config.database is not None
        conn = subs.connect(config.database)
        now = datetime(2013, 4, 29, tzinfo=UTC)
        rows = "email,name\n" + "".join(f"reader{n:05d}@example.org,Reader {n}\n" for n in range(args.count))
        csvfile.import_rows(conn, io.StringIO(rows), "bench.csv", now)
        port = queue.get(timeout=30)

        started = time.perf_counter()
        issue = compose_week(config, "2013-W16", date(2013, 4, 30), lambda _m: None)
        composed = time.perf_counter() - started
        assert issue is not None
        head = mail.Letterhead("author@example.org", b"bench-secret-0123456789", unsubscribe_url(config))
        target = SmtpTarget("127.0.0.1", port, "none", timeout=30)
        marks: list[float] = []
        started = time.perf_counter()
        with SmtpTransport(target, local_hostname="bench.local") as transport:
            report = mail.send_issue(
                conn,
                lambda _tags: issue,
                lambda i, r: personalize(config, i, r),
                transport,
                head,
                options=mail.SendOptions(),
                clock=lambda: now,
                progress=lambda _n: marks.append(time.perf_counter()),
            )
        elapsed = time.perf_counter() - started
        states = {row.state for row in sendlog.log_rows(conn, issue.key)}
        size = len(mail.wire_bytes(personalize(config, issue, mail.recipient_for(subs.all_subscribers(conn)[0], head))))
    finally:
        sink.terminate()
        sink.join(5)
        shutil.rmtree(work, ignore_errors=True)

    rate = report.sent / elapsed
    step = max(1, len(marks) // 5)
    slices = [
        f"{step / (marks[i + step - 1] - (marks[i - 1] if i else started)):.0f}"
        for i in range(0, len(marks) - step + 1, step)
    ]
    print("messages/second per fifth of the run:", ", ".join(slices))
    print(f"composed the issue once in {composed:.2f} s; message size {size / 1024:.1f} KiB")
    print(f"sent {report.sent} messages in {elapsed:.2f} s: {rate:.0f} messages/second (target {TARGET:.0f})")
    print(f"send log: {states}, {report.sent * 2} commits, {report.sent} of them fsynced (the `sending` marks)")
    return 0 if report.sent == args.count and states == {"sent"} and rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
