"""Send one issue to 10,000 subscribers through a local SMTP sink; print messages per second.

The send log is committed around every message exactly as in `syndicate send` (WAL; one
fsync for the `sending` marks of every connection waiting at its final dot), and each copy
is written as a send writes it (personal_bytes, dot-stuffed). The sink runs in its own
process so it does not share the sender's interpreter lock. Each run prints the CPU the
sender and the sink used per message, and the machine's load.

    .venv/bin/python bench/send_bench.py                          # 10,000 subscribers, 16 connections
    .venv/bin/python bench/send_bench.py --latency 20             # a relay 20 ms away (issue 14: <= 60 s)
    .venv/bin/python bench/send_bench.py --connections 1 --count 2000
    .venv/bin/python bench/send_bench.py --latency 20 --connections 1 --count 300
    .venv/bin/python bench/send_bench.py --floor                  # smtplib alone: no database, one copy
    .venv/bin/python bench/send_bench.py --count 2000 --no-pipelining
    .venv/bin/python bench/send_bench.py --tag-filters 200   # 200 readers: no tag filters, then 200 distinct ones

Measured on 2026-12-03 on the project's 2-core machine (load average 7 to 9 from other
work), alternating with the code before that round (7d2869f): 16 connections, no delay,
1,073-1,325 messages a second (before: 254-325); 16 connections, every reply 20 ms late,
10,000 in 20 s (before: 48 s); one connection, 311-355 a second without delay (before:
171-178) and 36 with it (before: 20). The sender used 0.4 ms of CPU per message over 16
connections, the sink 0.09 ms. --floor, smtplib alone sending one pre-built copy with no
database and no composing, did 1,805 a second over 16 connections and 1,235 over one.

The default sink reads DATA in bulk (aiosmtpd, --aiosmtpd, parses every line in Python and
at these rates measures itself). With --tag-filters, the run is sent twice through the sink,
to readers with no tag filter and then to readers with one distinct filter each: the site is
loaded once either way, and only the issues themselves are composed once per filter.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> Any:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if PIPELINING else responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


PIPELINING = True


def run_sink(port_out: Any, latency: float = 0.0, pipelining: bool = True) -> None:
    """aiosmtpd in this process; with `latency`, every reply reaches the client that many seconds
    after the server wrote it (a relay that far away), without holding up the commands behind it."""
    from aiosmtpd.smtp import SMTP

    global PIPELINING
    PIPELINING = pipelining

    class FarAway(SMTP):
        async def push(self, status: Any) -> None:
            if not latency:
                await super().push(status)
                return
            data = (status if isinstance(status, bytes) else str(status).encode("utf-8")) + b"\r\n"
            self.loop.call_later(latency, self._writer.write, data)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sink = Sink()
    server = loop.run_until_complete(
        loop.create_server(lambda: FarAway(sink, hostname="sink", loop=loop), "127.0.0.1", 0)
    )
    port_out.put(server.sockets[0].getsockname()[1])
    loop.run_forever()


class QuickSink(asyncio.Protocol):
    """A minimal SMTP sink that reads DATA in bulk (aiosmtpd parses every line in Python, and at a few
    hundred messages a second the sink, not the sender, is what a run measures). Every reply can be
    delayed by `latency` seconds without holding up the commands behind it, as a distant relay's are."""

    def __init__(self, latency: float, pipelining: bool, counter: list[int]) -> None:
        self.latency, self.pipelining, self.counter = latency, pipelining, counter
        self.buffer = b""
        self.in_data = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.reply(b"220 sink ESMTP")

    def reply(self, line: bytes) -> None:
        if self.latency:
            asyncio.get_running_loop().call_later(self.latency, self.transport.write, line + b"\r\n")
        else:
            self.transport.write(line + b"\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                self.counter[0] += 1
                self.reply(b"250 2.0.0 queued")
                continue
            line, found, rest = self.buffer.partition(b"\r\n")
            if not found:
                return
            self.buffer = rest
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME" if self.pipelining else b"250 sink")
            elif verb == b"DATA":
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer  # the body's first line ends a CRLF too
                self.reply(b"354 go on")
            elif verb == b"QUIT":
                self.reply(b"221 bye")
                self.transport.close()
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply(b"250 OK")


def run_quick_sink(port_out: Any, latency: float = 0.0, pipelining: bool = True) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    counter = [0]
    server = loop.run_until_complete(
        loop.create_server(lambda: QuickSink(latency, pipelining, counter), "127.0.0.1", 0)
    )
    port_out.put(server.sockets[0].getsockname()[1])
    loop.run_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS", help="delay of every reply (ms)")
    parser.add_argument(
        "--connections", type=int, default=16, help="SMTP connections at once (default 16, as [smtp] connections)"
    )
    parser.add_argument("--no-pipelining", action="store_true", help="the sink does not offer PIPELINING")
    parser.add_argument("--aiosmtpd", action="store_true", help="sink: aiosmtpd (default: a minimal bulk-reading sink)")
    parser.add_argument(
        "--floor", action="store_true", help="smtplib alone: one pre-built copy, no database (what the sink allows)"
    )
    parser.add_argument("--tag-filters", type=int, metavar="N", help="Compare N readers without and with tag filters.")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.tag_filters:
        return tag_filter_case(args.tag_filters)

    from syndicate.build.compose import compose_issue
    from syndicate.config import load_config
    from syndicate.delivery import send as delivery
    from syndicate.delivery.smtp import SmtpTarget, SmtpTransport
    from syndicate.newsletter.issue import manage_page, unsubscribe_base
    from syndicate.newsletter.message import personal_bytes
    from syndicate.subscribers import csvfile, sendlog
    from syndicate.subscribers import store as subs

    work = Path(tempfile.mkdtemp(prefix="send-bench-"))
    queue: Any = multiprocessing.Queue()
    sink = multiprocessing.Process(
        target=run_sink if args.aiosmtpd else run_quick_sink,
        args=(queue, args.latency / 1000, not args.no_pipelining),
        daemon=True,
    )
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
        issue = compose_issue(config, date(2013, 4, 30), lambda _m: None, week="2013-W16")
        composed = time.perf_counter() - started
        assert issue is not None
        head = delivery.Letterhead(  # as `syndicate send` makes it: every copy links to its manage page
            "author@example.org", b"bench-secret-0123456789", unsubscribe_base(config), manage_page(config)
        )
        if args.floor:
            first = delivery.recipient_for(subs.all_subscribers(conn)[0], head)
            return floor_case(port, personal_bytes(config, issue, first, now), args.count, args.connections, sink.pid)
        target = SmtpTarget("127.0.0.1", port, "none", timeout=30)
        marks: list[float] = []
        sink_cpu, own_cpu = cpu_seconds(sink.pid), time.process_time()
        started = time.perf_counter()
        report = delivery.send_issue(
            conn,
            lambda _tags: issue,
            lambda i, r, d: personal_bytes(config, i, r, d, smtp_data=True),  # as `syndicate send` writes them
            lambda: SmtpTransport(target, local_hostname="bench.local"),
            head,
            options=delivery.SendOptions(connections=args.connections),
            clock=lambda: now,
            progress=lambda _n: marks.append(time.perf_counter()),
        )
        elapsed = time.perf_counter() - started
        own_cpu, sink_cpu = time.process_time() - own_cpu, cpu_seconds(sink.pid) - sink_cpu
        states = {row.state for row in sendlog.log_rows(conn, issue.key)}
        first = delivery.recipient_for(subs.all_subscribers(conn)[0], head)
        size = len(personal_bytes(config, issue, first, now))
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
    setup = f"{args.connections} connection(s), {args.latency:g} ms per reply, pipelining {not args.no_pipelining}"
    print(f"{setup}: sent {report.sent} messages in {elapsed:.2f} s: {rate:.0f} messages/second")
    print(f"10,000 messages at this rate: {10_000 / rate:.0f} s")
    per = 1e3 / report.sent
    print(
        f"CPU per message: sender {own_cpu * per:.2f} ms ({own_cpu / elapsed:.0%} of one core), "
        f"sink {sink_cpu * per:.2f} ms ({sink_cpu / elapsed:.0%} of one core); "
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    print(
        f"send log: {states}; each commit holding `sending` marks waited for fsync (safe from SIGKILL and power loss)"
    )
    return 0 if report.sent == args.count and states == {"sent"} else 1


def floor_case(port: int, data: bytes, count: int, connections: int, sink_pid: int | None) -> int:
    """smtplib alone: `connections` threads, each sending the same pre-built copy over its own connection
    with smtplib's sendmail (MAIL, RCPT, DATA one round trip each; its own dot-stuffing), no database, no
    composing, no send log: the most Python's smtplib and this sink do on this machine."""
    import smtplib
    import threading

    each = count // connections

    def lane(number: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.local") as smtp:
            for n in range(each):
                smtp.sendmail("author@example.org", [f"reader{number:02d}-{n:05d}@example.org"], data)

    threads = [threading.Thread(target=lane, args=(n,)) for n in range(connections)]
    sink_cpu, own_cpu = cpu_seconds(sink_pid), time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    own_cpu, sink_cpu = time.process_time() - own_cpu, cpu_seconds(sink_pid) - sink_cpu
    sent = each * connections
    print(
        f"floor, smtplib alone: {connections} connection(s) sent {sent} copies in {elapsed:.2f} s: "
        f"{sent / elapsed:.0f} messages/second"
    )
    print(
        f"CPU per message: sender {own_cpu * 1e3 / sent:.2f} ms, sink {sink_cpu * 1e3 / sent:.2f} ms "
        f"({sink_cpu / elapsed:.0%} of one core); load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    return 0


def cpu_seconds(pid: int | None) -> float:
    """The CPU time (user and system) process `pid` has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_sink() -> tuple[multiprocessing.Process, int]:
    queue: Any = multiprocessing.Queue()
    sink = multiprocessing.Process(target=run_sink, args=(queue,), daemon=True)
    sink.start()
    return sink, queue.get(timeout=30)


def distinct_filters(config: Any, count: int) -> list[str]:
    """`count` tag filters (the tags column of the CSV), no two alike, from the site's own tags."""
    from syndicate.build.loading import load_site

    site, _ = load_site(config, date(2013, 4, 30), lambda _m: None)
    names = sorted({name.replace(";", " ") for e in site.entries for name in e.post.tags})
    combos = itertools.chain(((a,) for a in names), itertools.combinations(names, 2), itertools.combinations(names, 3))
    filters = ["; ".join(combo) for combo in itertools.islice(combos, count)]
    if len(filters) < count:
        raise SystemExit(f"the sample site has tags for only {len(filters)} distinct filters")
    return filters


def tag_filter_case(count: int) -> int:
    """Send one issue to `count` readers with no tag filter, then to `count` readers with distinct filters."""
    import syndicate
    from syndicate.subscribers import csvfile
    from syndicate.subscribers import store as subs

    sink, port = start_sink()
    now = datetime(2013, 4, 29, tzinfo=UTC)
    choice = syndicate.IssueChoice(datetime(2013, 4, 30, tzinfo=UTC), week="2013-W16")
    timings = []
    # the first issue composed in a process also pays for importing premailer: not part of either case
    syndicate.compose_issue(
        syndicate.load_config(REPO / "syndicate.toml"), choice.today, lambda _m: None, week="2013-W16"
    )
    try:
        for with_filters in (False, True):
            work = Path(tempfile.mkdtemp(prefix="send-bench-tags-"))
            try:
                shutil.copy2(REPO / "syndicate.toml", work / "syndicate.toml")
                shutil.copytree(REPO / "samples", work / "samples")
                shutil.rmtree(work / "samples" / "newsletter")  # a newsletter that has not sent W16 yet
                config = syndicate.load_config(work / "syndicate.toml", output_dir=work / "out")
                assert config.database is not None
                tags = distinct_filters(config, count) if with_filters else [""] * count
                rows = "email,name,tags\n" + "".join(
                    f"reader{n:05d}@example.org,Reader {n},{t}\n" for n, t in enumerate(tags)
                )
                csvfile.import_rows(subs.connect(config.database), io.StringIO(rows), "bench.csv", now)
                started = time.perf_counter()
                (report,) = syndicate.send_issue(
                    config,
                    choice,
                    lambda _m: None,
                    b"bench-secret-0123456789",
                    smtp=syndicate.SmtpOverrides("127.0.0.1", port, "none"),
                    options=syndicate.SendOptions(),
                    clock=lambda: now,
                ).reports
                elapsed = time.perf_counter() - started
            finally:
                shutil.rmtree(work, ignore_errors=True)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            label = f"{len(set(tags))} distinct tag filters" if with_filters else "no tag filters"
            done = f"sent {report.sent}, skipped {report.skipped}"
            print(f"{count} readers, {label}: {done} in {elapsed:.2f} s (peak {peak:.0f} MB)")
            timings.append(elapsed)
    finally:
        sink.terminate()
        sink.join(5)
    print(f"distinct tag filters cost {timings[1] / timings[0]:.1f}× the send without")
    return 0


if __name__ == "__main__":
    sys.exit(main())
