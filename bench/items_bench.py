"""What serializing one post's feed items costs, per format: the written-as-bytes items the build uses
(feeds/item_bytes.py, json_feed.json_item_bytes) against their references (feedgen; one json.dumps),
on the synthetic corpus (bench/corpus.py, ~10 KB of HTML a post). Rendering is done once, outside the
timing; each figure is the best of several passes over every post, in µs per item, with the ratio.
Target (issue 17): at most 30 µs per item and format.

    .venv/bin/python bench/items_bench.py [--posts 400] [--passes 5] [--summary-only]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from tempfile import TemporaryDirectory

from syndicate.config import load_config
from syndicate.feeds import formats, item_bytes
from syndicate.feeds.json_feed import json_fragments, json_reference_item
from syndicate.model import Author, Entry, Post
from syndicate.render.entry import render_entry
from syndicate.sources.markdown import read_markdown_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate

TARGET_US = 30.0
Writer = Callable[..., list[bytes]]


def _json_reference(
    entries: Sequence[Entry], *, full_content: bool, fallback: Author, category_base: str
) -> list[bytes]:
    return [json_reference_item(e, full_content=full_content, fallback=fallback) for e in entries]


PAIRS: dict[str, tuple[Writer, Writer]] = {
    "rss": (formats.rss_fragments, item_bytes.rss_fragments),
    "atom": (formats.atom_fragments, item_bytes.atom_fragments),
    "json": (_json_reference, json_fragments),
}


def _entries(posts: int) -> tuple[list[Entry], Author, str]:
    with TemporaryDirectory() as folder:
        root = generate(Path(folder), posts)
        config = load_config(root / "syndicate.toml")
        read = read_markdown_dir(root / "posts", config.site.timezone)
        entries = [render_entry(p, config.site) for p in read if isinstance(p, Post)]
    return entries, config.site.author, config.output_url


def _best_us(writers: tuple[Writer, Writer], entries: list[Entry], passes: int, **options: object) -> list[float]:
    """The best pass of each writer, their passes alternating (so both meet the same load), µs per item."""
    best = [float("inf")] * len(writers)
    for _ in range(passes):
        for i, write in enumerate(writers):
            started = time.perf_counter()
            write(entries, **options)
            best[i] = min(best[i], time.perf_counter() - started)
    return [seconds / len(entries) * 1e6 for seconds in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--summary-only", action="store_true", help="items without the full content")
    args = parser.parse_args()
    entries, fallback, base = _entries(args.posts)
    options = {"full_content": not args.summary_only, "fallback": fallback, "category_base": base}
    html_kb = sum(len(e.content_html or "") for e in entries) / len(entries) / 1000
    load = os.getloadavg()[0]
    full = not args.summary_only
    print(f"load average {load:.1f}; {len(entries)} posts, {html_kb:.1f} KB of HTML each, full content: {full}")
    print(f"{'format':6} {'reference µs':>13} {'bytes µs':>9} {'ratio':>6}  target ≤ {TARGET_US:.0f} µs")
    for fmt, (reference, fast) in PAIRS.items():
        if fast(entries, **options) != reference(entries, **options):
            raise SystemExit(f"{fmt}: the items differ from the reference's")
        before, after = _best_us((reference, fast), entries, args.passes, **options)
        mark = "ok" if after <= TARGET_US else "over"
        print(f"{fmt:6} {before:13.1f} {after:9.1f} {before / after:5.1f}x  {mark}")


if __name__ == "__main__":
    main()
