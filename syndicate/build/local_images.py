"""Warnings for posts that point at a local image file that is not there.

A Markdown post may name images (front matter `image`, `![alt](path)`, `<img src>`)
relative to its own file, as page bundles do; a typo there would only show as a
broken picture in a reader. render/local_refs.py finds those paths; here they are
looked up beside the post's file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from syndicate.errors import Warn
from syndicate.model import Entry

SHOWN = 10  # missing images named one by one; the rest are counted in one line


def warn_missing_images(entries: Sequence[Entry], root: Path, warn: Warn) -> None:
    """A warning per missing file (the first SHOWN of them, then a count), naming the post and the path."""
    missing = 0
    known: dict[str, bool] = {}  # every path looked up once, however many posts name it
    for entry in entries:
        if not entry.local_images:
            continue
        source = os.path.join(root, entry.post.source)
        if not os.path.isfile(source):  # read from a feed: its images are the feed's business
            continue
        folder = os.path.dirname(source)
        for ref in entry.local_images:
            path = os.path.join(folder, ref)
            if path not in known:
                known[path] = os.path.isfile(path)
            if known[path]:
                continue
            missing += 1
            if missing <= SHOWN:
                warn(f"{entry.post.source}: image {ref} not found (looked in {folder}); fix the path or add the file")
    if missing > SHOWN:
        warn(f"{missing - SHOWN} more references to local images that are not there (the first {SHOWN} are above)")
