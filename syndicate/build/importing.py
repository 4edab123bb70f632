"""`syndicate import`: an existing feed → one Markdown file per item, in sequence.

Fetch the feed, read its items (sources/feed.py), plan where each goes and what
it holds (the file's text: sources/markdown_file.py, its HTML sanitized by
render's sanitizer), then write.

Files are named DATE-SLUG.md (the date in the site's time zone). A rerun finds
existing files by the `id` in their front matter, not by name, so it updates
them in place (only when the bytes change) and never writes a duplicate, even
after a title or a date changed. Writes are atomic.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from syndicate.errors import SourceError, SyndicateError, Warn
from syndicate.model import Post
from syndicate.output import atomic_write
from syndicate.render.sanitize import sanitize_html
from syndicate.sources.feed import parse_feed_bytes
from syndicate.sources.fetch import Limits, fetch
from syndicate.sources.frontmatter import parse_front_matter, split_front_matter
from syndicate.sources.markdown import find_posts
from syndicate.sources.markdown_file import post_markdown
from syndicate.urls import DEFAULT_MAX_BYTES, is_http_url

Action = Literal["create", "update", "unchanged"]

# A base for items with no absolute link of their own, taken back out after sanitizing.
_NO_BASE = "https://syndicate-import.invalid/"


@dataclass(frozen=True, slots=True)
class PlannedFile:
    path: Path
    action: Action
    title: str
    id: str | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    source: str
    files: tuple[PlannedFile, ...]
    errors: tuple[SyndicateError, ...]
    dry_run: bool

    def count(self, action: Action) -> int:
        return sum(1 for f in self.files if f.action == action)


def import_feed(
    source: str,
    into: Path,
    *,
    tz: ZoneInfo,
    warn: Warn,
    max_bytes: int = DEFAULT_MAX_BYTES,
    dry_run: bool = False,
    assume_date: bool = False,
    durable: bool = True,
) -> ImportResult:
    """Read the feed at `source` and write (or, with dry_run, only plan) its items as Markdown files in `into`."""
    if into.exists() and not into.is_dir():
        raise SourceError("is a file; --into needs a folder", path=into)
    fetched = fetch(source, limits=Limits(max_bytes=max_bytes))
    posts, errors = parse_feed_bytes(fetched.data, fetched.url, tz, warn, assume_date=assume_date)
    feed_base = fetched.url if is_http_url(fetched.url) else None
    plan = plan_import(posts, into, tz, warn, feed_base=feed_base)
    if not dry_run:
        written = 0
        for planned, data in plan:
            if planned.action != "unchanged":
                # each file atomic; durability for the whole import comes from one sync at the end
                atomic_write(planned.path, data, durable=False)
                written += 1
        if durable and written:
            os.sync()
    return ImportResult(source, tuple(p for p, _ in plan), tuple(errors), dry_run)


def plan_import(
    posts: Sequence[Post], into: Path, tz: ZoneInfo, warn: Warn, *, feed_base: str | None = None
) -> list[tuple[PlannedFile, bytes]]:
    """Where each post goes and what the file will hold; nothing is written."""
    by_id, taken = existing_files(into, warn)
    plan: list[tuple[PlannedFile, bytes]] = []
    done: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.published, p.id or p.url or "", p.source)):
        ident = post.id or post.url
        if ident is not None:
            if ident in done:
                warn(f"{post.source}: id {ident!r} appears twice in the feed; kept the first, skipped this one")
                continue
            done.add(ident)
        data = imported_markdown(post, feed_base).encode("utf-8")
        path = by_id.get(ident) if ident is not None else None
        if path is None:
            path = _free_name(into, post, tz, taken)
            taken.add(path)
        action: Action = "create"
        if path.exists():
            action = "unchanged" if path.read_bytes() == data else "update"
        plan.append((PlannedFile(path, action, post.title, ident), data))
    return plan


def existing_files(into: Path, warn: Warn) -> tuple[dict[str, Path], set[Path]]:
    """Markdown files already in `into`: by the id in their front matter, and every path taken."""
    by_id: dict[str, Path] = {}
    taken: set[Path] = set()
    if not into.is_dir():
        return by_id, taken
    for path in find_posts(into):
        taken.add(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            kind, front, _body, first = split_front_matter(text, str(path))
            meta = parse_front_matter(kind, front, str(path), first)
        except (OSError, UnicodeDecodeError, SourceError):
            continue  # not one of ours, or broken: left alone, and its name stays taken
        ident = meta.get("id", meta.get("guid"))
        if ident in (None, ""):
            continue
        key = str(ident).strip()
        if key in by_id:
            warn(f"{path} and {by_id[key]} have the same id {key!r}; updating {by_id[key]} only")
            continue
        by_id[key] = path
    return by_id, taken


def _free_name(into: Path, post: Post, tz: ZoneInfo, taken: set[Path]) -> Path:
    stem = f"{post.published.astimezone(tz).date().isoformat()}-{post.slug}"
    candidate = into / f"{stem}.md"
    n = 2
    while candidate in taken or candidate.exists():
        candidate = into / f"{stem}-{n}.md"
        n += 1
    return candidate


def imported_markdown(post: Post, feed_base: str | None = None) -> str:
    """The Markdown file for one imported post, its HTML sanitized with every URL made absolute.

    The post's own link is the base for relative URLs, else the feed's address.
    """
    base = post.url if post.url and is_http_url(post.url) else feed_base
    return post_markdown(post, lambda fragment: _sanitize(fragment, base))


def _sanitize(fragment: str, base: str | None) -> str:
    if base:
        return sanitize_html(fragment, base)
    # no absolute address to resolve against: keep relative URLs relative to the site's root
    return sanitize_html(fragment, _NO_BASE).replace(_NO_BASE, "/")
