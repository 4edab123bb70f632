"""Warnings for posts that point at a local image file that is not there.

A Markdown post may name images (front matter `image`, `![alt](path)`, `<img src>`)
relative to its own file, as page bundles do; a typo there would only show as a
broken picture in a reader. render/local_refs.py finds those paths; here they are
looked up beside the post's file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from syndicate.errors import Warn
from syndicate.model import Entry


def warn_missing_images(entries: Sequence[Entry], root: Path, warn: Warn) -> None:
    """One warning per missing file, naming the post and the path as written."""
    for entry in entries:
        if not entry.local_images:
            continue
        source = root / entry.post.source
        if not source.is_file():  # read from a feed: its images are the feed's business
            continue
        folder = source.parent
        for ref in entry.local_images:
            if not (folder / ref).is_file():
                warn(f"{entry.post.source}: image {ref} not found (looked in {folder}); fix the path or add the file")
