"""What an issue contains: its period, its posts grouped by day, its announcements, when it is dated;
and the same issue as readers of some tags get it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from syndicate.config import Cadence
from syndicate.model import Entry
from syndicate.newsletter.ledger import running
from syndicate.newsletter.periods import Period, in_window


@dataclass(frozen=True, slots=True)
class IssueDay:
    day: date
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One issue of the newsletter, before rendering: its period, its posts by day, its announcements."""

    period: Period
    days: tuple[IssueDay, ...]
    announcements: tuple[Entry, ...]
    date: datetime  # when sending began (a preview: when it was composed)
    cadence: Cadence = "weekly"

    @property
    def week(self) -> Period:
        """The period, by the name templates written for weekly issues use."""
        return self.period

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(e for d in self.days for e in d.entries)

    @property
    def post_count(self) -> int:
        return sum(len(d.entries) for d in self.days)

    @property
    def key(self) -> str:
        return self.period.key

    @property
    def reminder(self) -> bool:
        """Announcements only: a period without posts, with a deadline coming."""
        return not self.days


def make_issue(
    period: Period, posts: Sequence[Entry], announcements: Sequence[Entry], dated: datetime, cadence: Cadence
) -> Issue:
    """An issue of these posts (grouped by their day in the period's time zone) and announcements."""
    tz = period.start.tzinfo
    days: dict[date, list[Entry]] = {}
    for entry in posts:
        days.setdefault(entry.published.astimezone(tz).date(), []).append(entry)
    grouped = tuple(IssueDay(d, tuple(es)) for d, es in sorted(days.items()))
    return Issue(period, grouped, tuple(announcements), dated, cadence)


def collect_issue(
    entries: Sequence[Entry],
    period: Period,
    *,
    tags: frozenset[str] | None = None,
    dated: datetime | None = None,
    cadence: Cadence = "weekly",
) -> Issue | None:
    """The issue of every post published in `period` (for readers of `tags`), with the announcements
    running then; None when it has no posts. Dated `dated`, else when the period ends."""
    posts = in_window(entries, period.start, period.end)
    notes = running([e for e in entries if e.post.announcement is not None], period.start, period.end)
    if not posts:
        return None
    return for_tags(make_issue(period, posts, notes, dated or period.end, cadence), tags)


def matches(entry: Entry, wanted: frozenset[str]) -> bool:
    return bool(wanted & {n.casefold() for n in (*entry.post.tags, *entry.post.categories)})


def for_tags(issue: Issue, tags: frozenset[str] | None) -> Issue | None:
    """The issue as readers of `tags` get it (None: everyone): only their posts; None when none match.
    A reminder goes to everyone."""
    if tags is None or issue.reminder:
        return issue
    wanted = frozenset(t.casefold() for t in tags)
    days = tuple(
        IssueDay(d.day, kept) for d in issue.days if (kept := tuple(e for e in d.entries if matches(e, wanted)))
    )
    return dataclasses.replace(issue, days=days) if days else None
