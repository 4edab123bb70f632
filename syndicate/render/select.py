"""Choosing and grouping entries (pure): visibility, order, duplicates, tag groups, weeks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from syndicate.errors import BuildError
from syndicate.model import Entry, Post
from syndicate.text import slugify


def is_visible(post: Post, today: date, tz: ZoneInfo) -> bool:
    """Drafts and posts dated after `today` (in the site's time zone) stay out."""
    return not post.draft and post.published.astimezone(tz).date() <= today


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


@dataclass(frozen=True, slots=True)
class Group:
    """The entries of one tag or category, newest first."""

    kind: str  # "tags" or "categories"
    name: str  # display name
    slug: str
    entries: tuple[Entry, ...]


def group_by(entries: Sequence[Entry], kind: str) -> list[Group]:
    """One group per tag (or category) name, in slug order; `entries` must be newest first.

    Names that differ only in case are one group (shown in their most common
    spelling); different names that would share a slug are an error naming both.
    Work grows with posts plus tag memberships.
    """
    members: dict[str, list[Entry]] = {}
    spellings: dict[str, Counter[str]] = {}
    by_slug: dict[str, str] = {}
    for entry in entries:
        names = entry.post.tags if kind == "tags" else entry.post.categories
        for name in names:
            folded = name.casefold()
            slug = slugify(name)
            owner = by_slug.setdefault(slug, folded)
            if owner != folded:
                shown = next(iter(spellings[owner]))
                first = members[owner][0].post.source
                raise BuildError(
                    f"{kind[:-1]} names {shown!r} (in {first}) and {name!r} (in {entry.post.source}) "
                    f"would both be written to {kind}/{slug}/; rename one of them",
                )
            members.setdefault(folded, []).append(entry)
            spellings.setdefault(folded, Counter())[name] += 1
    groups = []
    for slug, folded in sorted(by_slug.items()):
        counts = spellings[folded]
        name = min(counts, key=lambda n: (-counts[n], n))
        # entries arrive newest first, so each group's members already are
        groups.append(Group(kind, name, slug, tuple(members[folded])))
    return groups
