"""Choosing entries (pure): which posts are visible, in what order, and that no two share an id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from syndicate.errors import BuildError
from syndicate.model import Entry, Post


def is_visible(post: Post, today: date, tz: ZoneInfo) -> bool:
    """Drafts, posts dated after `today` (in the site's time zone) and expired posts stay out."""
    if post.draft or post.published.astimezone(tz).date() > today:
        return False
    return post.expires is None or post.expires.astimezone(tz).date() > today


def is_future(post: Post, today: date, tz: ZoneInfo) -> bool:
    """A post that is no draft and waits for its day."""
    return not post.draft and post.published.astimezone(tz).date() > today


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """Newest first; ties broken by id so the order never depends on file order."""
    return sorted(entries, key=lambda e: (e.published.timestamp(), e.id), reverse=True)


def check_unique(entries: Sequence[Entry]) -> None:
    """Two posts may not share an id, a link, or (for Markdown posts) a slug."""
    for what in ("id", "link"):
        seen: dict[str, Entry] = {}
        for entry in entries:
            value = entry.id if what == "id" else entry.link
            if value in seen:
                other = seen[value]
                raise BuildError(
                    f"{entry.post.source} and {other.post.source} have the same {what} {value!r}; "
                    f"give one of them its own {'id:' if what == 'id' else 'slug: or url:'} in the front matter"
                )
            seen[value] = entry
    slugs: dict[str, Entry] = {}
    for entry in entries:
        if entry.post.url or entry.post.id:  # imported posts: their link and id are what count
            continue
        if entry.post.slug in slugs:
            other = slugs[entry.post.slug]
            raise BuildError(
                f"{entry.post.source} and {other.post.source} have the same slug {entry.post.slug!r}; "
                "set a different slug: in one of them"
            )
        slugs[entry.post.slug] = entry
