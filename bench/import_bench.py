"""Import speed: a 10,000-item RSS 2.0 feed (~80 MB) through syndicate vs feedparser alone.

Prints the median of several runs of
- feedparser.parse on the bytes, with its default options (what "feedparser alone" does),
- syndicate's feed reader (parse_feed_bytes: feedparser + mapping to posts),
- the whole `syndicate import FEED --into DIR` (reading, parsing, sanitizing, writing 10,000 files),
and the ratios to feedparser. Target: import ≤ 1.2 × feedparser.

    python bench/import_bench.py --items 10000 --runs 3
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

PARAGRAPH = (
    "Operators upgrading a multi-node cloud want every service to tolerate the version next to it, "
    "so that a rolling upgrade never needs a maintenance window. "
)


def make_feed(items: int) -> bytes:
    start = datetime(2013, 4, 15, 9, 0, tzinfo=UTC)
    body = "".join(f"<p>{PARAGRAPH * 6}</p><h2>Part {n}</h2><ul><li>one</li><li>two</li></ul>" for n in range(6))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Bench</title>'
        "<link>https://bench.example.org/</link><description>A big feed</description>"
    ]
    for i in range(items):
        when = format_datetime(start - timedelta(hours=i))
        out.append(
            f"<item><title>Post {i}: rolling upgrades</title><link>https://bench.example.org/?p={i}</link>"
            f'<guid isPermaLink="false">https://bench.example.org/?p={i}</guid><pubDate>{when}</pubDate>'
            f"<dc:creator>Bench Author</dc:creator><category>Upgrades</category><category>Tag {i % 50}</category>"
            f"<description>{escape(PARAGRAPH)}</description>"
            f"<content:encoded><![CDATA[{body}<p>Item {i}.</p>]]></content:encoded></item>"
        )
    out.append("</channel></rss>\n")
    return "".join(out).encode("utf-8")


def median_time(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import feedparser

    from syndicate.sources.feed import parse_feed_bytes

    data = make_feed(args.items)
    work = Path(tempfile.mkdtemp(prefix="syndicate-import-bench-"))
    feed = work / "feed.xml"
    feed.write_bytes(data)
    # the default 20 MB cap on feeds from outside would refuse this one, as it should: raise it for the bench
    (work / "syndicate.toml").write_text(
        'max_feed_bytes = 500000000\n[site]\ntitle = "Bench"\nurl = "https://bench.example.org/"\n'
        'author = { name = "Bench Author", email = "bench@example.org" }\n',
        encoding="utf-8",
    )
    print(f"{args.items} items, {len(data) / 1e6:.1f} MB, {args.runs} runs each")
    from zoneinfo import ZoneInfo

    parse = median_time(lambda: feedparser.parse(io.BytesIO(data)), args.runs)
    reader = median_time(lambda: parse_feed_bytes(data, str(feed), ZoneInfo("UTC"), lambda _m: None), args.runs)

    def cli_import() -> None:
        target = work / "posts"
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "syndicate", "import", str(feed), "--into", str(target), "--site", str(work)],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    full = median_time(cli_import, args.runs)
    print(f"feedparser.parse alone      {parse:7.2f} s")
    print(f"syndicate feed reader       {reader:7.2f} s   ({reader / parse:.2f}× feedparser)")
    print(f"syndicate import (CLI)      {full:7.2f} s   ({full / parse:.2f}× feedparser; writes {args.items} files)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
