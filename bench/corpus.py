"""A deterministic synthetic blog for benchmarks: N posts of ~1,000 words.

Zipf-distributed tags (about N/20 of them), a few categories, headings, lists,
links (some relative), code blocks and images, dates over several years in
several UTC offsets. The same N and seed always give the same bytes.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

WORDS = [
    "cloud",
    "network",
    "storage",
    "compute",
    "upgrade",
    "release",
    "cluster",
    "node",
    "controller",
    "service",
    "API",
    "database",
    "queue",
    "tenant",
    "router",
    "switch",
    "overlay",
    "tunnel",
    "gateway",
    "packet",
    "latency",
    "throughput",
    "replica",
    "failover",
    "quorum",
    "cache",
    "deploy",
    "rollout",
    "canary",
    "manifest",
    "puppet",
    "chef",
    "ansible",
    "kernel",
    "driver",
    "hypervisor",
    "container",
    "scheduler",
    "image",
    "volume",
    "snapshot",
    "backup",
    "restore",
    "monitor",
    "metric",
    "alert",
    "dashboard",
    "logging",
    "tracing",
    "budget",
    "capacity",
    "plan",
]
CATEGORIES = ["General", "Networking", "Storage", "Automation", "Events", "Reviews"]
CONFIG = """\
[site]
title = "Benchmark Blog"
url = "https://bench.example.org/"
description = "A synthetic blog for benchmarks"
language = "en"
timezone = "Europe/Berlin"
author = {{ name = "Bench Author", email = "bench@example.org" }}

[content]
posts = "posts"

[output]
dir = "public"

[feeds]
formats = ["rss", "atom", "json"]
max_items = {max_items}
full_content = true
"""


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(4, 7)))


def _body(rng: random.Random, index: int, total: int) -> str:
    parts = [_paragraph(rng), "<!-- more -->"]
    words = 0
    section = 1
    while words < 950:
        parts.append(f"## Part {section}: {_sentence(rng, 3)[:-1]}")
        para = _paragraph(rng)
        words += len(para.split())
        parts.append(para)
        kind = rng.random()
        if kind < 0.3:
            parts.append("\n".join(f"- {_sentence(rng, 6)}" for _ in range(rng.randint(3, 6))))
        elif kind < 0.5:
            parts.append("```python\nfor node in cluster.nodes:\n    node.upgrade(version='havana')\n```")
        elif kind < 0.7:
            other = rng.randrange(total)
            parts.append(f"See [an earlier note](/notes/{other}/) and [the docs](https://docs.example.org/{index}).")
        else:
            parts.append(f"![Diagram {section} of post {index}](images/diagram-{section}.png)")
        section += 1
    return "\n\n".join(parts) + "\n"


def generate(root: Path, count: int, *, seed: int = 20130415, max_items: int = 100) -> Path:
    rng = random.Random(seed + count)
    posts = root / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    (root / "syndicate.toml").write_text(CONFIG.format(max_items=max_items), encoding="utf-8")
    tag_count = max(count // 20, 5)
    weights = [1 / (rank + 1) for rank in range(tag_count)]
    tags = [f"topic {rank:04d}" for rank in range(tag_count)]
    start = datetime(2014, 1, 1, 8, 0)
    span = timedelta(days=365 * 8)
    offsets = [timezone(timedelta(hours=h)) for h in (-8, -5, 0, 1, 2, 5.5, 9)]
    for i in range(count):
        when = start + span * (i / count) + timedelta(minutes=rng.randrange(600))
        zone = rng.choice(offsets)
        post_tags = sorted(set(rng.choices(tags, weights=weights, k=rng.randint(1, 5))))
        category = CATEGORIES[i % len(CATEGORIES)]
        folder = posts / f"{when.year}"
        folder.mkdir(exist_ok=True)
        stamp = when.replace(tzinfo=zone).isoformat()
        front = (
            f'---\ntitle: "Post {i}: {_sentence(rng, 5)[:-1]}"\ndate: {stamp}\n'
            f"tags: [{', '.join(post_tags)}]\ncategories: [{category}]\n---\n"
        )
        (folder / f"{when:%Y-%m-%d}-post-{i}.md").write_text(front + _body(rng, i, count), encoding="utf-8")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()
    generate(args.root, args.posts)
    print(f"wrote {args.posts} posts to {args.root}")


if __name__ == "__main__":
    main()
