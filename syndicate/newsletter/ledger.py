"""The newsletter as a ledger: what each sent issue carried, and what the next issue carries.

A sent issue is an `IssueRecord` (kept as a file in the site's folder: records.py).
Every published post that no record carries goes into the next issue, up to the
end of the last finished period: a missed week, a late post and a backdated one
are all mailed once. Pure: the caller gives the posts, the records and "now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicate.config import Cadence
from syndicate.errors import SyndicateError
from syndicate.model import Entry
from syndicate.newsletter.periods import Period, following_period, last_finished, period_of


@dataclass(frozen=True, slots=True)
class CarriedPost:
    """A post as an issue carried it: enough to list it even after the post is gone."""

    id: str
    title: str
    link: str
    published: datetime


@dataclass(frozen=True, slots=True)
class CarriedNote:
    """An announcement as an issue carried it."""

    id: str
    title: str
    link: str
    ends: date


@dataclass(frozen=True, slots=True)
class IssueRecord:
    """One issue that `send` started: its key, the span it covers, what it carried, when sending began."""

    key: str
    cadence: Cadence
    start: datetime
    end: datetime
    began: datetime
    posts: tuple[CarriedPost, ...]
    announcements: tuple[CarriedNote, ...] = ()
    skips_before: datetime | None = None  # posts published before this are never mailed (set by a first issue)

    @property
    def period(self) -> Period:
        return Period(self.key, self.start, self.end)

    @property
    def reminder(self) -> bool:
        """An issue of announcements only, sent when a period had no posts."""
        return not self.posts


@dataclass(frozen=True, slots=True)
class Draft:
    """The next issue before it is recorded: the period it covers, its posts and announcements."""

    period: Period
    posts: tuple[Entry, ...]
    announcements: tuple[Entry, ...]
    skips_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """How the next issue is chosen."""

    cadence: Cadence
    tz: ZoneInfo
    now: datetime
    since: datetime | None = None  # posts before this are skipped for good (--since, or [digest] since at first)
    until: datetime | None = None  # the issue ends here instead of at the end of the last finished period
    max_posts: int = 0  # more waiting posts than this stops with a message (0: no limit)
    reminders: bool = True  # a period with no posts but a running announcement that ends soon: a reminder


class TooManyPosts(SyndicateError):
    """More posts wait than [digest] max_posts allows in one issue."""


@dataclass(frozen=True, slots=True)
class Ledger:
    """The records, read once, with the questions every selection asks of them."""

    records: tuple[IssueRecord, ...]
    also_taken: frozenset[str] = frozenset()  # keys used elsewhere (the send log of an older version)
    carried: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "carried", frozenset(p.id for r in self.records for p in r.posts))

    @property
    def floor(self) -> datetime | None:
        """Posts before this were never meant to be mailed (the newsletter began, or --since skipped them)."""
        floors = [r.skips_before for r in self.records if r.skips_before is not None]
        return max(floors) if floors else None

    @property
    def last_end(self) -> datetime | None:
        return max((r.end for r in self.records), default=None)

    def unique_key(self, key: str, taken_now: set[str] | None = None) -> str:
        """`key`, or `key-2`, `key-3`... when an issue already has it (a period sent early, then its rest).
        `taken_now` holds the keys given out so far in this run, and gets the new one."""
        taken = {r.key for r in self.records} | self.also_taken | (taken_now or set())
        n, candidate = 1, key
        while candidate in taken:
            n += 1
            candidate = f"{key}-{n}"
        if taken_now is not None:
            taken_now.add(candidate)
        return candidate

    def reminded(self, period: Period) -> frozenset[str]:
        """Announcements that need no reminder in `period`: those that had an issue of their own, and
        those an issue covering part of the period already carried."""
        return frozenset(n.id for r in self.records if r.reminder or r.end > period.start for n in r.announcements)


def running(announcements: Sequence[Entry], start: datetime, end: datetime) -> tuple[Entry, ...]:
    """The announcements whose days overlap [start, end), soonest deadline first."""
    tz = start.tzinfo
    chosen = []
    for entry in announcements:
        ann = entry.post.announcement
        if ann is None:
            continue
        opens = datetime.combine(ann.starts, time(), tzinfo=tz)
        closes = datetime.combine(ann.ends + timedelta(days=1), time(), tzinfo=tz)
        if opens < end and start < closes:
            chosen.append(entry)
    return tuple(sorted(chosen, key=lambda e: (e.post.announcement.ends if e.post.announcement else date.min, e.id)))


def waiting(entries: Sequence[Entry], ledger: Ledger, floor: datetime | None, end: datetime) -> list[Entry]:
    """Posts no issue carries, published in [floor, end), oldest first."""
    chosen = [
        e
        for e in entries
        if e.published < end and (floor is None or e.published >= floor) and e.id not in ledger.carried
    ]
    return sorted(chosen, key=lambda e: (e.published, e.id))


def next_drafts(entries: Sequence[Entry], ledger: Ledger, rules: Rules) -> list[Draft]:
    """The issues a send makes now: one (or, for the `post` cadence, one per post); [] when nothing waits."""
    end = rules.until or last_finished(rules.now, rules.cadence, rules.tz).end
    if rules.cadence == "post":
        end = rules.until or rules.now
    skips_before = rules.since
    if skips_before is None and not ledger.records:
        # a newsletter's first issue covers the last period only, not the whole back catalogue
        skips_before = _first_floor(entries, rules, end)
    floor = max(f for f in (ledger.floor, skips_before) if f is not None) if (ledger.floor or skips_before) else None
    posts = waiting(entries, ledger, floor, end)
    count = len(posts)
    if rules.max_posts and count > rules.max_posts:
        first = posts[0].published.astimezone(rules.tz).date()
        newest = period_of(posts[-1].published, "weekly", rules.tz).first_day
        raise TooManyPosts(
            f"{count} posts wait to be mailed (the oldest from {first}), more than [digest] max_posts = "
            f"{rules.max_posts}; send them all with --max-posts {count}, or only the newest with --since {newest} "
            "(older posts are then never mailed)"
        )
    notes = [e for e in entries if e.post.announcement is not None]
    if rules.cadence == "post":
        keys: set[str] = set()
        return [
            _post_draft(post, notes, ledger, keys, skips_before if n == 0 else None) for n, post in enumerate(posts)
        ]
    period = period_of(end - timedelta(microseconds=1), rules.cadence, rules.tz)
    start = ledger.last_end if ledger.last_end is not None and ledger.last_end < end else period.start
    if rules.since is not None and rules.since < end:
        start = rules.since
    key = ledger.unique_key(period.key)
    if posts:
        return [Draft(Period(key, start, end), tuple(posts), running(notes, start, end), skips_before)]
    reminder = _reminder(notes, ledger, period, rules) if rules.reminders else ()
    return [Draft(Period(key, start, end), (), reminder, skips_before)] if reminder else []


def _first_floor(entries: Sequence[Entry], rules: Rules, end: datetime) -> datetime:
    if rules.cadence != "post":
        return period_of(end - timedelta(microseconds=1), rules.cadence, rules.tz).start
    published = sorted(e.published for e in entries if e.published < end)
    return published[-1] if published else end


def _post_draft(
    post: Entry, notes: Sequence[Entry], ledger: Ledger, keys: set[str], skips_before: datetime | None
) -> Draft:
    start = post.published
    end = start + timedelta(seconds=1)
    key = ledger.unique_key(post.post.slug or "post", keys)
    return Draft(Period(key, start, end), (post,), running(notes, start, end), skips_before)


def _reminder(notes: Sequence[Entry], ledger: Ledger, period: Period, rules: Rules) -> tuple[Entry, ...]:
    """Announcements running in `period` that end in it or the next one, and had no reminder yet."""
    following = following_period(period, rules.cadence, rules.tz)
    done = ledger.reminded(period)
    today = rules.now.astimezone(rules.tz).date()
    first = max(period.first_day, today)  # a last chance that has passed is no reminder
    return tuple(
        e
        for e in running(notes, period.start, period.end)
        if e.post.announcement is not None
        and first <= e.post.announcement.ends <= following.last_day
        and e.id not in done
    )


def window_draft(entries: Sequence[Entry], ledger: Ledger, period: Period, rules: Rules) -> Draft | None:
    """The issue of one named period or window: its posts that no issue carries yet (and that no --since
    skipped), or a reminder. A newsletter's first issue starts the newsletter there."""
    floor = ledger.floor
    posts = [e for e in waiting(entries, ledger, floor, period.end) if e.published >= period.start]
    notes = [e for e in entries if e.post.announcement is not None]
    skips_before = period.start if not ledger.records else None
    if posts:
        return Draft(period, tuple(posts), running(notes, period.start, period.end), skips_before)
    reminder = _reminder(notes, ledger, period, rules) if rules.reminders and ".." not in period.key else ()
    return Draft(period, (), reminder, skips_before) if reminder else None


def record_of(draft: Draft, cadence: Cadence, began: datetime) -> IssueRecord:
    """What a send writes before its first message."""
    posts = tuple(CarriedPost(e.id, e.title, e.link, e.published) for e in draft.posts)
    notes = tuple(
        CarriedNote(e.id, e.title, e.link, e.post.announcement.ends)
        for e in draft.announcements
        if e.post.announcement is not None
    )
    period = draft.period
    return IssueRecord(period.key, cadence, period.start, period.end, began, posts, notes, draft.skips_before)
