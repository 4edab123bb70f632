"""Choosing and grouping entries (pure): visibility, order, duplicates, tag groups, weeks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from syndicate.errors import BuildError
from syndicate.model import Entry, Post


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
class Week:
    """An ISO week in the site's time zone: [Monday 00:00, next Monday 00:00)."""

    year: int
    week: int
    start: datetime  # aware, Monday 00:00 local
    end: datetime  # aware, the next Monday 00:00 local (exclusive)
    label: str = ""  # set for a custom window (--since/--until) instead of a whole week

    @property
    def key(self) -> str:
        return self.label or f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return self.end.date() - timedelta(days=1)


def week_of(moment: datetime, tz: ZoneInfo) -> Week:
    """The week an instant belongs to; every instant belongs to exactly one."""
    local = moment.astimezone(tz)
    year, week, _ = local.isocalendar()
    return iso_week(year, week, tz)


def iso_week(year: int, week: int, tz: ZoneInfo) -> Week:
    monday = date.fromisocalendar(year, week, 1)
    # wall-clock midnights; zoneinfo gives each its own UTC offset, so DST weeks are 167 or 169 hours
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    nxt = monday + timedelta(days=7)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return Week(year, week, start, end)


def parse_week(text: str, tz: ZoneInfo) -> Week:
    """'2013-W16' → that Week. Raises ValueError with a message for the user."""
    try:
        year_s, week_s = text.strip().upper().split("-W")
        return iso_week(int(year_s), int(week_s), tz)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week; write it like 2013-W16") from None


def in_window(entries: Iterable[Entry], start: datetime, end: datetime) -> list[Entry]:
    """Entries published in [start, end), oldest first (the order a digest reads in)."""
    chosen = [e for e in entries if start <= e.published < end]
    return sorted(chosen, key=lambda e: (e.published, e.id))
