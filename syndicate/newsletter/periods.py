"""Which days an issue covers: the periods of a cadence in the site's time zone (ISO weeks, days,
months), custom windows of days, and the keys that name them (`2013-W16`, `2013-04-16`, `2013-04`,
`2013-04-15..2013-04-21`) in the archive, the records and the send log."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from syndicate.config import Cadence
from syndicate.model import Entry

KEY_FORMS = "2013-W16 (a week), 2013-04-16 (a day) or 2013-04 (a month)"


@dataclass(frozen=True, slots=True)
class Period:
    """The span [start, end) an issue covers, in the site's time zone, and the key that names it."""

    key: str
    start: datetime  # aware, local midnight for a week, day or month
    end: datetime  # aware, exclusive

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(self.end.tzinfo).date()

    @property
    def year(self) -> int:
        return self.last_day.year


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # wall-clock midnights; zoneinfo gives each its own UTC offset, so DST weeks are 167 or 169 hours
    return datetime.combine(day, time(), tzinfo=tz)


def iso_week(year: int, week: int, tz: ZoneInfo) -> Period:
    monday = date.fromisocalendar(year, week, 1)
    return Period(f"{year}-W{week:02d}", _midnight(monday, tz), _midnight(monday + timedelta(days=7), tz))


def one_day(day: date, tz: ZoneInfo) -> Period:
    return Period(day.isoformat(), _midnight(day, tz), _midnight(day + timedelta(days=1), tz))


def one_month(year: int, month: int, tz: ZoneInfo) -> Period:
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year}-{month:02d}", _midnight(date(year, month, 1), tz), _midnight(following, tz))


def week_of(moment: datetime, tz: ZoneInfo) -> Period:
    """The ISO week an instant belongs to; every instant belongs to exactly one."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return iso_week(year, week, tz)


def period_of(moment: datetime, cadence: Cadence, tz: ZoneInfo) -> Period:
    """The period of a cadence an instant belongs to (a post's own issue has none: see ledger.py)."""
    local = moment.astimezone(tz)
    if cadence == "daily":
        return one_day(local.date(), tz)
    if cadence == "monthly":
        return one_month(local.year, local.month, tz)
    return week_of(moment, tz)


def previous_period(period: Period, cadence: Cadence, tz: ZoneInfo) -> Period:
    return period_of(period.start - timedelta(microseconds=1), cadence, tz)


def following_period(period: Period, cadence: Cadence, tz: ZoneInfo) -> Period:
    return period_of(period.end, cadence, tz)


def last_finished(now: datetime, cadence: Cadence, tz: ZoneInfo) -> Period:
    """The newest period that has ended by `now`: what a scheduled send covers."""
    return previous_period(period_of(now, cadence, tz), cadence, tz)


def parse_week(text: str, tz: ZoneInfo) -> Period:
    """'2013-W16' → that week. Raises ValueError with a message for the user."""
    try:
        year_s, week_s = text.strip().upper().split("-W")
        return iso_week(int(year_s), int(week_s), tz)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week; write it like 2013-W16") from None


def parse_period(text: str, tz: ZoneInfo, now: datetime | None = None) -> Period:
    """A period named by its key, or `last` / `this` week as of `now`. Raises ValueError for the user."""
    word = text.strip().lower()
    if now is not None and word in ("last", "this"):
        this = week_of(now, tz)
        return this if word == "this" else previous_period(this, "weekly", tz)
    try:
        if re.fullmatch(r"\d{4}-[wW]\d{1,2}", word):
            return parse_week(word, tz)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
            return one_day(date.fromisoformat(word), tz)
        if re.fullmatch(r"\d{4}-\d{2}", word):
            year, month = map(int, word.split("-"))
            return one_month(year, month, tz)
    except ValueError:
        pass
    raise ValueError(f"{text!r} names no period; write {KEY_FORMS}, or last or this for a week")


def parse_days(since: str, until: str) -> tuple[date, date]:
    """The first and last day of a custom window. Raises ValueError with a message for the user."""
    try:
        return date.fromisoformat(since), date.fromisoformat(until)
    except ValueError:
        raise ValueError("--since and --until take dates like 2013-04-15") from None


def days_window(first: date, last: date, tz: ZoneInfo) -> Period:
    """Whole days [first, last] as an issue's window, keyed `first..last`."""
    if last < first:
        raise ValueError(f"--until {last} is before --since {first}")
    return Period(f"{first.isoformat()}..{last.isoformat()}", _midnight(first, tz), _midnight(last + timedelta(1), tz))


def in_window(entries: Iterable[Entry], start: datetime, end: datetime) -> list[Entry]:
    """Entries published in [start, end), oldest first (the order a digest reads in)."""
    chosen = [e for e in entries if start <= e.published < end]
    return sorted(chosen, key=lambda e: (e.published, e.id))
